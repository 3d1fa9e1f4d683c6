// The Pod Security Standards' "restricted" profile (which includes "baseline"), every control of
// the latest version as kubernetes.io/docs/concepts/security/pod-security-standards lists them
// (and k8s.io/pod-security-admission checks them), applied to a pod: host processes, host
// namespaces, privileged containers, capabilities, hostPath and other volume types, host ports,
// host probes and lifecycle hooks, AppArmor, SELinux, /proc mount type, seccomp, sysctls,
// privilege escalation, running as non-root (and not as UID 0). Windows pods, which the profile
// partly exempts, are not handled: neither the chart nor certhook's Jobs make any.

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean };
  capabilities?: { add?: string[]; drop?: string[] };
  sysctls?: { name: string; value?: string }[];
}

interface Handler {
  httpGet?: { host?: string };
  tcpSocket?: { host?: string };
}

interface Container {
  name: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
  livenessProbe?: Handler;
  readinessProbe?: Handler;
  startupProbe?: Handler;
  lifecycle?: { postStart?: Handler; preStop?: Handler };
}

export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  volumes?: Record<string, unknown>[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  containers: Container[];
}

const ALLOWED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SAFE_SECCOMP = new Set(['RuntimeDefault', 'Localhost']);
const SAFE_APPARMOR = new Set(['RuntimeDefault', 'Localhost']);
const SAFE_SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/** What in the pod (its spec, and its annotations) the restricted profile rejects; empty when the pod is admitted. */
export function restrictedViolations(spec: PodSpec, annotations: Record<string, string> = {}): string[] {
  const problems: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push('host namespaces are shared');
  if (pod.windowsOptions?.hostProcess) problems.push('the pod is a Windows host process');
  for (const volume of spec.volumes ?? []) {
    const source = Object.keys(volume).find((key) => key !== 'name');
    if (!source || !ALLOWED_VOLUME_SOURCES.has(source)) problems.push(`volume ${String(volume.name)} has type ${source}`);
  }
  if (pod.runAsUser === 0) problems.push('the pod runs as UID 0');
  if (pod.seccompProfile && !SAFE_SECCOMP.has(pod.seccompProfile.type ?? '')) problems.push(`the pod's seccomp profile is ${pod.seccompProfile.type}`);
  if (pod.appArmorProfile && !SAFE_APPARMOR.has(pod.appArmorProfile.type ?? '')) problems.push(`the pod's AppArmor profile is ${pod.appArmorProfile.type}`);
  problems.push(...seLinuxProblems('the pod', pod));
  for (const { name } of pod.sysctls ?? []) if (!SAFE_SYSCTLS.has(name)) problems.push(`the pod sets the unsafe sysctl ${name}`);
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== 'runtime/default' && !value.startsWith('localhost/')) problems.push(`annotation ${key} is ${value}`);
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) problems.push(`${where} is privileged`);
    if (sc.windowsOptions?.hostProcess) problems.push(`${where} is a Windows host process`);
    if (sc.procMount && sc.procMount !== 'Default') problems.push(`${where} has procMount ${sc.procMount}`);
    if ((c.ports ?? []).some((p) => p.hostPort)) problems.push(`${where} uses a host port`);
    const handlers = [c.livenessProbe, c.readinessProbe, c.startupProbe, c.lifecycle?.postStart, c.lifecycle?.preStop];
    if (handlers.some((h) => h?.httpGet?.host || h?.tcpSocket?.host)) problems.push(`${where} probes or hooks another host`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where} does not set allowPrivilegeEscalation: false`);
    if (!(sc.runAsNonRoot ?? pod.runAsNonRoot)) problems.push(`${where} does not run as non-root (runAsNonRoot: true on the pod or the container)`);
    if (sc.runAsUser === 0) problems.push(`${where} runs as UID 0`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (!SAFE_SECCOMP.has(seccomp ?? '')) problems.push(`${where} has no RuntimeDefault or Localhost seccomp profile`);
    if (sc.appArmorProfile && !SAFE_APPARMOR.has(sc.appArmorProfile.type ?? '')) problems.push(`${where}'s AppArmor profile is ${sc.appArmorProfile.type}`);
    problems.push(...seLinuxProblems(where, sc));
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where} does not drop ALL capabilities`);
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length) problems.push(`${where} adds capabilities ${added.join(', ')}`);
  }
  return problems;
}

function seLinuxProblems(where: string, context: SecurityContext): string[] {
  const options = context.seLinuxOptions;
  if (!options) return [];
  const problems: string[] = [];
  if (!SAFE_SELINUX_TYPES.has(options.type ?? '')) problems.push(`${where} has the SELinux type ${options.type}`);
  if (options.user || options.role) problems.push(`${where} sets an SELinux user or role`);
  return problems;
}
