// A finished Job and its pod → the run's outcome. Pure.
import type { DeployHookRunStatus, JobAttempt } from '../api/deployhookrun.ts';
import { RUN_REASONS } from '../api/enums.ts';
import type { KubeObject } from '../kube/object.ts';
import { timeoutMessage, watchdogTimeout } from './hook-script.ts';

/** The hook's output kept on the run: the end, where the error usually is. */
export const OUTPUT_LIMIT = 4096;
/** Each attempt's output kept on the run, when the hook has retries. */
export const ATTEMPT_OUTPUT_LIMIT = 1024;

interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface JobState {
  finished: boolean;
  succeeded: boolean;
  condition: JobCondition | undefined;
  startTime: string | undefined;
  completionTime: string | undefined;
}

export function jobState(job: KubeObject): JobState {
  const status = (job.status ?? {}) as { conditions?: JobCondition[]; startTime?: string; completionTime?: string };
  const conditions = status.conditions ?? [];
  const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  return {
    finished: !!(complete ?? failed),
    succeeded: !!complete,
    condition: complete ?? failed,
    startTime: status.startTime,
    completionTime: status.completionTime,
  };
}

interface Terminated {
  exitCode?: number;
  reason?: string;
  startedAt?: string;
  finishedAt?: string;
}

export function terminatedState(pod: KubeObject | undefined): Terminated | undefined {
  const statuses = ((pod?.status ?? {}) as { containerStatuses?: { state?: { terminated?: Terminated } }[] }).containerStatuses;
  return statuses?.[0]?.state?.terminated;
}

/** The last `limit` characters of the output, cut at a line start when one is near. */
export function outputTail(output: string, limit = OUTPUT_LIMIT): string {
  if (output.length <= limit) return output;
  const tail = output.slice(-limit);
  if (output[output.length - limit - 1] === '\n') return tail;
  const newline = tail.indexOf('\n');
  return newline >= 0 && newline < 200 ? tail.slice(newline + 1) : tail;
}

/** One pod of a Job hook with retries, as the run records it. */
export function jobAttempt(pod: KubeObject, attempt: number, output: string): JobAttempt {
  const terminated = terminatedState(pod);
  const exitCode = terminated?.exitCode;
  const reason = exitCode === 0 ? RUN_REASONS.Completed
    : watchdogTimeout(exitCode, output) !== undefined ? RUN_REASONS.TimedOut
      : exitCode !== undefined ? RUN_REASONS.ExitCode
        : terminated?.reason ?? (pod.status as { reason?: string } | undefined)?.reason;
  return {
    attempt,
    pod: pod.metadata.name!,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(reason ? { reason } : {}),
    ...(terminated?.startedAt ? { startTime: terminated.startedAt } : {}),
    ...(terminated?.finishedAt ? { completionTime: terminated.finishedAt } : {}),
    output: outputTail(output, ATTEMPT_OUTPUT_LIMIT),
  };
}

function seconds(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) / 1000 : undefined;
}

/**
 * The final status of a run whose Job finished. A hook that ran past its timeout is TimedOut
 * whether the container's watchdog stopped it (exit 124, with its output) or, failing that, the
 * Job's deadline (the pod deleted).
 */
export function runOutcome(state: JobState, pod: KubeObject | undefined, output: string, timeoutSeconds: number, now: string): DeployHookRunStatus {
  const terminated = terminatedState(pod);
  const startTime = terminated?.startedAt ?? state.startTime;
  const completionTime = terminated?.finishedAt ?? state.completionTime ?? now;
  const durationSeconds = seconds(startTime, completionTime);
  const base: DeployHookRunStatus = {
    ...(startTime ? { startTime } : {}),
    completionTime,
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    ...(terminated?.exitCode !== undefined ? { exitCode: terminated.exitCode } : {}),
    output: outputTail(output),
  };
  if (state.succeeded) return { ...base, phase: 'Succeeded', reason: RUN_REASONS.Completed, message: 'the hook exited 0' };
  if (state.condition?.reason === 'DeadlineExceeded') {
    return { ...base, phase: 'Failed', reason: RUN_REASONS.TimedOut, message: timeoutMessage(timeoutSeconds) };
  }
  const stoppedAt = watchdogTimeout(terminated?.exitCode, output);
  if (stoppedAt !== undefined) {
    return { ...base, phase: 'Failed', reason: RUN_REASONS.TimedOut, message: timeoutMessage(stoppedAt) };
  }
  if (terminated?.exitCode !== undefined && terminated.exitCode !== 0) {
    return { ...base, phase: 'Failed', reason: RUN_REASONS.ExitCode, message: `the hook exited with code ${terminated.exitCode}` };
  }
  return {
    ...base,
    phase: 'Failed',
    reason: RUN_REASONS.JobFailed,
    message: `the Job failed: ${state.condition?.reason ?? 'unknown reason'}${state.condition?.message ? `: ${state.condition.message}` : ''}`,
  };
}
