// The sandbox's API semantics as the operator's own client sees them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { widget, widgetCrd } from '../support/widget-crd.ts';
import { eventually } from '../support/eventually.ts';

let sandbox: TestSandbox;
let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;

const secret = (name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  metadata: { name, labels },
  stringData: { value: name },
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<{ code: number; status: Record<string, any> }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
    return { code: err.code, status: JSON.parse(err.body as string) };
  }
  assert.fail('the request succeeded');
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

before(async () => {
  sandbox = await testSandbox({ historyLimit: 1000, bookmarkIntervalMs: 100 });
  kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  // Posted as plain JSON: client-node's typed models would drop `default` and `x-kubernetes-*` keys.
  const res = await fetch(`${sandbox.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(widgetCrd),
  });
  assert.equal(res.status, 201);
});

after(() => sandbox.close());

describe('objects and resourceVersion', () => {
  test('create sets uid, creationTimestamp and a resourceVersion that increases on every write', async () => {
    const a = await core.createNamespacedSecret({ namespace: 'default', body: secret('rv-a') });
    const b = await core.createNamespacedSecret({ namespace: 'default', body: secret('rv-b') });
    assert.match(a.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.ok(a.metadata!.creationTimestamp);
    assert.ok(Number(b.metadata!.resourceVersion) > Number(a.metadata!.resourceVersion));
    const updated = await core.replaceNamespacedSecret({ name: 'rv-a', namespace: 'default', body: { ...a, data: { value: Buffer.from('x').toString('base64') } } });
    assert.ok(Number(updated.metadata!.resourceVersion) > Number(b.metadata!.resourceVersion));
    assert.equal(updated.metadata!.uid, a.metadata!.uid);
  });

  test('stringData is merged into data and never stored', async () => {
    const s = await core.readNamespacedSecret({ name: 'rv-b', namespace: 'default' });
    assert.equal(Buffer.from(s.data!.value!, 'base64').toString(), 'rv-b');
    assert.equal(s.stringData, undefined);
  });

  test('an update with a stale resourceVersion is a 409 Conflict Status', async () => {
    const s = await core.createNamespacedSecret({ namespace: 'default', body: secret('stale') });
    await core.replaceNamespacedSecret({ name: 'stale', namespace: 'default', body: { ...s, metadata: { ...s.metadata, labels: { v: '2' } } } });
    const { code, status } = await failure(core.replaceNamespacedSecret({ name: 'stale', namespace: 'default', body: { ...s, metadata: { ...s.metadata, labels: { v: '3' } } } }));
    assert.equal(code, 409);
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'Conflict');
    assert.match(status.message, /the object has been modified/);
  });

  test('creating an existing name is 409 AlreadyExists; a missing one is 404 NotFound', async () => {
    const exists = await failure(core.createNamespacedSecret({ namespace: 'default', body: secret('rv-b') }));
    assert.equal(exists.code, 409);
    assert.equal(exists.status.reason, 'AlreadyExists');
    assert.equal(exists.status.message, 'secrets "rv-b" already exists');
    const missing = await failure(core.readNamespacedSecret({ name: 'nope', namespace: 'default' }));
    assert.equal(missing.code, 404);
    assert.equal(missing.status.reason, 'NotFound');
    assert.equal(missing.status.details.name, 'nope');
  });

  test('generateName gives a unique name with a five-character suffix', async () => {
    const a = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    const b = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    assert.match(a.metadata!.name!, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.notEqual(a.metadata!.name, b.metadata!.name);
  });

  test('objects need an existing namespace, and names are validated', async () => {
    const noNs = await failure(core.createNamespacedSecret({ namespace: 'missing-ns', body: secret('x') }));
    assert.equal(noNs.code, 404);
    assert.match(noNs.status.message, /namespaces "missing-ns" not found/);
    const badName = await failure(core.createNamespacedSecret({ namespace: 'default', body: secret('Bad_Name') }));
    assert.equal(badName.code, 422);
    assert.equal(badName.status.reason, 'Invalid');
    assert.match(badName.status.message, /metadata.name: Invalid value: "Bad_Name"/);
    const namespaces = await core.listNamespace();
    assert.deepEqual(namespaces.items.map((n) => n.metadata!.name).filter((n) => n === 'default' || n === 'kube-system'), ['default', 'kube-system']);
  });

  test('a TLS Secret must carry tls.crt and tls.key', async () => {
    const { code, status } = await failure(core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'tls-bad' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x' } } }));
    assert.equal(code, 422);
    assert.match(status.message, /data\[tls.key\]: Required value/);
  });
});

describe('patches', () => {
  test('merge patch adds and removes keys', async () => {
    await core.createNamespacedSecret({ namespace: 'default', body: secret('mp', { a: '1', b: '2' }) });
    const patched = await core.patchNamespacedSecret({ name: 'mp', namespace: 'default', body: { metadata: { labels: { a: null, c: '3' } } } }, merge);
    assert.deepEqual(patched.metadata!.labels, { b: '2', c: '3' });
  });

  test('JSON patch applies operations in order and a failed test op is rejected', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'jp' }, data: { a: '1' } } });
    const patched = await core.patchNamespacedConfigMap({ name: 'jp', namespace: 'default', body: [{ op: 'add', path: '/data/b', value: '2' }, { op: 'remove', path: '/data/a' }] }, jsonPatch);
    assert.deepEqual(patched.data, { b: '2' });
    const { code } = await failure(core.patchNamespacedConfigMap({ name: 'jp', namespace: 'default', body: [{ op: 'test', path: '/data/b', value: 'nope' }] }, jsonPatch));
    assert.equal(code, 422);
  });

  test('strategic merge patch merges containers by name on built-in kinds', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'smp' }, spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'b', image: 'y' }] } },
    });
    const patched = await core.patchNamespacedPod({ name: 'smp', namespace: 'default', body: { spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '2' }] }] } } }, strategic);
    const containers = patched.spec!.containers;
    assert.deepEqual(containers.map((c) => c.name), ['a', 'b']);
    assert.deepEqual(containers[0]!.env!.map((e) => e.name).sort(), ['A', 'B']);
    await core.deleteNamespacedPod({ name: 'smp', namespace: 'default' });
  });

  test('strategic merge patch is refused for custom resources (415)', async () => {
    await custom.createNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', body: widget('smp-w', { size: 1 }) });
    const { code } = await failure(custom.patchNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', name: 'smp-w', body: { spec: { size: 2 } } }, strategic));
    assert.equal(code, 415);
  });
});

describe('custom resources', () => {
  const w = { group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets' };

  test('the CRD is Established and its kind is in discovery', async () => {
    const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'widgets.example.com' });
    assert.equal(crd.status?.conditions?.find((c) => c.type === 'Established')?.status, 'True');
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const created = await objects.create(widget('via-discovery', { size: 2 }) as never);
    assert.equal((created as { spec: { color: string } }).spec.color, 'blue');
  });

  test('defaults are applied and unknown fields pruned', async () => {
    const created = (await custom.createNamespacedCustomObject({ ...w, body: widget('defaults', { size: 3, shape: 'round' }) })) as { spec: Record<string, unknown> };
    assert.deepEqual(created.spec, { size: 3, color: 'blue' });
  });

  test('schema violations are 422 Invalid with the field path', async () => {
    const { code, status } = await failure(custom.createNamespacedCustomObject({ ...w, body: widget('too-big', { size: 11 }) }));
    assert.equal(code, 422);
    assert.equal(status.reason, 'Invalid');
    assert.match(status.message, /Widget.example.com "too-big" is invalid: spec.size: Invalid value: 11/);
    assert.equal(status.details.causes[0].field, 'spec.size');
    const missing = await failure(custom.createNamespacedCustomObject({ ...w, body: widget('no-size', { color: 'red' }) }));
    assert.match(missing.status.message, /spec.size: Required value/);
  });

  test('x-kubernetes-validations CEL rules reject with their message', async () => {
    const { code, status } = await failure(custom.createNamespacedCustomObject({ ...w, body: widget('red', { size: 7, color: 'red' }) }));
    assert.equal(code, 422);
    assert.match(status.message, /red widgets are at most size 5/);
  });

  test('the status subresource: main writes ignore status, status writes ignore the rest, generation tracks spec', async () => {
    const created = (await custom.createNamespacedCustomObject({ ...w, body: { ...widget('gen', { size: 1 }), status: { phase: 'ignored' } } })) as any;
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.status, undefined);
    const withStatus = (await custom.patchNamespacedCustomObjectStatus({ ...w, name: 'gen', body: { status: { phase: 'Ready' }, spec: { size: 9 } } }, merge)) as any;
    assert.equal(withStatus.status.phase, 'Ready');
    assert.equal(withStatus.spec.size, 1);
    assert.equal(withStatus.metadata.generation, 1);
    const relabelled = (await custom.patchNamespacedCustomObject({ ...w, name: 'gen', body: { metadata: { labels: { x: 'y' } }, status: { phase: 'Hacked' } } }, merge)) as any;
    assert.equal(relabelled.metadata.generation, 1);
    assert.equal(relabelled.status.phase, 'Ready');
    const respecced = (await custom.patchNamespacedCustomObject({ ...w, name: 'gen', body: { spec: { size: 2 } } }, merge)) as any;
    assert.equal(respecced.metadata.generation, 2);
  });

  test('an update of a custom resource needs a resourceVersion', async () => {
    const current = (await custom.getNamespacedCustomObject({ ...w, name: 'defaults' })) as any;
    delete current.metadata.resourceVersion;
    const { code, status } = await failure(custom.replaceNamespacedCustomObject({ ...w, name: 'defaults', body: current }));
    assert.equal(code, 422);
    assert.match(status.message, /resourceVersion: Invalid value: 0x0|must be specified for an update/);
  });
});

describe('lists and selectors', () => {
  test('limit and continue page through a list', async () => {
    for (let i = 0; i < 7; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `page-${i}`, labels: { paged: 'yes' } } } });
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'paged=yes', limit: 3, ...(cont ? { _continue: cont } : {}) });
      names.push(...page.items.map((c) => c.metadata!.name!));
      cont = page.metadata?._continue || undefined;
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
  });

  test('a continued list pages through the snapshot of its first page, and a watch from its resourceVersion sees every change since', async () => {
    for (let i = 0; i < 6; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `snap-${i}`, labels: { snap: 'yes' } }, data: { v: '1' } } });
    const first = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'snap=yes', limit: 2 });
    const rv = first.metadata!.resourceVersion!;
    // Between pages: a change on the page already read, one ahead, a delete, a create, a relabel.
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'snap-0', body: { data: { v: '2' } } }, merge);
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'snap-4', body: { data: { v: '2' } } }, merge);
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'snap-3' });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'snap-9', labels: { snap: 'yes' } } } });
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'snap-5', body: { metadata: { labels: { snap: 'no' } } } }, merge);
    const items = [...first.items];
    let cont = first.metadata!._continue;
    while (cont) {
      const page = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'snap=yes', limit: 2, _continue: cont });
      assert.equal(page.metadata!.resourceVersion, rv, 'every page carries the snapshot\'s resourceVersion');
      items.push(...page.items);
      cont = page.metadata!._continue;
    }
    assert.deepEqual(items.map((c) => `${c.metadata!.name}=${c.data?.v}`), ['snap-0=1', 'snap-1=1', 'snap-2=1', 'snap-3=1', 'snap-4=1', 'snap-5=1']);
    const seen: string[] = [];
    const watch = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { labelSelector: 'snap=yes', resourceVersion: rv }, (type, obj: { metadata: { name: string } }) => seen.push(`${type} ${obj.metadata.name}`), () => {});
    await eventually(() => assert.equal(seen.length, 5));
    watch.abort();
    assert.deepEqual(seen, ['MODIFIED snap-0', 'MODIFIED snap-4', 'DELETED snap-3', 'ADDED snap-9', 'DELETED snap-5']);
  });

  test('equality and set-based label selectors', async () => {
    for (const [name, labels] of [['ls-1', { tier: 'web', env: 'prod' }], ['ls-2', { tier: 'db', env: 'prod' }], ['ls-3', { tier: 'web' }]] as const) {
      await core.createNamespacedSecret({ namespace: 'default', body: secret(name, { ...labels, ls: 'yes' }) });
    }
    const names = async (labelSelector: string) =>
      (await core.listNamespacedSecret({ namespace: 'default', labelSelector: `ls=yes,${labelSelector}` })).items.map((s) => s.metadata!.name).sort();
    assert.deepEqual(await names('tier=web'), ['ls-1', 'ls-3']);
    assert.deepEqual(await names('tier!=web'), ['ls-2']);
    assert.deepEqual(await names('env in (prod),tier notin (db)'), ['ls-1']);
    assert.deepEqual(await names('!env'), ['ls-3']);
    const bad = await failure(core.listNamespacedSecret({ namespace: 'default', labelSelector: 'tier in web' }));
    assert.equal(bad.code, 400);
  });

  test('field selectors on metadata.name, metadata.namespace and secret type', async () => {
    await core.createNamespace({ body: { metadata: { name: 'fields' } } });
    await core.createNamespacedSecret({ namespace: 'fields', body: { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } } });
    await core.createNamespacedSecret({ namespace: 'fields', body: secret('opaque') });
    const tls = await core.listSecretForAllNamespaces({ fieldSelector: 'type=kubernetes.io/tls,metadata.namespace=fields' });
    assert.deepEqual(tls.items.map((s) => s.metadata!.name), ['tls']);
    const byName = await core.listNamespacedSecret({ namespace: 'fields', fieldSelector: 'metadata.name!=tls' });
    assert.deepEqual(byName.items.map((s) => s.metadata!.name), ['opaque']);
    const bad = await failure(core.listNamespacedSecret({ namespace: 'fields', fieldSelector: 'data.x=1' }));
    assert.equal(bad.code, 400);
    assert.match(bad.status.message, /field label not supported: data.x/);
  });
});

describe('watch', () => {
  function collect(path: string, query: Record<string, string | number | boolean>) {
    const events: { type: string; name?: string; rv?: string }[] = [];
    let ended: unknown = null;
    let controller: AbortController | undefined;
    const started = new Watch(kc).watch(path, query, (type, obj) => {
      events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion });
    }, (err) => {
      ended = err ?? 'done';
    }).then((c) => (controller = c));
    return { events, ended: () => ended, started, stop: () => controller?.abort() };
  }

  test('a watch from a resourceVersion replays later changes, with selector transitions', async () => {
    const list = await core.listNamespacedSecret({ namespace: 'default' });
    await core.createNamespacedSecret({ namespace: 'default', body: secret('w-1', { watched: 'yes' }) });
    await core.patchNamespacedSecret({ name: 'w-1', namespace: 'default', body: { metadata: { labels: { watched: 'no' } } } }, merge);
    await core.patchNamespacedSecret({ name: 'w-1', namespace: 'default', body: { metadata: { labels: { watched: 'yes' } } } }, merge);
    await core.deleteNamespacedSecret({ name: 'w-1', namespace: 'default' });
    const w = collect('/api/v1/namespaces/default/secrets', { resourceVersion: list.metadata!.resourceVersion!, labelSelector: 'watched=yes' });
    await w.started;
    await eventually(() => assert.deepEqual(w.events.map((e) => `${e.type} ${e.name}`), ['ADDED w-1', 'DELETED w-1', 'ADDED w-1', 'DELETED w-1']));
    w.stop();
  });

  test('bookmarks arrive when allowed and carry the current resourceVersion', async () => {
    const w = collect('/api/v1/namespaces/default/configmaps', { allowWatchBookmarks: true, resourceVersion: String(sandbox.api.store.currentRevision) });
    await w.started;
    await eventually(() => assert.ok(w.events.some((e) => e.type === 'BOOKMARK' && Number(e.rv) >= 1)));
    w.stop();
  });

  test('a watch from an expired resourceVersion gets a 410 ERROR event', async () => {
    const old = String(sandbox.api.store.currentRevision);
    await core.createNamespacedSecret({ namespace: 'default', body: secret('expire-me') });
    sandbox.expireHistory();
    const w = collect('/api/v1/namespaces/default/secrets', { resourceVersion: old });
    await w.started;
    await eventually(() => assert.ok(w.ended() !== null));
    const error = w.events.find((e) => e.type === 'ERROR');
    assert.ok(error, 'an ERROR event');
    const expired = await failure(core.listNamespacedConfigMap({ namespace: 'default', limit: 1, _continue: Buffer.from(JSON.stringify({ rv: Number(old), after: '' })).toString('base64url') }));
    assert.equal(expired.code, 410);
  });

  test('timeoutSeconds ends the watch', async () => {
    const w = collect('/api/v1/namespaces/default/secrets', { timeoutSeconds: 1 });
    await w.started;
    await eventually(() => assert.equal(w.ended(), 'done'));
  });
});

describe('deletion', () => {
  test('finalizers keep an object, with deletionTimestamp, until they are removed', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'fin', finalizers: ['example.com/hold'] } } });
    await core.deleteNamespacedConfigMap({ name: 'fin', namespace: 'default' });
    const held = await core.readNamespacedConfigMap({ name: 'fin', namespace: 'default' });
    assert.ok(held.metadata!.deletionTimestamp);
    await core.patchNamespacedConfigMap({ name: 'fin', namespace: 'default', body: { metadata: { finalizers: null } } }, merge);
    const gone = await failure(core.readNamespacedConfigMap({ name: 'fin', namespace: 'default' }));
    assert.equal(gone.code, 404);
  });

  test('owner deletion garbage-collects dependents (background), orphan keeps them', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner' } } });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! };
    await core.createNamespacedSecret({ namespace: 'default', body: secret('dependent', {}, {}) as never }).then(() =>
      core.patchNamespacedSecret({ name: 'dependent', namespace: 'default', body: { metadata: { ownerReferences: [ref] } } }, merge));
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: 'default' });
    await eventually(async () => assert.equal((await failure(core.readNamespacedSecret({ name: 'dependent', namespace: 'default' }))).code, 404));

    const owner2 = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner2' } } });
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'kept', ownerReferences: [{ ...ref, name: 'owner2', uid: owner2.metadata!.uid! }] } } });
    await core.deleteNamespacedConfigMap({ name: 'owner2', namespace: 'default', propagationPolicy: 'Orphan' });
    await eventually(async () => assert.equal((await failure(core.readNamespacedConfigMap({ name: 'owner2', namespace: 'default' }))).code, 404));
    const kept = await core.readNamespacedSecret({ name: 'kept', namespace: 'default' });
    assert.equal(kept.metadata!.ownerReferences, undefined);
  });

  test('a dependent created for an owner that does not exist is collected', async () => {
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'dangling', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' }] } } });
    await eventually(async () => assert.equal((await failure(core.readNamespacedSecret({ name: 'dangling', namespace: 'default' }))).code, 404));
  });

  test('deleting a namespace deletes what is in it', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedSecret({ namespace: 'doomed', body: secret('inside') });
    await core.deleteNamespace({ name: 'doomed' });
    const refused = await failure(core.createNamespacedSecret({ namespace: 'doomed', body: secret('late') }));
    assert.ok(refused.code === 403 || refused.code === 404);
    await eventually(async () => assert.equal((await failure(core.readNamespace({ name: 'doomed' }))).code, 404));
  });
});

describe('fault injection', () => {
  test('failNext answers the chosen status, with Retry-After for 429, and counts it', async () => {
    sandbox.faults.failNext('create', 'configmaps', 1, 429, 2);
    const limited = await failure(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'f-1' } } }));
    assert.equal(limited.code, 429);
    assert.equal(limited.status.details.retryAfterSeconds, 2);
    sandbox.faults.failNext('get', 'configmaps', 2, 500);
    assert.equal((await failure(core.readNamespacedConfigMap({ name: 'jp', namespace: 'default' }))).code, 500);
    assert.equal((await failure(core.readNamespacedConfigMap({ name: 'jp', namespace: 'default' }))).code, 500);
    await core.readNamespacedConfigMap({ name: 'jp', namespace: 'default' });
    assert.equal(sandbox.faults.injected('get', 'configmaps'), 2);
    assert.equal(sandbox.faults.injected('create', 'configmaps'), 1);
  });

  test('dropWatches ends open streams; silenced watches stay open but receive nothing', async () => {
    let ended = false;
    const seen: string[] = [];
    await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: String(sandbox.api.store.currentRevision) }, (_t, obj) => seen.push(obj.metadata.name), () => (ended = true));
    await eventually(() => assert.ok(sandbox.faults.openWatches >= 1));
    assert.ok(sandbox.faults.dropWatches() >= 1);
    await eventually(() => assert.ok(ended));

    sandbox.faults.silenceNextWatches(1);
    const silent: string[] = [];
    const controller = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: String(sandbox.api.store.currentRevision) }, (_t, obj) => silent.push(obj.metadata.name), () => {});
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'unheard' } } });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(silent, []);
    assert.ok(sandbox.faults.counters.watchesSilenced >= 1);
    controller.abort();
  });

  test('latency delays every request', async () => {
    sandbox.faults.latencyMs = 150;
    const started = process.hrtime.bigint();
    await core.listNamespace();
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    sandbox.faults.latencyMs = 0;
    assert.ok(elapsedMs >= 140, `request took ${elapsedMs} ms`);
  });
});
