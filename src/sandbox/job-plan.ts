// The Job controller's decisions, as pure functions of a Job and its pods: how finished pods are
// counted (through the `batch.kubernetes.io/job-tracking` finalizer and
// status.uncountedTerminatedPods, so no pod is counted twice or lost), and what to do next.
import type { Condition, JobStatus } from './pod-types.ts';
import { jobSpecOf, jobStatusOf, podStatusOf } from './pod-types.ts';
import type { KubeObject } from './store.ts';
import { timestamp } from './timestamps.ts';
import { cloneJson } from '../schema/json.ts';

export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export type PodOutcome = 'succeeded' | 'failed';

export const hasTrackingFinalizer = (pod: KubeObject) => pod.metadata.finalizers?.includes(TRACKING_FINALIZER) ?? false;

/** How a pod ended, as the Job controller counts it: a pod deleted before it succeeded has failed. */
export function podOutcome(pod: KubeObject): PodOutcome | undefined {
  const phase = podStatusOf(pod).phase;
  if (phase === 'Succeeded') return 'succeeded';
  if (phase === 'Failed' || pod.metadata.deletionTimestamp) return 'failed';
  return undefined;
}

export const isActive = (pod: KubeObject) => podOutcome(pod) === undefined;

const isTrue = (conditions: Condition[] | undefined, type: string) => conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

export const isFinished = (job: KubeObject) => {
  const conditions = jobStatusOf(job).conditions;
  return isTrue(conditions, 'Complete') || isTrue(conditions, 'Failed');
};

/** When the Job got its Complete or Failed condition. */
export function finishedAt(job: KubeObject): string | undefined {
  return jobStatusOf(job).conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.lastTransitionTime;
}

type Uncounted = Record<PodOutcome, string[]>;

