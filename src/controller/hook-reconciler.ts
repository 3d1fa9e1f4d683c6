// A DeployHook's status: Ready from its validity, the rest from its runs.
import { isDeepStrictEqual } from 'node:util';
import type { DeployHook } from '../api/deployhook.ts';
import { isNotFound } from '../kube/errors.ts';
import { objectPath, RESOURCES } from '../kube/paths.ts';
import { withRetry } from '../kube/retry.ts';
import { nowIso, splitKey, type OperatorContext } from './context.ts';
import { hookStatus } from './hook-status.ts';

export async function reconcileHook(ctx: OperatorContext, key: string): Promise<void> {
  const entry = ctx.caches.hooks.cache.get(key);
  if (!entry) return;
  const [namespace, name] = splitKey(key);
  const hook = (entry.valid ? entry.hook : entry.raw) as DeployHook;
  const runs = [...ctx.caches.runs.cache.values()].filter((r) => r.metadata.namespace === namespace && r.spec.hookRef.name === name);
  const status = hookStatus(hook, runs, { problems: entry.problems }, nowIso());
  if (isDeepStrictEqual(status, hook.status)) return;
  if (!entry.valid && !isDeepStrictEqual(status.conditions?.[0]?.message, hook.status?.conditions?.[0]?.message)) {
    ctx.log.warn({ hook: name, namespace, problems: entry.problems }, 'DeployHook is invalid and will not run');
    await ctx.recorder.record(entry.raw, 'Warning', 'InvalidHook', entry.problems.join('; '), `${hook.metadata.generation}`);
  }
  try {
    await withRetry(() => ctx.client.patch(objectPath(RESOURCES.deployHooks, namespace, name, 'status'), 'merge', {
      // Explicit nulls clear what the new status no longer has (merge-patch semantics).
      status: { lastRun: null, ...status },
    }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
