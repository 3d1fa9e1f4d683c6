#!/usr/bin/env node
// The built CLI (dist/) when present, as in the image; the TypeScript sources otherwise.
import { existsSync } from 'node:fs';
import { unsupportedNode } from './node-version.js';

const unsupported = unsupportedNode(process.version);
if (unsupported) {
  console.error(unsupported);
  process.exit(1);
}
const built = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url));
