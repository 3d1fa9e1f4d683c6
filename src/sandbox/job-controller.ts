// The sandbox's stand-in for kube-controller-manager's Job controller: creates each Job's pods,
// counts how they end and writes the Job's status (through the status subresource), retries
// failed pods up to backoffLimit, enforces activeDeadlineSeconds. Level-triggered: every sync
// reads the Job and its pods afresh, so a restart (or a missed event) loses nothing and an
// attempt never gets two pods. The decisions themselves are in job-plan.ts.
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './api-error.ts';
import type { SandboxApi } from './api.ts';
import { hasTrackingFinalizer, isFinished, planJob, TRACKING_FINALIZER, uncountedUids, withCounted, withUncounted } from './job-plan.ts';
import { jobSpecOf, jobStatusOf, type JobStatus } from './pod-types.ts';
import type { ResourceType } from './registry.ts';
import { deleteIfExists, getIfExists, updateWithRetry } from './retrying-update.ts';
import type { KubeObject, OwnerReference } from './store.ts';
import { WorkQueue } from './work-queue.ts';
import { cloneJson } from '../schema/json.ts';

export interface JobControllerOptions {
  /** Delay before the replacement of the first failed pod; doubles with every failure. Default 200ms (Kubernetes: 10s). */
  backoffBaseMs?: number;
  /** Upper bound of that delay. Default 10s (Kubernetes: 6min). */
  backoffMaxMs?: number;
  onError?: (err: unknown) => void;
}

const JOB_API_VERSION = 'batch/v1';

/** The Job that controls a pod, if any. */
export function controllingJob(pod: KubeObject): OwnerReference | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Job' && r.apiVersion === JOB_API_VERSION);
}

export class JobController {
  private readonly api: SandboxApi;
  private readonly jobs: ResourceType;
  private readonly pods: ResourceType;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly onError: (err: unknown) => void;
  /** When each Job (by uid) last counted a new failure: replacements wait a back-off after it. */
  private readonly lastFailure = new Map<string, number>();
  private queue: WorkQueue | undefined;
  private unwatch: (() => void)[] = [];

  constructor(api: SandboxApi, opts: JobControllerOptions = {}) {
    this.api = api;
    this.jobs = api.type('batch', 'jobs');
    this.pods = api.type('', 'pods');
    this.backoffBaseMs = opts.backoffBaseMs ?? 200;
    this.backoffMaxMs = opts.backoffMaxMs ?? 10_000;
    this.onError = opts.onError ?? ((err) => console.error('sandbox job controller:', err));
  }

  start(): void {
    const queue = new WorkQueue((key) => this.sync(key), { onError: (err) => this.onError(err) });
    this.queue = queue;
    this.unwatch = [
      this.api.watch(this.jobs, undefined, {}, (e) => queue.add(`job:${e.object.metadata.namespace}/${e.object.metadata.name}`)),
      this.api.watch(this.pods, undefined, {}, (e) => {
        const { namespace, name } = e.object.metadata;
        const owner = controllingJob(e.object);
        if (owner) queue.add(`job:${namespace}/${owner.name}`);
        else if (hasTrackingFinalizer(e.object)) queue.add(`pod:${namespace}/${name}`);
      }),
    ];
  }

  stop(): void {
    for (const unwatch of this.unwatch) unwatch();
    this.unwatch = [];
    this.queue?.stop();
  }

  private sync(key: string): void {
    const [kind, ref] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const [namespace, name] = ref.split('/') as [string, string];
    if (kind === 'pod') this.releaseOrphan(namespace, name);
    else this.syncJob(key, namespace, name);
  }

