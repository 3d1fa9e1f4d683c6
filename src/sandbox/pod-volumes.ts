// A pod's volumes as files on the host: what each volume holds (secret, configMap, emptyDir and
// the service-account token), where each container mount lands, and writing it out.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ContainerStartError, ContainerWaiting } from './container-errors.ts';
import type { Mount } from './mount-paths.ts';
import type { ConfigSource } from './pod-env.ts';
import { podSpecOf, type Container, type KeyToPath, type Volume } from './pod-types.ts';
import type { KubeObject } from './store.ts';

export interface VolumeFile {
  /** Relative to the volume's directory. */
  path: string;
  data: Buffer;
  mode: number;
}

export interface VolumeContent {
  name: string;
  files: VolumeFile[];
}

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const SERVICE_ACCOUNT_VOLUME = 'kube-api-access-sandbox';
const DEFAULT_MODE = 0o644;
// Kubernetes would show this for a volume it cannot set up; the pod waits and the kubelet retries.
const NOT_MOUNTED = 'ContainerCreating';
const VOLUME_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The token is mounted only when the pod names a service account AND asks for the token
 * explicitly (certhook's rule: no API credentials unless requested), unlike Kubernetes' default.
 */
export function mountsServiceAccountToken(pod: KubeObject): boolean {
  const spec = podSpecOf(pod);
  return Boolean(spec.serviceAccountName) && spec.automountServiceAccountToken === true;
}

/** What every volume of the pod holds; throws ContainerWaiting while a source is missing. */
export function volumeContents(pod: KubeObject, source: ConfigSource): VolumeContent[] {
  const contents = (podSpecOf(pod).volumes ?? []).map((v) => volumeContent(v, source));
  if (mountsServiceAccountToken(pod)) {
    const spec = podSpecOf(pod);
    const namespace = pod.metadata.namespace!;
    contents.push({
      name: SERVICE_ACCOUNT_VOLUME,
      files: [
        { path: 'token', data: Buffer.from(`sandbox-token:${namespace}:${spec.serviceAccountName}`), mode: DEFAULT_MODE },
        { path: 'namespace', data: Buffer.from(namespace), mode: DEFAULT_MODE },
      ],
    });
  }
  return contents;
}

function volumeContent(volume: Volume, source: ConfigSource): VolumeContent {
  const { name } = volume;
  if (!VOLUME_NAME.test(name)) throw new ContainerStartError(`volume name "${name}" is not a valid DNS-1123 label`);
  if (volume.secret) {
    const { secretName = '', items, defaultMode, optional } = volume.secret;
    const secret = source.secret(secretName);
    if (!secret && !optional) throw new ContainerWaiting(NOT_MOUNTED, `MountVolume.SetUp failed for volume "${name}" : secret "${secretName}" not found`);
    const data = Object.entries((secret?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')] as const);
    return { name, files: project(name, new Map(data), items, defaultMode, optional, 'references non-existent secret key') };
  }
  if (volume.configMap) {
    const { name: cmName = '', items, defaultMode, optional } = volume.configMap;
    const cm = source.configMap(cmName);
    if (!cm && !optional) throw new ContainerWaiting(NOT_MOUNTED, `MountVolume.SetUp failed for volume "${name}" : configmap "${cmName}" not found`);
    const data = new Map<string, Buffer>();
    for (const [k, v] of Object.entries((cm?.data ?? {}) as Record<string, string>)) data.set(k, Buffer.from(v));
    for (const [k, v] of Object.entries((cm?.binaryData ?? {}) as Record<string, string>)) data.set(k, Buffer.from(v, 'base64'));
    return { name, files: project(name, data, items, defaultMode, optional, 'configmap references non-existent config key') };
  }
  // A volume that names no source is an emptyDir, as the API server defaults it.
  const sources = Object.keys(volume).filter((k) => k !== 'name' && k !== 'emptyDir');
  if (sources.length) {
    throw new ContainerStartError(`volume "${name}": ${sources.join(', ')} volumes are not supported by the sandbox kubelet (only secret, configMap and emptyDir)`);
  }
  return { name, files: [] };
}

function project(
  volume: string,
  data: Map<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number | undefined,
  optional: boolean | undefined,
  missingKey: string,
): VolumeFile[] {
  const mode = defaultMode ?? DEFAULT_MODE;
  if (!items) return [...data].map(([key, bytes]) => ({ path: key, data: bytes, mode }));
  const files: VolumeFile[] = [];
  for (const item of items) {
    checkRelative(item.path, `volume "${volume}" item path`);
    const bytes = data.get(item.key);
    if (!bytes) {
      if (optional) continue;
      throw new ContainerWaiting(NOT_MOUNTED, `MountVolume.SetUp failed for volume "${volume}" : ${missingKey}: ${item.key}`);
    }
    files.push({ path: item.path, data: bytes, mode: item.mode ?? mode });
  }
  return files;
}

function checkRelative(path: string, what: string): void {
  if (path.startsWith('/') || path.split('/').includes('..')) {
    throw new ContainerStartError(`${what} "${path}" must be relative and must not contain '..'`);
  }
}

/** Where each of the container's mounts lands on the host, under `volumesDir/<volume>`. */
export function containerMounts(pod: KubeObject, container: Container, volumesDir: string): Mount[] {
  const volumes = new Set((podSpecOf(pod).volumes ?? []).map((v) => v.name));
  const mounts = (container.volumeMounts ?? []).map((m) => {
    if (!volumes.has(m.name)) throw new ContainerStartError(`volumeMount "${m.name}" names no volume of the pod`);
    if (m.subPath) checkRelative(m.subPath, `volumeMount "${m.name}" subPath`);
    return { mountPath: m.mountPath, hostPath: join(volumesDir, m.name, m.subPath ?? '') };
  });
  if (mountsServiceAccountToken(pod)) mounts.push({ mountPath: SERVICE_ACCOUNT_MOUNT, hostPath: join(volumesDir, SERVICE_ACCOUNT_VOLUME) });
  return mounts;
}

export function writeVolume(volumesDir: string, content: VolumeContent): void {
  const dir = join(volumesDir, content.name);
  mkdirSync(dir, { recursive: true });
  for (const file of content.files) {
    const path = join(dir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.data);
    chmodSync(path, file.mode);
  }
}
