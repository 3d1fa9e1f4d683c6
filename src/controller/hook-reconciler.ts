// A DeployHook's status: Ready from its validity, the rest from its runs (the indexed runs of
// that hook, never the whole cache).
import { isDeepStrictEqual } from 'node:util';
import type { DeployHook } from '../api/deployhook.ts';
import { isNotFound } from '../kube/errors.ts';
import { objectPath, RESOURCES } from '../kube/paths.ts';
import { nowTime } from '../api/metav1.ts';
import { runsOfHook, splitKey, type OperatorContext } from './context.ts';
import { hookStatus } from './hook-status.ts';

export async function reconcileHook(ctx: OperatorContext, key: string): Promise<void> {
  const entry = ctx.caches.hooks.cache.get(key);
  if (!entry) return;
  const [namespace, name] = splitKey(key);
  const hook = (entry.valid ? entry.hook : entry.raw) as DeployHook;
  const others = entry.valid ? ctx.runners.flatMap((r) => (r.runs(entry.hook) ? r.conditions?.(entry.hook, hook.status?.conditions ?? []) ?? [] : [])) : [];
  const status = hookStatus(hook, runsOfHook(ctx, namespace, name), { problems: entry.problems }, nowTime(), others);
  if (isDeepStrictEqual(status, hook.status)) return;
  if (!entry.valid && !isDeepStrictEqual(status.conditions?.[0]?.message, hook.status?.conditions?.[0]?.message)) {
    ctx.log.warn({ hook: name, namespace, problems: entry.problems }, 'DeployHook is invalid and will not run');
    await ctx.recorder.record(entry.raw, 'Warning', 'InvalidHook', entry.problems.join('; '), `${hook.metadata.generation}`);
  }
  try {
    await ctx.client.patch(objectPath(RESOURCES.deployHooks, namespace, name, 'status'), 'merge', {
      // Explicit nulls clear what the new status no longer has (merge-patch semantics).
      status: { lastRun: null, type: null, ...status },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
