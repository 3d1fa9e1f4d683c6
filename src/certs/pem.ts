// PEM block splitting, tolerant of CRLF line endings and of text around the blocks. tls.crt is
// anyone's input, so the scan is linear in the text's length whatever it holds (a regex with a
// lazy body and a back-reference goes quadratic on lines of unclosed BEGIN markers), and a text
// over PEM_TEXT_LIMIT is not scanned at all.

export interface PemBlock {
  /** The label between BEGIN and END, e.g. CERTIFICATE or PRIVATE KEY. */
  label: string;
  /** The base64 body with all whitespace removed. */
  base64: string;
}

export interface PemScan {
  /** The complete blocks, in order. */
  blocks: PemBlock[];
  /** Labels of BEGIN markers that no END marker closes (a truncated paste, say). */
  unclosed: string[];
}

/** Characters the scanner examined: for tests that bound its work rather than time it. */
export interface ScanWork {
  characters: number;
}

/**
 * Larger than any certificate chain (a 200-certificate chain of RSA-4096 certificates is about
 * 400 KiB), and small enough that a run's snapshot, which holds the chain twice (cert and chain,
 * and fullchain) and the key, fits in a Secret's 1 MiB.
 */
export const PEM_TEXT_LIMIT = 448 * 1024;
/** Labels are short words (RFC 7468); a longer run of label characters is not a marker. */
const LABEL_LIMIT = 64;
const DASHES = '-----';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface Marker {
  begin: boolean;
  label: string;
  /** Where the marker starts and where it ends (exclusive). */
  start: number;
  end: number;
}

const isLabelCharacter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20;

/** The marker `-----BEGIN LABEL-----` or `-----END LABEL-----` at `at`, if one starts there. */
function markerAt(text: string, at: number, work: ScanWork): Marker | undefined {
  const keyword = text.startsWith('BEGIN ', at + DASHES.length) ? 'BEGIN ' : text.startsWith('END ', at + DASHES.length) ? 'END ' : undefined;
  work.characters += DASHES.length + (keyword?.length ?? 1);
  if (!keyword) return undefined;
  const labelStart = at + DASHES.length + keyword.length;
  let i = labelStart;
  while (i < text.length && i - labelStart <= LABEL_LIMIT && isLabelCharacter(text.charCodeAt(i))) i++;
  work.characters += i - labelStart + DASHES.length;
  if (i === labelStart || i - labelStart > LABEL_LIMIT || !text.startsWith(DASHES, i)) return undefined;
  return { begin: keyword === 'BEGIN ', label: text.slice(labelStart, i), start: at, end: i + DASHES.length };
}

/** Every marker, in order, in one pass: each character is examined a bounded number of times. */
function markersOf(text: string, work: ScanWork): Marker[] {
  const markers: Marker[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(DASHES, from);
    work.characters += (at < 0 ? text.length : at) - from;
    if (at < 0) return markers;
    const marker = markerAt(text, at, work);
    if (marker) markers.push(marker);
    from = marker ? marker.end : at + 1;
  }
}

/**
 * The PEM blocks of a text, as a regex `BEGIN (L) ... END \1` finds them (a BEGIN no END of its
 * label follows is passed over; a block's body is everything up to the first END of its label),
 * or undefined when the text is longer than PEM_TEXT_LIMIT.
 */
export function scanPem(text: string, work: ScanWork = { characters: 0 }): PemScan | undefined {
  if (text.length > PEM_TEXT_LIMIT) return undefined;
  const markers = markersOf(text, work);
  // Walking back once says which BEGIN markers an END of their label follows.
  const closable: boolean[] = [];
  const endsAfter = new Set<string>();
  for (let i = markers.length - 1; i >= 0; i--) {
    const marker = markers[i]!;
    if (marker.begin) closable[i] = endsAfter.has(marker.label);
    else endsAfter.add(marker.label);
  }
  const blocks: PemBlock[] = [];
  const unclosed = new Set<string>();
  let open: Marker | undefined;
  for (const [i, marker] of markers.entries()) {
    if (!open) {
      if (marker.begin && closable[i]) open = marker;
      else if (marker.begin) unclosed.add(marker.label);
    } else if (!marker.begin && marker.label === open.label) {
      const body = text.slice(open.end, marker.start);
      work.characters += body.length;
      blocks.push({ label: open.label, base64: body.replace(/\s+/g, '') });
      open = undefined;
    }
  }
  return { blocks, unclosed: [...unclosed] };
}

/** The DER bytes of a block, or undefined when its body is not base64 (e.g. an encrypted key's headers). */
export function blockDer(block: PemBlock): Buffer | undefined {
  return block.base64.length > 0 && BASE64.test(block.base64) ? Buffer.from(block.base64, 'base64') : undefined;
}
