// How runs end: timeouts, exit codes, superseded versions, invalid hooks, unreadable
// certificates and manual runs — each through the sandbox with the hook really running.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { b64, createHook, createTlsSecret, finishedRuns, HOOKS, issue, listRuns, outputDir, RUNS } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { restrictedViolations, type PodSpec } from '../helm/pod-security.ts';

const env = useOperatorSandbox('o');
const namespace = () => env.namespace();

describe('outcomes', () => {
  test('a hook that outlives timeoutSeconds fails as TimedOut, and its process is stopped', async () => {
    const ns = await namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'slow', { timeoutSeconds: 1, job: { command: `echo "reloading edge"; sleep 30; touch ${out}/finished`, env: [] } });
    await createTlsSecret(env.core, ns, 'slow', issue('slow.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Failed');
    assert.equal(run!.status?.reason, 'TimedOut');
    assert.equal(run!.status?.message, 'timeout after 1s');
    await assert.rejects(readFile(join(out, 'finished')), 'the hook was killed, not left running');
    // Stopped inside its container, not with its pod: the output is kept, on the run and in the pod's log.
    assert.equal(run!.status?.exitCode, 124);
    assert.match(run!.status?.output ?? '', /^reloading edge\n(.*\n)?certhook: timeout after 1s: the command was stopped\n$/s);
    const pods = await env.core.listNamespacedPod({ namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${run!.status?.job?.name}` });
    assert.equal(pods.items.length, 1);
    assert.match(await env.core.readNamespacedPodLog({ namespace: ns, name: pods.items[0]!.metadata!.name! }), /reloading edge/);
  });

  test('the shell gets the command exactly as written: no $(VAR) expansion, $$ and backticks intact', async () => {
    const ns = await namespace();
    const command = [
      'echo "pid=$$"',
      // A command substitution of a command named CERTMATE_DOMAIN, not Kubernetes' variable reference.
      'echo "sub=$(CERTMATE_DOMAIN)"',
      'echo "year=$(date +%Y)"',
      'echo "tick=`echo back`"',
      'echo "var=${CERTMATE_DOMAIN} $CERTMATE_EVENT"',
      "echo 'literal=$(CERTMATE_DOMAIN) $$'",
    ].join('; ');
    await createHook(env.custom, ns, 'verbatim', { job: { command } });
    await createTlsSecret(env.core, ns, 'verbatim', issue('verbatim.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Succeeded', run!.status?.output);
    const output = run!.status?.output ?? '';
    assert.match(output, /^pid=\d+$/m, 'the shell expanded $$ to its PID');
    assert.match(output, /CERTMATE_DOMAIN: not found/, 'sh ran $(CERTMATE_DOMAIN) as a command');
    assert.match(output, /^sub=$/m);
    assert.match(output, new RegExp(`^year=${new Date().getUTCFullYear()}|^year=${new Date().getFullYear()}`, 'm'));
    assert.match(output, /^tick=back$/m);
    assert.match(output, /^var=verbatim\.example\.com created$/m);
    assert.match(output, /^literal=\$\(CERTMATE_DOMAIN\) \$\$$/m);
  });

  test('a non-zero exit fails as ExitCode with the code and the tail of stderr', async () => {
    const ns = await namespace();
    await createHook(env.custom, ns, 'broken', { job: { command: 'echo starting; echo "nginx: configuration file test failed" >&2; exit 3' } });
    await createTlsSecret(env.core, ns, 'broken', issue('broken.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Failed');
    assert.equal(run!.status?.reason, 'ExitCode');
    assert.equal(run!.status?.exitCode, 3);
    assert.match(run!.status?.output ?? '', /starting\n.*configuration file test failed/s);
    await eventually(async () => {
      const hook = (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'broken' })) as any;
      assert.equal(hook.status.totals.failed, 1);
      assert.equal(hook.status.lastRun.reason, 'ExitCode');
    });
    const events = await env.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=broken,reason=RunFailed' });
    assert.equal(events.items[0]?.type, 'Warning');
  });

  test('the output tail is at most 4 KiB', async () => {
    const ns = await namespace();
    await createHook(env.custom, ns, 'chatty', { job: { command: 'i=0; while [ $i -lt 2000 ]; do echo "line $i of a long output"; i=$((i+1)); done' } });
    await createTlsSecret(env.core, ns, 'chatty', issue('chatty.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    const output = run!.status?.output ?? '';
    assert.ok(output.length <= 4096 && output.length > 3000, `output is ${output.length} characters`);
    assert.match(output, /line 1999 of a long output\n$/);
  });

  test('a certificate replaced three times in quick succession: each run succeeds for its own version or is Superseded', async () => {
    const ns = await namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'versions', {
      job: { command: `cp "$CERTMATE_CERT_PATH" "${out}/$CERTMATE_RUN_NAME.pem"; echo "$CERTMATE_FINGERPRINT" > "${out}/$CERTMATE_RUN_NAME.fp"; sleep 0.2` },
    });
    await createTlsSecret(env.core, ns, 'busy', issue('busy.example.com'));
    for (let i = 0; i < 3; i++) {
      const current = await env.core.readNamespacedSecret({ name: 'busy', namespace: ns });
      const next = issue('busy.example.com');
      current.data = { 'tls.crt': b64(next.fullchainPem), 'tls.key': b64(next.keyPem) };
      await env.core.replaceNamespacedSecret({ name: 'busy', namespace: ns, body: current });
    }
    const runs = await finishedRuns(env.custom, ns, 4);
    const latest = new X509Certificate(Buffer.from((await env.core.readNamespacedSecret({ name: 'busy', namespace: ns })).data!['tls.crt']!, 'base64').toString()).fingerprint256.replaceAll(':', '').toLowerCase();
    for (const run of runs) {
      const phase = run.status?.phase;
      assert.ok(phase === 'Succeeded' || (phase === 'Skipped' && run.status?.reason === 'Superseded'), `${run.metadata.name}: ${phase}/${run.status?.reason}`);
      if (phase !== 'Succeeded') continue;
      const pem = await readFile(join(out, `${run.metadata.name}.pem`), 'utf8');
      const got = new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
      assert.equal(got, run.spec.certificate!.fingerprint, 'the hook got the files of its own version');
      assert.equal((await readFile(join(out, `${run.metadata.name}.fp`), 'utf8')).trim(), got);
    }
    const final = runs.find((r) => r.spec.certificate!.fingerprint === latest);
    assert.equal(final?.status?.phase, 'Succeeded', 'the final version always runs');
  });
});

describe('tuned Jobs', () => {
  const tuning = {
    resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: 1, memory: '64Mi' } },
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'hooks', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }],
    affinity: {
      nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'node-role', operator: 'In', values: ['hooks'] }] } }] },
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: { matchLabels: { 'certhook.io/hook': 'tuned' } }, topologyKey: 'kubernetes.io/hostname' } }] },
    },
    podLabels: { team: 'edge' },
    podAnnotations: { 'sidecar.istio.io/inject': 'false' },
    imagePullSecrets: [{ name: 'registry-creds' }],
    securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, readOnlyRootFilesystem: true, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
  };

  test("a hook's pod settings are in its Job, which still passes the restricted Pod Security profile", async () => {
    const ns = await namespace();
    await createHook(env.custom, ns, 'tuned', { job: { command: 'echo tuned', ...tuning } });
    await createTlsSecret(env.core, ns, 'tuned', issue('tuned.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Succeeded', run!.status?.output);
    const job = env.sandbox.api.get(env.sandbox.api.type('batch', 'jobs'), ns, run!.status!.job!.name);
    const template = (job.spec as { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: PodSpec & Record<string, any> } }).template;
    assert.equal(template.metadata.labels.team, 'edge');
    assert.equal(template.metadata.labels['certhook.io/hook'], 'tuned');
    assert.deepEqual(template.metadata.annotations, { 'sidecar.istio.io/inject': 'false' });
    const { spec } = template;
    const container = spec.containers[0] as any;
    assert.deepEqual(container.resources, tuning.resources);
    assert.deepEqual(spec.nodeSelector, tuning.nodeSelector);
    assert.deepEqual(spec.tolerations, tuning.tolerations);
    assert.deepEqual(spec.affinity, tuning.affinity);
    assert.deepEqual(spec.imagePullSecrets, tuning.imagePullSecrets);
    assert.equal(spec.securityContext?.runAsUser, 1000);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(restrictedViolations(spec), []);
  });

  test('the API refuses pod settings outside the restricted profile, and reserved labels, with the reason', async () => {
    const ns = await namespace();
    const refused = async (job: Record<string, unknown>, message: RegExp) => {
      await assert.rejects(createHook(env.custom, ns, 'bad', { job: { command: 'true', ...job } }), (err: any) => {
        assert.match(String(err.body ?? err.message), message);
        return true;
      });
    };
    await refused({ securityContext: { privileged: true } }, /privileged: true is refused: the Pod Security restricted profile forbids privileged containers/);
    await refused({ securityContext: { allowPrivilegeEscalation: true } }, /allowPrivilegeEscalation: true is refused: the Pod Security restricted profile forbids privilege escalation/);
    await refused({ securityContext: { runAsNonRoot: false } }, /runAsNonRoot: false is refused: the Pod Security restricted profile requires a non-root user/);
    await refused({ securityContext: { runAsUser: 0 } }, /runAsUser 0 \(root\) is refused/);
    await refused({ securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }, /only NET_BIND_SERVICE may be added: the Pod Security restricted profile forbids every other capability/);
    await refused({ securityContext: { seccompProfile: { type: 'Unconfined' } } }, /seccomp type Unconfined is refused: the Pod Security restricted profile/);
    await refused({ podLabels: { 'certhook.io/run': 'other' } }, /podLabels cannot set certhook\.io\/\*/);
    await refused({ podLabels: { 'batch.kubernetes.io/job-name': 'other' } }, /podLabels cannot set/);
    await refused({ resources: { limits: { cpu: 'lots' } } }, /spec\.job\.resources\.limits\.cpu/);
    await refused({ tolerations: [{ operator: 'Exists', value: 'x' }] }, /operator Exists has no value/);
    assert.equal((await env.custom.listNamespacedCustomObject({ ...HOOKS, namespace: ns }) as { items: unknown[] }).items.length, 0);
  });
});

describe('bad input', () => {
  test('an invalid hook gets Ready=False with what to fix, and never runs', async () => {
    const ns = await namespace();
    // Written past the CRD (as an older or hand-edited CRD might let through); the operator checks the same rules.
    const hookType = env.sandbox.api.type('certhook.io', 'deployhooks');
    const saved = hookType.schema;
    hookType.schema = undefined;
    try {
      env.sandbox.api.create(hookType, ns, { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name: 'invalid' }, spec: { timeoutSeconds: 900, job: { command: 'true' } } });
    } finally {
      hookType.schema = saved;
    }
    await createTlsSecret(env.core, ns, 'ignored', issue('ignored.example.com'));
    await eventually(async () => {
      const hook = (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'invalid' })) as any;
      const ready = hook.status?.conditions?.[0];
      assert.equal(ready?.status, 'False');
      assert.equal(ready?.reason, 'Invalid');
      assert.match(ready?.message, /spec.timeoutSeconds: Invalid value: 900: spec.timeoutSeconds in body should be less than or equal to 300/);
    });
    await env.op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 0);
    assert.equal(env.op.logs.some((l) => l.msg === 'DeployHook is invalid and will not run'), true);
  });

  test('a TLS Secret with an unparsable certificate is reported as an Event and fires nothing', async () => {
    const ns = await namespace();
    await createHook(env.custom, ns, 'watcher', { job: { command: 'true' } });
    await env.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'garbage' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n'), 'tls.key': b64('key') } } });
    await eventually(async () => {
      const events = await env.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=garbage' });
      assert.equal(events.items[0]?.reason, 'CertificateUnparsable');
      assert.equal(events.items[0]?.type, 'Warning');
    });
    await env.op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 0);
    assert.ok(env.op.logs.some((l) => l.msg === 'TLS Secret holds no readable certificate; no hook fires for it' && l.secret === 'garbage'));
    assert.ok(!env.op.logs.some((l) => JSON.stringify(l).includes('BEGIN PRIVATE KEY')), 'no key material in the logs');
  });
});

describe('manual runs', () => {
  test('a DeployHookRun created by hand runs the hook, even when it is disabled, with the current certificate', async () => {
    const ns = await namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'manual', { enabled: false, job: { command: `echo "$CERTMATE_EVENT $CERTMATE_DOMAIN" > ${out}/manual.txt` } });
    await createTlsSecret(env.core, ns, 'by-hand', issue('by-hand.example.com'));
    await env.op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 0, 'disabled: no automatic run');
    await env.custom.createNamespacedCustomObject({ ...RUNS, namespace: ns, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'test-1' }, spec: { hookRef: { name: 'manual' }, secretRef: { name: 'by-hand' }, event: 'manual', triggeredBy: 'alice' } } });
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Succeeded');
    assert.equal(run!.status?.certificate?.domain, 'by-hand.example.com');
    assert.equal((await readFile(join(out, 'manual.txt'), 'utf8')).trim(), 'manual by-hand.example.com');
  });

  test('a manual run for a missing Secret fails with SecretNotFound', async () => {
    const ns = await namespace();
    await createHook(env.custom, ns, 'manual', { job: { command: 'true' } });
    await env.custom.createNamespacedCustomObject({ ...RUNS, namespace: ns, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'test-2' }, spec: { hookRef: { name: 'manual' }, secretRef: { name: 'nope' }, event: 'manual' } } });
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Failed');
    assert.equal(run!.status?.reason, 'SecretNotFound');
  });
});

describe('retries', () => {
  test('spec.job.retries: a failing first attempt is tried again; each attempt with its exit code and output on the run', async () => {
    const ns = await namespace();
    const out = await outputDir();
    // Fails twice, then succeeds: the attempt count lives in a file the attempts share.
    const command = `n=$(cat "${out}/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${out}/n"; echo "attempt $n"; [ $n -ge 3 ] || exit 7`;
    await createHook(env.custom, ns, 'flaky', { job: { command, retries: 3 } });
    await createTlsSecret(env.core, ns, 'flaky', issue('flaky.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1, 60_000);
    assert.equal(run!.status?.phase, 'Succeeded', run!.status?.message);
    assert.equal(run!.status?.message, 'the hook exited 0 (attempt 3 of 4)');
    const attempts = run!.status!.job!.attempts!;
    assert.deepEqual(attempts.map((a) => [a.attempt, a.exitCode, a.reason, a.output?.trim()]), [[1, 7, 'ExitCode', 'attempt 1'], [2, 7, 'ExitCode', 'attempt 2'], [3, 0, 'Completed', 'attempt 3']]);
    assert.equal(run!.status?.output?.trim(), 'attempt 3');
  });

  test('every attempt failing: the run fails with the last attempt\'s exit code; no retries means one pod', async () => {
    const ns = await namespace();
    await createHook(env.custom, ns, 'broken', { job: { command: 'echo nope; exit 4', retries: 1 } });
    await createHook(env.custom, ns, 'once', { job: { command: 'exit 5' } });
    await createTlsSecret(env.core, ns, 'broken', issue('broken.example.com'));
    const runs = Object.fromEntries((await finishedRuns(env.custom, ns, 2, 60_000)).map((r) => [r.spec.hookRef.name, r]));
    assert.equal(runs.broken!.status?.phase, 'Failed');
    assert.equal(runs.broken!.status?.reason, 'ExitCode');
    assert.equal(runs.broken!.status?.message, 'the hook exited with code 4 (attempt 2 of 2)');
    assert.deepEqual(runs.broken!.status!.job!.attempts!.map((a) => a.exitCode), [4, 4]);
    assert.equal(runs.once!.status?.job?.attempts, undefined);
    const pods = await env.core.listNamespacedPod({ namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${runs.once!.metadata.name}` });
    assert.equal(pods.items.length, 1);
  });
});

describe('pod settings the CRD cannot check', () => {
  test('annotations over the 256 KiB Kubernetes allows (counted in bytes) make the hook Ready=False with the field, and it never runs', async () => {
    const ns = await namespace();
    const podAnnotations = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`example.com/a${i}`, 'é'.repeat(4096)]));
    await createHook(env.custom, ns, 'labelled', { job: { command: 'true', podAnnotations } });
    await createTlsSecret(env.core, ns, 'labelled', issue('labelled.example.com'));
    await eventually(async () => {
      const hook = (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'labelled' })) as any;
      const ready = hook.status?.conditions?.find((c: any) => c.type === 'Ready');
      assert.equal(ready?.status, 'False');
      assert.match(ready.message, /^spec\.job\.podAnnotations: \d+ bytes, more than the 256 KiB Kubernetes allows$/);
    });
    await env.op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 0);
  });
});
