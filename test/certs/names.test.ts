import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { commonNameOf, oneLineName, subjectAltDnsNames } from '../../src/certs/names.ts';

describe('subjectAltDnsNames', () => {
  test('plain entries, DNS only, in order', () => {
    assert.deepEqual(
      subjectAltDnsNames('DNS:a.example.com, IP Address:10.0.0.1, DNS:*.example.com, email:x@example.com, URI:https://x/'),
      ['a.example.com', '*.example.com'],
    );
  });

  test('JSON-quoted values are decoded, and a quoted ", DNS:" does not start a new entry', () => {
    assert.deepEqual(subjectAltDnsNames('DNS:"a\\u002c DNS:evil.com", DNS:b.example.com'), ['a, DNS:evil.com', 'b.example.com']);
    assert.deepEqual(subjectAltDnsNames('URI:"http://x/\\"y\\", DNS:z", DNS:c.example.com'), ['c.example.com']);
  });

  test('no subjectAltName', () => {
    assert.deepEqual(subjectAltDnsNames(undefined), []);
    assert.deepEqual(subjectAltDnsNames(''), []);
  });

  test('an unterminated quoted value is an error, not a guess', () => {
    assert.throws(() => subjectAltDnsNames('DNS:"a.example.com'), /unterminated/);
  });
});

describe('distinguished names', () => {
  test('one line, in certificate order', () => {
    assert.equal(oneLineName('C=US\nO=Let\'s Encrypt\nCN=R3'), "C=US, O=Let's Encrypt, CN=R3");
    assert.equal(oneLineName(undefined), '');
  });

  test('the most specific CN wins when there are several', () => {
    assert.equal(commonNameOf({ CN: ['outer', 'inner'] }), 'inner');
    assert.equal(commonNameOf({ O: 'x' }), undefined);
    assert.equal(commonNameOf(undefined), undefined);
  });
});