function uncountedOf(status: JobStatus): Uncounted {
  return { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
}

function compact(u: Uncounted): JobStatus['uncountedTerminatedPods'] {
  return { ...(u.succeeded.length ? { succeeded: u.succeeded } : {}), ...(u.failed.length ? { failed: u.failed } : {}) };
}

/** uids that are recorded as finished but not yet in the counters. */
export function uncountedUids(status: JobStatus): Set<string> {
  const u = uncountedOf(status);
  return new Set([...u.succeeded, ...u.failed]);
}

/** Step 1: finished pods still holding the tracking finalizer are recorded as uncounted. */
export function withUncounted(status: JobStatus, pods: KubeObject[]): JobStatus {
  const u = uncountedOf(status);
  const known = uncountedUids(status);
  for (const pod of pods) {
    const outcome = podOutcome(pod);
    if (outcome && hasTrackingFinalizer(pod) && !known.has(pod.metadata.uid!)) u[outcome].push(pod.metadata.uid!);
  }
  return { ...status, uncountedTerminatedPods: compact(u) };
}

/** Step 3 (after the finalizers are removed): uncounted pods whose finalizer is gone move into the counters. */
export function withCounted(status: JobStatus, pods: KubeObject[]): JobStatus {
  const holding = new Set(pods.filter(hasTrackingFinalizer).map((p) => p.metadata.uid!));
  const u = uncountedOf(status);
  const next: JobStatus = { ...status };
  const still: Uncounted = { succeeded: [], failed: [] };
  for (const outcome of ['succeeded', 'failed'] as const) {
    let count = status[outcome] ?? 0;
    for (const uid of u[outcome]) {
      if (holding.has(uid)) still[outcome].push(uid);
      else count++;
    }
    if (count) next[outcome] = count;
    else delete next[outcome];
  }
  next.uncountedTerminatedPods = compact(still);
  return next;
}

export interface JobPlan {
  /** The status to write once `remove` and `create` are done. */
  status: JobStatus;
  /** Pods to delete. */
  remove: KubeObject[];
  /** How many pods to create. */
  create: number;
  /** Sync again after this long (a deadline or a retry back-off that has not passed yet). */
  recheckInMs?: number;
}

const REASONS = {
  completions: { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
  backoff: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
  deadline: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
};

/**
 * Step 4: what the Job needs now, given its counted status and its pods. `retryNotBefore` (epoch
 * ms) holds back replacement pods after a failure.
 */
export function planJob(job: KubeObject, pods: KubeObject[], now: Date, retryNotBefore = 0): JobPlan {
  const spec = jobSpecOf(job);
  const status: JobStatus = cloneJson(jobStatusOf(job));
  const at = timestamp(now);
  const conditions = (status.conditions ??= []);
  const setCondition = (type: string, value: 'True' | 'False', why: { reason: string; message: string }) => {
    const cond: Condition = { type, status: value, ...why, lastProbeTime: at, lastTransitionTime: at };
    const i = conditions.findIndex((c) => c.type === type);
    if (i === -1) conditions.push(cond);
    else conditions[i] = cond;
  };
  const active = pods.filter(isActive);
  const terminating = pods.filter((p) => p.metadata.deletionTimestamp && podStatusOf(p).phase !== 'Succeeded' && podStatusOf(p).phase !== 'Failed');
  let remove: KubeObject[] = [];
  let create = 0;
  let recheckInMs: number | undefined;

  if (isFinished(job)) {
    remove = active;
  } else if (spec.suspend) {
    if (!isTrue(conditions, 'Suspended')) setCondition('Suspended', 'True', { reason: 'JobSuspended', message: 'Job suspended' });
    remove = active;
  } else {
    if (isTrue(conditions, 'Suspended')) {
      setCondition('Suspended', 'False', { reason: 'JobResumed', message: 'Job resumed' });
      // A resumed Job's activeDeadlineSeconds counts from the resume.
      status.startTime = at;
    }
    status.startTime ??= at;
    const succeeded = status.succeeded ?? 0;
    const completions = spec.completions ?? 1;
    // With restartPolicy OnFailure the kubelet restarts failed containers in place; each restart is a failure.
    const restarts = spec.template.spec.restartPolicy === 'OnFailure'
      ? active.reduce((n, p) => n + (podStatusOf(p).containerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0), 0)
      : 0;
    const failures = (status.failed ?? 0) + restarts;
    let target = conditions.find((c) => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
    if (!target) {
      const deadlineLeft = spec.activeDeadlineSeconds === undefined ? undefined : Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 - now.getTime();
      if (succeeded >= completions) setCondition('SuccessCriteriaMet', 'True', REASONS.completions);
      else if (failures > (spec.backoffLimit ?? 6)) setCondition('FailureTarget', 'True', REASONS.backoff);
      else if (deadlineLeft !== undefined && deadlineLeft <= 0) setCondition('FailureTarget', 'True', REASONS.deadline);
      else if (deadlineLeft !== undefined) recheckInMs = deadlineLeft;
      target = conditions.find((c) => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
    }
    if (target) {
      remove = active;
      // The final condition waits until every pod has stopped and been counted, as in Kubernetes 1.31+.
      if (active.length === 0 && terminating.length === 0 && uncountedUids(status).size === 0) {
        const why = { reason: target.reason ?? '', message: target.message ?? '' };
        if (target.type === 'SuccessCriteriaMet') {
          setCondition('Complete', 'True', why);
          status.completionTime = at;
        } else {
          setCondition('Failed', 'True', why);
        }
      }
    } else {
      const wanted = Math.min(spec.parallelism ?? 1, completions - succeeded) - active.length;
      if (wanted < 0) remove = active.slice(wanted);
      else if (wanted > 0 && retryNotBefore > now.getTime()) recheckInMs = Math.min(recheckInMs ?? Infinity, retryNotBefore - now.getTime());
      else create = wanted;
    }
  }

  const staying = active.filter((p) => !remove.includes(p));
  if (conditions.length === 0) delete status.conditions;
  if (staying.length + create > 0) status.active = staying.length + create;
  else delete status.active;
  status.ready = staying.filter((p) => podStatusOf(p).conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  status.terminating = terminating.length + remove.length;
  status.uncountedTerminatedPods ??= {};
  return { status, remove, create, ...(recheckInMs !== undefined ? { recheckInMs } : {}) };
}
