// Objects seen as sets of fields, the way structured-merge-diff walks them: which fields a value
// holds (what an applier owns), which changed between two versions (what an update takes, or
// conflicts with), and a list's items by their path element.
import { isDeepStrictEqual } from 'node:util';
import type { FieldType } from './field-types.ts';
import { fieldElement, FieldSet, keyElement, valueElement, type FieldPath, type PathElement } from './managed-fields.ts';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmptyObject = (v: unknown) => isObject(v) && Object.keys(v).length === 0;

/**
 * The items of a list with their path elements, or undefined when the list is atomic — by its
 * type, or because an item lacks a key or repeats one (such a list is then owned as a whole).
 */
export function listItems(list: readonly unknown[], type: FieldType): [PathElement, unknown][] | undefined {
  const kind = type.list;
  if (kind.type === 'atomic') return undefined;
  const items: [PathElement, unknown][] = [];
  const seen = new Set<PathElement>();
  for (const item of list) {
    let element: PathElement;
    if (kind.type === 'set') {
      if (typeof item === 'object' && item !== null) return undefined;
      element = valueElement(item);
    } else {
      if (!isObject(item) || !kind.keys.every((k) => item[k] !== undefined && item[k] !== null)) return undefined;
      element = keyElement(item, kind.keys);
    }
    if (seen.has(element)) return undefined;
    seen.add(element);
    items.push([element, item]);
  }
  return items;
}

/** The fields a value sets (structured-merge-diff's ToFieldSet). */
export function fieldSetOf(value: Json, type: FieldType): FieldSet {
  const set = new FieldSet();
  collect(value, type, [], set);
  return set;
}

function collect(value: unknown, type: FieldType, path: PathElement[], set: FieldSet): void {
  if (isObject(value) && !(path.length && type.atomicMap)) {
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, fieldElement(key)];
      collect(child, type.field(key), childPath, set);
      // A struct's field is owned through its leaves; an empty or null one, or a map's key, itself.
      if (child === null || isEmptyObject(child) || !type.declares(key)) set.insert(childPath);
    }
    return;
  }
  const items = Array.isArray(value) ? listItems(value, type) : undefined;
  if (!items) {
    set.insert(path);
    return;
  }
  for (const [element, item] of items) {
    const itemPath = [...path, element];
    collect(item, type.item(), itemPath, set);
    set.insert(itemPath);
  }
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * What changed from `before` to `after` (structured-merge-diff's Compare): leaves that differ are
 * modified; any field, list item or map present on one side only is added or removed, with all below it.
 */
export function compare(before: Json, after: Json, type: FieldType): Comparison {
  const result = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareNode(before, after, type, [], result);
  return result;
}

type Shape = { kind: 'map'; value: Json } | { kind: 'list'; items: [PathElement, unknown][] } | { kind: 'leaf' };

function shapeOf(value: unknown, type: FieldType, atRoot: boolean): Shape {
  if (isObject(value) && (atRoot || !type.atomicMap)) return { kind: 'map', value };
  const items = Array.isArray(value) ? listItems(value, type) : undefined;
  return items ? { kind: 'list', items } : { kind: 'leaf' };
}

function compareNode(before: unknown, after: unknown, type: FieldType, path: PathElement[], result: Comparison): void {
  const a = before === undefined ? undefined : shapeOf(before, type, path.length === 0);
  const b = after === undefined ? undefined : shapeOf(after, type, path.length === 0);
  const shape = a ?? b!;
  if (shape.kind === 'leaf' || (a && b && a.kind !== b.kind) || a?.kind === 'leaf' || b?.kind === 'leaf') {
    if (before === undefined) result.added.insert(path);
    else if (after === undefined) result.removed.insert(path);
    else if (!isDeepStrictEqual(before, after)) result.modified.insert(path);
    return;
  }
  if (shape.kind === 'map') {
    const left = a?.kind === 'map' ? a.value : {};
    const right = b?.kind === 'map' ? b.value : {};
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      compareNode(left[key], right[key], type.field(key), [...path, fieldElement(key)], result);
    }
  } else {
    const left = new Map(a?.kind === 'list' ? a.items : []);
    const right = new Map(b?.kind === 'list' ? b.items : []);
    for (const element of new Set([...left.keys(), ...right.keys()])) {
      compareNode(left.get(element), right.get(element), type.item(), [...path, element], result);
    }
  }
  if (!path.length) return;
  if (before === undefined) result.added.insert(path);
  else if (after === undefined) result.removed.insert(path);
}

/**
 * Removes the field or item at `path` from `obj` (in place); a path that is not there is ignored.
 * A map or list the removal empties goes too, as structured-merge-diff leaves it null and the API
 * server then drops it.
 */
export function removePath(obj: Json, path: FieldPath, type: FieldType): void {
  const trail: [Json | unknown[], string | number][] = [];
  let node: unknown = obj;
  let nodeType = type;
  for (const element of path) {
    if (element.startsWith('f:')) {
      const name = element.slice(2);
      if (!isObject(node) || !Object.hasOwn(node, name)) return;
      trail.push([node, name]);
      node = node[name];
      nodeType = nodeType.field(name);
    } else {
      if (!Array.isArray(node)) return;
      const at = element.startsWith('i:') ? Number(element.slice(2)) : (listItems(node, nodeType)?.findIndex(([e]) => e === element) ?? -1);
      if (at < 0 || at >= node.length) return;
      trail.push([node, at]);
      node = node[at];
      nodeType = nodeType.item();
    }
  }
  for (let i = trail.length - 1; i >= 0; i--) {
    const [container, at] = trail[i]!;
    if (Array.isArray(container)) container.splice(at as number, 1);
    else delete container[at as string];
    const emptied = Array.isArray(container) ? container.length === 0 : Object.keys(container).length === 0;
    if (!emptied || i === 0) return;
  }
}
