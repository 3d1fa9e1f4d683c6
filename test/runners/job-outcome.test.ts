import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/object.ts';
import { jobState, OUTPUT_LIMIT, outputTail, runOutcome, type JobState } from '../../src/runners/job-outcome.ts';
import { timeoutLine } from '../../src/runners/hook-script.ts';

const NOW = '2025-06-02T00:10:00Z';

const job = (status?: Record<string, unknown>): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'reload-edge-renewed-0123456789' }, ...(status ? { status } : {}) });
const condition = (type: string, reason?: string, message?: string, status = 'True') => ({ type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) });
const pod = (terminated: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'reload-edge-renewed-0123456789-abcde' },
  status: { containerStatuses: [{ name: 'hook', state: { terminated } }] },
});
const JOB_TIMES = { startTime: '2025-06-02T00:00:00Z', completionTime: '2025-06-02T00:00:20Z' };

describe('jobState', () => {
  const cases: [string, KubeObject, Pick<JobState, 'finished' | 'succeeded'> & { reason: string | undefined }][] = [
    ['no status yet: not finished', job(), { finished: false, succeeded: false, reason: undefined }],
    ['running: not finished', job({ active: 1, startTime: JOB_TIMES.startTime }), { finished: false, succeeded: false, reason: undefined }],
    ['Complete=True: finished and succeeded', job({ ...JOB_TIMES, conditions: [condition('SuccessCriteriaMet'), condition('Complete')] }), { finished: true, succeeded: true, reason: undefined }],
    ['Failed=True: finished, not succeeded', job({ conditions: [condition('FailureTarget', 'DeadlineExceeded'), condition('Failed', 'DeadlineExceeded')] }), { finished: true, succeeded: false, reason: 'DeadlineExceeded' }],
    ['FailureTarget alone (pods still terminating): not finished', job({ conditions: [condition('FailureTarget', 'BackoffLimitExceeded')] }), { finished: false, succeeded: false, reason: undefined }],
    ['Complete=False: not finished', job({ conditions: [condition('Complete', undefined, undefined, 'False')] }), { finished: false, succeeded: false, reason: undefined }],
  ];
  for (const [what, j, expected] of cases) {
    test(what, () => {
      const state = jobState(j);
      assert.deepEqual({ finished: state.finished, succeeded: state.succeeded, reason: state.condition?.reason }, expected);
    });
  }

  test('carries the deciding condition and the Job times', () => {
    const failed = condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    assert.deepEqual(jobState(job({ ...JOB_TIMES, conditions: [failed] })), {
      finished: true,
      succeeded: false,
      condition: failed,
      startTime: JOB_TIMES.startTime,
      completionTime: JOB_TIMES.completionTime,
    });
  });
});

