// A hook's status (DeployHook or ClusterDeployHook): Ready from its validity, the rest from its runs (the indexed runs of
// that hook, never the whole cache).
import { isDeepStrictEqual } from 'node:util';
import type { Hook } from '../api/deployhook.ts';
import { isNotFound } from '../kube/errors.ts';
import { objectPath, RESOURCES } from '../kube/paths.ts';
import { nowTime } from '../api/metav1.ts';
import { isClusterHookKey } from '../api/hook-ref.ts';
import { hookEntry, runsOfHook, splitKey, type OperatorContext } from './context.ts';
import { hookStatus } from './hook-status.ts';

export async function reconcileHook(ctx: OperatorContext, key: string): Promise<void> {
  const entry = hookEntry(ctx, key);
  if (!entry) return;
  const [namespace, name] = splitKey(key);
  const cluster = isClusterHookKey(key);
  const hook = (entry.valid ? entry.hook : entry.raw) as Hook;
  const others = entry.valid ? ctx.runners.flatMap((r) => (r.runs(entry.hook) ? r.conditions?.(entry.hook, hook.status?.conditions ?? []) ?? [] : [])) : [];
  const status = hookStatus(hook, runsOfHook(ctx, key), { problems: entry.problems }, nowTime(), others, ctx.config.clusterHookNamespace);
  if (isDeepStrictEqual(status, hook.status)) return;
  if (!entry.valid && !isDeepStrictEqual(status.conditions?.[0]?.message, hook.status?.conditions?.[0]?.message)) {
    ctx.log.warn({ hook: name, ...(cluster ? { kind: entry.raw.kind } : { namespace }), problems: entry.problems }, `${entry.raw.kind} is invalid and will not run`);
    await ctx.recorder.record(entry.raw, 'Warning', 'InvalidHook', entry.problems.join('; '), `${hook.metadata.generation}`);
  }
  try {
    const path = cluster ? objectPath(RESOURCES.clusterDeployHooks, undefined, name, 'status') : objectPath(RESOURCES.deployHooks, namespace, name, 'status');
    await ctx.client.patch(path, 'merge', {
      // Explicit nulls clear what the new status no longer has (merge-patch semantics).
      status: { lastRun: null, type: null, domains: null, selector: null, namespaces: null, ...status },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
