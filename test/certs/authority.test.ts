import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthority, type IssueRequest } from '../../src/certs/authority.ts';

const DAY = 24 * 60 * 60 * 1000;

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

describe('createAuthority', () => {
  const authority = createAuthority({ name: 'test' });
  const root = new X509Certificate(authority.rootPem);
  const intermediate = new X509Certificate(authority.intermediatePem);
  const dir = mkdtempSync(join(tmpdir(), 'certhook-authority-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pemFile = (name: string, pem: string) => {
    const path = join(dir, name);
    writeFileSync(path, pem);
    return path;
  };

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

  test('validity is UTCTime from 1950 through 2049 and GeneralizedTime otherwise, to the second', () => {
    const validity = (notBefore: string, notAfter: string) =>
      new X509Certificate(authority.issue({ dnsNames: ['a.example.com'], notBefore: new Date(notBefore), notAfter: new Date(notAfter) }).certPem).raw;
    // RFC 5280 §4.1.2.5: tag 0x17 is UTCTime (YYMMDDHHMMSSZ), 0x18 GeneralizedTime (YYYYMMDDHHMMSSZ, no fraction).
    assert.ok(validity('2049-12-31T23:59:59.750Z', '2050-01-01T00:00:01.250Z').includes(Buffer.from('\x30\x20\x17\x0d491231235959Z\x18\x0f20500101000001Z', 'latin1')));
    assert.ok(validity('1949-12-31T23:59:59.500Z', '1950-01-01T00:00:00Z').includes(Buffer.from('\x30\x20\x18\x0f19491231235959Z\x17\x0d500101000000Z', 'latin1')));
  });

  test('every issue is a new certificate with a new key', () => {
    const a = authority.issue({ dnsNames: ['a.example.com'] });
    const b = authority.issue({ dnsNames: ['a.example.com'] });
    assert.notEqual(new X509Certificate(a.certPem).serialNumber, new X509Certificate(b.certPem).serialNumber);
    assert.notEqual(a.keyPem, b.keyPem);
  });

  test('serial numbers are 16-byte positive INTEGERs, minimally encoded', () => {
    for (let i = 0; i < 20; i++) {
      const file = pemFile('serial.pem', authority.issue({ dnsNames: ['a.example.com'] }).certPem);
      // The first depth-2 INTEGER is the serial (the version sits inside [0] at depth 3); openssl prints a negative one with a '-'.
      const [, length, value] = /d=2 +hl=2 l= *(\d+) prim: INTEGER +:(\S+)/.exec(openssl('asn1parse', '-in', file)) ?? [];
      assert.equal(length, '16');
      assert.match(value ?? '', /^[4-7][0-9A-F]{31}$/, 'no leading zero byte and no high bit');
    }
  });

  test('openssl verifies every kind of leaf strictly, as a TLS server certificate', () => {
    const rootFile = pemFile('root.pem', authority.rootPem);
    const intermediateFile = pemFile('intermediate.pem', authority.intermediatePem);
    const requests: Record<string, IssueRequest> = {
      named: { dnsNames: ['api.example.com', '*.example.com'], commonName: 'api.example.com' },
      'no-subject': { dnsNames: ['a.example.com'] },
      'no-san': { dnsNames: [], commonName: 'only.example.com' },
    };
    for (const [name, request] of Object.entries(requests)) {
      const leaf = pemFile(`${name}.pem`, authority.issue(request).certPem);
      const out = openssl('verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', rootFile, '-untrusted', intermediateFile, leaf);
      assert.equal(out, `${leaf}: OK\n`);
    }
  });

  test('extensions carry the RFC 5280 profile: criticality, key usage bits, key identifiers', () => {
    const text = (pem: string) => openssl('x509', '-noout', '-text', '-in', pemFile('text.pem', pem)).replace(/\s+/g, ' ');
    const rootText = text(authority.rootPem);
    assert.match(rootText, /Version: 3 \(0x2\)/);
    assert.match(rootText, /X509v3 Basic Constraints: critical CA:TRUE, pathlen:1 /);
    assert.match(rootText, /X509v3 Key Usage: critical Certificate Sign, CRL Sign /);
    assert.match(text(authority.intermediatePem), /X509v3 Basic Constraints: critical CA:TRUE, pathlen:0 /);

    const named = authority.issue({ dnsNames: ['api.example.com', '*.example.com'], commonName: 'api.example.com' }).certPem;
    const namedText = text(named);
    assert.match(namedText, /X509v3 Basic Constraints: critical CA:FALSE /);
    assert.match(namedText, /X509v3 Key Usage: critical Digital Signature /);
    assert.match(namedText, /X509v3 Extended Key Usage: TLS Web Server Authentication /);
    assert.match(namedText, /X509v3 Subject Alternative Name: DNS:api\.example\.com, DNS:\*\.example\.com /);
    const [, intermediateKeyId] = /X509v3 Subject Key Identifier: (\S+) /.exec(text(authority.intermediatePem)) ?? [];
    assert.match(namedText, new RegExp(`X509v3 Authority Key Identifier: ${intermediateKeyId} `));
    // RFC 5280 §4.2.1.6: with an empty subject the subjectAltName is critical.
    assert.match(text(authority.issue({ dnsNames: ['a.example.com'] }).certPem), /Subject: Subject Public Key Info: .*X509v3 Subject Alternative Name: critical DNS:a\.example\.com /);

    // KeyUsage is a named-bit BIT STRING: DER drops its trailing zero bits (X.690 §11.2.2), which the unused-bits octet counts.
    const keyUsage = (unusedBitsAndBits: string) => Buffer.from(`300e0603551d0f0101ff04040302${unusedBitsAndBits}`, 'hex');
    assert.ok(root.raw.includes(keyUsage('0106')), 'keyCertSign and cRLSign: bits 5 and 6, 1 unused bit');
    assert.ok(new X509Certificate(named).raw.includes(keyUsage('0780')), 'digitalSignature: bit 0, 7 unused bits');
  });

  test('a certificate needs a name', () => {
    assert.throws(() => authority.issue({ dnsNames: [] }), /DNS name or a common name/);
  });
});
