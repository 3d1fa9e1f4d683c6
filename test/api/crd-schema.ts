// Test helpers: reach into a generated CRD's openAPIV3Schema and evaluate its CEL rules the way
// the API server does, in the operator's CEL environment (RE2 `matches` and the strings library,
// like cel-go's).
import type { CelInput } from '@bufbuild/cel';
import { customResourceDefinitions, type CustomResourceDefinition } from '../../src/api/crd.ts';
import type { StructuralSchema } from '../../src/api/structural-schema.ts';
import { compileExpression } from '../../src/schema/cel.ts';

export function crdOf(kind: string): CustomResourceDefinition {
  const crd = customResourceDefinitions().find((candidate) => candidate.spec.names.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd;
}

export function rootOf(kind: string): StructuralSchema {
  return crdOf(kind).spec.versions[0]!.schema.openAPIV3Schema;
}

/** The node at a dotted path; `[]` steps into array items: `spec.job.env[].name`. */
export function schemaAt(kind: string, path: string): StructuralSchema {
  let node = rootOf(kind);
  for (const step of path.split('.')) {
    const name = step.replace(/\[\]$/, '');
    const next = node.properties?.[name];
    if (!next) throw new Error(`no property ${name} on the way to ${path}`);
    node = step.endsWith('[]') ? next.items! : next;
  }
  return node;
}

/** Messages of the node's rules that evaluate to false (the API server's rejections). */
export function violations(node: StructuralSchema, self: CelInput, oldSelf?: CelInput): string[] {
  const bindings: Record<string, CelInput> = oldSelf === undefined ? { self } : { self, oldSelf };
  return (node['x-kubernetes-validations'] ?? []).flatMap(({ rule, message }) => {
    const compiled = compileExpression(rule);
    if (!compiled.ok) throw new Error(`rule ${rule} does not compile: ${compiled.error}`);
    const result = compiled.evaluate(bindings);
    if (!result.ok || typeof result.value !== 'boolean') throw new Error(`rule ${rule} did not evaluate to a boolean: ${result.ok ? String(result.value) : result.error}`);
    return result.value ? [] : [message];
  });
}
