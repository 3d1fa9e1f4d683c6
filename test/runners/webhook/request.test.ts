import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import type { HookWebhook } from '../../../src/api/deployhook.ts';
import { createAuthority } from '../../../src/certs/authority.ts';
import { parseCertificateBundle } from '../../../src/certs/bundle.ts';
import { attemptHeaders, BODY_LIMIT, payloadFields, prepareRequest, renderBody, RequestProblem, type SecretKey } from '../../../src/runners/webhook/request.ts';
import { hook, run, secret } from '../../controller/objects.ts';
import { fields, KEY } from './fields.ts';

const SECRET = `whsec_${Buffer.from('a signing key of thirty-two bytes').subarray(0, 32).toString('base64')}`;
const webhook = (extra: Partial<HookWebhook> = {}): HookWebhook => ({ url: 'https://deploy.example.com/x', includePrivateKey: false, retries: 3, concurrency: 4, ...extra });
/** Secrets as a map of `name/key` → value. */
const reader = (values: Record<string, string>) => async (ref: SecretKey) => values[`${ref.name}/${ref.key}`];

describe('a delivery\'s body', () => {
  test('the default payload leaves the key out unless includePrivateKey', () => {
    assert.ok(!renderBody(webhook(), fields()).toString().includes('PRIVATE KEY'));
    assert.equal(JSON.parse(renderBody(webhook({ includePrivateKey: true }), fields()).toString()).private_key_pem, KEY);
  });

  test('a template is rendered as JSON', () => {
    const body = renderBody(webhook({ body: { key: 'TLS', value: '{{ .FullChainPEM }}', names: '{{ .Domains }}' } }), fields());
    assert.deepEqual(JSON.parse(body.toString()), { key: 'TLS', value: fields().FullChainPEM, names: fields().Domains });
  });

  test('a body over 256 KiB is not sent: a problem the run records, not retried', () => {
    const huge = fields({ FullChainPEM: 'x'.repeat(BODY_LIMIT) });
    assert.throws(() => renderBody(webhook({ body: { value: '{{ .FullChainPEM }}' } }), huge), (err: RequestProblem) => {
      assert.equal(err.errorClass, 'body_too_large');
      assert.match(err.message, /more than the 262144 a webhook may send/);
      return true;
    });
  });
});

describe('a delivery\'s headers', () => {
  test('literal and Secret values (trailing newline dropped), certhook\'s own, and a signature per key that verifies', async () => {
    const other = `whsec_${Buffer.from('another signing key, thirty-two!').toString('base64')}`;
    const hook = webhook({
      headers: [{ name: 'X-Team', value: 'edge' }, { name: 'Authorization', valueFrom: { secretKeyRef: { name: 'token', key: 'header' } } }],
      signing: { secretRef: { name: 'signing', key: 'secret' } },
    });
    const body = Buffer.from('{"test":1}');
    const now = Date.now();
    const prepared = await prepareRequest(hook, body, reader({ 'token/header': 'Bearer t0ken\n', 'signing/secret': `${SECRET} ${other}\n` }));
    const headers = attemptHeaders(prepared, 'msg_abc', now);
    assert.equal(headers['x-team'], 'edge');
    assert.equal(headers.authorization, 'Bearer t0ken');
    assert.equal(headers['content-type'], 'application/json');
    assert.match(headers['user-agent']!, /^certhook\/\d+\.\d+\.\d+$/);
    assert.equal(headers['webhook-id'], 'msg_abc');
    assert.equal(headers['idempotency-key'], 'msg_abc');
    assert.equal(headers['webhook-timestamp'], String(Math.floor(now / 1000)));
    assert.equal(headers['webhook-signature']!.split(' ').length, 2, 'one signature per key, during a rotation');
    for (const key of [SECRET, other]) assert.deepEqual(new Webhook(key).verify(body, headers), { test: 1 });
  });

  test('a missing Secret or key, or a bad signing secret, is a configuration problem naming what to fix', async () => {
    const missing = webhook({ headers: [{ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'token', key: 'header' } } }] });
    await assert.rejects(prepareRequest(missing, Buffer.from('{}'), reader({})), (err: RequestProblem) => {
      assert.equal(err.errorClass, 'configuration');
      assert.equal(err.message, 'header Authorization: Secret "token" or its key "header" does not exist');
      return true;
    });
    const signed = webhook({ signing: { secretRef: { name: 'signing', key: 'secret' } } });
    await assert.rejects(prepareRequest(signed, Buffer.from('{}'), reader({ 'signing/secret': 'not-a-whsec-secret' })), (err: RequestProblem) => {
      assert.equal(err.errorClass, 'configuration');
      assert.match(err.message, /^signing: Secret "signing" key "secret": /);
      assert.ok(!err.message.includes('not-a-whsec-secret'), 'the secret itself is never in a message');
      return true;
    });
  });
});

describe('a delivery\'s domains', () => {
  test('every DNS name of the certificate, also when its run lists only the first 100', () => {
    const names = Array.from({ length: 150 }, (_, i) => `host-${i}.example.com`);
    const issued = createAuthority().issue({ dnsNames: names });
    const bundle = parseCertificateBundle(issued.fullchainPem);
    assert.ok(bundle.ok);
    const owner = hook({ webhook: webhook() });
    const created = run(owner, 'created', secret('many-tls', bundle.facts), '2025-06-02T00:00:01.000Z');
    assert.equal(created.spec.certificate!.dnsNames!.length, 100);
    const files = { cert: issued.certPem, chain: issued.chainPem, fullchain: issued.fullchainPem, key: undefined };
    assert.deepEqual(payloadFields(created, owner, created.spec.certificate!, files).Domains, names);
  });
});
