// What a delivery sends that no status or log line may keep: the private key and the values read
// from Secrets (headers, signing keys). A receiver may echo a request back (debugging endpoints
// do), so its answer is scrubbed as well as the body certhook logs when a receiver refuses it.

// Bounded input (a response is kept to 1 KiB, a body to 256 KiB) and no nested quantifier; a
// block cut short (a truncated answer) is redacted to its end.
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|$)/g;
/** Shorter pieces could match by chance; a key's base64 lines and real tokens are longer. */
const MIN_SECRET_LENGTH = 8;

/** The base64 lines of a PEM key: found alone, as an answer that quotes part of a key holds them. */
export function keyLines(pem: string | undefined): string[] {
  return (pem ?? '').split(/\r?\n/).filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(PRIVATE_KEY_PEM, '[private key redacted]');
  for (const secret of secrets) if (secret.length >= MIN_SECRET_LENGTH) out = out.replaceAll(secret, '[redacted]');
  return out;
}