describe('runOutcome', () => {
  const succeeded = jobState(job({ ...JOB_TIMES, conditions: [condition('Complete')] }));
  const timedOut = jobState(job({ ...JOB_TIMES, conditions: [condition('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline')] }));
  const backoff = jobState(job({ ...JOB_TIMES, conditions: [condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] }));
  const containerTimes = { startedAt: '2025-06-02T00:00:05Z', finishedAt: '2025-06-02T00:00:08Z' };

  test('exit 0: Succeeded, Completed, with the container times and duration', () => {
    assert.deepEqual(runOutcome(succeeded, pod({ exitCode: 0, reason: 'Completed', ...containerTimes }), 'reloaded\n', 30, NOW), {
      startTime: '2025-06-02T00:00:05Z',
      completionTime: '2025-06-02T00:00:08Z',
      durationSeconds: 3,
      exitCode: 0,
      output: 'reloaded\n',
      phase: 'Succeeded',
      reason: 'Completed',
      message: 'the hook exited 0',
    });
  });

  test('the deadline exceeded: Failed, TimedOut, "timeout after Ns", even with the kill exit code', () => {
    const outcome = runOutcome(timedOut, pod({ exitCode: 137, reason: 'Error', ...containerTimes }), '', 45, NOW);
    assert.deepEqual(
      { phase: outcome.phase, reason: outcome.reason, message: outcome.message, exitCode: outcome.exitCode },
      { phase: 'Failed', reason: 'TimedOut', message: 'timeout after 45s', exitCode: 137 },
    );
  });

  test('the deadline exceeded with no pod left: TimedOut, Job times', () => {
    const outcome = runOutcome(timedOut, undefined, '', 30, NOW);
    assert.deepEqual(
      { reason: outcome.reason, message: outcome.message, startTime: outcome.startTime, completionTime: outcome.completionTime, durationSeconds: outcome.durationSeconds },
      { reason: 'TimedOut', message: 'timeout after 30s', ...JOB_TIMES, durationSeconds: 20 },
    );
    assert.equal('exitCode' in outcome, false);
  });

  test('stopped by the watchdog at its timeout: Failed, TimedOut, "timeout after Ns", with the output before it', () => {
    const output = `reloading\nwaiting for the rollout\n${timeoutLine(45)}\n`;
    const outcome = runOutcome(backoff, pod({ exitCode: 124, reason: 'Error', ...containerTimes }), output, 45, NOW);
    assert.deepEqual(
      { phase: outcome.phase, reason: outcome.reason, message: outcome.message, exitCode: outcome.exitCode, output: outcome.output },
      { phase: 'Failed', reason: 'TimedOut', message: 'timeout after 45s', exitCode: 124, output },
    );
    assert.equal(timeoutLine(45), 'certhook: timeout after 45s: the command was stopped');
    // The message says the timeout the Job ran with, even if the hook has changed since.
    assert.equal(runOutcome(backoff, pod({ exitCode: 124 }), timeoutLine(20), 45, NOW).message, 'timeout after 20s');
  });

  test("a command's own exit 124 (without the watchdog's line) is an ordinary exit code", () => {
    const outcome = runOutcome(backoff, pod({ exitCode: 124, reason: 'Error', ...containerTimes }), 'curl: timed out\n', 45, NOW);
    assert.deepEqual({ reason: outcome.reason, message: outcome.message }, { reason: 'ExitCode', message: 'the hook exited with code 124' });
    const quoted = runOutcome(backoff, pod({ exitCode: 3 }), `${timeoutLine(45)}\n`, 45, NOW);
    assert.equal(quoted.reason, 'ExitCode', 'the line alone, with another code, is not a timeout');
  });

  test('a non-zero exit: Failed, ExitCode, with the code', () => {
    const outcome = runOutcome(backoff, pod({ exitCode: 3, reason: 'Error', ...containerTimes }), 'nginx: [emerg] bad config\n', 30, NOW);
    assert.deepEqual(
      { phase: outcome.phase, reason: outcome.reason, message: outcome.message, exitCode: outcome.exitCode, output: outcome.output },
      { phase: 'Failed', reason: 'ExitCode', message: 'the hook exited with code 3', exitCode: 3, output: 'nginx: [emerg] bad config\n' },
    );
  });

  test('a failure without an exit code: Failed, JobFailed, with the Job condition', () => {
    const outcome = runOutcome(backoff, undefined, '', 30, NOW);
    assert.deepEqual(
      { phase: outcome.phase, reason: outcome.reason, message: outcome.message },
      { phase: 'Failed', reason: 'JobFailed', message: 'the Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit' },
    );
    assert.equal('exitCode' in outcome, false);
  });

  test('no times known: completed now, no start and no duration', () => {
    const outcome = runOutcome(jobState(job({ conditions: [condition('Failed')] })), undefined, '', 30, NOW);
    assert.equal(outcome.completionTime, NOW);
    assert.equal('startTime' in outcome, false);
    assert.equal('durationSeconds' in outcome, false);
    assert.equal(outcome.message, 'the Job failed: unknown reason');
  });

  test('sub-second durations are kept to the millisecond', () => {
    const outcome = runOutcome(succeeded, pod({ exitCode: 0, startedAt: '2025-06-02T00:00:05.250Z', finishedAt: '2025-06-02T00:00:06.500Z' }), '', 30, NOW);
    assert.equal(outcome.durationSeconds, 1.25);
  });

  test('the output is kept as its tail', () => {
    const long = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');
    assert.equal(runOutcome(succeeded, undefined, long, 30, NOW).output, outputTail(long));
    assert.ok(outputTail(long).length <= OUTPUT_LIMIT);
  });
});

describe('outputTail', () => {
  test(`output of at most ${OUTPUT_LIMIT} characters stays whole`, () => {
    assert.equal(OUTPUT_LIMIT, 4096);
    for (const output of ['', 'ok\n', 'y'.repeat(OUTPUT_LIMIT), `${'z\n'.repeat(OUTPUT_LIMIT / 2)}`]) {
      assert.equal(outputTail(output), output);
    }
  });

  test('longer output is cut at the start of a line near the limit', () => {
    const output = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')} ${'x'.repeat(60)}`).join('\n');
    const tail = outputTail(output);
    assert.ok(tail.length <= OUTPUT_LIMIT && tail.length > OUTPUT_LIMIT - 65, `${tail.length} characters`);
    assert.ok(output.endsWith(tail));
    assert.equal(output[output.length - tail.length - 1], '\n');
    assert.match(tail, /^\d{3} x/);
  });

  test('one long line is cut at exactly the limit', () => {
    const output = `start ${'x'.repeat(10_000)} end`;
    assert.equal(outputTail(output), output.slice(-OUTPUT_LIMIT));
  });

  test('a line start far from the cut is not worth losing the output for', () => {
    // The only newline is 1000 characters into the tail: cutting there would drop a quarter.
    const output = `${'a'.repeat(5000)}\n${'b'.repeat(OUTPUT_LIMIT - 1000 - 1)}`;
    assert.equal(outputTail(output), output.slice(-OUTPUT_LIMIT));
  });
});
