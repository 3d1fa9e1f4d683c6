// Standard Webhooks signing (https://www.standardwebhooks.com/): receivers verify a delivery with
// any Standard Webhooks library given the same `whsec_` secret. Several secrets sign at once
// during a key rotation, so a receiver holding either the old or the new one accepts.
import { createHash, createHmac } from 'node:crypto';

const PREFIX = 'whsec_';
const MIN_BYTES = 24;
const MAX_BYTES = 64;
/** Canonical standard base64 (padded), as the spec's secrets are; Buffer.from alone skips junk. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The keys in a signing Secret's value: whitespace-separated `whsec_<base64>` secrets, so a
 * trailing newline from `kubectl create secret --from-file` is harmless. Problems name a secret
 * by its position, never by its text, as they end up in statuses and events.
 */
export function parseSigningSecrets(value: string): { ok: true; keys: Buffer[] } | { ok: false; problem: string } {
  const secrets = value.split(/\s+/).filter((secret) => secret !== '');
  if (secrets.length === 0) return { ok: false, problem: `holds no signing secret: expected ${PREFIX}<base64>` };
  const keys: Buffer[] = [];
  for (const [i, secret] of secrets.entries()) {
    const which = secrets.length === 1 ? 'the signing secret' : `signing secret ${i + 1} of ${secrets.length}`;
    if (!secret.startsWith(PREFIX)) return { ok: false, problem: `${which} does not start with ${PREFIX}: expected ${PREFIX}<base64>` };
    const encoded = secret.slice(PREFIX.length);
    if (!BASE64.test(encoded)) return { ok: false, problem: `${which} is not ${PREFIX} followed by standard base64` };
    const key = Buffer.from(encoded, 'base64');
    if (key.length < MIN_BYTES || key.length > MAX_BYTES) {
      return { ok: false, problem: `${which} decodes to ${key.length} bytes: a signing secret must be ${MIN_BYTES} to ${MAX_BYTES} bytes` };
    }
    keys.push(key);
  }
  return { ok: true, keys };
}

/**
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256>` per key, space-separated, over
 * `${id}.${timestamp}.${body}` where body is exactly the bytes sent.
 */
export function signatureHeader(keys: Buffer[], id: string, timestampSeconds: number, body: Buffer | string): string {
  return keys
    .map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64')}`)
    .join(' ');
}

/**
 * The `webhook-id` of a run's deliveries. Receivers deduplicate on it, so it must be the same for
 * every attempt at one run, whichever replica sends it and however often the operator restarts:
 * deriving it from the run's identity gives that without storing anything. Planned runs are named
 * after the hook, Secret, certificate and event, so another firing has another id; a manual run
 * re-created under the same name shares its predecessor's.
 */
export function webhookId(namespace: string, runName: string): string {
  return `msg_${createHash('sha256').update(`${namespace}/${runName}`).digest().subarray(0, 18).toString('base64url')}`;
}
