// One reconciler per TLS Secret name, level-triggered: the Secret in the cache (or its absence),
// the valid hooks for its namespace (its DeployHooks, the ClusterDeployHooks that select it),
// their runs for that name, and what this process last saw of
// it decide what fires (ledger.ts, the one rule chain). Live changes, a restart, a new leader, a
// new hook and the periodic resync all come here. Writes to one Secret within the quiet period
// are reconciled once, when it has been quiet that long: a requeue, not a timer of its own.
import type { Hook } from '../api/deployhook.ts';
import type { KubeObject } from '../kube/object.ts';
import { hookKeyOfRun, isClusterHookKey, secretKeyOfRun } from '../api/hook-ref.ts';
import { objectKey } from '../kube/reflector.ts';
import { hookEntry, hooksOfNamespace, namespacesOfHook, runsOfSecret, splitKey, wakeWaitingRuns, type OperatorContext } from './context.ts';
import { expiringFor, expiringFrom, firingsFor, liveEvent } from './ledger.ts';
import { hookFires } from './match.ts';
import { planFiring } from './planner.ts';
import type { Firing } from './plan.ts';
import { planningOrder, stageRank } from './stages.ts';
import type { TlsSecret } from './tls-secret.ts';
import type { ReconcileResult } from './work-queue.ts';

/**
 * The latest a write this process did not see (it began acting since: a new leader, a restart) can
 * have come: the end of the second its managedFields record, and never after it began acting, as
 * the API server's clock may run ahead. So a burst of writes begun before is still coalesced.
 */
function unseenWriteEnd(ctx: OperatorContext, secret: TlsSecret | undefined): number | undefined {
  return secret?.writtenAt === undefined ? undefined : Math.min(secret.writtenAt + 1000, ctx.actingSince);
}

/** How soon a Secret whose Namespace the cache has not shown yet is looked at again. */
const NAMESPACE_WAIT_MS = 100;

export async function reconcileSecret(ctx: OperatorContext, key: string): Promise<ReconcileResult> {
  const change = ctx.secretsSeen.pendingChange(key);
  const secret = ctx.caches.secrets.cache.get(key);
  const observed = ctx.secretsSeen.observation(key);
  const lastWrite = change?.at ?? (observed ? undefined : unseenWriteEnd(ctx, secret));
  const quietFor = lastWrite === undefined ? Infinity : Date.now() - lastWrite;
  if (quietFor < ctx.config.quietPeriodMs) return { requeueAfterMs: ctx.config.quietPeriodMs - quietFor };
  const startedAt = Date.now();
  const [namespace, name] = splitKey(key);
  // Which ClusterDeployHooks it fires is known once its Namespace is (a Secret cannot outlive it).
  if (secret && ctx.caches.cluster && !ctx.indexes.clusterHooks.knows(namespace)) return { requeueAfterMs: NAMESPACE_WAIT_MS };
  // Each hook's runs for this Secret name, grouped once rather than filtered for every hook.
  const runsByHook = Map.groupBy(runsOfSecret(ctx, namespace, name), hookKeyOfRun);
  const firings: Firing[] = [];
  let expiresAt = Infinity;
  for (const entry of hooksOfNamespace(ctx, namespace)) {
    if (!entry.valid) continue;
    const hook: Hook = entry.hook;
    const hookKey = objectKey(hook);
    const own = runsByHook.get(hookKey) ?? [];
    // What this process saw before it knew the hook says nothing about the hook's events.
    const knownSince = ctx.hookKnownSince.get(hookKey) ?? Infinity;
    const counts = observed && observed.at >= knownSince;
    firings.push(...firingsFor(hook, name, secret, own, counts ? observed : undefined));
    const expiring = expiringFor(hook, secret, own, startedAt);
    if (expiring) firings.push(expiring);
    else if (secret?.certificate && hookFires(hook, 'expiring', secret)) expiresAt = Math.min(expiresAt, expiringFrom(hook, secret.certificate));
  }
  // The earliest expiry window yet to open brings this Secret back then (one queue for all).
  if (expiresAt > startedAt && expiresAt < Infinity) ctx.deadlines.schedule(key, expiresAt);
  if (firings.length) ctx.log.debug({ secret: key, firings: firings.map((f) => `${f.hook.metadata.name}:${f.event}`) }, 'certificate events');
  else if (change) noteUnmatched(ctx, namespace, liveEvent(secret, observed));
  // A refused firing is decided again at the next resync, from the same observation.
  const refused = await planAll(ctx, firings, change?.object);
  ctx.secretsSeen.settled(key, secret, change, startedAt, refused);
  // A newer certificate supersedes runs still waiting for an earlier stage: they are looked at now.
  if (firings.length) wakeWaitingRuns(ctx, key);
}

/**
 * Plans the firings one after another: a revoke of the Secret that went before the created of the
 * one there now, and a group's pre hooks' runs before its deploy hooks' before its post hooks' (so
 * a run's earlier stages exist, in the API and in the watch's order, before it does). A refused
 * firing holds back the later stages of its group, which must not run before it. Whether any was
 * refused.
 */
async function planAll(ctx: OperatorContext, firings: Firing[], changed: KubeObject | undefined): Promise<boolean> {
  const refusedStage = new Map<string, number>();
  for (const firing of planningOrder(firings)) {
    const group = `${firing.event}/${firing.secret.uid}/${firing.certificate.fingerprint}`;
    const rank = stageRank(firing.hook.spec.stage);
    if ((refusedStage.get(group) ?? Infinity) < rank) continue;
    // In planning order, a group's first refusal is its earliest stage's.
    if ((await planFiring(ctx, firing, changed)) === 'refused' && !refusedStage.has(group)) refusedStage.set(group, rank);
  }
  return refusedStage.size > 0;
}

/** A live certificate event no hook takes: said (CertMate's audit line) and counted. */
function noteUnmatched(ctx: OperatorContext, namespace: string, live: ReturnType<typeof liveEvent>): void {
  if (!live) return;
  for (const entry of hooksOfNamespace(ctx, namespace)) if (entry.valid && hookFires(entry.hook, live.event, live.secret)) return;
  const domain = live.secret.certificate?.primaryName ?? live.secret.name;
  ctx.counters.unmatchedCertificateEvents++;
  ctx.log.info({ secret: live.secret.name, namespace, event: live.event, domain }, `No hooks configured for ${domain}`);
}

/**
 * The keys the Secret reconciler looks at for a new hook (by its key): the Secrets of its
 * namespace (a ClusterDeployHook's: of every namespace it selects), and the names only its runs
 * remember.
 */
export function secretKeysOf(ctx: OperatorContext, hookKey: string): Set<string> {
  const entry = hookEntry(ctx, hookKey);
  // An invalid ClusterDeployHook selects no namespace; an invalid DeployHook's is still its own.
  const namespaces = entry?.valid ? namespacesOfHook(ctx, entry.hook) : isClusterHookKey(hookKey) ? [] : [splitKey(hookKey)[0]];
  const keys = new Set<string>();
  for (const namespace of namespaces) for (const key of ctx.indexes.secretsByNamespace.get(namespace).keys()) keys.add(key);
  for (const run of ctx.indexes.runsByHook.get(hookKey).values()) if (run.spec.secretRef.name) keys.add(secretKeyOfRun(run));
  return keys;
}
