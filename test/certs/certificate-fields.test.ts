import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthority } from '../../src/certs/authority.ts';
import { certificateFields, readCertificateFields, x509CertificateFields } from '../../src/certs/certificate-fields.ts';
import { blockDer, scanPem } from '../../src/certs/pem.ts';

const derOf = (pem: string) => blockDer(scanPem(pem)!.blocks[0]!)!;
const authority = createAuthority();

/** Self-signed certificates made by openssl, for the shapes the test CA does not issue. */
interface Made {
  name: string;
  /** Whether the fast read takes it (else it must leave it to X509Certificate). */
  fast: boolean;
  der: Buffer;
}

/** Any extension makes openssl write a version 3 certificate, which is what the fast read reads. */
const V3 = ['-addext', 'basicConstraints=CA:FALSE'];
const SHAPES: { name: string; fast: boolean; args: string[] }[] = [
  {
    name: 'RSA, every common attribute, DNS, IP, email and URI names',
    fast: true,
    args: ['-newkey', 'rsa:2048', '-subj', "/C=US/ST=California/L=San Francisco/O=Bob's Shop/OU=Ops/CN=api.example.com", '-addext', 'subjectAltName=DNS:api.example.com,DNS:*.Example.com,IP:10.0.0.1,IP:::1,email:ops@example.com,URI:https://example.com/'],
  },
  { name: 'a CN alone, no subjectAltName, a critical extension', fast: true, args: ['-subj', '/CN=only.example.com', '-addext', 'basicConstraints=critical,CA:FALSE'] },
  { name: 'Ed25519', fast: true, args: ['-newkey', 'ed25519', '-subj', '/CN=ed.example.com', '-addext', 'subjectAltName=DNS:ed.example.com'] },
  { name: 'a version 1 certificate (no extensions)', fast: false, args: ['-subj', '/CN=v1.example.com'] },
  { name: 'RSA-PSS, whose algorithm has parameters', fast: false, args: ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048', '-subj', '/CN=pss.example.com', '-addext', 'subjectAltName=DNS:pss.example.com'] },
  { name: 'domain components and an email address in the subject', fast: true, args: ['-subj', '/DC=com/DC=example/emailAddress=ops@example.com/CN=dc.example.com', ...V3] },
  { name: 'notAfter after 2049, a GeneralizedTime', fast: true, args: ['-subj', '/CN=long.example.com', '-days', '20000', ...V3] },
  { name: 'a comma in the CN, which X509Certificate escapes', fast: false, args: ['-subj', '/O=Example\\, Inc/CN=a.example.com', ...V3] },
  { name: 'a UTF-8 CN', fast: false, args: ['-utf8', '-subj', '/CN=bücher.example', ...V3] },
  { name: 'a multi-valued RDN', fast: false, args: ['-multivalue-rdn', '-subj', '/CN=mv.example.com+O=Example', ...V3] },
  { name: 'an attribute without a short name here (title)', fast: false, args: ['-subj', '/title=Boss/CN=t.example.com', ...V3] },
  { name: 'a directoryName subjectAltName', fast: false, args: ['-subj', '/CN=d.example.com', '-addext', 'subjectAltName=DNS:d.example.com,dirName:dir_sect'] },
];

describe('readCertificateFields reads what X509Certificate reads, or leaves it to it', () => {
  let dir: string;
  const made: Made[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'certhook-fields-'));
    const config = join(dir, 'openssl.cnf');
    execFileSync('sh', ['-c', `printf '%s\\n' '[req]' 'distinguished_name=dn' '[dn]' '[dir_sect]' 'CN=directory' 'O=Example' > ${config}`]);
    for (const [i, shape] of SHAPES.entries()) {
      const out = join(dir, `${i}.pem`);
      const args = shape.args;
      const key = args.includes('-newkey') ? [] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];
      execFileSync('openssl', ['req', '-x509', '-nodes', '-keyout', join(dir, `${i}.key`), '-out', out, '-days', '90', '-config', config, ...key, ...args], { stdio: 'pipe' });
      made.push({ name: shape.name, fast: shape.fast, der: derOf(readFileSync(out, 'utf8')) });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('certificates of every shape: the same fields, or none', () => {
    for (const { name, fast, der } of made) {
      const expected = x509CertificateFields(new X509Certificate(der));
      const read = readCertificateFields(der);
      if (fast) assert.deepEqual(read, expected, name);
      else assert.equal(read, undefined, name);
      assert.deepEqual(certificateFields(der), expected, name);
    }
  });

  test('the test CA\'s certificates, with and without a subject, and a large serial range', () => {
    for (let i = 0; i < 64; i++) {
      const issued = authority.issue({ dnsNames: [`h${i}.example.com`, 'www.example.com'], ...(i % 2 ? { commonName: `h${i}.example.com` } : {}) });
      for (const pem of [issued.certPem, issued.chainPem]) {
        const der = derOf(pem);
        assert.deepEqual(readCertificateFields(der), x509CertificateFields(new X509Certificate(der)));
      }
    }
  });

  test('mutated certificates: whatever the fast read accepts, X509Certificate reads the same', () => {
    // P-256 from the test CA; RSA with IP, email and URI names; P-384 with a GeneralizedTime; Ed25519.
    const bases = [derOf(authority.issue({ dnsNames: ['m.example.com'], commonName: 'm.example.com' }).certPem), made[0]!.der, made[6]!.der, made[2]!.der];
    let seed = 0x5eed;
    const random = (n: number) => {
      // mulberry32: the same mutants on every run.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
    };
    let accepted = 0;
    let declined = 0;
    for (let i = 0; i < 8000; i++) {
      const base = bases[i % bases.length]!;
      let mutant = Buffer.from(base);
      const at = random(base.length);
      switch (i % 4) {
        case 0: mutant[at] = random(256); break;
        case 1: mutant[at]! ^= 1 << random(8); break;
        case 2: mutant = mutant.subarray(0, at); break;
        default: mutant = Buffer.concat([mutant.subarray(0, at), Buffer.from([random(256)]), mutant.subarray(at)]);
      }
      const read = readCertificateFields(mutant);
      if (!read) {
        declined++;
        continue;
      }
      accepted++;
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(mutant);
      } catch (err) {
        assert.fail(`mutant ${i} (byte ${at}): read fast, but X509Certificate refuses it: ${(err as Error).message}`);
      }
      assert.deepEqual(read, x509CertificateFields(certificate), `mutant ${i} (byte ${at})`);
    }
    // Both outcomes are common, or the test proves little.
    assert.ok(accepted > 500 && declined > 500, `accepted ${accepted}, declined ${declined}`);
  });

  test('what is not a certificate: undefined from both reads', () => {
    for (const der of [Buffer.alloc(0), Buffer.from([0x30, 0x00]), Buffer.from('not a certificate'), Buffer.from([0x30, 0x80, 0x00, 0x00])]) {
      assert.equal(readCertificateFields(der), undefined);
      assert.equal(certificateFields(der), undefined);
    }
  });
});
