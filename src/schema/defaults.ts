// Defaulting as the apiserver does it for custom resources (structuraldefaulting.Default).
import { additionalSchema, cloneJson, isObject } from './json.ts';
import type { JSONSchemaProps } from './structural.ts';

/**
 * Returns a copy of `value` with every absent field that has a `default` filled in, recursively.
 * A default fills a field only inside an object that exists, and a default value is itself
 * defaulted further (a `default: {}` object picks up its children's defaults). An explicit null
 * counts as absent unless the field is nullable. `value` is not modified.
 */
export function applyDefaults<T>(schema: JSONSchemaProps, value: T): T {
  return defaultValue(schema, cloneJson(value)) as T;
}

function defaultValue(schema: JSONSchemaProps | undefined, value: unknown): unknown {
  if (!schema) return value;
  if (Array.isArray(value)) return value.map((item) => defaultValue(schema.items, fillNull(schema.items, item)));
  if (!isObject(value)) return value;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default !== undefined && (value[key] === undefined || (value[key] === null && !prop.nullable))) {
      value[key] = cloneJson(prop.default);
    }
  }
  const additional = additionalSchema(schema);
  for (const [key, child] of Object.entries(value)) {
    const prop = schema.properties?.[key];
    if (prop) value[key] = defaultValue(prop, child);
    else if (additional) value[key] = defaultValue(additional, fillNull(additional, child));
  }
  return value;
}

/** A null list item or map value of a non-nullable schema takes the schema's default. */
function fillNull(schema: JSONSchemaProps | undefined, value: unknown): unknown {
  return value === null && schema && !schema.nullable && schema.default !== undefined
    ? cloneJson(schema.default)
    : value;
}
