// The operator: caches of TLS Secrets, hooks, runs and Jobs, and the controllers between them.
// Every replica keeps its caches warm; only the active one (the leader, with leader election)
// acts. On becoming active it re-lists (a standby's watch may have gone quiet unnoticed),
// reconciles the run ledger with the Secrets that exist, then detects Secret changes as they
// come and reconciles runs and hooks by key.
import type { Logger } from 'pino';
import type { DeployHookRun, DeployHookRunStatus } from '../api/deployhookrun.ts';
import { LABELS } from '../api/names.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/object.ts';
import { Reflector, type Change } from '../kube/reflector.ts';
import { collectionPath, RESOURCES } from '../kube/paths.ts';
import { withRetry } from '../kube/retry.ts';
import { CacheIndex } from '../kube/cache-index.ts';
import { cacheKey, hookSecretKey, runsOfHook, type OperatorConfig, type OperatorContext } from './context.ts';
import { EventRecorder } from './event-recorder.ts';
import { reconcileHook } from './hook-reconciler.ts';
import { reconcileRetention, RetentionTracker } from './retention-controller.ts';
import { checkHook, type CheckedHook } from './hook-validity.ts';
import { ledgerFirings } from './ledger.ts';
import { ledgerFiles, planFiring } from './planner.ts';
import { reconcileRun } from './run-reconciler.ts';
import { SecretChanges } from './secret-changes.ts';
import { SerialQueues } from './serial-queues.ts';
import { TLS_SECRET_TYPE, toTlsSecret, type TlsSecret } from './tls-secret.ts';
import { WorkQueue } from './work-queue.ts';

export interface OperatorOptions {
  client: KubeClient;
  log: Logger;
  config: OperatorConfig;
  /** Restart a watch that has been silent (no event, no bookmark) this long. */
  watchIdleTimeoutMs?: number;
  /**
   * Start acting as soon as the caches are filled (true, the default), or wait for `activate()`
   * (leader election calls it on winning the lease).
   */
  activateOnSync?: boolean;
  /**
   * Whether this replica still holds its leadership (the elector's own view, checked before
   * anything is started); absent without leader election.
   */
  isLeader?: () => boolean;
}

