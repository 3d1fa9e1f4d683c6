// Server-side apply and field ownership, as structured-merge-diff's Updater does them: an apply
// merges the applier's configuration into the live object, takes ownership of what it sets,
// conflicts with other managers that own a field it changes (unless forced), and removes what the
// applier set before, no longer sets and nobody else owns. Any other write takes ownership of the
// fields it changed. Pure: the caller stores the result.
import { isDeepStrictEqual } from 'node:util';
import { compare, type Comparison, fieldSetOf, isObject, listItems, removePath, type Json } from './field-sets.ts';
import type { FieldType } from './field-types.ts';
import { describeManager, FieldSet, pathString, sameManager, type FieldPath, type Manager, type Operation, type PathElement } from './managed-fields.ts';
import { cloneJson } from '../schema/json.ts';

/** Who writes, and where: what every write's bookkeeping needs besides the objects. */
export interface Writer {
  manager: string;
  apiVersion: string;
  subresource?: 'status';
  types: FieldType;
  /** Paths ownership is tracked for (the rest is the API server's, or another endpoint's). */
  ownable: (path: FieldPath) => boolean;
  now: string;
}

export interface Conflict {
  manager: Omit<Manager, 'fields'>;
  path: FieldPath;
}

/** An apply that would change fields other managers own. */
export class ApplyConflictError extends Error {
  override readonly name = 'ApplyConflictError';
  readonly conflicts: readonly Conflict[];

  constructor(conflicts: Conflict[]) {
    super(conflictMessage(conflicts));
    this.conflicts = conflicts;
  }
}

