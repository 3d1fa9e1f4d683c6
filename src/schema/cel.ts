// CEL for x-kubernetes-validations: compiling a rule once (with the reference checks the apiserver's
// compiler makes), and binding decoded JSON as the CEL values Kubernetes gives `self` and `oldSelf`.
import { celEnv, isCelError, parse, plan, type CelInput, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { isObject, propertySchema } from './json.ts';
import type { JSONSchemaProps } from './structural.ts';

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr['expr'];

export type CompiledExpression =
  | { ok: true; usesOldSelf: boolean; evaluate(bindings: Record<string, CelInput>): EvalResult }
  | { ok: false; error: string };

export type EvalResult = { ok: true; value: CelValue } | { ok: false; error: string };

// The Kubernetes environment has the standard library plus the strings extension; other Kubernetes
// libraries (lists, regex, url, quantity, ...) are not available and fail to compile.
const env = celEnv({ funcs: strings });
const VARIABLES = new Set(['self', 'oldSelf']);
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);
// Operators the evaluator implements itself rather than as library functions.
const OPERATORS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false']);

const cache = new Map<string, CompiledExpression>();

/** Compiles a rule or message expression, once per distinct source text. Never throws. */
export function compileExpression(source: string): CompiledExpression {
  let compiled = cache.get(source);
  if (!compiled) {
    compiled = compile(source);
    cache.set(source, compiled);
  }
  return compiled;
}

function compile(source: string): CompiledExpression {
  let parsed: ParsedExpr;
  try {
    parsed = parse(source);
  } catch (error) {
    return { ok: false, error: `compilation failed: ERROR: ${(error as Error).message}` };
  }
  const references: Reference[] = [];
  collectReferences(parsed.expr, new Set(), references);
  const unknown = references.find((r) =>
    r.isFunction ? !OPERATORS.has(r.name) && !env.funcs.find(r.name) : !VARIABLES.has(r.name) && !TYPE_NAMES.has(r.name),
  );
  if (unknown) {
    const where = position(source, parsed, unknown.id);
    return {
      ok: false,
      error: `compilation failed: ERROR: <input>:${where}: undeclared reference to '${unknown.name}' (in container '')`,
    };
  }
  const program = plan(env, parsed);
  return {
    ok: true,
    usesOldSelf: references.some((r) => !r.isFunction && r.name === 'oldSelf'),
    evaluate(bindings) {
      try {
        const value = program(bindings);
        return isCelError(value) ? { ok: false, error: value.message } : { ok: true, value };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
  };
}

interface Reference {
  name: string;
  id: bigint;
  isFunction: boolean;
}

/** Free identifiers and called functions of `expr`; comprehension variables are bound in their scope. */
function collectReferences(expr: Expr | undefined, bound: Set<string>, out: Reference[]): void {
  const kind = expr?.exprKind;
  if (!expr || !kind) return;
  switch (kind.case) {
    case 'identExpr':
      if (!bound.has(kind.value.name)) out.push({ name: kind.value.name, id: expr.id, isFunction: false });
      return;
    case 'selectExpr':
      collectReferences(kind.value.operand, bound, out);
      return;
    case 'callExpr':
      out.push({ name: kind.value.function, id: expr.id, isFunction: true });
      collectReferences(kind.value.target, bound, out);
      for (const arg of kind.value.args) collectReferences(arg, bound, out);
      return;
    case 'listExpr':
      for (const element of kind.value.elements) collectReferences(element, bound, out);
      return;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') collectReferences(entry.keyKind.value, bound, out);
        collectReferences(entry.value, bound, out);
      }
      return;
    case 'comprehensionExpr': {
      const c = kind.value;
      collectReferences(c.iterRange, bound, out);
      collectReferences(c.accuInit, bound, out);
      const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter((v) => v !== ''));
      collectReferences(c.loopCondition, inner, out);
      collectReferences(c.loopStep, inner, out);
      collectReferences(c.result, new Set([...bound, c.accuVar]), out);
      return;
    }
    default:
      return;
  }
}

/** `line:column` of an expression node, 1-based like cel-go's messages. */
function position(source: string, parsed: ParsedExpr, id: bigint): string {
  const offset = parsed.sourceInfo?.positions[String(id)] ?? 0;
  const lines = Array.from(source).slice(0, offset).join('').split('\n');
  return `${lines.length}:${Array.from(lines[lines.length - 1] ?? '').length + 1}`;
}

/**
 * Decoded JSON as a CEL value: objects become maps (so `has(self.x)` and `self.x` work), integers
 * become CEL ints unless the schema says `type: number` (then doubles, as in Kubernetes).
 */
export function toCelValue(value: unknown, schema: JSONSchemaProps | undefined): CelInput {
  if (typeof value === 'number') {
    return schema?.type !== 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((item) => toCelValue(item, schema?.items));
  if (isObject(value)) {
    const map = new Map<string, CelInput>();
    for (const [key, child] of Object.entries(value)) {
      if (child !== undefined) map.set(key, toCelValue(child, propertySchema(schema, key)));
    }
    return map;
  }
  return null;
}
