// The operator: caches of TLS Secrets, hooks and runs (and each runner's own), and one controller
// per concern between them — Secrets (what fires), runs (phases, through the runners), hooks
// (status) and retention. Every replica keeps its caches warm; only the active one (the leader,
// with leader election) acts. On becoming active it re-lists (a standby's watch may have gone
// quiet unnoticed), then reconciles every Secret name and run, and from then on what changes.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { boundRun, type DeployHookRun, type DeployHookRunObject, type DeployHookRunStatus } from '../api/deployhookrun.ts';
import { CacheIndex } from '../kube/cache-index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, RESOURCES } from '../kube/paths.ts';
import { Reflector, type CacheLoop, type Change } from '../kube/reflector.ts';
import { Metrics } from '../metrics/metrics.ts';
import { JobRunner } from '../runners/job-runner.ts';
import { DEFAULT_WEBHOOK_CONCURRENCY, WebhookRunner } from '../runners/webhook/webhook-runner.ts';
import { hookKeyOfRun, secretKeyOfRun } from '../api/hook-ref.ts';
import { ANNOTATIONS } from '../api/names.ts';
import { ClusterHookSelection, toNamespaceLabels } from './cluster-hooks.ts';
import { wakeWaitingRuns, type OperatorConfig, type OperatorContext } from './context.ts';
import { Deadlines } from './deadlines.ts';
import { EventRecorder } from './event-recorder.ts';
import { reconcileHook } from './hook-reconciler.ts';
import { checkHook, type CheckedHook } from './hook-validity.ts';
import { finishedByChange, sampleCaches } from './operator-metrics.ts';
import { reconcileRetention, RetentionTracker } from './retention-controller.ts';
import { RunExpectations } from './run-expectations.ts';
import { isFinished } from './run-state.ts';
import { reconcileRun } from './run-reconciler.ts';
import { reconcileSecret, secretKeysOf } from './secret-reconciler.ts';
import { SecretTracker } from './secret-tracker.ts';
import { TLS_SECRET_TYPE, toTlsSecret, type TlsSecret } from './tls-secret.ts';
import { WorkQueue, type ReconcileResult } from './work-queue.ts';

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
  /** Where it counts (the client's requests are counted where the client was made); default: a registry of its own. */
  metrics?: Metrics;
}

export interface Operator {
  readonly context: OperatorContext;
  readonly metrics: Metrics;
  /** True once every cache has been filled. */
  ready(): boolean;
  /** False when a cache's list-and-watch loop has died: the process should be restarted. */
  healthy(): boolean;
  /** Whether this replica acts (plans and executes runs). */
  active(): boolean;
  /**
   * Starts acting: re-lists, then reconciles every Secret and run. Resolves once acting has
   * begun, or was called off by `deactivate()` or `stop()` meanwhile.
   */
  activate(): Promise<void>;
  /** Stops acting at once; the caches stay warm. */
  deactivate(): void;
  /** Resolves when no work is queued or under way (for tests and orderly shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Run changes gather until a hook's runs have been quiet this long (or, in a long burst, at most
 * HOOK_STATUS_MAX_WAIT_MS) before its status and retention are worked out once for them all.
 */
const HOOK_STATUS_QUIET_MS = 500;
const HOOK_STATUS_MAX_WAIT_MS = 10_000;
/** Long loops over the caches yield to the event loop this often. */
const YIELD_EVERY = 500;
export const DEFAULT_RESYNC_PERIOD_MS = 5 * 60_000;
const WORKERS = { secrets: 8, runs: 16, hooks: 2, retention: 2 };

/**
 * A run as the cache keeps it: what decisions read. Not its labels, other annotations, owner or
 * managedFields, and not the output tail or message, which only people read (from the API), but
 * for a waiting run's; nor status.certificate, the same as spec.certificate but for a manual run.
 */
function compactRun(obj: KubeObject): DeployHookRun {
  const { name, namespace, uid, resourceVersion, generation, creationTimestamp } = obj.metadata;
  // Of its annotations, those decisions read (the fingerprint is the spec's too).
  const { [ANNOTATIONS.secretUid]: secretUid, [ANNOTATIONS.plannedAt]: plannedAt } = obj.metadata.annotations ?? {};
  const annotations = { ...(secretUid ? { [ANNOTATIONS.secretUid]: secretUid } : {}), ...(plannedAt ? { [ANNOTATIONS.plannedAt]: plannedAt } : {}) };
  const { output: _o, message, certificate, ...rest } = (obj.status ?? {}) as DeployHookRunStatus;
  // The certificate a run acted on is its spec's, but for a manual run's without one.
  if (certificate && !(obj.spec as DeployHookRun['spec']).certificate) (rest as DeployHookRunStatus).certificate = certificate;
  // A waiting run's message says what it waits for, which its reconcile compares before writing.
  const status = rest.phase === 'Waiting' && message ? { ...rest, message } : rest;
  return boundRun({
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name, namespace, uid, resourceVersion, generation, creationTimestamp, annotations },
    spec: obj.spec,
    ...(obj.status ? { status } : {}),
  } as DeployHookRunObject);
}

