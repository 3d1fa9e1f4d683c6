import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployHook } from '../../src/api/deployhook.ts';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { CERTIFICATE_DIR, certmateEnv, hookJob } from '../../src/runners/job-manifest.ts';
import { DEADLINE_MARGIN_SECONDS, escapeExpansion, watchdogScript } from '../../src/runners/hook-script.ts';
import { expandReferences } from '../../src/sandbox/pod-env.ts';
import { snapshotFiles, snapshotInfo, snapshotName, snapshotSecret, type CertificateFiles } from '../../src/runners/snapshot.ts';
import { certificate, hook, NAMESPACE, run, secret } from '../controller/objects.ts';
import { restrictedViolations, type PodSpec } from '../helm/pod-security.ts';

const facts = certificate(['api.example.com', 'www.example.com'], { notBefore: new Date('2025-06-02T00:00:00Z'), notAfter: new Date('2025-08-31T00:00:00Z') });
const owner = hook({ timeoutSeconds: 45 });
const renewal = run(owner, 'renewed', secret('edge-tls', facts), '2025-06-02T00:00:01.000Z');
const cert = renewal.spec.certificate!;
const OPTIONS = { defaultImage: 'alpine:3.22', ttlSecondsAfterFinished: 3600 };

const RUN_OWNER = { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', name: renewal.metadata.name, uid: renewal.metadata.uid, controller: true, blockOwnerDeletion: true };
const RUN_LABELS = { 'certhook.io/hook': 'reload-edge', 'certhook.io/secret': 'edge-tls', 'certhook.io/event': 'renewed', 'certhook.io/run': renewal.metadata.name };

interface Container {
  name: string;
  image: string;
  command: string[];
  args: string[];
  resources?: unknown;
  env: { name: string; value?: string; valueFrom?: unknown }[];
  volumeMounts: unknown[];
  securityContext: Record<string, unknown>;
}
interface JobSpec {
  backoffLimit: number;
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
  template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec & Record<string, unknown> & { containers: Container[] } };
}

const jobOf = (h: DeployHook, r: DeployHookRun = renewal, hasKey = true) => hookJob(r, h, h.spec.job!, r.spec.certificate!, { name: snapshotName(r), hasKey }, OPTIONS);
const specOf = (h: DeployHook, r?: DeployHookRun, hasKey?: boolean) => jobOf(h, r, hasKey).spec as JobSpec;
const podOf = (h: DeployHook) => specOf(h).template.spec;
const containerOf = (h: DeployHook) => podOf(h).containers[0]!;
const envNames = (env: { name: string }[]) => env.map((e) => e.name);

