// KubeClient against a bare HTTP server on 127.0.0.1: rate limiting, the shared back-off a 429
// asks for, the connection cap, and decoding a watch stream.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { KubeClient, type KubeClientOptions } from '../../src/kube/client.ts';
import { credentialsFromKubeconfig } from '../../src/kube/kubeconfig.ts';
import { kubeconfigFor } from '../../src/sandbox/kubeconfig.ts';
import { KubeApiError } from '../../src/kube/errors.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server answering with `handler`, and a way to make clients of it. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return {
    connections: () => connections,
    async client(opts: KubeClientOptions = {}): Promise<KubeClient> {
      const client = KubeClient.create(await credentialsFromKubeconfig(kubeconfigFor(`http://127.0.0.1:${port}`)), opts);
      // Before the server's close: it waits for the client's kept-alive connections.
      cleanups.push(() => client.close());
      return client;
    },
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));

describe('KubeClient rate limiting', () => {
  test('a burst goes at once; the requests past it wait for tokens at qps', async () => {
    const arrivals: number[] = [];
    const api = await serve((_req, res) => {
      arrivals.push(performance.now());
      json(res, 200, {});
    });
    const client = await api.client({ qps: 10, burst: 2 });
    const start = performance.now();
    await Promise.all(Array.from({ length: 5 }, () => client.get('/api/v1/namespaces')));
    // The burst (two) took no wait; the three past it each waited for a token. (Counted, not
    // timed from above: a loaded machine may be slow to send, never early.)
    assert.equal(client.rateLimitStats.waited, 3);
    const after = arrivals.map((t) => t - start);
    // Three more tokens at 10 a second: the fifth request is sent some 300 ms in.
    assert.ok(after[4]! >= 280, `the last request waited for its token: ${after}`);
  });

  test('a watch takes a token to start and none while it streams', async () => {
    const api = await serve((req, res) => {
      if (!req.url!.includes('watch=true')) return json(res, 200, {});
      res.writeHead(200, { 'Content-Type': 'application/json' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(++n) } } })}\n`);
        if (n === 10) {
          clearInterval(timer);
          res.end();
        }
      }, 10);
    });
    const client = await api.client({ qps: 20, burst: 1 });
    const watch = client.watch('/api/v1/secrets', {}, 5000);
    const first = await watch.next();
    assert.equal(first.done, false);
    // The watch spent the only token: a request now waits for the next (50 ms).
    await client.get('/api/v1/namespaces');
    assert.equal(client.rateLimitStats.waited, 1);
    let events = 1;
    for await (const _ of watch) events++;
    assert.equal(events, 10);
    await delay(60);
    // Nine more events, ~100 ms of streaming, took no tokens: the bucket has refilled.
    await client.get('/api/v1/namespaces');
    assert.equal(client.rateLimitStats.waited, 1);
  });

  test('a request aborted while it waits for a token fails as aborted and never reaches the server', async () => {
    let requests = 0;
    const api = await serve((_req, res) => {
      requests++;
      json(res, 200, {});
    });
    const client = await api.client({ qps: 1, burst: 1 });
    await client.get('/api/v1/namespaces');
    const abort = new AbortController();
    const waiting = client.request('GET', '/api/v1/namespaces', { signal: abort.signal });
    abort.abort();
    await assert.rejects(waiting, (err: unknown) => err instanceof KubeApiError && err.reason === 'Aborted');
    assert.equal(requests, 1);
  });

  test('a 429 with Retry-After holds every request of the client, not just the one refused', async () => {
    const arrivals: Record<string, number> = {};
    const api = await serve((req, res) => {
      arrivals[req.url!] = performance.now();
      if (req.url === '/busy') return json(res, 429, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'too many requests' }, { 'Retry-After': '1' });
      json(res, 200, {});
    });
    const client = await api.client({ qps: 1000, burst: 1000 });
    const other = await api.client({ qps: 1000, burst: 1000 });
    await assert.rejects(client.get('/busy'), (err: unknown) => err instanceof KubeApiError && err.code === 429 && err.retryAfterSeconds === 1);
    const refusedAt = performance.now();
    await Promise.all([client.get('/after-1'), client.get('/after-2'), other.get('/other-client')]);
    assert.equal(client.rateLimitStats.pauses, 1);
    for (const path of ['/after-1', '/after-2']) assert.ok(arrivals[path]! - refusedAt >= 950, `${path} was sent ${arrivals[path]! - refusedAt} ms after the 429`);
    // The back-off is this client's: another client of the same server is not held.
    assert.ok(arrivals['/other-client']! - refusedAt < 500);
    assert.equal(other.rateLimitStats.pauses, 0);
  });

  test('maxConnections caps the connections open to the server; more requests queue', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const api = await serve((_req, res) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      setTimeout(() => {
        inFlight--;
        json(res, 200, {});
      }, 50);
    });
    const client = await api.client({ maxConnections: 2 });
    await Promise.all(Array.from({ length: 6 }, () => client.get('/api/v1/namespaces')));
    assert.equal(mostInFlight, 2);
    assert.equal(api.connections(), 2);
  });
});

describe('KubeClient.watch', () => {
  test('a multi-byte character split across chunks is decoded whole', async () => {
    const name = 'café-🔒';
    const line = Buffer.from(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name, resourceVersion: '1' } } })}\n`);
    // Cut inside "é" (2 bytes) and inside the emoji (4 bytes), each piece sent as its own chunk.
    const e = line.indexOf(Buffer.from('é'));
    const lock = line.indexOf(Buffer.from('🔒'));
    const cuts = [0, e + 1, lock + 1, lock + 3, line.length];
    const api = await serve(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 1; i < cuts.length; i++) {
        res.write(line.subarray(cuts[i - 1], cuts[i]));
        await delay(30);
      }
      res.end();
    });
    const client = await api.client();
    const names: unknown[] = [];
    for await (const event of client.watch<{ metadata: { name: string } }>('/api/v1/secrets', {}, 5000)) names.push(event.object.metadata.name);
    assert.deepEqual(names, [name]);
  });
});
