// The chaos run: two operator processes with leader election against the sandbox, certificates
// created, renewed in bursts and revoked, operators SIGKILLed and restarted at random moments,
// API faults injected — then every expected (hook, Secret, version, event) must have happened
// exactly once. Job hooks are counted from their own side effects (a line each appends to a
// file); webhook hooks at a loopback receiver the harness runs (bench/chaos/receiver.ts), which
// answers some attempts 5xx so retries happen, by distinct webhook-id: a firing delivered under
// two ids is duplicated, and the same id answered 2xx again (the at-least-once resend after a
// crash between sending and recording, which a receiver drops by id) is counted apart as resent.
//
//   npm run chaos -- [--secrets 200] [--hooks 3] [--webhooks 3] [--webhook-failures 0.1] [--renewals 600]
//                    [--kills 10] [--faults 40] [--kube-api-qps 100] [--seed N] [--verbose]
//
// --webhooks 0 leaves webhook hooks out. --verbose prints each phase and wait with the time it took.
//
// CHAOS_DEBUG=1 prints each replica's log (info level, every line prefixed with the replica's
// name), the progress of every wait, and at the end the API requests made, by verb and resource.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { DeployHookRun } from '../src/api/deployhookrun.ts';
import { customResourceDefinitions } from '../src/api/crd.ts';
import { createAuthority } from '../src/certs/authority.ts';
import { parseCertificateBundle } from '../src/certs/bundle.ts';
import { startSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { FINAL_PHASES } from '../src/controller/run-state.ts';
import { startChaosReceiver, type ChaosReceiver, type WebhookTally } from './chaos/receiver.ts';

export interface ChaosOptions {
  secrets: number;
  /** Job hooks. */
  hooks: number;
  /** Webhook hooks, delivering to the harness's receiver (0: none). */
  webhooks: number;
  /** The share of webhook firings whose first attempt the receiver answers 5xx (a fifth of them, the first two). */
  webhookFailureRate: number;
  renewals: number;
  kills: number;
  /** How many API faults to inject (failed requests, dropped watches, expired history). */
  faults: number;
  seed: number;
  /** The operators' quiet period: a burst of writes to one Secret is written well within it. */
  quietPeriodSeconds: number;
  leaseDurationSeconds: number;
  /**
   * Each operator's --kube-api-qps (its burst twice that). The client's rate limit, not CPU, sets
   * the pace of a run: the default, twice the operator's, gives the webhook hooks' firings the
   * budget the job hooks' have at the operator's default.
   */
  kubeApiQps?: number;
  log?: (line: string) => void;
}

/** The job hooks' figures at the top, the webhook hooks' under `webhooks` (undefined when there were none). */
export interface ChaosReport {
  expected: number;
  executed: number;
  missing: number;
  duplicated: number;
  /** Executions of versions that were never expected (an intermediate version of a burst). */
  extra: number;
  kills: number;
  faults: number;
  seconds: number;
  missingKeys: string[];
  duplicatedKeys: string[];
  webhooks?: WebhookTally;
}

const NAMESPACE = 'chaos';
export const DEFAULT_KUBE_API_QPS = 100;
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'certhook.js');