describe('hookJob', () => {
  test('a Job named after the run, owned by it, labelled with hook, Secret, event and run', () => {
    const job = jobOf(owner);
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(job.kind, 'Job');
    assert.deepEqual(job.metadata, { name: renewal.metadata.name, namespace: NAMESPACE, labels: RUN_LABELS, ownerReferences: [RUN_OWNER] });
    assert.deepEqual(specOf(owner).template.metadata.labels, RUN_LABELS);
  });

  test('one attempt, stopped at timeoutSeconds in the container, the Job deadline 10s later as a backstop, kept for the TTL', () => {
    const spec = specOf(owner);
    assert.equal(spec.backoffLimit, 0);
    assert.equal(DEADLINE_MARGIN_SECONDS, 10);
    assert.equal(spec.activeDeadlineSeconds, 45 + 10);
    assert.equal(spec.ttlSecondsAfterFinished, 3600);
    assert.equal(spec.template.spec.restartPolicy, 'Never');
    assert.equal(specOf(hook({ timeoutSeconds: 7 })).activeDeadlineSeconds, 17);
    assert.match(containerOf(owner).command[2]!, /sleep 45 &&/);
    assert.match(containerOf(hook({ timeoutSeconds: 7 })).command[2]!, /sleep 7 &&/);
  });

  test('runs the wrapper with sh -c and the command as its argument, in the hook image or the default one', () => {
    const command = 'nginx -s reload && echo "done $CERTMATE_DOMAIN"';
    const container = containerOf(hook({ job: { command } }));
    assert.deepEqual(container.command, ['sh', '-c', escapeExpansion(watchdogScript(30)), 'certhook']);
    assert.deepEqual(container.args, [escapeExpansion(command)]);
    assert.equal(containerOf(owner).image, 'alpine:3.22');
    assert.equal(containerOf(hook({ job: { command, image: 'registry.k8s.io/kubectl:v1.34.0' } })).image, 'registry.k8s.io/kubectl:v1.34.0');
  });

  test('the shell gets the command exactly as written: the kubelet\'s $(VAR) expansion and $$ escape undo the escaping', () => {
    const command = 'echo $$ $(CERTMATE_DOMAIN) $$(CERTMATE_DOMAIN) $(date +%Y) `hostname` ${CERTMATE_DOMAIN} \'$(X)\' $ $$$ $(';
    const container = containerOf(hook({ job: { command } }));
    // Every variable of the container is defined, as the kubelet would expand them.
    const vars = new Map([...container.env.map((e) => [e.name, e.value ?? 'from-a-secret'] as [string, string]), ['X', 'x'], ['date +%Y', 'no']]);
    const argv = [...container.command, ...container.args].map((a) => expandReferences(a, vars));
    assert.deepEqual(argv, ['sh', '-c', watchdogScript(30), 'certhook', command]);
    // Without the escaping the kubelet would have changed it.
    assert.notEqual(expandReferences(command, vars), command);
  });

  test('the certificate snapshot is mounted read-only at the certificate directory', () => {
    const pod = podOf(owner);
    assert.deepEqual(pod.containers[0]!.volumeMounts, [{ name: 'certificate', mountPath: CERTIFICATE_DIR, readOnly: true }]);
    assert.deepEqual(pod.volumes, [{ name: 'certificate', secret: { secretName: snapshotName(renewal), defaultMode: 0o440 } }]);
    assert.equal(CERTIFICATE_DIR, '/var/run/certhook/certificate');
  });

  test('the pod passes the restricted Pod Security profile', () => {
    const pod = podOf(owner);
    assert.deepEqual(restrictedViolations(pod), []);
    const sc = pod.containers[0]!.securityContext;
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.runAsNonRoot, true);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
    assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(pod.securityContext!.runAsNonRoot, true);
    assert.notEqual(pod.securityContext!.runAsUser, 0);
    assert.deepEqual(pod.securityContext!.seccompProfile, { type: 'RuntimeDefault' });
  });

  test('no service account token unless the hook names a service account', () => {
    const without = podOf(owner);
    assert.equal(without.automountServiceAccountToken, false);
    assert.equal('serviceAccountName' in without, false);
    const withAccount = podOf(hook({ job: { command: 'true', serviceAccountName: 'edge-restarter' } }));
    assert.equal(withAccount.serviceAccountName, 'edge-restarter');
    assert.equal(withAccount.automountServiceAccountToken, true);
  });

  test("the user's env comes after the CERTMATE_* variables, as written", () => {
    const env = [
      { name: 'RELOAD_TARGET', value: 'edge' },
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'edge-token', key: 'token' } } },
      { name: 'REGION', valueFrom: { configMapKeyRef: { name: 'edge-config', key: 'region', optional: true } } },
    ];
    const container = containerOf(hook({ job: { command: 'true', env } }));
    const certmate = certmateEnv(renewal, owner, cert, true);
    assert.deepEqual(container.env, [...certmate, ...env]);
    assert.ok(certmate.length > 0 && certmate.every((e) => e.name.startsWith('CERTMATE_')));
  });

  test('without the key no CERTMATE_KEY_PATH is set', () => {
    assert.ok(!envNames(specOf(owner, renewal, false).template.spec.containers[0]!.env).includes('CERTMATE_KEY_PATH'));
    assert.ok(envNames(specOf(owner, renewal, true).template.spec.containers[0]!.env).includes('CERTMATE_KEY_PATH'));
  });

  const tuned = hook({
    job: {
      command: 'true',
      resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: 1, memory: '64Mi', 'ephemeral-storage': '1Gi' } },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'hooks', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }] } } },
      podLabels: { team: 'edge', 'sidecar.istio.io/inject': 'false' },
      podAnnotations: { 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' },
      imagePullSecrets: [{ name: 'registry-creds' }],
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 3000,
        fsGroup: 2000,
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
        seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hook.json' },
        appArmorProfile: { type: 'RuntimeDefault' },
      },
    },
  });

  test('the pod settings a hook tunes are in the pod template', () => {
    const spec = specOf(tuned).template.spec;
    const container = spec.containers[0]!;
    assert.deepEqual(container.resources, { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: 1, memory: '64Mi', 'ephemeral-storage': '1Gi' } });
    assert.deepEqual(spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.deepEqual(spec.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'hooks', effect: 'NoSchedule' }]);
    assert.deepEqual(spec.affinity, tuned.spec.job!.affinity);
    assert.notEqual(spec.affinity, tuned.spec.job!.affinity, 'a copy, not the hook\'s own object');
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'registry-creds' }]);
    assert.deepEqual(specOf(tuned).template.metadata.labels, { team: 'edge', 'sidecar.istio.io/inject': 'false', ...RUN_LABELS });
    assert.deepEqual(specOf(tuned).template.metadata.annotations, { 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' });
    assert.deepEqual(jobOf(tuned).metadata.labels, RUN_LABELS, 'podLabels go on the pod only');
    assert.deepEqual(spec.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hook.json' } });
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hook.json' },
      appArmorProfile: { type: 'RuntimeDefault' },
    });
  });

  test('a tuned pod still passes the restricted Pod Security profile', () => {
    assert.deepEqual(restrictedViolations(specOf(tuned).template.spec), []);
  });

  test('an untuned pod has none of the tunable settings', () => {
    const spec = podOf(owner);
    for (const field of ['nodeSelector', 'tolerations', 'affinity', 'imagePullSecrets']) assert.equal(field in spec, false, field);
    assert.equal('resources' in spec.containers[0]!, false);
    assert.equal('annotations' in specOf(owner).template.metadata, false);
  });

  test("certhook's own labels win over podLabels", () => {
    // The CRD refuses such podLabels; a hook written past an older CRD still cannot move its pod out of its run.
    const sneaky = hook({ job: { command: 'true', podLabels: { 'certhook.io/run': 'other', extra: 'x' } } });
    assert.deepEqual(specOf(sneaky).template.metadata.labels, { extra: 'x', ...RUN_LABELS });
  });

  test('labels of a Secret name too long for a label value are shortened', () => {
    const longName = 's'.repeat(80);
    const r = run(owner, 'created', secret(longName, facts), '2025-06-02T00:00:01.000Z');
    assert.equal(jobOf(owner, r).metadata.labels!['certhook.io/secret'], 's'.repeat(63));
  });
});

