// Stages: the hooks one certificate version of one Secret fires (same Secret uid, fingerprint and
// event) run as a group — every pre hook, then every deploy hook, then every post hook. Pure: the
// gate reads the group's runs, whose stage and failure policy were recorded when they were planned,
// so a hook edited since changes nothing, and the decision is the same after any restart.
import type { DeployHookRun, GroupOutcome } from '../api/deployhookrun.ts';
import type { FailurePolicy, Stage } from '../api/enums.ts';
import { ANNOTATIONS } from '../api/names.ts';
import { isFinished } from './run-state.ts';

const RANK: Record<Stage, number> = { pre: 0, deploy: 1, post: 2 };
/** A stage's place in its group's order (absent: deploy). */
export const stageRank = (stage: Stage | undefined): number => RANK[stage ?? 'deploy'];

export const stageOf = (run: DeployHookRun): Stage => run.spec.stage ?? 'deploy';

/** A hook's failure policy: its own, else Fail for pre and deploy hooks and Ignore for post hooks. */
export const defaultFailurePolicy = (stage: Stage): FailurePolicy => (stage === 'post' ? 'Ignore' : 'Fail');
export const failurePolicyOf = (run: DeployHookRun): FailurePolicy => run.spec.failurePolicy ?? defaultFailurePolicy(stageOf(run));

/** Firings to plan in this order: revokes first (an old Secret's before the new one's), then by stage. */
export function planningOrder<T extends { event: string; hook: { spec: { stage?: Stage } } }>(firings: T[]): T[] {
  const rank = (f: T) => (f.event === 'revoked' ? 0 : 3) + stageRank(f.hook.spec.stage);
  return firings.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
}

/** The other runs of a run's group among `runs` (the runs of its Secret name); none for a manual run. */
export function groupOf(run: DeployHookRun, runs: Iterable<DeployHookRun>): DeployHookRun[] {
  if (run.spec.event === 'manual') return [];
  const uid = run.metadata.annotations?.[ANNOTATIONS.secretUid];
  const group: DeployHookRun[] = [];
  for (const r of runs) {
    if (r.metadata.name === run.metadata.name || r.spec.event !== run.spec.event) continue;
    if (r.metadata.annotations?.[ANNOTATIONS.secretUid] !== uid || r.spec.certificate?.fingerprint !== run.spec.certificate?.fingerprint) continue;
    group.push(r);
  }
  return group;
}

const failed = (run: DeployHookRun) => run.status?.phase === 'Failed' || run.status?.phase === 'Unknown';
const names = (runs: DeployHookRun[]) => [...new Set(runs.map((r) => r.spec.hookRef.name))].sort();

export type StageGate =
  | { go: true; group?: GroupOutcome }
  | { wait: string[] }
  | { skip: string[] };

/**
 * Whether a run may start now, given the other runs of its group: a pre hook always; a deploy
 * hook once every pre hook has finished, unless a pre hook with failurePolicy Fail failed (then
 * it is skipped); a post hook once every pre and deploy hook has finished, whatever the outcome,
 * with that outcome.
 */
export function stageGate(run: DeployHookRun, group: DeployHookRun[]): StageGate {
  const stage = stageOf(run);
  const earlier = group.filter((r) => RANK[stageOf(r)] < RANK[stage]);
  if (stage === 'deploy') {
    const stopping = earlier.filter((r) => failed(r) && failurePolicyOf(r) === 'Fail');
    if (stopping.length) return { skip: names(stopping) };
  }
  const unfinished = earlier.filter((r) => !isFinished(r));
  if (unfinished.length) return { wait: names(unfinished) };
  if (stage !== 'post') return { go: true };
  const failures = earlier.filter(failed);
  return { go: true, group: failures.length ? { result: 'failed', failedHooks: names(failures) } : { result: 'succeeded' } };
}
