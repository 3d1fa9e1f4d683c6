// Small helpers over decoded JSON values, shared by the schema passes.
import type { JSONSchemaProps } from './structural.ts';

export type JSONObject = Record<string, unknown>;

export function isObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deep copy of a JSON value (a decoded request body, a schema's default): a plain recursive
 * copy is several times faster than structuredClone, which goes through V8's serializer and was
 * the sandbox API server's largest cost in a burst of writes. Anything that is not a plain object
 * or array (none is expected) is still copied by structuredClone.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneJson((value as Record<string, unknown>)[key]);
  return out as T;
}

/** JSON text with object keys sorted, so equal values give equal strings (for sets and enums). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The schema of `key` inside an object of `schema`: a declared property, else additionalProperties. */
export function propertySchema(schema: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  return schema?.properties?.[key] ?? additionalSchema(schema);
}

/** The schema of map values, when additionalProperties is one (not a boolean). */
export function additionalSchema(schema: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  const additional = schema?.additionalProperties;
  return typeof additional === 'object' ? additional : undefined;
}

/** Whether the schema is an x-kubernetes-embedded-resource: a nested object with its own apiVersion, kind, metadata. */
export function isEmbeddedResource(schema: JSONSchemaProps | undefined): boolean {
  return schema?.['x-kubernetes-embedded-resource'] === true;
}

/** The identity of an item of an `x-kubernetes-list-type: map` list: its key fields' values. */
export function listMapKey(item: unknown, keys: readonly string[]): string {
  return canonicalJson(keys.map((key) => (isObject(item) ? (item[key] ?? null) : null)));
}
