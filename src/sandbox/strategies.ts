// Per-kind rules of the built-in resources the sandbox serves: what kube-apiserver's REST
// strategies default on create and reject on write, for the fields the sandbox relies on.
import type { FieldError } from '../schema/field-error.ts';
import { resourceKey, type ResourceType } from './registry.ts';
import type { KubeObject } from './store.ts';
import { isDeepStrictEqual } from 'node:util';

export interface KindStrategy {
  prepareForCreate?(obj: KubeObject): void;
  /** Runs on every write, before validation. */
  normalize?(obj: KubeObject, old: KubeObject | undefined): void;
  validate?(obj: KubeObject, old: KubeObject | undefined): FieldError[];
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

const secrets: KindStrategy = {
  normalize(obj, old) {
    // stringData is write-only: it is merged into data on every write, as the API server does.
    const stringData = asObject(obj.stringData);
    if (Object.keys(stringData).length) {
      const data = asObject(obj.data);
      for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString('base64');
      obj.data = data;
    }
    delete obj.stringData;
    obj.type ??= old?.type ?? 'Opaque';
  },
  validate(obj, old) {
    const errors: FieldError[] = [];
    if (old && old.type !== obj.type) errors.push({ path: 'type', type: 'Invalid', value: obj.type, message: 'field is immutable' });
    // An immutable Secret's data, and the flag itself, never change (its metadata may).
    if (old?.immutable === true) {
      if (obj.immutable !== true) errors.push({ path: 'immutable', type: 'Forbidden', message: 'field is immutable when `immutable` is set' });
      if (!isDeepStrictEqual(asObject(obj.data), asObject(old.data))) errors.push({ path: 'data', type: 'Forbidden', message: 'field is immutable when `immutable` is set' });
    }
    const data = asObject(obj.data);
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
        errors.push({ path: `data[${k}]`, type: 'Invalid', value: '<secret contents redacted>', message: 'must be base64-encoded' });
      }
    }
    if (obj.type === 'kubernetes.io/tls') {
      for (const k of ['tls.crt', 'tls.key']) {
        if (!(k in data)) errors.push({ path: `data[${k}]`, type: 'Required', message: '' });
      }
    }
    return errors;
  },
};

const namespaces: KindStrategy = {
  prepareForCreate(obj) {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
  },
};

const pods: KindStrategy = {
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate(obj) {
    const containers = asObject(obj.spec).containers;
    return Array.isArray(containers) && containers.length > 0
      ? []
      : [{ path: 'spec.containers', type: 'Required', message: '' }];
  },
};

const jobs: KindStrategy = {
  prepareForCreate(obj) {
    const uid = obj.metadata.uid!;
    const spec = asObject(obj.spec);
    const template = asObject(spec.template);
    const tmeta = asObject(template.metadata);
    const selectorLabels = { 'batch.kubernetes.io/controller-uid': uid };
    tmeta.labels = {
      ...asObject(tmeta.labels),
      ...selectorLabels,
      'batch.kubernetes.io/job-name': obj.metadata.name!,
      'controller-uid': uid,
      'job-name': obj.metadata.name!,
    };
    template.metadata = tmeta;
    spec.template = template;
    spec.selector ??= { matchLabels: selectorLabels };
    spec.backoffLimit ??= 6;
    spec.completions ??= 1;
    spec.parallelism ??= 1;
    spec.suspend ??= false;
    spec.completionMode ??= 'NonIndexed';
    obj.spec = spec;
    obj.status = {};
  },
  validate(obj, old) {
    const spec = asObject(obj.spec);
    const podSpec = asObject(asObject(spec.template).spec);
    const errors: FieldError[] = [];
    if (!['Never', 'OnFailure'].includes(String(podSpec.restartPolicy))) {
      errors.push({ path: 'spec.template.spec.restartPolicy', type: 'Unsupported', value: podSpec.restartPolicy ?? '', message: 'supported values: "OnFailure", "Never"' });
    }
    const containers = podSpec.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      errors.push({ path: 'spec.template.spec.containers', type: 'Required', message: '' });
    }
    if (old && !isDeepStrictEqual(spec.template, asObject(old.spec).template)) {
      errors.push({ path: 'spec.template', type: 'Invalid', value: '', message: 'field is immutable' });
    }
    return errors;
  },
};

const STRATEGIES = new Map<string, KindStrategy>([
  [resourceKey('', 'secrets'), secrets],
  [resourceKey('', 'namespaces'), namespaces],
  [resourceKey('', 'pods'), pods],
  [resourceKey('batch', 'jobs'), jobs],
]);

const NONE: KindStrategy = {};

export const strategyFor = (t: ResourceType): KindStrategy => STRATEGIES.get(resourceKey(t.group, t.plural)) ?? NONE;