/** Whether a hook's spec (its generation) changed, or it came or went: what its status depends on. */
function specChanged(previous: KubeObject | undefined, current: KubeObject | undefined): boolean {
  return !previous || !current || previous.metadata.generation !== current.metadata.generation;
}

export async function startOperator(opts: OperatorOptions): Promise<Operator> {
  const { client, log, config } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const ns = config.namespace;
  const common = { client, log, metrics: metrics.kube, ...(opts.watchIdleTimeoutMs ? { idleTimeoutMs: opts.watchIdleTimeoutMs } : {}) };
  let synced = false;
  let active = false;
  /** Counts activations and deactivations, so work begun for an earlier turn is abandoned. */
  let turn = 0;
  let resyncTimer: NodeJS.Timeout | undefined;
  const stopping = new AbortController();
  /**
   * A controller's queue: it takes keys, and its reconciler runs, only while this replica acts
   * (activation adds every key), so filling the caches at start queues nothing.
   */
  const queue = (name: string, workers: number, reconcile: (key: string) => Promise<ReconcileResult>) =>
    new WorkQueue(name, (key) => (active ? reconcile(key) : Promise.resolve()), log, workers, metrics.controller, () => active);

  const ctx: OperatorContext = {
    client,
    log,
    config,
    recorder: new EventRecorder(client, log, stopping.signal),
    runners: [
      new JobRunner({ ...common, job: config, namespace: ns, onRunChanged: (key) => ctx.runQueue.add(key) }),
      new WebhookRunner({
        client,
        log,
        allow: config.webhookAllow ?? [],
        concurrency: config.webhookConcurrency ?? DEFAULT_WEBHOOK_CONCURRENCY,
        isActive: () => ctx.isActive(),
        metrics: metrics.certhook,
        onRunChanged: (key) => ctx.runQueue.add(key),
        onHookChanged: (key) => ctx.hookQueue.add(key),
        ...(config.webhookLookup ? { lookup: config.webhookLookup } : {}),
      }),
    ],
    secretsSeen: new SecretTracker(),
    hookKnownSince: new Map(),
    expectations: new RunExpectations(),
    snapshots: new Map(),
    snapshotsWritten: new Map(),
    retention: new RetentionTracker(),
    isActive: () => active && (opts.isLeader?.() ?? true),
    actingSince: 0,
    counters: { unmatchedCertificateEvents: 0 },
    metrics: metrics.certhook,
    deadlines: new Deadlines((key) => ctx.secretQueue.add(key)),
    indexes: {
      secretsByNamespace: new CacheIndex((s) => [s.namespace]),
      hooksByNamespace: new CacheIndex((h) => [h.raw.metadata.namespace!]),
      runsByHook: new CacheIndex((r) => [hookKeyOfRun(r)]),
      // A manual run is under no Secret until the operator has chosen one for it.
      runsBySecret: new CacheIndex((r) => (r.spec.secretRef.name ? [secretKeyOfRun(r)] : [])),
      clusterHooks: new ClusterHookSelection(() => ctx.caches.cluster?.hooks.cache.values() ?? [], () => ctx.caches.cluster?.namespaces.cache ?? new Map()),
    },
    // Workers per controller: reconciles wait on the API, so runs (several requests each, to start
    // and to finish) get the most; the client's rate limit and connection cap bound them all.
    secretQueue: queue('secrets', WORKERS.secrets, (key) => reconcileSecret(ctx, key)),
    runQueue: queue('runs', WORKERS.runs, (key) => reconcileRun(ctx, key)),
    hookQueue: queue('hooks', WORKERS.hooks, (key) => reconcileHook(ctx, key)),
    retentionQueue: queue('retention', WORKERS.retention, (key) => reconcileRetention(ctx, key)),
    caches: {
      hooks: new Reflector<CheckedHook>({
        ...common,
        path: collectionPath(RESOURCES.deployHooks, ns),
        transform: (raw) => checkHook(raw, config.allowedServiceAccounts),
        onChange: (c) => {
          ctx.indexes.hooksByNamespace.update(c.key, c.previous, c.current);
          onHookChange(c);
        },
      }),
      runs: new Reflector<DeployHookRun>({
        ...common,
        path: collectionPath(RESOURCES.deployHookRuns, ns),
        transform: compactRun,
        onChange: (c) => {
          ctx.indexes.runsByHook.update(c.key, c.previous, c.current);
          ctx.indexes.runsBySecret.update(c.key, c.previous, c.current);
          const run = c.current ?? c.previous!;
          ctx.expectations.observed(secretKeyOfRun(run), run.metadata.name!);
          ctx.expectations.observedVersion(c.key, c.current?.metadata.resourceVersion);
          if (c.type === 'DELETED') ctx.snapshots.delete(c.key);
          ctx.runQueue.add(c.key);
          if (c.current && isFinished(c.current) && !(c.previous && isFinished(c.previous))) wakeWaitingRuns(ctx, secretKeyOfRun(c.current));
          noteRunChange(run, c.type === 'ADDED');
          // Counted by the replica that acts, once, as the final status reaches its cache.
          const finished = ctx.isActive() ? finishedByChange(c) : undefined;
          if (finished) metrics.certhook.runFinished(finished);
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
      // ClusterDeployHooks need every namespace's Secrets: an operator watching one serves none.
      ...(config.clusterHookNamespace && !ns ? {
        cluster: {
          hooks: new Reflector<CheckedHook>({
            ...common,
            path: collectionPath(RESOURCES.clusterDeployHooks),
            transform: (raw) => checkHook(raw, config.allowedServiceAccounts, config.clusterHookNamespace),
            onChange: (c) => {
              ctx.indexes.clusterHooks.hooksChanged();
              onHookChange(c);
            },
          }),
          // Relabelling a namespace fires nothing: later events follow the new selection.
          namespaces: new Reflector({
            ...common,
            path: collectionPath(RESOURCES.namespaces),
            transform: toNamespaceLabels,
            onChange: (c) => ctx.indexes.clusterHooks.namespaceChanged((c.current ?? c.previous!).name),
          }),
        },
      } : {}),
    },
  };
  sampleCaches(ctx, metrics.certhook);
  const { hooks, runs, secrets, cluster } = ctx.caches;
  const reflectors: CacheLoop[] = [hooks, runs, secrets, ...(cluster ? [cluster.hooks, cluster.namespaces] : []), ...ctx.runners.flatMap((r) => r.caches)];
  const queues = [ctx.secretQueue, ctx.runQueue, ctx.hookQueue, ctx.retentionQueue];

  /** A hook of either kind came, went or changed (its key: `namespace/name`, or `/name`). */
  function onHookChange(c: Change<CheckedHook>): void {
    if (!c.current) ctx.hookKnownSince.delete(c.key);
    else if (!ctx.hookKnownSince.has(c.key)) ctx.hookKnownSince.set(c.key, Date.now());
    // The operator's own status writes change nothing its status is computed from.
    if (!specChanged(c.previous?.raw, c.current?.raw)) return;
    ctx.hookQueue.add(c.key);
    // Its historyLimit may have changed: every pair is looked at again.
    ctx.retention.markAll(c.key);
    ctx.retentionQueue.add(c.key);
    // A hook first seen while acting: fire what happened since it was created; one that now
    // listens for expiring: look for certificates already in its window.
    if (active && (c.type === 'ADDED' || (c.current?.valid && c.current.hook.spec.onEvents.includes('expiring')))) {
      void enqueueAll(ctx.secretQueue, secretKeysOf(ctx, c.key));
    }
  }

  function onSecretChange(change: Change<TlsSecret>): void {
    const current = change.current;
    if (current?.problem && change.raw && current.problem.message !== change.previous?.problem?.message) {
      reportUnreadable(current, change.raw);
    }
    // Until acting, the caches are the baseline: activation reconciles every Secret.
    if (!active) return;
    ctx.secretsSeen.changed(change.key, change.raw);
    if (config.quietPeriodMs > 0) ctx.secretQueue.addAfter(change.key, config.quietPeriodMs);
    else ctx.secretQueue.add(change.key);
  }

  function reportUnreadable(secret: TlsSecret, raw: KubeObject): void {
    const problem = secret.problem!;
    log.warn({ secret: secret.name, namespace: secret.namespace, reason: problem.reason, problem: problem.message }, 'TLS Secret holds no readable certificate; no hook fires for it');
    void ctx.recorder.record(raw, 'Warning', problem.reason === 'Empty' ? 'CertificateEmpty' : 'CertificateUnparsable', `tls.crt holds no readable certificate, so no DeployHook fires for it: ${problem.message}`, raw.metadata.resourceVersion ?? '');
  }

  /** A run appeared, changed or went: its hook's status and retention are due (coalesced). */
  function noteRunChange(run: DeployHookRun, added: boolean): void {
    const hookKey = hookKeyOfRun(run);
    ctx.retention.mark(hookKey, secretKeyOfRun(run), added);
    ctx.retentionQueue.addQuiet(hookKey, HOOK_STATUS_QUIET_MS, HOOK_STATUS_MAX_WAIT_MS);
    ctx.hookQueue.addQuiet(hookKey, HOOK_STATUS_QUIET_MS, HOOK_STATUS_MAX_WAIT_MS);
  }

  /** Adds keys to a queue in slices, so ten thousand never hold the event loop (or the Lease). */
  async function enqueueAll(target: WorkQueue, keys: Iterable<string>): Promise<void> {
    const mine = turn;
    let n = 0;
    for (const key of keys) {
      if (++n % YIELD_EVERY === 0) await yieldToEventLoop();
      if (mine !== turn || !active) return;
      target.add(key);
    }
  }

  /** Every Secret name the caches know of: the Secrets, and the names only runs remember. */
  function* allSecretKeys(): Generator<string> {
    yield* secrets.cache.keys();
    for (const key of ctx.indexes.runsBySecret.values()) if (!secrets.cache.has(key)) yield key;
  }

  /** Reconciles everything the caches hold: what fires, then every run, hook and retention. */
  async function reconcileAll(): Promise<void> {
    await enqueueAll(ctx.secretQueue, allSecretKeys());
    await enqueueAll(ctx.runQueue, runs.cache.keys());
    for (const key of [...hooks.cache.keys(), ...(cluster?.hooks.cache.keys() ?? [])]) {
      ctx.retention.markAll(key);
      ctx.retentionQueue.add(key);
      ctx.hookQueue.add(key);
    }
  }

  function scheduleResync(): void {
    const period = config.resyncPeriodMs ?? DEFAULT_RESYNC_PERIOD_MS;
    if (!period) return;
    resyncTimer = setTimeout(() => {
      if (!active) return;
      log.debug('periodic resync: reconciling every Secret and run');
      void reconcileAll().then(scheduleResync);
    }, period);
    resyncTimer.unref();
  }

  function stopActing(): void {
    turn++;
    active = false;
    clearTimeout(resyncTimer);
    ctx.secretsSeen.clear();
    ctx.expectations.clear();
    ctx.snapshots.clear();
    ctx.snapshotsWritten.clear();
    ctx.deadlines.clear();
    for (const runner of ctx.runners) runner.deactivate?.();
  }

  async function act(): Promise<void> {
    active = true;
    ctx.actingSince = Date.now();
    log.info({ secrets: secrets.cache.size, hooks: hooks.cache.size, clusterHooks: cluster?.hooks.cache.size, runs: runs.cache.size }, 'acting: reconciling every Secret and run');
    await reconcileAll();
    scheduleResync();
  }

  for (const r of reflectors) r.start();
  await Promise.all(reflectors.map((r) => r.waitForSync()));
  synced = true;
  log.info({ namespace: ns ?? '(all)', secrets: secrets.cache.size, hooks: hooks.cache.size, clusterHooks: cluster?.hooks.cache.size, runs: runs.cache.size }, 'caches filled');

  const operator: Operator = {
    context: ctx,
    metrics,
    ready: () => synced,
    healthy: () => reflectors.every((r) => r.alive),
    active: () => active,
    async activate() {
      if (active) return;
      const mine = ++turn;
      await Promise.all(reflectors.map((r) => r.resync()));
      if (mine === turn && !stopping.signal.aborted) await act();
    },
    deactivate() {
      const wasActive = active;
      stopActing();
      if (wasActive) log.warn('no longer acting: stopped planning and executing runs');
    },
    async idle() {
      for (;;) {
        for (const q of queues) await q.idle();
        const delayed = queues.reduce((n, q) => n + q.delayed, 0);
        const runnersBusy = ctx.runners.some((r) => r.busy?.());
        if (queues.every((q) => q.length === 0) && delayed === 0 && ctx.secretsSeen.unsettled === 0 && !runnersBusy) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      stopActing();
      stopping.abort();
      for (const q of queues) q.stop();
      await Promise.all([...reflectors.map((r) => r.stop()), ...ctx.runners.map((r) => r.close?.())]);
    },
  };
  // The caches were filled a moment ago: nothing to re-list.
  if (opts.activateOnSync !== false) await act();
  return operator;
}
