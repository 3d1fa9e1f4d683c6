// A DeployHook's status: Ready from its validity, the rest from its runs.
import { isDeepStrictEqual } from 'node:util';
import type { DeployHook } from '../api/deployhook.ts';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { objectPath, RESOURCES } from '../kube/paths.ts';
import { nowIso, runsOfHook, splitKey, type OperatorContext } from './context.ts';
import { runsToPrune } from './retention.ts';
import { hookStatus } from './hook-status.ts';

export async function reconcileHook(ctx: OperatorContext, key: string): Promise<void> {
  const entry = ctx.caches.hooks.cache.get(key);
  if (!entry) return;
  const [namespace, name] = splitKey(key);
  const hook = (entry.valid ? entry.hook : entry.raw) as DeployHook;
  const runs = runsOfHook(ctx, namespace, name);
  const pruned = entry.valid ? await prune(ctx, entry.hook, runs) : new Set<string>();
  const status = hookStatus(hook, runs.filter((r) => !pruned.has(r.metadata.name!)), { problems: entry.problems }, nowIso());
  if (isDeepStrictEqual(status, hook.status)) return;
  if (!entry.valid && !isDeepStrictEqual(status.conditions?.[0]?.message, hook.status?.conditions?.[0]?.message)) {
    ctx.log.warn({ hook: name, namespace, problems: entry.problems }, 'DeployHook is invalid and will not run');
    await ctx.recorder.record(entry.raw, 'Warning', 'InvalidHook', entry.problems.join('; '), `${hook.metadata.generation}`);
  }
  try {
    await ctx.retry(() => ctx.client.patch(objectPath(RESOURCES.deployHooks, namespace, name, 'status'), 'merge', {
      // Explicit nulls clear what the new status no longer has (merge-patch semantics).
      status: { lastRun: null, ...status },
    }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Deletes the runs beyond the hook's historyLimit that the ledger does not need. */
async function prune(ctx: OperatorContext, hook: DeployHook, runs: DeployHookRun[]): Promise<Set<string>> {
  const namespace = hook.metadata.namespace!;
  const existing = new Map([...ctx.caches.secrets.cache.values()].filter((s) => s.namespace === namespace).map((s) => [s.name, s.uid]));
  const pruned = new Set<string>();
  for (const run of runsToPrune(runs, hook.spec.historyLimit ?? 10, existing)) {
    try {
      // Background propagation: the run's Job, pod and snapshot Secret go with it.
      await ctx.retry(() => ctx.client.delete(objectPath(RESOURCES.deployHookRuns, namespace, run.metadata.name!), { propagationPolicy: 'Background', preconditions: { uid: run.metadata.uid } }));
      ctx.log.debug({ run: run.metadata.name, namespace }, 'pruned run beyond the history limit');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    pruned.add(run.metadata.name!);
  }
  return pruned;
}