export interface Operator {
  readonly context: OperatorContext;
  /** True once every cache has been filled. */
  ready(): boolean;
  /** Whether this replica acts (plans and executes runs). */
  active(): boolean;
  /**
   * Starts acting: re-lists, reconciles the ledger, then handles changes as they come. Resolves
   * once acting has begun, or was called off by `deactivate()` or `stop()` meanwhile.
   */
  activate(): Promise<void>;
  /** Stops acting at once; the caches stay warm. */
  deactivate(): void;
  /** Resolves when no work is queued or under way (for tests and orderly shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** How long run changes gather before their hook's status and retention are worked out once. */
const HOOK_STATUS_DELAY_MS = 500;
/** Long loops over the caches yield to the event loop this often. */
const YIELD_EVERY = 1000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A run as the cache keeps it: what decisions read. Not managedFields, and not the output tail
 * or message, which only people read (from the API).
 */
function compactRun(obj: KubeObject): DeployHookRun {
  const { managedFields: _m, ...metadata } = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  const { output: _o, message: _msg, ...status } = (obj.status ?? {}) as DeployHookRunStatus;
  return { ...obj, metadata, ...(obj.status ? { status } : {}) } as DeployHookRun;
}

/** Whether a hook's spec (its generation) changed, or it came or went: what its status depends on. */
function specChanged(previous: KubeObject | undefined, current: KubeObject | undefined): boolean {
  return !previous || !current || previous.metadata.generation !== current.metadata.generation;
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
  let synced = false;
  let active = false;
  /** Counts activations and deactivations, so an activation overtaken by either is abandoned. */
  let turn = 0;
  // Stopping aborts retries in flight: whatever they were doing, the next start reconciles again.
  const stopping = new AbortController();

  const ctx: OperatorContext = {
    client,
    log,
    config,
    recorder: new EventRecorder(client, log, stopping.signal),
    retention: new RetentionTracker(),
    retry: (call) => withRetry(call, { signal: stopping.signal }),
    planning: new Set(),
    isActive: () => active && (opts.isLeader?.() ?? true),
    indexes: {
      secretsByNamespace: new CacheIndex((s) => [s.namespace]),
      hooksByNamespace: new CacheIndex((h) => [h.raw.metadata.namespace!]),
      runsByHook: new CacheIndex((r) => [cacheKey(r.metadata.namespace!, r.spec.hookRef.name)]),
      runsByHookSecret: new CacheIndex((r) => [hookSecretKey(r.metadata.namespace!, r.spec.hookRef.name, r.spec.secretRef.name)]),
    },
    runQueue: new WorkQueue('runs', (key) => (active ? reconcileRun(ctx, key) : Promise.resolve()), log),
    hookQueue: new WorkQueue('hooks', (key) => (active ? reconcileHook(ctx, key) : Promise.resolve()), log),
    retentionQueue: new WorkQueue('retention', (key) => (active ? reconcileRetention(ctx, key) : Promise.resolve()), log),
    caches: {
      hooks: new Reflector<CheckedHook>({
        ...common,
        path: collectionPath(RESOURCES.deployHooks, ns),
        transform: checkHook,
        onChange: (c) => {
          ctx.indexes.hooksByNamespace.update(c.key, c.previous, c.current);
          // The operator's own status writes change nothing its status is computed from.
          if (!specChanged(c.previous?.raw, c.current?.raw)) return;
          ctx.hookQueue.add(c.key);
          // Its historyLimit may have changed: every pair is looked at again.
          ctx.retention.markAll(c.key);
          ctx.retentionQueue.add(c.key);
          // A hook first seen while acting: fire what happened since it was created.
          if (active && c.type === 'ADDED') void reconcileLedger([c.key]);
        },
      }),
      runs: new Reflector<DeployHookRun>({
        ...common,
        path: collectionPath(RESOURCES.deployHookRuns, ns),
        transform: compactRun,
        onChange: (c) => {
          ctx.indexes.runsByHook.update(c.key, c.previous, c.current);
          ctx.indexes.runsByHookSecret.update(c.key, c.previous, c.current);
          const run = c.current ?? c.previous!;
          ctx.runQueue.add(c.key);
          noteRunChange(run, c.type === 'ADDED');
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
        onChange: (c) => {
          ctx.indexes.secretsByNamespace.update(c.key, c.previous, c.current);
          onSecretChange(c);
        },
      }),
    },
  };
  const changes = new SecretChanges(ctx, serial);

  function onSecretChange(change: Change<TlsSecret>): void {
    const current = change.current;
    if (current?.problem && change.raw && current.problem.message !== change.previous?.problem?.message) {
      reportUnreadable(current, change.raw);
    }
    // Until acting, the caches are the baseline: what changes meanwhile the ledger reconciles.
    if (active) changes.add(change);
  }

  function reportUnreadable(secret: TlsSecret, raw: KubeObject): void {
    const problem = secret.problem!;
    log.warn({ secret: secret.name, namespace: secret.namespace, reason: problem.reason, problem: problem.message }, 'TLS Secret holds no readable certificate; no hook fires for it');
    void ctx.recorder.record(raw, 'Warning', problem.reason === 'Empty' ? 'CertificateEmpty' : 'CertificateUnparsable', `tls.crt holds no readable certificate, so no DeployHook fires for it: ${problem.message}`, raw.metadata.resourceVersion ?? '');
  }

  /**
   * Fires, for the given hooks (all by default), what the run ledger lacks. One hook at a time,
   * yielding between them, so a large namespace never holds the event loop (and the Lease).
   */
  async function reconcileLedger(hookKeys?: string[]): Promise<void> {
    const mine = turn;
    let count = 0;
    for (const key of hookKeys ?? [...ctx.caches.hooks.cache.keys()]) {
      await yieldToEventLoop();
      if (mine !== turn || !active) return;
      const entry = ctx.caches.hooks.cache.get(key);
      if (!entry?.valid) continue;
      const hook = entry.hook;
      const namespace = hook.metadata.namespace!;
      const secrets = ctx.indexes.secretsByNamespace.list(namespace);
      for (const firing of ledgerFirings(hook, secrets, runsOfHook(ctx, namespace, hook.metadata.name!))) {
        count++;
        serial.enqueue(cacheKey(namespace, firing.secret.name), async () => {
          const files = await ledgerFiles(ctx, firing);
          if (files === 'stale') return;
          await planFiring(ctx, firing, files);
        });
      }
    }
    if (count) log.info({ firings: count }, 'ledger: firing what happened while no operator acted');
  }

  /** A run appeared, changed or went: its hook's status and retention are due (coalesced). */
  function noteRunChange(run: DeployHookRun, added: boolean): void {
    const hookKey = cacheKey(run.metadata.namespace!, run.spec.hookRef.name);
    ctx.retention.mark(hookKey, run.spec.secretRef.name, added);
    ctx.retentionQueue.addAfter(hookKey, HOOK_STATUS_DELAY_MS);
    ctx.hookQueue.addAfter(hookKey, HOOK_STATUS_DELAY_MS);
  }

  function stopActing(): void {
    turn++;
    active = false;
    changes.clear();
  }

  /** Acts on what the caches hold now: the ledger first, then every run and hook. */
  async function act(): Promise<void> {
    active = true;
    const mine = turn;
    log.info('acting: reconciling the run ledger');
    for (const key of hooks.cache.keys()) ctx.retention.markAll(key);
    await reconcileLedger();
    let n = 0;
    for (const key of runs.cache.keys()) {
      if (++n % YIELD_EVERY === 0) await yieldToEventLoop();
      if (mine !== turn) return;
      ctx.runQueue.add(key);
    }
    for (const key of hooks.cache.keys()) {
      ctx.hookQueue.add(key);
      ctx.retentionQueue.add(key);
    }
  }

  const { hooks, runs, jobs, secrets } = ctx.caches;
  for (const r of [hooks, runs, jobs, secrets]) r.start();
  await Promise.all([hooks.waitForSync(), runs.waitForSync(), jobs.waitForSync(), secrets.waitForSync()]);
  synced = true;
  log.info({ namespace: ns ?? '(all)', secrets: secrets.cache.size, hooks: hooks.cache.size, runs: runs.cache.size }, 'caches filled');

  const operator: Operator = {
    context: ctx,
    ready: () => synced,
    active: () => active,
    async activate() {
      if (active) return;
      const mine = ++turn;
      await Promise.all([hooks.resync(), runs.resync(), jobs.resync(), secrets.resync()]);
      if (mine === turn && !stopping.signal.aborted) await act();
    },
    deactivate() {
      const wasActive = active;
      stopActing();
      if (wasActive) log.warn('no longer acting: stopped planning and executing runs');
    },
    async idle() {
      for (;;) {
        await serial.idle();
        await ctx.runQueue.idle();
        await ctx.hookQueue.idle();
        await ctx.retentionQueue.idle();
        const queues = [ctx.runQueue, ctx.hookQueue, ctx.retentionQueue];
        const delayed = queues.reduce((n, q) => n + q.delayed, 0);
        if (changes.pending === 0 && serial.length === 0 && queues.every((q) => q.length === 0) && delayed === 0) return;
        if (changes.pending || delayed) await new Promise((r) => setTimeout(r, Math.max(10, config.quietPeriodMs / 4)));
      }
    },
    async stop() {
      stopActing();
      stopping.abort();
      ctx.runQueue.stop();
      ctx.hookQueue.stop();
      ctx.retentionQueue.stop();
      await Promise.all([hooks.stop(), runs.stop(), jobs.stop(), secrets.stop()]);
      await serial.idle();
    },
  };
  // The caches were filled a moment ago: nothing to re-list.
  if (opts.activateOnSync !== false) await act();
  return operator;
}
