// API faults lose nothing and duplicate nothing: each fault really happens (the sandbox's
// counters say so) while certificates change, and every firing still happens exactly once.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { clients, startTestOperator } from '../support/operator.ts';
import { createHook, createTlsSecret, finishedRuns, issue, listRuns, renewTlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';

let sandbox: TestSandbox;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let namespaceCount = 0;

async function setup(t: TestContext, opts: Parameters<typeof startTestOperator>[1] = {}) {
  const ns = `f${++namespaceCount}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const op = await startTestOperator(sandbox, { namespace: ns, ...opts });
  t.after(() => op.stop());
  await createHook(custom, ns, 'h', { job: { command: 'echo ran' } });
  return { ns, op };
}

const fired = (runs: DeployHookRun[]) => runs.map((r) => `${r.spec.secretRef.name}/${r.spec.event}`).sort();

async function allSucceeded(ns: string, count: number) {
  const runs = await finishedRuns(custom, ns, count);
  assert.ok(runs.every((r) => r.status?.phase === 'Succeeded'), runs.map((r) => `${r.metadata.name}: ${r.status?.phase} ${r.status?.reason} ${r.status?.message}`).join('\n'));
  return runs;
}

before(async () => {
  sandbox = await testSandbox({ bookmarkIntervalMs: 200 });
  ({ core, custom } = clients(sandbox));
});

after(() => sandbox.close());

describe('failed writes are retried', () => {
  test('500s on creating runs, snapshots and Jobs', async (t) => {
    const { ns } = await setup(t);
    const before = { runs: sandbox.faults.injected('create', 'deployhookruns'), jobs: sandbox.faults.injected('create', 'jobs'), secrets: sandbox.faults.injected('create', 'secrets') };
    sandbox.faults.failNext('create', 'deployhookruns', 3, 500);
    sandbox.faults.failNext('create', 'jobs', 3, 503);
    await createTlsSecret(core, ns, 'a', issue('a.example.com'));
    await allSucceeded(ns, 1);
    sandbox.faults.failNext('create', 'secrets', 2, 500);
    await renewTlsSecret(core, ns, 'a', issue('a.example.com'));
    const runs = await allSucceeded(ns, 2);
    assert.deepEqual(fired(runs), ['a/created', 'a/renewed']);
    assert.equal(sandbox.faults.injected('create', 'deployhookruns') - before.runs, 3);
    assert.equal(sandbox.faults.injected('create', 'jobs') - before.jobs, 3);
    assert.equal(sandbox.faults.injected('create', 'secrets') - before.secrets, 2);
  });

  test('429 with Retry-After on status writes is honoured', async (t) => {
    const { ns, op } = await setup(t);
    sandbox.faults.failNext('patch', 'deployhookruns/status', 2, 429, 1);
    const started = Date.now();
    await createTlsSecret(core, ns, 'b', issue('b.example.com'));
    await allSucceeded(ns, 1);
    assert.equal(sandbox.faults.injected('patch', 'deployhookruns/status'), 2);
    assert.ok(Date.now() - started >= 1900, 'two Retry-After: 1 waits happened');
    assert.ok(op.logs.length > 0);
  });

  test('a request that times out is retried, and the late original changes nothing', async (t) => {
    const { ns } = await setup(t, { requestTimeoutMs: 500 });
    sandbox.faults.delayNext('create', 'jobs', 1, 1500);
    await createTlsSecret(core, ns, 'c', issue('c.example.com'));
    const runs = await allSucceeded(ns, 1);
    assert.equal(sandbox.faults.delayed('create', 'jobs'), 1);
    await new Promise((r) => setTimeout(r, 1200)); // the delayed original create lands now, as AlreadyExists
    const jobs = await sandbox.kubectl(['get', 'jobs', '-n', ns, '-o', 'name']);
    assert.deepEqual(jobs.stdout.trim().split('\n'), [`job.batch/${runs[0]!.metadata.name}`]);
  });

  test('a 409 on a status write is resolved by reading again', async (t) => {
    const { ns } = await setup(t);
    sandbox.faults.failNext('patch', 'deployhookruns/status', 2, 409);
    sandbox.faults.failNext('patch', 'deployhooks/status', 2, 409);
    await createTlsSecret(core, ns, 'd', issue('d.example.com'));
    await allSucceeded(ns, 1);
    assert.ok(sandbox.faults.injected('patch', 'deployhookruns/status') >= 2);
    await eventually(async () => {
      const hook = (await custom.getNamespacedCustomObject({ group: 'certhook.io', version: 'v1alpha1', plural: 'deployhooks', namespace: ns, name: 'h' })) as { status?: { totals?: { succeeded?: number } } };
      assert.equal(hook.status?.totals?.succeeded, 1);
    });
  });
});

describe('watches survive', () => {
  test('dropped streams', async (t) => {
    const { ns, op } = await setup(t);
    const dropsBefore = sandbox.faults.counters.watchesDropped;
    const secretWatches = () => op.operator.context.caches.secrets.stats.watches;
    const watchesBefore = secretWatches();
    await createTlsSecret(core, ns, 'e1', issue('e1.example.com'));
    assert.ok(sandbox.faults.dropWatches() >= 4);
    await createTlsSecret(core, ns, 'e2', issue('e2.example.com'));
    await eventually(() => assert.ok(secretWatches() > watchesBefore, 'the Secret watch was restarted'));
    await allSucceeded(ns, 2);
    sandbox.faults.dropWatches();
    await renewTlsSecret(core, ns, 'e1', issue('e1.example.com'));
    const runs = await allSucceeded(ns, 3);
    assert.deepEqual(fired(runs), ['e1/created', 'e1/renewed', 'e2/created']);
    assert.ok(sandbox.faults.counters.watchesDropped > dropsBefore);
  });

  test('410 Gone: the history expired while the watch was down; the re-list synthesises the missed delete', async (t) => {
    const { ns, op } = await setup(t);
    await createTlsSecret(core, ns, 'g1', issue('g1.example.com'));
    await createTlsSecret(core, ns, 'g2', issue('g2.example.com'));
    await allSucceeded(ns, 2);
    const goneBefore = op.operator.context.caches.secrets.stats.gone;
    // Changes the watch never sees as events: the history is expired before it reconnects.
    sandbox.faults.failNext('watch', 'secrets', 3, 500);
    sandbox.faults.dropWatches();
    await core.deleteNamespacedSecret({ name: 'g1', namespace: ns });
    await renewTlsSecret(core, ns, 'g2', issue('g2.example.com'));
    await createTlsSecret(core, ns, 'g3', issue('g3.example.com'));
    sandbox.expireHistory();
    const runs = await allSucceeded(ns, 5);
    assert.deepEqual(fired(runs), ['g1/created', 'g1/revoked', 'g2/created', 'g2/renewed', 'g3/created']);
    assert.ok(op.operator.context.caches.secrets.stats.gone > goneBefore, 'the watch got 410 and re-listed');
  });

  test('a silent, half-open stream is abandoned and restarted', async (t) => {
    const { ns, op } = await setup(t, { watchIdleTimeoutMs: 1000 });
    await op.operator.idle();
    const secrets = op.operator.context.caches.secrets;
    const idleBefore = secrets.stats.idleRestarts;
    const silenced = sandbox.faults.silenceWatches();
    assert.ok(silenced >= 4);
    await createTlsSecret(core, ns, 's1', issue('s1.example.com'));
    const runs = await allSucceeded(ns, 1);
    assert.deepEqual(fired(runs), ['s1/created']);
    assert.ok(secrets.stats.idleRestarts > idleBefore, 'the silent Secret watch was restarted');
    await op.operator.idle();
    assert.equal((await listRuns(custom, ns)).length, 1);
  });

  test('a standby whose watches went quiet re-lists before it takes over: nothing missed, nothing fired twice', async (t) => {
    const { ns, op: leader } = await setup(t);
    await leader.operator.idle();
    sandbox.faults.silenceNextWatches(4);
    const standby = await startTestOperator(sandbox, { namespace: ns, activateOnSync: false });
    t.after(() => standby.stop());
    await createTlsSecret(core, ns, 'q', issue('q.example.com'));
    await allSucceeded(ns, 1);
    await renewTlsSecret(core, ns, 'q', issue('q.example.com'));
    await allSucceeded(ns, 2);
    assert.equal(standby.operator.context.caches.secrets.cache.size, 0, 'the standby\'s silent watch missed the Secret');
    await leader.stop();
    await standby.operator.activate();
    assert.ok(standby.operator.active());
    await standby.operator.idle();
    assert.equal((await listRuns(custom, ns)).length, 2, 'what the old leader fired does not fire again');
    await renewTlsSecret(core, ns, 'q', issue('q.example.com'));
    const runs = await allSucceeded(ns, 3);
    assert.deepEqual(fired(runs), ['q/created', 'q/renewed', 'q/renewed']);
  });
});
