// Which ServiceAccounts hooks may run their Jobs as (`--allowed-service-accounts`): a second line
// behind RBAC and the chart's admission policy. Whoever may create a DeployHook in a namespace may
// otherwise run a Job there as any of its ServiceAccounts, as whoever may create Jobs can.
import type { Hook } from '../api/deployhook.ts';
import { DNS_LABEL, DNS_SUBDOMAIN } from '../api/kube-names.ts';

/** `NAME` (in any namespace) or `NAMESPACE/NAME`; undefined: every ServiceAccount. */
export type AllowedServiceAccounts = readonly string[] | undefined;

const ENTRY = new RegExp(`^((${DNS_LABEL})/)?(${DNS_SUBDOMAIN})$`);

/** The flag's comma-separated entries; throws with what is wrong with one. */
export function parseAllowedServiceAccounts(text: string): string[] {
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    if (!ENTRY.test(entry) || entry.length > 253 + 64) {
      throw new Error(`--allowed-service-accounts: "${entry}" is neither a ServiceAccount name nor NAMESPACE/NAME (lowercase RFC 1123 names, e.g. hook-runner or web/hook-runner)`);
    }
  }
  return entries;
}

/**
 * Why the hook may not run as its ServiceAccount; undefined when it may (or names none: no token
 * at all). `clusterHookNamespace`: where a ClusterDeployHook's Jobs run (and its ServiceAccount is).
 */
export function serviceAccountProblem(hook: Hook, allowed: AllowedServiceAccounts, clusterHookNamespace?: string): string | undefined {
  const name = hook.spec.job?.serviceAccountName;
  if (!name || !allowed) return undefined;
  const namespace = hook.metadata.namespace ?? clusterHookNamespace;
  if (allowed.includes(name) || (namespace && allowed.includes(`${namespace}/${name}`))) return undefined;
  return `spec.job.serviceAccountName: "${name}" is not among the ServiceAccounts this operator lets hooks run as (--allowed-service-accounts ${allowed.join(',') || '(none)'}): use one of them, or leave it out to run without an API token`;
}
