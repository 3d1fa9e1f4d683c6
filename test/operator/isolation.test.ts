// Tenant isolation between namespaces, each rule a test that fails without it: a DeployHook fires
// only for its namespace's Secrets, its Job runs there, a run made by hand reaches nothing of
// another namespace, and a run's snapshot holds the four files only, immutable, gone with its run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, issue, listRuns, RUNS } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

const env = useOperatorSandbox('tenant');

const manualRun = (namespace: string, name: string, hook: string, secret: string) =>
  env.custom.createNamespacedCustomObject({ ...RUNS, namespace, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name }, spec: { hookRef: { name: hook }, secretRef: { name: secret }, event: 'manual', triggeredBy: 'tenant' } } });

describe('isolation between namespaces', () => {
  test('a DeployHook fires only for its own namespace\'s Secrets, whatever its domains or selector, and its Job runs there', async () => {
    const [a, b] = [await env.namespace(), await env.namespace()];
    // Domains and a selector that the other namespace's Secret matches exactly.
    await createHook(env.custom, a, 'catch-all', { domains: ['shared.example.com'], secretSelector: { matchLabels: { team: 'b' } }, job: { command: 'true' } });
    await createTlsSecret(env.core, b, 'shared', issue('shared.example.com'), { team: 'b' });
    await createTlsSecret(env.core, a, 'own', issue('shared.example.com'), { team: 'b' });
    const [run] = await finishedRuns(env.custom, a, 1);
    assert.equal(run!.spec.secretRef.name, 'own');
    await env.op.operator.idle();
    assert.deepEqual(await listRuns(env.custom, b), [], 'nothing fired in the other namespace');
    const jobs = await env.sandbox.kubectl(['get', 'jobs', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}']);
    assert.deepEqual(jobs.stdout.trim().split('\n'), [`${a}/${run!.metadata.name}`]);
  });

  test('a run made by hand reaches neither a hook nor a Secret of another namespace', async () => {
    const [a, b] = [await env.namespace(), await env.namespace()];
    await createHook(env.custom, b, 'theirs', { job: { command: 'true' } });
    await createTlsSecret(env.core, b, 'their-tls', issue('theirs.example.com'));
    await createHook(env.custom, a, 'mine', { enabled: false, job: { command: 'true' } });
    await manualRun(a, 'their-hook', 'theirs', 'their-tls');
    await manualRun(a, 'their-secret', 'mine', 'their-tls');
    const runs = await finishedRuns(env.custom, a, 2);
    const outcome = (name: string) => runs.find((r) => r.metadata.name === name)!.status;
    assert.equal(outcome('their-hook')?.reason, 'HookNotFound');
    assert.equal(outcome('their-secret')?.reason, 'SecretNotFound');
    // Names only: another namespace cannot even be spelled.
    await assert.rejects(manualRun(a, 'spelled', `${b}/theirs`, 'their-tls'), /422|Invalid/);
  });

  test('a run\'s snapshot: in its namespace, the four files only, immutable, gone with its run', async () => {
    const ns = await env.namespace();
    await createHook(env.custom, ns, 'deploys', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    const snapshot = await env.core.readNamespacedSecret({ namespace: ns, name: run!.status!.snapshotSecretName! });
    assert.deepEqual(Object.keys(snapshot.data ?? {}).sort(), ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem']);
    assert.equal(snapshot.immutable, true);
    assert.equal(snapshot.type, 'Opaque', 'not a TLS Secret: no hook fires for it');
    assert.deepEqual(snapshot.metadata?.ownerReferences?.map((o) => [o.kind, o.name]), [['DeployHookRun', run!.metadata.name]]);
    await env.custom.deleteNamespacedCustomObject({ ...RUNS, namespace: ns, name: run!.metadata.name! });
    await eventually(async () => {
      const left = await env.core.listNamespacedSecret({ namespace: ns });
      assert.deepEqual(left.items.map((s) => s.metadata?.name), ['site']);
    });
  });
});
