// Field sets as Kubernetes' structured-merge-diff tracks them, and their wire form: the entries of
// metadata.managedFields, whose fieldsV1 is a tree of path elements — `f:<field>`, `k:<key JSON>`
// for an item of an associative list, `v:<value JSON>` for an item of a set — where `".": {}`
// marks a node that is itself owned besides its children.

/** One serialized path element: `f:spec`, `k:{"name":"main"}`, `v:"a"`, `i:0`. */
export type PathElement = string;
export type FieldPath = readonly PathElement[];

type FieldsV1 = { [element: string]: FieldsV1 };

const pathKey = (path: FieldPath) => JSON.stringify(path);

/** A set of field paths (each a member in its own right, as in structured-merge-diff). */
export class FieldSet {
  private readonly members = new Map<string, FieldPath>();

  constructor(paths: Iterable<FieldPath> = []) {
    for (const path of paths) this.insert(path);
  }

  // Set algebra reuses the members' keys rather than serializing every path again.
  private static of(members: Iterable<[string, FieldPath]>): FieldSet {
    const set = new FieldSet();
    for (const [key, path] of members) set.members.set(key, path);
    return set;
  }

  insert(path: FieldPath): void {
    this.members.set(pathKey(path), [...path]);
  }

  has(path: FieldPath): boolean {
    return this.members.has(pathKey(path));
  }

  get size(): number {
    return this.members.size;
  }

