// Validation of a custom resource against its schema, in the apiserver's order: OpenAPI value
// validation (kube-openapi), list-type invariants, then x-kubernetes-validations rules, which are
// skipped when the object already has errors that make rule results meaningless.
import { childPath, indexPath, keyPath, ROOT, type FieldPath } from './field-path.ts';
import { goFloat, type FieldError } from './field-error.ts';
import { checkFormat } from './formats.ts';
import { additionalSchema, canonicalJson, isEmbeddedResource, isObject, listMapKey } from './json.ts';
import { evaluateRules, hasRules } from './rules.ts';
import type { JSONSchemaProps } from './structural.ts';

// Error types after which the apiserver does not run rules (hasBlockingErr).
const BLOCKING = new Set<FieldError['type']>(['Unsupported', 'Required', 'TooLong', 'TooMany', 'TypeInvalid']);
const RULES_SKIPPED =
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

interface Found {
  schema: FieldError[];
  lists: FieldError[];
}

/**
 * Validates a whole resource (`value`, and `oldValue` on update) against its CRD schema. Of root
 * `metadata` only what the schema declares is checked (a CRD may constrain metadata.name and
 * generateName, and the apiserver holds a resource to that); the rest is the caller's, as the
 * apiserver validates it as ObjectMeta. Returns the errors in the order the apiserver reports
 * them; empty when valid.
 */
export function validate(schema: JSONSchemaProps, value: unknown, oldValue?: unknown): FieldError[] {
  const found: Found = { schema: [], lists: [] };
  validateValue(schema, value, ROOT, true, found);
  const errors = [...found.schema, ...found.lists];
  if (!hasRules(schema)) return errors;
  if (errors.some((error) => BLOCKING.has(error.type))) {
    errors.push({ path: '', type: 'Invalid', value: null, message: RULES_SKIPPED });
  } else {
    evaluateRules(schema, value, oldValue, ROOT, true, errors);
  }
  return errors;
}

function validateValue(schema: JSONSchemaProps, value: unknown, path: FieldPath, isResource: boolean, found: Found): void {
  const name = path.openapi;
  const invalid = (message: string, bad: unknown = value): FieldError => ({ path: name, type: 'Invalid', value: bad, message });
  const types = declaredTypes(schema);
  const actual = jsonType(value);
  if (types.length > 0 && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
    if (actual !== 'null' || !schema.nullable) {
      const message = `${name} in body must be of type ${types.join(',')}: "${actual}"`;
      found.schema.push({ path: name, type: 'TypeInvalid', value: actual, message });
    }
  }
  validateComposition(schema, value, path, found);

  if (typeof value === 'string') validateString(schema, value, name, found);
  if (typeof value === 'number') {
    if (schema.multipleOf !== undefined && !isMultipleOf(value, schema.multipleOf)) {
      found.schema.push(invalid(`${name} in body should be a multiple of ${bound(value, schema.multipleOf)}`));
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      const relation = schema.exclusiveMaximum ? 'less than' : 'less than or equal to';
      found.schema.push(invalid(`${name} in body should be ${relation} ${bound(value, schema.maximum)}`));
    }
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      const relation = schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      found.schema.push(invalid(`${name} in body should be ${relation} ${bound(value, schema.minimum)}`));
    }
  }
  if (Array.isArray(value)) validateArray(schema, value, path, found);
  if (schema.enum && !schema.enum.some((allowed) => canonicalJson(allowed) === canonicalJson(value))) {
    const supported = schema.enum.map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v)));
    found.schema.push({ path: name, type: 'Unsupported', value, message: `supported values: ${supported.join(', ')}` });
  }
  if (isObject(value)) validateObject(schema, value, path, isResource, found);
}

function validateString(schema: JSONSchemaProps, value: string, name: string, found: Found): void {
  // Lengths count characters (runes), as kube-openapi does; only the first failing check is reported.
  const length = [...value].length;
  const invalid = (message: string): FieldError => ({ path: name, type: 'Invalid', value, message });
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    found.schema.push({ path: name, type: 'TooLong', message: `may not be more than ${schema.maxLength} bytes` });
  } else if (schema.minLength !== undefined && length < schema.minLength) {
    found.schema.push(invalid(`${name} in body should be at least ${schema.minLength} chars long`));
  } else if (schema.pattern !== undefined && !compilePattern(schema.pattern)?.test(value)) {
    found.schema.push(invalid(`${name} in body should match '${schema.pattern}'`));
  }
  if (schema.format !== undefined && checkFormat(schema.format, value) === false) {
    const message = `${name} in body must be of type ${schema.format}: ${JSON.stringify(value)}`;
    found.schema.push({ path: name, type: 'TypeInvalid', value, message });
  }
}