// kube-apiserver's wording (fieldmanager's NewConflictError).
function conflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) {
    const [c] = conflicts;
    return `Apply failed with 1 conflict: conflict with ${describeManager(c!.manager)}: ${pathString(c!.path)}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const name = describeManager(c.manager);
    byManager.set(name, [...(byManager.get(name) ?? []), pathString(c.path)]);
  }
  const lines = [...byManager.keys()].sort().flatMap((name) => [`conflicts with ${name}:`, ...byManager.get(name)!.map((p) => `- ${p}`)]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

// metadata fields the API server sets: nobody owns them (fieldmanager's stripMeta).
const SERVER_FIELDS = new Set(
  [['apiVersion'], ['kind'], ['metadata'], ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['metadata', f])].map(
    (path) => JSON.stringify(path.map((f) => `f:${f}`)),
  ),
);

/**
 * The paths a write through this endpoint can own: not the server's metadata, and for a kind with
 * a status subresource, status only through it and everything else only through the main resource.
 */
export function ownablePaths(hasStatusSubresource: boolean, subresource: 'status' | undefined): (path: FieldPath) => boolean {
  return (path) => {
    if (SERVER_FIELDS.has(JSON.stringify(path))) return false;
    if (!hasStatusSubresource) return true;
    return (path[0] === 'f:status') === (subresource === 'status');
  };
}

/**
 * Applies `config` (the applier's whole intent for the object) to `live` ({} when creating).
 * Returns the object to store and the new managers; throws ApplyConflictError.
 */
export function apply(live: Json, config: Json, managers: readonly Manager[], writer: Writer, force: boolean): { object: Json; managers: Manager[] } {
  const me = identity(writer, 'Apply');
  const previous = managers.find((m) => sameManager(m, me));
  const applied = fieldSetOf(config, writer.types).filter(writer.ownable);
  const others = managers.filter((m) => m !== previous);
  const object = merge(live, config, writer.types) as Json;
  if (previous) prune(object, previous.fields.difference(applied), [applied, ...others.map((m) => m.fields)], writer.types);
  const remaining = takeOver(ownedChanges(live, object, writer), others, force);
  // A field the configuration sets to null is removed, once it has counted as a change (and so
  // as a conflict with whoever owns it), as the API server drops a null where none is allowed.
  dropNulls(object, config);
  const changed = !previous || !previous.fields.equals(applied) || !isDeepStrictEqual(live, object);
  const time = changed ? writer.now : previous?.time;
  return { object, managers: [...remaining, { ...me, ...(time ? { time } : {}), fields: applied }] };
}

/** The managers after a create, update or patch by `writer` took `live` ({} when creating) to `object`. */
export function recordUpdate(live: Json, object: Json, managers: readonly Manager[], writer: Writer): Manager[] {
  const me = identity(writer, 'Update');
  const diff = ownedChanges(live, object, writer);
  const taken = diff.added.union(diff.modified);
  const remaining = takeOver(diff, managers, true);
  if (!taken.size) return remaining;
  const previous = remaining.find((m) => sameManager(m, me));
  const mine: Manager = { ...me, time: writer.now, fields: previous ? previous.fields.union(taken) : taken };
  return [...remaining.filter((m) => m !== previous), mine];
}

const identity = (writer: Writer, operation: Operation): Omit<Manager, 'fields'> => ({
  manager: writer.manager,
  operation,
  apiVersion: writer.apiVersion,
  ...(writer.subresource ? { subresource: writer.subresource } : {}),
});

function ownedChanges(live: Json, object: Json, writer: Writer): Comparison {
  const diff = compare(live, object, writer.types);
  return { added: diff.added.filter(writer.ownable), modified: diff.modified.filter(writer.ownable), removed: diff.removed.filter(writer.ownable) };
}

/**
 * Other managers lose the fields this write removed and those it changed — the latter a conflict
 * unless forced; managers left with nothing are dropped.
 */
function takeOver(diff: Comparison, others: readonly Manager[], force: boolean): Manager[] {
  const changed = diff.added.union(diff.modified);
  const conflicts = others.flatMap((m) => m.fields.intersection(changed).paths().map((path) => ({ manager: withoutFields(m), path })));
  if (conflicts.length && !force) throw new ApplyConflictError(conflicts);
  return others.map((m) => ({ ...m, fields: m.fields.difference(changed).difference(diff.removed) })).filter((m) => m.fields.size > 0);
}

const withoutFields = ({ fields: _f, ...rest }: Manager): Omit<Manager, 'fields'> => rest;

/**
 * Removes, in place, the fields the applier no longer applies that no one (the applier's new
 * configuration included) still owns, nor anything below them. A list item's key fields stay as
 * long as the item does.
 */
function prune(object: Json, dropped: FieldSet, owned: readonly FieldSet[], types: FieldType): void {
  for (const path of dropped.paths()) {
    if (isKeyField(path) || owned.some((set) => set.covers(path))) continue;
    removePath(object, path, types);
  }
}

function isKeyField(path: FieldPath): boolean {
  const parent = path.at(-2);
  const last = path.at(-1);
  if (!parent?.startsWith('k:') || !last?.startsWith('f:')) return false;
  return Object.hasOwn(JSON.parse(parent.slice(2)) as Json, last.slice(2));
}

// ---------------------------------------------------------------- merging

/**
 * The configuration merged into the live value: maps merge key by key, associative lists and sets
 * item by item (live items the configuration does not name stay, in structured-merge-diff's
 * order), anything else (scalars, atomic lists and maps) is the configuration's — a null too,
 * which changes the field as any value does until dropNulls removes it.
 */
export function merge(live: unknown, config: unknown, type: FieldType, atRoot = true): unknown {
  if (isObject(live) && isObject(config) && (atRoot || !type.atomicMap)) {
    const out: Json = cloneJson(live);
    for (const [key, value] of Object.entries(config)) out[key] = merge(live[key], value, type.field(key), false);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(config)) {
    const left = listItems(live, type);
    const right = listItems(config, type);
    if (left && right) return mergeItems(left, right, type.item());
  }
  return cloneJson(config);
}

/** Removes, in place, the fields of `object` that `config` sets to null (through its maps). */
function dropNulls(object: Json, config: Json): void {
  for (const [key, value] of Object.entries(config)) {
    if (value === null) delete object[key];
    else if (isObject(value) && isObject(object[key])) dropNulls(object[key], value);
  }
}

// structured-merge-diff's visitListItems: configuration items in its order, live-only items kept
// where they were relative to the items both have.
function mergeItems(left: [PathElement, unknown][], right: [PathElement, unknown][], type: FieldType): unknown[] {
  const inLeft = new Map(left);
  const inRight = new Map(right);
  const shared = right.map(([e]) => e).filter((e) => inLeft.has(e));
  let nextShared = shared.shift();
  const mergedRight = new Set<PathElement>();
  const out: unknown[] = [];
  const takeRight = (element: PathElement) => {
    mergedRight.add(element);
    out.push(merge(inLeft.get(element), inRight.get(element), type, false));
    if (nextShared === element) nextShared = shared.shift();
  };
  let l = 0;
  let r = 0;
  while (l < left.length || r < right.length) {
    if (l < left.length && r < right.length) {
      const element = left[l]![0];
      if (element === right[r]![0]) {
        takeRight(element);
        l++;
        r++;
        continue;
      }
      if (inRight.has(element) && nextShared !== undefined && nextShared !== element) {
        l++;
        continue;
      }
    }
    if (l < left.length) {
      const [element, item] = left[l]!;
      if (!inRight.has(element)) {
        out.push(cloneJson(item));
        l++;
        continue;
      }
      if (mergedRight.has(element)) l++;
    }
    if (r < right.length) {
      takeRight(right[r]![0]);
      r++;
    }
  }
  return out;
}
