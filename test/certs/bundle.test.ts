import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { createAuthority } from '../../src/certs/authority.ts';
import { parseCertificateBundle, splitCertificateChain } from '../../src/certs/bundle.ts';
import { PEM_TEXT_LIMIT } from '../../src/certs/pem.ts';

const authority = createAuthority();

function ok(pem: string | Buffer) {
  const bundle = parseCertificateBundle(pem);
  assert.ok(bundle.ok, `expected a parsed bundle, got ${JSON.stringify(bundle)}`);
  return bundle;
}

describe('parseCertificateBundle', () => {
  const notBefore = new Date('2025-03-01T10:20:30.456Z');
  const notAfter = new Date('2025-05-30T10:20:30Z');
  const issued = authority.issue({ dnsNames: ['api.example.com', '*.example.com'], commonName: 'api.example.com', notBefore, notAfter });

  test('facts of an issued certificate', () => {
    const { facts } = ok(issued.fullchainPem);
    const leaf = new X509Certificate(issued.certPem);
    assert.deepEqual(facts, {
      fingerprint: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
      serial: leaf.serialNumber,
      commonName: 'api.example.com',
      dnsNames: ['api.example.com', '*.example.com'],
      primaryName: 'api.example.com',
      notBefore: '2025-03-01T10:20:30Z',
      notAfter: '2025-05-30T10:20:30Z',
      issuer: 'certhook sandbox Intermediate CA',
      subject: 'O=certhook, CN=api.example.com',
    });
    assert.match(facts.fingerprint, /^[0-9a-f]{64}$/);
    assert.match(facts.serial, /^[0-9A-F]+$/);
  });

  test('the fingerprint is the SHA-256 of the leaf DER, not of the bundle', () => {
    const der = Buffer.from(issued.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    assert.equal(ok(issued.fullchainPem).facts.fingerprint, createHash('sha256').update(der).digest('hex'));
    assert.notEqual(ok(issued.chainPem).facts.fingerprint, ok(issued.certPem).facts.fingerprint);
  });

  test('splitCertificateChain splits leaf and chain, in order, with the leaf\'s fingerprint', () => {
    const text = issued.fullchainPem + authority.rootPem;
    assert.deepEqual(splitCertificateChain(text), {
      fingerprint: ok(text).facts.fingerprint,
      leafPem: issued.certPem,
      chainPem: authority.intermediatePem + authority.rootPem,
      fullchainPem: issued.fullchainPem + authority.rootPem,
    });
  });

  test('splitCertificateChain gives the same files without parsing, CRLF and surrounding text included', () => {
    const text = `# issued by the test CA\r\n${(issued.fullchainPem + authority.rootPem).replaceAll('\n', '\r\n')}trailing words\n`;
    assert.deepEqual(splitCertificateChain(text), splitCertificateChain(issued.fullchainPem + authority.rootPem));
    assert.equal(splitCertificateChain('no PEM here'), undefined);
    assert.equal(splitCertificateChain('-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n'), undefined);
  });

  test('a leaf alone has an empty chain', () => {
    const split = splitCertificateChain(issued.certPem)!;
    assert.equal(split.chainPem, '');
    assert.equal(split.fullchainPem, issued.certPem);
  });

  test('a CN-only certificate: no DNS names, the CN is the primary name', () => {
    const { facts } = ok(authority.issue({ dnsNames: [], commonName: 'legacy.example.com' }).fullchainPem);
    assert.deepEqual(facts.dnsNames, []);
    assert.equal(facts.commonName, 'legacy.example.com');
    assert.equal(facts.primaryName, 'legacy.example.com');
  });

  test('a SAN-only certificate: no CN, the first DNS name is the primary name', () => {
    const { facts } = ok(authority.issue({ dnsNames: ['b.example.com', 'a.example.com'] }).fullchainPem);
    assert.equal(facts.commonName, undefined);
    assert.equal(facts.primaryName, 'b.example.com');
    assert.equal(facts.subject, '');
  });

  test('DNS names are lowercased and deduplicated, in certificate order', () => {
    const { facts } = ok(authority.issue({ dnsNames: ['WWW.Example.com', 'www.example.com', 'Example.com'] }).certPem);
    assert.deepEqual(facts.dnsNames, ['www.example.com', 'example.com']);
  });

  test('a DNS name containing ", DNS:" stays one name (CVE-2021-44532)', () => {
    const { facts } = ok(authority.issue({ dnsNames: ['a.example.com, DNS:evil.example.com'] }).certPem);
    assert.deepEqual(facts.dnsNames, ['a.example.com, dns:evil.example.com']);
  });

  test('a CN with special characters is read unescaped', () => {
    const { facts } = ok(authority.issue({ dnsNames: [], commonName: 'a, "b" + c' }).certPem);
    assert.equal(facts.commonName, 'a, "b" + c');
    assert.equal(facts.primaryName, 'a, "b" + c');
  });

  test('CRLF line endings, surrounding text and Buffer input', () => {
    const crlf = `subject=CN = api.example.com\r\n${issued.fullchainPem.replaceAll('\n', '\r\n')}\r\n`;
    const bundle = ok(Buffer.from(crlf));
    assert.equal(bundle.facts.fingerprint, ok(issued.fullchainPem).facts.fingerprint);
    assert.equal(splitCertificateChain(crlf)!.fullchainPem, issued.fullchainPem, 'the files have LF line endings');
  });

  test('empty input', () => {
    for (const input of ['', '  \n\t', Buffer.alloc(0), undefined]) {
      assert.deepEqual(parseCertificateBundle(input), { ok: false, reason: 'Empty', message: 'tls.crt is empty' });
    }
  });

  test('garbage input', () => {
    const result = parseCertificateBundle('this is not a certificate');
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'Unparsable');
    assert.match(!result.ok ? result.message : '', /no CERTIFICATE PEM block \(found no PEM blocks\)/);
    assert.equal(parseCertificateBundle(Buffer.from([0x30, 0x82, 0xff, 0x00, 0x13])).ok, false);
  });

  test('a bundle with only the private key', () => {
    const result = parseCertificateBundle(issued.keyPem);
    assert.deepEqual(result, {
      ok: false,
      reason: 'Unparsable',
      message: 'tls.crt holds no CERTIFICATE PEM block (found only PRIVATE KEY blocks: a certificate goes in tls.crt, its key in tls.key)',
    });
  });

  test('what a tls.crt without a certificate holds is said, so its writer knows what to fix', () => {
    const message = (pem: string | Buffer) => {
      const result = parseCertificateBundle(pem);
      assert.ok(!result.ok);
      return result.message;
    };
    const truncated = issued.certPem.slice(0, issued.certPem.length / 2);
    assert.equal(message(truncated), 'tls.crt holds no CERTIFICATE PEM block (found -----BEGIN CERTIFICATE----- without its -----END CERTIFICATE----- line: a truncated paste?)');
    const der = new X509Certificate(issued.certPem).raw;
    assert.match(message(der), /found binary data, not PEM text: DER\? convert it with openssl x509 -inform der/);
    assert.match(message(Buffer.from([0xff, 0xfe, 0x00, 0x41])), /binary data, not PEM text/);
    assert.equal(message('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), 'tls.crt holds no CERTIFICATE PEM block (found only CERTIFICATE REQUEST blocks: a certificate goes in tls.crt, its key in tls.key)');
  });

  test('a tls.crt over the limit is refused unread, with its size and the limit', () => {
    const huge = issued.fullchainPem + '#'.repeat(PEM_TEXT_LIMIT);
    assert.deepEqual(parseCertificateBundle(huge), { ok: false, reason: 'Unparsable', message: `tls.crt is ${Math.ceil(huge.length / 1024)} KiB; certhook reads a certificate chain of at most 448 KiB` });
    assert.equal(splitCertificateChain(huge), undefined);
  });

  test('a chain at the limit, with a key, still fits a run\'s snapshot (cert, chain, fullchain, key) in a Secret\'s 1 MiB', () => {
    // One-line bodies grow most when split into the 64-character lines the snapshot writes.
    const oneLine = authority.intermediatePem.replace(/\n(?!-----)/g, '');
    const chain = oneLine.repeat(Math.floor((PEM_TEXT_LIMIT - issued.certPem.length) / oneLine.length));
    const split = splitCertificateChain(issued.certPem + chain)!;
    const snapshot = split.leafPem.length + split.chainPem.length + split.fullchainPem.length + 64 * 1024;
    assert.ok(snapshot <= 1024 * 1024, `${snapshot} bytes`);
  });

  test('a 200-certificate chain is within the limit and read whole', () => {
    const chain = Array.from({ length: 199 }, () => authority.intermediatePem).join('');
    assert.equal(ok(issued.certPem + chain).facts.fingerprint, ok(issued.certPem).facts.fingerprint, 'every certificate read, the leaf first');
    assert.equal(splitCertificateChain(issued.certPem + chain)!.chainPem, chain);
  });

  test('a CERTIFICATE block that is not base64, or not a certificate', () => {
    const notBase64 = parseCertificateBundle('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n');
    assert.equal(!notBase64.ok && notBase64.reason, 'Unparsable');
    const notX509 = parseCertificateBundle(`-----BEGIN CERTIFICATE-----\n${Buffer.from('hello world').toString('base64')}\n-----END CERTIFICATE-----\n`);
    assert.equal(!notX509.ok && notX509.reason, 'Unparsable');
    assert.match(!notX509.ok ? notX509.message : '', /certificate 1 of 1 is not a valid X\.509 certificate/);
  });

  test('a broken certificate in the chain makes the bundle unparsable', () => {
    const truncated = authority.intermediatePem.replace(/\n[A-Za-z0-9+/=]+\n-----END/, '\n-----END');
    const result = parseCertificateBundle(issued.certPem + truncated);
    assert.equal(!result.ok && result.reason, 'Unparsable');
    assert.match(!result.ok ? result.message : '', /certificate 2 of 2/);
  });
});
