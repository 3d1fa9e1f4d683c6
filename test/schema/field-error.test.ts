import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  fieldErrorBody,
  formatFieldError,
  formatInvalid,
  goFloat,
  statusCauses,
  type FieldError,
} from '../../src/schema/field-error.ts';

describe('formatFieldError', () => {
  test('prints each error type as the apiserver does', () => {
    const cases: Array<[FieldError, string]> = [
      [{ path: 'spec.job', type: 'Required', message: '' }, 'spec.job: Required value'],
      [{ path: 'spec.job', type: 'Required', message: 'need one' }, 'spec.job: Required value: need one'],
      [
        { path: 'spec.timeoutSeconds', type: 'Invalid', value: 500, message: 'spec.timeoutSeconds in body should be less than or equal to 300' },
        'spec.timeoutSeconds: Invalid value: 500: spec.timeoutSeconds in body should be less than or equal to 300',
      ],
      [
        { path: 'spec.onEvents[0]', type: 'Unsupported', value: 'foo', message: 'supported values: "created", "renewed", "revoked"' },
        'spec.onEvents[0]: Unsupported value: "foo": supported values: "created", "renewed", "revoked"',
      ],
      [
        { path: 'spec.job.command', type: 'TooLong', value: 'x', message: 'may not be more than 1024 bytes' },
        'spec.job.command: Too long: may not be more than 1024 bytes',
      ],
      [{ path: 'spec.domains', type: 'TooMany', value: 4, message: 'must have at most 3 items' }, 'spec.domains: Too many: 4: must have at most 3 items'],
      [{ path: 'spec.domains', type: 'TooMany', message: 'too many items' }, 'spec.domains: Too many: too many items'],
      [{ path: 'spec.onEvents[1]', type: 'Duplicate', value: 'created', message: '' }, 'spec.onEvents[1]: Duplicate value: "created"'],
      [{ path: 'spec.dryRun', type: 'Forbidden', message: 'not allowed' }, 'spec.dryRun: Forbidden: not allowed'],
      [{ path: 'spec', type: 'Invalid', value: 'object', message: 'exactly one of job or webhook' }, 'spec: Invalid value: "object": exactly one of job or webhook'],
      [{ path: 'spec.enabled', type: 'Invalid', value: true, message: 'm' }, 'spec.enabled: Invalid value: true: m'],
      [{ path: 'spec.ratio', type: 'Invalid', value: 0.5, message: 'm' }, 'spec.ratio: Invalid value: 0.5: m'],
      [{ path: 'spec', type: 'TypeInvalid', value: 'null', message: 'spec in body must be of type object: "null"' }, 'spec: Invalid value: "null": spec in body must be of type object: "null"'],
      [{ path: '', type: 'Invalid', value: null, message: 'm' }, '<nil>: Invalid value: "null": m'],
      [
        { path: 'metadata.labels[app]', type: 'Invalid', value: { b: [1, 'x'], a: null }, message: 'm' },
        'metadata.labels[app]: Invalid value: map[string]interface {}{"a":interface {}(nil), "b":[]interface {}{1, "x"}}: m',
      ],
    ];
    for (const [error, printed] of cases) assert.equal(formatFieldError(error), printed);
  });

  test('floats print like Go %v', () => {
    assert.equal(goFloat(300), '300');
    assert.equal(goFloat(0.25), '0.25');
    assert.equal(goFloat(1e6), '1e+06');
    assert.equal(goFloat(1234567.5), '1.2345675e+06');
    assert.equal(goFloat(0.00001), '1e-05');
  });
});

describe('formatInvalid', () => {
  const required: FieldError = { path: 'spec.job', type: 'Required', message: '' };
  const tooLong: FieldError = { path: 'spec.job.command', type: 'TooLong', message: 'may not be more than 1024 bytes' };

  test('one error without brackets', () => {
    assert.equal(formatInvalid('DeployHook.certhook.io', 'x', [required]), 'DeployHook.certhook.io "x" is invalid: spec.job: Required value');
  });

  test('several errors in brackets, duplicates once', () => {
    assert.equal(
      formatInvalid('DeployHook.certhook.io', 'reload-edge', [required, tooLong, { ...required }]),
      'DeployHook.certhook.io "reload-edge" is invalid: [spec.job: Required value, spec.job.command: Too long: may not be more than 1024 bytes]',
    );
  });

  test('status causes carry the reason, the body and the field', () => {
    assert.deepEqual(statusCauses([required, tooLong, required]), [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.job' },
      { reason: 'FieldValueTooLong', message: 'Too long: may not be more than 1024 bytes', field: 'spec.job.command' },
    ]);
    assert.equal(fieldErrorBody({ path: 'a', type: 'Unsupported', value: 'x', message: '' }), 'Unsupported value: "x"');
  });
});