describe('certmateEnv', () => {
  test('the CertMate contract and what a script wants next', () => {
    assert.deepEqual(certmateEnv(renewal, owner, cert, true), [
      { name: 'CERTMATE_DOMAIN', value: 'api.example.com' },
      { name: 'CERTMATE_DOMAINS', value: 'api.example.com,www.example.com' },
      { name: 'CERTMATE_CERT_PATH', value: '/var/run/certhook/certificate/cert.pem' },
      { name: 'CERTMATE_CHAIN_PATH', value: '/var/run/certhook/certificate/chain.pem' },
      { name: 'CERTMATE_FULLCHAIN_PATH', value: '/var/run/certhook/certificate/fullchain.pem' },
      { name: 'CERTMATE_KEY_PATH', value: '/var/run/certhook/certificate/privkey.pem' },
      { name: 'CERTMATE_EVENT', value: 'renewed' },
      { name: 'CERTMATE_FINGERPRINT', value: facts.fingerprint },
      { name: 'CERTMATE_SERIAL', value: facts.serial },
      { name: 'CERTMATE_NOT_BEFORE', value: '2025-06-02T00:00:00Z' },
      { name: 'CERTMATE_NOT_AFTER', value: '2025-08-31T00:00:00Z' },
      { name: 'CERTMATE_ISSUER', value: 'certhook unit CA Intermediate CA' },
      { name: 'CERTMATE_SECRET_NAME', value: 'edge-tls' },
      { name: 'CERTMATE_SECRET_NAMESPACE', value: NAMESPACE },
      { name: 'CERTMATE_HOOK_NAME', value: 'reload-edge' },
      { name: 'CERTMATE_RUN_NAME', value: renewal.metadata.name },
      { name: 'CERTMATE_TRIGGERED_BY', value: 'certhook' },
    ]);
  });

  test('CERTMATE_DRY_RUN=1 only for a dry-run hook', () => {
    const dry = certmateEnv(renewal, hook({ dryRun: true }), cert, true);
    assert.deepEqual(dry.filter((e) => e.name === 'CERTMATE_DRY_RUN'), [{ name: 'CERTMATE_DRY_RUN', value: '1' }]);
    assert.ok(!envNames(certmateEnv(renewal, hook({ dryRun: false }), cert, true)).includes('CERTMATE_DRY_RUN'));
  });

  test('no CERTMATE_KEY_PATH without a key', () => {
    const names = envNames(certmateEnv(renewal, owner, cert, false));
    assert.ok(!names.includes('CERTMATE_KEY_PATH'));
    assert.ok(names.includes('CERTMATE_CERT_PATH'));
  });

  test('a manual run: its event and who triggered it', () => {
    const manual = run(owner, 'manual', secret('edge-tls', facts), '2025-06-02T00:00:01.000Z');
    const env = Object.fromEntries(certmateEnv(manual, owner, cert, true).map((e) => [e.name, e.value]));
    assert.equal(env.CERTMATE_EVENT, 'manual');
    assert.equal(env.CERTMATE_TRIGGERED_BY, 'alice');
    assert.equal(env.CERTMATE_RUN_NAME, manual.metadata.name);
  });

  test('variables with no value are left out, not set empty', () => {
    const names = envNames(certmateEnv(renewal, owner, { fingerprint: facts.fingerprint }, true));
    assert.ok(!names.includes('CERTMATE_DOMAIN') && !names.includes('CERTMATE_DOMAINS') && !names.includes('CERTMATE_SERIAL'));
    assert.ok(names.includes('CERTMATE_FINGERPRINT'));
  });
});

