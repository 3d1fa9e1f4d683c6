// The chaos run's webhook receiver: a node:http server on 127.0.0.1 that every webhook hook of
// the run POSTs to (http://127.0.0.1:<port>/<hook>). It answers as a receiver that deduplicates
// by webhook-id would be answered against: some firings' first attempts get a 5xx (so retries,
// and their durable schedule, run under the kills and faults), some answers are slow (so a kill
// or a lost lease catches a request in flight), and it counts, per firing (hook, Secret,
// certificate, event), the distinct webhook-ids it answered 2xx and how often each.
//
// For the stage checks it also keeps, per firing, when its first POST arrived, when a 2xx answer
// first went out (the earliest its run can have finished) and the result a post hook was given.
//
// Its answers are a function of the seed and of the firing (its hook, Secret, event and which of
// the Secret's certificates it is), not of arrival order or timing: a seed fails the same
// firings on every run. A firing never gets more 5xx than the hook has retries, so every firing
// is deliverable: one that is missing is the operator's doing.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceiverOptions {
  seed: number;
  /** The share of firings whose first attempt is answered 5xx (a fifth of those, the first two). */
  failureRate: number;
  /** The `whsec_` secret the hooks sign with. */
  signingSecret: string;
  /** Which certificate a fingerprint is, stable for a seed (e.g. `tls-4#2`), for the answer plan. */
  versionOf: (fingerprint: string) => string | undefined;
}

/** A firing as the harness keys it: `${hook} ${secret} ${fingerprint} ${event}`. */
type FiringKey = string;

interface IdRecord {
  /** POSTs with this id, whatever the answer. */
  posts: number;
  /** POSTs with this id answered 2xx: a receiver deduplicating by id acts on the first only. */
  delivered: number;
  /** The run that sent it (the payload's distribution_id or the template's run), for reports. */
  run: string;
}

export interface WebhookTally {
  expected: number;
  /** Expected firings with at least one id answered 2xx. */
  delivered: number;
  /** Expected firings no id of which was answered 2xx. */
  missing: number;
  /** Ids answered 2xx beyond the first, over every firing: one firing delivered under two ids is one. */
  duplicated: number;
  /** 2xx answers to an id already answered 2xx: the at-least-once resends a receiver drops by id. */
  resent: number;
  /** Firings delivered that were never expected (an intermediate certificate of a burst). */
  extra: number;
  /** Attempts answered 5xx on purpose. */
  failed: number;
  /** Requests refused as malformed: no webhook-id, Idempotency-Key not the same, a bad signature, no firing in the body. */
  bad: number;
  posts: number;
  missingKeys: string[];
  duplicatedKeys: string[];
  resentKeys: string[];
  badReasons: string[];
}

/** A firing's side effect at the receiver, for the stage checks (times in ms, the receiver's clock, the host's). */
export interface Timeline {
  /** When its first POST arrived, whatever the id and the answer. */
  firstPostAt: number;
  /** When a 2xx answer to it was first written (undefined: never): its run cannot have finished before. */
  answeredAt?: number;
  /** Whether some POST of it was answered 2xx. */
  delivered: boolean;
  /** What the first POST said of its group: `result` ('' for a pre or deploy hook) and `failed_hooks`. */
  result: string;
  failedHooks: string[];
}

export interface ChaosReceiver {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Whether a firing is settled at the receiver: delivered under some id, or refused as malformed. */
  settled(key: FiringKey): boolean;
  tally(expected: ReadonlySet<FiringKey>): WebhookTally;
  /** Every firing POSTed (well-formed), with when and what. */
  timelines(): ReadonlyMap<FiringKey, Timeline>;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers?: OutgoingHttpHeaders;
  body?: string;
  delayMs: number;
}

/** A number in [0, 1) from the hash of its parts: the same parts, the same number. */
export function unit(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('\0')).digest().readUInt32BE(0) / 4294967296;
}

/** The 5xx answers a first attempt gets: two retried after the backoff (2 s), one after its Retry-After. */
const FAILURES: Omit<Answer, 'delayMs'>[] = [
  { status: 500, body: 'chaos: internal error' },
  { status: 502, body: 'chaos: bad gateway' },
  { status: 503, headers: { 'retry-after': '1' }, body: 'chaos: unavailable, retry in 1 s' },
];
/** A second 5xx always asks to be retried in 1 s: the backoff's 4 s would lengthen a run by more than it tests. */
const SECOND_FAILURE = FAILURES[2]!;
const SUCCESSES: Omit<Answer, 'delayMs'>[] = [{ status: 200, body: 'ok' }, { status: 202, body: 'accepted' }, { status: 204 }];

