// ClusterDeployHook end to end: one hook for the TLS Secrets of every namespace its
// namespaceSelector selects, its runs, Jobs and snapshots in the operator's namespace (out of the
// tenants' reach), its ServiceAccount and valueFrom references resolved there; namespaces
// relabelled in or out fire nothing by themselves; no collision with a DeployHook of its name.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { CLUSTER_HOOKS, createClusterHook, createHook, createTlsSecret, finishedRuns, issue, issueFrom, listRuns, renewTlsSecret, RUNS } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

const env = useSandboxForOperators('cdh');

/** The operator's namespace, two tenants its hook selects and a third it does not, for one test. */
async function tenancy(t: TestContext, label: string, allowedServiceAccounts?: (ops: string) => string[]) {
  const [ops, a, b, c] = [await env.namespace(), await env.namespace(), await env.namespace(), await env.namespace()];
  for (const [ns, selected] of [[a, 'yes'], [b, 'yes'], [c, 'no']] as const) await relabel(ns, label, selected);
  const op = await env.operatorFor(t, { clusterHookNamespace: ops, ...(allowedServiceAccounts ? { allowedServiceAccounts: allowedServiceAccounts(ops) } : {}) });
  return { ops, a, b, c, op };
}

const relabel = (ns: string, label: string, value: string) => env.sandbox.kubectl(['label', 'namespace', ns, `${label}=${value}`, '--overwrite']);

const clusterHook = async (name: string) => (await env.custom.getClusterCustomObject({ ...CLUSTER_HOOKS, name })) as {
  metadata: { uid: string };
  status?: { runNamespace?: string; namespaces?: string; totals?: Record<string, number>; history?: { name: string; secretNamespace?: string; secretName?: string }[]; conditions?: { type: string; status: string; message: string }[] };
};

const secretOf = (run: DeployHookRun) => `${run.spec.secretRef.namespace}/${run.spec.secretRef.name}`;

