// What GitOps tools send, from the real kubectl 1.34 against the sandbox: server-side apply (field
// managers, conflicts, --force-conflicts, declarative removal), server dry runs that store nothing,
// and a Job created from protobuf that runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { kubectlSession } from './kubectl-session.ts';
import { installCrds } from '../support/operator.ts';

let sandbox: TestSandbox;

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

type Obj = { metadata: { resourceVersion: string; generation?: number; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; managedFields?: Entry[] }; data?: Record<string, string>; spec?: Record<string, unknown> };

const { kubectl, file } = kubectlSession(() => sandbox);

/**
 * The watch events `kinds` (`plural` or `plural.group`) see while `run` runs: what a controller
 * would be woken by. (The sandbox's Job controller and kubelet write in the background, so the
 * store's revision alone cannot tell.)
 */
async function watchEvents(kinds: string[], run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const stops = kinds.map((kind) => {
    const [plural, group = ''] = kind.split(/\.(.*)/);
    return sandbox.api.watch(sandbox.api.type(group, plural!), undefined, { resourceVersion: String(sandbox.api.store.currentRevision) }, (e) => seen.push(`${e.type} ${kind}/${e.object.metadata.name}`));
  });
  try {
    await run();
  } finally {
    for (const stop of stops) stop();
  }
  return seen;
}

