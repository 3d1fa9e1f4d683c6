// Field ownership on its own: the fieldsV1 encoding, and server-side apply's merge, conflicts and
// removals, checked against what structured-merge-diff does.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldSetOf } from '../../src/sandbox/field-sets.ts';
import { fieldTypesOf } from '../../src/sandbox/field-types.ts';
import { applyAfterClientSide } from '../../src/sandbox/last-applied.ts';
import { decodeManagedFields, encodeManagedFields, FieldSet, pathString, type Manager } from '../../src/sandbox/managed-fields.ts';
import { Registry } from '../../src/sandbox/registry.ts';
import { apply, ApplyConflictError, merge, ownablePaths, recordUpdate, type Writer } from '../../src/sandbox/server-side-apply.ts';
import type { JSONSchemaProps } from '../../src/schema/structural.ts';

type Json = Record<string, unknown>;

const registry = new Registry();
const pods = registry.get('', 'pods')!;
const configMaps = registry.get('', 'configmaps')!;

const writer = (manager: string, t = configMaps, subresource?: 'status'): Writer => ({
  manager,
  apiVersion: 'v1',
  ...(subresource ? { subresource } : {}),
  types: fieldTypesOf(t),
  ownable: ownablePaths(t.statusSubresource, subresource),
  now: '2026-01-02T03:04:05Z',
});

const fieldsOf = (managers: Manager[], name: string) => managers.find((m) => m.manager === name)?.fields.toFieldsV1();

describe('fieldsV1', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['example.com/keep'] },
    spec: {
      containers: [
        { name: 'main', image: 'nginx', command: ['nginx', '-g', 'daemon off;'], env: [{ name: 'A', value: '1' }], resources: {} },
        { name: 'side', image: 'busybox' },
      ],
      volumes: [{ name: 'scratch', emptyDir: {} }],
    },
  };

  test('encodes what an apply owns as the API server does: f: fields, k: list keys, v: set items, "." for owned nodes with children', () => {
    const set = fieldSetOf(pod, fieldTypesOf(pods)).filter(ownablePaths(true, undefined));
    assert.deepEqual(JSON.stringify(set.toFieldsV1()), JSON.stringify({
      'f:metadata': { 'f:finalizers': { 'v:"example.com/keep"': {} }, 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"main"}': { '.': {}, 'f:command': {}, 'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } }, 'f:image': {}, 'f:name': {}, 'f:resources': {} },
          'k:{"name":"side"}': { '.': {}, 'f:image': {}, 'f:name': {} },
        },
        'f:volumes': { 'k:{"name":"scratch"}': { '.': {}, 'f:emptyDir': {}, 'f:name': {} } },
      },
    }));
  });

  test('round-trips through fieldsV1 and managedFields entries', () => {
    const set = fieldSetOf(pod, fieldTypesOf(pods));
    assert.ok(FieldSet.fromFieldsV1(set.toFieldsV1()).equals(set));
    const managers: Manager[] = [
      { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', subresource: 'status', time: '2026-01-01T00:00:02Z', fields: new FieldSet([['f:status', 'f:phase']]) },
      { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2026-01-01T00:00:09Z', fields: set },
      { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:01Z', fields: new FieldSet([['f:spec', 'f:nodeName']]) },
    ];
    const entries = encodeManagedFields(managers);
    // Apply before Update, then by time.
    assert.deepEqual(entries.map((e) => e.manager), ['kubectl', 'kubectl-edit', 'kubelet']);
    assert.deepEqual(entries[2], { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:02Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:phase': {} } }, subresource: 'status' });
    const decoded = decodeManagedFields(entries);
    assert.ok(decoded[0]!.fields.equals(set));
    assert.equal(decoded[2]!.subresource, 'status');
  });

  test('prints paths as conflicts name them', () => {
    assert.equal(pathString(['f:spec', 'f:containers', 'k:{"name":"main"}', 'f:image']), '.spec.containers[name="main"].image');
    assert.equal(pathString(['f:metadata', 'f:finalizers', 'v:"a"']), '.metadata.finalizers[="a"]');
    assert.equal(pathString(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}']), '.spec.ports[port=80,protocol="TCP"]');
  });

  test('refuses a managedFields entry that is not well formed', () => {
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Patch', fieldsType: 'FieldsV1', fieldsV1: {} }]), /operation must be Apply or Update/);
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'x:y': {} } }]), /unknown path element "x:y"/);
  });
});

