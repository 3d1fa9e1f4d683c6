import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesFields, parseFieldSelector } from '../../src/sandbox/field-selector.ts';
import { SelectorError } from '../../src/kube/label-selector.ts';

const SECRET_FIELDS = ['metadata.name', 'metadata.namespace', 'type'];
const fails = (fn: () => unknown, message: string) =>
  assert.throws(fn, (err: unknown) => err instanceof SelectorError && err.message === message);

describe('parseFieldSelector', () => {
  test('=, == and != terms, comma-separated', () => {
    assert.deepEqual(parseFieldSelector('type=kubernetes.io/tls,metadata.name==a,metadata.namespace!=kube-system', SECRET_FIELDS), [
      { field: 'metadata.name', operator: 'Equals', value: 'a' },
      { field: 'metadata.namespace', operator: 'NotEquals', value: 'kube-system' },
      { field: 'type', operator: 'Equals', value: 'kubernetes.io/tls' },
    ]);
    assert.deepEqual(parseFieldSelector('', SECRET_FIELDS), []);
    assert.deepEqual(parseFieldSelector('metadata.name=', SECRET_FIELDS), [{ field: 'metadata.name', operator: 'Equals', value: '' }]);
  });

  test('backslash escapes \\, comma and = in values', () => {
    assert.deepEqual(parseFieldSelector('metadata.name=a\\,b\\=c\\\\d', SECRET_FIELDS), [
      { field: 'metadata.name', operator: 'Equals', value: 'a,b=c\\d' },
    ]);
    fails(() => parseFieldSelector('metadata.name=a\\x', SECRET_FIELDS), 'invalid field selector: invalid escape sequence: \\x');
    fails(() => parseFieldSelector('metadata.name=a=b', SECRET_FIELDS), 'invalid field selector: unescaped character in value: 61');
  });

  test('an unsupported field gets the apiserver message', () => {
    fails(() => parseFieldSelector('spec.nodeName=n1', SECRET_FIELDS), 'field label not supported: spec.nodeName');
  });

  test('a term without an operator cannot be understood', () => {
    fails(() => parseFieldSelector('metadata.name', SECRET_FIELDS), "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  });
});

describe('matchesFields', () => {
  const secret = { metadata: { name: 'tls-a', namespace: 'web' }, type: 'kubernetes.io/tls', spec: { replicas: 3, on: true } };
  const match = (selector: string, fields = SECRET_FIELDS) => matchesFields(parseFieldSelector(selector, fields), secret);

  test('equality and inequality on dotted paths', () => {
    assert.equal(match('type=kubernetes.io/tls'), true);
    assert.equal(match('type=Opaque'), false);
    assert.equal(match('metadata.namespace!=web'), false);
    assert.equal(match('metadata.namespace!=other,metadata.name=tls-a'), true);
    assert.equal(match(''), true);
  });

  test('a missing field reads as empty; numbers and booleans as text', () => {
    const fields = ['status.phase', 'spec.replicas', 'spec.on'];
    assert.equal(match('status.phase=', fields), true);
    assert.equal(match('status.phase!=', fields), false);
    assert.equal(match('spec.replicas=3,spec.on=true', fields), true);
  });
});
