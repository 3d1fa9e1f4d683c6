// The certhook kinds lint knows, built from the CRDs: every served version's schema, and the check
// the operator itself makes of an object of that kind (for a DeployHook or ClusterDeployHook: the
// CRD schema and what the operator adds, checkHook; a hook failing it is Ready=False and never runs).
import { customResourceDefinitions } from '../api/crd.ts';
import { API_VERSION, CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK, GROUP } from '../api/names.ts';
import { checkHook } from '../controller/hook-validity.ts';
import type { KubeObject } from '../kube/object.ts';
import { applyDefaults, formatFieldError, validate, type JSONSchemaProps } from '../schema/structural.ts';

export interface CerthookKind {
  apiVersion: string;
  kind: string;
  schema: JSONSchemaProps;
  /** What is wrong with an object (already pruned, as the API server stores it), each `path: message`. */
  problems(object: KubeObject): string[];
}

const typeKey = (apiVersion: string, kind: string) => `${apiVersion}|${kind}`;

/** Kinds the operator judges beyond their schema. */
const OPERATOR_CHECKS: Record<string, (object: KubeObject) => string[]> = {
  [typeKey(API_VERSION, DEPLOY_HOOK.kind)]: (object) => checkHook(object).problems,
  [typeKey(API_VERSION, CLUSTER_DEPLOY_HOOK.kind)]: (object) => checkHook(object).problems,
};

/** What the API server checks of a custom resource on create: defaults applied, then the schema and its CEL rules. */
function schemaProblems(schema: JSONSchemaProps): (object: KubeObject) => string[] {
  return (object) => validate(schema, applyDefaults(schema, object)).map(formatFieldError);
}

const KINDS = new Map<string, CerthookKind>(
  customResourceDefinitions().flatMap((crd) =>
    crd.spec.versions.map((version) => {
      const apiVersion = `${crd.spec.group}/${version.name}`;
      const kind = crd.spec.names.kind;
      const schema = version.schema.openAPIV3Schema as JSONSchemaProps;
      const problems = OPERATOR_CHECKS[typeKey(apiVersion, kind)] ?? schemaProblems(schema);
      return [typeKey(apiVersion, kind), { apiVersion, kind, schema, problems }] as const;
    }),
  ),
);

/** Whether an apiVersion belongs to the certhook.io group (any version, known or not). */
export function isCerthookApiVersion(apiVersion: string): boolean {
  return apiVersion.split('/')[0] === GROUP;
}

export function certhookKind(apiVersion: string, kind: string): CerthookKind | undefined {
  return KINDS.get(typeKey(apiVersion, kind));
}

/** The kinds served in each certhook.io version. */
export function servedKinds(): Map<string, string[]> {
  const byVersion = new Map<string, string[]>();
  for (const { apiVersion, kind } of KINDS.values()) byVersion.set(apiVersion, [...(byVersion.get(apiVersion) ?? []), kind]);
  return byVersion;
}
