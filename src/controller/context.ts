// What the operator's controllers share: the client, the caches and their indexes, the queues,
// the runners and the settings.
import type { Logger } from 'pino';
import type { AllowedServiceAccounts } from './service-account-policy.ts';
import type { Hook } from '../api/deployhook.ts';
import { isClusterHook, isClusterHookKey } from '../api/hook-ref.ts';
import type { ClusterHookSelection, NamespaceLabels } from './cluster-hooks.ts';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import type { CacheIndex } from '../kube/cache-index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { CerthookMetrics } from '../metrics/certhook.ts';
import type { Reflector } from '../kube/reflector.ts';
import type { JobOptions } from '../runners/job-manifest.ts';
import type { Runner } from '../runners/runner.ts';
import type { SnapshotInfo } from '../runners/snapshot.ts';
import type { AllowedRange } from '../runners/webhook/address-policy.ts';
import type { Lookup } from '../runners/webhook/guarded-dispatcher.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { Deadlines } from './deadlines.ts';
import type { CheckedHook } from './hook-validity.ts';
import type { RunExpectations } from './run-expectations.ts';
import type { RetentionTracker } from './retention-controller.ts';
import type { SecretTracker } from './secret-tracker.ts';
import type { TlsSecret } from './tls-secret.ts';
import type { WorkQueue } from './work-queue.ts';

export interface OperatorConfig extends JobOptions {
  /** Watch one namespace only; undefined watches all. */
  namespace: string | undefined;
  /** Writes to one Secret within this many milliseconds fire once, for the final version. */
  quietPeriodMs: number;
  /** Every Secret and run is reconciled again this often, whatever the watches said (0: never). */
  resyncPeriodMs?: number;
  /**
   * The master switch (`--hooks-enabled`): off, every firing is still recorded, as Skipped with
   * reason HooksDisabled, and nothing runs. Default on.
   */
  hooksEnabled?: boolean;
  /** cert-manager issuers (`cert-manager.io/issuer-name`) whose certificates fire dry runs (`--dry-run-issuers`). */
  dryRunIssuers?: string[];
  /** Private address ranges webhooks may reach (`--webhook-allow-cidr`). */
  webhookAllow?: AllowedRange[];
  /** Webhook deliveries in flight at once, over every hook (`--webhook-concurrency`). */
  webhookConcurrency?: number;
  /** Resolves webhook host names (default: the system's resolver; tests keep it on this machine). */
  webhookLookup?: Lookup;
  /** The ServiceAccounts hooks may run as (`--allowed-service-accounts`); undefined: any. */
  allowedServiceAccounts?: AllowedServiceAccounts;
  /**
   * Where ClusterDeployHooks' runs, Jobs and snapshots live (`--cluster-hook-namespace`);
   * undefined: ClusterDeployHooks are not served (an operator watching one namespace).
   */
  clusterHookNamespace?: string;
}

export interface Caches {
  secrets: Reflector<TlsSecret>;
  hooks: Reflector<CheckedHook>;
  runs: Reflector<DeployHookRun>;
  /** ClusterDeployHooks and the Namespaces' labels, when ClusterDeployHooks are served. */
  cluster?: { hooks: Reflector<CheckedHook>; namespaces: Reflector<NamespaceLabels> };
}

/** The caches' secondary indexes: a lookup costs its group's size, never the whole cache. */
export interface Indexes {
  /** TLS Secrets by namespace. */
  secretsByNamespace: CacheIndex<TlsSecret>;
  /** DeployHooks by namespace. */
  hooksByNamespace: CacheIndex<CheckedHook>;
  /** Runs by their hook's key (`namespace/hook`, `/hook` for a ClusterDeployHook). */
  runsByHook: CacheIndex<DeployHookRun>;
  /** Runs by their Secret's `namespace/name`: every hook's runs for one Secret name, of both kinds. */
  runsBySecret: CacheIndex<DeployHookRun>;
  /** The valid ClusterDeployHooks that select each namespace. */
  clusterHooks: ClusterHookSelection;
}

