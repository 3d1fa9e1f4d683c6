// Whether tls.key holds the private key of the certificate in tls.crt: a hook given a pair that
// does not belong together deploys a certificate no server can use. The private key is neither
// kept nor put in any message.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

export type KeyPairCheck = 'match' | 'mismatch' | 'unreadable';

/** Larger than any private key PEM (an RSA-16384 key is about 12 KiB): a longer tls.key is not read. */
const KEY_TEXT_LIMIT = 64 * 1024;

function privateKeyOf(keyPem: string): KeyObject | undefined {
  if (keyPem.length > KEY_TEXT_LIMIT) return undefined;
  try {
    return createPrivateKey(keyPem);
  } catch {
    // Not a key, an encrypted one, or one of a kind OpenSSL does not know: unreadable either way.
    return undefined;
  }
}

/**
 * Whether `keyPem` is the private key of the certificate `certPem` (a leaf certhook already read).
 * OpenSSL compares the key with the certificate's public key itself (X509_check_private_key):
 * a third of the cost of deriving and exporting both public keys, and it runs once per firing.
 */
export function checkKeyPair(certPem: string, keyPem: string): KeyPairCheck {
  const key = privateKeyOf(keyPem);
  if (!key) return 'unreadable';
  return new X509Certificate(certPem).checkPrivateKey(key) ? 'match' : 'mismatch';
}
