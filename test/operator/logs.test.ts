// What the operator logs: one line per thing that happened, and nothing at info from a replica
// that only stands by.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, issue, listRuns, RUNS } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

const env = useSandboxForOperators('l');

const QUIET = new Set(['debug', 'trace']);

describe('logs', () => {
  test('a manual run of a hook that does not exist is logged as finished once', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns });
    await createTlsSecret(env.core, ns, 'a-tls', issue('a.example.com'));
    await env.custom.createNamespacedCustomObject({ ...RUNS, namespace: ns, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'try-it' }, spec: { hookRef: { name: 'missing' }, secretRef: { name: 'a-tls' }, event: 'manual', triggeredBy: 'alice' } } });
    await eventually(async () => {
      const [run] = await listRuns(env.custom, ns);
      assert.equal(run?.status?.reason, 'HookNotFound');
    });
    // The run's later watch events (its annotation, its status) have come and gone.
    await eventually(() => assert.equal(op.operator.context.caches.runs.cache.get(`${ns}/try-it`)?.status?.phase, 'Failed'));
    await op.operator.idle();
    const finished = op.logs.filter((l) => l.msg === 'run finished' && l.run === 'try-it');
    assert.equal(finished.length, 1, JSON.stringify(finished));
  });

  test('a replica that stands by logs nothing at info after it has started', async (t) => {
    const ns = await env.namespace();
    const standby = await env.operatorFor(t, { namespace: ns, activateOnSync: false, isLeader: () => false });
    const startedWith = standby.logs.length;
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'b-tls', issue('b.example.com'));
    await eventually(() => assert.equal(standby.operator.context.caches.secrets.cache.size, 1));
    await standby.operator.idle();
    const chatter = standby.logs.slice(startedWith).filter((l) => !QUIET.has(l.level as string));
    assert.deepEqual(chatter.map((l) => l.msg), []);
    assert.equal((await listRuns(env.custom, ns)).length, 0, 'a standby plans nothing');
  });
});
