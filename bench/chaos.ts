// The chaos run: two operator processes with leader election against the sandbox, certificates
// created, renewed in bursts and revoked, operators SIGKILLed and restarted at random moments,
// API faults injected — then every expected (hook, Secret, version, event) must have executed
// exactly once, counted from the hooks' own side effects (a line each appends to a file).
//
//   npm run chaos -- [--secrets 200] [--hooks 3] [--renewals 600] [--kills 10] [--faults 40] [--seed N] [--verbose]
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

export interface ChaosOptions {
  secrets: number;
  hooks: number;
  renewals: number;
  kills: number;
  /** How many API faults to inject (failed requests, dropped watches, expired history). */
  faults: number;
  seed: number;
  /** The operators' quiet period: a burst of writes to one Secret is written well within it. */
  quietPeriodSeconds: number;
  leaseDurationSeconds: number;
  log?: (line: string) => void;
}

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
}

const NAMESPACE = 'chaos';
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
  const expected = new Set<string>();
  let faults = 0;
  let kills = 0;
  let replicaCount = 0;

  const secretsType = api.type('', 'secrets');
  const authority = createAuthority({ name: 'certhook chaos CA' });
  const current = new Map<string, string>();
  const hookNames = Array.from({ length: opts.hooks }, (_, i) => `hook-${i}`);
  const secretNames = Array.from({ length: opts.secrets }, (_, i) => `tls-${i}`);

  function newCertificate(secret: string) {
    const issued = authority.issue({ dnsNames: [`${secret}.example.com`] });
    const bundle = parseCertificateBundle(issued.fullchainPem);
    if (!bundle.ok) throw new Error('the chaos CA issued an unreadable certificate');
    current.set(secret, bundle.facts.fingerprint);
    return { 'tls.crt': b64(issued.fullchainPem), 'tls.key': b64(issued.keyPem) };
  }

  function startReplica(): void {
    const name = `replica-${replicaCount++}`;
    const child = spawn(process.execPath, [
      CLI, 'operator', '--kubeconfig', kubeconfig, '--namespace', NAMESPACE, '--leader-elect', '--leader-election-namespace', NAMESPACE,
      '--lease-duration', String(opts.leaseDurationSeconds), '--renew-deadline', String(opts.leaseDurationSeconds * 0.66), '--retry-period', String(opts.leaseDurationSeconds * 0.15),
      '--quiet-period', String(opts.quietPeriodSeconds), '--health-port', '0', '--log-level', process.env.CHAOS_DEBUG ? 'info' : 'warn',
    ], { env: { ...process.env, POD_NAME: name }, stdio: ['ignore', process.env.CHAOS_DEBUG ? 'pipe' : 'ignore', 'inherit'] });
    // Debug logs say which replica wrote each line: who acted when is most of a diagnosis.
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => console.error(name, line));
    replicas.add(child);
    child.on('exit', () => replicas.delete(child));
  }

  function killOne(): void {
    // A replica that exited by itself (it crashed: its stderr says why) leaves none to kill.
    if (replicas.size) pick([...replicas]).kill('SIGKILL');
    kills++;
    startReplica();
    log(`kill ${kills}: SIGKILL one replica, started another`);
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
    const deadline = Date.now() + 600_000;
    for (;;) {
      const executed = await executions();
      const runs = api.list(api.type('certhook.io', 'deployhookruns'), NAMESPACE).items as unknown as DeployHookRun[];
      const waiting = [...expected].filter((k) => !executed.has(k)).length;
      const unfinished = runs.filter((r) => !FINAL_PHASES.has(r.status?.phase ?? '')).length;
      if (waiting === 0 && unfinished === 0) return;
      if (process.env.CHAOS_DEBUG) console.error(what, 'waiting', waiting, 'unfinished', unfinished);
      if (Date.now() > deadline) {
        // Enough to start from: which firings never ran, which runs never finished, who leads.
        const stuck = runs.filter((r) => !FINAL_PHASES.has(r.status?.phase ?? '')).slice(0, 5).map((r) => `${r.metadata.name} ${r.status?.phase ?? '(no phase)'} ${r.status?.reason ?? ''}`);
        const lease = api.list(api.type('coordination.k8s.io', 'leases'), NAMESPACE).items[0]?.spec;
        throw new Error(`${what}: still waiting for ${waiting} firings and ${unfinished} runs after 10 minutes; `
          + `never ran: ${[...expected].filter((k) => !executed.has(k)).slice(0, 5).join('; ')}; unfinished: ${stuck.join('; ')}; lease: ${JSON.stringify(lease)}`);
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
      if (killAt.has(step)) killOne();
      if (faultAt.has(step)) injectFault();
      step++;
      if (rand() < 0.05) await delay(Math.floor(rand() * 200));
    };

    log(`create ${opts.secrets} Secrets`);
    for (const secret of secretNames) {
      api.create(secretsType, NAMESPACE, { metadata: { name: secret }, type: 'kubernetes.io/tls', data: newCertificate(secret) });
      for (const hook of hookNames) expected.add(key(hook, secret, current.get(secret)!, 'created'));
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
        for (const hook of hookNames) expected.add(key(hook, secret, current.get(secret)!, 'renewed'));
      }
      await delay(opts.quietPeriodSeconds * 1000 * 1.5);
      await settle('renewed');
    }

    log(`delete the ${opts.secrets} Secrets`);
    for (const secret of secretNames) {
      api.delete(secretsType, NAMESPACE, secret);
      for (const hook of hookNames) expected.add(key(hook, secret, current.get(secret)!, 'revoked'));
      await tick();
    }
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
    };
  } finally {
    for (const child of replicas) child.kill('SIGKILL');
    while (replicas.size) await delay(50);
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatReport(r: ChaosReport, opts: ChaosOptions): string {
  return `expected ${r.expected}, executed ${r.executed}, missing ${r.missing}, duplicated ${r.duplicated} `
    + `(extra ${r.extra}; ${opts.secrets} Secrets, ${opts.hooks} hooks, ${opts.renewals} renewals, ${r.kills} kills, ${r.faults} faults, seed ${opts.seed}, ${r.seconds} s)`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      secrets: { type: 'string', default: '200' },
      hooks: { type: 'string', default: '3' },
      renewals: { type: 'string', default: '600' },
      kills: { type: 'string', default: '10' },
      faults: { type: 'string', default: '40' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      verbose: { type: 'boolean', default: false },
    },
  });
  const opts: ChaosOptions = {
    secrets: Number(values.secrets),
    hooks: Number(values.hooks),
    renewals: Number(values.renewals),
    kills: Number(values.kills),
    faults: Number(values.faults),
    seed: Number(values.seed),
    quietPeriodSeconds: 1,
    leaseDurationSeconds: 6,
    ...(values.verbose ? { log: (line: string) => console.error(line) } : {}),
  };
  const report = await runChaos(opts);
  console.log(formatReport(report, opts));
  if (report.missing || report.duplicated) {
    console.error(`missing: ${report.missingKeys.slice(0, 20).join('; ')}\nduplicated: ${report.duplicatedKeys.slice(0, 20).join('; ')}`);
    process.exitCode = 1;
  }
}