describe('ClusterDeployHook', () => {
  test('fires for two tenant namespaces and not a third outside its selector; runs, Jobs and snapshots live in the operator\'s namespace', async (t) => {
    const { ops, a, b, c, op } = await tenancy(t, 'audit-1');
    // Resolved in the operator's namespace: the tenants have no such Secret.
    await env.core.createNamespacedSecret({ namespace: ops, body: { metadata: { name: 'audit-token' }, stringData: { token: 'from-the-operator-namespace' } } });
    await createClusterHook(env.custom, 'audit-1', {
      namespaceSelector: { matchLabels: { 'audit-1': 'yes' } },
      job: {
        command: 'echo "$CERTMATE_SECRET_NAMESPACE/$CERTMATE_SECRET_NAME $CERTMATE_DOMAIN $TOKEN"; test -s "$CERTMATE_KEY_PATH"',
        env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'audit-token', key: 'token' } } }],
      },
    });
    await createTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await createTlsSecret(env.core, b, 'site', issue('b.example.com'));
    await createTlsSecret(env.core, c, 'site', issue('c.example.com'));
    const runs = await finishedRuns(env.custom, ops, 2);
    assert.deepEqual(runs.map(secretOf).sort(), [`${a}/site`, `${b}/site`]);
    for (const run of runs) {
      assert.deepEqual(run.spec.hookRef, { kind: 'ClusterDeployHook', name: 'audit-1' });
      assert.equal(run.spec.event, 'created');
      assert.equal(run.status?.phase, 'Succeeded', run.status?.message);
      assert.equal(run.status?.output?.trim(), `${secretOf(run)} ${run.spec.secretRef.namespace === a ? 'a' : 'b'}.example.com from-the-operator-namespace`);
      assert.equal(run.metadata.labels?.['certhook.io/secret-namespace'], run.spec.secretRef.namespace);
      assert.deepEqual(run.metadata.ownerReferences?.map((o) => [o.kind, o.name]), [['ClusterDeployHook', 'audit-1']]);
      const snapshot = await env.core.readNamespacedSecret({ namespace: ops, name: run.status!.snapshotSecretName! });
      assert.equal(snapshot.immutable, true);
    }
    await op.operator.idle();
    for (const ns of [a, b, c]) {
      assert.deepEqual(await listRuns(env.custom, ns), [], `nothing in tenant namespace ${ns}`);
      const secrets = await env.core.listNamespacedSecret({ namespace: ns });
      assert.deepEqual(secrets.items.map((s) => s.metadata?.name), ['site'], `no snapshot in tenant namespace ${ns}`);
    }
    const jobs = await env.sandbox.kubectl(['get', 'jobs', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}{"\\n"}{end}']);
    assert.deepEqual([...new Set(jobs.stdout.trim().split('\n'))], [ops], 'every Job in the operator\'s namespace');
    await eventually(async () => {
      const status = (await clusterHook('audit-1')).status;
      assert.equal(status?.runNamespace, ops);
      assert.equal(status?.namespaces, 'audit-1=yes');
      assert.equal(status?.totals?.succeeded, 2);
      assert.deepEqual(status?.history?.map((h) => `${h.secretNamespace}/${h.secretName}`).sort(), [`${a}/site`, `${b}/site`]);
    });
    // kubectl's columns, short name included.
    const listed = await env.sandbox.kubectl(['get', 'cdh', 'audit-1']);
    assert.match(listed.stdout, /NAME\s+READY\s+TYPE\s+ENABLED\s+EVENTS\s+NAMESPACES\s+LAST RESULT/);
    assert.match(listed.stdout, /audit-1\s+True\s+job\s+true\s+created,renewed,revoked\s+audit-1=yes\s+Succeeded/);
    // Renewed and revoked follow, in the operator's namespace too.
    await renewTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await env.core.deleteNamespacedSecret({ namespace: b, name: 'site' });
    const all = await finishedRuns(env.custom, ops, 4);
    assert.deepEqual(all.map((r) => `${r.spec.event} ${secretOf(r)}`).sort(), [`created ${a}/site`, `created ${b}/site`, `renewed ${a}/site`, `revoked ${b}/site`].sort());
  });

  test('a namespace relabelled in or out fires nothing by itself; later events follow the new selection', async (t) => {
    const { ops, a, c, op } = await tenancy(t, 'audit-2');
    await createClusterHook(env.custom, 'audit-2', { namespaceSelector: { matchLabels: { 'audit-2': 'yes' } }, job: { command: 'true' } });
    await createTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await createTlsSecret(env.core, c, 'site', issue('c.example.com'));
    await finishedRuns(env.custom, ops, 1);
    await relabel(c, 'audit-2', 'yes');
    await relabel(a, 'audit-2', 'no');
    await op.operator.idle();
    assert.equal((await listRuns(env.custom, ops)).length, 1, 'relabelling fired nothing');
    // A renewal in the namespace now selected fires; one in the namespace no longer selected does not, nor its delete.
    await renewTlsSecret(env.core, c, 'site', issue('c.example.com'));
    await renewTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await env.core.deleteNamespacedSecret({ namespace: a, name: 'site' });
    const runs = await finishedRuns(env.custom, ops, 2);
    await op.operator.idle();
    assert.deepEqual(runs.map((r) => `${r.spec.event} ${secretOf(r)}`), [`created ${a}/site`, `renewed ${c}/site`]);
    assert.equal((await listRuns(env.custom, ops)).length, 2);
  });

  test('a namespace created together with its certificate fires: the Secret waits for its Namespace\'s labels', async (t) => {
    const { ops, op } = await tenancy(t, 'audit-6');
    await createClusterHook(env.custom, 'audit-6', { namespaceSelector: { matchLabels: { 'audit-6': 'yes' } }, job: { command: 'true' } });
    // As a chart installing both at once may have it: the Secret's event comes before the
    // Namespace's (here, the namespaces watch is re-opened late).
    await op.operator.idle();
    env.sandbox.faults.delayNext('watch', 'namespaces', 1, 2000);
    assert.ok(env.sandbox.faults.dropWatches() >= 1);
    const fresh = 'cdh-fresh-tenant';
    await env.core.createNamespace({ body: { metadata: { name: fresh, labels: { 'audit-6': 'yes' } } } });
    await createTlsSecret(env.core, fresh, 'site', issue('fresh.example.com'));
    const [run] = await finishedRuns(env.custom, ops, 1);
    assert.equal(env.sandbox.faults.delayed('watch', 'namespaces'), 1);
    assert.equal(secretOf(run!), `${fresh}/site`);
    assert.equal(run!.spec.event, 'created');
  });

  test('stages span both kinds: a ClusterDeployHook\'s pre hook gates a tenant\'s DeployHook; a restarted operator plans nothing twice', async (t) => {
    const { ops, a, b, op } = await tenancy(t, 'audit-7');
    await createClusterHook(env.custom, 'audit-7', { stage: 'pre', namespaceSelector: { matchLabels: { 'audit-7': 'yes' } }, job: { command: 'test "$CERTMATE_SECRET_NAMESPACE" != ' + b } });
    await createHook(env.custom, a, 'deploy', { job: { command: 'echo deployed' } });
    await createHook(env.custom, b, 'deploy', { job: { command: 'echo deployed' } });
    await createTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await createTlsSecret(env.core, b, 'site', issue('b.example.com'));
    const gates = await finishedRuns(env.custom, ops, 2);
    const [deployedA] = await finishedRuns(env.custom, a, 1);
    const [deployedB] = await finishedRuns(env.custom, b, 1);
    const gateOf = (ns: string) => gates.find((r) => r.spec.secretRef.namespace === ns)!;
    assert.equal(gateOf(a).status?.phase, 'Succeeded');
    assert.equal(deployedA!.status?.phase, 'Succeeded');
    assert.ok(deployedA!.status!.startTime! >= gateOf(a).status!.completionTime!, 'the deploy hook started after the pre hook finished');
    assert.equal(gateOf(b).status?.phase, 'Failed');
    assert.equal(deployedB!.status?.phase, 'Skipped');
    assert.equal(deployedB!.status?.reason, 'EarlierStageFailed');
    // A new operator, the same ledger: nothing again.
    await op.stop();
    const again = await env.operatorFor(t, { clusterHookNamespace: ops });
    await again.operator.idle();
    assert.equal(again.planned(), 0);
    assert.equal((await listRuns(env.custom, ops)).length, 2);
    // Its next event fires once for each kind of hook.
    await renewTlsSecret(env.core, a, 'site', issue('a.example.com'));
    assert.deepEqual((await finishedRuns(env.custom, ops, 3)).map((r) => r.spec.event).sort(), ['created', 'created', 'renewed']);
    assert.deepEqual((await finishedRuns(env.custom, a, 2)).map((r) => r.status?.phase), ['Succeeded', 'Succeeded']);
  });

  test('retention keeps each tenant Secret\'s latest run, the same name in two namespaces being two Secrets, and prunes the rest beyond historyLimit', async (t) => {
    const { ops, a, b, op } = await tenancy(t, 'audit-8');
    await createClusterHook(env.custom, 'audit-8', { historyLimit: 1, namespaceSelector: { matchLabels: { 'audit-8': 'yes' } }, job: { command: 'true' } });
    // The same Secret name in two namespaces: two Secrets, each with a ledger of its own.
    await createTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await createTlsSecret(env.core, b, 'site', issue('b.example.com'));
    await renewTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await op.operator.idle();
    await renewTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await op.operator.idle();
    await eventually(async () => {
      const runs = await listRuns(env.custom, ops);
      assert.deepEqual(runs.map((r) => `${secretOf(r)} ${r.spec.event}`).sort(), [`${a}/site renewed`, `${b}/site created`]);
    }, 30_000);
    // What is kept is the ledger: nothing fires again.
    await op.operator.idle();
    assert.equal((await listRuns(env.custom, ops)).length, 2);
  });

  test('a DeployHook of the same name, in the operator\'s namespace or a tenant\'s, is another hook: no run collides', async (t) => {
    const { ops, a, op } = await tenancy(t, 'audit-3');
    await createClusterHook(env.custom, 'audit-3', { namespaceSelector: { matchLabels: { 'audit-3': 'yes' } }, job: { command: 'echo cluster' } });
    await createHook(env.custom, a, 'audit-3', { job: { command: 'echo tenant' } });
    await createHook(env.custom, ops, 'audit-3', { job: { command: 'echo operator-namespace' } });
    await createTlsSecret(env.core, a, 'site', issue('a.example.com'));
    await createTlsSecret(env.core, ops, 'own', issue('ops.example.com'));
    const inOps = await finishedRuns(env.custom, ops, 2);
    const [tenant] = await finishedRuns(env.custom, a, 1);
    const byKind = Object.fromEntries(inOps.map((r) => [r.spec.hookRef.kind ?? 'DeployHook', r]));
    assert.equal(byKind.ClusterDeployHook!.status?.output?.trim(), 'cluster');
    assert.equal(secretOf(byKind.ClusterDeployHook!), `${a}/site`);
    assert.equal(byKind.DeployHook!.status?.output?.trim(), 'operator-namespace');
    assert.equal(byKind.DeployHook!.spec.secretRef.name, 'own');
    assert.equal(tenant!.status?.output?.trim(), 'tenant');
    assert.equal(new Set([...inOps, tenant!].map((r) => r.metadata.name)).size, 3);
    await op.operator.idle();
    // Each hook's status counts its own runs.
    const hook = await clusterHook('audit-3');
    assert.equal(hook.status?.totals?.succeeded, 1);
    assert.deepEqual(hook.status?.history?.map((h) => h.name), [byKind.ClusterDeployHook!.metadata.name]);
  });

  test('a manual run in the operator\'s namespace picks the most recent certificate of the namespaces it selects; one in a tenant\'s namespace is refused', async (t) => {
    const { ops, a, b, c } = await tenancy(t, 'audit-4');
    await createClusterHook(env.custom, 'audit-4', { enabled: false, namespaceSelector: { matchLabels: { 'audit-4': 'yes' } }, job: { command: 'echo "$CERTMATE_SECRET_NAMESPACE/$CERTMATE_SECRET_NAME"' } });
    await createTlsSecret(env.core, a, 'older', issueFrom(3, 'a.example.com'));
    await createTlsSecret(env.core, b, 'newer', issueFrom(1, 'b.example.com'));
    // The newest of all, but in a namespace the hook does not select.
    await createTlsSecret(env.core, c, 'newest', issueFrom(0, 'c.example.com'));
    const manual = (namespace: string, name: string, secretRef?: Record<string, string>) => env.custom.createNamespacedCustomObject({
      ...RUNS, namespace, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name }, spec: { hookRef: { kind: 'ClusterDeployHook', name: 'audit-4' }, ...(secretRef ? { secretRef } : {}), event: 'manual', triggeredBy: 'platform' } },
    });
    await manual(ops, 'try-it');
    await manual(ops, 'try-a', { namespace: a, name: 'older' });
    await manual(a, 'from-a-tenant', { namespace: b, name: 'newer' });
    const runs = Object.fromEntries((await finishedRuns(env.custom, ops, 2)).map((r) => [r.metadata.name, r]));
    assert.deepEqual(runs['try-it']!.status?.secretRef, { namespace: b, name: 'newer' });
    assert.equal(runs['try-it']!.status?.output?.trim(), `${b}/newer`);
    assert.equal(runs['try-a']!.status?.output?.trim(), `${a}/older`);
    const [refused] = await finishedRuns(env.custom, a, 1);
    assert.equal(refused!.status?.phase, 'Failed');
    assert.equal(refused!.status?.reason, 'HookNotFound');
    assert.match(refused!.status!.message!, new RegExp(`runs live in namespace ${ops}`));
    // The API refuses a DeployHook's run that names another namespace's Secret, and a cluster run that names none.
    await assert.rejects(env.custom.createNamespacedCustomObject({ ...RUNS, namespace: a, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'reach' }, spec: { hookRef: { name: 'x' }, secretRef: { namespace: b, name: 'newer' }, event: 'manual' } } }), /secretRef.namespace is only for a ClusterDeployHook's run/);
    await assert.rejects(manual(ops, 'no-namespace', { name: 'newer' }), /names its Secret's namespace too/);
  });

  test('deleting it takes its runs along; its ServiceAccount is judged in the operator\'s namespace, and a refused one is Ready=False with an Event', async (t) => {
    const { ops, a } = await tenancy(t, 'audit-5', (ops) => [`${ops}/hook-runner`]);
    await createClusterHook(env.custom, 'audit-5', { namespaceSelector: { matchLabels: { 'audit-5': 'yes' } }, job: { command: 'true', serviceAccountName: 'hook-runner' } });
    await createTlsSecret(env.core, a, 'site', issue('a.example.com'));
    const [run] = await finishedRuns(env.custom, ops, 1);
    assert.equal(run!.status?.phase, 'Succeeded', run!.status?.message);
    const job = await env.sandbox.kubectl(['get', 'job', '-n', ops, run!.status!.job!.name, '-o', 'jsonpath={.spec.template.spec.serviceAccountName}']);
    assert.equal(job.stdout, 'hook-runner');
    await env.custom.deleteClusterCustomObject({ ...CLUSTER_HOOKS, name: 'audit-5' });
    await eventually(async () => assert.deepEqual(await listRuns(env.custom, ops), []));
    // The same ServiceAccount name in a tenant's namespace is not the one allowed.
    await createClusterHook(env.custom, 'audit-5b', { namespaceSelector: { matchLabels: { 'audit-5': 'yes' } }, job: { command: 'true', serviceAccountName: 'admin' } });
    await eventually(async () => {
      const ready = (await clusterHook('audit-5b')).status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'False');
      assert.match(ready!.message, /"admin" is not among the ServiceAccounts/);
    });
    await eventually(async () => {
      const events = await env.core.listNamespacedEvent({ namespace: 'default' });
      assert.ok(events.items.some((e) => e.involvedObject.kind === 'ClusterDeployHook' && e.involvedObject.name === 'audit-5b' && e.reason === 'InvalidHook'));
    });
  });
});
