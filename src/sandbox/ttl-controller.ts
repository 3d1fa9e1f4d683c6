// The TTL-after-finished controller: deletes a finished Job `ttlSecondsAfterFinished` after its
// Complete or Failed condition, its pods following by garbage collection.
import type { SandboxApi } from './api.ts';
import { finishedAt } from './job-plan.ts';
import { jobSpecOf } from './pod-types.ts';
import type { ResourceType } from './registry.ts';
import { deleteIfExists, getIfExists } from './retrying-update.ts';
import { WorkQueue } from './work-queue.ts';

export class TtlAfterFinishedController {
  private readonly api: SandboxApi;
  private readonly jobs: ResourceType;
  private readonly onError: (err: unknown) => void;
  private queue: WorkQueue | undefined;
  private unwatch: (() => void) | undefined;

  constructor(api: SandboxApi, opts: { onError?: (err: unknown) => void } = {}) {
    this.api = api;
    this.jobs = api.type('batch', 'jobs');
    this.onError = opts.onError ?? ((err) => console.error('sandbox ttl-after-finished controller:', err));
  }

  start(): void {
    const queue = new WorkQueue((key) => this.sync(key), { onError: (err) => this.onError(err) });
    this.queue = queue;
    this.unwatch = this.api.watch(this.jobs, undefined, {}, (e) => queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`));
  }

  stop(): void {
    this.unwatch?.();
    this.queue?.stop();
  }

  private sync(key: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    const job = getIfExists(this.api, this.jobs, { namespace, name });
    if (!job || job.metadata.deletionTimestamp) return;
    const ttl = jobSpecOf(job).ttlSecondsAfterFinished;
    const finished = finishedAt(job);
    if (typeof ttl !== 'number' || finished === undefined) return;
    const left = Date.parse(finished) + ttl * 1000 - Date.now();
    if (left > 0) {
      this.queue?.addAfter(key, left);
      return;
    }
    // Foreground, as the real controller deletes; the uid precondition spares a newer Job of the same name.
    deleteIfExists(this.api, this.jobs, { namespace, name, uid: job.metadata.uid! }, 'Foreground');
  }
}
