import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { JobController } from '../../src/sandbox/job-controller.ts';
import type { KubeObject } from '../../src/sandbox/store.ts';
import { condition, isAlive, readPid, secretData, shellJob, startHarness, status, waitFor, type Harness } from './workloads-harness.ts';

const NS = 'default';

function podsOf(h: Harness, job: string): KubeObject[] {
  return h.api.list(h.pods, NS, { labelSelector: `job-name=${job}` }).items;
}

function finished(h: Harness, name: string): KubeObject | undefined {
  const job = h.api.get(h.jobs, NS, name);
  return condition(job, 'Complete') || condition(job, 'Failed') ? job : undefined;
}

/** Records the name of every pod ever created, so retries are counted even after pods are gone. */
function recordPodCreations(h: Harness): string[] {
  const created: string[] = [];
  h.api.watch(h.pods, NS, {}, (e) => {
    if (e.type === 'ADDED') created.push(e.object.metadata.name!);
  });
  return created;
}

describe('sandbox Job controller', () => {
  test('a Job runs its command with its env and mounted Secret, and completes', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.secrets, NS, { metadata: { name: 'site-tls' }, data: secretData({ 'tls.crt': 'CERT-PEM', 'tls.key': 'KEY-PEM' }) });
    h.api.create(h.jobs, NS, shellJob('deploy', 'echo "greeting=$GREETING"; cat "$CERT_PATH"; echo; echo to-stderr >&2', {
      pod: { volumes: [{ name: 'cert', secret: { secretName: 'site-tls' } }] },
      container: {
        env: [{ name: 'GREETING', value: 'hello' }, { name: 'CERT_PATH', value: '/etc/certhook/tls.crt' }],
        volumeMounts: [{ name: 'cert', mountPath: '/etc/certhook', readOnly: true }],
      },
    }));

    const job = await waitFor('the Job to finish', () => finished(h, 'deploy'));
    assert.ok(condition(job, 'Complete'), JSON.stringify(job.status));
    assert.deepEqual(status(job).conditions.map((c: { type: string }) => c.type), ['SuccessCriteriaMet', 'Complete']);
    assert.equal(condition(job, 'Complete')!.reason, 'CompletionsReached');
    assert.equal(status(job).succeeded, 1);
    assert.equal(status(job).failed, undefined);
    assert.equal(status(job).active, undefined);
    assert.ok(status(job).startTime && status(job).completionTime);

    const [pod, ...more] = podsOf(h, 'deploy');
    assert.equal(more.length, 0);
    assert.match(pod!.metadata.name!, /^deploy-[a-z0-9]{5}$/);
    assert.deepEqual(pod!.metadata.ownerReferences, [
      { apiVersion: 'batch/v1', kind: 'Job', name: 'deploy', uid: job.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(pod!.metadata.finalizers, undefined, 'the tracking finalizer is released once counted');
    assert.equal(status(pod!).phase, 'Succeeded');
    assert.deepEqual(
      { exitCode: status(pod!).containerStatuses[0].state.terminated.exitCode, reason: status(pod!).containerStatuses[0].state.terminated.reason },
      { exitCode: 0, reason: 'Completed' },
    );
    const log = h.logs.read(NS, pod!.metadata.name!).toString();
    assert.match(log, /^greeting=hello$/m);
    assert.match(log, /^CERT-PEM$/m);
    assert.match(log, /^to-stderr$/m);
  });

  test('a failing command with backoffLimit 0 fails the Job with BackoffLimitExceeded', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.jobs, NS, shellJob('broken', 'echo trying; exit 3'));

    const job = await waitFor('the Job to finish', () => finished(h, 'broken'));
    assert.deepEqual(status(job).conditions.map((c: { type: string }) => c.type), ['FailureTarget', 'Failed']);
    assert.equal(condition(job, 'Failed')!.reason, 'BackoffLimitExceeded');
    assert.equal(condition(job, 'Failed')!.message, 'Job has reached the specified backoff limit');
    assert.equal(status(job).failed, 1);
    assert.equal(status(job).completionTime, undefined);
    const pods = podsOf(h, 'broken');
    assert.equal(pods.length, 1);
    assert.equal(status(pods[0]!).phase, 'Failed');
    assert.equal(status(pods[0]!).containerStatuses[0].state.terminated.exitCode, 3);
    assert.equal(status(pods[0]!).containerStatuses[0].state.terminated.reason, 'Error');
  });

  test('backoffLimit 1 retries a failed pod once, with a new pod', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.jobs, NS, shellJob('flaky', 'exit 1', { spec: { backoffLimit: 1 } }));

    const job = await waitFor('the Job to finish', () => finished(h, 'flaky'));
    assert.equal(condition(job, 'Failed')!.reason, 'BackoffLimitExceeded');
    assert.equal(status(job).failed, 2);
    const pods = podsOf(h, 'flaky');
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => status(p).phase === 'Failed'));
  });

  test('a retried pod that succeeds completes the Job', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const marker = join(h.scratch, 'tried');
    // Fails the first time, succeeds the second.
    h.api.create(h.jobs, NS, shellJob('second-time', `if [ -e ${marker} ]; then exit 0; fi; touch ${marker}; exit 1`, { spec: { backoffLimit: 2 } }));

    const job = await waitFor('the Job to finish', () => finished(h, 'second-time'));
    assert.ok(condition(job, 'Complete'));
    assert.equal(status(job).failed, 1);
    assert.equal(status(job).succeeded, 1);
    assert.equal(podsOf(h, 'second-time').length, 2);
  });

  // startTime has whole seconds, so a deadline of N seconds may fire up to a second early, as in Kubernetes.
  test('activeDeadlineSeconds kills the running process and fails the Job with DeadlineExceeded', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const pidFile = join(h.scratch, 'pid');
    h.api.create(h.jobs, NS, shellJob('slow', `echo $$$$ > ${pidFile}; exec sleep 30`, { spec: { activeDeadlineSeconds: 2, backoffLimit: 3 } }));
    const pid = await readPid(pidFile);

    const job = await waitFor('the Job to finish', () => finished(h, 'slow'));
    const failed = condition(job, 'Failed');
    assert.equal(failed?.reason, 'DeadlineExceeded');
    assert.equal(failed?.message, 'Job was active longer than specified deadline');
    assert.equal(condition(job, 'FailureTarget')?.reason, 'DeadlineExceeded');
    assert.equal(status(job).failed, 1);
    assert.equal(status(job).active, undefined);
    await waitFor('the process to die', () => !isAlive(pid), 10_000);
  });

  test('ttlSecondsAfterFinished deletes the finished Job and its pods', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const created = recordPodCreations(h);
    h.api.create(h.jobs, NS, shellJob('short-lived', 'echo done', { spec: { ttlSecondsAfterFinished: 0 } }));

    await waitFor('a pod', () => created.length > 0);
    await waitFor('the Job to be deleted', () => h.api.list(h.jobs, NS).items.length === 0);
    await waitFor('its pods to be deleted', () => podsOf(h, 'short-lived').length === 0);
  });

  test('ttlSecondsAfterFinished waits that long after the Job finished', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.jobs, NS, shellJob('lingers', 'true', { spec: { ttlSecondsAfterFinished: 1 } }));

    await waitFor('the Job to finish', () => finished(h, 'lingers'));
    await waitFor('the Job to be deleted', () => h.api.list(h.jobs, NS).items.length === 0);
  });

  test('deleting a running Job with Background propagation kills its process', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const pidFile = join(h.scratch, 'pid');
    h.api.create(h.jobs, NS, shellJob('doomed', `echo $$$$ > ${pidFile}; exec sleep 30`));
    const pid = await readPid(pidFile);
    await waitFor('the pod to run', () => podsOf(h, 'doomed').find((p) => status(p).phase === 'Running'));

    h.api.delete(h.jobs, NS, 'doomed', { propagationPolicy: 'Background' });
    await waitFor('the process to die', () => !isAlive(pid), 10_000);
    await waitFor('the pod to be deleted', () => podsOf(h, 'doomed').length === 0);
  });

  test('deleting a Job with Orphan propagation leaves its pod running to completion', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const go = join(h.scratch, 'go');
    h.api.create(h.jobs, NS, shellJob('orphaning', `while [ ! -e ${go} ]; do sleep 0.05; done; echo finished`));
    await waitFor('the pod to run', () => podsOf(h, 'orphaning').find((p) => status(p).phase === 'Running'));

    h.api.delete(h.jobs, NS, 'orphaning', { propagationPolicy: 'Orphan' });
    await waitFor('the Job to be deleted', () => h.api.list(h.jobs, NS).items.length === 0);
    const orphan = await waitFor('the pod to lose its owner and finalizer', () =>
      podsOf(h, 'orphaning').find((p) => !p.metadata.ownerReferences && !p.metadata.finalizers));
    writeFileSync(go, '');
    const done = await waitFor('the orphan to finish', () => {
      const p = h.api.get(h.pods, NS, orphan.metadata.name!);
      return status(p).phase === 'Succeeded' && p;
    });
    assert.match(h.logs.read(NS, done.metadata.name!).toString(), /finished/);
  });

  test('a restarted controller picks up Jobs without creating a second pod for an attempt', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const go = join(h.scratch, 'go');
    const created = recordPodCreations(h);
    h.api.create(h.jobs, NS, shellJob('steady', `while [ ! -e ${go} ]; do sleep 0.05; done`));
    await waitFor('the pod to run', () => podsOf(h, 'steady').find((p) => status(p).phase === 'Running'));

    // The controller goes away; a Job is created meanwhile and the watch history expires.
    h.workloads.jobs.stop();
    h.api.create(h.jobs, NS, shellJob('while-down', 'echo ran'));
    h.store.expireHistory();
    const restarted = new JobController(h.api, { backoffBaseMs: 50 });
    restarted.start();
    t.after(() => restarted.stop());

    const late = await waitFor('the Job created while down to finish', () => finished(h, 'while-down'));
    assert.ok(condition(late, 'Complete'));
    writeFileSync(go, '');
    const steady = await waitFor('the running Job to finish', () => finished(h, 'steady'));
    assert.ok(condition(steady, 'Complete'));
    assert.equal(status(steady).succeeded, 1);
    assert.equal(created.filter((n) => n.startsWith('steady-')).length, 1);
    assert.equal(created.filter((n) => n.startsWith('while-down-')).length, 1);
  });

  test('a suspended Job creates no pod until it is resumed', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.jobs, NS, shellJob('paused', 'echo resumed', { spec: { suspend: true } }));

    const suspended = await waitFor('the Suspended condition', () => {
      const job = h.api.get(h.jobs, NS, 'paused');
      return condition(job, 'Suspended') && job;
    });
    assert.equal(condition(suspended, 'Suspended')!.reason, 'JobSuspended');
    assert.equal(status(suspended).startTime, undefined);
    assert.equal(podsOf(h, 'paused').length, 0);

    const current = h.api.get(h.jobs, NS, 'paused');
    h.api.update(h.jobs, NS, 'paused', { ...current, spec: { ...(current.spec as object), suspend: false } });
    const job = await waitFor('the Job to finish', () => finished(h, 'paused'));
    assert.ok(condition(job, 'Complete'));
    const resumed = status(job).conditions.find((c: { type: string }) => c.type === 'Suspended');
    assert.deepEqual([resumed.status, resumed.reason], ['False', 'JobResumed']);
  });

  test('with restartPolicy OnFailure the container restarts in its pod and restarts count against backoffLimit', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const created = recordPodCreations(h);
    h.api.create(h.jobs, NS, shellJob('crashing', 'echo attempt; exit 1', { spec: { backoffLimit: 1 }, pod: { restartPolicy: 'OnFailure' } }));

    const restarted = await waitFor('a restarted container', () =>
      podsOf(h, 'crashing').find((p) => status(p).containerStatuses?.[0]?.restartCount >= 1));
    assert.equal(status(restarted).containerStatuses[0].lastState.terminated.exitCode, 1);
    const job = await waitFor('the Job to finish', () => finished(h, 'crashing'));
    assert.equal(condition(job, 'Failed')!.reason, 'BackoffLimitExceeded');
    assert.equal(created.length, 1);
  });
});
