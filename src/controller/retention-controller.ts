// Retention as a controller of its own, as cert-manager's revision manager is: every change to a
// hook's runs marks the (hook, Secret) pair it belongs to, and a little later the hook's marked
// pairs are pruned, once for a whole burst of changes. A pair nobody touched is not looked at.
import { isConflict, isNotFound } from '../kube/errors.ts';
import { objectPath, RESOURCES } from '../kube/paths.ts';
import { hookEntry, runsOfHook, type OperatorContext } from './context.ts';
import { runsToPrune, type RetentionMarks } from './retention.ts';

interface Marks {
  all: boolean;
  secrets: Set<string>;
  added: number;
}

/** The marks gathered per hook since its retention last ran. */
export class RetentionTracker {
  private readonly marks = new Map<string, Marks>();

  private of(hookKey: string): Marks {
    let marks = this.marks.get(hookKey);
    if (!marks) this.marks.set(hookKey, (marks = { all: false, secrets: new Set(), added: 0 }));
    return marks;
  }

  /** A run of the hook for the Secret `secretKey` (`namespace/name`) was added (`added`), changed or deleted. */
  mark(hookKey: string, secretKey: string, added: boolean): void {
    const marks = this.of(hookKey);
    marks.secrets.add(secretKey);
    if (added) marks.added++;
  }

  /** Every pair of the hook is to be looked at. */
  markAll(hookKey: string): void {
    this.of(hookKey).all = true;
  }

  /** The hook's marks, forgotten here: give them back with `restore` if pruning fails. */
  take(hookKey: string): RetentionMarks | undefined {
    const marks = this.marks.get(hookKey);
    this.marks.delete(hookKey);
    return marks;
  }

  restore(hookKey: string, marks: RetentionMarks): void {
    const into = this.of(hookKey);
    into.all ||= marks.all;
    for (const name of marks.secrets) into.secrets.add(name);
    into.added += marks.added;
  }

  clear(): void {
    this.marks.clear();
  }
}

/** Deletes the hook's runs beyond its historyLimit that the ledger does not need. */
export async function reconcileRetention(ctx: OperatorContext, hookKey: string): Promise<void> {
  const entry = hookEntry(ctx, hookKey);
  const marks = ctx.retention.take(hookKey);
  // An invalid hook's runs are kept: its historyLimit may be what is wrong with it.
  if (!marks || !entry?.valid) return;
  const existingUid = (secretKey: string) => ctx.caches.secrets.cache.get(secretKey)?.uid;
  const prunable = runsToPrune(runsOfHook(ctx, hookKey), entry.hook.spec.historyLimit ?? 10, existingUid, marks);
  try {
    for (const run of prunable) {
      const namespace = run.metadata.namespace!;
      try {
        // Background propagation: the run's Job, pod and snapshot Secret go with it.
        await ctx.client.delete(objectPath(RESOURCES.deployHookRuns, namespace, run.metadata.name!), { propagationPolicy: 'Background', preconditions: { uid: run.metadata.uid } });
        ctx.log.debug({ run: run.metadata.name, namespace }, 'pruned run beyond the history limit');
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  } catch (err) {
    ctx.retention.restore(hookKey, marks);
    throw err;
  }
}
