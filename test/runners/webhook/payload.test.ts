import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayload, FIELD_KINDS, TEMPLATE_FIELDS } from '../../../src/runners/webhook/payload.ts';
import { CHAIN, fields, KEY, LEAF } from './fields.ts';

describe('defaultPayload', () => {
  test('has the documented keys, in order, without the key unless asked for', () => {
    const body = defaultPayload(fields(), false);
    assert.deepEqual(body, {
      certificate_id: 'shop/api-tls',
      distribution_id: 'gitlab-renewed-0123456789',
      cert_fingerprint: 'ab'.repeat(32),
      issued_at: '2025-06-01T00:00:00Z',
      not_after: '2025-08-30T00:00:00Z',
      serial: '6f4fa2',
      issuer: 'CN=Example CA',
      domains: ['api.example.com', 'www.example.com'],
      event: 'renewed',
      dry_run: false,
      secret: { namespace: 'shop', name: 'api-tls' },
      hook: { namespace: 'shop', name: 'gitlab' },
      triggered_by: 'certhook',
      cert_pem: LEAF,
      chain_pem: CHAIN,
      fullchain_pem: LEAF + CHAIN,
    });
    assert.deepEqual(Object.keys(body), [
      'certificate_id', 'distribution_id', 'cert_fingerprint', 'issued_at', 'not_after', 'serial', 'issuer', 'domains',
      'event', 'dry_run', 'secret', 'hook', 'triggered_by', 'cert_pem', 'chain_pem', 'fullchain_pem',
    ]);
  });

  test('adds private_key_pem last when asked for and known', () => {
    const body = defaultPayload(fields(), true);
    assert.equal(body.private_key_pem, KEY);
    assert.equal(Object.keys(body).at(-1), 'private_key_pem');
    assert.equal('private_key_pem' in defaultPayload(fields({ PrivateKeyPEM: undefined }), true), false);
  });

  test('sends unknown times as null', () => {
    const body = defaultPayload(fields({ IssuedAt: '', NotAfter: '' }), false);
    assert.equal(body.issued_at, null);
    assert.equal(body.not_after, null);
  });

  test('survives JSON with the PEMs intact', () => {
    const sent = JSON.parse(JSON.stringify(defaultPayload(fields(), true))) as Record<string, unknown>;
    assert.equal(sent.fullchain_pem, LEAF + CHAIN);
    assert.equal(sent.private_key_pem, KEY);
  });
});

test('TEMPLATE_FIELDS names every payload field once', () => {
  assert.deepEqual([...TEMPLATE_FIELDS].sort(), Object.keys(fields()).sort());
  assert.equal(FIELD_KINDS.Domains, 'list');
  assert.equal(FIELD_KINDS.DryRun, 'boolean');
});
