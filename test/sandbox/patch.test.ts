import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError, type JsonObject } from '../../src/sandbox/patch.ts';

const frozen = <T>(value: T): T => {
  const deepFreeze = (v: unknown) => {
    if (typeof v === 'object' && v !== null) {
      Object.freeze(v);
      for (const child of Object.values(v)) deepFreeze(child);
    }
  };
  deepFreeze(value);
  return value;
};

const rejects = (fn: () => unknown, status: 400 | 422, message: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof PatchError && err.status === status && message.test(err.message));

describe('applyMergePatch (RFC 7386)', () => {
  test('merges objects recursively, null deletes, other values replace', () => {
    const target = frozen({ a: 'b', c: { d: 'e', f: 'g' }, list: [1, 2] });
    const result = applyMergePatch(target, { a: 'z', c: { f: null, h: 1 }, list: [3] });
    assert.deepEqual(result, { a: 'z', c: { d: 'e', h: 1 }, list: [3] });
  });

  test('the RFC 7386 appendix examples', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, expected] of cases) assert.deepEqual(applyMergePatch(target, patch), expected);
  });

  test('does not mutate or share structure with its inputs', () => {
    const target = { spec: { x: { y: 1 } }, keep: { deep: [1] } };
    const patch = { spec: { added: { z: 2 } } };
    const result = applyMergePatch(target, patch) as JsonObject;
    ((result.keep as JsonObject).deep as number[]).push(2);
    ((result.spec as JsonObject).added as JsonObject).z = 3;
    assert.deepEqual(target, { spec: { x: { y: 1 } }, keep: { deep: [1] } });
    assert.deepEqual(patch, { spec: { added: { z: 2 } } });
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = () => frozen({ foo: 'bar', list: ['a', 'b'], nested: { 'a/b': 1, 'm~n': 2 } });

  test('add to an object, inserts into an array, appends with -', () => {
    assert.deepEqual(
      applyJsonPatch(doc(), [
        { op: 'add', path: '/baz', value: { q: 1 } },
        { op: 'add', path: '/list/1', value: 'x' },
        { op: 'add', path: '/list/-', value: 'end' },
        { op: 'add', path: '/list/4', value: 'after-end' },
      ]),
      { foo: 'bar', list: ['a', 'x', 'b', 'end', 'after-end'], nested: { 'a/b': 1, 'm~n': 2 }, baz: { q: 1 } },
    );
  });

  test('remove and replace', () => {
    assert.deepEqual(
      applyJsonPatch(doc(), [
        { op: 'remove', path: '/list/0' },
        { op: 'replace', path: '/foo', value: null },
        { op: 'remove', path: '/nested' },
      ]),
      { foo: null, list: ['b'] },
    );
  });

  test('~1 and ~0 escape / and ~ in pointer tokens', () => {
    assert.deepEqual(
      applyJsonPatch(doc(), [
        { op: 'replace', path: '/nested/a~1b', value: 10 },
        { op: 'replace', path: '/nested/m~0n', value: 20 },
      ]),
      { foo: 'bar', list: ['a', 'b'], nested: { 'a/b': 10, 'm~n': 20 } },
    );
  });

  test('move and copy', () => {
    const moved = applyJsonPatch(doc(), [{ op: 'move', from: '/foo', path: '/nested/foo' }]);
    assert.deepEqual(moved, { list: ['a', 'b'], nested: { 'a/b': 1, 'm~n': 2, foo: 'bar' } });
    const copied = applyJsonPatch(doc(), [{ op: 'copy', from: '/list', path: '/copy' }]) as JsonObject;
    (copied.copy as string[]).push('mutated');
    assert.deepEqual(copied.list, ['a', 'b']);
    assert.throws(() => applyJsonPatch(doc(), [{ op: 'move', from: '/nested', path: '/nested/inner' }]), PatchError);
  });

  test('test passes on equal JSON (any key order) and fails with a 422', () => {
    const ok = applyJsonPatch({ o: { a: 1, b: [1, { c: 2 }] } }, [
      { op: 'test', path: '/o', value: { b: [1, { c: 2 }], a: 1 } },
      { op: 'add', path: '/done', value: true },
    ]);
    assert.deepEqual(ok, { o: { a: 1, b: [1, { c: 2 }] }, done: true });
    rejects(() => applyJsonPatch(doc(), [{ op: 'test', path: '/foo', value: 'nope' }]), 422, /testing value \/foo failed/);
  });

  test('the whole document is the empty pointer', () => {
    assert.deepEqual(applyJsonPatch(doc(), [{ op: 'replace', path: '', value: [1] }]), [1]);
  });

  test('bad paths fail with a 422 and leave the input untouched', () => {
    const target = { a: { b: 1 }, list: [1] };
    rejects(() => applyJsonPatch(target, [{ op: 'add', path: '/missing/child', value: 1 }]), 422, /add operation does not apply.*\/missing\/child/);
    rejects(() => applyJsonPatch(target, [{ op: 'remove', path: '/a/zz' }]), 422, /remove operation does not apply/);
    rejects(() => applyJsonPatch(target, [{ op: 'replace', path: '/nope', value: 1 }]), 422, /replace operation does not apply/);
    rejects(() => applyJsonPatch(target, [{ op: 'add', path: '/list/5', value: 1 }]), 422, /out of range/);
    rejects(() => applyJsonPatch(target, [{ op: 'add', path: '/list/01', value: 1 }]), 422, /out of range/);
    rejects(() => applyJsonPatch(target, [{ op: 'remove', path: '/list/-' }]), 422, /out of range/);
    rejects(() => applyJsonPatch(target, [{ op: 'add', path: 'a', value: 1 }]), 422, /must start with "\/"/);
    rejects(() => applyJsonPatch(target, [{ op: 'add', path: '/a~2', value: 1 }]), 422, /bad "~" escape/);
    rejects(() => applyJsonPatch(target, [{ op: 'add', path: '/a' }]), 422, /has no "value"/);
    rejects(() => applyJsonPatch(target, [{ op: 'frob', path: '/a' }]), 422, /unexpected operation "frob"/);
    // All or nothing: the first operation applied to a copy that is thrown away.
    rejects(() => applyJsonPatch(target, [{ op: 'add', path: '/x', value: 1 }, { op: 'test', path: '/x', value: 2 }]), 422, /test failed/);
    assert.deepEqual(target, { a: { b: 1 }, list: [1] });
  });

  test('a patch that is not a list of operations is a 400', () => {
    rejects(() => applyJsonPatch({}, { op: 'add', path: '/a', value: 1 }), 400, /array/);
    rejects(() => applyJsonPatch({}, ['add']), 400, /array/);
  });
});

