// kube-apiserver's bridge from client-side to server-side apply (fieldmanager's lastAppliedManager
// and lastAppliedUpdater): for kubectl's own manager only, an object `kubectl apply` made moves to
// `kubectl apply --server-side` without conflicts over the fields its last-applied-configuration
// annotation names, and that annotation keeps following what kubectl applies.
import { fieldSetOf, isObject, type Json } from './field-sets.ts';
import { apply, ApplyConflictError, type Writer } from './server-side-apply.ts';
import type { Manager } from './managed-fields.ts';
import { cloneJson } from '../schema/json.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const KUBECTL = 'kubectl';

const annotationsOf = (obj: Json): Json | undefined => {
  const metadata = obj.metadata;
  return isObject(metadata) && isObject(metadata.annotations) ? metadata.annotations : undefined;
};

function lastApplied(live: Json): Json | undefined {
  const text = annotationsOf(live)?.[LAST_APPLIED];
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Server-side apply, with kubectl's migration from client-side apply. */
export function applyAfterClientSide(live: Json, config: Json, managers: readonly Manager[], writer: Writer, force: boolean): { object: Json; managers: Manager[] } {
  const previous = writer.manager === KUBECTL ? lastApplied(live) : undefined;
  if (!previous) return apply(live, config, managers, writer, force);
  let result;
  try {
    result = apply(live, config, managers, writer, force);
  } catch (err) {
    if (!(err instanceof ApplyConflictError)) throw err;
    const allowed = fieldSetOf(previous, writer.types);
    const remaining = err.conflicts.filter((c) => !allowed.has(c.path));
    if (remaining.length) throw new ApplyConflictError(remaining);
    result = apply(live, config, managers, writer, true);
  }
  // The annotation now holds what was applied (without itself), so a later client-side apply diffs against it.
  const recorded = cloneJson(config);
  const recordedAnnotations = annotationsOf(recorded);
  if (recordedAnnotations) {
    delete recordedAnnotations[LAST_APPLIED];
    if (!Object.keys(recordedAnnotations).length) delete (recorded.metadata as Json).annotations;
  }
  annotationsOf(result.object)![LAST_APPLIED] = JSON.stringify(recorded);
  return result;
}