export interface OperatorContext {
  client: KubeClient;
  log: Logger;
  config: OperatorConfig;
  caches: Caches;
  indexes: Indexes;
  recorder: EventRecorder;
  /** The kinds of hook: the run reconciler hands a run to the runner of its hook. */
  runners: readonly Runner[];
  /** What this process last reconciled of each Secret, and its changes not yet reconciled. */
  secretsSeen: SecretTracker;
  /**
   * When this process first had each hook in its cache, in ms: an observation of a Secret counts
   * for a hook only if the hook was known when it was made.
   */
  hookKnownSince: Map<string, number>;
  /** Runs this process created that the runs cache has not shown yet. */
  expectations: RunExpectations;
  /**
   * Snapshots this process wrote, by run key, until the run starts (no need to read them back),
   * or 'writing' while its planner is still at it (the planner adds the run again when done).
   */
  snapshots: Map<string, SnapshotInfo | 'writing'>;
  /** Snapshot Secrets this process wrote or joined lately, `namespace/name` → uid: the next run of their certificate joins at once. */
  snapshotsWritten: Map<string, string>;
  /** Which (hook, Secret) pairs' runs changed since their hook's retention last ran. */
  retention: RetentionTracker;
  secretQueue: WorkQueue;
  runQueue: WorkQueue;
  hookQueue: WorkQueue;
  retentionQueue: WorkQueue;
  /** Whether this replica may act now (it is the leader); checked before anything is started. */
  isActive: () => boolean;
  /** When this process last began acting (ms): what it knows of writes it did not see is older. */
  actingSince: number;
  /** When Secrets are due again by time alone (a certificate entering a hook's expiry window). */
  deadlines: Deadlines;
  /** What the operator counts for its metrics. */
  counters: { unmatchedCertificateEvents: number };
  /** certhook's own metrics, for what is counted where it happens (a firing the API refused). */
  metrics: CerthookMetrics;
}

export const cacheKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** A hook of either kind by its key (`namespace/name`, or `/name` for a ClusterDeployHook). */
export function hookEntry(ctx: OperatorContext, hookKey: string): CheckedHook | undefined {
  return isClusterHookKey(hookKey) ? ctx.caches.cluster?.hooks.cache.get(hookKey) : ctx.caches.hooks.cache.get(hookKey);
}

/** The namespaces whose TLS Secrets a hook is for: a DeployHook's own, or those a ClusterDeployHook selects. */
export function namespacesOfHook(ctx: OperatorContext, hook: Hook): string[] {
  return isClusterHook(hook) ? ctx.indexes.clusterHooks.namespacesOf(hook) : [hook.metadata.namespace!];
}

/** The hooks that may fire for the Secrets of a namespace: its DeployHooks and the ClusterDeployHooks that select it. */
export function hooksOfNamespace(ctx: OperatorContext, namespace: string): CheckedHook[] {
  return [...ctx.indexes.hooksByNamespace.get(namespace).values(), ...ctx.indexes.clusterHooks.of(namespace)];
}

export function splitKey(key: string): [namespace: string, name: string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** The cached runs of one hook, by its key. */
export function runsOfHook(ctx: OperatorContext, hookKey: string): DeployHookRun[] {
  return ctx.indexes.runsByHook.list(hookKey);
}

/** Every hook's runs for one Secret name: the cached ones and those this process just created. */
export function runsOfSecret(ctx: OperatorContext, namespace: string, secretName: string): DeployHookRun[] {
  const key = cacheKey(namespace, secretName);
  return ctx.expectations.merge(key, ctx.indexes.runsBySecret.get(key));
}

/** Requeues the runs of one Secret name (`namespace/name`) that wait for an earlier stage: one of theirs finished, or a newer certificate came. */
export function wakeWaitingRuns(ctx: OperatorContext, secretKey: string): void {
  for (const [key, run] of ctx.indexes.runsBySecret.get(secretKey)) {
    if (run.status?.phase === 'Waiting') ctx.runQueue.add(key);
  }
}
