// The runner seam: a kind of hook (a Job, a webhook) is a runner over a DeployHookRun. The run
// reconciler knows phases; a runner knows how to start its kind of hook and how to learn its
// outcome. Each call is idempotent: a run started twice (after a restart, or by another replica)
// starts one thing, and observing changes nothing.
import type { Hook } from '../api/deployhook.ts';
import type { DeployHookRun, DeployHookRunStatus, GroupOutcome, RunCertificate } from '../api/deployhookrun.ts';
import type { Condition } from '../api/metav1.ts';
import type { CacheLoop } from '../kube/reflector.ts';
import type { SnapshotInfo } from './snapshot.ts';

/** What a runner recorded when it started a run: its part of the status, and when it started. */
export interface Started {
  startTime: string;
  /** The runner's own part of the run status (e.g. `job: {name}`). */
  status: Partial<DeployHookRunStatus>;
}

/**
 * What observing a started run found: its outcome (the runner-neutral status of a final phase),
 * or when to look again (controller-runtime's `Result{RequeueAfter}`), optionally with progress
 * to record on the run first (a webhook's failed attempt and its retry time), or nothing to do
 * until the runner reports the run changed.
 */
export type Observation =
  | { outcome: DeployHookRunStatus }
  | { requeueAfterMs: number; progress?: DeployHookRunStatus }
  | { waiting: true };

/** A condition a runner reports on a hook's status, beside Ready. */
export type HookCondition = Omit<Condition, 'lastTransitionTime'>;

export interface StartRequest {
  run: DeployHookRun;
  hook: Hook;
  certificate: RunCertificate;
  snapshot: SnapshotInfo;
  context: RunContext;
}

/** What the run reconciler decided of a run beyond its spec, recorded on its status as it starts. */
export interface RunContext {
  /** For a post hook: how its group's earlier stages ended (status.group). */
  group?: GroupOutcome;
  /** Why the run is a dry run, when it is (status.dryRunReason). */
  dryRunReason?: string;
}

export interface Runner {
  readonly name: string;
  /** Whether this runner runs the hook (its spec names this runner's block). */
  runs(hook: Hook): boolean;
  /** Whether this runner started the run (its part of the status is there). */
  started(run: DeployHookRun): boolean;
  start(request: StartRequest): Promise<Started>;
  /** The outcome of a run this runner started; `hook` is absent when it was deleted since. */
  observe(run: DeployHookRun, hook: Hook | undefined): Promise<Observation>;
  /** The caches the runner keeps (filled and re-listed with the operator's). */
  readonly caches: readonly CacheLoop[];
  /** The run finished (its outcome is recorded): forget what was kept for it. */
  release?(runKey: string): void;
  /** This replica stopped acting: abandon work under way (the next leader resumes it). */
  deactivate?(): void;
  /** Conditions of a hook this runner runs, beside Ready (`previous`: those on its status now). */
  conditions?(hook: Hook, previous: readonly Condition[]): HookCondition[];
  /** Whether work the run queue does not see is under way (for tests and orderly shutdown). */
  busy?(): boolean;
  /** The operator is stopping: release connections and the like. */
  close?(): Promise<void>;
}
