import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/object.ts';
import { builtinPrinters } from '../../src/sandbox/builtin-printers.ts';

const now = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'web', creationTimestamp: ago(90), ...extra });
const printer = (resource: string) => {
  const found = builtinPrinters[resource];
  assert.ok(found, resource);
  return found;
};
const headers = (resource: string, priority = 0) => printer(resource).columns.filter((c) => c.priority === priority).map((c) => c.name);
const row = (resource: string, obj: Omit<KubeObject, 'metadata'> & { metadata: KubeObject['metadata'] }) => printer(resource).row(obj, now);

describe('builtin printers: column sets', () => {
  test('match kube-apiserver, wide columns at priority 1', () => {
    assert.deepEqual(headers('namespaces'), ['Name', 'Status', 'Age']);
    assert.deepEqual(headers('secrets'), ['Name', 'Type', 'Data', 'Age']);
    assert.deepEqual(headers('configmaps'), ['Name', 'Data', 'Age']);
    assert.deepEqual(headers('serviceaccounts'), ['Name', 'Secrets', 'Age']);
    assert.deepEqual(headers('pods'), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    assert.deepEqual(headers('pods', 1), ['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    assert.deepEqual(headers('jobs'), ['Name', 'Status', 'Completions', 'Duration', 'Age']);
    assert.deepEqual(headers('jobs', 1), ['Containers', 'Images', 'Selector']);
    assert.deepEqual(headers('events'), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    assert.deepEqual(headers('leases'), ['Name', 'Holder', 'Age']);
    assert.deepEqual(headers('customresourcedefinitions'), ['Name', 'Created At']);
    for (const [resource, p] of Object.entries(builtinPrinters)) {
      assert.equal(p.row({ metadata: {} }, now).cells.length, p.columns.length, resource);
    }
  });
});

describe('builtin printers: cells', () => {
  test('namespaces, secrets, configmaps, serviceaccounts, leases', () => {
    assert.deepEqual(row('namespaces', { metadata: meta('web'), status: { phase: 'Active' } }).cells, ['web', 'Active', '90s']);
    assert.deepEqual(row('secrets', { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' }, stringData: { 'ca.crt': 'z', 'tls.key': 'w' } }).cells, [
      'tls',
      'kubernetes.io/tls',
      3,
      '90s',
    ]);
    assert.deepEqual(row('configmaps', { metadata: meta('cm'), data: { a: '1' }, binaryData: { b: 'AA==' } }).cells, ['cm', 2, '90s']);
    assert.deepEqual(row('serviceaccounts', { metadata: meta('sa'), secrets: [{ name: 's' }] }).cells, ['sa', 1, '90s']);
    assert.deepEqual(row('leases', { metadata: meta('certhook'), spec: { holderIdentity: 'pod-1' } }).cells, ['certhook', 'pod-1', '90s']);
    assert.deepEqual(row('leases', { metadata: { name: 'x' } }).cells, ['x', '', '<unknown>']);
  });

  test('customresourcedefinitions show the creation time in RFC 3339', () => {
    assert.deepEqual(row('customresourcedefinitions', { metadata: { name: 'deployhooks.certhook.io', creationTimestamp: '2025-05-01T10:00:00.5Z' } }).cells, [
      'deployhooks.certhook.io',
      '2025-05-01T10:00:00Z',
    ]);
    assert.deepEqual(row('customresourcedefinitions', { metadata: { name: 'x' } }).cells, ['x', '0001-01-01T00:00:00Z']);
  });

  describe('pods', () => {
    const pod = (status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      metadata: meta('hook-run-abc', extra),
      spec: { containers: [{ name: 'hook' }], nodeName: 'sandbox' },
      status,
    });

    test('pending, running and the wide columns', () => {
      assert.deepEqual(row('pods', pod({ phase: 'Pending' })).cells, ['hook-run-abc', '0/1', 'Pending', '0', '90s', '<none>', 'sandbox', '<none>', '<none>']);
      const running = row('pods', pod({ phase: 'Running', podIP: '10.0.0.5', containerStatuses: [{ name: 'hook', ready: true, restartCount: 0, state: { running: {} } }] }));
      assert.deepEqual(running.cells.slice(1, 4), ['1/1', 'Running', '0']);
      assert.equal(running.cells[5], '10.0.0.5');
      assert.equal(running.conditions, undefined);
    });

    test('a finished container gives its reason or exit code, and the row is marked completed', () => {
      const done = row('pods', pod({ phase: 'Succeeded', containerStatuses: [{ name: 'hook', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }));
      assert.equal(done.cells[2], 'Completed');
      assert.deepEqual(done.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
      const failed = row('pods', pod({ phase: 'Failed', containerStatuses: [{ name: 'hook', state: { terminated: { exitCode: 3 } } }] }));
      assert.equal(failed.cells[2], 'ExitCode:3');
      assert.equal(failed.conditions?.[0]?.reason, 'Failed');
      const killed = row('pods', pod({ phase: 'Failed', containerStatuses: [{ name: 'hook', state: { terminated: { exitCode: 137, signal: 9 } } }] }));
      assert.equal(killed.cells[2], 'Signal:9');
      const waiting = row('pods', pod({ phase: 'Pending', containerStatuses: [{ name: 'hook', state: { waiting: { reason: 'ContainerCreating' } } }] }));
      assert.equal(waiting.cells[2], 'ContainerCreating');
    });

    test('init containers report progress; restarts show when the last one was', () => {
      const init = {
        metadata: meta('p'),
        spec: { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'c' }] },
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'i1', state: { terminated: { exitCode: 0 } } },
            { name: 'i2', state: { running: {} } },
          ],
        },
      };
      assert.equal(row('pods', init).cells[2], 'Init:1/2');
      const crashed = {
        ...init,
        status: { phase: 'Pending', initContainerStatuses: [{ name: 'i1', restartCount: 2, lastState: { terminated: { finishedAt: ago(30) } }, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
      };
      assert.deepEqual(row('pods', crashed).cells.slice(2, 4), ['Init:CrashLoopBackOff', '2 (30s ago)']);
    });

    test('a pod being deleted is Terminating', () => {
      assert.equal(row('pods', pod({ phase: 'Running' }, { deletionTimestamp: ago(1) })).cells[2], 'Terminating');
      assert.equal(row('pods', pod({ phase: 'Succeeded' }, { deletionTimestamp: ago(1) })).cells[2], 'Succeeded');
    });
  });

  describe('jobs', () => {
    const job = (status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      metadata: meta('hook-run', extra),
      spec: {
        completions: 1,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
        template: { spec: { containers: [{ name: 'hook', image: 'busybox' }, { name: 'log', image: 'alpine' }] } },
      },
      status,
    });

    test('running, complete and failed, with duration and the wide columns', () => {
      const running = row('jobs', job({ startTime: ago(75), active: 1 })).cells;
      assert.deepEqual(running, ['hook-run', 'Running', '0/1', '75s', '90s', 'hook,log', 'busybox,alpine', 'batch.kubernetes.io/controller-uid=u1']);
      const complete = row('jobs', job({ startTime: ago(80), completionTime: ago(20), succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })).cells;
      assert.deepEqual(complete.slice(1, 4), ['Complete', '1/1', '60s']);
      const failed = row('jobs', job({ conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True' }] })).cells;
      assert.deepEqual(failed.slice(1, 4), ['Failed', '0/1', '']);
      assert.equal(row('jobs', job({ conditions: [{ type: 'FailureTarget', status: 'True' }] })).cells[1], 'FailureTarget');
      assert.equal(row('jobs', job({ conditions: [{ type: 'Suspended', status: 'True' }] })).cells[1], 'Suspended');
      assert.equal(row('jobs', job({}, { deletionTimestamp: ago(1) })).cells[1], 'Terminating');
    });

    test('completions without spec.completions, and a missing selector', () => {
      const parallel = { metadata: meta('j'), spec: { parallelism: 3 }, status: { succeeded: 1 } };
      assert.deepEqual(row('jobs', parallel).cells.slice(2, 3), ['1/1 of 3']);
      assert.equal(row('jobs', parallel).cells[7], '<none>');
    });
  });

  test('events: core/v1 and events.k8s.io/v1', () => {
    const core = {
      metadata: meta('hook.123'),
      involvedObject: { kind: 'DeployHook', name: 'reload-edge', fieldPath: 'spec' },
      reason: 'Fired',
      message: ' ran job hook-run \n',
      type: 'Normal',
      firstTimestamp: ago(600),
      lastTimestamp: ago(30),
      count: 4,
      source: { component: 'certhook', host: 'node-1' },
    };
    assert.deepEqual(row('events', core).cells, ['30s', 'Normal', 'Fired', 'deployhook/reload-edge', 'spec', 'certhook, node-1', 'ran job hook-run', '10m', 4, 'hook.123']);
    const modern = {
      metadata: meta('hook.456'),
      regarding: { kind: 'Secret', name: 'tls' },
      reason: 'Renewed',
      note: 'certificate changed',
      type: 'Warning',
      eventTime: ago(100),
      reportingController: 'certhook.io/operator',
    };
    assert.deepEqual(row('events', modern).cells, ['100s', 'Warning', 'Renewed', 'secret/tls', '', 'certhook.io/operator', 'certificate changed', '100s', 1, 'hook.456']);
    const series = { ...modern, series: { count: 7, lastObservedTime: ago(5) } };
    assert.deepEqual([row('events', series).cells[0], row('events', series).cells[8]], ['5s', 7]);
    assert.equal(row('events', { metadata: meta('e') }).cells[5], '<unknown>');
  });
});
