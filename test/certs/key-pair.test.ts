import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createAuthority } from '../../src/certs/authority.ts';
import { checkKeyPair } from '../../src/certs/key-pair.ts';

const authority = createAuthority();
const issued = authority.issue({ dnsNames: ['api.example.com'] });
const other = authority.issue({ dnsNames: ['api.example.com'] });

test('a certificate and its own key match; another certificate\'s key does not', () => {
  assert.equal(checkKeyPair(issued.certPem, issued.keyPem), 'match');
  assert.equal(checkKeyPair(issued.certPem, other.keyPem), 'mismatch');
});

test('keys in other encodings and of other kinds are compared by their public key', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.equal(checkKeyPair(issued.certPem, rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), 'mismatch');
  const sec1 = createPrivateKey(issued.keyPem).export({ type: 'sec1', format: 'pem' }).toString();
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  assert.equal(checkKeyPair(issued.certPem, sec1), 'match');
});

test('what is no readable private key is unreadable: garbage, an encrypted key, a certificate, too much text', () => {
  const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
  for (const key of ['', 'garbage', encrypted, issued.certPem, issued.keyPem + ' '.repeat(70 * 1024)]) {
    assert.equal(checkKeyPair(issued.certPem, key), 'unreadable');
  }
});
