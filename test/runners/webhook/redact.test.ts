import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyLines, redact } from '../../../src/runners/webhook/redact.ts';
import { issue } from '../../support/fixtures.ts';

const { keyPem } = issue('redact.example.com');

test('a private key is redacted whole, JSON-escaped, or cut short by a truncated answer', () => {
  assert.equal(redact(`got ${keyPem} ok`, []), 'got [private key redacted]\n ok');
  assert.equal(redact(JSON.stringify({ key: keyPem, n: 1 }), []), '{"key":"[private key redacted]\\n","n":1}');
  assert.equal(redact(`echo: ${keyPem.slice(0, 60)}`, []), 'echo: [private key redacted]');
});

test('the key\'s lines found alone, and values read from Secrets, are redacted', () => {
  const [line] = keyLines(keyPem);
  assert.ok(line && line.length >= 16);
  assert.equal(redact(`part of it: ${line}`, keyLines(keyPem)), 'part of it: [redacted]');
  assert.equal(redact('Authorization was Bearer tok-123456', ['Bearer tok-123456']), 'Authorization was [redacted]');
  // A value that short could match anything by chance: it is left alone.
  assert.equal(redact('yes, no', ['yes']), 'yes, no');
});
