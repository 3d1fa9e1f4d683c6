// Webhook fan-out: many deliveries from the operator to a loopback receiver that answers after a
// fixed delay (a receiver doing some work, as real ones do), against a raw undici loop POSTing
// bodies of the same size to the same receiver at the same concurrency, in the same run.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { HOOK_GROUP, TLS_TYPE } from './cluster.ts';
import type { Bench } from './phases.ts';
import type { RunningOperator } from './processes.ts';

export interface FanOutOptions {
  deliveries: number;
  hooks: number;
  /** The operator's --webhook-concurrency, and the raw loop's requests in flight. */
  concurrency: number;
  receiverDelayMs: number;
}

export interface FanOut {
  deliveries: number;
  operatorMs: number;
  rawMs: number;
  operatorMaxInFlight: number;
  rawMaxInFlight: number;
  bodyBytes: number;
  /** Requests that carried an id already received (resends): 0 in a run without faults. */
  resent: number;
}

const NAMESPACE = 'bench-fanout';

interface Receiver {
  server: Server;
  port: number;
  ids: Set<string>;
  posts: number;
  probes: number;
  inFlight: number;
  maxInFlight: number;
  bodyBytes: number[];
}

async function startReceiver(delayMs: number): Promise<Receiver> {
  const r = { ids: new Set<string>(), posts: 0, probes: 0, inFlight: 0, maxInFlight: 0, bodyBytes: [] } as unknown as Receiver;
  r.server = createServer((req, res) => {
    if (req.method !== 'POST') {
      r.probes++;
      res.writeHead(204).end();
      return;
    }
    r.inFlight++;
    r.maxInFlight = Math.max(r.maxInFlight, r.inFlight);
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      setTimeout(() => {
        r.inFlight--;
        r.posts++;
        r.bodyBytes.push(size);
        const id = req.headers['webhook-id'];
        if (typeof id === 'string') r.ids.add(id);
        res.writeHead(200).end();
      }, delayMs);
    });
  });
  r.server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.port = (r.server.address() as AddressInfo).port;
  return r;
}

/** Waits until `done()` or the deadline; throws with `what` when the deadline passes. */
async function until(done: () => boolean, timeoutMs: number, what: string, op: RunningOperator): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (!op.child.running) throw new Error(`the operator exited during the fan-out${op.child.describeTail()}`);
    if (performance.now() > deadline) throw new Error(`fan-out: ${what} did not happen within ${timeoutMs / 1000} s`);
    await delay(10);
  }
}

export async function webhookFanOut(b: Bench, op: RunningOperator, opts: FanOutOptions): Promise<FanOut> {
  const receiver = await startReceiver(opts.receiverDelayMs);
  try {
    const api = b.cluster.sandbox.api;
    api.create(api.type('', 'namespaces'), undefined, { metadata: { name: NAMESPACE } });
    const hooks = api.type(HOOK_GROUP, 'deployhooks');
    for (let j = 0; j < opts.hooks; j++) {
      api.create(hooks, NAMESPACE, {
        apiVersion: 'certhook.io/v1alpha1',
        kind: 'DeployHook',
        metadata: { name: `webhook-${j}` },
        // Each hook may take every slot: the operator-wide --webhook-concurrency is what binds.
        spec: { onEvents: ['created'], webhook: { url: `http://127.0.0.1:${receiver.port}/hook-${j}`, concurrency: 64 } },
      });
    }
    // The operator has the hooks once it has probed them; Secrets created in a later second than
    // the hooks count as created after them.
    await until(() => receiver.probes >= opts.hooks, 30_000, 'probing every hook', op);
    await delay(1100);
    const secrets = Math.ceil(opts.deliveries / opts.hooks);
    const started = performance.now();
    const kind = api.type('', 'secrets');
    for (let i = 0; i < secrets; i++) {
      api.create(kind, NAMESPACE, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `fanout-${i}` }, type: TLS_TYPE, data: b.pool.initial(i).data });
    }
    const expected = secrets * opts.hooks;
    await until(() => receiver.ids.size >= expected, 300_000, `${expected} deliveries`, op);
    const operatorMs = performance.now() - started;
    const operatorMaxInFlight = receiver.maxInFlight;
    const resent = receiver.posts - receiver.ids.size;
    const bodyBytes = receiver.bodyBytes.sort((x, y) => x - y)[Math.floor(receiver.bodyBytes.length / 2)]!;

    receiver.maxInFlight = 0;
    const rawMs = await rawLoop(`http://127.0.0.1:${receiver.port}/raw`, expected, opts.concurrency, Buffer.alloc(bodyBytes, 'x'));
    return { deliveries: expected, operatorMs, rawMs, operatorMaxInFlight, rawMaxInFlight: receiver.maxInFlight, bodyBytes, resent };
  } finally {
    await new Promise<void>((resolve) => {
      receiver.server.closeAllConnections();
      receiver.server.close(() => resolve());
    });
  }
}

/** `count` POSTs of `body` with `concurrency` in flight, over one keep-alive Agent: the time taken. */
async function rawLoop(url: string, count: number, concurrency: number, body: Buffer): Promise<number> {
  const dispatcher = new Agent({ connections: concurrency });
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`raw loop: HTTP ${res.statusCode}`);
      }
    }));
    return performance.now() - started;
  } finally {
    await dispatcher.close();
  }
}
