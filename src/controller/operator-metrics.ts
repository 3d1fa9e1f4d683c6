// What the operator's caches say to Prometheus. Runs are counted as their final status reaches
// the runs cache; the gauges of hooks and certificates are read from the caches at scrape time,
// so a change to a cache costs no metrics work and a deleted object's series goes with it.
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { isClusterRun } from '../api/hook-ref.ts';
import type { Change } from '../kube/reflector.ts';
import type { CerthookMetrics, FinishedRun } from '../metrics/certhook.ts';
import type { OperatorContext } from './context.ts';
import { isFinished } from './run-state.ts';

/**
 * The run a change shows reaching its final phase, if it does. Only the change from an unfinished
 * version does: the operator's later writes to a finished run, a re-list, and a restart (the
 * run's first sight has no previous version) do not count it again.
 */
export function finishedByChange(change: Pick<Change<DeployHookRun>, 'previous' | 'current'>): FinishedRun | undefined {
  const { previous, current } = change;
  if (!previous || !current || isFinished(previous) || !isFinished(current)) return undefined;
  const status = current.status!;
  return {
    // The hook's namespace: none for a ClusterDeployHook, whose runs all live in one namespace.
    namespace: isClusterRun(current) ? '' : current.metadata.namespace!,
    hook: current.spec.hookRef.name,
    event: current.spec.event,
    phase: status.phase!,
    reason: status.reason ?? '',
    durationSeconds: status.durationSeconds,
  };
}

/** When the latest Succeeded run of these completed, in Unix seconds; undefined when none did. */
export function lastSuccessSeconds(runs: Iterable<DeployHookRun>): number | undefined {
  let latest: number | undefined;
  for (const run of runs) {
    if (run.status?.phase !== 'Succeeded') continue;
    const at = Date.parse(run.status.completionTime ?? '');
    if (!Number.isNaN(at) && (latest === undefined || at > latest)) latest = at;
  }
  return latest === undefined ? undefined : latest / 1000;
}

/** Registers the gauges read from the caches at scrape time. */
export function sampleCaches(ctx: OperatorContext, metrics: CerthookMetrics): void {
  // Both kinds of hook; a ClusterDeployHook's namespace label is empty.
  const hooks = () => [...ctx.caches.hooks.cache, ...(ctx.caches.cluster?.hooks.cache ?? [])];
  metrics.hookReady.add((set) => {
    // Ready is the hook's validity, as its status condition says (hook-status.ts).
    for (const [, entry] of hooks()) set(hookLabels(entry.raw.metadata), entry.valid ? 1 : 0);
  });
  metrics.lastSuccess.add((set) => {
    // A hook's cache key is the key of its runs in the index: `namespace/name`, or `/name`.
    for (const [key, entry] of hooks()) {
      const at = lastSuccessSeconds(ctx.indexes.runsByHook.get(key).values());
      if (at !== undefined) set(hookLabels(entry.raw.metadata), at);
    }
  });
  metrics.certificateNotAfter.add((set) => {
    for (const secret of ctx.caches.secrets.cache.values()) {
      const notAfter = Date.parse(secret.certificate?.notAfter ?? '');
      if (!Number.isNaN(notAfter)) set({ namespace: secret.namespace, secret: secret.name }, notAfter / 1000);
    }
  });
  metrics.countUnmatched(() => ctx.counters.unmatchedCertificateEvents);
}

const hookLabels = (metadata: { namespace?: string; name?: string }) => ({ namespace: metadata.namespace ?? '', hook: metadata.name! });
