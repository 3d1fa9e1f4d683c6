// The bench's measurements, each with its baseline taken under the same conditions: footprints
// on an empty cluster, cold start, reaction latency, raw write rate, the mass renewal, restart.
import { setTimeout as delay } from 'node:timers/promises';
import {
  countAdded, currentRevision, hookName, namespaceOf, renewalPatch, renewInProcess, requestCounts, requestsBetween, secretName, writesBetween, writesSettle,
  type BenchCluster, type CertificatePool,
} from './cluster.ts';
import { Arrivals, type RawClient } from './http.ts';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { checkHook } from '../../src/controller/hook-validity.ts';
import { firingOf, planRun } from '../../src/controller/plan.ts';
import { toTlsSecret } from '../../src/controller/tls-secret.ts';
import type { KubeObject } from '../../src/kube/object.ts';
import { collectionPath, RESOURCES } from '../../src/kube/paths.ts';
import {
  cpuSeconds, freePort, rssBytes, rssPeak, script, startChild, startHealthProber, startOperatorProcess, timeToExit,
  type OperatorSettings, type ProbeResult, type RunningOperator,
} from './processes.ts';

export interface Bench {
  cluster: BenchCluster;
  pool: CertificatePool;
  raw: RawClient;
  settings: OperatorSettings;
  /** Firings a renewal of every Secret makes: Secrets × hooks per namespace. */
  firings: number;
  log(line: string): void;
}

/** How long a process is left after its cache is filled before its RSS is read. */
const SETTLE_MS = 2000;

/** Generous bounds that grow with the number of Secrets. */
export const readyTimeoutMs = (secrets: number) => 60_000 + secrets * 10;
export const burstTimeoutMs = (secrets: number) => Math.max(120_000, secrets * 100);

/** The naive informer's RSS once its cache holds `expected` Secrets. */
export async function naiveFootprint(b: Bench, expected: number): Promise<number> {
  const child = startChild('naive informer', [script('naive-informer.ts'), b.settings.kubeconfigPath, String(expected)]);
  try {
    await child.line((l) => l.startsWith('synced'), readyTimeoutMs(expected));
    await delay(SETTLE_MS);
    return await rssBytes(child.pid);
  } finally {
    await child.stop('SIGTERM', 5000);
  }
}

/** The operator's RSS once ready on a cluster with no Secrets yet, and how long it took to get ready. */
export async function operatorEmptyFootprint(b: Bench): Promise<{ rss: number; readyMs: number }> {
  const op = await startOperatorProcess(b.settings, await freePort(), readyTimeoutMs(0), 'operator (empty cluster)');
  try {
    await delay(SETTLE_MS);
    return { rss: await rssBytes(op.child.pid), readyMs: op.readyAt - op.child.spawnedAt };
  } finally {
    await op.child.stop('SIGTERM', 10_000);
  }
}

/** Spawn → exit of the raw lister; checks it saw every Secret (`secrets`, by default all of them). */
export async function rawListMs(b: Bench, secrets = b.cluster.layout.secrets): Promise<number> {
  const { ms, output } = await timeToExit('raw lister', [script('raw-lister.ts'), b.cluster.sandbox.url], readyTimeoutMs(b.cluster.layout.secrets));
  const counts = JSON.parse(output.find((l) => l.startsWith('{')) ?? '{}') as { secrets?: number };
  if (counts.secrets !== secrets) throw new Error(`raw lister saw ${counts.secrets} TLS Secrets, expected ${secrets}`);
  return ms;
}

export interface StartFigures {
  /** Spawn → /readyz 200, ms. */
  readyMs: number;
  /** /healthz while it started and for a moment after. */
  probe: ProbeResult;
}

/**
 * Starts the operator with a /healthz prober beside it from before the spawn; returns it running
 * once ready, after `afterReadyMs` more of probing (what it does right after becoming ready).
 */
export async function startProbed(b: Bench, name: string, afterReadyMs: number): Promise<{ op: RunningOperator; figures: StartFigures }> {
  const port = await freePort();
  const prober = startHealthProber(port);
  await delay(500); // the prober's own start-up, off the operator's clock
  let op: RunningOperator;
  try {
    op = await startOperatorProcess(b.settings, port, readyTimeoutMs(b.cluster.layout.secrets), name);
  } catch (err) {
    await prober.stop().catch(() => undefined);
    throw err;
  }
  await delay(afterReadyMs);
  return { op, figures: { readyMs: op.readyAt - op.child.spawnedAt, probe: await prober.stop() } };
}

export interface ColdStart {
  operatorMs: number[];
  rawMs: number[];
  /** The worst /healthz wait over every start. */
  probe: ProbeResult;
  op: RunningOperator;
}

