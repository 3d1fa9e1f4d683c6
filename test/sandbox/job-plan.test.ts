import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planJob, TRACKING_FINALIZER, withCounted, withUncounted } from '../../src/sandbox/job-plan.ts';
import type { KubeObject } from '../../src/sandbox/store.ts';

const now = new Date('2030-01-01T00:00:10Z');

function job(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'j', namespace: 'ns', uid: 'job-uid' },
    spec: { backoffLimit: 0, completions: 1, parallelism: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c' }] } }, ...spec },
    status,
  };
}

function pod(uid: string, phase: string, opts: { tracked?: boolean; deleting?: boolean; ready?: boolean } = {}): KubeObject {
  return {
    metadata: {
      name: uid,
      uid,
      ...(opts.tracked === false ? {} : { finalizers: [TRACKING_FINALIZER] }),
      ...(opts.deleting ? { deletionTimestamp: '2030-01-01T00:00:05Z' } : {}),
    },
    status: { phase, ...(opts.ready ? { conditions: [{ type: 'Ready', status: 'True' }] } : {}) },
  };
}

describe('counting finished pods', () => {
  test('a finished pod is recorded once, and counted once its finalizer is gone', () => {
    const pods = [pod('ok', 'Succeeded'), pod('bad', 'Failed'), pod('gone', 'Running', { deleting: true }), pod('busy', 'Running')];
    const recorded = withUncounted({}, pods);
    assert.deepEqual(recorded.uncountedTerminatedPods, { succeeded: ['ok'], failed: ['bad', 'gone'] });
    assert.deepEqual(withUncounted(recorded, pods), recorded);

    // Only `ok` lost its finalizer so far.
    const partly = withCounted(recorded, [pod('ok', 'Succeeded', { tracked: false }), pod('bad', 'Failed'), pod('gone', 'Running', { deleting: true })]);
    assert.equal(partly.succeeded, 1);
    assert.equal(partly.failed, undefined);
    assert.deepEqual(partly.uncountedTerminatedPods, { failed: ['bad', 'gone'] });
    const all = withCounted(partly, []);
    assert.deepEqual([all.succeeded, all.failed, all.uncountedTerminatedPods], [1, 2, {}]);
    assert.deepEqual(withUncounted(all, [pod('ok', 'Succeeded', { tracked: false })]).uncountedTerminatedPods, {});
  });
});

describe('planJob', () => {
  test('a new Job gets its start time and one pod', () => {
    const plan = planJob(job(), [], now);
    assert.equal(plan.create, 1);
    assert.equal(plan.status.startTime, '2030-01-01T00:00:10Z');
    assert.equal(plan.status.active, 1);
  });

  test('an active pod is not duplicated', () => {
    const plan = planJob(job({}, { startTime: '2030-01-01T00:00:00Z' }), [pod('a', 'Running', { ready: true })], now);
    assert.equal(plan.create, 0);
    assert.deepEqual([plan.status.active, plan.status.ready], [1, 1]);
  });

  test('a replacement waits out the back-off', () => {
    const plan = planJob(job({ backoffLimit: 3 }, { startTime: '2030-01-01T00:00:00Z', failed: 1 }), [], now, now.getTime() + 500);
    assert.equal(plan.create, 0);
    assert.equal(plan.recheckInMs, 500);
  });

  test('the deadline marks the failure target and removes active pods; Failed waits until they are gone', () => {
    const running = pod('a', 'Running');
    const first = planJob(job({ activeDeadlineSeconds: 5 }, { startTime: '2030-01-01T00:00:00Z' }), [running], now);
    assert.deepEqual(first.remove, [running]);
    assert.deepEqual(first.status.conditions?.map((c) => [c.type, c.reason]), [['FailureTarget', 'DeadlineExceeded']]);
    assert.equal(first.status.terminating, 1);

    const later = planJob(job({ activeDeadlineSeconds: 5 }, { ...first.status, failed: 1 }), [], now);
    assert.deepEqual(later.status.conditions?.map((c) => [c.type, c.reason]), [['FailureTarget', 'DeadlineExceeded'], ['Failed', 'DeadlineExceeded']]);
    assert.equal(later.status.completionTime, undefined);
  });

  test('the deadline not yet reached asks for a sync when it is', () => {
    const plan = planJob(job({ activeDeadlineSeconds: 30 }, { startTime: '2030-01-01T00:00:00Z' }), [pod('a', 'Running')], now);
    assert.equal(plan.recheckInMs, 20_000);
    assert.equal(plan.status.conditions, undefined);
  });

  test('completion waits for uncounted pods', () => {
    const pending = planJob(job({}, { startTime: '2030-01-01T00:00:00Z', succeeded: 1, uncountedTerminatedPods: { failed: ['x'] } }), [], now);
    assert.deepEqual(pending.status.conditions?.map((c) => c.type), ['SuccessCriteriaMet']);
    const done = planJob(job({}, { ...pending.status, uncountedTerminatedPods: {} }), [], now);
    assert.deepEqual(done.status.conditions?.map((c) => c.type), ['SuccessCriteriaMet', 'Complete']);
    assert.equal(done.status.completionTime, '2030-01-01T00:00:10Z');
  });
});
