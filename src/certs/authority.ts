// A small in-process certificate authority (root + intermediate, ECDSA P-256) for
// `certhook sandbox --demo` and tests: it issues the kind of certificates cert-manager writes into
// TLS Secrets, synchronously and in milliseconds, with node:crypto alone.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import * as der from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface IssueRequest {
  /** DNS subjectAltNames, in order; may be empty when commonName is given. */
  dnsNames: string[];
  commonName?: string;
  /** Default: one minute ago. */
  notBefore?: Date;
  /** Default: 90 days after notBefore. */
  notAfter?: Date;
}

export interface IssuedCertificate {
  /** The leaf certificate, PEM. */
  certPem: string;
  /** The intermediate, PEM. */
  chainPem: string;
  /** Leaf then intermediate: what cert-manager writes to tls.crt. */
  fullchainPem: string;
  /** The leaf's private key, PKCS#8 PEM: what goes into tls.key. */
  keyPem: string;
}

export interface Authority {
  rootPem: string;
  intermediatePem: string;
  issue(request: IssueRequest): IssuedCertificate;
}

interface Signer {
  name: Buffer;
  key: KeyObject;
  keyId: Buffer;
}

export function createAuthority(options: { name?: string } = {}): Authority {
  const label = options.name ?? 'certhook sandbox';
  const now = Date.now();

  const rootKeys = newKeyPair();
  const root = signer(`${label} Root CA`, rootKeys);
  const rootCert = signCertificate({
    subject: root.name,
    publicKey: rootKeys.publicKey,
    issuer: root,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    extensions: caExtensions(1),
  });

  const intermediateKeys = newKeyPair();
  const intermediate = signer(`${label} Intermediate CA`, intermediateKeys);
  const intermediateCert = signCertificate({
    subject: intermediate.name,
    publicKey: intermediateKeys.publicKey,
    issuer: root,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 1825 * DAY),
    extensions: caExtensions(0),
  });
  const intermediatePem = intermediateCert.toString();

  return {
    rootPem: rootCert.toString(),
    intermediatePem,
    issue(request) {
      const { dnsNames, commonName } = request;
      if (dnsNames.length === 0 && commonName === undefined) throw new Error('a certificate needs a DNS name or a common name');
      const notBefore = request.notBefore ?? new Date(Date.now() - MINUTE);
      const notAfter = request.notAfter ?? new Date(notBefore.getTime() + 90 * DAY);
      const keys = newKeyPair();
      // RFC 5280 §4.2.1.6: with an empty subject the subjectAltName extension is critical.
      const subject = commonName === undefined ? der.sequence() : distinguishedName(commonName);
      const extensions = [
        extension(OID.basicConstraints, der.sequence(), true),
        extension(OID.keyUsage, der.namedBits([KEY_USAGE.digitalSignature]), true),
        extension(OID.extendedKeyUsage, der.sequence(der.objectIdentifier(OID.serverAuth))),
      ];
      if (dnsNames.length > 0) {
        const names = dnsNames.map((name) => der.implicit(2, Buffer.from(name, 'ascii')));
        extensions.push(extension(OID.subjectAltName, der.sequence(...names), commonName === undefined));
      }
      const certPem = signCertificate({ subject, publicKey: keys.publicKey, issuer: intermediate, notBefore, notAfter, extensions }).toString();
      return {
        certPem,
        chainPem: intermediatePem,
        fullchainPem: certPem + intermediatePem,
        keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
    },
  };
}

function newKeyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function signer(commonName: string, keys: { publicKey: KeyObject; privateKey: KeyObject }): Signer {
  return { name: distinguishedName(commonName), key: keys.privateKey, keyId: keyIdentifier(keys.publicKey) };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (the uncompressed EC point). */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const { x = '', y = '' } = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(x, 'base64url'), Buffer.from(y, 'base64url')]);
  return createHash('sha1').update(point).digest();
}

function distinguishedName(commonName: string): Buffer {
  const attribute = (oid: string, value: string) => der.set(der.sequence(der.objectIdentifier(oid), der.utf8String(value)));
  return der.sequence(attribute(OID.organization, 'certhook'), attribute(OID.commonName, commonName));
}

function extension(oid: string, value: Buffer, critical = false): Buffer {
  return der.sequence(der.objectIdentifier(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

function caExtensions(pathLength: number): Buffer[] {
  return [
    extension(OID.basicConstraints, der.sequence(der.boolean(true), der.integer(pathLength)), true),
    extension(OID.keyUsage, der.namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]), true),
  ];
}

/** A positive 128-bit serial whose first byte is non-zero, so its DER encoding is minimal. */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

function signCertificate(args: {
  subject: Buffer;
  publicKey: KeyObject;
  issuer: Signer;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}): X509Certificate {
  const algorithm = der.sequence(der.objectIdentifier(OID.ecdsaWithSha256));
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)), // v3
    der.integer(serialNumber()),
    algorithm,
    args.issuer.name,
    der.sequence(der.time(args.notBefore), der.time(args.notAfter)),
    args.subject,
    args.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(
      3,
      der.sequence(
        ...args.extensions,
        extension(OID.subjectKeyIdentifier, der.octetString(keyIdentifier(args.publicKey))),
        extension(OID.authorityKeyIdentifier, der.sequence(der.implicit(0, args.issuer.keyId))),
      ),
    ),
  );
  // node:crypto signs ECDSA in DER form, which is what X.509 carries.
  const signature = sign('sha256', tbs, args.issuer.key);
  return new X509Certificate(der.sequence(tbs, algorithm, der.bitString(signature)));
}
