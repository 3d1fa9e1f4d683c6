// A TLS Secret's tls.crt → the facts certhook keys runs on and exposes to hooks, plus the leaf,
// chain and fullchain files. Never throws: a Secret is user input.
import { createHash } from 'node:crypto';
import { certificateFields, isCertificate, type CertificateFields } from './certificate-fields.ts';
import { oneLineName } from './names.ts';
import { blockDer, PEM_TEXT_LIMIT, scanPem, type PemBlock, type PemScan } from './pem.ts';

export interface CertificateFacts {
  /** SHA-256 of the leaf's DER, lowercase hex without colons: the identity of a certificate version. */
  fingerprint: string;
  /** Serial number, uppercase hex as X509Certificate gives it. */
  serial: string;
  commonName: string | undefined;
  /** DNS subjectAltNames in certificate order, lowercased (DNS names are case-insensitive), without duplicates. */
  dnsNames: string[];
  /** First DNS name, else the common name: CERTMATE_DOMAIN. */
  primaryName: string | undefined;
  /** RFC 3339, to the second: 2025-01-31T12:00:00Z. */
  notBefore: string;
  notAfter: string;
  /** The issuer's common name, else its whole distinguished name. */
  issuer: string;
  /** The subject's distinguished name on one line: `O=example, CN=api.example.com`. */
  subject: string;
}

export type CertificateBundle =
  | {
      ok: true;
      /** What the cache keeps and decisions read; the files are splitCertificateChain's, when a snapshot is taken. */
      facts: CertificateFacts;
    }
  | {
      ok: false;
      /** Empty: tls.crt has no content (yet). Unparsable: it has content but no readable certificate chain. */
      reason: 'Empty' | 'Unparsable';
      message: string;
    };

export function parseCertificateBundle(pem: string | Buffer | undefined): CertificateBundle {
  const text = pem === undefined ? '' : pem.toString();
  if (text.trim() === '') return { ok: false, reason: 'Empty', message: 'tls.crt is empty' };

  const scan = scanPem(text);
  if (!scan) {
    return { ok: false, reason: 'Unparsable', message: `tls.crt is ${Math.ceil(text.length / 1024)} KiB; certhook reads a certificate chain of at most ${PEM_TEXT_LIMIT / 1024} KiB` };
  }
  const certificateBlocks = scan.blocks.filter((block) => block.label === 'CERTIFICATE');
  if (certificateBlocks.length === 0) {
    return { ok: false, reason: 'Unparsable', message: `tls.crt holds no CERTIFICATE PEM block (found ${whatIsThere(text, scan)})` };
  }

  const unreadable = (index: number) =>
    ({ ok: false, reason: 'Unparsable', message: `tls.crt: certificate ${index + 1} of ${certificateBlocks.length} is not a valid X.509 certificate` }) as const;
  const [leafBlock, ...chainBlocks] = certificateBlocks as [PemBlock, ...PemBlock[]];
  const leafDer = blockDer(leafBlock);
  let leaf: CertificateFields | undefined;
  try {
    leaf = leafDer && certificateFields(leafDer);
  } catch (error) {
    return { ok: false, reason: 'Unparsable', message: `tls.crt: cannot read the leaf certificate: ${(error as Error).message}` };
  }
  if (!leaf) return unreadable(0);
  for (const [index, block] of chainBlocks.entries()) {
    if (!isReadableIntermediate(block)) return unreadable(index + 1);
  }
  return { ok: true, facts: certificateFacts(leaf) };
}

/** What a tls.crt without a certificate block holds instead, said so that its writer knows what to fix. */
function whatIsThere(text: string, scan: PemScan): string {
  if (scan.blocks.length > 0) return `only ${[...new Set(scan.blocks.map((b) => b.label))].join(', ')} blocks: a certificate goes in tls.crt, its key in tls.key`;
  if (scan.unclosed.length > 0) return `-----BEGIN ${scan.unclosed[0]}----- without its -----END ${scan.unclosed[0]}----- line: a truncated paste?`;
  // DER bytes decoded as UTF-8 give replacement characters (and often NULs).
  if (/[\u0000\ufffd]/.test(text)) return 'binary data, not PEM text: DER? convert it with openssl x509 -inform der -in cert.der -out tls.crt';
  return 'no PEM blocks';
}

/**
 * Intermediates read before, by their base64: thousands of Secrets share a few issuers, and
 * reading a certificate is most of what reading a tls.crt costs. Bounded; the oldest go first.
 */
const READ_INTERMEDIATES = new Set<string>();
const INTERMEDIATES_KEPT = 64;

function isReadableIntermediate(block: PemBlock): boolean {
  if (READ_INTERMEDIATES.has(block.base64)) return true;
  const der = blockDer(block);
  if (!der || !isCertificate(der)) return false;
  if (READ_INTERMEDIATES.size >= INTERMEDIATES_KEPT) READ_INTERMEDIATES.delete(READ_INTERMEDIATES.values().next().value!);
  READ_INTERMEDIATES.add(block.base64);
  return true;
}

/** The PEM files of a chain, split and fingerprinted. */
export interface ChainFiles {
  fingerprint: string;
  leafPem: string;
  chainPem: string;
  fullchainPem: string;
}

/** A certificate's DER as PEM, in the form X509Certificate#toString() gives. */
function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * The leaf, chain and fullchain files of a tls.crt and the leaf's fingerprint, from its PEM blocks
 * alone: for a tls.crt already read (its facts are cached) whose files a snapshot needs, without
 * parsing every certificate again. Undefined when it has no CERTIFICATE block or a block is not
 * base64. parseCertificateBundle is what says whether the certificates are readable.
 */
export function splitCertificateChain(pem: string): ChainFiles | undefined {
  const ders = (scanPem(pem)?.blocks ?? []).filter((block) => block.label === 'CERTIFICATE').map(blockDer);
  if (!ders.length || ders.some((der) => !der)) return undefined;
  const [leaf, ...chain] = (ders as Buffer[]).map(derToPem);
  const chainPem = chain.join('');
  return { fingerprint: createHash('sha256').update(ders[0]!).digest('hex'), leafPem: leaf!, chainPem, fullchainPem: leaf! + chainPem };
}

function certificateFacts(fields: CertificateFields): CertificateFacts {
  const dnsNames = [...new Set(fields.dnsNames.map((name) => name.toLowerCase()))];
  return {
    fingerprint: createHash('sha256').update(fields.raw).digest('hex'),
    serial: fields.serialNumber,
    commonName: fields.subjectCommonName,
    dnsNames,
    primaryName: dnsNames[0] ?? fields.subjectCommonName,
    notBefore: rfc3339(fields.notBefore),
    notAfter: rfc3339(fields.notAfter),
    issuer: fields.issuerCommonName ?? oneLineName(fields.issuer),
    subject: oneLineName(fields.subject),
  };
}

/** Certificates have second precision; Kubernetes writes timestamps without fractions. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
