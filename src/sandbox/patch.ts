// The three patch formats of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902) and strategic merge patch. Targets and patches are parsed JSON. All are pure:
// inputs are never mutated and results share no structure with them, so a caller may change
// a result freely.
import { cloneJson } from '../schema/json.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

/**
 * A patch that cannot be applied. `status` is the HTTP status the API server answers with:
 * 400 for a patch document of the wrong shape, 422 for one that does not apply to the object.
 */
export class PatchError extends Error {
  override name = 'PatchError';
  readonly status: 400 | 422;

  constructor(message: string, status: 400 | 422) {
    super(message);
    this.status = status;
  }
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = (v: unknown): JsonValue => cloneJson(v) as JsonValue;

// ---------------------------------------------------------------- RFC 7386

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): JsonValue {
  return mergeInto(clone(target), clone(patch));
}

// Both are owned by the merge and changed in place.
function mergeInto(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeInto(result[key], value);
  }
  return result;
}

// ---------------------------------------------------------------- RFC 6902

/**
 * RFC 6902 JSON patch. `operations` is the parsed request body; it is validated here. The
 * operations apply in order and all or nothing.
 */
export function applyJsonPatch(target: unknown, operations: unknown): JsonValue {
  if (!Array.isArray(operations) || !operations.every(isObject)) {
    throw new PatchError('a JSON patch must be an array of operation objects', 400);
  }
  let doc = clone(target);
  for (const op of operations) doc = applyOperation(doc, op);
  return doc;
}

function applyOperation(doc: JsonValue, op: JsonObject): JsonValue {
  const name = op.op;
  const path = pointer(op, 'path');
  const value = () => {
    if (!('value' in op)) throw new PatchError(`${String(name)} operation at ${path.text} has no "value"`, 422);
    return clone(op.value!);
  };
  switch (name) {
    case 'add':
      return add(doc, path, value(), 'add');
    case 'remove':
      return remove(doc, path, 'remove').doc;
    case 'replace': {
      const replacement = value();
      return add(remove(doc, path, 'replace').doc, path, replacement, 'replace');
    }
    case 'move': {
      const from = pointer(op, 'from');
      if (path.tokens.length > from.tokens.length && from.tokens.every((t, i) => t === path.tokens[i])) {
        throw new PatchError(`move operation cannot move ${from.text} into its own child ${path.text}`, 422);
      }
      const taken = remove(doc, from, 'move');
      return add(taken.doc, path, taken.value, 'move');
    }
    case 'copy': {
      const from = pointer(op, 'from');
      return add(doc, path, clone(get(doc, from, 'copy')), 'copy');
    }
    case 'test': {
      const expected = value();
      if (!jsonEqual(get(doc, path, 'test'), expected)) throw new PatchError(`testing value ${path.text} failed: test failed`, 422);
      return doc;
    }
    default:
      throw new PatchError(`unexpected operation ${JSON.stringify(name ?? null)}`, 422);
  }
}

type Pointer = { text: string; tokens: string[] };

