// The fields of a certificate certhook keeps, in the forms X509Certificate gives them. Reading a
// certificate with X509Certificate costs about 50 µs (OpenSSL's decoder and a getter call per
// field), which at ten thousand TLS Secrets is half a second of every start; the common case (a
// v3 certificate with plain ASCII names) is read here from the DER in a few microseconds.
// Anything else, or anything not strictly DER, gives undefined: X509Certificate reads it then,
// and stays the judge of whether a certificate is readable at all.
import { X509Certificate } from 'node:crypto';
import { childrenOf, contentEquals, contextTag, isMinimalInteger, isWellFormedOid, TAG, tlvAt, type Tlv } from './der.ts';
import { commonNameOf, subjectAltDnsNames } from './names.ts';

export interface CertificateFields {
  /** Uppercase hex, as X509Certificate.serialNumber. */
  serialNumber: string;
  /** One RDN per line, as X509Certificate.subject and .issuer ('' for an empty name). */
  subject: string;
  issuer: string;
  /** The last CN of each name, unescaped. */
  subjectCommonName: string | undefined;
  issuerCommonName: string | undefined;
  /** The DNS subjectAltNames, in certificate order, as written. */
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** The DER the fingerprint is taken of: as read, or as X509Certificate encodes it again. */
  raw: Buffer;
}

/**
 * A certificate's fields, read fast when it can be, else by X509Certificate; undefined when it is
 * not a certificate. Throws when X509Certificate reads a certificate but not its fields.
 */
export function certificateFields(der: Buffer): CertificateFields | undefined {
  const fast = readCertificateFields(der);
  if (fast) return fast;
  const certificate = x509CertificateOf(der);
  return certificate && x509CertificateFields(certificate);
}

/** Whether the DER is a certificate, by the fast read or else X509Certificate, without reading its fields. */
export const isCertificate = (der: Buffer): boolean => !!readCertificateFields(der) || !!x509CertificateOf(der);

