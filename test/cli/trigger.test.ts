// `certhook trigger` as a user runs it: a real CLI process against the sandbox, with the operator
// running the hook it asks for.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { DeployHookRunObject } from '../../src/api/deployhookrun.ts';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { createClusterHook, createHook, createTlsSecret, issueFrom, RUNS } from '../support/fixtures.ts';
import { TEST_CLUSTER_HOOK_NAMESPACE } from '../support/operator.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'certhook.js');

const env = useOperatorSandbox('trigger');

function trigger(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'trigger', '--kubeconfig', env.sandbox.kubeconfigPath, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const getRun = async (ns: string, name: string) => (await env.custom.getNamespacedCustomObject({ ...RUNS, namespace: ns, name })) as DeployHookRunObject;
const runName = (stdout: string) => /deployhookrun\.certhook\.io\/(\S+) created/.exec(stdout)![1]!;

describe('certhook trigger', () => {
  test('--wait runs a disabled hook with the most recent certificate it selects and exits with its code', async () => {
    const ns = await env.namespace();
    await createHook(env.custom, ns, 'reload', {
      enabled: false,
      secretSelector: { matchLabels: { app: 'web' } },
      job: { command: 'echo "reloading for $CERTMATE_DOMAIN from $CERTMATE_SECRET_NAME"; exit 7' },
    });
    await createTlsSecret(env.core, ns, 'older', issueFrom(10, 'older.example.com'), { app: 'web' });
    await createTlsSecret(env.core, ns, 'newer', issueFrom(2, 'newer.example.com'), { app: 'web' });
    // The newest of all, but not one the hook selects.
    await createTlsSecret(env.core, ns, 'other', issueFrom(1, 'other.example.com'), { app: 'db' });

    const { code, stdout } = await trigger(['reload', '-n', ns, '--wait', '--as-name', 'alice']);
    assert.equal(code, 7, stdout);
    const name = runName(stdout);
    assert.match(stdout, new RegExp(`${name}: the operator chose Secret newer, the most recent certificate the hook selects\n`));
    assert.match(stdout, new RegExp(`${name}: Failed \\(ExitCode\\): the hook exited with code 7\n`));
    assert.match(stdout, /--- output \(tail\) ---\nreloading for newer\.example\.com from newer\n/);
    const run = await getRun(ns, name);
    assert.equal(run.spec.secretRef, undefined, 'the spec stays as written');
    assert.deepEqual(run.status?.secretRef, { name: 'newer' });
    assert.equal(run.spec.triggeredBy, 'alice');
    assert.equal(run.status?.certificate?.domain, 'newer.example.com');
  });

  test('--secret names the certificate; without --wait it says what it created, and who asked is the kubeconfig user', async () => {
    const ns = await env.namespace();
    await createHook(env.custom, ns, 'reload', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'older', issueFrom(10, 'older.example.com'));
    await createTlsSecret(env.core, ns, 'newer', issueFrom(2, 'newer.example.com'));
    const { code, stdout } = await trigger(['reload', '-n', ns, '--secret', 'older']);
    assert.equal(code, 0, stdout);
    const run = await getRun(ns, runName(stdout));
    assert.deepEqual(run.spec.secretRef, { name: 'older' });
    assert.equal(run.spec.triggeredBy, 'sandbox');
    assert.equal(run.spec.event, 'manual');
  });

  test('a hook that selects no certificate fails SecretNotFound, and --wait exits 1', async () => {
    const ns = await env.namespace();
    await createHook(env.custom, ns, 'reload', { domains: ['api.example.com'], job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'www', issueFrom(1, 'www.example.com'));
    const { code, stdout } = await trigger(['reload', '-n', ns, '--wait']);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /Failed \(SecretNotFound\): no TLS Secret that DeployHook "reload" selects in namespace trigger\d+ holds a certificate/);
  });

  test('--cluster runs a ClusterDeployHook where its runs live, with the most recent certificate of the namespaces it selects, or the NS/NAME --secret names', async () => {
    const [a, b] = [await env.namespace(), await env.namespace()];
    await env.sandbox.kubectl(['label', 'namespace', a, 'trigger-cluster=yes']);
    await createClusterHook(env.custom, 'platform-audit', { enabled: false, namespaceSelector: { matchLabels: { 'trigger-cluster': 'yes' } }, job: { command: 'echo "audit $CERTMATE_SECRET_NAMESPACE/$CERTMATE_SECRET_NAME"' } });
    await createTlsSecret(env.core, a, 'site', issueFrom(2, 'a.example.com'));
    // Newer, but in a namespace the hook does not select.
    await createTlsSecret(env.core, b, 'site', issueFrom(1, 'b.example.com'));
    const chosen = await trigger(['--cluster', 'platform-audit', '--wait']);
    assert.equal(chosen.code, 0, chosen.stdout + chosen.stderr);
    assert.match(chosen.stdout, new RegExp(`created in namespace ${TEST_CLUSTER_HOOK_NAMESPACE}\n`));
    assert.match(chosen.stdout, new RegExp(`the operator chose Secret ${a}/site, the most recent certificate the hook selects`));
    assert.match(chosen.stdout, new RegExp(`--- output \\(tail\\) ---\naudit ${a}/site\n`));
    const named = await trigger(['--cluster', 'platform-audit', '--secret', `${b}/site`, '--wait']);
    assert.equal(named.code, 0, named.stdout + named.stderr);
    assert.match(named.stdout, new RegExp(`audit ${b}/site\n`), 'a Secret named outright need not be selected: the trigger is a test');
    const run = await getRun(TEST_CLUSTER_HOOK_NAMESPACE, runName(named.stdout));
    assert.deepEqual(run.spec.hookRef, { kind: 'ClusterDeployHook', name: 'platform-audit' });
    assert.deepEqual(run.spec.secretRef, { namespace: b, name: 'site' });
    const wrongSecret = await trigger(['--cluster', 'platform-audit', '--secret', 'site']);
    assert.equal(wrongSecret.code, 2);
    assert.match(wrongSecret.stderr, /--secret with --cluster is NAMESPACE\/NAME \(got site\)/);
    const notCluster = await trigger(['platform-audit', '-n', a, '--secret', `${b}/site`]);
    assert.equal(notCluster.code, 2);
    assert.match(notCluster.stderr, /another namespace's Secret is for a ClusterDeployHook, with --cluster/);
    const missing = await trigger(['--cluster', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ClusterDeployHook "nope" not found/);
  });

  test('a missing hook, and usage errors, are said plainly', async () => {
    const ns = await env.namespace();
    const missing = await trigger(['nope', '-n', ns]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /DeployHook "nope" not found in namespace trigger\d+/);
    const none = await trigger([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name the DeployHook to run/);
    // trigger passes the sandbox's kubeconfig first; a later --kubeconfig wins, as the last flag does.
    const missingConfig = await trigger(['reload', '--kubeconfig', '/nonexistent/kubeconfig']);
    assert.equal(missingConfig.code, 1);
    assert.equal(missingConfig.stderr, "certhook trigger: cannot read the kubeconfig /nonexistent/kubeconfig: ENOENT: no such file or directory, open '/nonexistent/kubeconfig'\n");
    const timeout = await trigger(['x', '--timeout', '5']);
    assert.equal(timeout.code, 2);
    assert.match(timeout.stderr, /--timeout is for --wait/);
  });

  test('only a manual run may leave out secretRef', async () => {
    const ns = await env.namespace();
    const refused = await env.sandbox.kubectl(['create', '-n', ns, '-f', '-'], JSON.stringify({
      apiVersion: 'certhook.io/v1alpha1',
      kind: 'DeployHookRun',
      metadata: { name: 'r' },
      spec: { hookRef: { name: 'h' }, event: 'renewed', certificate: { fingerprint: 'a'.repeat(64) } },
    }));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /secretRef is required unless event is manual/);
  });
});
