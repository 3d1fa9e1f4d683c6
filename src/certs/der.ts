// A strict DER reader: definite, minimal lengths and one-byte tags only. It backs the fast read of
// a certificate's fields (certificate-fields.ts); whatever it does not accept is left to
// X509Certificate, so being strict costs nothing but speed.

/** One element: its tag, and where its content starts and ends (exclusive) in the buffer. */
export interface Tlv {
  tag: number;
  start: number;
  end: number;
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** A context-specific tag: `[n]`, constructed (EXPLICIT, or IMPLICIT over a constructed type) or primitive. */
export const contextTag = (n: number, constructed: boolean) => 0x80 | (constructed ? 0x20 : 0) | n;

/** The element at `at`, which must end by `limit`; undefined when it is not strict DER. */
export function tlvAt(der: Uint8Array, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return undefined; // a high tag number: no certificate field has one
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    // 0 is BER's indefinite length; over 3 octets, 16 MiB, is more than any tls.crt holds.
    if (octets === 0 || octets > 3 || start + octets > limit) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    if (length < (octets === 1 ? 0x80 : 256 ** (octets - 1))) return undefined; // not the shortest form
    start += octets;
  }
  const end = start + length;
  return end <= limit ? { tag, start, end } : undefined;
}

/** The elements that make up a constructed element's content, or undefined unless they fill it exactly. */
export function childrenOf(der: Uint8Array, parent: Tlv): Tlv[] | undefined {
  if (!(parent.tag & 0x20)) return undefined;
  const children: Tlv[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = tlvAt(der, at, parent.end);
    if (!child) return undefined;
    children.push(child);
    at = child.end;
  }
  return children;
}

/** An INTEGER's content in its shortest form (no redundant leading 0x00 or 0xff octet), as OpenSSL demands. */
export function isMinimalInteger(der: Uint8Array, tlv: Tlv): boolean {
  const length = tlv.end - tlv.start;
  if (tlv.tag !== TAG.integer || length === 0) return false;
  if (length === 1) return true;
  const [first, second] = [der[tlv.start]!, der[tlv.start + 1]!];
  return !(first === 0x00 && second < 0x80) && !(first === 0xff && second >= 0x80);
}

/** An OBJECT IDENTIFIER whose sub-identifiers are each in their shortest form and complete. */
export function isWellFormedOid(der: Uint8Array, tlv: Tlv): boolean {
  if (tlv.tag !== TAG.oid || tlv.end === tlv.start || der[tlv.end - 1]! & 0x80) return false;
  for (let i = tlv.start; i < tlv.end; i++) {
    const startsSubidentifier = i === tlv.start || !(der[i - 1]! & 0x80);
    if (startsSubidentifier && der[i] === 0x80) return false;
  }
  return true;
}

/** Whether an element's content is exactly these bytes (an OID compared with a known one, say). */
export function contentEquals(der: Uint8Array, tlv: Tlv, bytes: Uint8Array): boolean {
  if (tlv.end - tlv.start !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (der[tlv.start + i] !== bytes[i]) return false;
  return true;
}
