// The CustomResourceDefinitions of the certhook API, generated from the zod schemas.
//
// These CRDs are the ONE definition of validity. The API server enforces them on write (OpenAPI
// constraints and x-kubernetes-validations CEL rules, so `kubectl apply` fails with the reason),
// and the operator evaluates the same openAPIV3Schema (src/schema/structural.ts: defaults,
// pruning, validation including CEL) on what it reads. Never add a check that lives in only one
// of the two places: add it to the zod schema.
import type { z } from 'zod';
import { ClusterDeployHookSchema, DeployHookSchema } from './deployhook.ts';
import { DeployHookRunSchema } from './deployhookrun.ts';
import { CATEGORY, CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK, DEPLOY_HOOK_RUN, GROUP, VERSION } from './names.ts';
import { structuralSchema, type StructuralSchema } from './structural-schema.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: Array<{
      name: string;
      served: true;
      storage: true;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: StructuralSchema };
    }>;
  };
}

interface Resource {
  names: typeof DEPLOY_HOOK | typeof CLUSTER_DEPLOY_HOOK | typeof DEPLOY_HOOK_RUN;
  schema: typeof DeployHookSchema | typeof ClusterDeployHookSchema | typeof DeployHookRunSchema;
  scope: 'Namespaced' | 'Cluster';
  /** metadata.name limit, when stricter than the API server's own. */
  nameMaxLength?: number;
  printerColumns: PrinterColumn[];
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** The columns of both kinds of hook; a ClusterDeployHook's namespaces go after its events. */
function hookColumns(extra: PrinterColumn[] = []): PrinterColumn[] {
  return [
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether the hook is valid and can run.' },
    { name: 'Type', type: 'string', jsonPath: '.status.type', description: 'What the hook runs: job or webhook.' },
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled', description: 'Whether the hook fires on certificate events.' },
    { name: 'Events', type: 'string', jsonPath: '.status.events', description: 'Certificate events the hook fires on.' },
    ...extra,
    { name: 'Last Result', type: 'string', jsonPath: '.status.lastRun.phase', description: 'Phase of the most recent run.' },
    { name: 'Last Run', type: 'date', jsonPath: '.status.lastRun.completionTime', description: 'When the most recent run finished.' },
    AGE,
    { name: 'Domains', type: 'string', jsonPath: '.status.domains', description: 'DNS names the hook is for.', priority: 1 },
    { name: 'Selector', type: 'string', jsonPath: '.status.selector', description: 'Labels of the TLS Secrets the hook is for.', priority: 1 },
  ];
}

const RESOURCES: Resource[] = [
  {
    names: DEPLOY_HOOK,
    schema: DeployHookSchema,
    scope: 'Namespaced',
    // The hook's name is the value of the certhook.io/hook label on its runs and Jobs.
    nameMaxLength: 63,
    printerColumns: hookColumns(),
  },
  {
    names: CLUSTER_DEPLOY_HOOK,
    schema: ClusterDeployHookSchema,
    scope: 'Cluster',
    nameMaxLength: 63,
    printerColumns: hookColumns([
      { name: 'Namespaces', type: 'string', jsonPath: '.status.namespaces', description: 'Labels of the namespaces the hook is for (empty: every namespace).' },
    ]),
  },
  {
    names: DEPLOY_HOOK_RUN,
    schema: DeployHookRunSchema,
    scope: 'Namespaced',
    printerColumns: [
      { name: 'Hook', type: 'string', jsonPath: '.spec.hookRef.name', description: 'The hook that ran (a DeployHook, unless Hook Kind says otherwise).' },
      { name: 'Domain', type: 'string', jsonPath: '.status.certificate.domain', description: "The certificate's primary name." },
      { name: 'Event', type: 'string', jsonPath: '.spec.event', description: 'Why the run fired.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Phase of the run.' },
      { name: 'Reason', type: 'string', jsonPath: '.status.reason', description: 'Why the run is in its phase.' },
      { name: 'Exit Code', type: 'integer', jsonPath: '.status.exitCode', description: "The hook's exit code." },
      { name: 'Duration', type: 'number', jsonPath: '.status.durationSeconds', description: 'Seconds the hook ran.' },
      AGE,
      { name: 'Hook Kind', type: 'string', jsonPath: '.spec.hookRef.kind', description: 'ClusterDeployHook for a cluster hook\'s run (empty: DeployHook).', priority: 1 },
      { name: 'Secret Namespace', type: 'string', jsonPath: '.spec.secretRef.namespace', description: 'For a ClusterDeployHook\'s run: the namespace of its TLS Secret.', priority: 1 },
    ],
  },
];

export function customResourceDefinitions(): CustomResourceDefinition[] {
  return RESOURCES.map(customResourceDefinition);
}

function customResourceDefinition(resource: Resource): CustomResourceDefinition {
  const { names } = resource;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: [CATEGORY],
      },
      scope: resource.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: resource.printerColumns,
          schema: { openAPIV3Schema: rootSchema(resource) },
        },
      ],
    },
  };
}

/**
 * The root of a CRD schema: apiVersion, kind and metadata as Kubernetes defines them (a CRD may
 * only constrain metadata.name and metadata.generateName), spec and status from zod.
 */
function rootSchema(resource: Resource): StructuralSchema {
  const { shape } = resource.schema;
  const metadata: StructuralSchema = { description: 'Standard object metadata.', type: 'object' };
  if (resource.nameMaxLength !== undefined) {
    metadata.properties = { name: { description: 'Name of the object.', type: 'string', maxLength: resource.nameMaxLength } };
  }
  return {
    description: describedOf(resource.schema),
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: {
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert ' +
          'recognized schemas to the latest internal value, and may reject unrecognized values.',
        type: 'string',
      },
      kind: {
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this ' +
          'from the endpoint the client submits requests to. In CamelCase.',
        type: 'string',
      },
      metadata,
      spec: structuralSchema(shape.spec),
      status: structuralSchema(shape.status),
    },
  };
}

function describedOf(schema: z.ZodType): string {
  if (!schema.description) throw new Error('every resource schema needs a description (kubectl explain shows it)');
  return schema.description;
}
