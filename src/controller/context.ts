// What the operator's controllers share: the client, the caches, the queues and the settings.
import type { Logger } from 'pino';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import type { CacheIndex } from '../kube/cache-index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/object.ts';
import type { Reflector } from '../kube/reflector.ts';
import type { JobOptions } from '../runners/job-manifest.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { CheckedHook } from './hook-validity.ts';
import type { RetentionTracker } from './retention-controller.ts';
import type { TlsSecret } from './tls-secret.ts';
import type { WorkQueue } from './work-queue.ts';

export interface OperatorConfig extends JobOptions {
  /** Watch one namespace only; undefined watches all. */
  namespace: string | undefined;
  /** Writes to one Secret within this many milliseconds fire once, for the final version. */
  quietPeriodMs: number;
}

export interface Caches {
  secrets: Reflector<TlsSecret>;
  hooks: Reflector<CheckedHook>;
  runs: Reflector<DeployHookRun>;
  jobs: Reflector<KubeObject>;
}

/** The caches' secondary indexes: a lookup costs its group's size, never the whole cache. */
export interface Indexes {
  /** TLS Secrets by namespace. */
  secretsByNamespace: CacheIndex<TlsSecret>;
  /** Hooks by namespace. */
  hooksByNamespace: CacheIndex<CheckedHook>;
  /** Runs by `namespace/hook`. */
  runsByHook: CacheIndex<DeployHookRun>;
  /** Runs by `namespace/hook/secret`: one hook's runs for one Secret name. */
  runsByHookSecret: CacheIndex<DeployHookRun>;
}

export interface OperatorContext {
  client: KubeClient;
  log: Logger;
  config: OperatorConfig;
  caches: Caches;
  indexes: Indexes;
  recorder: EventRecorder;
  /** Which (hook, Secret) pairs' runs changed since their hook's retention last ran. */
  retention: RetentionTracker;
  runQueue: WorkQueue;
  hookQueue: WorkQueue;
  retentionQueue: WorkQueue;
  /** Runs whose planning (run, snapshot, Pending) is under way in this process. */
  planning: Set<string>;
  /** Whether this replica may act now (it is the leader); checked before anything is started. */
  isActive: () => boolean;
  /** Runs an API call, retrying transient failures until it succeeds or the operator stops. */
  retry<T>(call: () => Promise<T>): Promise<T>;
}

export const cacheKey = (namespace: string, name: string) => `${namespace}/${name}`;

export function splitKey(key: string): [namespace: string, name: string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** The cached runs of one hook. */
export function runsOfHook(ctx: OperatorContext, namespace: string, hookName: string): DeployHookRun[] {
  return ctx.indexes.runsByHook.list(cacheKey(namespace, hookName));
}

export const hookSecretKey = (namespace: string, hookName: string, secretName: string) => `${namespace}/${hookName}/${secretName}`;

/** The cached runs of one hook for one Secret name. */
export function runsOfHookSecret(ctx: OperatorContext, namespace: string, hookName: string, secretName: string): DeployHookRun[] {
  return ctx.indexes.runsByHookSecret.list(hookSecretKey(namespace, hookName, secretName));
}

export const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
