import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { structuralSchema } from '../../src/api/structural-schema.ts';

describe('structuralSchema', () => {
  test('drops additionalProperties: false from strict objects and keeps required', () => {
    const schema = structuralSchema(z.strictObject({ a: z.string().describe('A.'), b: z.boolean().optional() }));
    assert.deepEqual(schema, {
      type: 'object',
      required: ['a'],
      properties: { a: { description: 'A.', type: 'string' }, b: { type: 'boolean' } },
    });
  });

  test('maps zod integer bounds to Kubernetes formats', () => {
    assert.deepEqual(structuralSchema(z.int32()), { type: 'integer', format: 'int32' });
    assert.deepEqual(structuralSchema(z.int().min(0)), { type: 'integer', format: 'int64', minimum: 0 });
    assert.deepEqual(structuralSchema(z.int().min(1).max(300)), { type: 'integer', format: 'int64', minimum: 1, maximum: 300 });
  });

  test('fields with defaults are optional (the API server fills them in) and carry the default', () => {
    const schema = structuralSchema(z.object({ n: z.int().min(1).max(9).default(3), s: z.string() }));
    assert.deepEqual(schema.required, ['s']);
    assert.equal(schema.properties?.n?.default, 3);
  });

  test('carries x-kubernetes extensions given with .meta()', () => {
    const rule = { rule: 'self.size() > 0', message: 'must not be empty' };
    const schema = structuralSchema(
      z.array(z.object({ k: z.string() })).meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['k'],
        'x-kubernetes-validations': [rule],
      }),
    );
    assert.equal(schema['x-kubernetes-list-type'], 'map');
    assert.deepEqual(schema['x-kubernetes-list-map-keys'], ['k']);
    assert.deepEqual(schema['x-kubernetes-validations'], [rule]);
  });

  test('a record becomes an object with additionalProperties; a literal an enum', () => {
    assert.deepEqual(structuralSchema(z.record(z.string(), z.string())), { type: 'object', additionalProperties: { type: 'string' } });
    assert.deepEqual(structuralSchema(z.literal('x')), { type: 'string', enum: ['x'] });
  });

  test('a record bounded with maxProperties keeps the bound', () => {
    assert.deepEqual(structuralSchema(z.record(z.string(), z.string().max(63)).meta({ maxProperties: 16 })), {
      type: 'object',
      maxProperties: 16,
      additionalProperties: { type: 'string', maxLength: 63 },
    });
  });

  test('an integer-or-string union marked x-kubernetes-int-or-string has no type, and the bounds of both', () => {
    const quantity = z.union([z.int().min(0), z.string().max(64).regex(/^[0-9]+m?$/)]).meta({ 'x-kubernetes-int-or-string': true, description: 'A quantity.' });
    assert.deepEqual(structuralSchema(z.object({ q: quantity })).properties?.q, {
      description: 'A quantity.',
      'x-kubernetes-int-or-string': true,
      minimum: 0,
      pattern: '^[0-9]+m?$',
      maxLength: 64,
    });
    assert.throws(() => structuralSchema(z.union([z.string(), z.boolean()]).meta({ 'x-kubernetes-int-or-string': true })), /needs a union of exactly an integer and a string/);
    assert.throws(() => structuralSchema(z.union([z.int(), z.string()]).meta({ 'x-kubernetes-int-or-string': true, default: 1 })), /keyword "default" on an int-or-string node/);
    assert.throws(() => structuralSchema(z.union([z.int(), z.string()])), /keyword "anyOf"/, 'without the marker a union is still refused');
  });

  test('refuses what a structural schema cannot express, naming the path', () => {
    assert.throws(() => structuralSchema(z.object({ u: z.union([z.string(), z.int()]) })), /\.u: JSON Schema keyword "anyOf"/);
    assert.throws(() => structuralSchema(z.object({ a: z.any() })), /\.a: every node of a structural schema needs a single type/);
    assert.throws(() => structuralSchema(z.looseObject({ a: z.string() })), /both properties and additionalProperties/);
  });
});
