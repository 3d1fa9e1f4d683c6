// The chaos run: two operator processes with leader election against the sandbox, certificates
// created, renewed in bursts and revoked, operators SIGKILLed and restarted at random moments,
// API faults injected — then every expected (hook, Secret, version, event) must have happened
// exactly once. Job hooks are counted from their own side effects (a line each appends to a
// file); webhook hooks at a loopback receiver the harness runs (bench/chaos/receiver.ts), which
// answers some attempts 5xx so retries happen, by distinct webhook-id: a firing delivered under
// two ids is duplicated, and the same id answered 2xx again (the at-least-once resend after a
// crash between sending and recording, which a receiver drops by id) is counted apart as resent.
//
// Hooks have stages: beside the deploy-stage hooks, pre hooks (job; the odd ones failurePolicy
// Ignore) and post hooks (job, and the last webhook hooks). Every job hook records when its
// command started and ended (ms) in its line, the receiver when a firing's first POST came and its
// first 2xx answer left, and bench/chaos/stages.ts checks the order in every group (Secret,
// certificate, event): no deploy side effect before every pre hook ended, none at all when a Fail
// pre hook failed, no post side effect before every pre and deploy side effect ended; and that
// post hooks were told the right result. Pre hooks fail (exit 1) for a share of firings chosen by
// the seed: those groups' deploy firings are expected Skipped (no side effect), their post hooks
// told `failed` and which.
//
//   npm run chaos -- [--secrets 200] [--hooks 3] [--webhooks 3] [--webhook-failures 0.1] [--renewals 600]
//                    [--pre-hooks 1] [--post-hooks 1] [--post-webhooks 1] [--pre-failures 0.05] [--no-stages]
//                    [--kills 10] [--faults 40] [--kube-api-qps 160] [--seed N] [--verbose]
//
// --webhooks 0 leaves webhook hooks out; --no-stages is --pre-hooks 0 --post-hooks 0 --post-webhooks 0
// (every hook a deploy hook). --verbose prints each phase and wait with the time it took.
//
// CHAOS_DEBUG=1 prints each replica's log (info level, every line prefixed with the replica's
// name), the progress of every wait, and at the end the API requests made, by verb and resource.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
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
import { startChaosReceiver, unit, type ChaosReceiver, type WebhookTally } from './chaos/receiver.ts';
import { checkStages, type GroupOutcome, type SideEffect, type StageCheck, type StagedHook } from './chaos/stages.ts';

export interface ChaosOptions {
  secrets: number;
  /** Deploy-stage job hooks. */
  hooks: number;
  /** Webhook hooks, delivering to the harness's receiver (0: none). */
  webhooks: number;
  /** Pre-stage job hooks (default 0): the even ones failurePolicy Fail (the default), the odd ones Ignore. */
  preHooks?: number;
  /** Post-stage job hooks (default 0). */
  postHooks?: number;
  /** How many of the webhook hooks, the last ones, are post hooks (default 0). */
  postWebhooks?: number;
  /** The share of pre hook firings that fail (exit 1), chosen by the seed (default 0). */
  preFailureRate?: number;
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
   * the pace of a run: the default, about three times the operator's, gives the run's 8 hooks
   * (3 deploy job hooks, 3 webhook hooks, a pre and a post hook, whose runs also write Waiting)
   * the budget 3 job hooks have at the operator's default.
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
  /** Executions no firing called for (a hook run for a certificate event that did not happen). */
  extraKeys: string[];
  webhooks?: WebhookTally;
  stages: StageCheck & {
    /** Groups of the expected firings: one per Secret's certificate and event the run expected to fire. */
    expectedGroups: number;
    /** Expected groups in which some pre hook failed (on purpose). */
    failedGroups: number;
    /** Deploy firings (job and webhook) expected Skipped, as a pre hook with failurePolicy Fail failed in their group. */
    skipped: number;
  };
}

const NAMESPACE = 'chaos';
export const DEFAULT_KUBE_API_QPS = 160;
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
/** A group: one certificate version of one Secret, one event (a Secret's name is its uid here: none is re-created). */
const groupKey = (secret: string, fingerprint: string, event: string) => `${secret} ${fingerprint} ${event}`;

