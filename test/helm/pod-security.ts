// The Pod Security Standards' "restricted" profile (which includes "baseline"), as the checks
// kubernetes.io/docs/concepts/security/pod-security-standards lists them, applied to a pod spec.
// Not covered, as the chart never sets them: sysctls, SELinux, AppArmor and Windows host processes.

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  seccompProfile?: { type?: string };
  capabilities?: { add?: string[]; drop?: string[] };
}

interface Container {
  name: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
}

export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  volumes?: Record<string, unknown>[];
  initContainers?: Container[];
  containers: Container[];
}

const ALLOWED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SAFE_SECCOMP = new Set(['RuntimeDefault', 'Localhost']);

/** What in `spec` the restricted profile rejects; empty when the pod is admitted. */
export function restrictedViolations(spec: PodSpec): string[] {
  const problems: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push('host namespaces are shared');
  for (const volume of spec.volumes ?? []) {
    const source = Object.keys(volume).find((key) => key !== 'name');
    if (!source || !ALLOWED_VOLUME_SOURCES.has(source)) problems.push(`volume ${String(volume.name)} has type ${source}`);
  }
  if (pod.runAsUser === 0) problems.push('the pod runs as UID 0');
  if (pod.seccompProfile && !SAFE_SECCOMP.has(pod.seccompProfile.type ?? '')) problems.push(`the pod's seccomp profile is ${pod.seccompProfile.type}`);
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) problems.push(`${where} is privileged`);
    if (sc.procMount && sc.procMount !== 'Default') problems.push(`${where} has procMount ${sc.procMount}`);
    if ((c.ports ?? []).some((p) => p.hostPort)) problems.push(`${where} uses a host port`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where} does not set allowPrivilegeEscalation: false`);
    if (!(sc.runAsNonRoot ?? pod.runAsNonRoot)) problems.push(`${where} does not run as non-root (runAsNonRoot: true on the pod or the container)`);
    if (sc.runAsUser === 0) problems.push(`${where} runs as UID 0`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (!SAFE_SECCOMP.has(seccomp ?? '')) problems.push(`${where} has no RuntimeDefault or Localhost seccomp profile`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where} does not drop ALL capabilities`);
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length) problems.push(`${where} adds capabilities ${added.join(', ')}`);
  }
  return problems;
}
