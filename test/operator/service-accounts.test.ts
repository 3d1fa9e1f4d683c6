// --allowed-service-accounts through the sandbox: a hook naming another ServiceAccount is
// Ready=False and runs nothing, not even by hand; one the policy allows fires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, HOOKS, issue, RUNS } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

const env = useSandboxForOperators('sa');

test('only the ServiceAccounts the operator allows run hooks', async (t) => {
  const ns = await env.namespace();
  await env.operatorFor(t, { namespace: ns, allowedServiceAccounts: ['hook-runner'] });
  for (const name of ['hook-runner', 'admin']) await env.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
  await createHook(env.custom, ns, 'allowed', { job: { command: 'true', serviceAccountName: 'hook-runner' } });
  await createHook(env.custom, ns, 'powerful', { job: { command: 'true', serviceAccountName: 'admin' } });
  await eventually(async () => {
    const hook = await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'powerful' }) as { status?: { conditions?: { type: string; status: string; message: string }[] } };
    const ready = hook.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready!.message, /spec\.job\.serviceAccountName: "admin" is not among the ServiceAccounts this operator lets hooks run as \(--allowed-service-accounts hook-runner\)/);
  });
  await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
  const [run] = await finishedRuns(env.custom, ns, 1);
  assert.equal(run!.spec.hookRef.name, 'allowed');
  assert.equal(run!.status?.phase, 'Succeeded');

  // Not by hand either.
  await env.custom.createNamespacedCustomObject({ ...RUNS, namespace: ns, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'by-hand' }, spec: { hookRef: { name: 'powerful' }, secretRef: { name: 'site' }, event: 'manual', triggeredBy: 'mallory' } } });
  const runs = await finishedRuns(env.custom, ns, 2);
  const byHand = runs.find((r) => r.metadata.name === 'by-hand')!;
  assert.equal(byHand.status?.phase, 'Failed');
  assert.equal(byHand.status?.reason, 'HookInvalid');
  assert.equal(byHand.status?.job, undefined, 'no Job was made');
});
