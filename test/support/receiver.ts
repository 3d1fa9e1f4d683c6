// A webhook receiver for tests: a real node:http server on 127.0.0.1 (or node:https on localhost
// with a certificate from its own test CA), answering as a script says and recording every
// request and how many were in flight at once.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAuthority } from '../../src/certs/authority.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** When the request arrived, in ms (Date.now()). */
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** How to answer the n-th POST (1-based) to a path; OPTIONS and HEAD probes answer 204. */
export type Script = (request: ReceivedRequest, n: number) => Answer;

export interface Receiver {
  url: string;
  /** Base64 PEM of the CA of an https receiver, for spec.webhook.caBundle. */
  caBundle?: string;
  /** Every POST, in arrival order. */
  posts: ReceivedRequest[];
  probes: ReceivedRequest[];
  maxInFlight: number;
  script: Script;
  close(): Promise<void>;
}

export async function startReceiver(opts: { https?: boolean; script?: Script } = {}): Promise<Receiver> {
  let inFlight = 0;
  const sockets = new Set<import('node:net').Socket>();
  const receiver: Receiver = {
    url: '',
    posts: [],
    probes: [],
    maxInFlight: 0,
    script: opts.script ?? (() => ({ status: 200, body: 'ok' })),
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ReceivedRequest = { method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      if (req.method !== 'POST') {
        receiver.probes.push(request);
        res.writeHead(204).end();
        return;
      }
      receiver.posts.push(request);
      inFlight++;
      receiver.maxInFlight = Math.max(receiver.maxInFlight, inFlight);
      const answer = receiver.script(request, receiver.posts.filter((p) => p.path === request.path).length);
      let done = false;
      const finish = () => {
        if (!done) inFlight--;
        done = true;
      };
      setTimeout(() => {
        finish();
        if (!res.destroyed) res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      }, answer.delayMs ?? 0);
      // The client gave up first (a timeout): the request is no longer in flight.
      res.on('close', finish);
    });
  };
  let server: Server;
  if (opts.https) {
    const authority = createAuthority({ name: 'certhook receiver test CA' });
    const issued = authority.issue({ dnsNames: ['localhost'] });
    server = createHttpsServer({ cert: issued.fullchainPem, key: issued.keyPem }, handle);
    receiver.caBundle = Buffer.from(authority.rootPem).toString('base64');
  } else {
    server = createHttpServer(handle);
  }
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `${opts.https ? 'https://localhost' : 'http://127.0.0.1'}:${port}`;
  return receiver;
}
