// A container's environment as the kubelet builds it: `envFrom`, then `env` in order, with
// `$(VAR)` references to earlier variables expanded, `valueFrom` read from Secrets, ConfigMaps
// and the pod itself.
import { ContainerStartError, ContainerWaiting } from './container-errors.ts';
import type { Container, KeySelector } from './pod-types.ts';
import type { KubeObject } from './store.ts';

/** The pod's namespace's Secrets and ConfigMaps, as the kubelet sees them now. */
export interface ConfigSource {
  secret(name: string): KubeObject | undefined;
  configMap(name: string): KubeObject | undefined;
}

/** Where the pod runs: the values `status.hostIP`, `status.podIP` and `spec.nodeName` resolve to. */
export interface Placement {
  nodeName: string;
  hostIP: string;
  podIP: string;
}

const CONFIG_ERROR = 'CreateContainerConfigError';

/**
 * Kubernetes' `$(VAR)` expansion: a reference to a defined variable is replaced, an undefined one
 * is left as written, `$$` is an escaped `$`, and anything else is copied unchanged.
 */
export function expandReferences(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        out += '$(';
        i += 2;
      } else {
        const name = input.slice(i + 2, close);
        out += vars.get(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/** The container's variables in definition order; throws ContainerWaiting or ContainerStartError. */
export function containerEnv(pod: KubeObject, container: Container, source: ConfigSource, placement: Placement): Map<string, string> {
  const namespace = pod.metadata.namespace!;
  const vars = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    const data = from.secretRef
      ? secretData(source, from.secretRef.name ?? '', from.secretRef.optional)
      : from.configMapRef
        ? configMapData(source, from.configMapRef.name ?? '', from.configMapRef.optional)
        : undefined;
    for (const [key, value] of Object.entries(data ?? {})) vars.set(prefix + key, value);
  }
  for (const v of container.env ?? []) {
    if (v.value) {
      vars.set(v.name, expandReferences(v.value, vars));
      continue;
    }
    const from = v.valueFrom;
    let value: string | undefined = '';
    if (from?.secretKeyRef) value = keyOf('Secret', secretData(source, from.secretKeyRef.name ?? '', from.secretKeyRef.optional), from.secretKeyRef, namespace);
    else if (from?.configMapKeyRef) value = keyOf('ConfigMap', configMapData(source, from.configMapKeyRef.name ?? '', from.configMapKeyRef.optional), from.configMapKeyRef, namespace);
    else if (from?.fieldRef) value = fieldValue(pod, from.fieldRef.fieldPath, placement);
    else if (from?.resourceFieldRef) throw new ContainerStartError(`env ${v.name}: resourceFieldRef is not supported by the sandbox kubelet`);
    // An optional reference to something missing leaves the variable out, as the kubelet does.
    if (value !== undefined) vars.set(v.name, value);
  }
  return vars;
}

function secretData(source: ConfigSource, name: string, optional: boolean | undefined): Record<string, string> | undefined {
  const secret = source.secret(name);
  if (!secret) {
    if (optional) return undefined;
    throw new ContainerWaiting(CONFIG_ERROR, `secret "${name}" not found`);
  }
  const data = (secret.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

function configMapData(source: ConfigSource, name: string, optional: boolean | undefined): Record<string, string> | undefined {
  const cm = source.configMap(name);
  if (!cm) {
    if (optional) return undefined;
    throw new ContainerWaiting(CONFIG_ERROR, `configmap "${name}" not found`);
  }
  return (cm.data ?? {}) as Record<string, string>;
}

function keyOf(kind: 'Secret' | 'ConfigMap', data: Record<string, string> | undefined, ref: KeySelector, namespace: string): string | undefined {
  if (data === undefined) return undefined;
  const value = data[ref.key];
  if (value !== undefined || ref.optional) return value;
  throw new ContainerWaiting(CONFIG_ERROR, `couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name ?? ''}`);
}

/** The downward API's env fields. */
export function fieldValue(pod: KubeObject, fieldPath: string, placement: Placement): string {
  const meta = pod.metadata;
  const spec = (pod.spec ?? {}) as { serviceAccountName?: string };
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (subscript) {
    const map = (subscript[1] === 'labels' ? meta.labels : meta.annotations) ?? {};
    return map[subscript[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return placement.nodeName;
    case 'spec.serviceAccountName':
      return spec.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return placement.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return placement.podIP;
    default:
      throw new ContainerStartError(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}