/** A small seeded PRNG (mulberry32), so a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const key = (hook: string, secret: string, fingerprint: string, event: string) => `${hook} ${secret} ${fingerprint} ${event}`;

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const rand = random(opts.seed);
  const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)]!;
  const dir = await mkdtemp(join(tmpdir(), 'certhook-chaos-'));
  const ledgerFile = join(dir, 'executed.log');
  await writeFile(ledgerFile, '');
  const sandbox: Sandbox = await startSandbox({ historyLimit: 1_000_000 });
  const api = sandbox.api;
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, sandbox.kubeconfig());
  const replicas = new Set<ChildProcess>();
  const qps = opts.kubeApiQps ?? DEFAULT_KUBE_API_QPS;
  const expected = new Set<string>();
  const expectedWebhooks = new Set<string>();
  let faults = 0;
  let kills = 0;
  let replicaCount = 0;

  const secretsType = api.type('', 'secrets');
  const authority = createAuthority({ name: 'certhook chaos CA' });
  const current = new Map<string, string>();
  /** Which of its Secret's certificates a fingerprint is (`tls-4#2`): the same for a seed, unlike the fingerprint. */
  const versions = new Map<string, string>();
  const issuedPerSecret = new Map<string, number>();
  const hookNames = Array.from({ length: opts.hooks }, (_, i) => `hook-${i}`);
  const webhookNames = Array.from({ length: opts.webhooks }, (_, i) => `webhook-${i}`);
  const secretNames = Array.from({ length: opts.secrets }, (_, i) => `tls-${i}`);
  const signingSecret = `whsec_${Buffer.from(`certhook chaos signing key, seed ${opts.seed}`.padEnd(32, '.')).toString('base64')}`;
  const receiver: ChaosReceiver | undefined = opts.webhooks > 0
    ? await startChaosReceiver({ seed: opts.seed, failureRate: opts.webhookFailureRate, signingSecret, versionOf: (fingerprint) => versions.get(fingerprint) })
    : undefined;

  function newCertificate(secret: string) {
    const issued = authority.issue({ dnsNames: [`${secret}.example.com`] });
    const bundle = parseCertificateBundle(issued.fullchainPem);
    if (!bundle.ok) throw new Error('the chaos CA issued an unreadable certificate');
    current.set(secret, bundle.facts.fingerprint);
    const n = (issuedPerSecret.get(secret) ?? 0) + 1;
    issuedPerSecret.set(secret, n);
    versions.set(bundle.facts.fingerprint, `${secret}#${n}`);
    return { 'tls.crt': b64(issued.fullchainPem), 'tls.key': b64(issued.keyPem) };
  }

  /** The Secret's current certificate fires `event` once for every hook. */
  function expect(secret: string, event: string): void {
    for (const hook of hookNames) expected.add(key(hook, secret, current.get(secret)!, event));
    for (const hook of webhookNames) expectedWebhooks.add(key(hook, secret, current.get(secret)!, event));
  }

  function startReplica(): void {
    const name = `replica-${replicaCount++}`;
    const child = spawn(process.execPath, [
      CLI, 'operator', '--kubeconfig', kubeconfig, '--namespace', NAMESPACE, '--leader-elect', '--leader-election-namespace', NAMESPACE,
      '--lease-duration', String(opts.leaseDurationSeconds), '--renew-deadline', String(opts.leaseDurationSeconds * 0.66), '--retry-period', String(opts.leaseDurationSeconds * 0.15),
      '--quiet-period', String(opts.quietPeriodSeconds), '--kube-api-qps', String(qps), '--kube-api-burst', String(2 * qps), '--health-port', '0', '--log-level', process.env.CHAOS_DEBUG ? 'info' : 'warn',
    ], { env: { ...process.env, POD_NAME: name }, stdio: ['ignore', process.env.CHAOS_DEBUG ? 'pipe' : 'ignore', 'inherit'] });
    // Debug logs say which replica wrote each line: who acted when is most of a diagnosis.
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => console.error(name, line));
    replicas.add(child);
    child.on('exit', () => replicas.delete(child));
  }

  function killOne(when = ''): void {
    // A replica that exited by itself (it crashed: its stderr says why) leaves none to kill.
    if (replicas.size) pick([...replicas]).kill('SIGKILL');
    kills++;
    startReplica();
    log(`kill ${kills}: SIGKILL one replica${when}, started another`);
  }

  // Half the kills land a little after their write, when the runs it caused are under way: a
  // webhook attempt in flight, or answered but not yet recorded, is what a resend comes from.
  const deferredKills = new Set<Promise<void>>();
  const stopDeferred = new AbortController();
  function killSoon(): void {
    const ms = Math.round(opts.quietPeriodSeconds * 1000 * (1 + 2 * rand()));
    const pending: Promise<void> = delay(ms, undefined, { signal: stopDeferred.signal })
      .then(() => killOne(` ${ms} ms after its write`), () => {})
      .finally(() => deferredKills.delete(pending));
    deferredKills.add(pending);
  }

  function injectFault(): void {
    faults++;
    const kind = rand();
    if (kind < 0.2) sandbox.faults.dropWatches();
    else if (kind < 0.3) sandbox.expireHistory();
    else {
      const verb = pick(['create', 'patch', 'get', 'list', 'update'] as const);
      const resource = pick(['deployhookruns', 'deployhookruns/status', 'jobs', 'secrets', 'pods', 'deployhooks/status', 'leases', 'events']);
      sandbox.faults.failNext(verb, resource, 1 + Math.floor(rand() * 3), pick([500, 503, 429] as const), rand() < 0.5 ? 1 : undefined);
    }
  }

  /** How often each firing executed, from the lines the hooks appended. */
  async function executions(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const line of (await readFile(ledgerFile, 'utf8')).split('\n')) {
      if (line.trim()) counts.set(line.trim(), (counts.get(line.trim()) ?? 0) + 1);
    }
    return counts;
  }

  /** Waits until every expected firing has executed and no run is unfinished. */
  async function settle(what: string): Promise<void> {
    const began = Date.now();
    const deadline = began + 600_000;
    for (;;) {
      const executed = await executions();
      const runs = api.list(api.type('certhook.io', 'deployhookruns'), NAMESPACE).items as unknown as DeployHookRun[];
      const neverRan = [...expected].filter((k) => !executed.has(k));
      // A webhook firing waits until an attempt at it is answered 2xx (or refused as malformed, which the report counts).
      const undelivered = [...expectedWebhooks].filter((k) => !receiver!.settled(k));
      const waiting = neverRan.length + undelivered.length;
      const unfinished = runs.filter((r) => !FINAL_PHASES.has(r.status?.phase ?? '')).length;
      if (waiting === 0 && unfinished === 0) {
        log(`${what}: settled in ${((Date.now() - began) / 1000).toFixed(1)} s`);
        return;
      }
      if (process.env.CHAOS_DEBUG) console.error(what, 'waiting', neverRan.length, 'jobs', undelivered.length, 'webhooks', 'unfinished', unfinished);
      if (Date.now() > deadline) {
        // Enough to start from: which firings never ran, which runs never finished, who leads.
        const stuck = runs.filter((r) => !FINAL_PHASES.has(r.status?.phase ?? '')).slice(0, 5).map((r) => `${r.metadata.name} ${r.status?.phase ?? '(no phase)'} ${r.status?.reason ?? ''}`);
        const lease = api.list(api.type('coordination.k8s.io', 'leases'), NAMESPACE).items[0]?.spec;
        throw new Error(`${what}: still waiting for ${waiting} firings and ${unfinished} runs after 10 minutes; `
          + `never ran: ${neverRan.slice(0, 5).join('; ')}; never delivered: ${undelivered.slice(0, 5).join('; ')}; unfinished: ${stuck.join('; ')}; lease: ${JSON.stringify(lease)}`);
      }
      await delay(250);
    }
  }

  try {
    for (const crd of customResourceDefinitions()) api.create(api.type('apiextensions.k8s.io', 'customresourcedefinitions'), undefined, crd);
    api.create(api.type('', 'namespaces'), undefined, { metadata: { name: NAMESPACE } });
    for (const hook of hookNames) {
      api.create(api.type('certhook.io', 'deployhooks'), NAMESPACE, {
        apiVersion: 'certhook.io/v1alpha1',
        kind: 'DeployHook',
        metadata: { name: hook },
        spec: {
          historyLimit: 100,
          job: {
            command: 'echo "$CERTMATE_HOOK_NAME $CERTMATE_SECRET_NAME $CERTMATE_FINGERPRINT $CERTMATE_EVENT" >> "$LEDGER"',
            env: [{ name: 'LEDGER', value: ledgerFile }],
          },
        },
      });
    }
    if (webhookNames.length) api.create(secretsType, NAMESPACE, { metadata: { name: 'chaos-signing' }, data: { secret: b64(signingSecret) } });
    webhookNames.forEach((hook, i) => {
      api.create(api.type('certhook.io', 'deployhooks'), NAMESPACE, {
        apiVersion: 'certhook.io/v1alpha1',
        kind: 'DeployHook',
        metadata: { name: hook },
        spec: {
          historyLimit: 100,
          webhook: {
            url: `${receiver!.url}/${hook}`,
            // The most 5xx the receiver gives a firing is 2: retries are never exhausted.
            retries: 3,
            concurrency: [2, 4, 8][i % 3],
            signing: { secretRef: { name: 'chaos-signing', key: 'secret' } },
            // Every other hook sends a template rather than the standard payload.
            ...(i % 2 ? { body: { hook: '{{ .HookName }}', secret: '{{ .SecretName }}', fingerprint: '{{ .Fingerprint }}', event: '{{ .Event }}', run: '{{ .RunName }}' } } : {}),
          },
        },
      });
    });
    await delay(1100); // Secrets created in a later second than the hooks: every one is "created".
    startReplica();
    startReplica();
    // Kills and faults at random steps (a step is one write) across the whole run.
    const steps = opts.secrets + opts.renewals + opts.secrets;
    const randomSteps = (count: number) => {
      const at = new Set<number>();
      while (at.size < Math.min(count, steps)) at.add(Math.floor(rand() * steps));
      return at;
    };
    const killAt = randomSteps(opts.kills);
    const faultAt = randomSteps(opts.faults);
    let step = 0;
    const tick = async () => {
      if (killAt.has(step)) {
        if (rand() < 0.5) killOne();
        else killSoon();
      }
      if (faultAt.has(step)) injectFault();
      step++;
      if (rand() < 0.05) await delay(Math.floor(rand() * 200));
    };

    log(`create ${opts.secrets} Secrets`);
    for (const secret of secretNames) {
      api.create(secretsType, NAMESPACE, { metadata: { name: secret }, type: 'kubernetes.io/tls', data: newCertificate(secret) });
      expect(secret, 'created');
      await tick();
    }
    await settle('created');

    log(`renew ${opts.renewals} times, in bursts`);
    let renewed = 0;
    while (renewed < opts.renewals) {
      // A round renews a batch of Secrets, each in a burst of 1-3 writes well within the quiet period.
      const batch = new Set<string>();
      while (batch.size < Math.min(opts.secrets, 20)) batch.add(pick(secretNames));
      for (const secret of batch) {
        const writes = Math.min(1 + Math.floor(rand() * 3), opts.renewals - renewed);
        if (writes <= 0) break;
        for (let i = 0; i < writes; i++) {
          const obj = api.get(secretsType, NAMESPACE, secret);
          api.update(secretsType, NAMESPACE, secret, { ...obj, data: newCertificate(secret) });
          renewed++;
          await tick();
        }
        expect(secret, 'renewed');
      }
      await delay(opts.quietPeriodSeconds * 1000 * 1.5);
      await settle('renewed');
    }

    log(`delete the ${opts.secrets} Secrets`);
    for (const secret of secretNames) {
      api.delete(secretsType, NAMESPACE, secret);
      expect(secret, 'revoked');
      await tick();
    }
    await Promise.all(deferredKills);
    await settle('revoked');
    await delay(2000);

    if (process.env.CHAOS_DEBUG) console.error('requests', JSON.stringify(sandbox.faults.counters.requests));
    const counts = await executions();
    const missingKeys = [...expected].filter((k) => !counts.has(k));
    const duplicatedKeys = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
    return {
      expected: expected.size,
      executed: expected.size - missingKeys.length,
      missing: missingKeys.length,
      duplicated: [...counts.values()].reduce((sum, n) => sum + n - 1, 0),
      extra: [...counts.keys()].filter((k) => !expected.has(k)).length,
      kills,
      faults,
      seconds: Math.round((Date.now() - started) / 1000),
      missingKeys,
      duplicatedKeys,
      ...(receiver ? { webhooks: receiver.tally(expectedWebhooks) } : {}),
    };
  } finally {
    stopDeferred.abort();
    for (const child of replicas) child.kill('SIGKILL');
    while (replicas.size) await delay(50);
    await receiver?.close();
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One line: the job hooks' result, the webhook hooks' (counted by webhook-id), then the run's shape. */
export function formatReport(r: ChaosReport, opts: ChaosOptions): string {
  const w = r.webhooks;
  const webhooks = w
    ? `webhooks: expected ${w.expected}, delivered ${w.delivered}, missing ${w.missing}, duplicated ${w.duplicated}, resent ${w.resent} `
      + `(by webhook-id; extra ${w.extra}, ${w.failed} attempts answered 5xx, ${w.posts} POSTs${w.bad ? `, BAD ${w.bad}` : ''})`
    : 'webhooks: off';
  return `jobs: expected ${r.expected}, executed ${r.executed}, missing ${r.missing}, duplicated ${r.duplicated} (extra ${r.extra}); ${webhooks}; `
    + `${opts.secrets} Secrets, ${opts.hooks} job hooks, ${opts.webhooks} webhook hooks, ${opts.renewals} renewals, ${r.kills} kills, ${r.faults} faults, seed ${opts.seed}, ${r.seconds} s`;
}

/** Whether the run found a firing missing or duplicated (or a malformed webhook request). */
export function failed(r: ChaosReport): boolean {
  return !!(r.missing || r.duplicated || r.webhooks?.missing || r.webhooks?.duplicated || r.webhooks?.bad);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      secrets: { type: 'string', default: '200' },
      hooks: { type: 'string', default: '3' },
      webhooks: { type: 'string', default: '3' },
      'webhook-failures': { type: 'string', default: '0.1' },
      renewals: { type: 'string', default: '600' },
      kills: { type: 'string', default: '10' },
      faults: { type: 'string', default: '40' },
      'kube-api-qps': { type: 'string', default: String(DEFAULT_KUBE_API_QPS) },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      verbose: { type: 'boolean', default: false },
    },
  });
  const began = performance.now();
  const opts: ChaosOptions = {
    secrets: Number(values.secrets),
    hooks: Number(values.hooks),
    webhooks: Number(values.webhooks),
    webhookFailureRate: Number(values['webhook-failures']),
    renewals: Number(values.renewals),
    kills: Number(values.kills),
    faults: Number(values.faults),
    kubeApiQps: Number(values['kube-api-qps']),
    seed: Number(values.seed),
    quietPeriodSeconds: 1,
    leaseDurationSeconds: 6,
    ...(values.verbose ? { log: (line: string) => console.error(`${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s  ${line}`) } : {}),
  };
  const report = await runChaos(opts);
  console.log(formatReport(report, opts));
  if (report.missing || report.duplicated) {
    console.error(`jobs missing: ${report.missingKeys.slice(0, 20).join('; ')}\njobs duplicated: ${report.duplicatedKeys.slice(0, 20).join('; ')}`);
  }
  const w = report.webhooks;
  if (w?.missing || w?.duplicated || w?.bad) {
    console.error(`webhooks missing: ${w.missingKeys.slice(0, 20).join('; ')}\nwebhooks duplicated: ${w.duplicatedKeys.slice(0, 20).join('; ')}\nbad requests: ${w.badReasons.join('; ')}`);
  }
  // Not failures, but worth seeing which firings the operator sent again.
  if (w?.resent && values.verbose) console.error(`webhooks resent: ${w.resentKeys.slice(0, 20).join('; ')}`);
  if (failed(report)) process.exitCode = 1;
}
