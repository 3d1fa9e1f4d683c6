// Which runs of a hook to delete. Pure. The ledger must survive pruning, so these are always
// kept: the latest run of every Secret name that still exists or whose revoke has not fired yet,
// the latest run of each existing Secret itself (by uid: one re-created under an old name has
// its own), runs that have not finished, and, for an unfinished revoked run, the run whose
// snapshot holds its files. Of the rest, the newest historyLimit stay.
//
// Every rule but the history limit concerns the runs of one hook for one Secret name, so
// retention works pair by pair: only the pairs whose runs changed, and those whose runs the
// newest runs pushed past the limit, are looked at again.
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { secretKeyOfRun } from '../api/hook-ref.ts';
import { ANNOTATIONS } from '../api/names.ts';
import { capturingRun, ledgerOf } from './ledger.ts';
import { isFinished, newestFirst } from './run-state.ts';

/**
 * The runs to delete among `runs`, the runs of one hook for one Secret name. `newest`: the names
 * of the hook's newest historyLimit runs; `existingUid`: the uid of the Secret of that name, if
 * one exists.
 */
export function pairRunsToPrune(runs: DeployHookRun[], newest: ReadonlySet<string>, existingUid: string | undefined): DeployHookRun[] {
  if (!runs.length) return [];
  const keep = new Set<string>();
  const ledger = ledgerOf(runs, runs[0]!.spec.secretRef.name);
  if (ledger[0] && (existingUid !== undefined || ledger[0].spec.event !== 'revoked')) keep.add(ledger[0].metadata.name!);
  const current = existingUid === undefined ? undefined : ledger.find((r) => r.metadata.annotations?.[ANNOTATIONS.secretUid] === existingUid);
  if (current) keep.add(current.metadata.name!);
  for (const run of runs) {
    const captured = run.spec.event === 'revoked' && !isFinished(run) ? capturingRun(runs, run) : undefined;
    if (captured) keep.add(captured.metadata.name!);
  }
  return runs.filter((r) => isFinished(r) && !keep.has(r.metadata.name!) && !newest.has(r.metadata.name!));
}

/** What changed among a hook's runs since its retention last ran. */
export interface RetentionMarks {
  /** Every pair is to be looked at (on start, or the hook's historyLimit changed). */
  all: boolean;
  /** Secrets (`namespace/name`) whose runs of the hook were added, changed or deleted. */
  secrets: ReadonlySet<string>;
  /** How many runs were added: as many older runs may have dropped out of the newest. */
  added: number;
}

/**
 * The runs to delete among all of a hook's runs, looking only at the pairs `marks` names (all
 * when absent). `existingUid`: the uid of the Secret (`namespace/name`), if one exists.
 */
export function runsToPrune(runs: DeployHookRun[], historyLimit: number, existingUid: (secretKey: string) => string | undefined, marks?: RetentionMarks): DeployHookRun[] {
  const sorted = [...runs].sort(newestFirst);
  const newest = new Set(sorted.slice(0, historyLimit).map((r) => r.metadata.name!));
  let review: ReadonlySet<string> | undefined;
  if (marks && !marks.all) {
    const pushedOut = sorted.slice(historyLimit, historyLimit + marks.added).map(secretKeyOfRun);
    review = new Set([...marks.secrets, ...pushedOut]);
  }
  const bySecret = Map.groupBy(review ? sorted.filter((r) => review.has(secretKeyOfRun(r))) : sorted, secretKeyOfRun);
  return [...bySecret].flatMap(([name, pair]) => pairRunsToPrune(pair, newest, existingUid(name)));
}
