// PEM block splitting, tolerant of CRLF line endings and of text around the blocks.

export interface PemBlock {
  /** The label between BEGIN and END, e.g. CERTIFICATE or PRIVATE KEY. */
  label: string;
  /** The base64 body with all whitespace removed. */
  base64: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(BLOCK)].map((match) => ({ label: match[1]!, base64: match[2]!.replace(/\s+/g, '') }));
}

/** The DER bytes of a block, or undefined when its body is not base64 (e.g. an encrypted key's headers). */
export function blockDer(block: PemBlock): Buffer | undefined {
  return block.base64.length > 0 && BASE64.test(block.base64) ? Buffer.from(block.base64, 'base64') : undefined;
}
