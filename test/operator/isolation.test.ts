// Tenant isolation between namespaces, each rule a test that fails without it: a DeployHook fires
// only for its namespace's Secrets, its Job runs there, a run made by hand reaches nothing of
// another namespace, and a run's snapshot holds the four files only, immutable, gone with its run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { createClusterHook, createHook, createTlsSecret, finishedRuns, issue, listRuns, RUNS } from '../support/fixtures.ts';
import { TEST_CLUSTER_HOOK_NAMESPACE } from '../support/operator.ts';
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

  test('one snapshot per certificate of a Secret, in each namespace runs live in, owned by every run that uses it and gone with the last', async () => {
    const ns = await env.namespace();
    await env.sandbox.kubectl(['label', 'namespace', ns, 'shared-snapshot=yes']);
    await createHook(env.custom, ns, 'one', { job: { command: 'true' } });
    await createHook(env.custom, ns, 'two', { job: { command: 'true' } });
    await createClusterHook(env.custom, 'shared-snapshot', { namespaceSelector: { matchLabels: { 'shared-snapshot': 'yes' } }, job: { command: 'true' } });
    const requests = { ...env.sandbox.faults.counters.requests };
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const runs = await finishedRuns(env.custom, ns, 2);
    const clusterRun = await eventually(async () => {
      const found = (await listRuns(env.custom, TEST_CLUSTER_HOOK_NAMESPACE)).find((r) => r.spec.hookRef.name === 'shared-snapshot' && r.status?.phase === 'Succeeded');
      assert.ok(found);
      return found;
    });
    // The TLS Secret and two snapshots created; the second hook's run joined with one patch, no read.
    const made = (request: string) => (env.sandbox.faults.counters.requests[request] ?? 0) - (requests[request] ?? 0);
    assert.deepEqual([made('create secrets'), made('patch secrets'), made('get secrets')], [3, 1, 0]);
    const snapshots = async (namespace: string) => (await env.core.listNamespacedSecret({ namespace, labelSelector: 'certhook.io/secret=site' })).items;
    const [shared, ...more] = await snapshots(ns);
    assert.equal(more.length, 0, 'one snapshot for the two hooks in the tenant\'s namespace');
    assert.deepEqual(runs.map((r) => r.status?.snapshotSecretName), [shared!.metadata!.name, shared!.metadata!.name]);
    assert.deepEqual(shared!.metadata!.ownerReferences!.map((o) => o.name).sort(), runs.map((r) => r.metadata.name).sort());
    assert.equal(shared!.immutable, true);
    // The cluster hook's run has its own, where it lives: a tenant cannot read it.
    const [theirs] = (await snapshots(TEST_CLUSTER_HOOK_NAMESPACE)).filter((s) => s.metadata?.labels?.['certhook.io/secret-namespace'] === ns);
    assert.equal(clusterRun.status?.snapshotSecretName, theirs!.metadata!.name);
    // The revokes take the same snapshot: the files their certificate had.
    await env.core.deleteNamespacedSecret({ namespace: ns, name: 'site' });
    const all = await finishedRuns(env.custom, ns, 4);
    assert.deepEqual(new Set(all.map((r) => r.status?.snapshotSecretName)), new Set([shared!.metadata!.name]));
    const owners = async () => (await env.core.readNamespacedSecret({ namespace: ns, name: shared!.metadata!.name! })).metadata!.ownerReferences!.map((o) => o.name).sort();
    assert.deepEqual(await owners(), all.map((r) => r.metadata.name).sort());
    // It stays while any of its runs does.
    for (const run of all.slice(0, 3)) await env.custom.deleteNamespacedCustomObject({ ...RUNS, namespace: ns, name: run.metadata.name! });
    await eventually(async () => assert.deepEqual(await owners(), [all[3]!.metadata.name]));
    await env.custom.deleteNamespacedCustomObject({ ...RUNS, namespace: ns, name: all[3]!.metadata.name! });
    await eventually(async () => assert.deepEqual(await snapshots(ns), []));
  });
});
