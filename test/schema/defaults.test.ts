import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, type JSONSchemaProps } from '../../src/schema/structural.ts';
import { deployHookSchema, hook } from './deployhook-schema.ts';

type Hook = { spec: Record<string, unknown> };

describe('applyDefaults', () => {
  test('fills absent fields with their defaults', () => {
    const out = applyDefaults(deployHookSchema, hook({ job: { command: 'nginx -s reload' } })) as Hook;
    assert.equal(out.spec.enabled, true);
    assert.equal(out.spec.timeoutSeconds, 30);
  });

  test('keeps values that are present, including false and 0-like values', () => {
    const out = applyDefaults(deployHookSchema, hook({ enabled: false, timeoutSeconds: 5 })) as Hook;
    assert.equal(out.spec.enabled, false);
    assert.equal(out.spec.timeoutSeconds, 5);
  });

  test('defaults nested fields only when their parent object exists', () => {
    const withoutJob = applyDefaults(deployHookSchema, hook({ webhook: { url: 'https://h' } })) as Hook;
    assert.equal(withoutJob.spec.job, undefined);
    assert.deepEqual(applyDefaults(deployHookSchema, { apiVersion: 'v', kind: 'DeployHook' }), {
      apiVersion: 'v',
      kind: 'DeployHook',
    });
  });

  test('a defaulted object is itself defaulted further', () => {
    const out = applyDefaults(deployHookSchema, hook({ job: { command: 'x' } })) as Hook;
    assert.deepEqual(out.spec.job, { command: 'x', resources: { cpu: '100m' } });
  });

  test('an explicit null takes the default unless the field is nullable', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        a: { type: 'string', default: 'A' },
        b: { type: 'string', nullable: true, default: 'B' },
      },
    };
    assert.deepEqual(applyDefaults(schema, { a: null, b: null }), { a: 'A', b: null });
  });

  test('applies defaults inside array items and additionalProperties values', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        list: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer', default: 443 } } } },
        map: {
          type: 'object',
          additionalProperties: { type: 'object', properties: { weight: { type: 'integer', default: 1 } } },
        },
        names: { type: 'array', items: { type: 'string', default: 'unnamed' } },
      },
    };
    const out = applyDefaults(schema, { list: [{}, { port: 80 }], map: { a: {}, b: { weight: 5 } }, names: [null, 'x'] });
    assert.deepEqual(out, {
      list: [{ port: 443 }, { port: 80 }],
      map: { a: { weight: 1 }, b: { weight: 5 } },
      names: ['unnamed', 'x'],
    });
  });

  test('does not modify its input, and defaults are copies', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: { o: { type: 'object', default: { tags: ['a'] }, properties: { tags: { type: 'array', items: { type: 'string' } } } } },
    };
    const input = hook({ job: { command: 'x' } });
    const before = structuredClone(input);
    applyDefaults(deployHookSchema, input);
    assert.deepEqual(input, before);
    const first = applyDefaults(schema, {}) as { o: { tags: string[] } };
    first.o.tags.push('b');
    assert.deepEqual(applyDefaults(schema, {}), { o: { tags: ['a'] } });
  });
});
