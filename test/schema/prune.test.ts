import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { prune, unknownFields, type JSONSchemaProps } from '../../src/schema/structural.ts';
import { deployHookSchema, hook } from './deployhook-schema.ts';

describe('prune', () => {
  test('drops fields the schema does not specify, at every level', () => {
    const input = { ...hook({ job: { command: 'x', bogus: 1 }, extra: true }), junk: 1 };
    assert.deepEqual(prune(deployHookSchema, input), hook({ job: { command: 'x' } }));
  });

  test('always keeps apiVersion, kind and all of metadata at the root', () => {
    const schema: JSONSchemaProps = { type: 'object', properties: { spec: { type: 'object' } } };
    const metadata = { name: 'x', labels: { app: 'a' }, anything: { deep: 1 } };
    const out = prune(schema, { apiVersion: 'v1', kind: 'K', metadata, spec: { a: 1 }, other: 2 });
    assert.deepEqual(out, { apiVersion: 'v1', kind: 'K', metadata, spec: {} });
  });

  test('keeps unknown fields under x-kubernetes-preserve-unknown-fields but prunes the known ones', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        status: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { lastRun: { type: 'object', properties: { phase: { type: 'string' } } } },
        },
      },
    };
    const out = prune(schema, { status: { free: { form: [1] }, lastRun: { phase: 'Done', stray: 1 } } });
    assert.deepEqual(out, { status: { free: { form: [1] }, lastRun: { phase: 'Done' } } });
  });

  test('prunes map values by their additionalProperties schema; additionalProperties: true keeps them', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        typed: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } } },
        free: { type: 'object', additionalProperties: true },
      },
    };
    const out = prune(schema, { typed: { a: { v: '1', w: '2' } }, free: { a: { w: '2' } } });
    assert.deepEqual(out, { typed: { a: { v: '1' } }, free: { a: { w: '2' } } });
  });

  test('keeps apiVersion, kind and metadata of an x-kubernetes-embedded-resource', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' } } } },
        },
        plain: { type: 'object', properties: { spec: { type: 'object' } } },
      },
    };
    const embedded = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { replicas: 1, x: 1 }, y: 1 };
    const out = prune(schema, { template: embedded, plain: { apiVersion: 'v1', kind: 'Pod', spec: {} } });
    assert.deepEqual(out, {
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { replicas: 1 } },
      plain: { spec: {} },
    });
  });

  test('prunes every item of a list of objects', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: { env: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } } },
    };
    assert.deepEqual(prune(schema, { env: [{ name: 'A', x: 1 }, { name: 'B' }] }), { env: [{ name: 'A' }, { name: 'B' }] });
  });

  test('drops explicit nulls of fields that are neither nullable nor defaulted', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        plain: { type: 'string' },
        nullable: { type: 'string', nullable: true },
        defaulted: { type: 'string', default: 'd' },
      },
    };
    assert.deepEqual(prune(schema, { plain: null, nullable: null, defaulted: null }), { nullable: null, defaulted: null });
  });

  test('does not modify its input', () => {
    const input = { ...hook({ job: { command: 'x', bogus: 1 } }), status: { a: { b: 1 } } };
    const before = structuredClone(input);
    const out = prune(deployHookSchema, input) as { status: { a: { b: number } } };
    out.status.a.b = 2;
    assert.deepEqual(input, before);
  });

  test('unknownFields names what pruning drops as undeclared, as strict field validation reports it', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            plain: { type: 'string' },
            env: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
            free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      },
    };
    const value = {
      apiVersion: 'v1',
      kind: 'K',
      metadata: { name: 'x', whatever: 1 },
      spec: { plain: null, jobb: 1, env: [{ name: 'A' }, { name: 'B', vaule: 'b' }], free: { anything: 1 } },
      extra: true,
    };
    // A dropped null is not an unknown field; metadata and preserved fields are not pruned.
    assert.deepEqual(unknownFields(schema, value), ['spec.jobb', 'spec.env[1].vaule', 'extra']);
    assert.deepEqual(unknownFields(schema, { spec: { plain: 'p' } }), []);
  });
});
