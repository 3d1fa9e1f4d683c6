// The query parameters of writes, refused in the API server's words.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/sandbox/api-error.ts';
import { dryRunOf, writeOptions } from '../../src/sandbox/request-options.ts';

const url = (query: string) => new URL(`http://sandbox/api/v1/namespaces/default/configmaps/c?${query}`);

function refusal(run: () => unknown): { code: number; message: string } {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return { code: err.code, message: err.message };
  }
  assert.fail('expected the options to be refused');
}

describe('write options', () => {
  test('the field manager defaults to the program name of the User-Agent', () => {
    assert.equal(writeOptions('CreateOptions', url(''), 'kubectl/v1.34.1 (linux/amd64) kubernetes/abc').fieldManager, 'kubectl');
    assert.equal(writeOptions('CreateOptions', url('fieldManager=flux'), 'kubectl/v1.34.1').fieldManager, 'flux');
    assert.equal(writeOptions('CreateOptions', url(''), undefined).fieldManager, '');
  });

  test('an apply needs a field manager', () => {
    assert.deepEqual(refusal(() => writeOptions('PatchOptions', url(''), 'kubectl/v1.34.1', true)), {
      code: 422,
      message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    });
  });

  test('a field manager must be printable and at most 128 bytes', () => {
    assert.match(refusal(() => writeOptions('UpdateOptions', url(`fieldManager=${'m'.repeat(129)}`), undefined)).message, /fieldManager: Too long: may not be more than 128 bytes/);
    assert.match(refusal(() => writeOptions('UpdateOptions', url('fieldManager=a%07b'), undefined)).message, /fieldManager: Invalid value: "a\\u0007b": invalid character U\+0007 \(at position 1\)/);
  });

  test('force belongs to apply: refused on another patch, ignored by other verbs', () => {
    assert.match(refusal(() => writeOptions('PatchOptions', url('force=true'), 'kubectl/v1')).message, /force: Forbidden: may not be specified for non-apply patch/);
    assert.equal(writeOptions('PatchOptions', url('force=true&fieldManager=x'), undefined, true).force, true);
    assert.equal(writeOptions('CreateOptions', url('force=true'), 'kubectl/v1').force, undefined);
  });

  test('dryRun is All or nothing', () => {
    assert.equal(writeOptions('CreateOptions', url('dryRun=All'), undefined).dryRun, true);
    assert.equal(writeOptions('CreateOptions', url(''), undefined).dryRun, undefined);
    assert.equal(refusal(() => writeOptions('CreateOptions', url('dryRun=Some'), undefined)).code, 422);
    assert.equal(dryRunOf('DeleteOptions', url(''), ['All']), true);
    assert.equal(dryRunOf('DeleteOptions', url(''), undefined), false);
    assert.match(refusal(() => dryRunOf('DeleteOptions', url('dryRun=None'))).message, /^DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value/);
  });
});