  /** Members in structured-merge-diff's order (fields, then keys, then values, then indices). */
  paths(): FieldPath[] {
    return [...this.members.values()].sort(comparePaths);
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.of([...this.members, ...other.members]);
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.of([...this.members].filter(([key]) => !other.members.has(key)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.of([...this.members].filter(([key]) => other.members.has(key)));
  }

  /** Members that pass `keep`. */
  filter(keep: (path: FieldPath) => boolean): FieldSet {
    return FieldSet.of([...this.members].filter(([, path]) => keep(path)));
  }

  /** Whether `path` or anything below it is a member. */
  covers(path: FieldPath): boolean {
    for (const member of this.members.values()) {
      if (member.length >= path.length && path.every((e, i) => member[i] === e)) return true;
    }
    return false;
  }

  equals(other: FieldSet): boolean {
    return this.size === other.size && this.difference(other).size === 0;
  }

  toFieldsV1(): FieldsV1 {
    const root: Node = { member: false, children: new Map() };
    for (const path of this.members.values()) {
      let node = root;
      for (const element of path) {
        let next = node.children.get(element);
        if (!next) node.children.set(element, (next = { member: false, children: new Map() }));
        node = next;
      }
      node.member = true;
    }
    return emit(root, false);
  }

  static fromFieldsV1(tree: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: unknown, path: PathElement[]) => {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new Error(`fieldsV1 at ${pathString(path)} is not an object`);
      const entries = Object.entries(node);
      if (path.length && (entries.length === 0 || '.' in node)) set.insert(path);
      for (const [element, child] of entries) {
        if (element === '.') continue;
        if (!/^[fkvi]:/.test(element)) throw new Error(`fieldsV1 has an unknown path element ${JSON.stringify(element)}`);
        walk(child, [...path, element]);
      }
    };
    walk(tree, []);
    return set;
  }
}

interface Node {
  member: boolean;
  children: Map<PathElement, Node>;
}

function emit(node: Node, marked: boolean): FieldsV1 {
  const out: FieldsV1 = {};
  if (marked) out['.'] = {};
  for (const element of [...node.children.keys()].sort(compareElements)) {
    const child = node.children.get(element)!;
    out[element] = emit(child, child.member && child.children.size > 0);
  }
  return out;
}

const ELEMENT_ORDER = 'fkvi';

function compareElements(a: PathElement, b: PathElement): number {
  const byType = ELEMENT_ORDER.indexOf(a[0]!) - ELEMENT_ORDER.indexOf(b[0]!);
  if (byType !== 0) return byType;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePaths(a: FieldPath, b: FieldPath): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareElements(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------- path elements

export const fieldElement = (name: string): PathElement => `f:${name}`;
export const valueElement = (value: unknown): PathElement => `v:${JSON.stringify(value)}`;

/** The key of an associative list item: its key fields, sorted by name. */
export function keyElement(item: Record<string, unknown>, keys: readonly string[]): PathElement {
  const sorted = [...keys].sort();
  return `k:{${sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(item[k])}`).join(',')}}`;
}

/** A path as the API server prints it in conflicts: `.spec.containers[name="main"].image`. */
export function pathString(path: FieldPath): string {
  return path
    .map((element) => {
      const body = element.slice(2);
      switch (element[0]) {
        case 'f':
          return `.${body}`;
        case 'k':
          return `[${Object.entries(JSON.parse(body) as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
        case 'v':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

// ---------------------------------------------------------------- metadata.managedFields

export type Operation = 'Apply' | 'Update';

/** One manager's fields, as structured-merge-diff keeps them (apiVersion, operation and subresource tell entries apart). */
export interface Manager {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: 'status';
  time?: string;
  fields: FieldSet;
}

/** metav1.ManagedFieldsEntry. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: Operation;
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: FieldsV1;
  subresource?: string;
}

/** Whether two entries belong to the same manager (an Update's apiVersion counts, an Apply's does not). */
export const sameManager = (a: Omit<Manager, 'fields'>, b: Omit<Manager, 'fields'>) =>
  a.manager === b.manager && a.operation === b.operation && a.subresource === b.subresource && (a.operation === 'Apply' || a.apiVersion === b.apiVersion);

/** A client that sends `[{}]` asks for the managed fields to be cleared. */
export function isReset(entries: unknown): boolean {
  return Array.isArray(entries) && entries.length === 1 && isEmptyObject(entries[0]);
}

const isEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

/** Decodes metadata.managedFields; throws on an entry that is not well formed. */
export function decodeManagedFields(entries: unknown): Manager[] {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  return (entries as ManagedFieldsEntry[]).map((entry, i) => {
    if (typeof entry.manager !== 'string') throw new Error(`managedFields[${i}].manager must be a string`);
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') throw new Error(`managedFields[${i}].operation must be Apply or Update`);
    if (entry.fieldsType !== 'FieldsV1') throw new Error(`managedFields[${i}].fieldsType must be FieldsV1`);
    return {
      manager: entry.manager,
      operation: entry.operation,
      apiVersion: entry.apiVersion ?? '',
      ...(entry.subresource === 'status' ? { subresource: 'status' as const } : {}),
      ...(entry.time ? { time: entry.time } : {}),
      fields: FieldSet.fromFieldsV1(entry.fieldsV1 ?? {}),
    };
  });
}

/** The wire form, ordered as the API server orders it: operation, time, manager, apiVersion, subresource. */
export function encodeManagedFields(managers: readonly Manager[]): ManagedFieldsEntry[] {
  const seconds = (m: Manager) => (m.time ? Date.parse(m.time) : 0);
  const byOrder = (a: Manager, b: Manager) =>
    cmp(a.operation, b.operation) || seconds(a) - seconds(b) || cmp(a.manager, b.manager) || cmp(a.apiVersion, b.apiVersion) || cmp(a.subresource ?? '', b.subresource ?? '');
  return managers
    .filter((m) => m.fields.size > 0)
    .sort(byOrder)
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: m.fields.toFieldsV1(),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** How a conflict names a manager: `"kubectl"`, or `"kubectl-edit" using v1` for an update. */
export function describeManager(m: Omit<Manager, 'fields'>): string {
  let text = JSON.stringify(m.manager);
  if (m.subresource) text += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') text += ` using ${m.apiVersion}`;
  return text;
}