/** `repeats` cold starts of the operator, each after a raw-lister run; the last one keeps running. */
export async function coldStarts(b: Bench, repeats: number): Promise<ColdStart> {
  const operatorMs: number[] = [];
  const rawMs: number[] = [];
  let worst: ProbeResult | undefined;
  for (let r = 0; r < repeats; r++) {
    rawMs.push(await rawListMs(b));
    const { op, figures } = await startProbed(b, `operator (cold start ${r + 1})`, 1000);
    operatorMs.push(figures.readyMs);
    if (!worst || figures.probe.maxMs > worst.maxMs) worst = figures.probe;
    b.log(`cold start ${r + 1}/${repeats}: operator ${figures.readyMs.toFixed(0)} ms, raw list ${rawMs.at(-1)!.toFixed(0)} ms, longest /healthz ${figures.probe.maxMs.toFixed(0)} ms`);
    if (r === repeats - 1) return { operatorMs, rawMs, probe: worst, op };
    await op.child.stop('SIGTERM', 10_000);
  }
  throw new Error('no cold start');
}

export interface Latency {
  /** Write returned → the run's ADDED event on the bench's watch, per sample. */
  reactionMs: number[];
  /** Write returned → the Secret's MODIFIED event on the bench's watch (may be < 0: the event can beat the answer). */
  deliveryMs: number[];
  /** One raw create of the run the operator plans for it, dry run, per sample. */
  createMs: number[];
}

/**
 * Renews one Secret at a time over HTTP with the operator idle, and times its run appearing on a
 * watch of DeployHookRuns; beside it, the same write's delivery on a watch of Secrets and one
 * raw create of the same DeployHookRun the operator creates for it (built by the operator's code),
 * with dryRun=All: the API server validates and admits it as it does the operator's, and stores
 * nothing, so the operator never sees it.
 */
export async function reactionLatency(b: Bench, samples: number): Promise<Latency> {
  const { cluster, raw, pool } = b;
  const runs = new Arrivals();
  const secrets = new Arrivals();
  const from = currentRevision(cluster);
  const runWatch = raw.watch('/apis/certhook.io/v1alpha1/deployhookruns', from, (e) => {
    const secret = (e.object.spec as { secretRef?: { name?: string } } | undefined)?.secretRef?.name;
    if (e.type === 'ADDED' && secret) runs.note(`${e.object.metadata.namespace}/${secret}`, e.at);
  });
  const secretWatch = raw.watch('/api/v1/secrets', from, (e) => {
    if (e.type === 'MODIFIED' && e.object.metadata.resourceVersion) secrets.note(e.object.metadata.resourceVersion, e.at);
  }, `fieldSelector=${encodeURIComponent('type=kubernetes.io/tls')}`);
  const result: Latency = { reactionMs: [], deliveryMs: [], createMs: [] };
  try {
    await delay(300);
    const count = Math.min(samples, cluster.layout.secrets);
    for (let k = 0; k < count; k++) {
      const i = Math.floor((k * cluster.layout.secrets) / count);
      const namespace = namespaceOf(i, cluster.layout);
      result.createMs.push(await raw.createDryRun(collectionPath(RESOURCES.deployHookRuns, namespace), plannedRenewal(cluster, pool, i)));
      const written = await raw.patchSecret(namespace, secretName(i), renewalPatch(pool, i));
      const runAt = await runs.wait(`${namespace}/${secretName(i)}`, 15_000);
      const deliveredAt = await secrets.wait(written.resourceVersion, 5000);
      result.reactionMs.push(runAt - written.returnedAt);
      result.deliveryMs.push(deliveredAt - written.returnedAt);
      // Idle again before the next sample: the run started, the hook's delayed status written.
      if (!(await writesSettle(cluster, 700, 15_000))) throw new Error('the operator kept writing for 15 s after one renewal');
    }
  } finally {
    runWatch.stop();
    secretWatch.stop();
    await Promise.allSettled([runWatch.done, secretWatch.done]);
  }
  return result;
}

export interface Burst {
  /** Renewals written (in-process, as fast as the sandbox takes them), ms after the start. */
  writtenMs: number;
  /** Start → the last expected Job exists, ms. */
  doneMs: number;
  jobs: number;
  runs: number;
  /** Writes the operator made from the start until its writes settled. */
  operatorWrites: number;
  writesByKey: Record<string, number>;
  /** Every request (reads too) the operator made in that time. */
  operatorRequests: number;
  settled: boolean;
  probe: ProbeResult;
  peakRss: number;
  settledRss: number;
  complete: boolean;
  /** CPU seconds used from the start until the writes settled: the operator's, and the bench's (the API server's, mostly). */
  operatorCpuS: number;
  benchCpuS: number;
}