describe('snapshotName', () => {
  const other = hook({}, { name: 'notify', uid: 'hook-uid-2' });
  const revoke = run(owner, 'revoked', secret('edge-tls', facts), '2025-06-03T00:00:00.000Z');
  const withAnnotation = (r: DeployHookRun, key: string, value: string): DeployHookRun => ({ ...r, metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, [key]: value } } });

  test('one per certificate of one Secret: every hook\'s run, and its revoke, share it', () => {
    assert.match(snapshotName(renewal), /^edge-tls-certificate-[0-9a-f]{16}$/);
    assert.equal(snapshotName(run(other, 'renewed', secret('edge-tls', facts), '2025-06-02T00:00:01.000Z')), snapshotName(renewal));
    assert.equal(snapshotName(revoke), snapshotName(renewal));
  });

  test('another certificate, or a Secret re-created under the name (another uid), has its own', () => {
    const newer = run(owner, 'renewed', secret('edge-tls', certificate(['api.example.com'])), '2025-06-04T00:00:00.000Z');
    assert.notEqual(snapshotName(newer), snapshotName(renewal));
    assert.notEqual(snapshotName(withAnnotation(renewal, 'certhook.io/secret-uid', 'another-uid')), snapshotName(renewal));
  });

  test('a run made by hand has its own; a long Secret name is cut and still names a Secret', () => {
    const manual = run(owner, 'manual', secret('edge-tls', facts), '2025-06-02T00:00:01.000Z');
    assert.equal(snapshotName(manual), `${manual.metadata.name}-certificate`);
    const long = run(owner, 'created', secret(`${'a'.repeat(199)}.b-tls`, facts), '2025-06-02T00:00:01.000Z');
    const name = snapshotName(long);
    assert.ok(name.length <= 253);
    assert.match(name, /^a{199}-certificate-[0-9a-f]{16}$/, 'the cut ends in a letter, not a dot');
  });
});

