// Which runs of a hook to delete. Pure. The ledger must survive pruning: the latest run of every
// Secret that still exists, or whose revoke has not fired yet, is always kept, as are runs that
// have not finished and, while a revoked run is unfinished, the run whose snapshot may have to
// give it its files; of the rest, the newest historyLimit stay.
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { ledgerOf } from './ledger.ts';
import { isFinished, newestFirst } from './run-state.ts';

export function runsToPrune(runs: DeployHookRun[], historyLimit: number, existingSecrets: Set<string>): DeployHookRun[] {
  const keep = new Set<string>();
  for (const run of [...runs].sort(newestFirst).slice(0, historyLimit)) keep.add(run.metadata.name!);
  for (const name of new Set(runs.map((r) => r.spec.secretRef.name))) {
    const ledger = ledgerOf(runs, name);
    const latest = ledger[0];
    if (!latest) continue;
    if (existingSecrets.has(name) || latest.spec.event !== 'revoked') {
      keep.add(latest.metadata.name!);
    } else if (!isFinished(latest)) {
      // A revoked run whose planner died before its snapshot takes the files of the run before it.
      const previous = ledger.find((r) => r.spec.event !== 'revoked');
      if (previous) keep.add(previous.metadata.name!);
    }
  }
  return runs.filter((r) => !keep.has(r.metadata.name!) && isFinished(r));
}