function pointer(op: JsonObject, member: 'path' | 'from'): Pointer {
  const text = op[member];
  if (typeof text !== 'string') throw new PatchError(`${String(op.op)} operation has no "${member}"`, 422);
  if (text === '') return { text, tokens: [] };
  if (!text.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(text)}: it must start with "/"`, 422);
  const tokens = text
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new PatchError(`invalid JSON pointer ${JSON.stringify(text)}: bad "~" escape`, 422);
      return token.replaceAll('~1', '/').replaceAll('~0', '~');
    });
  return { text, tokens };
}

const missing = (opName: string, path: Pointer) =>
  new PatchError(`${opName} operation does not apply: doc is missing path: ${JSON.stringify(path.text)}`, 422);

// An array index token: "0" or digits without a leading zero (RFC 6901), below `limit`.
function arrayIndex(token: string, limit: number, opName: string, path: Pointer): number {
  if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) > limit) {
    throw new PatchError(`${opName} operation does not apply: index ${JSON.stringify(token)} of ${path.text} is out of range`, 422);
  }
  return Number(token);
}

// The container that holds the last token of `path`, which must exist.
function parentOf(doc: JsonValue, path: Pointer, opName: string): JsonValue {
  let node = doc;
  for (const token of path.tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length - 1, opName, path)]!;
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token]!;
    else throw missing(opName, path);
  }
  return node;
}

function get(doc: JsonValue, path: Pointer, opName: string): JsonValue {
  if (path.tokens.length === 0) return doc;
  const parent = parentOf(doc, path, opName);
  const last = path.tokens.at(-1)!;
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length - 1, opName, path)]!;
  if (isObject(parent) && Object.hasOwn(parent, last)) return parent[last]!;
  throw missing(opName, path);
}

function add(doc: JsonValue, path: Pointer, value: JsonValue, opName: string): JsonValue {
  if (path.tokens.length === 0) return value;
  const parent = parentOf(doc, path, opName);
  const last = path.tokens.at(-1)!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : arrayIndex(last, parent.length, opName, path);
    parent.splice(index, 0, value);
  } else if (isObject(parent)) parent[last] = value;
  else throw missing(opName, path);
  return doc;
}

function remove(doc: JsonValue, path: Pointer, opName: string): { doc: JsonValue; value: JsonValue } {
  if (path.tokens.length === 0) return { doc: null, value: doc };
  const parent = parentOf(doc, path, opName);
  const last = path.tokens.at(-1)!;
  if (Array.isArray(parent)) {
    const [value] = parent.splice(arrayIndex(last, parent.length - 1, opName, path), 1);
    return { doc, value: value! };
  }
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last]!;
    delete parent[last];
    return { doc, value };
  }
  throw missing(opName, path);
}

function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]!));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k]!, b[k]!));
  }
  return a === b;
}

// ---------------------------------------------------------------- strategic merge patch

// How the list fields of the built-in kinds the sandbox serves are merged, from the
// `patchStrategy`/`patchMergeKey` tags of k8s.io/api. A row matches a field whose path (list
// indices left out) ends with `path`; `kind` confines it to one kind. Lists of objects merge by
// the named key, `set` lists of primitives merge as a set, every other list is replaced.
type ListRule = { path: string; merge: string | { set: true }; kind?: string };
const LIST_RULES: readonly ListRule[] = [
  { path: 'metadata.finalizers', merge: { set: true } },
  { path: 'metadata.ownerReferences', merge: 'uid' },
  { path: 'status.conditions', merge: 'type' },
  { path: 'containers', merge: 'name' },
  { path: 'initContainers', merge: 'name' },
  { path: 'ephemeralContainers', merge: 'name' },
  { path: 'env', merge: 'name' },
  { path: 'ports', merge: 'containerPort' },
  { path: 'volumeMounts', merge: 'mountPath' },
  { path: 'volumeDevices', merge: 'devicePath' },
  { path: 'volumes', merge: 'name' },
  { path: 'imagePullSecrets', merge: 'name' },
  { path: 'hostAliases', merge: 'ip' },
  { path: 'schedulingGates', merge: 'name' },
  { path: 'status.podIPs', merge: 'ip' },
  { path: 'status.hostIPs', merge: 'ip' },
  { path: 'secrets', merge: 'name', kind: 'ServiceAccount' },
];

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM = '$deleteFromPrimitiveList/';
const ELEMENT_ORDER = '$setElementOrder/';

type Context = { kind: string; path: readonly string[] };
export type ListStrategy = { kind: 'replace' } | { kind: 'set' } | { kind: 'merge'; key: string };

/**
 * Kubernetes strategic merge patch for a built-in kind (`kind` is the object's kind, e.g.
 * `Pod`): as a merge patch, but lists merge by their patch strategy, and the directives
 * `$patch` (delete | replace | merge), `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
 * `$setElementOrder/<field>` apply. Merged lists are ordered as apimachinery orders them:
 * patch items in patch (or `$setElementOrder`) order, interleaved with server-only items.
 */
export function applyStrategicMergePatch(target: object, patch: unknown, kind: string): JsonObject {
  const base = clone(target);
  const changes = clone(patch);
  if (!isObject(base) || !isObject(changes)) throw new PatchError('a strategic merge patch and its target must be JSON objects', 400);
  return mergeObject(base, changes, { kind, path: [] });
}

const listStrategy = (ctx: Context): ListStrategy => listMergeStrategy(ctx.kind, ctx.path);

/**
 * How the list at `path` (field names, list indices left out) of a built-in `kind` merges: the
 * strategic merge patch rules, which are also the list types server-side apply uses for these kinds.
 */
export function listMergeStrategy(kind: string, path: readonly string[]): ListStrategy {
  const joined = path.join('.');
  const rule = LIST_RULES.find(
    (r) => (r.kind === undefined || r.kind === kind) && (joined === r.path || joined.endsWith(`.${r.path}`)),
  );
  if (!rule) return { kind: 'replace' };
  return typeof rule.merge === 'string' ? { kind: 'merge', key: rule.merge } : { kind: 'set' };
}

const badPatch = (message: string) => new PatchError(message, 400);
const child = (ctx: Context, key: string): Context => ({ kind: ctx.kind, path: [...ctx.path, key] });

// Merges `patch` into `original` (both owned by the merge, so they are changed in place).
// `original` undefined means the field is new: the patch value is taken with its nulls and
// directives resolved.
function mergeObject(original: JsonObject | undefined, patch: JsonObject, ctx: Context): JsonObject {
  const directive = patch[PATCH];
  if (directive === 'delete') return {};
  if (directive === 'replace') {
    delete patch[PATCH];
    return mergeObject(undefined, patch, ctx);
  }
  if (directive !== undefined && directive !== 'merge') {
    throw badPatch(`unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(patch)}`);
  }
  delete patch[PATCH];
  const result = original ?? {};

  applyRetainKeys(result, patch);

  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(DELETE_FROM)) continue;
    const field = key.slice(DELETE_FROM.length);
    if (!Array.isArray(value)) throw badPatch(`${key} must be a list`);
    const list = result[field];
    if (Array.isArray(list)) result[field] = list.filter((item) => !value.includes(item));
  }

  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM)) continue;
    if (key.startsWith(ELEMENT_ORDER)) {
      const field = key.slice(ELEMENT_ORDER.length);
      if (!Array.isArray(value)) throw badPatch(`${key} must be a list`);
      // An order for a list the patch leaves alone only reorders it.
      const list = result[field];
      if (!Object.hasOwn(patch, field) && Array.isArray(list) && listStrategy(child(ctx, field)).kind !== 'replace') {
        result[field] = mergeList(list, [], child(ctx, field), value);
      }
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const order = patch[ELEMENT_ORDER + key];
    result[key] = mergeValue(result[key], value, child(ctx, key), Array.isArray(order) ? order : undefined);
  }
  return result;
}

