// An upper bound of the cost the API server estimates for each x-kubernetes-validations rule of a
// CRD, computed the way apiextensions-apiserver does when the CRD is written: cel-go's static cost
// estimator over the rule, with each value's size taken from the schema (Kubernetes' DeclType:
// a string of maxLength characters is 4 × maxLength bytes, without one the whole request; a list
// or map has maxItems or maxProperties elements; a map key is sized 0), multiplied by the rule's
// cardinality (the product of maxItems and maxProperties of every list and map around it). The
// API server refuses a CRD with a rule above StaticEstimatedCostLimit or a total above
// StaticEstimatedCRDCostLimit. Where this model differs from cel-go's, it costs more, never less:
// every call costs at least 1 beside its arguments, and a function it has no model for is an error.
import { parse } from '@bufbuild/cel';
import { additionalSchema } from './json.ts';
import type { JSONSchemaProps } from './structural.ts';

/** k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation. */
export const STATIC_ESTIMATED_COST_LIMIT = 10_000_000;
export const STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000;
/** k8s.io/apiserver/pkg/apis/cel: what one evaluation may cost at run time. */
export const PER_CALL_LIMIT = 1_000_000;
/** celconfig.MaxRequestSizeBytes: what an unbounded string or list can hold. */
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

// cel-go's cost factors (common/cost.go).
const STRING_TRAVERSAL = 0.1;
const REGEX_LENGTH = 0.25;
const LIST_CREATE = 10;
/** A map literal costs 30, a message 40; both parse as a struct expression. */
const STRUCT_CREATE = 40;

export interface RuleCost {
  /** Where the rule is, in the schema: spec.job.env[].name. */
  path: string;
  rule: string;
  /** One evaluation's estimated cost. */
  cost: number;
  /** How many times one object can evaluate it (Infinity below a list or map without a bound). */
  cardinality: number;
  /** cost × cardinality: what the API server compares with STATIC_ESTIMATED_COST_LIMIT. */
  total: number;
}

type Shape =
  | { kind: 'string'; size: number }
  | { kind: 'list'; size: number; elem: Shape }
  | { kind: 'map'; size: number; key: Shape; elem: Shape }
  | { kind: 'object'; fields: Record<string, Shape> }
  | { kind: 'scalar' };

const SCALAR: Shape = { kind: 'scalar' };

/** Every rule of `schema` (a CRD version's openAPIV3Schema), with its estimated cost. */
export function ruleCosts(schema: JSONSchemaProps): RuleCost[] {
  const out: RuleCost[] = [];
  walk(schema, '', 1, true, out);
  return out;
}

function walk(schema: JSONSchemaProps, path: string, cardinality: number, isResource: boolean, out: RuleCost[]): void {
  for (const { rule } of schema['x-kubernetes-validations'] ?? []) {
    const self = shapeOf(schema, isResource);
    const cost = estimate(parse(rule).expr, new Map([['self', self], ['oldSelf', self]]), rule).cost;
    out.push({ path: path || '<root>', rule, cost, cardinality, total: cost * cardinality });
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) walk(child, path ? `${path}.${name}` : name, cardinality, false, out);
  if (schema.items) walk(schema.items, `${path}[]`, cardinality * (schema.maxItems ?? Infinity), false, out);
  const additional = additionalSchema(schema);
  if (additional) walk(additional, `${path}[*]`, cardinality * (schema.maxProperties ?? Infinity), false, out);
}

/** The size Kubernetes gives a value of `schema` (common.SchemaDeclType). */
function shapeOf(schema: JSONSchemaProps, isResource = false): Shape {
  if (schema['x-kubernetes-int-or-string'] || schema.type === 'string') return { kind: 'string', size: stringSize(schema) };
  if (schema.type === 'array') return { kind: 'list', size: schema.maxItems ?? MAX_REQUEST_BYTES, elem: schema.items ? shapeOf(schema.items) : SCALAR };
  if (schema.type !== 'object') return SCALAR;
  const additional = additionalSchema(schema);
  if (additional) return { kind: 'map', size: schema.maxProperties ?? MAX_REQUEST_BYTES, key: { kind: 'string', size: 0 }, elem: shapeOf(additional) };
  const fields = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, child]) => [name, shapeOf(child)]));
  if (isResource) {
    // A resource's rules see apiVersion, kind, metadata.name and metadata.generateName.
    const meta = schema.properties?.metadata?.properties ?? {};
    const metaString = (name: string): Shape => ({ kind: 'string', size: meta[name] ? stringSize(meta[name]) : MAX_REQUEST_BYTES });
    fields.apiVersion = fields.kind = { kind: 'string', size: MAX_REQUEST_BYTES };
    fields.metadata = { kind: 'object', fields: { name: metaString('name'), generateName: metaString('generateName') } };
  }
  return { kind: 'object', fields };
}

function stringSize(schema: JSONSchemaProps): number {
  if (schema.maxLength !== undefined) return schema.maxLength * 4;
  if (schema.enum) return Math.max(...schema.enum.map((v) => String(v).length));
  return MAX_REQUEST_BYTES;
}

type Expr = ReturnType<typeof parse>['expr'];
interface Estimate {
  cost: number;
  shape: Shape;
}

