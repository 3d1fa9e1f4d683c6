// Whether tls.key holds the private key of the certificate in tls.crt: a hook given a pair that
// does not belong together deploys a certificate no server can use. The public keys (SPKI DER)
// are compared; the private key is neither kept nor put in any message.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';

export type KeyPairCheck = 'match' | 'mismatch' | 'unreadable';

/** Larger than any private key PEM (an RSA-16384 key is about 12 KiB): a longer tls.key is not read. */
const KEY_TEXT_LIMIT = 64 * 1024;

function publicKeyOfPrivate(keyPem: string): Buffer | undefined {
  if (keyPem.length > KEY_TEXT_LIMIT) return undefined;
  try {
    return createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  } catch {
    // Not a key, an encrypted one, or one of a kind OpenSSL does not know: unreadable either way.
    return undefined;
  }
}

/** Whether `keyPem` is the private key of the certificate `certPem` (a leaf certhook already read). */
export function checkKeyPair(certPem: string, keyPem: string): KeyPairCheck {
  const fromKey = publicKeyOfPrivate(keyPem);
  if (!fromKey) return 'unreadable';
  const fromCertificate = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCertificate) ? 'match' : 'mismatch';
}
