// Evaluating x-kubernetes-validations over a resource, as the apiserver's CEL validator does:
// `self` is the value at the rule's node, `oldSelf` the correlated old value on update.
import type { CelInput } from '@bufbuild/cel';
import { compileExpression, toCelValue, type CompiledExpression } from './cel.ts';
import { childPath, indexPath, keyPath, type FieldPath } from './field-path.ts';
import type { FieldError } from './field-error.ts';
import { additionalSchema, isEmbeddedResource, isObject, listMapKey } from './json.ts';
import type { JSONSchemaProps, ValidationRule } from './structural.ts';

// Longest messageExpression result the apiserver accepts (MaxEvaluatedMessageExpressionSizeBytes).
const MAX_MESSAGE_LENGTH = 5 * 1024;

/** Whether any node of `schema` carries x-kubernetes-validations. */
export function hasRules(schema: JSONSchemaProps | undefined): boolean {
  if (!schema) return false;
  const additional = additionalSchema(schema);
  return (
    (schema['x-kubernetes-validations']?.length ?? 0) > 0 ||
    hasRules(schema.items) ||
    hasRules(additional) ||
    Object.values(schema.properties ?? {}).some(hasRules) ||
    (schema.allOf ?? []).some(hasRules)
  );
}

/**
 * Appends to `errors` the failures of every rule at and below `schema`. Null values are not
 * evaluated; transition rules (those referencing `oldSelf`) only where an old value correlates:
 * object fields by name, map entries by key (unless `x-kubernetes-map-type: atomic`), and items of
 * `x-kubernetes-list-type: map` lists by their keys.
 */
export function evaluateRules(
  schema: JSONSchemaProps,
  value: unknown,
  oldValue: unknown,
  path: FieldPath,
  isResource: boolean,
  errors: FieldError[],
): void {
  if (value === null || value === undefined) return;
  const old = oldValue ?? undefined;
  evaluateNode(schema, value, old, path, isResource, errors);
  // allOf rules apply to this node: they report its type, as the apiserver does.
  for (const sub of schema.allOf ?? []) evaluateRules({ ...sub, type: schema.type }, value, old, path, isResource, errors);
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    const oldItems = correlatedItems(schema, old);
    value.forEach((item, i) => {
      const oldItem = oldItems?.get(listMapKey(item, schema['x-kubernetes-list-map-keys'] ?? []));
      evaluateRules(items, item, oldItem, indexPath(path, i), isEmbeddedResource(items), errors);
    });
  } else if (isObject(value)) {
    const oldFields = schema['x-kubernetes-map-type'] !== 'atomic' && isObject(old) ? old : undefined;
    const additional = additionalSchema(schema);
    for (const [key, child] of Object.entries(value)) {
      if (isResource && key === 'metadata') continue;
      const prop = schema.properties?.[key];
      if (prop) evaluateRules(prop, child, oldFields?.[key], childPath(path, key), isEmbeddedResource(prop), errors);
      else if (additional) {
        evaluateRules(additional, child, oldFields?.[key], keyPath(path, key), isEmbeddedResource(additional), errors);
      }
    }
  }
}

function correlatedItems(schema: JSONSchemaProps, old: unknown): Map<string, unknown> | undefined {
  if (schema['x-kubernetes-list-type'] !== 'map' || !Array.isArray(old)) return undefined;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  return new Map(old.map((item) => [listMapKey(item, keys), item]));
}

