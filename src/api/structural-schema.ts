// Converts a zod schema into a Kubernetes structural schema (apiextensions.k8s.io/v1
// JSONSchemaProps): zod's OpenAPI 3.0 output, checked node by node so that anything Kubernetes
// would reject (a $ref, a node without a type, an unsupported keyword) fails at generation time
// instead of at `kubectl apply`.
import { z } from 'zod';

/** One `x-kubernetes-validations` entry: a CEL rule and the message shown when it is false. */
export interface ValidationRule {
  rule: string;
  message: string;
}

export type StructuralType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface StructuralSchema {
  description?: string;
  /** Absent only on an int-or-string node (x-kubernetes-int-or-string). */
  type?: StructuralType;
  format?: string;
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema;
  items?: StructuralSchema;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-int-or-string'?: true;
}

type JsonSchemaNode = Record<string, unknown>;

/** Keywords copied as they are; any other keyword is an error. Order is the output's key order. */
const SCALAR_KEYWORDS = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'maxProperties',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'required',
] as const;
const NESTED_KEYWORDS = ['properties', 'additionalProperties', 'items'] as const;
const KNOWN_KEYWORDS = new Set<string>([...SCALAR_KEYWORDS, ...NESTED_KEYWORDS, '$schema']);
const TYPES: readonly string[] = ['object', 'array', 'string', 'integer', 'number', 'boolean'];

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function structuralSchema(schema: z.ZodType): StructuralSchema {
  // io: 'input' describes what a client may send: fields with defaults are optional, and the API
  // server fills the default in.
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', cycles: 'throw', reused: 'inline' });
  return convert(json as JsonSchemaNode, '');
}

function convert(node: JsonSchemaNode, path: string): StructuralSchema {
  const at = path || '<root>';
  if (node['x-kubernetes-int-or-string'] === true) return intOrString(node, at);
  for (const key of Object.keys(node)) {
    if (!KNOWN_KEYWORDS.has(key)) throw new Error(`${at}: JSON Schema keyword "${key}" cannot be expressed in a Kubernetes structural schema`);
  }
  if (typeof node.type !== 'string' || !TYPES.includes(node.type)) {
    throw new Error(`${at}: every node of a structural schema needs a single type, got ${JSON.stringify(node.type)}`);
  }

  const source = node.type === 'integer' ? { ...node, ...integerFormat(node) } : node;
  const out: JsonSchemaNode = {};
  for (const key of SCALAR_KEYWORDS) if (source[key] !== undefined) out[key] = source[key];

  const properties = node.properties as Record<string, JsonSchemaNode> | undefined;
  if (properties) {
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, child]) => [name, convert(child, `${path}.${name}`)]),
    );
  }
  // zod marks strict objects `additionalProperties: false`; Kubernetes forbids it and prunes
  // unknown fields anyway. A schema-valued additionalProperties is a map (z.record).
  // A loose object whose fields are kept as they are (z.looseObject marked preserve-unknown-fields).
  const additional = node['x-kubernetes-preserve-unknown-fields'] ? undefined : node.additionalProperties;
  if (additional !== undefined && additional !== false) {
    if (properties) throw new Error(`${at}: a structural schema cannot have both properties and additionalProperties`);
    if (typeof additional !== 'object' || additional === null) throw new Error(`${at}: additionalProperties must be a schema`);
    out.additionalProperties = convert(additional as JsonSchemaNode, `${path}[*]`);
  }
  if (node.items !== undefined) {
    if (typeof node.items !== 'object' || Array.isArray(node.items)) throw new Error(`${at}: items must be a single schema`);
    out.items = convert(node.items as JsonSchemaNode, `${path}[]`);
  }
  return out as unknown as StructuralSchema;
}

/**
 * An int-or-string node (a resource quantity, say): zod's union of an integer and a string, marked
 * `x-kubernetes-int-or-string`. Kubernetes wants it without a type; the integer's bounds and the
 * string's constraints apply to values of their kind, so they move up to the node itself. Its
 * rules (x-kubernetes-validations) see either kind: `type(self) == string` tells them apart.
 */
function intOrString(node: JsonSchemaNode, at: string): StructuralSchema {
  const branches = node.anyOf as JsonSchemaNode[] | undefined;
  const integer = branches?.find((b) => b.type === 'integer');
  const string = branches?.find((b) => b.type === 'string');
  if (branches?.length !== 2 || !integer || !string) {
    throw new Error(`${at}: x-kubernetes-int-or-string needs a union of exactly an integer and a string`);
  }
  for (const key of Object.keys(node)) {
    if (!['anyOf', 'x-kubernetes-int-or-string', 'description', 'x-kubernetes-validations'].includes(key)) throw new Error(`${at}: keyword "${key}" on an int-or-string node: put it on the integer or string`);
  }
  for (const key of [...Object.keys(integer), ...Object.keys(string)]) {
    if (!['type', 'minimum', 'maximum', 'format', 'pattern', 'minLength', 'maxLength'].includes(key)) throw new Error(`${at}: keyword "${key}" in an int-or-string union`);
  }
  const bounds = integerFormat(integer);
  const out: JsonSchemaNode = {
    description: node.description,
    'x-kubernetes-int-or-string': true,
    minimum: bounds.minimum,
    maximum: bounds.maximum,
    pattern: string.pattern,
    minLength: string.minLength,
    maxLength: string.maxLength,
    'x-kubernetes-validations': node['x-kubernetes-validations'],
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out as unknown as StructuralSchema;
}

/**
 * zod expresses int32 and "any safe integer" as bounds; Kubernetes expresses them as a format.
 * Bounds that merely restate the format are dropped.
 */
function integerFormat(node: JsonSchemaNode): JsonSchemaNode {
  const int32 = node.maximum === INT32_MAX || node.minimum === INT32_MIN;
  return {
    format: node.format ?? (int32 ? 'int32' : 'int64'),
    minimum: node.minimum === INT32_MIN || node.minimum === Number.MIN_SAFE_INTEGER ? undefined : node.minimum,
    maximum: node.maximum === INT32_MAX || node.maximum === Number.MAX_SAFE_INTEGER ? undefined : node.maximum,
  };
}
