// The resource types the sandbox serves: the built-in kinds it implements and every kind a
// CustomResourceDefinition adds.
import type { JSONSchemaProps } from '../schema/structural.ts';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  statusSubresource: boolean;
  /** Built-in kinds accept strategic merge patch; custom resources do not (as in Kubernetes). */
  strategicMerge: boolean;
  /** Field-selector fields beyond metadata.name and metadata.namespace. */
  extraFieldSelectors: string[];
  /** Writes to these kinds bump metadata.generation when anything but metadata/status changes. */
  tracksGeneration: boolean;
  /** The garbage-collection policy a delete without propagationPolicy gets. */
  defaultPropagation: 'Background' | 'Orphan';
  /** Kinds whose replace (PUT) needs no resourceVersion (most built-ins); custom resources need one. */
  allowUnconditionalUpdate: boolean;
  schema?: JSONSchemaProps;
  printerColumns?: PrinterColumn[];
  /** The name of the CRD that defines this kind. */
  definedBy?: string;
}

export const resourceKey = (group: string, plural: string) => `${group}/${plural}`;
export const apiVersionOf = (t: Pick<ResourceType, 'group' | 'version'>) =>
  t.group ? `${t.group}/${t.version}` : t.version;

type BuiltinSpec = Pick<ResourceType, 'group' | 'version' | 'plural' | 'kind'> & Partial<ResourceType>;

function builtin(spec: BuiltinSpec): ResourceType {
  return {
    singular: spec.kind.toLowerCase(),
    listKind: `${spec.kind}List`,
    namespaced: true,
    shortNames: [],
    categories: [],
    statusSubresource: false,
    strategicMerge: true,
    extraFieldSelectors: [],
    tracksGeneration: false,
    defaultPropagation: 'Background',
    allowUnconditionalUpdate: true,
    ...spec,
  };
}

const BUILTINS: ResourceType[] = [
  builtin({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, extraFieldSelectors: ['status.phase'] }),
  builtin({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret', extraFieldSelectors: ['type'] }),
  builtin({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  builtin({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'] }),
  builtin({ group: '', version: 'v1', plural: 'pods', kind: 'Pod', shortNames: ['po'], categories: ['all'], statusSubresource: true, extraFieldSelectors: ['spec.nodeName', 'status.phase'] }),
  builtin({ group: '', version: 'v1', plural: 'events', kind: 'Event', shortNames: ['ev'], extraFieldSelectors: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'type'] }),
  builtin({ group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', shortNames: ['ev'], extraFieldSelectors: ['regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'reason', 'type'] }),
  builtin({ group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', categories: ['all'], statusSubresource: true, tracksGeneration: true, defaultPropagation: 'Orphan' }),
  builtin({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' }),
  // Stored only (no controller acts on them), so that helm and kubectl can install the chart.
  builtin({ group: '', version: 'v1', plural: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], statusSubresource: true }),
  builtin({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], statusSubresource: true, tracksGeneration: true }),
  builtin({ group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', shortNames: ['pdb'], statusSubresource: true, tracksGeneration: true }),
  builtin({ group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', shortNames: ['netpol'] }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role' }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding' }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }),
  builtin({ group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicies', kind: 'ValidatingAdmissionPolicy', namespaced: false, statusSubresource: true, tracksGeneration: true }),
  builtin({ group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicybindings', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false, tracksGeneration: true }),
  builtin({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], statusSubresource: true, tracksGeneration: true, strategicMerge: false }),
];

export class Registry {
  private readonly types = new Map<string, ResourceType>();

  constructor() {
    for (const t of BUILTINS) this.types.set(resourceKey(t.group, t.plural), t);
  }

  get(group: string, plural: string): ResourceType | undefined {
    return this.types.get(resourceKey(group, plural));
  }

  /** The type served at group/version/plural, if that version is served. */
  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.get(group, plural);
    return t && t.version === version ? t : undefined;
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.all().find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  add(t: ResourceType): void {
    this.types.set(resourceKey(t.group, t.plural), t);
  }

  remove(group: string, plural: string): void {
    this.types.delete(resourceKey(group, plural));
  }
}
