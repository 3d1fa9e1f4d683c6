// Rendered Kubernetes objects against the API's schemas, offline: kubernetes-models validates types,
// required fields and formats but lets unknown fields through (which the API server drops, or
// refuses under strict field validation), so unknownFields() walks each object against the
// OpenAPI-generated models of @kubernetes/client-node (each class's attributeTypeMap lists its
// fields and their types). The Prometheus Operator's kinds are in neither package: MONITORING
// declares the fields of theirs the chart uses, as their CRDs define them.
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as apiextensions from 'kubernetes-models/apiextensions.k8s.io/v1';
import type { KubeObject } from '../../src/kube/object.ts';

/** A rendered object: helm template's output always names its kind. */
export type Rendered = KubeObject & { apiVersion: string; kind: string };

interface Attribute {
  baseName: string;
  type: string;
}

type TypeMap = Record<string, readonly Attribute[]>;

const fields = (entries: Record<string, string>): Attribute[] => Object.entries(entries).map(([baseName, type]) => ({ baseName, type }));
const typed = (spec: string) => fields({ apiVersion: 'string', kind: 'string', metadata: 'V1ObjectMeta', spec });

/** monitoring.coreos.com/v1: the fields the chart renders, named and typed as the Prometheus Operator's CRDs have them. */
const MONITORING: TypeMap = {
  MonitoringV1ServiceMonitor: typed('MonitoringV1ServiceMonitorSpec'),
  MonitoringV1ServiceMonitorSpec: fields({ jobLabel: 'string', selector: 'V1LabelSelector', namespaceSelector: 'MonitoringV1NamespaceSelector', endpoints: 'Array<MonitoringV1Endpoint>' }),
  MonitoringV1PodMonitor: typed('MonitoringV1PodMonitorSpec'),
  MonitoringV1PodMonitorSpec: fields({ jobLabel: 'string', selector: 'V1LabelSelector', namespaceSelector: 'MonitoringV1NamespaceSelector', podMetricsEndpoints: 'Array<MonitoringV1Endpoint>' }),
  MonitoringV1NamespaceSelector: fields({ any: 'boolean', matchNames: 'Array<string>' }),
  // Endpoint and PodMetricsEndpoint share these.
  MonitoringV1Endpoint: fields({ port: 'string', path: 'string', interval: 'string', scrapeTimeout: 'string', honorLabels: 'boolean' }),
  MonitoringV1PrometheusRule: typed('MonitoringV1PrometheusRuleSpec'),
  MonitoringV1PrometheusRuleSpec: fields({ groups: 'Array<MonitoringV1RuleGroup>' }),
  MonitoringV1RuleGroup: fields({ name: 'string', interval: 'string', rules: 'Array<MonitoringV1Rule>' }),
  MonitoringV1Rule: fields({ alert: 'string', record: 'string', expr: 'IntOrString', for: 'string', labels: '{ [key: string]: string; }', annotations: '{ [key: string]: string; }' }),
};

function attributes(type: string): readonly Attribute[] | undefined {
  const model = (models as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>)[type];
  return model?.attributeTypeMap ?? MONITORING[type];
}

/** The model type of a kind: client-node's V1<Kind>, or MONITORING's. */
function rootType(object: Rendered): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0]! : '';
  if (group === 'monitoring.coreos.com') return `MonitoringV1${object.kind}`;
  const type = `${object.apiVersion.split('/').at(-1)!.replace(/^v/, 'V')}${object.kind}`;
  if (!attributes(type)) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return type;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function walk(value: unknown, type: string, path: string, found: string[]): void {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, array[1]!, `${path}[${i}]`, found));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isRecord(value)) for (const [key, item] of Object.entries(value)) walk(item, map[1]!, `${path}[${key}]`, found);
    return;
  }
  const known = attributes(type);
  // Scalars, IntOrString, and `any` (free-form JSON such as a CRD schema's default).
  if (!known || !isRecord(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const attribute = known.find((a) => a.baseName === key);
    if (attribute) walk(item, attribute.type, `${path}.${key}`, found);
    else found.push(`${path}.${key}`);
  }
}

/** The paths of the fields in `object` that its kind's schema does not have. */
export function unknownFields(object: Rendered): string[] {
  const found: string[] = [];
  walk(object, rootType(object), object.kind, found);
  return found;
}

interface Validatable {
  validate(): void;
}

const MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'policy/v1': policy,
  'rbac.authorization.k8s.io/v1': rbac,
  'networking.k8s.io/v1': networking,
  'apiextensions.k8s.io/v1': apiextensions,
};

/** Throws what kubernetes-models finds wrong with the object (types, required fields, formats). */
export function validateModel(object: Rendered): void {
  const Model = MODELS[object.apiVersion]?.[object.kind] as (new (data: unknown) => Validatable) | undefined;
  if (!Model) throw new Error(`kubernetes-models has no ${object.apiVersion} ${object.kind} here`);
  new Model(object).validate();
}

/** Whether kubernetes-models knows the kind (the Prometheus Operator's it does not). */
export const hasModel = (object: Rendered) => MODELS[object.apiVersion]?.[object.kind] !== undefined;
