// node:http's createServer, for the health and metrics endpoints, loaded with require: an ES
// import of node:http reads every export, and its lazy WebSocket, CloseEvent and MessageEvent load
// Node's bundled undici, which the operator never uses (some 25 ms of every start).
import { createRequire } from 'node:module';

const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export const createServer = http.createServer;
export type { Server } from 'node:http';
