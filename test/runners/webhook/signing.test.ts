import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { parseSigningSecrets, signatureHeader, webhookId } from '../../../src/runners/webhook/signing.ts';

const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function keys(value: string): Buffer[] {
  const parsed = parseSigningSecrets(value);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problem);
  return parsed.keys;
}

const problem = (value: string) => {
  const parsed = parseSigningSecrets(value);
  assert.equal(parsed.ok, false);
  return parsed.ok ? '' : parsed.problem;
};

const secretOf = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('signatureHeader', () => {
  test('matches the Standard Webhooks test vector', () => {
    const header = signatureHeader(keys(SPEC_SECRET), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    assert.equal(header, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    assert.equal(signatureHeader(keys(SPEC_SECRET), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, Buffer.from('{"test": 2432232314}')), header);
  });

  test('signs with every key during a rotation, each accepted by a receiver holding only that key', () => {
    const [old, fresh] = [secretOf(32), secretOf(24)];
    const body = JSON.stringify({ cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', domain: 'ünïcode.example' });
    const id = webhookId('shop', 'gitlab-renewed-0123456789');
    const timestamp = Math.floor(Date.now() / 1000);
    const header = signatureHeader(keys(`${old}\n${fresh}\n`), id, timestamp, Buffer.from(body));
    assert.equal(header.split(' ').length, 2);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': header };
    for (const secret of [old, fresh]) assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(secretOf(32)).verify(body, headers));
    assert.throws(() => new Webhook(old).verify(`${body} `, headers));
  });
});

describe('parseSigningSecrets', () => {
  test('reads one or several whitespace-separated secrets, ignoring trailing newlines', () => {
    assert.equal(keys(`${SPEC_SECRET}\n`)[0]!.length, 24);
    assert.equal(keys(`${secretOf(64)}  ${SPEC_SECRET}\r\n`).length, 2);
  });

  test('refuses what is not a whsec_ secret of 24 to 64 bytes, without echoing it', () => {
    assert.equal(problem(' \n'), 'holds no signing secret: expected whsec_<base64>');
    assert.equal(problem('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), 'the signing secret does not start with whsec_: expected whsec_<base64>');
    assert.equal(problem('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!aSw'), 'the signing secret is not whsec_ followed by standard base64');
    assert.equal(problem(`${SPEC_SECRET} ${secretOf(16)}`), 'signing secret 2 of 2 decodes to 16 bytes: a signing secret must be 24 to 64 bytes');
    assert.equal(problem(secretOf(65)), 'the signing secret decodes to 65 bytes: a signing secret must be 24 to 64 bytes');
    assert.ok(!problem(`whsec_${'A'.repeat(31)}`).includes('AAAA'));
  });
});

describe('webhookId', () => {
  test('is the same for every attempt at a run and differs between runs', () => {
    const id = webhookId('shop', 'gitlab-renewed-0123456789');
    // Pinned: an operator upgrade must not change the id of a delivery it retries.
    assert.equal(id, 'msg_nlbEYXVD9Hen32rNrRecO99v');
    assert.equal(webhookId('shop', 'gitlab-renewed-0123456789'), id);
    assert.notEqual(webhookId('shop', 'gitlab-renewed-9876543210'), id);
    assert.notEqual(webhookId('shop2', 'gitlab-renewed-0123456789'), id);
  });
});
