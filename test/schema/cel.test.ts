import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { CelInput } from '@bufbuild/cel';
import { compileExpression, toCelValue } from '../../src/schema/cel.ts';

function run(source: string, self: unknown, oldSelf?: unknown): unknown {
  const compiled = compileExpression(source);
  assert.ok(compiled.ok, compiled.ok ? '' : compiled.error);
  const bindings: Record<string, CelInput> = { self: toCelValue(self, undefined) };
  if (oldSelf !== undefined) bindings.oldSelf = toCelValue(oldSelf, undefined);
  const result = compiled.evaluate(bindings);
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.value;
}

describe('compileExpression', () => {
  test('compiles each distinct source once', () => {
    assert.equal(compileExpression('self.x > 1'), compileExpression('self.x > 1'));
    assert.notEqual(compileExpression('self.x > 1'), compileExpression('self.x > 2'));
  });

  test('knows which expressions are transition rules', () => {
    const transition = compileExpression('self == oldSelf');
    const plain = compileExpression('self.all(oldSelf, oldSelf > 0)');
    assert.ok(transition.ok && transition.usesOldSelf);
    assert.ok(plain.ok && !plain.usesOldSelf, 'a comprehension variable named oldSelf is not the old value');
  });

  test('reports syntax errors and undeclared references instead of throwing', () => {
    const syntax = compileExpression('self.a >');
    assert.ok(!syntax.ok);
    assert.match(syntax.error, /^compilation failed: ERROR: <input>:1:/);
    const undeclared = compileExpression('self.a > limit');
    assert.deepEqual(undeclared, {
      ok: false,
      error: "compilation failed: ERROR: <input>:1:10: undeclared reference to 'limit' (in container '')",
    });
    assert.ok(compileExpression('self.map(x, x + 1).exists(y, y == 2) && type(self) == list').ok);
    const multiline = compileExpression('self.a > 0 &&\n  limit > 1');
    assert.ok(!multiline.ok);
    assert.match(multiline.error, /<input>:2:3: undeclared reference to 'limit'/);
  });
});

describe('toCelValue', () => {
  test('objects are maps: field access and has() work', () => {
    assert.equal(run('has(self.job) && !has(self.webhook) && self.job.command == "x"', { job: { command: 'x' } }), true);
  });

  test('integers are CEL ints, fractions doubles, unless the schema says number', () => {
    assert.equal(run('self.n / 2', { n: 7 }), 3n);
    assert.equal(run('self.f * 2.0', { f: 1.5 }), 3);
    assert.equal(toCelValue(2, { type: 'number' }), 2);
    assert.equal(toCelValue(2, { type: 'integer' }), 2n);
  });

  test('lists, strings, bools and null bind natively', () => {
    assert.equal(run("self.l.size() == 2 && self.l[1] == 'b' && self.b && self.z == null", { l: ['a', 'b'], b: true, z: null }), true);
  });

  test('separately converted equal values are equal (self == oldSelf)', () => {
    assert.equal(run('self == oldSelf', { a: [1, { b: 'c' }] }, { a: [1, { b: 'c' }] }), true);
    assert.equal(run('self == oldSelf', { a: [1] }, { a: [2] }), false);
  });
});