describe('applyStrategicMergePatch', () => {
  const pod = () =>
    frozen({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', finalizers: ['a', 'b'], labels: { x: '1' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:1',
            args: ['--one'],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [{ containerPort: 80, name: 'http' }],
            volumeMounts: [{ mountPath: '/certs', name: 'certs' }],
          },
          { name: 'sidecar', image: 'side:1' },
        ],
        volumes: [{ name: 'certs', secret: { secretName: 's', items: [{ key: 'tls.crt', path: 'a' }] } }],
        tolerations: [{ key: 't1' }],
      },
      status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] },
    });
  const smp = (patch: unknown, target: object = pod(), kind = 'Pod') => applyStrategicMergePatch(target, patch, kind) as any;

  test('containers merge by name and their env by name; primitive lists and unknown lists are replaced', () => {
    const result = smp({
      spec: {
        containers: [{ name: 'app', image: 'app:2', args: ['--two'], env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] }],
        tolerations: [{ key: 't2' }],
      },
    });
    const [app, sidecar] = result.spec.containers;
    assert.equal(app.image, 'app:2');
    assert.deepEqual(app.args, ['--two']);
    assert.deepEqual(app.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    assert.deepEqual(app.ports, [{ containerPort: 80, name: 'http' }]);
    assert.deepEqual(sidecar, { name: 'sidecar', image: 'side:1' });
    assert.deepEqual(result.spec.tolerations, [{ key: 't2' }]);
  });

  test('the container list merges inside a Job pod template too', () => {
    const job = { kind: 'Job', spec: { template: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } } } };
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } }, job, 'Job');
    assert.deepEqual(result.spec.template.spec.containers, [
      { name: 'a', image: '1' },
      { name: 'b', image: '2' },
    ]);
  });

  test('ports merge by containerPort, volumeMounts by mountPath, volumes by name (items replaced), conditions by type', () => {
    const result = smp({
      spec: {
        containers: [{ name: 'app', ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ mountPath: '/certs', readOnly: true }] }],
        volumes: [{ name: 'certs', secret: { items: [{ key: 'tls.key', path: 'b' }] } }],
      },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const [app] = result.spec.containers;
    assert.deepEqual(app.ports, [{ containerPort: 80, name: 'http', protocol: 'TCP' }]);
    assert.deepEqual(app.volumeMounts, [{ mountPath: '/certs', name: 'certs', readOnly: true }]);
    assert.deepEqual(result.spec.volumes, [{ name: 'certs', secret: { secretName: 's', items: [{ key: 'tls.key', path: 'b' }] } }]);
    assert.deepEqual(result.status.conditions, [
      { type: 'Ready', status: 'True' },
      { type: 'Initialized', status: 'True' },
    ]);
  });

  test('ownerReferences merge by uid and ServiceAccount secrets by name', () => {
    const owned = { metadata: { ownerReferences: [{ uid: 'u1', name: 'one' }] } };
    assert.deepEqual(smp({ metadata: { ownerReferences: [{ uid: 'u1', controller: true }, { uid: 'u2', name: 'two' }] } }, owned).metadata.ownerReferences, [
      { uid: 'u1', name: 'one', controller: true },
      { uid: 'u2', name: 'two' },
    ]);
    const sa = { metadata: { name: 'sa' }, secrets: [{ name: 's1' }], imagePullSecrets: [{ name: 'r1' }] };
    const patched = smp({ secrets: [{ name: 's2' }], imagePullSecrets: [{ name: 'r2' }] }, sa, 'ServiceAccount');
    assert.deepEqual(patched.secrets, [{ name: 's2' }, { name: 's1' }]);
    assert.deepEqual(patched.imagePullSecrets, [{ name: 'r2' }, { name: 'r1' }]);
    // `secrets` is a merge list only for ServiceAccounts.
    assert.deepEqual(smp({ secrets: [{ name: 's2' }] }, sa, 'Other').secrets, [{ name: 's2' }]);
  });

  test('new items come before later server-only items, as apimachinery orders them', () => {
    const list = { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } };
    assert.deepEqual(smp({ spec: { containers: [{ name: 'd' }] } }, list).spec.containers.map((c: any) => c.name), ['d', 'a', 'b', 'c']);
    assert.deepEqual(smp({ spec: { containers: [{ name: 'b', x: 1 }, { name: 'd' }] } }, list).spec.containers.map((c: any) => c.name), ['a', 'b', 'd', 'c']);
  });

  test('finalizers merge as a set; $deleteFromPrimitiveList removes from them', () => {
    assert.deepEqual(smp({ metadata: { finalizers: ['b', 'c'] } }).metadata.finalizers, ['a', 'b', 'c']);
    assert.deepEqual(smp({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }).metadata.finalizers, ['b']);
    // Namespace spec.finalizers is not a merge list.
    const ns = { spec: { finalizers: ['kubernetes'] } };
    assert.deepEqual(smp({ spec: { finalizers: ['other'] } }, ns, 'Namespace').spec.finalizers, ['other']);
  });

  test('$patch: delete removes a list element by merge key, and in a map empties it', () => {
    const result = smp({
      spec: { containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'app', env: [{ name: 'A', $patch: 'delete' }] }] },
      metadata: { labels: { $patch: 'delete' } },
    });
    assert.deepEqual(result.spec.containers.map((c: any) => c.name), ['app']);
    assert.deepEqual(result.spec.containers[0].env, [{ name: 'B', value: '2' }]);
    assert.deepEqual(result.metadata.labels, {});
  });

  test('$patch: replace replaces a map or a merge list; $patch: merge is the default', () => {
    const result = smp({
      metadata: { labels: { $patch: 'replace', y: '2' } },
      spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'o' }] },
      status: { $patch: 'merge', phase: 'Running' },
    });
    assert.deepEqual(result.metadata.labels, { y: '2' });
    assert.deepEqual(result.spec.containers, [{ name: 'only', image: 'o' }]);
    assert.equal(result.status.phase, 'Running');
    assert.equal(result.status.conditions.length, 2);
    rejects(() => smp({ spec: { $patch: 'explode' } }), 400, /unknown patch type/);
  });

  test('$setElementOrder orders a merged list, with or without the list in the patch', () => {
    const list = { metadata: { finalizers: ['a', 'b', 'c'] }, spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } };
    const reordered = smp({ spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'b' }, { name: 'a' }] } }, list);
    assert.deepEqual(reordered.spec.containers.map((c: any) => c.name), ['c', 'b', 'a']);
    assert.equal(reordered.spec['$setElementOrder/containers'], undefined);
    const merged = smp(
      { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }, { name: 'd' }], containers: [{ name: 'd', image: 'd' }] } },
      list,
    );
    assert.deepEqual(merged.spec.containers.map((c: any) => c.name), ['b', 'a', 'd', 'c']);
    const finalizers = smp({ metadata: { '$setElementOrder/finalizers': ['c', 'a'] } }, list);
    // Ordered items c, a; the unlisted b keeps its place relative to them in the live order.
    assert.deepEqual(finalizers.metadata.finalizers, ['b', 'c', 'a']);
  });

  test('$retainKeys clears keys not listed and rejects patch keys outside the list', () => {
    const target = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const result = smp({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, target, 'Deployment');
    assert.deepEqual(result.spec.strategy, { type: 'Recreate' });
    rejects(() => smp({ spec: { strategy: { $retainKeys: ['type'], other: 1 } } }, target), 400, /retainKeys/);
  });

  test('null deletes a key; new values carry no nulls or directives', () => {
    const result = smp({ metadata: { labels: null, annotations: { a: '1', gone: null } }, spec: { containers: [{ name: 'new', image: null, env: [{ name: 'E', $patch: 'delete' }] }] } });
    assert.equal('labels' in result.metadata, false);
    assert.deepEqual(result.metadata.annotations, { a: '1' });
    assert.deepEqual(result.spec.containers[0], { name: 'new', env: [] });
  });

  test('a merge-list element without its merge key is a 400', () => {
    rejects(() => smp({ spec: { containers: [{ image: 'x' }] } }), 400, /does not contain declared merge key: name/);
  });

  test('does not mutate its inputs', () => {
    const target = pod();
    const patch = frozen({ spec: { containers: [{ name: 'app', $patch: 'delete' }] }, metadata: { labels: { $patch: 'replace' } } });
    smp(patch, target);
    assert.equal(target.spec.containers.length, 2);
    assert.equal(patch.spec.containers[0]!.$patch, 'delete');
  });
});