function evaluateNode(
  schema: JSONSchemaProps,
  value: unknown,
  old: unknown,
  path: FieldPath,
  isResource: boolean,
  errors: FieldError[],
): void {
  const rules = schema['x-kubernetes-validations'] ?? [];
  if (rules.length === 0) return;
  const type = schema.type ?? '';
  const bindings: Record<string, CelInput> = { self: toCelValue(celView(value, isResource), schema) };
  if (old !== undefined) bindings.oldSelf = toCelValue(celView(old, isResource), schema);
  const invalid = (message: string): FieldError => ({ path: path.field, type: 'Invalid', value: type, message });

  for (const rule of rules) {
    const compiled = compileExpression(rule.rule);
    const message = rule.messageExpression === undefined ? undefined : compileExpression(rule.messageExpression);
    const target = rule.fieldPath === undefined ? { ok: true as const, path: '' } : resolveFieldPath(schema, rule.fieldPath);
    if (!compiled.ok) errors.push(invalid(`rule compile error: ${compiled.error}`));
    else if (message && !message.ok) errors.push(invalid(`rule compile error: messageExpression ${message.error}`));
    else if (!target.ok) errors.push(invalid(`rule compile error: fieldPath ${JSON.stringify(rule.fieldPath)} ${target.error}`));
    else if (!compiled.usesOldSelf || old !== undefined) {
      const result = compiled.evaluate(bindings);
      if (!result.ok) errors.push(invalid(`${result.error} evaluating rule: ${ruleErrorString(rule)}`));
      else if (result.value !== true) {
        const detail = evaluateMessage(message, bindings) ?? ruleMessageOrDefault(rule);
        const errorPath = target.path === '' ? path.field : childPath(path, target.path).field;
        errors.push(errorForReason(rule.reason, errorPath, type, detail));
      }
    }
  }
}

// At a resource root only metadata.name and metadata.generateName are visible to rules.
function celView(value: unknown, isResource: boolean): unknown {
  if (!isResource || !isObject(value) || !isObject(value.metadata)) return value;
  const { name, generateName } = value.metadata;
  return { ...value, metadata: { name, generateName } };
}

/** A messageExpression's result, or undefined when it fails (the apiserver then uses the message). */
function evaluateMessage(message: CompiledExpression | undefined, bindings: Record<string, CelInput>): string | undefined {
  if (!message?.ok) return undefined;
  const result = message.evaluate(bindings);
  if (!result.ok || typeof result.value !== 'string') return undefined;
  const text = result.value.trim();
  return text !== '' && !text.includes('\n') && text.length <= MAX_MESSAGE_LENGTH ? text : undefined;
}

function ruleErrorString(rule: ValidationRule): string {
  return rule.message?.trim() || rule.rule.trim();
}

function ruleMessageOrDefault(rule: ValidationRule): string {
  return rule.message?.trim() || `failed rule: ${ruleErrorString(rule)}`;
}

function errorForReason(reason: ValidationRule['reason'], path: string, type: string, detail: string): FieldError {
  switch (reason) {
    case 'FieldValueForbidden':
      return { path, type: 'Forbidden', message: detail };
    case 'FieldValueRequired':
      return { path, type: 'Required', message: detail };
    case 'FieldValueDuplicate':
      return { path, type: 'Duplicate', value: type, message: '' };
    default:
      return { path, type: 'Invalid', value: type, message: detail };
  }
}

const FIELD_PATH_STEP = /\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\]/y;

/**
 * A rule's fieldPath (`.a.b`, `.a['key']`) resolved against the rule's schema, in field.Path
 * spelling relative to the rule's node (`a.b`, `a[key]`).
 */
function resolveFieldPath(schema: JSONSchemaProps, fieldPath: string): { ok: true; path: string } | { ok: false; error: string } {
  const text = fieldPath.trim();
  let node = schema;
  let path = '';
  for (let at = 0; at < text.length; at = FIELD_PATH_STEP.lastIndex) {
    FIELD_PATH_STEP.lastIndex = at;
    const step = FIELD_PATH_STEP.exec(text);
    if (!step) return { ok: false, error: `expected [ or . but got: ${text.slice(at)}` };
    const name = step[1] ?? (step[2] ?? '').replace(/\\(.)/g, '$1');
    const additional = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
    const prop = node.properties?.[name];
    if (prop) {
      node = prop;
      path = path === '' ? name : `${path}.${name}`;
    } else if (!node.properties && additional) {
      node = additional;
      path = `${path}[${name}]`;
    } else {
      return { ok: false, error: 'does not refer to a valid field' };
    }
  }
  return { ok: true, path };
}
