// Every Job certhook creates passes Pod Security "restricted", whatever spec.job says. Each option
// that shapes the hook's pod (every field of spec.job in the CRD, each enum value among them) is
// driven through hookJob with values the CRD accepts, and the pod is checked against the
// profile's published rules (test/helm/pod-security.ts); what would break the profile, the CRD
// refuses, so the operator never creates it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHook } from '../../src/controller/hook-validity.ts';
import type { KubeObject } from '../../src/kube/object.ts';
import { hookJob } from '../../src/runners/job-manifest.ts';
import { snapshotName } from '../../src/runners/snapshot.ts';
import type { JSONSchemaProps } from '../../src/schema/structural.ts';
import { certificate, run, secret } from '../controller/objects.ts';
import { restrictedViolations, type PodSpec } from '../helm/pod-security.ts';
import { schemaAt } from './crd-schema.ts';

type Options = Record<string, unknown>;

const selector = {
  matchLabels: { app: 'web' },
  matchExpressions: [
    { key: 'tier', operator: 'In', values: ['edge'] },
    { key: 'env', operator: 'NotIn', values: ['dev'] },
    { key: 'canary', operator: 'Exists' },
    { key: 'example.com/legacy', operator: 'DoesNotExist' },
  ],
};
const podTerm = { labelSelector: selector, namespaceSelector: selector, namespaces: ['web'], topologyKey: 'kubernetes.io/hostname' };
const nodeTerm = {
  matchExpressions: [
    { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    { key: 'zone', operator: 'NotIn', values: ['a'] },
    { key: 'cpus', operator: 'Gt', values: ['4'] },
    { key: 'memory', operator: 'Lt', values: ['64'] },
    { key: 'gpu', operator: 'Exists' },
    { key: 'spot', operator: 'DoesNotExist' },
  ],
  matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }],
};
const podAffinity = {
  requiredDuringSchedulingIgnoredDuringExecution: [podTerm],
  preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: podTerm }],
};

