// Whether a DeployHook or ClusterDeployHook may run, judged by the same CRD schema the API server enforces (one
// definition, two uses) plus the checks a schema cannot express.
import { customResourceDefinitions } from '../api/crd.ts';
import { ClusterDeployHookSchema, DeployHookSchema, type Hook } from '../api/deployhook.ts';
import { CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK } from '../api/names.ts';
import { fromLabelSelector } from '../kube/label-selector.ts';
import type { KubeObject } from '../kube/object.ts';
import { podSettingProblems } from '../api/hook-pod.ts';
import { webhookProblems } from '../runners/webhook/validation.ts';
import { formatFieldError } from '../schema/field-error.ts';
import { applyDefaults, validate, type JSONSchemaProps } from '../schema/structural.ts';
import { serviceAccountProblem, type AllowedServiceAccounts } from './service-account-policy.ts';

const schemaOf = (kind: string) => customResourceDefinitions().find((crd) => crd.spec.names.kind === kind)!
  .spec.versions[0]!.schema.openAPIV3Schema as JSONSchemaProps;

/** Each kind of hook: the CRD's schema the API server enforces, and its zod twin that types it. */
const KINDS = {
  [DEPLOY_HOOK.kind]: { schema: schemaOf(DEPLOY_HOOK.kind), zod: DeployHookSchema },
  [CLUSTER_DEPLOY_HOOK.kind]: { schema: schemaOf(CLUSTER_DEPLOY_HOOK.kind), zod: ClusterDeployHookSchema },
};

export type CheckedHook =
  | { valid: true; hook: Hook; raw: KubeObject; problems: [] }
  | { valid: false; raw: KubeObject; problems: string[] };

/**
 * The hook with defaults applied and typed, or every problem found, each saying what to fix.
 * `allowedServiceAccounts` is the operator's own policy (none for lint and `certhook run`);
 * `clusterHookNamespace`, where a ClusterDeployHook's Jobs run.
 */
export function checkHook(raw: KubeObject, allowedServiceAccounts?: AllowedServiceAccounts, clusterHookNamespace?: string): CheckedHook {
  const kind = KINDS[raw.kind === CLUSTER_DEPLOY_HOOK.kind ? CLUSTER_DEPLOY_HOOK.kind : DEPLOY_HOOK.kind];
  const defaulted = applyDefaults(kind.schema, raw) as KubeObject;
  const problems = validate(kind.schema, defaulted).map(formatFieldError);
  if (problems.length === 0) {
    const parsed = kind.zod.safeParse(defaulted);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    } else {
      try {
        if (parsed.data.spec.secretSelector) fromLabelSelector(parsed.data.spec.secretSelector, 'spec.secretSelector');
        if ('namespaceSelector' in parsed.data.spec && parsed.data.spec.namespaceSelector) fromLabelSelector(parsed.data.spec.namespaceSelector, 'spec.namespaceSelector');
      } catch (err) {
        problems.push((err as Error).message);
      }
      if (parsed.data.spec.webhook) problems.push(...webhookProblems(parsed.data.spec.webhook));
      if (parsed.data.spec.job) problems.push(...podSettingProblems(parsed.data.spec.job));
      const serviceAccount = serviceAccountProblem(parsed.data, allowedServiceAccounts, clusterHookNamespace);
      if (serviceAccount) problems.push(serviceAccount);
      if (problems.length === 0) return { valid: true, hook: parsed.data, raw, problems: [] };
    }
  }
  return { valid: false, raw, problems };
}
