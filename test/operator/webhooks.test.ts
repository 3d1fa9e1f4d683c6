// Webhook hooks end to end: the operator against the sandbox, delivering to real loopback HTTP
// and HTTPS receivers — the payload, templates, signing verified by the standardwebhooks
// library, retries and their durable schedule, terminal answers, timeouts and concurrency.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, HOOKS, issue, listRuns, renewTlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const env = useSandboxForOperators('wh');
const SIGNING_SECRET = `whsec_${Buffer.from('certhook webhook test signing key!').toString('base64')}`;

const receivers: Receiver[] = [];
async function receiver(opts: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(opts);
  receivers.push(r);
  return r;
}
after(() => Promise.all(receivers.map((r) => r.close())));

async function createSecret(ns: string, name: string, data: Record<string, string>) {
  await env.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, stringData: data } });
}

const hookOf = async (ns: string, name: string) => (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name })) as any;
const sha256 = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

describe('webhook hooks', () => {
  test('the default payload, signed, verified by the standardwebhooks library; no private key unless asked', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver();
    await createSecret(ns, 'signing', { secret: SIGNING_SECRET });
    await createSecret(ns, 'token', { header: 'Bearer s3cr3t\n' });
    await createHook(env.custom, ns, 'deliver', {
      onEvents: ['created'],
      webhook: {
        url: `${r.url}/certs`,
        headers: [{ name: 'X-Team', value: 'edge' }, { name: 'Authorization', valueFrom: { secretKeyRef: { name: 'token', key: 'header' } } }],
        signing: { secretRef: { name: 'signing', key: 'secret' } },
      },
    });
    const cert = issue('api.example.com', 'www.example.com');
    await createTlsSecret(env.core, ns, 'api', cert);
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Succeeded', run!.status?.message);
    assert.equal(run!.status?.reason, 'Delivered');
    assert.equal(r.posts.length, 1);
    const post = r.posts[0]!;
    assert.equal(post.path, '/certs');
    assert.equal(post.headers['content-type'], 'application/json');
    assert.match(post.headers['user-agent']!, /^certhook\/\d+\.\d+\.\d+/);
    assert.equal(post.headers['x-team'], 'edge');
    assert.equal(post.headers.authorization, 'Bearer s3cr3t', 'the header came from the Secret, its trailing newline trimmed');
    assert.equal(post.headers['idempotency-key'], post.headers['webhook-id']);
    assert.equal(run!.status?.webhook?.id, post.headers['webhook-id']);
    // The receiver's side: the library verifies the exact bytes sent.
    const verified = new Webhook(SIGNING_SECRET).verify(post.body, post.headers as Record<string, string>);
    assert.deepEqual(verified, JSON.parse(post.body));
    assert.throws(() => new Webhook(`whsec_${Buffer.from('another key, not the one it signs!!').toString('base64')}`).verify(post.body, post.headers as Record<string, string>));

    const body = JSON.parse(post.body);
    assert.deepEqual(Object.keys(body), ['certificate_id', 'distribution_id', 'cert_fingerprint', 'issued_at', 'not_after', 'serial', 'issuer', 'domains', 'event', 'dry_run', 'secret', 'hook', 'triggered_by', 'cert_pem', 'chain_pem', 'fullchain_pem']);
    const x509 = new X509Certificate(cert.certPem);
    assert.equal(body.certificate_id, `${ns}/api`);
    assert.equal(body.distribution_id, run!.metadata.name);
    assert.equal(body.cert_fingerprint, sha256(cert.certPem));
    assert.equal(body.issued_at, new Date(x509.validFrom).toISOString().replace(/\.000Z$/, 'Z'));
    assert.equal(body.not_after, new Date(x509.validTo).toISOString().replace(/\.000Z$/, 'Z'));
    assert.equal(body.serial, x509.serialNumber, 'as CERTMATE_SERIAL has it');
    assert.deepEqual(body.domains, ['api.example.com', 'www.example.com']);
    assert.equal(body.event, 'created');
    assert.equal(body.dry_run, false);
    assert.deepEqual(body.secret, { namespace: ns, name: 'api' });
    assert.deepEqual(body.hook, { namespace: ns, name: 'deliver' });
    assert.equal(body.triggered_by, 'certhook');
    assert.equal(body.cert_pem.trim(), cert.certPem.trim());
    assert.equal(body.chain_pem.trim(), cert.chainPem.trim());
    assert.equal(body.fullchain_pem.trim(), cert.fullchainPem.trim());
    assert.ok(!post.body.includes('PRIVATE KEY'), 'no private key without includePrivateKey');

    await eventually(async () => {
      const hook = await hookOf(ns, 'deliver');
      assert.equal(hook.status.type, 'webhook');
      const reachable = hook.status.conditions.find((c: any) => c.type === 'Reachable');
      assert.equal(reachable?.status, 'True', JSON.stringify(hook.status.conditions));
    });
    assert.ok(r.probes.some((p) => p.method === 'OPTIONS' && p.path === '/certs'), 'the url was probed with OPTIONS');
  });

  test('includePrivateKey sends the key; a template renders typed leaves and interpolated text, over HTTPS with a caBundle', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver({ https: true });
    await createHook(env.custom, ns, 'with-key', { onEvents: ['created'], webhook: { url: `${r.url}/key`, includePrivateKey: true, caBundle: r.caBundle } });
    await createHook(env.custom, ns, 'gitlab', {
      onEvents: ['created'],
      webhook: {
        url: `${r.url}/gitlab`,
        caBundle: r.caBundle,
        body: { variable_type: 'env_var', key: 'TLS_FULLCHAIN', value: '{{ .FullChainPEM }}', protected: true, names: '{{ .Domains }}', note: 'renewed {{ .Domain }} ({{.Event}}) for {{ .CertificateID }}', dry: '{{ .DryRun }}' },
      },
    });
    const cert = issue('shop.example.com', 'cdn.example.com');
    await createTlsSecret(env.core, ns, 'shop', cert);
    const runs = await finishedRuns(env.custom, ns, 2);
    for (const run of runs) assert.equal(run.status?.phase, 'Succeeded', run.status?.message);
    const keyed = JSON.parse(r.posts.find((p) => p.path === '/key')!.body);
    assert.equal(keyed.private_key_pem.trim(), cert.keyPem.trim());
    const gitlab = JSON.parse(r.posts.find((p) => p.path === '/gitlab')!.body);
    assert.deepEqual(gitlab, {
      variable_type: 'env_var',
      key: 'TLS_FULLCHAIN',
      value: gitlab.value,
      protected: true,
      names: ['shop.example.com', 'cdn.example.com'],
      note: `renewed shop.example.com (created) for ${ns}/shop`,
      dry: false,
    });
    assert.equal(gitlab.value.trim(), cert.fullchainPem.trim(), 'the PEM arrives whole, newlines and all');
  });

  test('a template naming an unknown field or the key without includePrivateKey makes the hook Ready=False, and it never delivers', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver();
    await createHook(env.custom, ns, 'typo', { webhook: { url: `${r.url}/typo`, body: { value: '{{ .FullchainPEM }}' } } });
    await createHook(env.custom, ns, 'key', { webhook: { url: `${r.url}/key`, body: { items: ['x', { k: '{{ .PrivateKeyPEM }}' }] } } });
    await eventually(async () => {
      const typo = (await hookOf(ns, 'typo')).status?.conditions?.find((c: any) => c.type === 'Ready');
      assert.equal(typo?.status, 'False');
      assert.match(typo.message, /spec\.webhook\.body\.value: .*FullchainPEM/);
      const key = (await hookOf(ns, 'key')).status?.conditions?.find((c: any) => c.type === 'Ready');
      assert.equal(key?.status, 'False');
      assert.match(key.message, /spec\.webhook\.body\.items\[1\]\.k: .*includePrivateKey/);
    });
    await createTlsSecret(env.core, ns, 'x', issue('x.example.com'));
    // Time for the operator to (not) act on the Secret.
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(r.posts.length, 0);
    assert.equal((await listRuns(env.custom, ns)).length, 0);
  });

  test('500, 500, then 200: three attempts with one id, fresh timestamps, recorded on the run', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver({ script: (_req, n) => (n < 3 ? { status: 500, body: `broken ${n}` } : { status: 200, body: 'thanks' }) });
    await createHook(env.custom, ns, 'flaky', { onEvents: ['created'], webhook: { url: `${r.url}/flaky` } });
    await createTlsSecret(env.core, ns, 'flaky', issue('flaky.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1, 60_000);
    assert.equal(run!.status?.phase, 'Succeeded', run!.status?.message);
    assert.equal(r.posts.length, 3);
    assert.equal(new Set(r.posts.map((p) => p.headers['webhook-id'])).size, 1, 'one id for every attempt');
    const attempts = run!.status!.webhook!.attempts!;
    assert.deepEqual(attempts.map((a) => [a.attempt, a.statusCode, a.errorClass ?? null, a.responseBody]), [[1, 500, 'http_status', 'broken 1'], [2, 500, 'http_status', 'broken 2'], [3, 200, null, 'thanks']]);
    // Backoff: 2^1 s then 2^2 s, each within 20% jitter.
    assert.ok(r.posts[1]!.at - r.posts[0]!.at >= 1600, `first retry after ${r.posts[1]!.at - r.posts[0]!.at} ms`);
    assert.ok(r.posts[2]!.at - r.posts[1]!.at >= 3200, `second retry after ${r.posts[2]!.at - r.posts[1]!.at} ms`);
    assert.equal(run!.status?.nextAttemptTime, undefined, 'no retry is scheduled once the run finished');
    assert.equal(run!.status?.output, 'HTTP 200\nthanks');
  });

  test('a 400 is terminal after one request; a 302 is not followed and its target receives nothing; 410 marks the hook unreachable', async (t) => {
    const op = await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver({
      script: (req) => req.path === '/bad' ? { status: 400, body: 'no such variable' }
        : req.path === '/moved' ? { status: 302, headers: { location: '/elsewhere' } }
          : req.path === '/gone' ? { status: 410 }
            : { status: 200 },
    });
    for (const path of ['bad', 'moved', 'gone']) await createHook(env.custom, ns, path, { onEvents: ['created'], webhook: { url: `${r.url}/${path}`, includePrivateKey: path === 'bad' } });
    await createTlsSecret(env.core, ns, 'edge', issue('edge.example.com'));
    const runs = await finishedRuns(env.custom, ns, 3);
    const byHook = Object.fromEntries(runs.map((run) => [run.spec.hookRef.name, run]));
    assert.equal(byHook.bad!.status?.phase, 'Failed');
    assert.equal(byHook.bad!.status?.reason, 'HTTPStatus');
    assert.match(byHook.bad!.status!.message!, /HTTP 400/);
    assert.equal(byHook.moved!.status?.reason, 'HTTPStatus');
    assert.match(byHook.moved!.status!.message!, /redirects are not followed/);
    assert.equal(byHook.gone!.status?.reason, 'HTTPStatus');
    assert.deepEqual(r.posts.map((p) => p.path).sort(), ['/bad', '/gone', '/moved'], 'one request each, and nothing to /elsewhere');
    // The refused body is logged, as the seed does, with its size, and without the key it carried.
    assert.ok(r.posts.find((p) => p.path === '/bad')!.body.includes('PRIVATE KEY'));
    const refused = op.logs.find((l) => l.msg === 'the receiver refused the webhook body' && l.run === byHook.bad!.metadata.name);
    assert.ok(refused, 'the refusal is logged');
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.bodyBytes, Buffer.byteLength(r.posts.find((p) => p.path === '/bad')!.body));
    assert.match(String(refused.body), /"private_key_pem":"\[private key redacted\]/);
    assert.ok(!JSON.stringify(op.logs).includes('PRIVATE KEY-----'), 'no log line holds a key');
    await eventually(async () => {
      const reachable = (await hookOf(ns, 'gone')).status?.conditions?.find((c: any) => c.type === 'Reachable');
      assert.equal(reachable?.status, 'False');
      assert.equal(reachable?.reason, 'Gone');
    });
  });

  test('429 with Retry-After waits as long as the receiver asks', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver({ script: (_req, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 202 }) });
    await createHook(env.custom, ns, 'busy', { onEvents: ['created'], webhook: { url: `${r.url}/busy` } });
    await createTlsSecret(env.core, ns, 'busy', issue('busy.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Succeeded');
    assert.equal(r.posts.length, 2);
    // The backoff alone would retry after at most 2.4 s.
    assert.ok(r.posts[1]!.at - r.posts[0]!.at >= 3000, `retried after ${r.posts[1]!.at - r.posts[0]!.at} ms`);
  });

  test('a receiver slower than timeoutSeconds times out; after the last retry the run fails as io_transient', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver({ script: () => ({ status: 200, delayMs: 2500 }) });
    await createHook(env.custom, ns, 'slow', { onEvents: ['created'], timeoutSeconds: 1, webhook: { url: `${r.url}/slow`, retries: 1 } });
    await createTlsSecret(env.core, ns, 'slow', issue('slow.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Failed');
    assert.equal(run!.status?.reason, 'RetriesExhausted');
    assert.match(run!.status!.message!, /^io_transient: 2 attempts/);
    assert.deepEqual(run!.status!.webhook!.attempts!.map((a) => a.errorClass), ['timeout', 'timeout']);
    assert.equal(r.posts.length, 2);
  });

  test('concurrency: a hook never has more deliveries in flight than webhook.concurrency, nor the operator more than --webhook-concurrency', async (t) => {
    await env.operatorFor(t, { webhookConcurrency: 3 });
    const ns = await env.namespace();
    // Slow answers, so that deliveries overlap however slowly a loaded machine plans them.
    const capped = await receiver({ script: () => ({ status: 200, delayMs: 1000 }) });
    const wide = await receiver({ script: () => ({ status: 200, delayMs: 1000 }) });
    await createHook(env.custom, ns, 'capped', { onEvents: ['created'], webhook: { url: `${capped.url}/c`, concurrency: 2 } });
    await createHook(env.custom, ns, 'wide', { onEvents: ['created'], webhook: { url: `${wide.url}/w`, concurrency: 64 } });
    for (let i = 0; i < 8; i++) await createTlsSecret(env.core, ns, `s${i}`, issue(`s${i}.example.com`));
    const runs = await finishedRuns(env.custom, ns, 16);
    assert.ok(runs.every((run) => run.status?.phase === 'Succeeded'));
    assert.equal(capped.maxInFlight, 2);
    assert.ok(wide.maxInFlight <= 3 && wide.maxInFlight >= 2, `the operator-wide cap: ${wide.maxInFlight} in flight`);
  });

  test('an operator restarted mid-schedule resumes it: the same id, no attempt repeated, the next one when it was due', async (t) => {
    const first = await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver({ script: (_req, n) => (n === 1 ? { status: 503 } : { status: 200 }) });
    await createHook(env.custom, ns, 'resume', { onEvents: ['created'], webhook: { url: `${r.url}/resume` } });
    await createTlsSecret(env.core, ns, 'resume', issue('resume.example.com'));
    const scheduled = await eventually(async () => {
      const [run] = await listRuns(env.custom, ns);
      assert.ok(run?.status?.nextAttemptTime, 'a retry is scheduled');
      return run;
    });
    await first.stop();
    await env.operatorFor(t, {});
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.status?.phase, 'Succeeded');
    assert.equal(r.posts.length, 2, 'attempt 1 was not sent again');
    assert.equal(r.posts[0]!.headers['webhook-id'], r.posts[1]!.headers['webhook-id']);
    assert.ok(r.posts[1]!.at >= Date.parse(scheduled.status!.nextAttemptTime!), 'the retry waited for its time');
    assert.deepEqual(run!.status!.webhook!.attempts!.map((a) => a.statusCode), [503, 200]);
  });

  test('a renewal and a manual run deliver too; a dry-run hook says so in the payload', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await receiver();
    await createHook(env.custom, ns, 'renewals', { onEvents: ['renewed'], dryRun: true, webhook: { url: `${r.url}/renewed` } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const renewed = issue('site.example.com');
    await renewTlsSecret(env.core, ns, 'site', renewed);
    await finishedRuns(env.custom, ns, 1);
    await env.custom.createNamespacedCustomObject({ ...HOOKS, plural: 'deployhookruns', namespace: ns, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'by-hand' }, spec: { hookRef: { name: 'renewals' }, secretRef: { name: 'site' }, event: 'manual', triggeredBy: 'alice' } } });
    const runs: DeployHookRun[] = await finishedRuns(env.custom, ns, 2);
    assert.ok(runs.every((run) => run.status?.phase === 'Succeeded'), JSON.stringify(runs.map((run) => run.status)));
    const bodies = r.posts.map((p) => JSON.parse(p.body));
    assert.deepEqual(bodies.map((b) => [b.event, b.dry_run, b.cert_fingerprint]), [['renewed', true, sha256(renewed.certPem)], ['manual', true, sha256(renewed.certPem)]]);
    assert.equal(bodies[1].triggered_by, 'alice');
  });

  test('the API refuses credentials in plain text, a non-https url, and a hook with both job and webhook', async () => {
    const ns = await env.namespace();
    const refused = async (spec: Record<string, unknown>, message: RegExp) => {
      await assert.rejects(createHook(env.custom, ns, 'bad', spec), (err: any) => {
        assert.match(String(err.body ?? err.message), message);
        return true;
      });
    };
    await refused({ webhook: { url: 'https://user:pass@deploy.example.com/x' } }, /credentials never stand in the url/);
    await refused({ webhook: { url: 'https://deploy.example.com/x', headers: [{ name: 'Authorization', value: 'Bearer x' }] } }, /valueFrom\.secretKeyRef/);
    await refused({ webhook: { url: 'https://deploy.example.com/x', headers: [{ name: 'cookie', value: 'a=b' }] } }, /valueFrom\.secretKeyRef/);
    await refused({ webhook: { url: 'http://deploy.example.com/x' } }, /must be https/);
    await refused({ webhook: { url: 'https://deploy.example.com/x', headers: [{ name: 'Webhook-Signature', value: 'v1,x' }] } }, /certhook sets this header itself/);
    await refused({ job: { command: 'true' }, webhook: { url: 'https://deploy.example.com/x' } }, /exactly one of job or webhook/);
    await refused({ onEvents: ['created'] }, /exactly one of job or webhook/);
  });
});
