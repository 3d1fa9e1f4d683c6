// `certhook run` gives a hook what its Job gets: for every job recipe in examples/, the same hook
// (its command swapped for one that records what it got) runs once as a Job in the sandbox and
// once on this machine, for the same certificate, and both record the same environment and files.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { Webhook } from 'standardwebhooks';
import type { DeployHook } from '../../src/api/deployhook.ts';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { finishedRuns, issue, RUNS, tlsSecret } from '../support/fixtures.ts';
import { startReceiver } from '../support/receiver.ts';
import { isolated } from '../support/netns.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'certhook.js');
const EXAMPLES = join(ROOT, 'examples');

const env = useOperatorSandbox('run');
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'certhook-run-test-'));
});

function certhook(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

type Doc = { kind: string; apiVersion: string; metadata: { name: string }; spec?: DeployHook['spec'] };

/** A command that writes the CERTMATE_* variables, the hook's own, and the four files to `out`. */
function recorder(out: string, ownVariables: string[]): string {
  const names = ['CERTMATE_[A-Z_]*', ...ownVariables].join('|');
  return [
    `mkdir -p ${out}`,
    `env | grep -E '^(${names})=' | sort > ${out}/env`,
    `for f in "$CERTMATE_CERT_PATH" "$CERTMATE_CHAIN_PATH" "$CERTMATE_FULLCHAIN_PATH" "$CERTMATE_KEY_PATH"; do cat "$f"; echo "-- $(basename "$f")"; done > ${out}/files`,
  ].join('; ');
}

/** The recorded environment with the certificate directory, which differs by design, left out. */
async function recorded(dir: string): Promise<{ env: string[]; files: string }> {
  const env = (await readFile(join(dir, 'env'), 'utf8')).trim().split('\n').map((line) => line.replace(/^(CERTMATE_\w+_PATH)=.*\/([^/]+)$/, '$1=<dir>/$2'));
  return { env, files: await readFile(join(dir, 'files'), 'utf8') };
}

const examples = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
const jobRecipes: string[] = [];
for (const file of examples) {
  const docs = loadAll(await readFile(join(EXAMPLES, file), 'utf8')) as Doc[];
  if (docs.some((d) => d.kind === 'DeployHook' && d.spec?.job)) jobRecipes.push(file);
}

describe('certhook run reproduces the contract a Job gets', () => {
  for (const file of jobRecipes) {
    test(`examples/${file}`, async () => {
      const ns = await env.namespace();
      const docs = loadAll(await readFile(join(EXAMPLES, file), 'utf8')) as Doc[];
      const hook = docs.find((d) => d.kind === 'DeployHook')!;
      const out = join(work, ns);
      hook.spec!.job!.command = recorder(join(out, 'current'), (hook.spec!.job!.env ?? []).map((e) => e.name));
      // Only the manual run below fires it, whatever the TLS Secret's names.
      hook.spec!.enabled = false;
      const served = docs.filter((d) => ['Secret', 'ConfigMap', 'ServiceAccount', 'DeployHook'].includes(d.kind));
      const manifest = join(work, `${ns}.yaml`);
      await writeFile(manifest, served.map((d) => dump(d)).join('---\n'));
      const applied = await env.sandbox.kubectl(['apply', '-n', ns, '-f', manifest]);
      assert.equal(applied.code, 0, applied.stderr);
      const secret = tlsSecret('site-tls', issue('site.example.com', 'www.site.example.com'));
      await env.core.createNamespacedSecret({ namespace: ns, body: secret as never });

      // The Job: a manual run named and attributed as certhook run names and attributes its own.
      const name = hook.metadata.name;
      await env.custom.createNamespacedCustomObject({ ...RUNS, namespace: ns, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: `${name}-manual-local` }, spec: { hookRef: { name }, secretRef: { name: 'site-tls' }, event: 'manual', triggeredBy: 'certhook run' } } });
      const [run] = await finishedRuns(env.custom, ns, 1);
      assert.equal(run!.status?.phase, 'Succeeded', run!.status?.output);
      await rename(join(out, 'current'), join(out, 'job'));

      // This machine: the same hook, the same Secret read from the cluster.
      const local = await certhook(['run', '-f', manifest, '--kubeconfig', env.sandbox.kubeconfigPath, '-n', ns, '--secret-name', 'site-tls']);
      assert.equal(local.code, 0, local.stderr);
      const [job, here] = await Promise.all([recorded(join(out, 'job')), recorded(join(out, 'current'))]);
      assert.deepEqual(here.env, job.env);
      assert.equal(here.files, job.files);
      assert.ok(job.env.includes('CERTMATE_DOMAIN=site.example.com'));
      assert.match(job.files, /-----BEGIN PRIVATE KEY-----[\s\S]*-- privkey\.pem\n$/);
    });
  }
});

