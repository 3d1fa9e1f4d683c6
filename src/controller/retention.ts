// Which runs of a hook to delete. Pure. The ledger must survive pruning, so these are always
// kept: the latest run of every Secret name that still exists or whose revoke has not fired yet,
// the latest run of each existing Secret itself (by uid: one re-created under an old name has
// its own), runs that have not finished, and, for an unfinished revoked run, the run whose
// snapshot holds its files. Of the rest, the newest historyLimit stay.
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { ANNOTATIONS } from '../api/names.ts';
import { capturingRun, ledgerOf } from './ledger.ts';
import { isFinished, newestFirst } from './run-state.ts';

/** `existingSecrets`: the uid of each Secret that exists, by name. */
export function runsToPrune(runs: DeployHookRun[], historyLimit: number, existingSecrets: Map<string, string>): DeployHookRun[] {
  const keep = new Set<string>();
  for (const run of [...runs].sort(newestFirst).slice(0, historyLimit)) keep.add(run.metadata.name!);
  for (const name of new Set(runs.map((r) => r.spec.secretRef.name))) {
    const ledger = ledgerOf(runs, name);
    const uid = existingSecrets.get(name);
    if (ledger[0] && (uid !== undefined || ledger[0].spec.event !== 'revoked')) keep.add(ledger[0].metadata.name!);
    const current = uid === undefined ? undefined : ledger.find((r) => r.metadata.annotations?.[ANNOTATIONS.secretUid] === uid);
    if (current) keep.add(current.metadata.name!);
  }
  for (const run of runs) {
    const captured = run.spec.event === 'revoked' && !isFinished(run) ? capturingRun(runs, run) : undefined;
    if (captured) keep.add(captured.metadata.name!);
  }
  return runs.filter((r) => !keep.has(r.metadata.name!) && isFinished(r));
}