/** spec.job options the CRD accepts: together they set every field, and every enum value the CRD allows. */
const ACCEPTED: [string, Options][] = [
  ['the command alone', {}],
  ['image, service account, retries', { image: 'registry.example.com/tools/kubectl:1.34', serviceAccountName: 'edge-restarter', retries: 5 }],
  ['env of every source', { env: [{ name: 'MODE', value: 'fast' }, { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token', optional: true } } }, { name: 'CONF', valueFrom: { configMapKeyRef: { name: 'conf', key: 'app.json', optional: false } } }] }],
  ['resources, as numbers and quantities', { resources: { requests: { cpu: '50m', memory: '32Mi', 'ephemeral-storage': '1Gi' }, limits: { cpu: 1, memory: 67108864, 'ephemeral-storage': '2Gi' } } }],
  ['nodeSelector', { nodeSelector: { 'kubernetes.io/os': 'linux', pool: '' } }],
  ['tolerations of every operator and effect', {
    tolerations: [
      { key: 'dedicated', operator: 'Equal', value: 'hooks', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'hooks', effect: 'PreferNoSchedule' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      { operator: 'Exists' },
    ],
  }],
  ['affinity of every kind', {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [nodeTerm, { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-2'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 1, preference: nodeTerm },
          { weight: 2, preference: { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-2'] }] } },
        ],
      },
      podAffinity,
      podAntiAffinity: podAffinity,
    },
  }],
  ['pod labels and annotations, AppArmor ones included', { podLabels: { team: 'edge' }, podAnnotations: { 'sidecar.istio.io/inject': 'false', 'container.apparmor.security.beta.kubernetes.io/hook': 'runtime/default' } }],
  ['a Localhost AppArmor annotation', { podAnnotations: { 'container.apparmor.security.beta.kubernetes.io/hook': 'localhost/certhook' } }],
  ['imagePullSecrets', { imagePullSecrets: [{ name: 'registry-creds' }] }],
  ['the highest user, group and fsGroup', { securityContext: { runAsUser: 2147483647, runAsGroup: 2147483647, fsGroup: 2147483647 } }],
  ['the lowest user and group, fsGroup 0', { securityContext: { runAsUser: 1, runAsGroup: 1, fsGroup: 0 } }],
  ['what the profile asks for, said again', { securityContext: { runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL', 'NET_RAW'], add: [] } } }],
  ['a writable root, NET_BIND_SERVICE', { securityContext: { readOnlyRootFilesystem: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } }],
  ['RuntimeDefault profiles', { securityContext: { seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'RuntimeDefault' } } }],
  ['Localhost profiles', { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hook.json' }, appArmorProfile: { type: 'Localhost', localhostProfile: 'certhook' } } }],
];

/** spec.job options that would break the profile: the CRD refuses each, with the reason. */
const REFUSED: [Options, RegExp][] = [
  [{ securityContext: { privileged: true } }, /privileged: true is refused/],
  [{ securityContext: { allowPrivilegeEscalation: true } }, /allowPrivilegeEscalation: true is refused/],
  [{ securityContext: { runAsNonRoot: false } }, /runAsNonRoot: false is refused/],
  [{ securityContext: { runAsUser: 0 } }, /runAsUser 0 \(root\) is refused/],
  [{ securityContext: { runAsGroup: 0 } }, /runAsGroup 0 \(root\) is refused/],
  [{ securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }, /only NET_BIND_SERVICE may be added/],
  [{ securityContext: { capabilities: { drop: ['NET_RAW'] } } }, /drop must include ALL/],
  [{ securityContext: { seccompProfile: { type: 'Unconfined' } } }, /seccomp type Unconfined is refused/],
  [{ securityContext: { appArmorProfile: { type: 'Unconfined' } } }, /AppArmor type Unconfined is refused/],
  [{ podAnnotations: { 'container.apparmor.security.beta.kubernetes.io/hook': 'unconfined' } }, /an AppArmor annotation may only be runtime\/default or localhost/],
  [{ podAnnotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } }, /seccomp annotations are not allowed/],
  [{ podAnnotations: { 'container.seccomp.security.alpha.kubernetes.io/hook': 'runtime/default' } }, /seccomp annotations are not allowed/],
];

const rawHook = (options: Options): KubeObject => ({
  apiVersion: 'certhook.io/v1alpha1',
  kind: 'DeployHook',
  metadata: { name: 'reload-edge', namespace: 'web', uid: 'hook-uid', creationTimestamp: '2025-06-01T00:00:00Z' },
  spec: { job: { command: 'nginx -s reload', ...options } },
});

const facts = certificate(['api.example.com']);

/** The pod template of the Job the operator creates for the hook, or the CRD's reasons to refuse it. */
function podOf(options: Options): { metadata: { annotations?: Record<string, string> }; spec: PodSpec } {
  const checked = checkHook(rawHook(options));
  assert.ok(checked.valid, `the CRD refuses ${JSON.stringify(options)}: ${checked.problems.join('; ')}`);
  const renewal = run(checked.hook, 'renewed', secret('edge-tls', facts), '2025-06-02T00:00:01.000Z');
  const job = hookJob(renewal, checked.hook, checked.hook.spec.job!, renewal.spec.certificate!, { name: snapshotName(renewal), hasKey: true }, { defaultImage: 'alpine:3.22', ttlSecondsAfterFinished: 3600 });
  return (job.spec as { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } }).template;
}

/** Each scalar of `value` with its path in the schema: `securityContext.capabilities.add[]`, `podLabels[*]`. */
function eachLeaf(schema: JSONSchemaProps, value: unknown, path: string, visit: (path: string, value: unknown) => void): void {
  if (Array.isArray(value) && schema.items) value.forEach((item) => eachLeaf(schema.items!, item, `${path}[]`, visit));
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      const property = schema.properties?.[key];
      const additional = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
      if (property) eachLeaf(property, child, path ? `${path}.${key}` : key, visit);
      else if (additional) eachLeaf(additional, child, `${path}[*]`, visit);
    }
  } else visit(path, value);
}

/** Every leaf of a schema, with its enum values. */
function leavesOf(schema: JSONSchemaProps, path: string, out: Map<string, unknown[] | undefined>): void {
  if (schema.properties) for (const [key, child] of Object.entries(schema.properties)) leavesOf(child, path ? `${path}.${key}` : key, out);
  else if (typeof schema.additionalProperties === 'object') leavesOf(schema.additionalProperties, `${path}[*]`, out);
  else if (schema.items) leavesOf(schema.items, `${path}[]`, out);
  else out.set(path, schema.enum);
}

describe('Pod Security "restricted" for every Job certhook creates', () => {
  const job = schemaAt('DeployHook', 'spec.job') as JSONSchemaProps;

  test('the options below drive every field of spec.job, and every value of its enums', () => {
    const leaves = new Map<string, unknown[] | undefined>();
    leavesOf(job, '', leaves);
    const values = new Map<string, Set<unknown>>();
    for (const options of [...ACCEPTED.map(([, o]) => o), ...REFUSED.map(([o]) => o)]) {
      eachLeaf(job, { command: 'x', ...options }, '', (path, value) => values.set(path, (values.get(path) ?? new Set()).add(value)));
    }
    assert.deepEqual([...leaves.keys()].filter((leaf) => !values.has(leaf)), [], 'fields no option sets');
    for (const [leaf, allowed] of leaves) {
      for (const value of allowed ?? []) assert.ok(values.get(leaf)?.has(value), `${leaf}: ${String(value)} is never tried`);
    }
  });

  test('every option the CRD accepts gives a pod that passes the profile', () => {
    for (const [what, options] of ACCEPTED) {
      const pod = podOf(options);
      assert.deepEqual(restrictedViolations(pod.spec, pod.metadata.annotations), [], what);
    }
    const everything = Object.assign({}, ...ACCEPTED.map(([, options]) => options)) as Options;
    const pod = podOf(everything);
    assert.deepEqual(restrictedViolations(pod.spec, pod.metadata.annotations), [], 'all at once');
  });

  test('what would break the profile is refused when the hook is written, with the reason', () => {
    for (const [options, reason] of REFUSED) {
      const checked = checkHook(rawHook(options));
      assert.equal(checked.valid, false, JSON.stringify(options));
      assert.match(checked.problems.join('; '), reason, JSON.stringify(options));
    }
  });
});

describe('the restricted profile check', () => {
  const base = (): PodSpec => podOf({}).spec;
  const container = (pod: PodSpec) => pod.containers[0]!;

  test('each published control catches the pod that breaks it', () => {
    const cases: [string, (pod: PodSpec) => void, RegExp, Record<string, string>?][] = [
      ['host namespaces', (p) => (p.hostPID = true), /host namespaces are shared/],
      ['Windows host process', (p) => (container(p).securityContext!.windowsOptions = { hostProcess: true }), /Windows host process/],
      ['privileged', (p) => (container(p).securityContext!.privileged = true), /is privileged/],
      ['capabilities', (p) => (container(p).securityContext!.capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] }), /adds capabilities NET_ADMIN/],
      ['hostPath volume', (p) => p.volumes!.push({ name: 'host', hostPath: { path: '/' } }), /volume host has type hostPath/],
      ['host port', (p) => (container(p).ports = [{ hostPort: 80 }]), /uses a host port/],
      ['host probe', (p) => (container(p).livenessProbe = { httpGet: { host: '10.0.0.1' } }), /probes or hooks another host/],
      ['AppArmor field', (p) => (container(p).securityContext!.appArmorProfile = { type: 'Unconfined' }), /AppArmor profile is Unconfined/],
      ['AppArmor annotation', () => undefined, /annotation container\.apparmor\.security\.beta\.kubernetes\.io\/hook is unconfined/, { 'container.apparmor.security.beta.kubernetes.io/hook': 'unconfined' }],
      ['SELinux type', (p) => (p.securityContext!.seLinuxOptions = { type: 'spc_t' }), /SELinux type spc_t/],
      ['SELinux user', (p) => (container(p).securityContext!.seLinuxOptions = { user: 'root' }), /SELinux user or role/],
      ['/proc mount', (p) => (container(p).securityContext!.procMount = 'Unmasked'), /procMount Unmasked/],
      ['seccomp', (p) => (container(p).securityContext!.seccompProfile = { type: 'Unconfined' }), /seccomp profile/],
      ['sysctls', (p) => (p.securityContext!.sysctls = [{ name: 'kernel.msgmax', value: '1' }]), /unsafe sysctl kernel\.msgmax/],
      ['privilege escalation', (p) => delete container(p).securityContext!.allowPrivilegeEscalation, /allowPrivilegeEscalation: false/],
      ['running as non-root', (p) => (container(p).securityContext!.runAsNonRoot = false), /does not run as non-root/],
      ['running as a non-root user', (p) => (p.securityContext!.runAsUser = 0), /the pod runs as UID 0/],
      ['dropping ALL', (p) => (container(p).securityContext!.capabilities = { drop: ['NET_RAW'] }), /does not drop ALL/],
      ['ephemeral containers', (p) => (p.ephemeralContainers = [{ name: 'debug', securityContext: {} }]), /container debug does not set allowPrivilegeEscalation/],
    ];
    assert.deepEqual(restrictedViolations(base()), []);
    for (const [control, breakIt, message, annotations] of cases) {
      const pod = structuredClone(base());
      breakIt(pod);
      assert.match(restrictedViolations(pod, annotations).join('; '), message, control);
    }
  });
});