describe('certhook run', () => {
  const hookFile = async (name: string, spec: object) => {
    const file = join(work, `${name}.yaml`);
    await writeFile(file, dump({ apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name }, spec }));
    return file;
  };
  const certificate = issue('edge.example.com');

  test('exits with the hook\'s code and prints its output; the timeout stops it with 124', async () => {
    const secret = join(work, 'edge-tls.yaml');
    await writeFile(secret, dump({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'edge-tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': certificate.fullchainPem, 'tls.key': certificate.keyPem } }));
    const failing = await certhook(['run', '-f', await hookFile('fails', { job: { command: 'echo "for $CERTMATE_DOMAIN ($CERTMATE_EVENT, dry run: ${CERTMATE_DRY_RUN:-0})"; exit 3' } }), '--secret', secret, '--event', 'renewed', '--dry-run']);
    assert.equal(failing.code, 3);
    assert.equal(failing.stdout, 'for edge.example.com (renewed, dry run: 1)\n');
    const slow = await certhook(['run', '-f', await hookFile('slow', { timeoutSeconds: 1, job: { command: 'echo started; sleep 30' } }), '--secret', secret]);
    assert.equal(slow.code, 124);
    assert.match(slow.stdout, /^started\n[\s\S]*certhook: timeout after 1s: the command was stopped\n$/);
  });

  test('a manifest is read as kubectl reads it: yes is true (YAML 1.1)', async () => {
    const file = join(work, 'yaml11.yaml');
    await writeFile(file, 'apiVersion: certhook.io/v1alpha1\nkind: DeployHook\nmetadata: {name: yaml11}\nspec:\n  dryRun: yes\n  job: {command: \'echo "dry run: $CERTMATE_DRY_RUN"\'}\n');
    const result = await certhook(['run', '-f', file, '--secret', join(work, 'edge-tls.yaml')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'dry run: 1\n');
  });

  test('--cert-dir takes CertMate\'s files or tls.crt and tls.key', async () => {
    const certmate = await mkdtemp(join(work, 'certmate-'));
    const leaf = certificate.fullchainPem.slice(0, certificate.fullchainPem.indexOf('-----END CERTIFICATE-----') + 26);
    await writeFile(join(certmate, 'cert.pem'), leaf);
    await writeFile(join(certmate, 'chain.pem'), certificate.fullchainPem.slice(leaf.length));
    await writeFile(join(certmate, 'privkey.pem'), certificate.keyPem);
    const kube = await mkdtemp(join(work, 'kube-'));
    await writeFile(join(kube, 'tls.crt'), certificate.fullchainPem);
    const show = await hookFile('show', { job: { command: 'cat "$CERTMATE_FULLCHAIN_PATH" | grep -c BEGIN; echo "key: ${CERTMATE_KEY_PATH:-none}"' } });
    const fromCertmate = await certhook(['run', '-f', show, '--cert-dir', certmate]);
    assert.equal(fromCertmate.code, 0, fromCertmate.stderr);
    assert.match(fromCertmate.stdout, /^2\nkey: \/.*\/privkey\.pem\n$/);
    const fromKube = await certhook(['run', '-f', show, '--cert-dir', kube]);
    assert.equal(fromKube.stdout, '2\nkey: none\n', 'no tls.key: no key file, as a Job of a revoked certificate without its key');
  });

  test('a webhook hook: the request printed with Secret values masked, and --send delivers it signed', async () => {
    const ns = await env.namespace();
    const signing = `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}`;
    await env.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'hook-secrets' }, stringData: { token: 'Bearer s3cret', signing } } });
    await env.core.createNamespacedSecret({ namespace: ns, body: tlsSecret('edge-tls', certificate) as never });
    const receiver = await startReceiver();
    try {
      const file = await hookFile('notify', {
        webhook: {
          url: `${receiver.url}/hook`,
          headers: [{ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'hook-secrets', key: 'token' } } }, { name: 'X-Team', value: 'edge' }],
          signing: { secretRef: { name: 'hook-secrets', key: 'signing' } },
          body: { text: 'renewed {{ .Domain }}', key: '{{ .PrivateKeyPEM }}' },
          includePrivateKey: true,
        },
      });
      const offline = await certhook(['run', '-f', file, '--secret-name', 'edge-tls', '--kubeconfig', env.sandbox.kubeconfigPath, '-n', ns]);
      assert.equal(offline.code, 0, offline.stderr);
      assert.match(offline.stdout, new RegExp(`^POST ${receiver.url}/hook\n`));
      assert.match(offline.stdout, /^authorization: \*\*\*\*$/m);
      assert.match(offline.stdout, /^x-team: edge$/m);
      assert.match(offline.stdout, /^webhook-signature: v1,/m);
      assert.match(offline.stdout, /"key":"\*\*\*\*"/);
      assert.doesNotMatch(offline.stdout, /s3cret|PRIVATE KEY/);
      assert.equal(receiver.posts.length, 0, 'printed, not sent');

      const sent = await certhook(['run', '-f', file, '--secret-name', 'edge-tls', '--kubeconfig', env.sandbox.kubeconfigPath, '-n', ns, '--send']);
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, /answered 200 in /);
      assert.equal(receiver.posts.length, 1);
      const [request] = receiver.posts;
      assert.equal(request!.headers.authorization, 'Bearer s3cret');
      const body = new Webhook(signing).verify(request!.body, request!.headers as Record<string, string>) as { text: string; key: string };
      assert.equal(body.text, 'renewed edge.example.com');
      assert.equal(body.key, certificate.keyPem);
    } finally {
      await receiver.close();
    }
  });

  test('--send goes through the address guard: a metadata address is refused, and nothing is sent', async () => {
    // In a network namespace with only loopback: a broken guard could reach nothing off this machine.
    const file = await hookFile('guarded', { webhook: { url: 'https://169.254.169.254/latest/meta-data' } });
    const [unshare, args] = isolated([process.execPath, CLI, 'run', '-f', file, '--secret', join(work, 'edge-tls.yaml'), '--send', '--webhook-allow-cidr', '10.0.0.0/8']);
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(unshare, args, { timeout: 60_000 }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }));
    });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /no answer in [\d.]+s: network policy blocked: 169\.254\.169\.254 resolved to 169\.254\.169\.254 \(/);
  });

  test('what it cannot do is said in one line, exit 1; usage errors exit 2', async () => {
    const secret = join(work, 'edge-tls.yaml');
    const fromSecret = await hookFile('from-secret', { job: { command: 'true', env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }] } });
    const noCluster = await certhook(['run', '-f', fromSecret, '--secret', secret]);
    assert.equal(noCluster.code, 1);
    assert.equal(noCluster.stderr, 'certhook run: env TOKEN comes from Secret "creds" key "token": pass --kubeconfig to read it from the cluster\n');
    const invalid = await certhook(['run', '-f', await hookFile('bad', { webhook: { url: 'https://x.example/h', body: { '{{ .domain }}': 1 } } }), '--secret', secret]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /DeployHook "bad" is invalid, as the operator would find it:\n {2}spec\.webhook\.body/);
    const none = await certhook(['run', '-f', fromSecret]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /exactly one of --secret FILE, --cert-dir DIR or --secret-name NAME/);
  });
});