function mergeValue(original: JsonValue | undefined, patch: JsonValue, ctx: Context, order?: JsonValue[]): JsonValue {
  if (Array.isArray(patch)) return mergeList(Array.isArray(original) ? original : undefined, patch, ctx, order);
  if (isObject(patch)) return mergeObject(isObject(original) ? original : undefined, patch, ctx);
  return patch;
}

// $retainKeys: keys of the original not listed are cleared; the patch may only set listed keys.
function applyRetainKeys(result: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw badPatch('invalid patch format of retainKeys');
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM) || key.startsWith(ELEMENT_ORDER)) continue;
    if (!retain.includes(key)) throw badPatch('invalid patch format of retainKeys');
  }
  for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
}

function mergeList(original: JsonValue[] | undefined, patch: JsonValue[], ctx: Context, order?: JsonValue[]): JsonValue[] {
  const strategy = listStrategy(ctx);
  // Elements taken as they are still need their own nulls and directives resolved.
  const taken = (items: JsonValue[]) => items.map((item) => mergeValue(undefined, item, ctx));

  if (strategy.kind === 'replace') return taken(patch);

  if (strategy.kind === 'set') {
    const base = original ?? [];
    const merged = [...base];
    for (const item of patch) if (!merged.includes(item)) merged.push(item);
    return arrange(merged, order ?? patch, base, (item) => item);
  }

  const key = strategy.key;
  const keyOf = (item: JsonValue) => (isObject(item) ? item[key] : undefined);
  let base = original ?? [];
  const items: JsonObject[] = [];
  let replace = false;
  for (const item of patch) {
    if (!isObject(item)) throw badPatch(`${ctx.path.join('.')}: list elements merged by "${key}" must be objects`);
    const directive = item[PATCH];
    if (directive === undefined || directive === 'merge') {
      delete item[PATCH];
      if (!Object.hasOwn(item, key)) throw badPatch(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
      items.push(item);
    } else if (directive === 'delete') {
      if (!Object.hasOwn(item, key)) throw badPatch(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
      base = base.filter((existing) => keyOf(existing) !== item[key]);
    } else if (directive === 'replace') {
      replace = true;
    } else {
      throw badPatch(`unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(item)}`);
    }
  }
  if (replace) return taken(items);

  const merged = [...base];
  for (const item of items) {
    const at = merged.findIndex((existing) => keyOf(existing) === item[key]);
    if (at >= 0) merged[at] = mergeObject(merged[at] as JsonObject, item, ctx);
    else merged.push(mergeObject(undefined, item, ctx));
  }
  return arrange(merged, order ?? items, base, keyOf);
}

// apimachinery's normalizeElementOrder: items named by the patch (or $setElementOrder) in that
// order, server-only items in their original order, the two interleaved by the original order
// where both items are in it. New items therefore come before later server-only items.
function arrange(
  merged: JsonValue[],
  patchOrder: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  keyOf: (item: JsonValue) => JsonValue | undefined,
): JsonValue[] {
  const indexIn = (list: readonly JsonValue[], item: JsonValue) => {
    const at = list.findIndex((other) => keyOf(other) === keyOf(item));
    return at < 0 ? Number.MAX_SAFE_INTEGER : at;
  };
  const byIndexIn = (list: readonly JsonValue[]) => (a: JsonValue, b: JsonValue) => indexIn(list, a) - indexIn(list, b);
  const inPatch = (item: JsonValue) => patchOrder.some((p) => keyOf(p) === keyOf(item));
  const fromPatch = merged.filter(inPatch).sort(byIndexIn(patchOrder));
  const serverOnly = merged.filter((item) => !inPatch(item)).sort(byIndexIn(serverOrder));

  const result: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < fromPatch.length) {
    if (j >= fromPatch.length) result.push(serverOnly[i++]!);
    else if (i >= serverOnly.length) result.push(fromPatch[j++]!);
    else {
      const left = indexIn(serverOrder, serverOnly[i]!);
      const right = indexIn(serverOrder, fromPatch[j]!);
      const bothKnown = left !== Number.MAX_SAFE_INTEGER && right !== Number.MAX_SAFE_INTEGER;
      result.push(bothKnown && left < right ? serverOnly[i++]! : fromPatch[j++]!);
    }
  }
  return result;
}