describe('server-side apply', () => {
  const live = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1', b: '2' } };

  function applied(config: Json, managers: Manager[] = [], by = 'alice', force = false) {
    return apply(live, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, ...config }, managers, writer(by), force);
  }

  test('an applier owns exactly the fields its configuration sets', () => {
    const result = applied({ data: { a: '1' } });
    assert.deepEqual(result.object, live);
    assert.deepEqual(fieldsOf(result.managers, 'alice'), { 'f:data': { 'f:a': {} } });
  });

  test('changing a field another manager owns is a conflict, with the API server\'s message', () => {
    const first = applied({ data: { a: '1', b: '2' } }).managers;
    assert.throws(
      () => applied({ data: { a: '9', b: '8' } }, first, 'bob'),
      (err: unknown) => err instanceof ApplyConflictError
        && err.message === 'Apply failed with 2 conflicts: conflicts with "alice":\n- .data.a\n- .data.b'
        && err.conflicts.length === 2,
    );
  });

  test('forced, the applier takes the fields and the other manager keeps the rest', () => {
    const first = applied({ data: { a: '1', b: '2' } }).managers;
    const result = applied({ data: { a: '9' } }, first, 'bob', true);
    assert.deepEqual((result.object as Json).data, { a: '9', b: '2' });
    assert.deepEqual(fieldsOf(result.managers, 'alice'), { 'f:data': { 'f:b': {} } });
    assert.deepEqual(fieldsOf(result.managers, 'bob'), { 'f:data': { 'f:a': {} } });
  });

  test('a null in the configuration removes the field, and is a change like any other value', () => {
    const first = applied({ data: { a: '1', b: '2' } }).managers;
    assert.throws(() => applied({ data: { b: null } }, first, 'bob'), /conflict with "alice": \.data\.b$/);
    const forced = applied({ data: { b: null } }, first, 'bob', true);
    assert.deepEqual((forced.object as Json).data, { a: '1' });
    assert.deepEqual(fieldsOf(forced.managers, 'alice'), { 'f:data': { 'f:a': {} } });
  });

  test('an update takes the fields it changes from every manager, without conflict', () => {
    const first = applied({ data: { a: '1', b: '2' } }).managers;
    const managers = recordUpdate(live, { ...live, data: { a: '5', b: '2', c: '3' } }, first, writer('kubectl-edit'));
    assert.deepEqual(fieldsOf(managers, 'alice'), { 'f:data': { 'f:b': {} } });
    assert.deepEqual(fieldsOf(managers, 'kubectl-edit'), { 'f:data': { 'f:a': {}, 'f:c': {} } });
    assert.equal(managers.find((m) => m.manager === 'kubectl-edit')!.operation, 'Update');
  });

  test('an update that changes nothing records nothing', () => {
    assert.deepEqual(recordUpdate(live, structuredClone(live), [], writer('kubectl-edit')), []);
  });

  test('a field the applier stops applying is removed, unless someone else owns it', () => {
    const first = applied({ data: { a: '1', b: '2' } }).managers;
    assert.deepEqual((applied({ data: { a: '1' } }, first).object as Json).data, { a: '1' });
    const shared = applied({ data: { b: '2' } }, first, 'bob').managers;
    assert.deepEqual((applied({ data: { a: '1' } }, shared).object as Json).data, { a: '1', b: '2' });
  });

  test('a map or list the removal empties goes with it', () => {
    const first = applied({ metadata: { name: 'c', labels: { app: 'web' } }, data: { a: '1' } }).managers;
    const labelled = { ...live, metadata: { ...live.metadata, labels: { app: 'web' } } };
    const result = apply(labelled, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, first, writer('alice'), false);
    assert.deepEqual((result.object as typeof live).metadata, { name: 'c', namespace: 'default' });
  });

  test('applying the same configuration again returns the same object and managers, time included', () => {
    const first = applied({ data: { a: '1' } }).managers;
    const again = apply(live, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, first, { ...writer('alice'), now: '2030-01-01T00:00:00Z' }, false);
    assert.deepEqual(again.object, live);
    assert.deepEqual(encodeManagedFields(again.managers), encodeManagedFields(first));
  });

  test('a status write owns status fields only, under its subresource', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Pending' } };
    const managers = recordUpdate(pod, { ...pod, status: { phase: 'Running' } }, [], writer('kubelet', pods, 'status'));
    assert.deepEqual(managers.map((m) => [m.manager, m.subresource]), [['kubelet', 'status']]);
    assert.deepEqual(fieldsOf(managers, 'kubelet'), { 'f:status': { 'f:phase': {} } });
  });
});

