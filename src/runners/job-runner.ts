// The Job runner: a hook's `spec.job` runs as a Kubernetes Job named after the run, with the
// snapshot mounted. What is Job-specific lives here: the Job manifest options, the Job cache, the
// Job's status, and reading the pod and its log for the outcome.
import type { Logger } from 'pino';
import type { Hook } from '../api/deployhook.ts';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { RUN_REASONS } from '../api/enums.ts';
import { nowTime } from '../api/metav1.ts';
import { LABELS } from '../api/names.ts';
import type { KubeClient } from '../kube/client.ts';
import { isTransient } from '../kube/errors.ts';
import { createOrGet, getIfExists } from '../kube/idempotent.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, objectPath, RESOURCES } from '../kube/paths.ts';
import { Reflector, type CacheLoop } from '../kube/reflector.ts';
import type { KubeMetrics } from '../metrics/kube.ts';
import { hookTimeoutSeconds } from './hook-script.ts';
import { hookJob, type JobOptions } from './job-manifest.ts';
import { jobAttempt, jobState, runOutcome } from './job-outcome.ts';
import type { Observation, Runner, Started, StartRequest } from './runner.ts';

export interface JobRunnerOptions {
  client: KubeClient;
  log: Logger;
  job: JobOptions;
  /** Watch one namespace only; undefined watches all. */
  namespace: string | undefined;
  idleTimeoutMs?: number;
  /** Counts the Jobs cache's watch restarts and re-lists, and reports its size. */
  metrics?: KubeMetrics;
  /** A Job of the run `namespace/name` changed: the run is to be observed again. */
  onRunChanged: (runKey: string) => void;
}

interface JobLimits {
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
}

/** A Job as the cache keeps it: identity, limits and status, which is all a run needs. */
function compactJob(obj: KubeObject): KubeObject {
  const { name, namespace, uid, labels, creationTimestamp } = obj.metadata;
  const { activeDeadlineSeconds, backoffLimit } = (obj.spec ?? {}) as JobLimits;
  const { conditions, startTime, completionTime } = (obj.status ?? {}) as { conditions?: { type: string; status: string; reason?: string; message?: string }[]; startTime?: string; completionTime?: string };
  // Of the labels, the run's; of the status, what the outcome reads (jobState).
  const run = labels?.[LABELS.run];
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name, namespace, uid, ...(run ? { labels: { [LABELS.run]: run } } : {}), creationTimestamp },
    spec: { activeDeadlineSeconds, backoffLimit },
    status: { ...(conditions ? { conditions: conditions.map(({ type, status, reason, message }) => ({ type, status, reason, message })) } : {}), startTime, completionTime },
  };
}

export class JobRunner implements Runner {
  readonly name = 'job';
  readonly caches: readonly CacheLoop[];
  private readonly jobs: Reflector<KubeObject>;
  private readonly opts: JobRunnerOptions;

  constructor(opts: JobRunnerOptions) {
    this.opts = opts;
    this.jobs = new Reflector<KubeObject>({
      client: opts.client,
      log: opts.log,
      path: collectionPath(RESOURCES.jobs, opts.namespace),
      query: { labelSelector: LABELS.run },
      transform: compactJob,
      ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
      metrics: opts.metrics,
      onChange: (c) => {
        const job = c.current ?? c.previous!;
        opts.onRunChanged(`${job.metadata.namespace}/${job.metadata.labels?.[LABELS.run] ?? job.metadata.name}`);
      },
    });
    this.caches = [this.jobs];
  }

  runs(hook: Hook): boolean {
    return !!hook.spec.job;
  }

  started(run: DeployHookRun): boolean {
    return !!run.status?.job;
  }

  async start({ run, hook, certificate, snapshot, context }: StartRequest): Promise<Started> {
    const spec = hook.spec.job;
    if (!spec) throw new Error(`DeployHook ${hook.metadata.name} has no spec.job: not a hook the Job runner runs`);
    const namespace = run.metadata.namespace!;
    const name = run.metadata.name!;
    const job = this.jobs.cache.get(`${namespace}/${name}`)
      ?? await createOrGet<KubeObject>(this.opts.client, collectionPath(RESOURCES.jobs, namespace), objectPath(RESOURCES.jobs, namespace, name), hookJob(run, hook, spec, certificate, snapshot, this.opts.job, context));
    // The Job's creation is when the run started: the same value however often this is written.
    return { startTime: job.metadata.creationTimestamp ?? nowTime(), status: { job: { name } } };
  }

  async observe(run: DeployHookRun, hook: Hook | undefined): Promise<Observation> {
    const namespace = run.metadata.namespace!;
    const jobName = run.status?.job?.name ?? run.metadata.name!;
    // The cache may lag the API: only the API says a Job does not exist.
    const job = this.jobs.cache.get(`${namespace}/${jobName}`)
      ?? await getIfExists<KubeObject>(this.opts.client, objectPath(RESOURCES.jobs, namespace, jobName));
    if (!job) {
      return { outcome: { phase: 'Unknown', reason: RUN_REASONS.JobNotFound, message: `Job "${jobName}" was deleted (by its TTL while no operator ran, say) before its outcome was read: whether the hook succeeded is not known` } };
    }
    const state = jobState(job);
    if (!state.finished) return { waiting: true };
    const pods = await this.podsOf(namespace, jobName);
    const pod = pods.at(-1);
    const output = pod ? await this.podLog(namespace, pod.metadata.name!) : '';
    const { activeDeadlineSeconds: deadline, backoffLimit = 0 } = (job.spec ?? {}) as JobLimits;
    const timeoutSeconds = hook?.spec.timeoutSeconds ?? (deadline === undefined ? 0 : hookTimeoutSeconds(deadline, backoffLimit));
    const outcome = runOutcome(state, pod, output, timeoutSeconds, nowTime());
    if (!backoffLimit) return { outcome };
    // A hook with retries: each attempt (a pod) with its exit code and output.
    const attempts = await Promise.all(pods.map(async (p, i) => jobAttempt(p, i + 1, p === pod ? output : await this.podLog(namespace, p.metadata.name!))));
    const tried = `attempt ${attempts.length} of ${backoffLimit + 1}`;
    return { outcome: { ...outcome, message: `${outcome.message} (${tried})`, job: { name: jobName, attempts } } };
  }

  /**
   * The Job's pods, oldest first: one for each attempt. The Job controller's backoff (10 s at
   * least) puts attempts in different seconds; within one second (a faster controller), the pod
   * written last is the later one.
   */
  private async podsOf(namespace: string, jobName: string): Promise<KubeObject[]> {
    const pods = await this.opts.client.get<{ items: KubeObject[] }>(collectionPath(RESOURCES.pods, namespace), { labelSelector: `batch.kubernetes.io/job-name=${jobName}` });
    const written = (p: KubeObject) => Number(p.metadata.resourceVersion) || 0;
    return pods.items.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || written(a) - written(b));
  }

  private async podLog(namespace: string, pod: string): Promise<string> {
    try {
      return await this.opts.client.text(objectPath(RESOURCES.pods, namespace, pod, 'log'), { tailLines: 200, limitBytes: 1 << 20 });
    } catch (err) {
      // Worth another try later (the run's work queue retries it); anything else will not mend.
      if (isTransient(err)) throw err;
      this.opts.log.warn({ pod, namespace, err: (err as Error).message }, 'could not read the hook\'s output');
      return '';
    }
  }
}
