import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileJsonPath, firstMatch, formatJsonPathValue } from '../../src/sandbox/jsonpath.ts';

const hook = {
  metadata: { name: 'h', labels: { 'app.kubernetes.io/name': 'edge' } },
  spec: { enabled: false, onEvents: ['created', 'renewed'], nothing: null, weights: [1, 2, 3] },
  status: {
    conditions: [
      { type: 'Synced', status: 'True', n: 1 },
      { type: 'Ready', status: 'False', n: 2 },
    ],
  },
};
const first = (path: string, obj: unknown = hook) => firstMatch(compileJsonPath(path), obj);

describe('compileJsonPath + firstMatch', () => {
  test('dotted fields, including false and null values', () => {
    assert.deepEqual(first('.metadata.name'), { value: 'h' });
    assert.deepEqual(first('.spec.enabled'), { value: false });
    assert.deepEqual(first('.spec.nothing'), { value: null });
    assert.deepEqual(first('.spec.onEvents'), { value: ['created', 'renewed'] });
    assert.equal(first('.status.lastRun.phase'), undefined);
    assert.equal(first('.spec.nothing.deeper'), undefined);
    assert.deepEqual(first('$.metadata.name'), { value: 'h' });
  });

  test('escaped dots and quoted brackets name keys that contain dots', () => {
    assert.deepEqual(first('.metadata.labels.app\\.kubernetes\\.io/name'), { value: 'edge' });
    assert.deepEqual(first(".metadata.labels['app.kubernetes.io/name']"), { value: 'edge' });
    assert.deepEqual(first('.metadata.labels["app.kubernetes.io/name"]'), { value: 'edge' });
  });

  test('indexes (negative from the end) and wildcards', () => {
    assert.deepEqual(first('.spec.weights[1]'), { value: 2 });
    assert.deepEqual(first('.spec.weights[-1]'), { value: 3 });
    assert.equal(first('.spec.weights[7]'), undefined);
    assert.deepEqual(first('.status.conditions[*].type'), { value: 'Synced' });
    assert.deepEqual(first('.status.conditions.*.status'), { value: 'True' });
    assert.deepEqual(first('.metadata.*'), { value: { 'app.kubernetes.io/name': 'edge' } });
  });

  test('filters compare strings and numbers, or test existence', () => {
    assert.deepEqual(first('.status.conditions[?(@.type=="Ready")].status'), { value: 'False' });
    assert.deepEqual(first(".status.conditions[?(@.type == 'Synced')].status"), { value: 'True' });
    assert.deepEqual(first('.status.conditions[?(@.type!="Synced")].type'), { value: 'Ready' });
    assert.deepEqual(first('.status.conditions[?(@.n>1)].type'), { value: 'Ready' });
    assert.deepEqual(first('.status.conditions[?(@.n<=1)].type'), { value: 'Synced' });
    assert.equal(first('.status.conditions[?(@.n=="1")].type'), undefined);
    assert.deepEqual(first('.status.conditions[?(@.n)].type'), { value: 'Synced' });
    assert.equal(first('.status.conditions[?(@.missing)].type'), undefined);
  });

  test('unsupported or malformed paths are rejected', () => {
    for (const bad of ['..spec', '.spec[', '.spec[1:2]', '.spec.', '.a[?(@.b=)]', 'spec']) {
      assert.throws(() => compileJsonPath(bad), /unrecognized JSONPath/, bad);
    }
  });
});

describe('formatJsonPathValue', () => {
  test('strings raw, booleans and integers as Go prints them, null as <no value>', () => {
    assert.equal(formatJsonPathValue('created'), 'created');
    assert.equal(formatJsonPathValue(true), 'true');
    assert.equal(formatJsonPathValue(30), '30');
    assert.equal(formatJsonPathValue(1234567), '1234567');
    assert.equal(formatJsonPathValue(null), '<no value>');
  });

  test('non-integral numbers use %g: an exponent from 1e+06 and below 1e-04', () => {
    assert.equal(formatJsonPathValue(1.5), '1.5');
    assert.equal(formatJsonPathValue(0.0001), '0.0001');
    assert.equal(formatJsonPathValue(0.00001), '1e-05');
    assert.equal(formatJsonPathValue(1234567.5), '1.2345675e+06');
  });

  test('lists and objects print as compact Go JSON with sorted keys and HTML escapes', () => {
    assert.equal(formatJsonPathValue(['created', 'renewed']), '["created","renewed"]');
    assert.equal(formatJsonPathValue({ b: 1, a: [true, null], c: '<&>' }), '{"a":[true,null],"b":1,"c":"\\u003c\\u0026\\u003e"}');
  });
});
