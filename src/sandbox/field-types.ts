// What server-side apply needs to know of a kind's fields: how each list merges (associative by
// keys, a set, or atomic), which maps are atomic, and which keys a struct declares. Built-in kinds
// take it from their strategic-merge rules, custom resources from their CRD's schema, as
// kube-apiserver does (x-kubernetes-list-type, x-kubernetes-list-map-keys, x-kubernetes-map-type).
import { listMergeStrategy } from './patch.ts';
import type { ResourceType } from './registry.ts';
import type { JSONSchemaProps } from '../schema/structural.ts';

export type ListType = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };

export interface FieldType {
  readonly list: ListType;
  readonly atomicMap: boolean;
  field(name: string): FieldType;
  item(): FieldType;
  /** A struct's own field (false for the keys of a map, e.g. labels): an undeclared key is owned as a whole. */
  declares(name: string): boolean;
}

const ATOMIC: ListType = { type: 'atomic' };

/** The field types of a built-in kind, from its strategic merge rules; every key counts as declared. */
function builtinType(kind: string, path: readonly string[]): FieldType {
  const strategy = listMergeStrategy(kind, path);
  return {
    list: strategy.kind === 'merge' ? { type: 'map', keys: [strategy.key] } : strategy.kind === 'set' ? { type: 'set' } : ATOMIC,
    atomicMap: false,
    field: (name) => builtinType(kind, [...path, name]),
    item: () => builtinType(kind, path),
    declares: () => true,
  };
}

/** Fields with no schema (x-kubernetes-preserve-unknown-fields): maps granular, lists atomic. */
const UNTYPED: FieldType = {
  list: ATOMIC,
  atomicMap: false,
  field: () => UNTYPED,
  item: () => UNTYPED,
  declares: () => false,
};

function schemaType(schema: JSONSchemaProps | undefined): FieldType {
  if (!schema) return UNTYPED;
  const listType = schema['x-kubernetes-list-type'];
  const keys = schema['x-kubernetes-list-map-keys'];
  const additional = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  return {
    list: listType === 'map' && keys?.length ? { type: 'map', keys } : listType === 'set' ? { type: 'set' } : ATOMIC,
    atomicMap: schema['x-kubernetes-map-type'] === 'atomic',
    field: (name) => schemaType(schema.properties?.[name] ?? additional),
    item: () => schemaType(schema.items),
    declares: (name) => schema.properties?.[name] !== undefined,
  };
}

/** The field types of objects of `t`; a custom resource's metadata is typed as every kind's is. */
export function fieldTypesOf(t: ResourceType): FieldType {
  if (!t.schema) return builtinType(t.kind, []);
  const root = schemaType(t.schema);
  return { ...root, field: (name) => (name === 'metadata' ? builtinType(t.kind, ['metadata']) : root.field(name)) };
}