const getObject = async (...args: string[]) => JSON.parse(await kubectl('get', ...args, '-o', 'json', '--show-managed-fields')) as Obj;
const managers = (obj: Obj) => (obj.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`).sort();
const entryOf = (obj: Obj, manager: string) => obj.metadata.managedFields?.find((e) => e.manager === manager);

before(async () => {
  sandbox = await testSandbox();
});

after(() => sandbox.close());

describe('kubectl apply --server-side', () => {
  const settings = (data: string, metadata = '{name: settings, labels: {app: web}}') => `apiVersion: v1\nkind: ConfigMap\nmetadata: ${metadata}\ndata: ${data}\n`;
  const unlabelled = '{name: settings}';

  test('creates the object and records kubectl as the manager of the fields it applied', async () => {
    const path = await file('settings.yaml', settings('{mode: strict, level: "3"}'));
    assert.match(await kubectl('apply', '--server-side', '-f', path), /configmap\/settings serverside-applied/);
    const cm = await getObject('configmap', 'settings');
    assert.deepEqual(cm.data, { mode: 'strict', level: '3' });
    assert.deepEqual(managers(cm), ['kubectl/Apply']);
    const entry = entryOf(cm, 'kubectl')!;
    assert.equal(entry.apiVersion, 'v1');
    assert.equal(entry.fieldsType, 'FieldsV1');
    assert.deepEqual(entry.fieldsV1, { 'f:data': { 'f:level': {}, 'f:mode': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } });
  });

  test('re-applying the same manifest changes nothing: same resourceVersion, no watch event', async () => {
    const before = await getObject('configmap', 'settings');
    const events = await watchEvents(['configmaps'], async () => {
      assert.match(await kubectl('apply', '--server-side', '-f', join(sandbox.dir, 'settings.yaml')), /serverside-applied/);
    });
    const again = await getObject('configmap', 'settings');
    assert.equal(again.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.deepEqual(again, before);
    assert.deepEqual(events, []);
  });

  test('another manager changing a field kubectl owns gets a conflict naming the field', async () => {
    const other = await file('other.yaml', settings('{mode: relaxed}', unlabelled));
    const result = await sandbox.kubectl(['apply', '--server-side', '--field-manager=ops', '-f', other]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.mode/);
    assert.match(result.stderr, /--force-conflicts/);
    assert.equal((await getObject('configmap', 'settings')).data!.mode, 'strict');
  });

  test('the same value is no conflict: both managers own the field', async () => {
    const shared = await file('shared.yaml', settings('{level: "3"}', unlabelled));
    await kubectl('apply', '--server-side', '--field-manager=auditor', '-f', shared);
    const cm = await getObject('configmap', 'settings');
    assert.deepEqual(entryOf(cm, 'auditor')!.fieldsV1, { 'f:data': { 'f:level': {} } });
    assert.ok('f:level' in (entryOf(cm, 'kubectl')!.fieldsV1['f:data'] as object));
  });

  test('--force-conflicts takes the field: the new manager owns it, the old one no longer does', async () => {
    await kubectl('apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', join(sandbox.dir, 'other.yaml'));
    const cm = await getObject('configmap', 'settings');
    assert.equal(cm.data!.mode, 'relaxed');
    assert.deepEqual(entryOf(cm, 'ops')!.fieldsV1, { 'f:data': { 'f:mode': {} } });
    assert.deepEqual(entryOf(cm, 'kubectl')!.fieldsV1, { 'f:data': { 'f:level': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } });
  });

  test('a field removed from the manifest is removed, unless another manager still owns it', async () => {
    const path = await file('settings.yaml', settings('{extra: "yes"}', unlabelled));
    await kubectl('apply', '--server-side', '-f', path);
    const cm = await getObject('configmap', 'settings');
    // level: auditor still applies it; mode: ops owns it; the label was kubectl's alone.
    assert.deepEqual(cm.data, { mode: 'relaxed', level: '3', extra: 'yes' });
    assert.equal(cm.metadata.labels, undefined);
    assert.deepEqual(entryOf(cm, 'kubectl')!.fieldsV1, { 'f:data': { 'f:extra': {} } });
  });

  test('an object made by kubectl create records its Update manager, and an apply takes a field from it only by force', async () => {
    await kubectl('create', 'configmap', 'made', '--from-literal=color=blue');
    const created = await getObject('configmap', 'made');
    assert.deepEqual(managers(created), ['kubectl-create/Update']);
    assert.ok(entryOf(created, 'kubectl-create')!.fieldsV1['f:data']);
    const path = await file('made.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made}\ndata: {color: red}\n');
    const refused = await sandbox.kubectl(['apply', '--server-side', '-f', path]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /conflict with "kubectl-create" using v1: \.data\.color/);
    await kubectl('label', 'configmap', 'made', 'tier=edge');
    assert.deepEqual(managers(await getObject('configmap', 'made')), ['kubectl-create/Update', 'kubectl-label/Update']);
  });

  test('an object kubectl apply made moves to --server-side without conflicts, as kubectl and the API server migrate it', async () => {
    const path = await file('migrated.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: migrated}\ndata: {kept: "1", changed: "1", dropped: "1"}\n');
    await kubectl('apply', '-f', path);
    assert.deepEqual(managers(await getObject('configmap', 'migrated')), ['kubectl-client-side-apply/Update']);
    await file('migrated.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: migrated}\ndata: {kept: "1", changed: "2"}\n');
    assert.match(await kubectl('apply', '--server-side', '-f', path), /serverside-applied/);
    const cm = await getObject('configmap', 'migrated');
    assert.deepEqual(cm.data, { kept: '1', changed: '2' });
    assert.deepEqual(entryOf(cm, 'kubectl')!.fieldsV1, { 'f:data': { 'f:changed': {}, 'f:kept': {} } });
    assert.deepEqual(JSON.parse(cm.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!).data, { kept: '1', changed: '2' });
  });

  test('a Job applied twice keeps its resourceVersion and generation though the server defaulted it', async () => {
    const main = "{name: main, image: busybox, command: [sh, -c, 'echo applied'], env: [{name: A, value: '1'}]}";
    const path = await file('job.yaml', `apiVersion: batch/v1\nkind: Job\nmetadata: {name: applied}\nspec: {backoffLimit: 0, template: {spec: {restartPolicy: Never, containers: [${main}]}}}\n`);
    await kubectl('apply', '--server-side', '-f', path);
    // Once it has run, the Job controller writes its status no more.
    await kubectl('wait', '--for=condition=complete', 'job/applied', '--timeout=60s');
    const first = await getObject('job', 'applied');
    await kubectl('apply', '--server-side', '-f', path);
    const second = await getObject('job', 'applied');
    assert.equal(second.metadata.generation, 1);
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    const fields = entryOf(second, 'kubectl')!.fieldsV1 as Record<string, Record<string, Record<string, Record<string, Record<string, unknown>>>>>;
    const container = fields['f:spec']!['f:template']!['f:spec']!['f:containers']!['k:{"name":"main"}'] as Record<string, unknown>;
    assert.deepEqual(container['.'], {});
    assert.deepEqual(container['f:env'], { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } });
  });

  test('a DeployHook applied server-side twice keeps its generation and resourceVersion', async () => {
    await installCrds(sandbox);
    await kubectl('create', 'namespace', 'gitops');
    const example = join(import.meta.dirname, '..', '..', 'examples', 'page-on-revocation.yaml');
    await kubectl('apply', '--server-side', '-n', 'gitops', '-f', example);
    const first = await getObject('deployhook', 'page-on-revocation', '-n', 'gitops');
    // Not the file's Secret: one applied with stringData is rewritten by every apply, as on a real
    // cluster (kubernetes/kubernetes#96841), since stringData never stays to match the manifest.
    const events = await watchEvents(['deployhooks.certhook.io'], async () => {
      assert.match(await kubectl('apply', '--server-side', '-n', 'gitops', '-f', example), /deployhook.certhook.io\/page-on-revocation serverside-applied/);
    });
    const second = await getObject('deployhook', 'page-on-revocation', '-n', 'gitops');
    assert.equal(second.metadata.generation, 1);
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    assert.deepEqual(events, []);
    // A second manager applying the same value changes managedFields only: a write, no new generation.
    const shared = await file('shared-hook.yaml', 'apiVersion: certhook.io/v1alpha1\nkind: DeployHook\nmetadata: {name: page-on-revocation}\nspec: {timeoutSeconds: 60}\n');
    await kubectl('apply', '--server-side', '--field-manager=auditor', '-n', 'gitops', '-f', shared);
    const third = await getObject('deployhook', 'page-on-revocation', '-n', 'gitops');
    assert.notEqual(third.metadata.resourceVersion, second.metadata.resourceVersion);
    assert.equal(third.metadata.generation, 1);
    assert.deepEqual(entryOf(third, 'auditor')!.fieldsV1, { 'f:spec': { 'f:timeoutSeconds': {} } });
  });

  test('on a DeployHook, managers own items of a map list apart, and CEL rules judge the merged object', async () => {
    const extra = await file('extra-env.yaml', 'apiVersion: certhook.io/v1alpha1\nkind: DeployHook\nmetadata: {name: page-on-revocation}\nspec: {job: {env: [{name: EXTRA, value: "1"}]}}\n');
    await kubectl('apply', '--server-side', '--field-manager=ops', '-n', 'gitops', '-f', extra);
    const example = join(import.meta.dirname, '..', '..', 'examples', 'page-on-revocation.yaml');
    await kubectl('apply', '--server-side', '-n', 'gitops', '-f', example);
    const hook = await getObject('deployhook', 'page-on-revocation', '-n', 'gitops');
    const env = (hook.spec!.job as { env: { name: string }[] }).env.map((e) => e.name);
    assert.ok(env.includes('EXTRA') && env.includes('PAGERDUTY_ROUTING_KEY'), env.join(', '));
    assert.equal(hook.metadata.generation, 2);
    const webhook = await file('webhook.yaml', 'apiVersion: certhook.io/v1alpha1\nkind: DeployHook\nmetadata: {name: page-on-revocation}\nspec: {webhook: {url: "https://hooks.example.com/x"}}\n');
    const refused = await sandbox.kubectl(['apply', '--server-side', '--field-manager=ops', '-n', 'gitops', '-f', webhook]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /set exactly one of job or webhook/);
  });

  test('a request without fieldManager is refused as the API server refuses it', async () => {
    const res = await fetch(`${sandbox.url}/api/v1/namespaces/default/configmaps/settings`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n',
    });
    assert.equal(res.status, 422);
    const status = (await res.json()) as { message: string; details: { causes: { field: string }[] } };
    assert.equal(status.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    assert.equal(status.details.causes[0]!.field, 'fieldManager');
  });
});

describe('--dry-run=server', () => {
  test('create and apply answer with the object, validated and defaulted, and store nothing', async () => {
    const events = await watchEvents(['configmaps', 'jobs.batch'], async () => {
      const created = JSON.parse(await kubectl('create', 'configmap', 'draft', '--from-literal=a=b', '--dry-run=server', '-o', 'json')) as Obj;
      assert.deepEqual(created.data, { a: 'b' });
      assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
      const path = await file('draft-job.yaml', 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: draft}\nspec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: x}]}}}\n');
      const applied = JSON.parse(await kubectl('apply', '--dry-run=server', '-f', path, '-o', 'json')) as Obj;
      assert.equal(applied.spec!.backoffLimit, 6);
      const serverSide = JSON.parse(await kubectl('apply', '--server-side', '--dry-run=server', '-f', path, '-o', 'json')) as Obj;
      assert.equal(serverSide.spec!.completions, 1);
    });
    assert.equal((await sandbox.kubectl(['get', 'configmap', 'draft'])).code, 1);
    assert.equal((await sandbox.kubectl(['get', 'job', 'draft'])).code, 1);
    assert.deepEqual(events.filter((e) => e.endsWith('/draft')), []);
  });

  test('an invalid object is refused as it would be for real', async () => {
    const path = await file('bad-job.yaml', 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: bad}\nspec: {template: {spec: {restartPolicy: Always, containers: [{name: c, image: x}]}}}\n');
    const result = await sandbox.kubectl(['apply', '--dry-run=server', '-f', path]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /spec\.template\.spec\.restartPolicy: Unsupported value: "Always"/);
  });

  test('a change applied with --dry-run=server is answered and not kept', async () => {
    const before = await getObject('configmap', 'settings');
    const events = await watchEvents(['configmaps'], async () => {
      const path = await file('change.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {extra: "no"}\n');
      const answered = JSON.parse(await kubectl('apply', '--server-side', '--dry-run=server', '-f', path, '-o', 'json')) as Obj;
      assert.equal(answered.data!.extra, 'no');
      await kubectl('patch', 'configmap', 'settings', '--type', 'merge', '-p', '{"data":{"patched":"yes"}}', '--dry-run=server');
    });
    assert.deepEqual(await getObject('configmap', 'settings'), before);
    assert.deepEqual(events, []);
  });

  test('kubectl diff --server-side: nothing for the applied manifest, the change for another, and nothing stored', async () => {
    const unchanged = await sandbox.kubectl(['diff', '--server-side', '-f', join(sandbox.dir, 'settings.yaml')]);
    assert.equal(unchanged.code, 0, unchanged.stderr);
    assert.equal(unchanged.stdout, '');
    const events = await watchEvents(['configmaps'], async () => {
      const changed = await sandbox.kubectl(['diff', '--server-side', '-f', join(sandbox.dir, 'change.yaml')]);
      assert.equal(changed.code, 1, changed.stderr);
      assert.match(changed.stdout, /^\+  extra: "no"$/m);
    });
    assert.deepEqual(events, []);
  });

  test('delete answers as if deleted and deletes nothing', async () => {
    const events = await watchEvents(['configmaps'], async () => {
      assert.match(await kubectl('delete', 'configmap', 'settings', '--dry-run=server'), /configmap "settings" deleted.*\(server dry run\)/);
      assert.match(await kubectl('delete', 'configmaps', '--all', '--dry-run=server'), /\(server dry run\)/);
    });
    assert.equal((await getObject('configmap', 'settings')).data!.mode, 'relaxed');
    assert.deepEqual(events, []);
  });

  test('a dry-run create generates the name and uid it would have, and keeps neither', async () => {
    const events = await watchEvents(['configmaps'], async () => {
      const res = await fetch(`${sandbox.url}/api/v1/namespaces/default/configmaps?dryRun=All`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'draft-' }, data: { a: 'b' } }),
      });
      assert.equal(res.status, 201);
      const answered = (await res.json()) as { metadata: { name: string; uid: string; resourceVersion?: string } };
      assert.match(answered.metadata.name, /^draft-[a-z0-9]{5}$/);
      assert.match(answered.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.equal(answered.metadata.resourceVersion, undefined);
    });
    assert.deepEqual(events, []);
  });

  test('a dryRun other than All is refused', async () => {
    const res = await fetch(`${sandbox.url}/api/v1/namespaces/default/configmaps?dryRun=Some`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never' } }),
    });
    assert.equal(res.status, 422);
    assert.match(((await res.json()) as { message: string }).message, /^CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: .*"Some".*: supported values: "All"$/);
  });
});

describe('kubectl create job', () => {
  test('sends the Job as protobuf, and it runs', async () => {
    assert.match(await kubectl('create', 'job', 'greet', '--image=busybox', '--', 'sh', '-c', 'echo "hi from $0"'), /job.batch\/greet created/);
    await kubectl('wait', '--for=condition=complete', 'job/greet', '--timeout=60s');
    assert.equal((await kubectl('logs', 'job/greet')).trim(), 'hi from sh');
    const job = await getObject('job', 'greet');
    assert.deepEqual(managers(job), ['kube-controller-manager/Update/status', 'kubectl-create/Update']);
    const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'job-name=greet', '-o', 'json', '--show-managed-fields')) as { items: Obj[] };
    assert.deepEqual(managers(pods.items[0]!), ['kube-controller-manager/Update', 'kubelet/Update/status']);
  });
});