/** The run the operator plans for the next renewal of Secret i, as its planner builds it. */
function plannedRenewal(cluster: BenchCluster, pool: CertificatePool, i: number): DeployHookRun {
  const api = cluster.sandbox.api;
  const namespace = namespaceOf(i, cluster.layout);
  const hook = checkHook(api.get(api.type('certhook.io', 'deployhooks'), namespace, hookName(0)) as KubeObject);
  if (!hook.valid) throw new Error(`the bench's hook is invalid: ${hook.problems.join('; ')}`);
  const secret = api.get(api.type('', 'secrets'), namespace, secretName(i)) as KubeObject;
  const renewed = toTlsSecret({ ...secret, data: pool.peekNext(i).data });
  return planRun(firingOf(hook.hook, 'renewed', renewed), new Date().toISOString(), namespace);
}

/** Renews every Secret at once and waits until every firing's Job exists. */
export async function massRenewal(b: Bench, op: RunningOperator): Promise<Burst> {
  const { cluster } = b;
  const jobs = countAdded(cluster, 'batch', 'jobs');
  const runs = countAdded(cluster, 'certhook.io', 'deployhookruns');
  const prober = startHealthProber(op.port);
  await delay(500);
  const peak = rssPeak(op.child.pid);
  const before = requestCounts(cluster);
  const benchWritesBefore = b.raw.writes;
  const operatorCpu = await cpuSeconds(op.child.pid);
  const benchCpu = process.cpuUsage();
  const started = performance.now();
  try {
    const all = Array.from({ length: cluster.layout.secrets }, (_, i) => i);
    await renewInProcess(cluster, b.pool, all);
    const writtenMs = performance.now() - started;
    b.log(`burst: ${all.length} renewals written in ${writtenMs.toFixed(0)} ms; waiting for ${b.firings} Jobs`);
    const deadline = started + burstTimeoutMs(cluster.layout.secrets);
    let lastLog = performance.now();
    while (jobs.count < b.firings && performance.now() < deadline) {
      if (!op.child.running) throw new Error(`the operator exited during the burst${op.child.describeTail()}`);
      await delay(50);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        b.log(`burst: ${jobs.count}/${b.firings} Jobs, ${runs.count} runs after ${((lastLog - started) / 1000).toFixed(0)} s`);
      }
    }
    const doneMs = performance.now() - started;
    const complete = jobs.count >= b.firings;
    if (!complete) b.log(`burst: gave up after ${(doneMs / 1000).toFixed(0)} s with ${jobs.count}/${b.firings} Jobs`);
    const settled = await writesSettle(cluster, 2000, 120_000);
    const after = requestCounts(cluster);
    const benchWrites = b.raw.writes - benchWritesBefore;
    const writes = writesBetween(before, after);
    const probe = await prober.stop();
    peak.stop();
    const settledRss = await rssBytes(op.child.pid);
    const benchCpuUsed = process.cpuUsage(benchCpu);
    return {
      operatorCpuS: (await cpuSeconds(op.child.pid)) - operatorCpu,
      benchCpuS: (benchCpuUsed.user + benchCpuUsed.system) / 1e6,
      writtenMs,
      doneMs,
      jobs: jobs.count,
      runs: runs.count,
      operatorWrites: writes.total - benchWrites,
      writesByKey: writes.byKey,
      operatorRequests: requestsBetween(before, after) - benchWrites,
      settled,
      probe,
      peakRss: Math.max(peak.peak, settledRss),
      settledRss,
      complete,
    };
  } finally {
    peak.stop();
    jobs.stop();
    runs.stop();
  }
}

export interface Restart {
  readyMs: number;
  rawMs: number;
  probe: ProbeResult;
  /** DeployHookRuns created from the restart until `watchMs` after it was ready. */
  runsCreated: number;
  /** DeployHookRuns in place when it restarted. */
  runsInPlace: number;
  op: RunningOperator;
}

/** SIGTERMs the operator, starts it again with every run in place, and counts what it plans. */
export async function restart(b: Bench, op: RunningOperator, watchMs: number): Promise<Restart> {
  const rawMs = await rawListMs(b);
  await op.child.stop('SIGTERM', 30_000);
  const api = b.cluster.sandbox.api;
  const page = api.list(api.type('certhook.io', 'deployhookruns'), undefined, { limit: 1 });
  const runsInPlace = page.items.length + (page.remainingItemCount ?? 0);
  const created = countAdded(b.cluster, 'certhook.io', 'deployhookruns');
  try {
    const { op: next, figures } = await startProbed(b, 'operator (restart)', watchMs);
    return { readyMs: figures.readyMs, rawMs, probe: figures.probe, runsCreated: created.count, runsInPlace, op: next };
  } finally {
    created.stop();
  }
}
