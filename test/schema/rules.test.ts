import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError, validate, type JSONSchemaProps, type ValidationRule } from '../../src/schema/structural.ts';
import { deployHookSchema, hook } from './deployhook-schema.ts';

/** Printed errors of `spec` against a spec schema carrying `rules` (plus `extra` schema props). */
function check(rules: ValidationRule[], spec: unknown, extra: JSONSchemaProps = {}, oldSpec?: unknown): string[] {
  const schema: JSONSchemaProps = {
    type: 'object',
    properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...extra, 'x-kubernetes-validations': rules } },
  };
  const old = oldSpec === undefined ? undefined : { spec: oldSpec };
  return validate(schema, { spec }, old).map(formatFieldError);
}

describe('validate: x-kubernetes-validations (CEL)', () => {
  test('"exactly one of job or webhook" at spec', () => {
    const expected = ['spec: Invalid value: "object": exactly one of job or webhook must be set'];
    assert.deepEqual(validate(deployHookSchema, hook({ job: { command: 'x' }, webhook: { url: 'https://h' } })).map(formatFieldError), expected);
    assert.deepEqual(validate(deployHookSchema, hook({ enabled: true })).map(formatFieldError), expected);
    assert.deepEqual(validate(deployHookSchema, hook({ webhook: { url: 'https://h' } })), []);
  });

  test('rules on nested scalars bind self to that value', () => {
    assert.deepEqual(validate(deployHookSchema, hook({ webhook: { url: 'http://h' } })).map(formatFieldError), [
      'spec.webhook.url: Invalid value: "string": url must use https',
    ]);
  });

  test('without a message, the failure names the rule', () => {
    assert.deepEqual(check([{ rule: 'self.replicas > 0' }], { replicas: 0 }), [
      'spec: Invalid value: "object": failed rule: self.replicas > 0',
    ]);
  });

  test('the common Kubernetes idioms evaluate', () => {
    const idioms: Array<[string, unknown, unknown]> = [
      ['self.command.size() <= 5', { command: 'abcde' }, { command: 'abcdef' }],
      ["self.events.all(x, x in ['a', 'b'])", { events: ['a', 'b'] }, { events: ['a', 'c'] }],
      ["self.url.startsWith('https://')", { url: 'https://x' }, { url: 'http://x' }],
      ["self.name.matches('^[a-z]+$')", { name: 'abc' }, { name: 'Abc' }],
      ['!has(self.a) || self.a > 0', {}, { a: 0 }],
      ['!has(self.a) || self.a > 0', { a: 2 }, { a: -1 }],
      ['has(self.job) != has(self.webhook)', { job: {} }, {}],
      ["self.tags.exists_one(t, t == 'x') && self.tags.size() == 2", { tags: ['x', 'y'] }, { tags: ['x', 'x'] }],
      ["self.name.lowerAscii() == self.name", { name: 'abc' }, { name: 'aBc' }],
    ];
    for (const [rule, good, bad] of idioms) {
      assert.deepEqual(check([{ rule }], good), [], `${rule} should accept ${JSON.stringify(good)}`);
      assert.equal(check([{ rule }], bad).length, 1, `${rule} should reject ${JSON.stringify(bad)}`);
    }
  });

  test('integers bind as CEL ints, type: number as doubles', () => {
    const extra: JSONSchemaProps = { properties: { count: { type: 'integer' }, ratio: { type: 'number' } } };
    assert.deepEqual(check([{ rule: 'self.count / 2 == 1 && type(self.count) == int' }], { count: 3 }, extra), []);
    assert.deepEqual(check([{ rule: 'type(self.ratio) == double' }], { ratio: 2 }, extra), []);
  });

  test('messageExpression builds the message; on failure the message is used', () => {
    const rule = { rule: 'self.timeout <= 300', messageExpression: "'timeout ' + string(self.timeout) + 's is over 300s'" };
    assert.deepEqual(check([rule], { timeout: 500 }), ['spec: Invalid value: "object": timeout 500s is over 300s']);
    const broken = { rule: 'self.timeout <= 300', message: 'too long', messageExpression: 'self.missing' };
    assert.deepEqual(check([broken], { timeout: 500 }), ['spec: Invalid value: "object": too long']);
  });

  test('reason picks the error type', () => {
    assert.deepEqual(check([{ rule: 'false', message: 'no', reason: 'FieldValueForbidden' }], {}), ['spec: Forbidden: no']);
    assert.deepEqual(check([{ rule: 'false', message: 'need it', reason: 'FieldValueRequired' }], {}), ['spec: Required value: need it']);
    assert.deepEqual(check([{ rule: 'false', message: 'dup', reason: 'FieldValueDuplicate' }], {}), ['spec: Duplicate value: "object"']);
    assert.deepEqual(check([{ rule: 'false', message: 'bad', reason: 'FieldValueInvalid' }], {}), ['spec: Invalid value: "object": bad']);
  });

  test('fieldPath reports the failure at a field below the rule', () => {
    const extra: JSONSchemaProps = {
      properties: {
        job: { type: 'object', properties: { command: { type: 'string' } } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    };
    assert.deepEqual(check([{ rule: "self.job.command != ''", message: 'empty', fieldPath: '.job.command' }], { job: { command: '' } }, extra), [
      'spec.job.command: Invalid value: "object": empty',
    ]);
    assert.deepEqual(check([{ rule: 'false', message: 'm', fieldPath: ".labels['app.kubernetes.io/name']" }], {}, extra), [
      'spec.labels[app.kubernetes.io/name]: Invalid value: "object": m',
    ]);
    assert.deepEqual(check([{ rule: 'false', fieldPath: '.nope' }], {}, extra), [
      'spec: Invalid value: "object": rule compile error: fieldPath ".nope" does not refer to a valid field',
    ]);
  });

  test('transition rules run only on update, against the correlated old value', () => {
    const secret = (name: string) => hook({ webhook: { url: 'https://h', secretRef: { name } } });
    assert.deepEqual(validate(deployHookSchema, secret('a')), [], 'create: no oldSelf, rule skipped');
    assert.deepEqual(validate(deployHookSchema, secret('a'), secret('a')), []);
    assert.deepEqual(validate(deployHookSchema, secret('b'), secret('a')).map(formatFieldError), [
      'spec.webhook.secretRef: Invalid value: "object": secretRef is immutable',
    ]);
    const before = hook({ webhook: { url: 'https://h' } });
    assert.deepEqual(validate(deployHookSchema, secret('b'), before), [], 'no old value at that path: rule skipped');
  });

  test('list items correlate with old items by key only in x-kubernetes-list-type: map lists', () => {
    const items: JSONSchemaProps = {
      type: 'object',
      properties: { name: { type: 'string' }, value: { type: 'string' } },
      'x-kubernetes-validations': [{ rule: 'self.value == oldSelf.value', message: 'value is immutable' }],
    };
    const list = (listType: 'map' | 'atomic'): JSONSchemaProps => ({
      properties: {
        env: { type: 'array', 'x-kubernetes-list-type': listType, 'x-kubernetes-list-map-keys': ['name'], items },
      },
    });
    const oldSpec = { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] };
    const reordered = { env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }, { name: 'C', value: '3' }] };
    assert.deepEqual(check([], reordered, list('map'), oldSpec), []);
    assert.deepEqual(check([], { env: [{ name: 'B', value: '2' }, { name: 'A', value: '9' }] }, list('map'), oldSpec), [
      'spec.env[1]: Invalid value: "object": value is immutable',
    ]);
    assert.deepEqual(check([], { env: [{ name: 'A', value: '9' }] }, list('atomic'), oldSpec), []);
  });

  test('a rule that fails to compile is an Invalid error, not an exception', () => {
    assert.deepEqual(check([{ rule: 'self.a >' }], {}).length, 1);
    assert.match(check([{ rule: 'self.a >' }], {})[0]!, /^spec: Invalid value: "object": rule compile error: compilation failed: ERROR: /);
    assert.deepEqual(check([{ rule: 'size(sefl) > 0' }], {}), [
      `spec: Invalid value: "object": rule compile error: compilation failed: ERROR: <input>:1:6: undeclared reference to 'sefl' (in container '')`,
    ]);
    assert.deepEqual(check([{ rule: "self.name.startWith('a')" }], { name: 'a' }), [
      `spec: Invalid value: "object": rule compile error: compilation failed: ERROR: <input>:1:10: undeclared reference to 'startWith' (in container '')`,
    ]);
    assert.match(check([{ rule: 'true', messageExpression: "'a' +" }], {})[0]!, /rule compile error: messageExpression compilation failed/);
  });

  test('a rule that errors at runtime reports the error', () => {
    const [error] = check([{ rule: 'self.a / self.b > 0', message: 'ratio' }], { a: 1, b: 0 });
    assert.match(error!, /^spec: Invalid value: "object": .*divide by zero evaluating rule: ratio$/);
  });

  test('rules at the root see the resource, with only metadata.name and generateName', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: "self.metadata.name.startsWith('hook-') && !has(self.metadata.namespace)", message: 'bad name' },
      ],
    };
    assert.deepEqual(validate(schema, { metadata: { name: 'hook-a', namespace: 'web' } }), []);
    assert.deepEqual(validate(schema, { metadata: { name: 'a' } }).map(formatFieldError), ['<nil>: Invalid value: "object": bad name']);
    const metadataRule: JSONSchemaProps = {
      type: 'object',
      properties: { metadata: { type: 'object', 'x-kubernetes-validations': [{ rule: 'false' }] } },
    };
    assert.deepEqual(validate(metadataRule, { metadata: { name: 'a' } }), [], 'root metadata is left to the server');
  });

  test('null values are not evaluated', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        note: { type: 'string', nullable: true, 'x-kubernetes-validations': [{ rule: 'self.size() > 3' }] },
      },
    };
    assert.deepEqual(validate(schema, { note: null }), []);
    assert.equal(validate(schema, { note: 'ab' }).length, 1);
  });

  test('rules under additionalProperties and allOf are evaluated, map keys in field.Path form', () => {
    const extra: JSONSchemaProps = {
      properties: {
        labels: {
          type: 'object',
          additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self != ""', message: 'empty label' }] },
        },
      },
      allOf: [{ 'x-kubernetes-validations': [{ rule: 'has(self.labels)', message: 'labels required' }] }],
    };
    assert.deepEqual(check([], { labels: { app: '' } }, extra), ['spec.labels[app]: Invalid value: "string": empty label']);
    assert.deepEqual(check([], {}, extra), ['spec: Invalid value: "object": labels required']);
  });
});