  private syncJob(key: string, namespace: string, name: string): void {
    const found = getIfExists(this.api, this.jobs, { namespace, name });
    const uid = found?.metadata.uid;
    const claimed = this.podsControlledBy(namespace, name);
    // Pods of an earlier Job of this name, or of one that is gone, are no longer tracked.
    for (const pod of claimed) {
      const owner = controllingJob(pod)!.uid;
      if (owner === uid) continue;
      this.release(pod);
      this.lastFailure.delete(owner);
    }
    if (!found || !uid || found.metadata.deletionTimestamp) return;
    const tracked = this.trackFinishedPods(found, claimed.filter((p) => controllingJob(p)!.uid === uid));
    if (!tracked) return;
    const { job, pods } = tracked;

    const plan = planJob(job, pods, new Date(), this.retryNotBefore(job));
    for (const pod of plan.remove) deleteIfExists(this.api, this.pods, { namespace, name: pod.metadata.name!, uid: pod.metadata.uid! }, 'Background');
    try {
      for (let i = 0; i < plan.create; i++) this.createPod(job);
    } catch (err) {
      // 403: the namespace is terminating, and the Job goes with it.
      if (err instanceof ApiError && err.code === 403) return;
      throw err;
    }
    if (!isDeepStrictEqual(job.status, plan.status)) {
      try {
        this.api.update(this.jobs, namespace, name, { ...job, status: plan.status }, 'status');
      } catch (err) {
        // The plan was made from a Job that has changed since: make it again from the new one.
        if (err instanceof ApiError && err.code === 409) this.queue?.add(key);
        else if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    if (plan.recheckInMs !== undefined) this.queue?.addAfter(key, plan.recheckInMs);
    if (isFinished({ ...job, status: plan.status })) this.lastFailure.delete(uid);
  }

  /**
   * Counts every finished pod exactly once: record it in uncountedTerminatedPods, drop its
   * tracking finalizer, then move it into the counters. A finished Job counts no more; it only lets
   * its pods go. Returns the Job and its pods as they are afterwards, or undefined if the Job is gone.
   */
  private trackFinishedPods(job: KubeObject, pods: KubeObject[]): { job: KubeObject; pods: KubeObject[] } | undefined {
    const { namespace, name, uid } = job.metadata as { namespace: string; name: string; uid: string };
    const ref = { namespace, name, uid };
    const finished = isFinished(job);
    let current: KubeObject | undefined = job;
    if (!finished) current = this.writeStatus(ref, (s) => withUncounted(s, pods));
    if (!current) return undefined;
    const recorded = uncountedUids(jobStatusOf(current));
    for (const pod of pods) if (finished || recorded.has(pod.metadata.uid!)) this.release(pod);
    const remaining = this.podsControlledBy(namespace, name).filter((p) => controllingJob(p)!.uid === uid);
    if (!finished) {
      const failedBefore = jobStatusOf(current).failed ?? 0;
      current = this.writeStatus(ref, (s) => withCounted(s, remaining));
      if (!current) return undefined;
      if ((jobStatusOf(current).failed ?? 0) > failedBefore) this.lastFailure.set(uid, Date.now());
    }
    return { job: current, pods: remaining };
  }

  private retryNotBefore(job: KubeObject): number {
    const at = this.lastFailure.get(job.metadata.uid!);
    const failed = jobStatusOf(job).failed ?? 0;
    if (at === undefined || failed === 0) return 0;
    return at + Math.min(this.backoffBaseMs * 2 ** (failed - 1), this.backoffMaxMs);
  }

  private createPod(job: KubeObject): void {
    const { namespace, name, uid } = job.metadata;
    const template = jobSpecOf(job).template;
    this.api.create(this.pods, namespace, {
      metadata: {
        generateName: `${name}-`,
        namespace,
        labels: { ...template.metadata?.labels },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: JOB_API_VERSION, kind: 'Job', name: name!, uid: uid!, controller: true, blockOwnerDeletion: true }],
        finalizers: [TRACKING_FINALIZER],
      },
      spec: cloneJson(template.spec),
    });
  }

  private podsControlledBy(namespace: string, jobName: string): KubeObject[] {
    // The label narrows the list before it is copied; the owner reference decides.
    return this.api.list(this.pods, namespace, { labelSelector: `batch.kubernetes.io/job-name=${jobName}` }).items.filter((p) => controllingJob(p)?.name === jobName);
  }

  private writeStatus(ref: { namespace: string; name: string; uid: string }, next: (s: JobStatus) => JobStatus): KubeObject | undefined {
    return updateWithRetry(
      this.api,
      this.jobs,
      ref,
      (job) => {
        const status = next(jobStatusOf(job));
        if (isDeepStrictEqual(job.status, status)) return false;
        job.status = status;
        return true;
      },
      'status',
    );
  }

  /** Drops the tracking finalizer, so the pod can go once deleted. */
  private release(pod: KubeObject): void {
    if (!hasTrackingFinalizer(pod)) return;
    const { namespace, name, uid } = pod.metadata;
    updateWithRetry(this.api, this.pods, { namespace, name: name!, uid: uid! }, (p) => {
      if (!hasTrackingFinalizer(p)) return false;
      const rest = p.metadata.finalizers!.filter((f) => f !== TRACKING_FINALIZER);
      if (rest.length) p.metadata.finalizers = rest;
      else delete p.metadata.finalizers;
      return true;
    });
  }

  /** A pod with the tracking finalizer whose Job let it go (an orphaning delete) keeps it no longer. */
  private releaseOrphan(namespace: string, name: string): void {
    const pod = getIfExists(this.api, this.pods, { namespace, name });
    if (pod && !controllingJob(pod)) this.release(pod);
  }
}