function x509CertificateOf(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** The fields as X509Certificate gives them (its getters throw on some malformed certificates). */
export function x509CertificateFields(certificate: X509Certificate): CertificateFields {
  return {
    serialNumber: certificate.serialNumber,
    // Node gives undefined, despite its typings, for an empty name.
    subject: certificate.subject ?? '',
    issuer: certificate.issuer ?? '',
    subjectCommonName: commonName(certificate, 'subject'),
    issuerCommonName: commonName(certificate, 'issuer'),
    dnsNames: subjectAltDnsNames(certificate.subjectAltName),
    notBefore: certificate.validFromDate,
    notAfter: certificate.validToDate,
    raw: certificate.raw,
  };
}

/**
 * The CN of X509Certificate.subject or .issuer (one RDN per line): read from the string when it
 * holds nothing escaped, else from the legacy object, which unescapes.
 */
function commonName(certificate: X509Certificate, which: 'subject' | 'issuer'): string | undefined {
  const name = certificate[which] ?? '';
  if (/[\\"]/.test(name)) return commonNameOf(certificate.toLegacyObject()[which]);
  const cn = name.split('\n').filter((line) => line.startsWith('CN=')).at(-1);
  return cn?.slice(3);
}

const oid = (...bytes: number[]) => Uint8Array.from(bytes);
/** The attributes read here, by their OID's encoding, with OpenSSL's short names. */
const ATTRIBUTES: [Uint8Array, string][] = [
  [oid(0x55, 0x04, 0x03), 'CN'],
  [oid(0x55, 0x04, 0x06), 'C'],
  [oid(0x55, 0x04, 0x07), 'L'],
  [oid(0x55, 0x04, 0x08), 'ST'],
  [oid(0x55, 0x04, 0x0a), 'O'],
  [oid(0x55, 0x04, 0x0b), 'OU'],
  [oid(0x55, 0x04, 0x05), 'serialNumber'],
  [oid(0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19), 'DC'],
  [oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01), 'emailAddress'],
];
const SUBJECT_ALT_NAME = oid(0x55, 0x1d, 0x11);
const PUBLIC_KEY_ALGORITHMS: [Uint8Array, 'rsa' | 'ec' | 'edwards'][] = [
  [oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01), 'rsa'],
  [oid(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01), 'ec'],
  [oid(0x2b, 0x65, 0x70), 'edwards'],
  [oid(0x2b, 0x65, 0x71), 'edwards'],
];
/** P-256, P-384, P-521. */
const NAMED_CURVES = [oid(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07), oid(0x2b, 0x81, 0x04, 0x00, 0x22), oid(0x2b, 0x81, 0x04, 0x00, 0x23)];
const STRING_TAGS = new Set<number>([TAG.utf8String, TAG.printableString, TAG.ia5String]);
/** GeneralName choices passed over: rfc822Name, URI and iPAddress (primitive, printed unambiguously). */
const OTHER_PLAIN_NAMES = new Set([contextTag(1, false), contextTag(6, false), contextTag(7, false)]);
const DNS_NAME = contextTag(2, false);

export function readCertificateFields(der: Buffer): CertificateFields | undefined {
  const certificate = tlvAt(der, 0, der.length);
  if (certificate?.tag !== TAG.sequence || certificate.end !== der.length) return undefined;
  const [tbs, signatureAlgorithm, signature, ...extra] = childrenOf(der, certificate) ?? [];
  if (!tbs || !signatureAlgorithm || !signature || extra.length) return undefined;
  if (tbs.tag !== TAG.sequence || !isAlgorithm(der, signatureAlgorithm) || !isOctetBitString(der, signature)) return undefined;
  // A v3 certificate, with or without extensions; v1 and unique identifiers are X509Certificate's.
  const [version, serial, signatureInTbs, issuer, validity, subject, publicKey, extensions, ...more] = childrenOf(der, tbs) ?? [];
  if (!version || !serial || !signatureInTbs || !issuer || !validity || !subject || !publicKey || more.length) return undefined;
  if (!isVersion3(der, version) || !isAlgorithm(der, signatureInTbs) || !isPublicKeyInfo(der, publicKey)) return undefined;
  const serialNumber = serialHex(der, serial);
  const [notBefore, notAfter] = validityOf(der, validity) ?? [];
  const issuerName = nameOf(der, issuer);
  const subjectName = nameOf(der, subject);
  const dnsNames = extensions ? dnsNamesOf(der, extensions) : [];
  if (!serialNumber || !notBefore || !notAfter || !issuerName || !subjectName || !dnsNames) return undefined;
  return {
    serialNumber,
    subject: subjectName.lines,
    issuer: issuerName.lines,
    subjectCommonName: subjectName.commonName,
    issuerCommonName: issuerName.commonName,
    dnsNames,
    notBefore,
    notAfter,
    raw: der,
  };
}

const sequenceOf = (der: Buffer, tlv: Tlv) => (tlv.tag === TAG.sequence ? childrenOf(der, tlv) : undefined);

function isVersion3(der: Buffer, version: Tlv): boolean {
  const [value, ...rest] = version.tag === contextTag(0, true) ? childrenOf(der, version) ?? [] : [];
  return !!value && !rest.length && value.tag === TAG.integer && value.end - value.start === 1 && der[value.start] === 2;
}

/** A signature algorithm without parameters, or with NULL ones (RSA's); RSA-PSS's are X509Certificate's to read. */
function isAlgorithm(der: Buffer, tlv: Tlv): boolean {
  const [algorithm, parameters, ...rest] = sequenceOf(der, tlv) ?? [];
  return !!algorithm && isWellFormedOid(der, algorithm) && !rest.length && (!parameters || isNull(parameters));
}

const isNull = (tlv: Tlv) => tlv.tag === TAG.null && tlv.end === tlv.start;
const isOid = (der: Buffer, tlv: Tlv, bytes: Uint8Array) => tlv.tag === TAG.oid && contentEquals(der, tlv, bytes);

/** A BIT STRING of whole octets, as signatures and keys are (OpenSSL rewrites the padding of others). */
function isOctetBitString(der: Buffer, tlv: Tlv): boolean {
  return tlv.tag === TAG.bitString && tlv.end > tlv.start && der[tlv.start] === 0;
}

/** A key of an algorithm OpenSSL decodes without question: RSA, or EC on a named curve it knows, or Ed25519/Ed448. */
function isPublicKeyInfo(der: Buffer, tlv: Tlv): boolean {
  const [algorithm, key, ...rest] = sequenceOf(der, tlv) ?? [];
  if (!algorithm || !key || rest.length || !isOctetBitString(der, key)) return false;
  const [id, parameters, ...more] = sequenceOf(der, algorithm) ?? [];
  if (!id || more.length) return false;
  const shape = PUBLIC_KEY_ALGORITHMS.find(([bytes]) => isOid(der, id, bytes))?.[1];
  if (shape === 'rsa') return !!parameters && isNull(parameters);
  if (shape === 'ec') return !!parameters && NAMED_CURVES.some((curve) => isOid(der, parameters, curve));
  return shape === 'edwards' && !parameters;
}

/** BN_bn2hex of a positive serial: whole octets, leading zero octets dropped. Negative or zero: undefined. */
function serialHex(der: Buffer, serial: Tlv): string | undefined {
  if (!isMinimalInteger(der, serial) || der[serial.start]! & 0x80) return undefined;
  let start = serial.start;
  while (start < serial.end && der[start] === 0) start++;
  return start < serial.end ? der.toString('hex', start, serial.end).toUpperCase() : undefined;
}

function validityOf(der: Buffer, validity: Tlv): [Date, Date] | undefined {
  const [from, to, ...rest] = sequenceOf(der, validity) ?? [];
  const notBefore = from && timeOf(der, from);
  const notAfter = to && timeOf(der, to);
  return notBefore && notAfter && !rest.length ? [notBefore, notAfter] : undefined;
}

/** UTCTime YYMMDDHHMMSSZ (years 1950–2049) or GeneralizedTime YYYYMMDDHHMMSSZ; nothing looser. */
function timeOf(der: Buffer, tlv: Tlv): Date | undefined {
  const text = der.toString('latin1', tlv.start, tlv.end);
  const utc = tlv.tag === TAG.utcTime && /^\d{12}Z$/.test(text);
  if (!utc && !(tlv.tag === TAG.generalizedTime && /^\d{14}Z$/.test(text))) return undefined;
  const digits = utc ? text : text.slice(2);
  const two = (i: number) => Number(digits.slice(i, i + 2));
  const year = utc ? (two(0) < 50 ? 2000 : 1900) + two(0) : Number(text.slice(0, 4));
  const [month, day, hour, minute, second] = [two(2), two(4), two(6), two(8), two(10)];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 31 February over into March; such a time is not read here.
  const exact = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
    && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  return exact ? date : undefined;
}

/**
 * A name as X509Certificate prints it, when printing it escapes nothing: each RDN a single
 * attribute of a known type, its value a plain ASCII string without RFC 2253's special characters.
 */
function nameOf(der: Buffer, name: Tlv): { lines: string; commonName: string | undefined } | undefined {
  const lines: string[] = [];
  let commonName: string | undefined;
  const rdns = sequenceOf(der, name);
  if (!rdns) return undefined;
  for (const rdn of rdns) {
    const [attribute, ...more] = rdn.tag === TAG.set ? childrenOf(der, rdn) ?? [] : [];
    const [type, value, ...rest] = attribute && !more.length ? sequenceOf(der, attribute) ?? [] : [];
    // An attribute type not among ATTRIBUTES (a malformed OID is not) leaves the name to X509Certificate.
    if (!type || !value || rest.length || !STRING_TAGS.has(value.tag)) return undefined;
    const shortName = ATTRIBUTES.find(([bytes]) => isOid(der, type, bytes))?.[1];
    const text = plainValue(der, value);
    if (!shortName || text === undefined) return undefined;
    lines.push(`${shortName}=${text}`);
    if (shortName === 'CN') commonName = text;
  }
  return { lines: lines.join('\n'), commonName };
}

/** Printable ASCII that OpenSSL's RFC 2253 escaping leaves as it is; undefined otherwise. */
function plainValue(der: Buffer, value: Tlv): string | undefined {
  if (value.end === value.start) return undefined;
  for (let i = value.start; i < value.end; i++) {
    const c = der[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x2b || c === 0x2c || c === 0x3b || c === 0x3c || c === 0x3d || c === 0x3e || c === 0x5c) return undefined; // " + , ; < = > \
  }
  const text = der.toString('latin1', value.start, value.end);
  return text.startsWith('#') || text.startsWith(' ') || text.endsWith(' ') ? undefined : text;
}

/** The DNS names of the subjectAltName extension ([] without one), or undefined when not read here. */
function dnsNamesOf(der: Buffer, extensions: Tlv): string[] | undefined {
  const [list, ...rest] = extensions.tag === contextTag(3, true) ? childrenOf(der, extensions) ?? [] : [];
  const all = list && !rest.length ? sequenceOf(der, list) : undefined;
  if (!all?.length) return undefined;
  let names: string[] | undefined;
  for (const extension of all) {
    const [id, second, third, ...more] = sequenceOf(der, extension) ?? [];
    const critical = third ? second : undefined;
    const value = third ?? second;
    if (!id || !value || more.length || !isWellFormedOid(der, id) || value.tag !== TAG.octetString) return undefined;
    if (critical && (critical.tag !== TAG.boolean || critical.end - critical.start !== 1)) return undefined;
    if (!isOid(der, id, SUBJECT_ALT_NAME)) continue;
    if (names) return undefined; // two subjectAltName extensions: X509Certificate says what that means
    names = generalDnsNames(der, value);
    if (!names) return undefined;
  }
  return names ?? [];
}

function generalDnsNames(der: Buffer, octets: Tlv): string[] | undefined {
  const inner = tlvAt(der, octets.start, octets.end);
  const entries = inner && inner.end === octets.end ? sequenceOf(der, inner) : undefined;
  if (!entries?.length) return undefined;
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.tag === DNS_NAME) {
      const name = dnsName(der, entry);
      if (name === undefined) return undefined;
      names.push(name);
    } else if (!OTHER_PLAIN_NAMES.has(entry.tag)) {
      return undefined;
    }
  }
  return names;
}

/** A dNSName Node prints unquoted: printable ASCII without `"`, `\` or `,`. */
function dnsName(der: Buffer, entry: Tlv): string | undefined {
  if (entry.end === entry.start) return undefined;
  for (let i = entry.start; i < entry.end; i++) {
    const c = der[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x2c || c === 0x5c) return undefined;
  }
  return der.toString('latin1', entry.start, entry.end);
}