export async function startChaosReceiver(opts: ReceiverOptions): Promise<ChaosReceiver> {
  const firings = new Map<FiringKey, Map<string, IdRecord>>();
  /** POSTs per firing so far, whatever the id: the n-th is answered as the plan says. */
  const postsPerFiring = new Map<FiringKey, number>();
  const refused = new Set<FiringKey>();
  const timelines = new Map<FiringKey, Timeline>();
  const badReasons: string[] = [];
  let bad = 0;
  let failed = 0;
  let posts = 0;
  const verifier = new Webhook(opts.signingSecret);
  const sockets = new Set<Socket>();

  /** How the n-th POST (0-based) of a firing is answered. */
  function answer(hook: string, secret: string, fingerprint: string, event: string, n: number): Answer {
    const firing = [opts.seed, hook, secret, event, opts.versionOf(fingerprint) ?? fingerprint];
    const r = unit(...firing, 'failures');
    const failures = r < opts.failureRate / 5 ? 2 : r < opts.failureRate ? 1 : 0;
    // One POST in six waits up to 400 ms before answering: long enough to be cut by a SIGKILL.
    const delayMs = unit(...firing, n, 'slow') < 1 / 6 ? Math.floor(unit(...firing, n, 'delay') * 400) : 0;
    const pool = n < failures ? (n === 0 ? FAILURES : [SECOND_FAILURE]) : SUCCESSES;
    return { ...pool[Math.floor(unit(...firing, n, 'answer') * pool.length)]!, delayMs };
  }

  function refuse(res: ServerResponse, key: FiringKey | undefined, reason: string): void {
    bad++;
    if (key) refused.add(key);
    if (badReasons.length < 20) badReasons.push(reason);
    res.writeHead(400, { 'content-type': 'text/plain' }).end(reason);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    if (req.method !== 'POST') {
      // The operator probes the url (OPTIONS) for the hook's Reachable condition.
      res.writeHead(204).end();
      return;
    }
    posts++;
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const pathHook = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0]!);
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      refuse(res, undefined, `POST /${pathHook}: the body is not JSON`);
      return;
    }
    // The default payload names them in objects; the template hooks' body flat.
    const hook = body.hook?.name ?? body.hook;
    const secret = body.secret?.name ?? body.secret;
    const fingerprint = body.cert_fingerprint ?? body.fingerprint;
    const event = body.event;
    const run = body.distribution_id ?? body.run ?? '?';
    if (![hook, secret, fingerprint, event].every((v) => typeof v === 'string' && v !== '')) {
      refuse(res, undefined, `POST /${pathHook}: no hook, Secret, fingerprint and event in the body`);
      return;
    }
    const key: FiringKey = `${hook} ${secret} ${fingerprint} ${event}`;
    const id = header('webhook-id');
    if (!id) return refuse(res, key, `${key}: no webhook-id header`);
    if (header('idempotency-key') !== id) return refuse(res, key, `${key}: Idempotency-Key ${header('idempotency-key')} is not the webhook-id ${id}`);
    if (hook !== pathHook) return refuse(res, key, `${key}: posted to /${pathHook}`);
    try {
      verifier.verify(raw, req.headers as Record<string, string>);
    } catch (err) {
      return refuse(res, key, `${key} (${id}): the signature does not verify: ${(err as Error).message}`);
    }
    const arrived = Date.now();
    // The post hooks' result and failed_hooks: the default payload's, or the template's of the same names.
    const timeline: Timeline = timelines.get(key) ?? {
      firstPostAt: arrived,
      delivered: false,
      result: typeof body.result === 'string' ? body.result : '',
      failedHooks: Array.isArray(body.failed_hooks) ? body.failed_hooks.map(String) : [],
    };
    timelines.set(key, timeline);
    const n = postsPerFiring.get(key) ?? 0;
    postsPerFiring.set(key, n + 1);
    const planned = answer(hook, secret, fingerprint, event, n);
    let ids = firings.get(key);
    if (!ids) firings.set(key, (ids = new Map()));
    const record = ids.get(id) ?? { posts: 0, delivered: 0, run };
    ids.set(id, record);
    record.posts++;
    // Counted when decided, as a receiver acts on a request before its answer is on the wire:
    // an operator killed while the answer travels sends the same id again, and that is a resend.
    if (planned.status < 300) {
      record.delivered++;
      timeline.delivered = true;
    } else failed++;
    const reply = () => {
      if (res.destroyed) return;
      res.writeHead(planned.status, planned.headers).end(planned.body ?? '');
      if (planned.status < 300) timeline.answeredAt ??= Date.now();
    };
    if (planned.delayMs) setTimeout(reply, planned.delayMs);
    else reply();
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
    // A client killed mid-request: nothing to answer.
    req.on('error', () => {});
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const deliveredIds = (key: FiringKey) => [...(firings.get(key) ?? new Map<string, IdRecord>())].filter(([, r]) => r.delivered > 0);

  return {
    url: `http://127.0.0.1:${port}`,
    settled: (key) => refused.has(key) || deliveredIds(key).length > 0,
    tally(expected) {
      const missingKeys = [...expected].filter((k) => deliveredIds(k).length === 0);
      const duplicatedKeys: string[] = [];
      const resentKeys: string[] = [];
      let duplicated = 0;
      let resent = 0;
      for (const key of firings.keys()) {
        const ids = deliveredIds(key);
        const describe = () => `${key}: ${ids.map(([id, r]) => `${id} (run ${r.run}, ${r.delivered}× 2xx of ${r.posts})`).join(', ')}`;
        if (ids.length > 1) {
          duplicated += ids.length - 1;
          duplicatedKeys.push(describe());
        }
        const again = ids.reduce((sum, [, r]) => sum + r.delivered - 1, 0);
        if (again > 0) {
          resent += again;
          resentKeys.push(describe());
        }
      }
      return {
        expected: expected.size,
        delivered: expected.size - missingKeys.length,
        missing: missingKeys.length,
        duplicated,
        resent,
        extra: [...firings.keys()].filter((k) => !expected.has(k) && deliveredIds(k).length > 0).length,
        failed,
        bad,
        posts,
        missingKeys,
        duplicatedKeys,
        resentKeys,
        badReasons,
      };
    },
    timelines: () => timelines,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
