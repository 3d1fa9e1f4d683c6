// The operator: caches of TLS Secrets, hooks, runs and Jobs, and the controllers between them.
// Secret changes are detected against the last state seen and planned as runs; runs and hooks
// are reconciled by key from whatever the caches hold.
import type { Logger } from 'pino';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { LABELS } from '../api/names.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/object.ts';
import { Reflector, type Change } from '../kube/reflector.ts';
import { collectionPath, RESOURCES } from '../kube/paths.ts';
import { cacheKey, type OperatorConfig, type OperatorContext } from './context.ts';
import { detect } from './detect.ts';
import { EventRecorder } from './event-recorder.ts';
import { reconcileHook } from './hook-reconciler.ts';
import { checkHook, type CheckedHook } from './hook-validity.ts';
import { certificateFiles, firingHooks, planFiring } from './planner.ts';
import { reconcileRun } from './run-reconciler.ts';
import { TLS_SECRET_TYPE, toTlsSecret, type TlsSecret } from './tls-secret.ts';
import { WorkQueue } from './work-queue.ts';
import { SerialQueues } from './serial-queues.ts';

export interface OperatorOptions {
  client: KubeClient;
  log: Logger;
  config: OperatorConfig;
  /** Restart a watch that has been silent (no event, no bookmark) this long. */
  watchIdleTimeoutMs?: number;
}

export interface Operator {
  readonly context: OperatorContext;
  /** True once every cache has been filled. */
  ready(): boolean;
  /** Resolves when no work is queued or under way (for tests and orderly shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** A run as the cache keeps it: the object without managedFields. */
function compactRun(obj: KubeObject): DeployHookRun {
  const { managedFields: _m, ...metadata } = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  return { ...obj, metadata } as DeployHookRun;
}

/** A Job as the cache keeps it: identity and status, which is all a run needs. */
function compactJob(obj: KubeObject): KubeObject {
  const { name, namespace, uid, labels, creationTimestamp } = obj.metadata;
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name, namespace, uid, labels, creationTimestamp }, spec: { activeDeadlineSeconds: (obj.spec as { activeDeadlineSeconds?: number })?.activeDeadlineSeconds }, status: obj.status };
}

export async function startOperator(opts: OperatorOptions): Promise<Operator> {
  const { client, log, config } = opts;
  const ns = config.namespace;
  const common = { client, log, ...(opts.watchIdleTimeoutMs ? { idleTimeoutMs: opts.watchIdleTimeoutMs } : {}) };
  const serial = new SerialQueues(log);
  let live = false;

  const ctx: OperatorContext = {
    client,
    log,
    config,
    recorder: new EventRecorder(client, log),
    planning: new Set(),
    runQueue: new WorkQueue('runs', (key) => reconcileRun(ctx, key), log),
    hookQueue: new WorkQueue('hooks', (key) => reconcileHook(ctx, key), log),
    caches: {
      hooks: new Reflector<CheckedHook>({
        ...common,
        path: collectionPath(RESOURCES.deployHooks, ns),
        transform: checkHook,
        onChange: (c) => ctx.hookQueue.add(c.key),
      }),
      runs: new Reflector<DeployHookRun>({
        ...common,
        path: collectionPath(RESOURCES.deployHookRuns, ns),
        transform: compactRun,
        onChange: (c) => {
          const run = c.current ?? c.previous!;
          ctx.runQueue.add(c.key);
          ctx.hookQueue.add(cacheKey(run.metadata.namespace!, run.spec.hookRef.name));
        },
      }),
      jobs: new Reflector<KubeObject>({
        ...common,
        path: collectionPath(RESOURCES.jobs, ns),
        query: { labelSelector: LABELS.run },
        transform: compactJob,
        onChange: (c) => {
          const job = c.current ?? c.previous!;
          ctx.runQueue.add(cacheKey(job.metadata.namespace!, job.metadata.labels?.[LABELS.run] ?? job.metadata.name!));
        },
      }),
      secrets: new Reflector<TlsSecret>({
        ...common,
        path: collectionPath(RESOURCES.secrets, ns),
        query: { fieldSelector: `type=${TLS_SECRET_TYPE}` },
        transform: toTlsSecret,
        onChange: (c) => onSecretChange(c),
      }),
    },
  };

  function onSecretChange(change: Change<TlsSecret>): void {
    const current = change.current;
    if (current?.problem && change.raw && current.problem.message !== change.previous?.problem?.message) {
      reportUnreadable(current, change.raw);
    }
    // The first list is the baseline: certificates that exist when the operator starts fire nothing.
    if (!live) return;
    for (const detection of detect(change.previous, current)) {
      const hooks = firingHooks(ctx, detection);
      if (!hooks.length) continue;
      // The files are read now, from the object the event carried, and dropped once written.
      const files = change.raw ? certificateFiles(change.raw) : undefined;
      for (const hook of hooks) serial.enqueue(change.key, () => planFiring(ctx, hook, detection, files));
    }
  }

  function reportUnreadable(secret: TlsSecret, raw: KubeObject): void {
    const problem = secret.problem!;
    log.warn({ secret: secret.name, namespace: secret.namespace, reason: problem.reason, problem: problem.message }, 'TLS Secret holds no readable certificate; no hook fires for it');
    void ctx.recorder.record(raw, 'Warning', problem.reason === 'Empty' ? 'CertificateEmpty' : 'CertificateUnparsable', `tls.crt holds no readable certificate, so no DeployHook fires for it: ${problem.message}`, raw.metadata.resourceVersion ?? '');
  }

  const { hooks, runs, jobs, secrets } = ctx.caches;
  for (const r of [hooks, runs, jobs]) r.start();
  await Promise.all([hooks.waitForSync(), runs.waitForSync(), jobs.waitForSync()]);
  secrets.start();
  await secrets.waitForSync();
  live = true;
  log.info({ namespace: ns ?? '(all)', secrets: secrets.cache.size, hooks: hooks.cache.size, runs: runs.cache.size }, 'operator started');

  return {
    context: ctx,
    ready: () => live,
    async idle() {
      for (;;) {
        await serial.idle();
        await ctx.runQueue.idle();
        await ctx.hookQueue.idle();
        if (serial.length === 0 && ctx.runQueue.length === 0 && ctx.hookQueue.length === 0) return;
      }
    },
    async stop() {
      ctx.runQueue.stop();
      ctx.hookQueue.stop();
      await Promise.all([hooks.stop(), runs.stop(), jobs.stop(), secrets.stop()]);
      await serial.idle();
    },
  };
}
