// Whether a DeployHook may run, judged by the same CRD schema the API server enforces (one
// definition, two uses) plus the checks a schema cannot express.
import { customResourceDefinitions } from '../api/crd.ts';
import { DeployHookSchema, type DeployHook } from '../api/deployhook.ts';
import { DEPLOY_HOOK } from '../api/names.ts';
import { fromLabelSelector } from '../kube/label-selector.ts';
import type { KubeObject } from '../kube/object.ts';
import { podSettingProblems } from '../api/hook-pod.ts';
import { webhookProblems } from '../runners/webhook/validation.ts';
import { formatFieldError } from '../schema/field-error.ts';
import { applyDefaults, validate, type JSONSchemaProps } from '../schema/structural.ts';
import { serviceAccountProblem, type AllowedServiceAccounts } from './service-account-policy.ts';

const hookSchema = customResourceDefinitions().find((crd) => crd.spec.names.kind === DEPLOY_HOOK.kind)!
  .spec.versions[0]!.schema.openAPIV3Schema as JSONSchemaProps;

export type CheckedHook =
  | { valid: true; hook: DeployHook; raw: KubeObject; problems: [] }
  | { valid: false; raw: KubeObject; problems: string[] };

/**
 * The hook with defaults applied and typed, or every problem found, each saying what to fix.
 * `allowedServiceAccounts` is the operator's own policy (none for lint and `certhook run`).
 */
export function checkHook(raw: KubeObject, allowedServiceAccounts?: AllowedServiceAccounts): CheckedHook {
  const defaulted = applyDefaults(hookSchema, raw) as KubeObject;
  const problems = validate(hookSchema, defaulted).map(formatFieldError);
  if (problems.length === 0) {
    const parsed = DeployHookSchema.safeParse(defaulted);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    } else {
      try {
        if (parsed.data.spec.secretSelector) fromLabelSelector(parsed.data.spec.secretSelector, 'spec.secretSelector');
      } catch (err) {
        problems.push((err as Error).message);
      }
      if (parsed.data.spec.webhook) problems.push(...webhookProblems(parsed.data.spec.webhook));
      if (parsed.data.spec.job) problems.push(...podSettingProblems(parsed.data.spec.job));
      const serviceAccount = serviceAccountProblem(parsed.data, allowedServiceAccounts);
      if (serviceAccount) problems.push(serviceAccount);
      if (problems.length === 0) return { valid: true, hook: parsed.data, raw, problems: [] };
    }
  }
  return { valid: false, raw, problems };
}