function validateArray(schema: JSONSchemaProps, value: unknown[], path: FieldPath, found: Found): void {
  const name = path.openapi;
  const items = schema.items;
  if (items) value.forEach((item, i) => validateValue(items, item, indexPath(path, i), isEmbeddedResource(items), found));
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    const message = `${name} in body should have at least ${schema.minItems} items`;
    found.schema.push({ path: name, type: 'Invalid', value: value.length, message });
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    const message = `must have at most ${schema.maxItems} items`;
    found.schema.push({ path: name, type: 'TooMany', value: value.length, message });
  }
  if (schema.uniqueItems && new Set(value.map(canonicalJson)).size < value.length) {
    found.schema.push({ path: name, type: 'Invalid', value: '', message: `${name} in body shouldn't contain duplicates` });
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' || listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const identity = (item: unknown) => (listType === 'set' ? canonicalJson(item) : listMapKey(item, keys));
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const id = identity(item);
      if (seen.has(id)) {
        const duplicate = listType === 'set' ? item : Object.fromEntries(keys.map((k) => [k, isObject(item) ? item[k] : null]));
        found.lists.push({ path: indexPath(path, i).field, type: 'Duplicate', value: duplicate, message: '' });
      }
      seen.add(id);
    });
  }
}

function validateObject(schema: JSONSchemaProps, value: Record<string, unknown>, path: FieldPath, isResource: boolean, found: Found): void {
  const name = path.openapi;
  const count = Object.keys(value).length;
  // Property counts are checked first and, when violated, are the only object error reported.
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    const message = `${name} in body should have at least ${schema.minProperties} properties`;
    found.schema.push({ path: name, type: 'Invalid', value: count, message });
    return;
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    found.schema.push({ path: name, type: 'TooMany', value: count, message: `must have at most ${schema.maxProperties} items` });
    return;
  }
  const additional = additionalSchema(schema);
  for (const [key, child] of Object.entries(value)) {
    const prop = schema.properties?.[key];
    if (prop) validateValue(prop, child, childPath(path, key), isEmbeddedResource(prop), found);
    else if (additional) validateValue(additional, child, keyPath(path, key), isEmbeddedResource(additional), found);
  }
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) found.schema.push({ path: childPath(path, key).openapi, type: 'Required', message: '' });
  }
}

/** oneOf/anyOf/allOf/not; their messages are reported at the root, as kube-openapi's composite errors are. */
function validateComposition(schema: JSONSchemaProps, value: unknown, path: FieldPath, found: Found): void {
  const quoted = JSON.stringify(path.openapi);
  const composite = (message: string): FieldError => ({ path: '', type: 'Invalid', value: '', message });
  const attempt = (sub: JSONSchemaProps): FieldError[] => {
    const inner: Found = { schema: [], lists: [] };
    validateValue(sub, value, path, false, inner);
    return [...inner.schema, ...inner.lists];
  };
  // Of failed alternatives, the apiserver explains the closest one.
  const closest = (results: FieldError[][]) => results.reduce((a, b) => (b.length < a.length ? b : a));

  if (schema.anyOf?.length) {
    const results = schema.anyOf.map(attempt);
    if (!results.some((r) => r.length === 0)) {
      found.schema.push(composite(`${quoted} must validate at least one schema (anyOf)`), ...closest(results));
    }
  }
  if (schema.oneOf?.length) {
    const results = schema.oneOf.map(attempt);
    const valid = results.filter((r) => r.length === 0).length;
    if (valid === 0) {
      found.schema.push(composite(`${quoted} must validate one and only one schema (oneOf). Found none valid`), ...closest(results));
    } else if (valid > 1) {
      found.schema.push(composite(`${quoted} must validate one and only one schema (oneOf). Found ${valid} valid alternatives`));
    }
  }
  if (schema.allOf?.length) {
    const results = schema.allOf.map(attempt);
    const valid = results.filter((r) => r.length === 0).length;
    found.schema.push(...results.flat());
    if (valid < results.length) {
      found.schema.push(composite(`${quoted} must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}`));
    }
  }
  if (schema.not && attempt(schema.not).length === 0) {
    found.schema.push(composite(`${quoted} must not validate the schema (not)`));
  }
}

function declaredTypes(schema: JSONSchemaProps): string[] {
  if (schema['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return schema.type ? [schema.type] : [];
}

function jsonType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** A bound as kube-openapi prints it: as an int64 against an integer value, else as a float64. */
function bound(value: number, limit: number): string {
  return Number.isInteger(value) ? String(Math.trunc(limit)) : goFloat(limit);
}

function isMultipleOf(value: number, factor: number): boolean {
  const quotient = value / factor;
  return Math.abs(quotient - Math.round(quotient)) < 1e-9;
}

const patterns = new Map<string, RegExp | undefined>();

/**
 * The compiled pattern (cached: validation runs on every write), or undefined if it is not a valid
 * regex. Unicode mode first; without it for RE2-style escapes (`\-`) that Unicode mode rejects.
 */
function compilePattern(pattern: string): RegExp | undefined {
  if (!patterns.has(pattern)) patterns.set(pattern, tryRegExp(pattern, 'u') ?? tryRegExp(pattern, ''));
  return patterns.get(pattern);
}

function tryRegExp(pattern: string, flags: string): RegExp | undefined {
  try {
    return new RegExp(pattern, flags);
  } catch {
    return undefined;
  }
}