describe('moving from client-side apply', () => {
  const lastApplied = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } });
  const live = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }, data: { a: '1', b: '1' } };
  const owners: Manager[] = [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', fields: new FieldSet([['f:data', 'f:a'], ['f:data', 'f:b']]) }];
  const config = (data: Json) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });

  test('kubectl takes, without a conflict, the fields its last client-side apply set, and the annotation follows', () => {
    const result = applyAfterClientSide(live, config({ a: '2' }), owners, writer('kubectl'), false);
    assert.deepEqual((result.object as { data: Json }).data, { a: '2', b: '1' });
    const annotation = ((result.object as typeof live).metadata.annotations)['kubectl.kubernetes.io/last-applied-configuration'];
    assert.deepEqual(JSON.parse(annotation), config({ a: '2' }));
  });

  test('a field the annotation does not name still conflicts, and so does any other manager', () => {
    assert.throws(() => applyAfterClientSide(live, config({ a: '2', b: '2' }), owners, writer('kubectl'), false), /conflict with "kubectl-client-side-apply" using v1: \.data\.b$/);
    assert.throws(() => applyAfterClientSide(live, config({ a: '2' }), owners, writer('flux'), false), /conflict with "kubectl-client-side-apply" using v1: \.data\.a$/);
  });
});

describe('merging lists', () => {
  const podTypes = fieldTypesOf(pods);

  test('associative lists merge item by item: live-only items stay, in place', () => {
    const live = { spec: { containers: [{ name: 'a', image: '1' }, { name: 'injected', image: 'proxy' }, { name: 'b', image: '1' }] } };
    const config = { spec: { containers: [{ name: 'a', image: '2' }, { name: 'b', image: '2' }, { name: 'c', image: '2' }] } };
    assert.deepEqual(merge(live, config, podTypes), {
      spec: { containers: [{ name: 'a', image: '2' }, { name: 'injected', image: 'proxy' }, { name: 'b', image: '2' }, { name: 'c', image: '2' }] },
    });
  });

  test('atomic lists are replaced whole; sets gain the applied items', () => {
    const live = { metadata: { finalizers: ['x'] }, spec: { containers: [{ name: 'a', command: ['sh', '-c', 'old'] }] } };
    const config = { metadata: { finalizers: ['y'] }, spec: { containers: [{ name: 'a', command: ['true'] }] } };
    assert.deepEqual(merge(live, config, podTypes), { metadata: { finalizers: ['x', 'y'] }, spec: { containers: [{ name: 'a', command: ['true'] }] } });
  });

  test('a custom resource\'s lists follow its schema: map lists by their keys, sets by value, the rest atomic', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            routes: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['host', 'port'], items: { type: 'object', properties: { host: { type: 'string' }, port: { type: 'integer' }, weight: { type: 'integer' } } } },
            tags: { type: 'array', items: { type: 'string' } },
            aliases: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
            selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: { type: 'string' } },
          },
        },
      },
    };
    const types = fieldTypesOf({ ...configMaps, kind: 'Route', schema });
    const live = { spec: { routes: [{ host: 'a', port: 80, weight: 1 }, { host: 'a', port: 443, weight: 1 }], tags: ['x'], aliases: ['old'], selector: { app: 'a', tier: 'b' } } };
    const config = { spec: { routes: [{ host: 'a', port: 443, weight: 5 }], tags: ['y'], aliases: ['new'], selector: { app: 'c' } } };
    assert.deepEqual(merge(live, config, types), {
      spec: { routes: [{ host: 'a', port: 80, weight: 1 }, { host: 'a', port: 443, weight: 5 }], tags: ['y'], aliases: ['old', 'new'], selector: { app: 'c' } },
    });
    assert.deepEqual(fieldSetOf(config, types).toFieldsV1(), {
      'f:spec': { 'f:aliases': { 'v:"new"': {} }, 'f:routes': { 'k:{"host":"a","port":443}': { '.': {}, 'f:host': {}, 'f:port': {}, 'f:weight': {} } }, 'f:selector': {}, 'f:tags': {} },
    });
  });
});
