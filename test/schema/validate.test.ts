import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError, validate, type JSONSchemaProps } from '../../src/schema/structural.ts';
import { deployHookSchema, hook } from './deployhook-schema.ts';

/** Validates `spec` against a schema whose spec is `specSchema`; returns the printed errors. */
function check(specSchema: JSONSchemaProps, spec: unknown): string[] {
  const schema: JSONSchemaProps = { type: 'object', properties: { spec: specSchema } };
  return validate(schema, { spec }).map(formatFieldError);
}

describe('validate: OpenAPI value validations', () => {
  test('a valid DeployHook has no errors', () => {
    const spec = { enabled: true, timeoutSeconds: 30, onEvents: ['created', 'renewed'], job: { command: 'nginx -s reload' } };
    assert.deepEqual(validate(deployHookSchema, hook(spec)), []);
  });

  test('type mismatches are TypeInvalid, naming the actual type', () => {
    assert.deepEqual(check({ type: 'integer' }, 'abc'), [
      'spec: Invalid value: "string": spec in body must be of type integer: "string"',
    ]);
    assert.deepEqual(check({ type: 'integer' }, 1.5), ['spec: Invalid value: "number": spec in body must be of type integer: "number"']);
    assert.deepEqual(check({ type: 'object' }, [1]), ['spec: Invalid value: "array": spec in body must be of type object: "array"']);
    assert.deepEqual(check({ type: 'number' }, 1), []);
    assert.deepEqual(check({ type: 'boolean' }, true), []);
    const [error] = validate({ type: 'object', properties: { spec: { type: 'string' } } }, { spec: 1 });
    assert.equal(error?.type, 'TypeInvalid');
  });

  test('null is rejected unless nullable', () => {
    assert.deepEqual(check({ type: 'object' }, null), ['spec: Invalid value: "null": spec in body must be of type object: "null"']);
    assert.deepEqual(check({ type: 'object', nullable: true }, null), []);
  });

  test('x-kubernetes-int-or-string accepts integers and strings only', () => {
    const schema: JSONSchemaProps = { 'x-kubernetes-int-or-string': true };
    assert.deepEqual(check(schema, 8080), []);
    assert.deepEqual(check(schema, 'http'), []);
    assert.deepEqual(check(schema, true), [
      'spec: Invalid value: "boolean": spec in body must be of type integer,string: "boolean"',
    ]);
  });

  test('required fields', () => {
    const errors = validate(deployHookSchema, hook({ job: { image: 'busybox' } }));
    assert.deepEqual(errors[0], { path: 'spec.job.command', type: 'Required', message: '' });
    assert.equal(formatFieldError(errors[0]!), 'spec.job.command: Required value');
  });

  test('enum', () => {
    const errors = validate(deployHookSchema, hook({ onEvents: ['foo'], job: { command: 'x' } }));
    assert.deepEqual(errors.map(formatFieldError), [
      'spec.onEvents[0]: Unsupported value: "foo": supported values: "created", "renewed", "revoked"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
    assert.deepEqual(check({ enum: [1, 'a'] }, 2), ['spec: Unsupported value: 2: supported values: "1", "a"']);
  });

  test('minimum and maximum, inclusive and exclusive', () => {
    const errors = validate(deployHookSchema, hook({ timeoutSeconds: 500, job: { command: 'x' } }));
    assert.deepEqual(errors.map(formatFieldError), [
      'spec.timeoutSeconds: Invalid value: 500: spec.timeoutSeconds in body should be less than or equal to 300',
    ]);
    assert.deepEqual(check({ type: 'integer', minimum: 1 }, 0), [
      'spec: Invalid value: 0: spec in body should be greater than or equal to 1',
    ]);
    assert.deepEqual(check({ type: 'integer', minimum: 1 }, 1), []);
    assert.deepEqual(check({ type: 'integer', minimum: 1, exclusiveMinimum: true }, 1), [
      'spec: Invalid value: 1: spec in body should be greater than 1',
    ]);
    assert.deepEqual(check({ type: 'number', maximum: 1e6, exclusiveMaximum: true }, 1e6 + 0.5), [
      'spec: Invalid value: 1.0000005e+06: spec in body should be less than 1e+06',
    ]);
    assert.deepEqual(check({ type: 'integer', multipleOf: 5 }, 12), ['spec: Invalid value: 12: spec in body should be a multiple of 5']);
    assert.deepEqual(check({ type: 'integer', multipleOf: 5 }, 15), []);
  });

  test('maxLength is TooLong and counts characters; minLength and pattern are Invalid', () => {
    const errors = validate(deployHookSchema, hook({ job: { command: 'x'.repeat(1025) } }));
    assert.deepEqual(errors[0], { path: 'spec.job.command', type: 'TooLong', message: 'may not be more than 1024 bytes' });
    assert.deepEqual(validate(deployHookSchema, hook({ job: { command: 'é'.repeat(1024) } })), []);
    assert.deepEqual(check({ type: 'string', minLength: 2 }, 'a'), ['spec: Invalid value: "a": spec in body should be at least 2 chars long']);
    assert.deepEqual(check({ type: 'string', pattern: '^[a-z]+$' }, 'A1'), [
      `spec: Invalid value: "A1": spec in body should match '^[a-z]+$'`,
    ]);
    assert.deepEqual(check({ type: 'string', pattern: '^[a-z]+$' }, 'abc'), []);
    // An escape RE2 accepts but JavaScript's Unicode mode does not.
    assert.deepEqual(check({ type: 'string', pattern: '^a\\-b$' }, 'a-b'), []);
  });

  test('formats are checked; unknown formats are not', () => {
    assert.deepEqual(check({ type: 'string', format: 'date-time' }, '2024-02-30T10:00:00Z'), [
      'spec: Invalid value: "2024-02-30T10:00:00Z": spec in body must be of type date-time: "2024-02-30T10:00:00Z"',
    ]);
    assert.deepEqual(check({ type: 'string', format: 'date-time' }, '2024-02-29T10:00:00.5+02:00'), []);
    assert.deepEqual(check({ type: 'string', format: 'uri' }, 'https://example.com/hook'), []);
    assert.equal(check({ type: 'string', format: 'uri' }, 'not a uri').length, 1);
    assert.equal(check({ type: 'string', format: 'ipv4' }, '300.1.1.1').length, 1);
    assert.equal(check({ type: 'string', format: 'cidr' }, '10.0.0.0/8').length, 0);
    assert.deepEqual(check({ type: 'string', format: 'k8s-short-name' }, '!!!'), []);
  });

  test('minItems, maxItems and uniqueItems', () => {
    assert.deepEqual(check({ type: 'array', minItems: 1 }, []), ['spec: Invalid value: 0: spec in body should have at least 1 items']);
    const errors = validate(deployHookSchema, hook({ domains: ['a', 'b', 'c', 'd'], job: { command: 'x' } }));
    assert.deepEqual(errors[0], { path: 'spec.domains', type: 'TooMany', value: 4, message: 'must have at most 3 items' });
    assert.equal(formatFieldError(errors[0]!), 'spec.domains: Too many: 4: must have at most 3 items');
    assert.deepEqual(check({ type: 'array', uniqueItems: true }, [{ a: 1, b: 2 }, { b: 2, a: 1 }]), [
      `spec: Invalid value: "": spec in body shouldn't contain duplicates`,
    ]);
    assert.deepEqual(check({ type: 'array', uniqueItems: true }, [1, 2]), []);
  });

  test('x-kubernetes-list-type set rejects duplicate items; map rejects duplicate keys', () => {
    const errors = validate(deployHookSchema, hook({ onEvents: ['created', 'renewed', 'created'], job: { command: 'x' } }));
    assert.deepEqual(errors.map(formatFieldError), ['spec.onEvents[2]: Duplicate value: "created"']);
    const mapList: JSONSchemaProps = {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } },
    };
    assert.deepEqual(check(mapList, [{ name: 'A', value: '1' }, { name: 'B' }, { name: 'A', value: '2' }]), [
      'spec[2]: Duplicate value: map[string]interface {}{"name":"A"}',
    ]);
    assert.deepEqual(check({ ...mapList, 'x-kubernetes-list-type': 'atomic' }, [{ name: 'A' }, { name: 'A' }]), []);
  });

  test('minProperties and maxProperties', () => {
    assert.deepEqual(check({ type: 'object', minProperties: 1 }, {}), ['spec: Invalid value: 0: spec in body should have at least 1 properties']);
    assert.deepEqual(check({ type: 'object', maxProperties: 1 }, { a: 1, b: 2 }), ['spec: Too many: 2: must have at most 1 items']);
    assert.deepEqual(check({ type: 'object', maxProperties: 2 }, { a: 1, b: 2 }), []);
    // A property-count error is the only error reported for that object.
    assert.deepEqual(check({ type: 'object', minProperties: 2, required: ['b'] }, { a: 1 }), [
      'spec: Invalid value: 1: spec in body should have at least 2 properties',
    ]);
  });

  test('map values are validated by additionalProperties, named the kube-openapi way', () => {
    const labels: JSONSchemaProps = { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } };
    assert.deepEqual(check(labels, { app: 'web', tier: 'frontend' }), ['spec.tier: Too long: may not be more than 3 bytes']);
  });

  test('oneOf, anyOf, allOf and not', () => {
    const exactlyOne: JSONSchemaProps = { type: 'object', oneOf: [{ required: ['job'] }, { required: ['webhook'] }] };
    assert.deepEqual(check(exactlyOne, { job: {} }), []);
    assert.deepEqual(check(exactlyOne, { job: {}, webhook: {} }), [
      '<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ]);
    assert.deepEqual(check(exactlyOne, {}), [
      '<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found none valid',
      'spec.job: Required value',
    ]);
    const anyOf: JSONSchemaProps = { type: 'string', anyOf: [{ maxLength: 2 }, { pattern: '^x' }] };
    assert.deepEqual(check(anyOf, 'xyz'), []);
    assert.equal(check(anyOf, 'abc')[0], '<nil>: Invalid value: "": "spec" must validate at least one schema (anyOf)');
    const allOf: JSONSchemaProps = { type: 'integer', allOf: [{ minimum: 1 }, { maximum: 10 }] };
    assert.deepEqual(check(allOf, 5), []);
    assert.deepEqual(check(allOf, 11), [
      'spec: Invalid value: 11: spec in body should be less than or equal to 10',
      '<nil>: Invalid value: "": "spec" must validate all the schemas (allOf)',
    ]);
    const not: JSONSchemaProps = { type: 'string', not: { enum: ['forbidden'] } };
    assert.deepEqual(check(not, 'fine'), []);
    assert.deepEqual(check(not, 'forbidden'), ['<nil>: Invalid value: "": "spec" must not validate the schema (not)']);
  });

  test("root metadata is held to what the schema declares of it (a CRD's metadata.name limit), and to nothing else", () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } } } },
    };
    assert.deepEqual(validate(schema, { metadata: { name: 'short', labels: { a: 'b' }, annotations: { 'x/y': 'z' } } }), []);
    assert.deepEqual(validate(schema, { metadata: { name: 'much-too-long' } }).map(formatFieldError), ['metadata.name: Too long: may not be more than 5 bytes']);
    assert.deepEqual(validate({ type: 'object', properties: { metadata: { type: 'object' } } }, { metadata: { name: 'x'.repeat(300) } }), []);
  });

  test('rules are skipped, with a note, when the object has blocking errors; not otherwise', () => {
    const both = { job: { command: 'x' }, webhook: { url: 'https://h' } };
    const blocked = validate(deployHookSchema, hook({ ...both, timeoutSeconds: 'slow' })).map(formatFieldError);
    assert.equal(blocked.length, 2);
    assert.match(blocked[1]!, /^<nil>: Invalid value: "null": some validation rules were not checked/);
    const notBlocked = validate(deployHookSchema, hook({ ...both, timeoutSeconds: 500 })).map(formatFieldError);
    assert.deepEqual(notBlocked, [
      'spec.timeoutSeconds: Invalid value: 500: spec.timeoutSeconds in body should be less than or equal to 300',
      'spec: Invalid value: "object": exactly one of job or webhook must be set',
    ]);
    assert.deepEqual(check({ type: 'object', required: ['a'] }, {}), ['spec.a: Required value']);
  });
});
