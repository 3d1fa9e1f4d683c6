// Run phases as the controllers read them.
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { ANNOTATIONS } from '../api/names.ts';

/** The phases a run ends in. */
export const FINAL_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Skipped', 'Unknown']);

export const isFinished = (run: DeployHookRun): boolean => FINAL_PHASES.has(run.status?.phase ?? '');

/**
 * When a run was planned, in ms: the operator stamps every run, its own when it plans them and
 * those made by hand when it first prepares them; until then, the creation second.
 */
export const plannedAt = (run: DeployHookRun): number =>
  Date.parse(run.metadata.annotations?.[ANNOTATIONS.plannedAt] ?? run.metadata.creationTimestamp ?? '') || 0;

/** Newest first, by when each run was planned, then by name so ties always order the same way. */
export function newestFirst(a: DeployHookRun, b: DeployHookRun): number {
  const at = plannedAt(a);
  const bt = plannedAt(b);
  if (at !== bt) return bt - at;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? 1 : -1;
}
