// REST paths of the resources the operator uses.
import { CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK, DEPLOY_HOOK_RUN, GROUP, VERSION } from '../api/names.ts';

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

export const RESOURCES = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
  secrets: { group: '', version: 'v1', plural: 'secrets' },
  configMaps: { group: '', version: 'v1', plural: 'configmaps' },
  pods: { group: '', version: 'v1', plural: 'pods' },
  events: { group: '', version: 'v1', plural: 'events' },
  jobs: { group: 'batch', version: 'v1', plural: 'jobs' },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' },
  deployHooks: { group: GROUP, version: VERSION, plural: DEPLOY_HOOK.plural },
  clusterDeployHooks: { group: GROUP, version: VERSION, plural: CLUSTER_DEPLOY_HOOK.plural },
  deployHookRuns: { group: GROUP, version: VERSION, plural: DEPLOY_HOOK_RUN.plural },
} as const satisfies Record<string, ResourceRef>;

const prefix = (r: ResourceRef) => (r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`);

/** The collection of a resource: all namespaces when `namespace` is undefined. */
export function collectionPath(r: ResourceRef, namespace?: string): string {
  return namespace ? `${prefix(r)}/namespaces/${encodeURIComponent(namespace)}/${r.plural}` : `${prefix(r)}/${r.plural}`;
}

/** An object's path; `namespace` undefined for a cluster-scoped object. */
export function objectPath(r: ResourceRef, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
