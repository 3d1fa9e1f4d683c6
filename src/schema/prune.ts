// Pruning as the apiserver does it for custom resources (structuralpruning.Prune, followed by
// PruneNonNullableNullsWithoutDefaults).
import { additionalSchema, cloneJson, isEmbeddedResource, isObject, type JSONObject } from './json.ts';
import type { JSONSchemaProps } from './structural.ts';

// Fields of a resource (the root, or an x-kubernetes-embedded-resource object) that the schema does
// not govern: the apiserver handles type and object metadata itself.
const RESOURCE_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** Where a pruning pass is, and where it records the unknown fields it drops (when asked to). */
interface Walk {
  path: string;
  unknown?: string[];
}

/**
 * Returns a copy of `value` (a whole resource) without the fields its schema does not specify.
 * Unknown fields survive under `x-kubernetes-preserve-unknown-fields: true` and
 * `additionalProperties: true`; `apiVersion`, `kind` and `metadata` survive at the root and in
 * embedded resources. An explicit null in a field that is neither nullable nor defaulted is dropped.
 * `value` is not modified.
 */
export function prune<T>(schema: JSONSchemaProps, value: T): T {
  return pruneValue(schema, value, true, { path: '' }) as T;
}

/**
 * The fields `prune` drops because the schema does not specify them (not the dropped nulls), named
 * as strict field validation names them: `spec.jobb`, `spec.job.env[0].vaule`.
 */
export function unknownFields(schema: JSONSchemaProps, value: unknown): string[] {
  const unknown: string[] = [];
  pruneValue(schema, value, true, { path: '', unknown });
  return unknown;
}

function pruneValue(schema: JSONSchemaProps | undefined, value: unknown, resource: boolean, walk: Walk): unknown {
  if (schema?.['x-kubernetes-preserve-unknown-fields']) return pruneKnown(schema, value, resource, walk);
  if (Array.isArray(value)) {
    return value.map((item, i) => pruneValue(schema?.items, item, isEmbeddedResource(schema?.items), itemWalk(walk, i)));
  }
  if (!isObject(value)) return value;
  const out: JSONObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (resource && RESOURCE_FIELDS.has(key)) out[key] = cloneJson(child);
    else if (!copyKnown(schema, key, child, out, walk) && walk.unknown) walk.unknown.push(fieldWalk(walk, key).path);
  }
  return out;
}

/** Under preserve-unknown-fields every field stays; the ones the schema describes are still pruned inside. */
function pruneKnown(schema: JSONSchemaProps | undefined, value: unknown, resource: boolean, walk: Walk): unknown {
  if (!schema) return cloneJson(value);
  if (Array.isArray(value)) {
    return value.map((item, i) => pruneKnown(schema.items, item, isEmbeddedResource(schema.items), itemWalk(walk, i)));
  }
  if (!isObject(value)) return value;
  const out: JSONObject = {};
  for (const [key, child] of Object.entries(value)) {
    if ((resource && RESOURCE_FIELDS.has(key)) || !copyKnown(schema, key, child, out, walk)) {
      out[key] = cloneJson(child);
    }
  }
  return out;
}

/** Copies `key` into `out` pruned by its schema; false when the schema does not describe `key`. */
function copyKnown(schema: JSONSchemaProps | undefined, key: string, child: unknown, out: JSONObject, walk: Walk): boolean {
  const additional = schema?.additionalProperties;
  if (additional === true) {
    out[key] = cloneJson(child);
    return true;
  }
  const prop = schema?.properties?.[key] ?? additionalSchema(schema);
  if (!prop) return false;
  if (child !== null || prop.nullable || prop.default !== undefined) {
    out[key] = pruneValue(prop, child, isEmbeddedResource(prop), fieldWalk(walk, key));
  }
  return true;
}

// Paths are only built when unknown fields are being collected: plain pruning runs on every write.
const fieldWalk = (walk: Walk, key: string): Walk =>
  walk.unknown ? { ...walk, path: walk.path === '' ? key : `${walk.path}.${key}` } : walk;
const itemWalk = (walk: Walk, index: number): Walk => (walk.unknown ? { ...walk, path: `${walk.path}[${index}]` } : walk);
