// A small in-process certificate authority (root + intermediate, ECDSA P-256) for
// `certhook sandbox --demo` and tests: it issues the kind of certificates cert-manager writes into
// TLS Secrets, synchronously and in milliseconds: node:crypto makes the keys and signs, asn1js writes the DER.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';

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
  name: asn1js.Sequence;
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
      const subject = commonName === undefined ? new asn1js.Sequence() : distinguishedName(commonName);
      const extensions = [
        extension(OID.basicConstraints, new asn1js.Sequence(), true),
        extension(OID.keyUsage, namedBits([KEY_USAGE.digitalSignature]), true),
        extension(OID.extendedKeyUsage, new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.serverAuth })] })),
      ];
      if (dnsNames.length > 0) {
        // GeneralName dNSName: [2] IMPLICIT IA5String.
        const names = dnsNames.map((name) => new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 }, valueHex: Buffer.from(name, 'ascii') }));
        extensions.push(extension(OID.subjectAltName, new asn1js.Sequence({ value: names }), commonName === undefined));
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

function distinguishedName(commonName: string): asn1js.Sequence {
  const attribute = (oid: string, value: string) =>
    new asn1js.Set({
      value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Utf8String({ value })] })],
    });
  return new asn1js.Sequence({ value: [attribute(OID.organization, 'certhook'), attribute(OID.commonName, commonName)] });
}

function extension(oid: string, value: asn1js.BaseBlock, critical = false): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: oid }),
      // DER omits a BOOLEAN equal to its DEFAULT (critical FALSE).
      ...(critical ? [new asn1js.Boolean({ value: true })] : []),
      new asn1js.OctetString({ valueHex: value.toBER(false) }),
    ],
  });
}

function caExtensions(pathLength: number): asn1js.Sequence[] {
  return [
    extension(OID.basicConstraints, new asn1js.Sequence({ value: [new asn1js.Boolean({ value: true }), new asn1js.Integer({ value: pathLength })] }), true),
    extension(OID.keyUsage, namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]), true),
  ];
}

// asn1js writes BIT STRING bytes as given; DER drops a named-bit list's trailing zero bits (X.690 §11.2.2).
function namedBits(bits: number[]): asn1js.BitString {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return new asn1js.BitString({ valueHex: bytes, unusedBits: 7 - (highest & 7) });
}

// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime otherwise, both without fractions of a second
// (asn1js writes a GeneralizedTime's milliseconds, and its UTCTime throws outside 1950–2049).
function time(date: Date): asn1js.UTCTime {
  const valueDate = new Date(date);
  valueDate.setUTCMilliseconds(0);
  const year = valueDate.getUTCFullYear();
  return year >= 1950 && year < 2050 ? new asn1js.UTCTime({ valueDate }) : new asn1js.GeneralizedTime({ valueDate });
}

/** A positive 128-bit serial whose first byte is non-zero, so its DER encoding is minimal (asn1js writes it as given). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

function signCertificate(args: {
  subject: asn1js.Sequence;
  publicKey: KeyObject;
  issuer: Signer;
  notBefore: Date;
  notAfter: Date;
  extensions: asn1js.Sequence[];
}): X509Certificate {
  const algorithm = new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.ecdsaWithSha256 })] });
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }), // [0] EXPLICIT version: v3
      new asn1js.Integer({ valueHex: serialNumber() }),
      algorithm,
      args.issuer.name,
      new asn1js.Sequence({ value: [time(args.notBefore), time(args.notAfter)] }),
      args.subject,
      asn1js.fromBER(args.publicKey.export({ type: 'spki', format: 'der' })).result,
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 }, // [3] EXPLICIT extensions
        value: [
          new asn1js.Sequence({
            value: [
              ...args.extensions,
              extension(OID.subjectKeyIdentifier, new asn1js.OctetString({ valueHex: keyIdentifier(args.publicKey) })),
              // AuthorityKeyIdentifier keyIdentifier: [0] IMPLICIT OCTET STRING.
              extension(
                OID.authorityKeyIdentifier,
                new asn1js.Sequence({ value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: args.issuer.keyId })] }),
              ),
            ],
          }),
        ],
      }),
    ],
  });
  const tbsDer = Buffer.from(tbs.toBER(false));
  // node:crypto signs ECDSA in DER form, which is what X.509 carries.
  const signature = sign('sha256', tbsDer, args.issuer.key);
  const certificate = new asn1js.Sequence({ value: [tbs, algorithm, new asn1js.BitString({ valueHex: signature, unusedBits: 0 })] });
  return new X509Certificate(Buffer.from(certificate.toBER(false)));
}
