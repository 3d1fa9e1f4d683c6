// Test helpers: reach into a generated CRD's openAPIV3Schema and evaluate its CEL rules the way
// the API server does, with @bufbuild/cel (RE2 `matches`, like cel-go).
import { run, type CelInput } from '@bufbuild/cel';
import { customResourceDefinitions, type CustomResourceDefinition } from '../../src/api/crd.ts';
import type { StructuralSchema } from '../../src/api/structural-schema.ts';

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
    const result = run(rule, bindings);
    if (typeof result !== 'boolean') throw new Error(`rule ${rule} did not evaluate to a boolean: ${String(result)}`);
    return result ? [] : [message];
  });
}
