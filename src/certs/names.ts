// Reading names out of node:crypto's X509Certificate string forms.

/**
 * The DNS names of a certificate from X509Certificate.subjectAltName, in order.
 *
 * The string is `TYPE:value` entries joined by ", ". Since CVE-2021-44532 Node quotes a value as
 * a JSON string literal when it could be ambiguous (e.g. `DNS:"a\u002c DNS:b"`), so splitting at
 * ", " is unsafe: a malicious certificate could smuggle in extra names. This reads entry by entry.
 */
export function subjectAltDnsNames(subjectAltName: string | undefined): string[] {
  const names: string[] = [];
  let rest = subjectAltName ?? '';
  while (rest.length > 0) {
    const colon = rest.indexOf(':');
    if (colon < 0) break;
    const type = rest.slice(0, colon);
    let value: string;
    rest = rest.slice(colon + 1);
    if (rest.startsWith('"')) {
      const end = jsonStringEnd(rest);
      value = JSON.parse(rest.slice(0, end)) as string;
      rest = rest.slice(end);
    } else {
      const comma = rest.indexOf(', ');
      value = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? '' : rest.slice(comma);
    }
    if (type === 'DNS') names.push(value);
    rest = rest.startsWith(', ') ? rest.slice(2) : '';
  }
  return names;
}

/** Index just past the JSON string literal at the start of text. */
function jsonStringEnd(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new Error('unterminated quoted subjectAltName entry');
}

/**
 * X509Certificate.subject / .issuer (one RDN per line, values escaped) as one line: `O=x, CN=y`.
 * Node gives undefined, despite its typings, for an empty name.
 */
export function oneLineName(multiline: string | undefined): string {
  return (multiline ?? '').split('\n').filter(Boolean).join(', ');
}

/**
 * The CN of a name as X509Certificate.toLegacyObject() gives it: unescaped, and an array when
 * the name holds several (the most specific, last, wins).
 */
export function commonNameOf(name: Record<string, string | string[] | undefined> | undefined): string | undefined {
  const cn = name?.CN;
  return Array.isArray(cn) ? cn.at(-1) : cn;
}
