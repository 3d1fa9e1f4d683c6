// The scale bench's counts at 2,000 TLS Secrets (seconds to run): a mass renewal costs at most
// four API writes per firing (and a few per hook for its status), and a renewal of one Secret
// touches that Secret's runs only. Counts, never times: the times are the bench's (npm run bench).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { WatchEvent } from '../../src/sandbox/api.ts';
import {
  CertificatePool, countAdded, createHooks, createSecrets, namespaceOf, renewInProcess, requestCounts, secretName, startCluster, watchFromNow, writesBetween, writesSettle,
  type BenchCluster,
} from '../../bench/scale/cluster.ts';
import { acceptedOperatorArgs, freePort, startOperatorProcess, stopAllChildren, type RunningOperator } from '../../bench/scale/processes.ts';

const layout = { secrets: 2000, namespaces: 4, hooksPerNamespace: 1 };
const firings = layout.secrets * layout.hooksPerNamespace;

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(25);
  }
}

async function settle(cluster: BenchCluster): Promise<void> {
  assert.ok(await writesSettle(cluster, 1500, 60_000), 'the operator kept writing for a minute');
}

describe(`scale counts, ${layout.secrets} TLS Secrets`, () => {
  let cluster: BenchCluster;
  let pool: CertificatePool;
  let op: RunningOperator | undefined;
  let burstWrites: { total: number; byKey: Record<string, number> };

  before(async () => {
    cluster = await startCluster(layout, 100_000);
    pool = new CertificatePool(16);
    await createSecrets(cluster, pool);
    await createHooks(cluster);
    // No client-side rate limit where the CLI has one: the counts, not the pacing, are tested.
    const { accepted } = await acceptedOperatorArgs(['--kube-api-qps', '100000', '--kube-api-burst', '100000']);
    op = await startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, extraArgs: accepted }, await freePort(), 60_000);
    await settle(cluster); // what starting up writes (the hooks' status) is not the burst's

    const jobs = countAdded(cluster, 'batch', 'jobs');
    const counted = requestCounts(cluster);
    try {
      await renewInProcess(cluster, pool, Array.from({ length: layout.secrets }, (_, i) => i));
      await until(`${firings} Jobs`, () => jobs.count >= firings, 120_000);
      await settle(cluster);
    } finally {
      jobs.stop();
    }
    burstWrites = writesBetween(counted, requestCounts(cluster));
  });

  after(async () => {
    await op?.child.stop('SIGTERM', 10_000);
    await stopAllChildren();
    await cluster?.close();
  });

  it('a mass renewal costs at most 4 API writes per firing, and a few status writes per hook', () => {
    const HOOK_STATUS = 'patch deployhooks/status';
    const hookStatusWrites = burstWrites.byKey[HOOK_STATUS] ?? 0;
    const perFiring = (burstWrites.total - hookStatusWrites) / firings;
    const byKey = Object.entries(burstWrites.byKey).map(([k, n]) => `${k} ${(n / firings).toFixed(3)}`).join(', ');
    // The run, its snapshot, its Job, and the run's status once: Running.
    assert.ok(perFiring <= 4, `${perFiring.toFixed(3)} API writes per firing (${burstWrites.total} for ${firings} firings: ${byKey})`);
    // A hook's status is written once its runs are quiet (or every 10 s while they are not), not per run.
    const hooks = layout.namespaces * layout.hooksPerNamespace;
    assert.ok(hookStatusWrites <= 2 * hooks, `${hookStatusWrites} hook status writes for ${hooks} hooks`);
  });

  it('a renewal of one Secret touches only its own runs', async () => {
    const i = 7;
    const namespace = namespaceOf(i, layout);
    const events: WatchEvent[] = [];
    const stop = watchFromNow(cluster, 'certhook.io', 'deployhookruns', (e) => events.push(e));
    const jobs = countAdded(cluster, 'batch', 'jobs');
    try {
      await renewInProcess(cluster, pool, [i]);
      await until('the renewal\'s Job', () => jobs.count >= layout.hooksPerNamespace, 30_000);
      await settle(cluster);
    } finally {
      stop();
      jobs.stop();
    }
    assert.ok(events.some((e) => e.type === 'ADDED'), 'no run was created for the renewal');
    const others = events.filter((e) => e.object.metadata.namespace !== namespace
      || (e.object.spec as { secretRef?: { name?: string } } | undefined)?.secretRef?.name !== secretName(i));
    assert.deepEqual(others.map((e) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`), [], `run events for other Secrets than ${namespace}/${secretName(i)}`);
    assert.equal(jobs.count, layout.hooksPerNamespace, `Jobs created: ${[...jobs.names].join(', ')}`);
  });
});