describe('snapshotSecret', () => {
  const files: CertificateFiles = { cert: 'LEAF PEM\n', chain: 'CHAIN PEM\n', fullchain: 'LEAF PEM\nCHAIN PEM\n', key: 'KEY PEM\n' };
  const decoded = (data: unknown) => Object.fromEntries(Object.entries(data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

  test('an immutable Opaque Secret owned by the run (not controlled: other runs may own it too), with the four files', () => {
    const snapshot = snapshotSecret(renewal, files);
    assert.equal(snapshot.apiVersion, 'v1');
    assert.equal(snapshot.kind, 'Secret');
    assert.equal(snapshot.type, 'Opaque');
    assert.equal(snapshot.immutable, true);
    const { controller: _, ...owner } = RUN_OWNER;
    assert.deepEqual(snapshot.metadata, {
      name: snapshotName(renewal),
      namespace: NAMESPACE,
      labels: { 'certhook.io/secret': 'edge-tls' },
      annotations: { 'certhook.io/fingerprint': cert.fingerprint },
      ownerReferences: [owner],
    });
    assert.deepEqual(decoded(snapshot.data), { 'cert.pem': 'LEAF PEM\n', 'chain.pem': 'CHAIN PEM\n', 'fullchain.pem': 'LEAF PEM\nCHAIN PEM\n', 'privkey.pem': 'KEY PEM\n' });
  });

  test('no privkey.pem when the key is absent; an empty chain is still a file', () => {
    const snapshot = snapshotSecret(renewal, { ...files, chain: '', key: undefined });
    assert.deepEqual(decoded(snapshot.data), { 'cert.pem': 'LEAF PEM\n', 'chain.pem': '', 'fullchain.pem': 'LEAF PEM\nCHAIN PEM\n' });
  });

  test('reads back as the files it was written from, and says whether it holds the key', () => {
    assert.deepEqual(snapshotFiles(snapshotSecret(renewal, files)), files);
    const keyless = snapshotSecret(renewal, { ...files, key: undefined });
    assert.deepEqual(snapshotFiles(keyless), { ...files, key: undefined });
    assert.deepEqual(snapshotInfo(keyless), { name: snapshotName(renewal), hasKey: false });
    assert.equal(snapshotFiles({ ...keyless, data: {} }), undefined);
  });

  test('the snapshot is the one the Job mounts', () => {
    const volumes = podOf(owner).volumes as { secret: { secretName: string } }[];
    assert.equal(volumes[0]!.secret.secretName, snapshotSecret(renewal, files).metadata.name);
  });
});

describe('a certificate\'s names in the Job', () => {
  test('reach the container as written, through Kubernetes\' $(VAR) expansion of env values', () => {
    const odd = run(owner, 'created', secret('odd-tls', certificate(['a$$b.example.com', '$(echo pwned)'], { commonName: '$(CERTMATE_KEY_PATH)' })), '2025-06-02T00:00:01.000Z');
    const cn = run(owner, 'created', secret('cn-tls', certificate([], { commonName: '$(CERTMATE_KEY_PATH)' })), '2025-06-02T00:00:01.000Z');
    for (const r of [odd, cn]) {
      const container = (jobOf(owner, r).spec as JobSpec).template.spec.containers[0]!;
      // The kubelet expands each value against the variables defined before it.
      const vars = new Map<string, string>();
      for (const { name, value } of container.env as { name: string; value: string }[]) vars.set(name, expandReferences(value, vars));
      for (const { name, value } of certmateEnv(r, owner, r.spec.certificate!, true)) assert.equal(vars.get(name), value, name);
    }
    assert.equal(certmateEnv(cn, owner, cn.spec.certificate!, true).find((e) => e.name === 'CERTMATE_DOMAIN')?.value, '$(CERTMATE_KEY_PATH)');
  });
});
