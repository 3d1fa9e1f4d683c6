// This process's own writes to runs that the runs cache has not shown yet, as controller-runtime's
// "expectations": a reconcile that follows its own write too closely must still see the run it
// created, or it would decide again from a ledger that lacks it (a created for a Secret whose
// created is on its way, say); and a run whose status it just wrote is not worked on again from
// the older copy (which would write the same status twice). An entry goes when the cache shows
// the write, or after a while.
import type { DeployHookRun } from '../api/deployhookrun.ts';

/** How long an unseen run is assumed to exist: longer than any watch takes to show it. */
const EXPECTATION_TTL_MS = 60_000;

interface Expected {
  run: DeployHookRun;
  until: number;
}

export class RunExpectations {
  /** By Secret key (`namespace/secret`), then run name. */
  private readonly bySecret = new Map<string, Map<string, Expected>>();
  /** The resourceVersion each run had when this process wrote its status, by run key. */
  private readonly statusWrites = new Map<string, { over: string; until: number }>();

  /** This process wrote the status of a run the cache showed at `resourceVersion`. */
  wroteStatus(runKey: string, resourceVersion: string | undefined): void {
    if (resourceVersion) this.statusWrites.set(runKey, { over: resourceVersion, until: Date.now() + EXPECTATION_TTL_MS });
  }

  /** The cache shows the run at `resourceVersion`: once that is not the version written over, the write (or a later one) is in. */
  observedVersion(runKey: string, resourceVersion: string | undefined): void {
    if (this.statusWrites.has(runKey) && this.statusWrites.get(runKey)!.over !== resourceVersion) this.statusWrites.delete(runKey);
  }

  /**
   * Whether the cached copy of a run (at `resourceVersion`) is the one this process has since
   * written the status of: working on it again would write the same status twice. Its watch event
   * brings the run back.
   */
  isStale(runKey: string, resourceVersion: string | undefined): boolean {
    const write = this.statusWrites.get(runKey);
    if (!write || write.over !== resourceVersion || write.until < Date.now()) {
      this.statusWrites.delete(runKey);
      return false;
    }
    return true;
  }

  /** The run was created (or found) under `secretKey`. */
  expect(secretKey: string, run: DeployHookRun): void {
    let runs = this.bySecret.get(secretKey);
    if (!runs) this.bySecret.set(secretKey, (runs = new Map()));
    runs.set(run.metadata.name!, { run, until: Date.now() + EXPECTATION_TTL_MS });
  }

  /** The cache showed (or removed) the run: it no longer needs expecting. */
  observed(secretKey: string, runName: string): void {
    const runs = this.bySecret.get(secretKey);
    if (runs?.delete(runName) && runs.size === 0) this.bySecret.delete(secretKey);
  }

  /** The cached runs of `secretKey`, with the expected ones the cache lacks. */
  merge(secretKey: string, cached: ReadonlyMap<string, DeployHookRun>): DeployHookRun[] {
    const runs = [...cached.values()];
    const expected = this.bySecret.get(secretKey);
    if (!expected) return runs;
    const now = Date.now();
    const names = new Set(runs.map((r) => r.metadata.name));
    for (const [name, entry] of expected) {
      if (entry.until < now) expected.delete(name);
      else if (!names.has(name)) runs.push(entry.run);
    }
    if (expected.size === 0) this.bySecret.delete(secretKey);
    return runs;
  }

  clear(): void {
    this.bySecret.clear();
    this.statusWrites.clear();
  }
}