/**
 * A job hook's command: `work`, timed. Its line is its side effect: the firing, when the command
 * started and ended (ms), its exit code, and what a post hook was told of its group ('-': nothing).
 * One `echo >>` of one short line: an atomic append, whoever else writes.
 */
const jobCommand = (work: string) =>
  `s=$(date +%s%3N); ${work}; rc=$?; `
  + `echo "$CERTMATE_HOOK_NAME $CERTMATE_SECRET_NAME $CERTMATE_FINGERPRINT $CERTMATE_EVENT $s $(date +%s%3N) $rc \${CERTMATE_RESULT:--} \${CERTMATE_FAILED_HOOKS:--}" >> "$LEDGER"; exit $rc`;
/** Pre hooks take a while (so a deploy hook let go early is caught in the act) and fail when the harness listed the firing. */
const PRE_WORK = 'sleep 0.2; ! grep -qxF "$CERTMATE_HOOK_NAME $CERTMATE_FINGERPRINT $CERTMATE_EVENT" "$PRE_FAILURES"';
/** Deploy hooks take a little while, so a post hook let go early is caught in the act. */
const DEPLOY_WORK = 'sleep 0.1';

interface Execution extends SideEffect {
  key: string;
}

/** One line of the ledger (see jobCommand), or undefined for a torn one. */
function parseExecution(line: string): Execution | undefined {
  const [hook, secret, fingerprint, event, start, end, rc, result, failed, ...rest] = line.trim().split(' ');
  if (!failed || rest.length) return undefined;
  return {
    key: key(hook!, secret!, fingerprint!, event!),
    hook: hook!,
    group: groupKey(secret!, fingerprint!, event!),
    start: Number(start),
    end: Number(end),
    ok: rc === '0',
    result: result === '-' ? '' : result!,
    failedHooks: failed === '-' ? [] : failed.split(','),
  };
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const rand = random(opts.seed);
  const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)]!;
  const dir = await mkdtemp(join(tmpdir(), 'certhook-chaos-'));
  const ledgerFile = join(dir, 'executed.log');
  await writeFile(ledgerFile, '');
  /** `hook fingerprint event` for each pre hook firing that is to fail: the pre hooks grep it. */
  const preFailuresFile = join(dir, 'pre-failures');
  await writeFile(preFailuresFile, '');
  const sandbox: Sandbox = await startSandbox({ historyLimit: 1_000_000 });
  const api = sandbox.api;
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, sandbox.kubeconfig());
  const replicas = new Set<ChildProcess>();
  const qps = opts.kubeApiQps ?? DEFAULT_KUBE_API_QPS;
  const expected = new Set<string>();
  const expectedWebhooks = new Set<string>();
  /** Deploy firings (job and webhook) expected Skipped: a Fail pre hook of their group failed. */
  const skipped = new Set<string>();
  /** What the post hooks of each expected group must be told. */
  const outcomes = new Map<string, GroupOutcome>();
  /** The pre hooks made to fail, by group. */
  const failingPre = new Map<string, string[]>();
  let faults = 0;
  let kills = 0;
  let replicaCount = 0;

  const secretsType = api.type('', 'secrets');
  const authority = createAuthority({ name: 'certhook chaos CA' });
  const current = new Map<string, string>();
  /** Which of its Secret's certificates a fingerprint is (`tls-4#2`): the same for a seed, unlike the fingerprint. */
  const versions = new Map<string, string>();
  const issuedPerSecret = new Map<string, number>();
  const postWebhooks = Math.min(opts.postWebhooks ?? 0, opts.webhooks);
  const preHooks: StagedHook[] = Array.from({ length: opts.preHooks ?? 0 }, (_, i) => ({ name: `pre-${i}`, stage: 'pre', failurePolicy: i % 2 ? 'Ignore' : 'Fail' }));
  const jobHooks: StagedHook[] = [
    ...preHooks,
    ...Array.from({ length: opts.hooks }, (_, i): StagedHook => ({ name: `hook-${i}`, stage: 'deploy', failurePolicy: 'Fail' })),
    ...Array.from({ length: opts.postHooks ?? 0 }, (_, i): StagedHook => ({ name: `post-${i}`, stage: 'post', failurePolicy: 'Ignore' })),
  ];
  const webhookHooks: StagedHook[] = Array.from({ length: opts.webhooks }, (_, i): StagedHook => (i < opts.webhooks - postWebhooks
    ? { name: `webhook-${i}`, stage: 'deploy', failurePolicy: 'Fail' }
    : { name: `post-webhook-${i}`, stage: 'post', failurePolicy: 'Ignore' }));
  const webhookNames = webhookHooks.map((h) => h.name);
  /** Whether any hook is of another stage than deploy. */
  const staged = preHooks.length + (opts.postHooks ?? 0) + postWebhooks > 0;
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

  /**
   * Which pre hooks fail when the Secret's current certificate fires `event`, by the seed: listed
   * for them before the write that fires it. Every version is listed, a burst's intermediate ones too.
   */
  function decidePreFailures(secret: string, event: string): void {
    const fingerprint = current.get(secret)!;
    const failing = preHooks.filter((h) => unit(opts.seed, h.name, versions.get(fingerprint)!, event, 'pre-fails') < (opts.preFailureRate ?? 0)).map((h) => h.name);
    if (!failing.length) return;
    failingPre.set(groupKey(secret, fingerprint, event), failing);
    appendFileSync(preFailuresFile, failing.map((h) => `${h} ${fingerprint} ${event}\n`).join(''));
  }

  /**
   * The Secret's current certificate fires `event` once for every hook: every deploy hook's firing
   * is Skipped instead when a Fail pre hook of the group was made to fail; post hooks are told so.
   */
  function expect(secret: string, event: string): void {
    const fingerprint = current.get(secret)!;
    const group = groupKey(secret, fingerprint, event);
    const failing = failingPre.get(group) ?? [];
    const stopped = preHooks.some((h) => h.failurePolicy === 'Fail' && failing.includes(h.name));
    for (const [hooks, into] of [[jobHooks, expected], [webhookHooks, expectedWebhooks]] as const) {
      for (const hook of hooks) (hook.stage === 'deploy' && stopped ? skipped : into).add(key(hook.name, secret, fingerprint, event));
    }
    outcomes.set(group, failing.length ? { result: 'failed', failedHooks: failing } : { result: 'succeeded', failedHooks: [] });
  }

  function startReplica(): void {
    const name = `replica-${replicaCount++}`;
    const child = spawn(process.execPath, [
      CLI, 'operator', '--kubeconfig', kubeconfig, '--namespace', NAMESPACE, '--leader-elect', '--leader-election-namespace', NAMESPACE,
      '--lease-duration', String(opts.leaseDurationSeconds), '--renew-deadline', String(opts.leaseDurationSeconds * 0.66), '--retry-period', String(opts.leaseDurationSeconds * 0.15),
      '--quiet-period', String(opts.quietPeriodSeconds), '--kube-api-qps', String(qps), '--kube-api-burst', String(2 * qps), '--health-port', '0', '--metrics-port', '0', '--log-level', process.env.CHAOS_DEBUG ? 'info' : 'warn',
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

  /** Every execution of a job hook, from the lines the hooks appended. */
  async function ledger(): Promise<Execution[]> {
    const lines = (await readFile(ledgerFile, 'utf8')).split('\n').filter((l) => l.trim());
    return lines.map((line) => {
      const execution = parseExecution(line);
      if (!execution) throw new Error(`a job hook wrote a line the harness cannot read: ${JSON.stringify(line)}`);
      return execution;
    });
  }

  /** How often each firing executed. */
  async function executions(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const { key } of await ledger()) counts.set(key, (counts.get(key) ?? 0) + 1);
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
    const createHook = (name: string, spec: Record<string, unknown>) =>
      api.create(api.type('certhook.io', 'deployhooks'), NAMESPACE, { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name }, spec: { historyLimit: 100, ...spec } });
    for (const hook of jobHooks) {
      createHook(hook.name, {
        // Deploy hooks leave the stage out: it is the default, as Fail is for pre hooks.
        ...(hook.stage === 'deploy' ? {} : { stage: hook.stage }),
        ...(hook.stage === 'pre' && hook.failurePolicy === 'Ignore' ? { failurePolicy: 'Ignore' } : {}),
        job: {
          command: jobCommand(hook.stage === 'pre' ? PRE_WORK : hook.stage === 'deploy' && staged ? DEPLOY_WORK : 'true'),
          env: [{ name: 'LEDGER', value: ledgerFile }, { name: 'PRE_FAILURES', value: preFailuresFile }],
        },
      });
    }
    if (webhookNames.length) api.create(secretsType, NAMESPACE, { metadata: { name: 'chaos-signing' }, data: { secret: b64(signingSecret) } });
    webhookHooks.forEach((hook, i) => {
      createHook(hook.name, {
        ...(hook.stage === 'post' ? { stage: 'post' } : {}),
        webhook: {
          url: `${receiver!.url}/${hook.name}`,
          // The most 5xx the receiver gives a firing is 2: retries are never exhausted.
          retries: 3,
          concurrency: [2, 4, 8][i % 3],
          signing: { secretRef: { name: 'chaos-signing', key: 'secret' } },
          // Every other hook sends a template rather than the standard payload; named as the standard
          // payload names them, a post hook's result and failed hooks ('' and [] for the others).
          ...(i % 2 ? { body: { hook: '{{ .HookName }}', secret: '{{ .SecretName }}', fingerprint: '{{ .Fingerprint }}', event: '{{ .Event }}', run: '{{ .RunName }}', result: '{{ .Result }}', failed_hooks: '{{ .FailedHooks }}' } } : {}),
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
      const data = newCertificate(secret);
      decidePreFailures(secret, 'created');
      api.create(secretsType, NAMESPACE, { metadata: { name: secret }, type: 'kubernetes.io/tls', data });
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
          const data = newCertificate(secret);
          decidePreFailures(secret, 'renewed');
          api.update(secretsType, NAMESPACE, secret, { ...obj, data });
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
      decidePreFailures(secret, 'revoked');
      api.delete(secretsType, NAMESPACE, secret);
      expect(secret, 'revoked');
      await tick();
    }
    await Promise.all(deferredKills);
    await settle('revoked');
    await delay(2000);

    if (process.env.CHAOS_DEBUG) console.error('requests', JSON.stringify(sandbox.faults.counters.requests));
    const executed = await ledger();
    const counts = await executions();
    // Every side effect, the job hooks' and the webhook hooks', for the stage checks.
    const effects: SideEffect[] = [...executed];
    for (const [firing, t] of receiver?.timelines() ?? []) {
      const [hook, secret, fingerprint, event] = firing.split(' ');
      effects.push({ hook: hook!, group: groupKey(secret!, fingerprint!, event!), start: t.firstPostAt, end: t.answeredAt, ok: t.delivered, result: t.result, failedHooks: t.failedHooks });
    }
    const describeGroup = (group: string) => {
      const [secret, fingerprint, event] = group.split(' ');
      return `${secret} ${event} of certificate ${versions.get(fingerprint!) ?? '?'} (${fingerprint})`;
    };
    const stageCheck = checkStages([...jobHooks, ...webhookHooks], effects, outcomes, describeGroup);
    const missingKeys = [...expected].filter((k) => !counts.has(k));
    const duplicatedKeys = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
    const extraKeys = [...counts.keys()].filter((k) => !expected.has(k));
    return {
      expected: expected.size,
      executed: expected.size - missingKeys.length,
      missing: missingKeys.length,
      duplicated: [...counts.values()].reduce((sum, n) => sum + n - 1, 0),
      extra: extraKeys.length,
      extraKeys,
      kills,
      faults,
      seconds: Math.round((Date.now() - started) / 1000),
      missingKeys,
      duplicatedKeys,
      ...(receiver ? { webhooks: receiver.tally(expectedWebhooks) } : {}),
      stages: { ...stageCheck, expectedGroups: outcomes.size, failedGroups: [...outcomes.values()].filter((o) => o.result === 'failed').length, skipped: skipped.size },
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

/** One line: the job hooks' result, the webhook hooks' (counted by webhook-id), the stages', then the run's shape. */
export function formatReport(r: ChaosReport, opts: ChaosOptions): string {
  const w = r.webhooks;
  const webhooks = w
    ? `webhooks: expected ${w.expected}, delivered ${w.delivered}, missing ${w.missing}, duplicated ${w.duplicated}, resent ${w.resent} `
      + `(by webhook-id; extra ${w.extra}, ${w.failed} attempts answered 5xx, ${w.posts} POSTs${w.bad ? `, BAD ${w.bad}` : ''})`
    : 'webhooks: off';
  const s = r.stages;
  const postWebhooks = Math.min(opts.postWebhooks ?? 0, opts.webhooks);
  const staged = (opts.preHooks ?? 0) + (opts.postHooks ?? 0) + postWebhooks > 0;
  const stages = !staged ? 'stages: off' : `stages: order violations ${s.violations}, post results wrong ${s.wrongResults} of ${s.resultsChecked} `
    + `(${s.groups} groups, ${s.failedGroups} with a failed pre hook, ${s.skipped} deploy firings skipped; `
    + `closest gaps: pre→deploy ${s.closest.deploy ?? '-'} ms, pre/deploy→post ${s.closest.post ?? '-'} ms)`;
  return `jobs: expected ${r.expected}, executed ${r.executed}, missing ${r.missing}, duplicated ${r.duplicated} (extra ${r.extra}); ${webhooks}; ${stages}; `
    + `${opts.secrets} Secrets, ${opts.hooks} job hooks${staged ? ` + ${opts.preHooks ?? 0} pre + ${opts.postHooks ?? 0} post` : ''}, `
    + `${opts.webhooks} webhook hooks${staged ? ` (${postWebhooks} post)` : ''}${opts.preHooks ? `, ${opts.preFailureRate ?? 0} pre failures` : ''}, `
    + `${opts.renewals} renewals, ${r.kills} kills, ${r.faults} faults, seed ${opts.seed}, ${r.seconds} s`;
}

/** Whether the run found a firing missing or duplicated, a malformed webhook request, a side effect out of order or a post hook told the wrong result. */
export function failed(r: ChaosReport): boolean {
  return !!(r.missing || r.duplicated || r.webhooks?.missing || r.webhooks?.duplicated || r.webhooks?.bad || r.stages.violations || r.stages.wrongResults);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      secrets: { type: 'string', default: '200' },
      hooks: { type: 'string', default: '3' },
      webhooks: { type: 'string', default: '3' },
      'webhook-failures': { type: 'string', default: '0.1' },
      'pre-hooks': { type: 'string', default: '1' },
      'post-hooks': { type: 'string', default: '1' },
      'post-webhooks': { type: 'string', default: '1' },
      'pre-failures': { type: 'string', default: '0.05' },
      'no-stages': { type: 'boolean', default: false },
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
    preHooks: values['no-stages'] ? 0 : Number(values['pre-hooks']),
    postHooks: values['no-stages'] ? 0 : Number(values['post-hooks']),
    postWebhooks: values['no-stages'] ? 0 : Number(values['post-webhooks']),
    preFailureRate: Number(values['pre-failures']),
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
  if (report.missing || report.duplicated || report.extra) {
    console.error(`jobs missing: ${report.missingKeys.slice(0, 20).join('; ')}\njobs duplicated: ${report.duplicatedKeys.slice(0, 20).join('; ')}\njobs extra: ${report.extraKeys.slice(0, 20).join('; ')}`);
  }
  const w = report.webhooks;
  if (w?.missing || w?.duplicated || w?.bad) {
    console.error(`webhooks missing: ${w.missingKeys.slice(0, 20).join('; ')}\nwebhooks duplicated: ${w.duplicatedKeys.slice(0, 20).join('; ')}\nbad requests: ${w.badReasons.join('; ')}`);
  }
  const s = report.stages;
  if (s.violations || s.wrongResults) {
    console.error(`order violations: ${s.violationDetails.join('\n  ')}\npost results wrong: ${s.wrongResultDetails.join('\n  ')}`);
  }
  if (values.verbose) console.error(`closest gaps: ${Object.values(s.closestDetails).join('; ') || 'none'}`);
  // Not failures, but worth seeing which firings the operator sent again.
  if (w?.resent && values.verbose) console.error(`webhooks resent: ${w.resentKeys.slice(0, 20).join('; ')}`);
  if (failed(report)) process.exitCode = 1;
}