/** A value's size as the estimator sees it: a string's bytes, a list's or map's elements (an object's: 0, here 1). */
const sizeOf = (shape: Shape) => (shape.kind === 'string' || shape.kind === 'list' || shape.kind === 'map' ? shape.size : 1);
const traversal = (size: number, factor = STRING_TRAVERSAL) => Math.ceil(size * factor);

function estimate(expr: Expr | undefined, scope: Map<string, Shape>, source: string): Estimate {
  const kind = expr?.exprKind;
  if (!kind) return { cost: 0, shape: SCALAR };
  switch (kind.case) {
    case 'constExpr': {
      const value = kind.value.constantKind;
      return { cost: 0, shape: value.case === 'stringValue' ? { kind: 'string', size: Buffer.byteLength(value.value) } : SCALAR };
    }
    case 'identExpr':
      return { cost: 1, shape: scope.get(kind.value.name) ?? SCALAR };
    case 'selectExpr': {
      const operand = estimate(kind.value.operand, scope, source);
      const shape = operand.shape.kind === 'object' ? operand.shape.fields[kind.value.field] : operand.shape.kind === 'map' ? operand.shape.elem : undefined;
      return { cost: operand.cost + 1, shape: kind.value.testOnly ? SCALAR : (shape ?? SCALAR) };
    }
    case 'listExpr': {
      const elements = kind.value.elements.map((e) => estimate(e, scope, source));
      const elem = elements.reduce<Shape>((widest, e) => (sizeOf(e.shape) > sizeOf(widest) ? e.shape : widest), SCALAR);
      return { cost: LIST_CREATE + sum(elements), shape: { kind: 'list', size: elements.length, elem } };
    }
    case 'structExpr':
      return { cost: STRUCT_CREATE + sum(kind.value.entries.map((e) => estimate(e.value, scope, source))), shape: SCALAR };
    case 'comprehensionExpr': {
      const c = kind.value;
      const range = estimate(c.iterRange, scope, source);
      const iterated = range.shape.kind === 'list' ? range.shape.elem : range.shape.kind === 'map' ? range.shape.key : SCALAR;
      const inner = new Map([...scope, [c.iterVar, iterated], [c.accuVar, SCALAR]]);
      const step = estimate(c.loopCondition, inner, source).cost + estimate(c.loopStep, inner, source).cost;
      const fixed = range.cost + estimate(c.accuInit, scope, source).cost + estimate(c.result, new Map([...scope, [c.accuVar, SCALAR]]), source).cost;
      return { cost: fixed + sizeOf(range.shape) * step, shape: SCALAR };
    }
    case 'callExpr': {
      const target = kind.value.target ? estimate(kind.value.target, scope, source) : undefined;
      const args = kind.value.args.map((a) => estimate(a, scope, source));
      return call(kind.value.function, target, args, source);
    }
    default:
      throw new Error(`${source}: no cost model for a ${kind.case}`);
  }
}

function sum(estimates: Estimate[]): number {
  return estimates.reduce((n, e) => n + e.cost, 0);
}

/** One call's cost (its arguments' and its own) and its result's size, as cel-go's checker/cost.go. */
function call(fn: string, target: Estimate | undefined, args: Estimate[], source: string): Estimate {
  const argCost = sum(args) + (target?.cost ?? 0);
  const on = (target ?? args[0])!.shape;
  const [first, second] = args;
  const own = (cost: number, shape: Shape = SCALAR): Estimate => ({ cost: argCost + Math.max(1, cost), shape });
  switch (fn) {
    case '_&&_':
    case '_||_':
    case '!_':
    case '@not_strictly_false':
    case '_<_':
    case '_<=_':
    case '_>_':
    case '_>=_':
    case '-_':
    case 'size':
    case 'type':
      return own(1);
    case '_?_:_':
      return { cost: first!.cost + Math.max(second!.cost, args[2]!.cost) + 1, shape: sizeOf(second!.shape) >= sizeOf(args[2]!.shape) ? second!.shape : args[2]!.shape };
    case '_==_':
    case '_!=_':
      return own(traversal(Math.min(sizeOf(first!.shape), sizeOf(second!.shape))));
    case '_[_]': {
      const shape = on.kind === 'list' || on.kind === 'map' ? on.elem : SCALAR;
      return own(1, shape);
    }
    case '@in':
      return own(sizeOf(second!.shape));
    case 'matches':
      // One more than the string's size, so that an empty string still costs the regex.
      return own(traversal(sizeOf(on) + 1) * traversal(sizeOf(args[args.length - 1]!.shape), REGEX_LENGTH));
    case 'startsWith':
    case 'endsWith':
      return own(traversal(sizeOf(first!.shape)));
    case 'contains':
      return own(traversal(sizeOf(on)) * traversal(sizeOf(first!.shape)));
    case 'lowerAscii':
    case 'upperAscii':
    case 'trim':
      return own(traversal(sizeOf(on)), on);
    case '_+_': {
      const size = sizeOf(first!.shape) + sizeOf(second!.shape);
      return own(traversal(size), first!.shape.kind === 'string' ? { kind: 'string', size } : SCALAR);
    }
    default:
      throw new Error(`${source}: no cost model for ${fn}: add one to src/schema/cel-cost.ts`);
  }
}
