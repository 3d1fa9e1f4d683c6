// What a CustomResourceDefinition makes the sandbox serve.
import type { JSONSchemaProps } from '../schema/structural.ts';
import type { PrinterColumn, ResourceType } from './registry.ts';
import type { KubeObject } from './store.ts';

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: object };
  additionalPrinterColumns?: PrinterColumn[];
}

interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

/** The served storage version of a CRD as a resource type; undefined if the CRD serves none. */
export function crdToResourceType(crd: KubeObject): ResourceType | undefined {
  const spec = crd.spec as CrdSpec | undefined;
  const version = spec?.versions?.find((v) => v.storage && v.served !== false);
  if (!spec || !version) return undefined;
  const { names } = spec;
  return {
    group: spec.group,
    version: version.name,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    namespaced: spec.scope === 'Namespaced',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    statusSubresource: version.subresources?.status !== undefined,
    strategicMerge: false,
    extraFieldSelectors: [],
    tracksGeneration: true,
    defaultPropagation: 'Background',
    allowUnconditionalUpdate: false,
    ...(version.schema?.openAPIV3Schema ? { schema: version.schema.openAPIV3Schema } : {}),
    ...(version.additionalPrinterColumns ? { printerColumns: version.additionalPrinterColumns } : {}),
    definedBy: crd.metadata.name!,
  };
}
