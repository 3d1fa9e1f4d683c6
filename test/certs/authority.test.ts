import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { createAuthority } from '../../src/certs/authority.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('createAuthority', () => {
  const authority = createAuthority({ name: 'test' });
  const root = new X509Certificate(authority.rootPem);
  const intermediate = new X509Certificate(authority.intermediatePem);

  test('root and intermediate are CAs forming a chain', () => {
    assert.equal(root.ca, true);
    assert.equal(intermediate.ca, true);
    assert.ok(root.verify(root.publicKey));
    assert.ok(intermediate.verify(root.publicKey));
    assert.ok(intermediate.checkIssued(root));
    assert.equal(root.subject, 'O=certhook\nCN=test Root CA');
    assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  test('issues a leaf signed by the intermediate, with its names', () => {
    const issued = authority.issue({ dnsNames: ['api.example.com', '*.example.com'], commonName: 'api.example.com' });
    const leaf = new X509Certificate(issued.certPem);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.verify(intermediate.publicKey));
    assert.ok(leaf.checkIssued(intermediate));
    assert.equal(leaf.checkHost('api.example.com'), 'api.example.com');
    assert.equal(leaf.checkHost('www.example.com'), '*.example.com');
    assert.equal(leaf.checkHost('other.test'), undefined);
    assert.equal(issued.chainPem, authority.intermediatePem);
    assert.equal(issued.fullchainPem, issued.certPem + authority.intermediatePem);
  });

  test('the key is PKCS#8 and belongs to the leaf', () => {
    const issued = authority.issue({ dnsNames: ['a.example.com'] });
    assert.match(issued.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const publicKey = createPublicKey(createPrivateKey(issued.keyPem));
    assert.ok(publicKey.equals(new X509Certificate(issued.certPem).publicKey));
  });

  test('validity defaults to 90 days from a minute ago, and honours explicit dates', () => {
    const before = Date.now();
    const leaf = new X509Certificate(authority.issue({ dnsNames: ['a.example.com'] }).certPem);
    const start = leaf.validFromDate.getTime();
    assert.ok(start <= before && start >= before - 2 * 60_000, 'notBefore is about a minute ago');
    assert.equal(leaf.validToDate.getTime() - start, 90 * DAY);

    const notBefore = new Date('2049-12-31T23:59:59Z');
    const notAfter = new Date('2050-01-01T00:00:01Z'); // crosses the UTCTime / GeneralizedTime boundary
    const explicit = new X509Certificate(authority.issue({ dnsNames: ['a.example.com'], notBefore, notAfter }).certPem);
    assert.equal(explicit.validFromDate.toISOString(), notBefore.toISOString());
    assert.equal(explicit.validToDate.toISOString(), notAfter.toISOString());
  });

  test('every issue is a new certificate with a new key', () => {
    const a = authority.issue({ dnsNames: ['a.example.com'] });
    const b = authority.issue({ dnsNames: ['a.example.com'] });
    assert.notEqual(new X509Certificate(a.certPem).serialNumber, new X509Certificate(b.certPem).serialNumber);
    assert.notEqual(a.keyPem, b.keyPem);
  });

  test('a certificate needs a name', () => {
    assert.throws(() => authority.issue({ dnsNames: [] }), /DNS name or a common name/);
  });
});
