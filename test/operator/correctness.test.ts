// Correctness gaps, each a test that fails without its fix: leadership that lapsed, a manual run
// that races its hook, and a Job that is gone before its outcome was read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, issue, listRuns, RUNS } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

const env = useSandboxForOperators('c', { workloads: false });

describe('leadership', () => {
  test('a replica whose elector no longer holds the lease starts no Job, though it was told to act; it does once it leads again', async (t) => {
    const ns = await env.namespace();
    let leading = true;
    const op = await env.operatorFor(t, { namespace: ns, isLeader: () => leading });
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await eventually(() => assert.equal(op.operator.context.caches.hooks.cache.size, 1));
    // The lease lapsed (a renew deadline passed) before the elector told the operator so.
    leading = false;
    await createTlsSecret(env.core, ns, 'a-tls', issue('a.example.com'));
    await eventually(() => assert.ok(op.logs.some((l) => l.msg === 'not leading now: the run starts once this replica leads again')));
    const jobs = () => env.sandbox.api.list(env.sandbox.api.type('batch', 'jobs'), ns).items;
    assert.equal(jobs().length, 0);
    // Leading again (the lease was renewed after all): the run starts, without any new event.
    leading = true;
    await eventually(() => assert.equal(jobs().length, 1));
  });
});

describe('the cache is not the truth for "does not exist"', () => {
  test('a manual run whose hook the cache has not shown yet runs, rather than failing HookNotFound', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns });
    await createTlsSecret(env.core, ns, 'a-tls', issue('a.example.com'));
    await eventually(() => assert.equal(op.operator.context.caches.secrets.cache.size, 1));
    // The hooks watch comes back late: the hook exists in the API before the operator's cache.
    t.after(() => env.sandbox.faults.reset());
    env.sandbox.faults.delayNext('watch', 'deployhooks', 1, 3000);
    env.sandbox.faults.dropWatches();
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await env.custom.createNamespacedCustomObject({ ...RUNS, namespace: ns, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'try-it' }, spec: { hookRef: { name: 'h' }, secretRef: { name: 'a-tls' }, event: 'manual', triggeredBy: 'alice' } } });
    const run = await eventually(async () => {
      const [r] = await listRuns(env.custom, ns);
      assert.ok(r?.status?.phase, 'the run has a phase');
      return r!;
    }, 10_000);
    assert.equal(op.operator.context.caches.hooks.cache.size, 0, 'the hook was not in the cache when the run started');
    assert.equal(run.status?.phase, 'Running', `${run.status?.reason}: ${run.status?.message}`);
    assert.equal(run.status?.job?.name, 'try-it');
  });
});

describe('a hook the cache shows late', () => {
  test('a Secret created after the hook, seen before the hook reached the cache, still fires created', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns });
    t.after(() => env.sandbox.faults.reset());
    env.sandbox.faults.delayNext('watch', 'deployhooks', 1, 2000);
    env.sandbox.faults.dropWatches();
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'a-tls', issue('a.example.com'));
    await eventually(() => assert.equal(op.operator.context.caches.secrets.cache.size, 1));
    assert.equal(op.operator.context.caches.hooks.cache.size, 0, 'the Secret was seen before the hook');
    const [run] = await eventually(async () => {
      const runs = await listRuns(env.custom, ns);
      assert.equal(runs.length, 1);
      return runs;
    });
    assert.equal(run!.spec.event, 'created');
  });
});

describe('a Job gone before its outcome was read', () => {
  test('is recorded as Unknown/JobNotFound, not as a failure of the hook', async (t) => {
    const ns = await env.namespace();
    const first = await env.operatorFor(t, { namespace: ns });
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await eventually(() => assert.equal(first.operator.context.caches.hooks.cache.size, 1));
    await createTlsSecret(env.core, ns, 'a-tls', issue('a.example.com'));
    const [started] = await eventually(async () => {
      const runs = await listRuns(env.custom, ns);
      assert.equal(runs[0]?.status?.phase, 'Running');
      return runs;
    });
    await first.stop();
    // While no operator runs, the finished Job's TTL deletes it.
    env.sandbox.api.delete(env.sandbox.api.type('batch', 'jobs'), ns, started!.status!.job!.name);
    await env.operatorFor(t, { namespace: ns });
    const [run] = await eventually(async () => {
      const runs = await listRuns(env.custom, ns);
      assert.equal(runs[0]?.status?.phase, 'Unknown');
      return runs;
    });
    assert.equal(run!.status?.reason, 'JobNotFound');
    assert.match(run!.status?.message ?? '', /not known/);
  });
});
