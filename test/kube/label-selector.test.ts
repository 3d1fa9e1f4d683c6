import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatLabelSelector,
  fromLabelSelector,
  matchesLabels,
  parseLabelSelector,
  SelectorError,
  type Requirement,
} from '../../src/kube/label-selector.ts';

const fails = (fn: () => unknown, message: string | RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof SelectorError && (typeof message === 'string' ? err.message === message : message.test(err.message)));

describe('parseLabelSelector', () => {
  test('every operator of the string form, sorted by key', () => {
    assert.deepEqual(parseLabelSelector('x=1, a==2,b!=3,c in (z, y),d notin (w),e,!f,g>5,h<2'), [
      { key: 'a', operator: 'Equals', values: ['2'] },
      { key: 'b', operator: 'NotEquals', values: ['3'] },
      { key: 'c', operator: 'In', values: ['y', 'z'] },
      { key: 'd', operator: 'NotIn', values: ['w'] },
      { key: 'e', operator: 'Exists', values: [] },
      { key: 'f', operator: 'DoesNotExist', values: [] },
      { key: 'g', operator: 'GreaterThan', values: ['5'] },
      { key: 'h', operator: 'LessThan', values: ['2'] },
      { key: 'x', operator: 'Equals', values: ['1'] },
    ]);
  });

  test('empty means no requirements; prefixed keys and empty values parse', () => {
    assert.deepEqual(parseLabelSelector(''), []);
    assert.deepEqual(parseLabelSelector('  '), []);
    assert.deepEqual(parseLabelSelector('certhook.io/hook=,app.kubernetes.io/name in (,web)'), [
      { key: 'app.kubernetes.io/name', operator: 'In', values: ['', 'web'] },
      { key: 'certhook.io/hook', operator: 'Equals', values: [''] },
    ]);
  });

  test('in and notin are plain words where a key or value is expected', () => {
    assert.deepEqual(parseLabelSelector('in=notin'), [{ key: 'in', operator: 'Equals', values: ['notin'] }]);
  });

  test('syntax errors carry the apiserver parser messages', () => {
    fails(() => parseLabelSelector('a b'), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
    fails(() => parseLabelSelector('a in x'), "unable to parse requirement: found 'x' expected: '('");
    fails(() => parseLabelSelector('a in (x'), "unable to parse requirement: found '', expected: ',' or ')'");
    fails(() => parseLabelSelector('a=b,'), "found '', expected: identifier after ','");
    fails(() => parseLabelSelector('a=b c'), "found 'c', expected: ',' or 'end of string'");
    fails(() => parseLabelSelector('=a'), "found '=', expected: !, identifier, or 'end of string'");
    fails(() => parseLabelSelector('a=(b)'), "unable to parse requirement: found '(', expected: identifier");
  });

  test('invalid keys and values are rejected with the validation messages', () => {
    fails(() => parseLabelSelector('-a=b'), /^unable to parse requirement: <nil>: Invalid value: "-a": name part must consist of alphanumeric characters.*\(e\.g\. 'MyName',  or 'my\.name',  or '123-abc', regex used for validation is/);
    fails(() => parseLabelSelector('Bad_Prefix/a=b'), /prefix part a lowercase RFC 1123 subdomain/);
    fails(() => parseLabelSelector('a=b/c'), /^unable to parse requirement: values\[0\]\[a\]: Invalid value: "b\/c": a valid label must be an empty string/);
    fails(() => parseLabelSelector(`a=${'x'.repeat(64)}`), /must be no more than 63 characters/);
    fails(() => parseLabelSelector('a>b'), /values\[0\]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer/);
  });
});

describe('fromLabelSelector', () => {
  test('matchLabels become Equals and matchExpressions keep their operator', () => {
    assert.deepEqual(
      fromLabelSelector({
        matchLabels: { tier: 'edge' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
      [
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
        { key: 'tier', operator: 'Equals', values: ['edge'] },
      ],
    );
    assert.deepEqual(fromLabelSelector({}), []);
  });

  test('In/NotIn need values, Exists/DoesNotExist take none, operators and labels are validated', () => {
    fails(
      () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'spec.secretSelector'),
      "spec.secretSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    );
    fails(
      () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      "matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    );
    fails(() => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }), 'matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator');
    fails(() => fromLabelSelector({ matchLabels: { a: 'not valid' } }), /^matchLabels: Invalid value: "not valid": a valid label/);
    // Every problem is reported at once.
    fails(
      () => fromLabelSelector({ matchLabels: { '-k': 'v' }, matchExpressions: [{ key: 'a', operator: 'NotIn' }] }),
      /^\[matchLabels: Invalid value: "-k": name part .*, matchExpressions\[0\]\.values: Required value: .*\]$/,
    );
  });
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'edge', replicas: '3' };
  const match = (selector: string, on: Record<string, string> | undefined = labels) => matchesLabels(parseLabelSelector(selector), on);

  test('an empty selector matches everything, even no labels', () => {
    assert.equal(match(''), true);
    assert.equal(match('', undefined), true);
  });

  test('equality, set, existence and numeric operators', () => {
    assert.equal(match('app=web'), true);
    assert.equal(match('app=api'), false);
    assert.equal(match('app!=api'), true);
    assert.equal(match('app!=web'), false);
    assert.equal(match('missing!=x'), true);
    assert.equal(match('app in (api,web)'), true);
    assert.equal(match('missing in (x)'), false);
    assert.equal(match('app notin (api)'), true);
    assert.equal(match('app notin (web)'), false);
    assert.equal(match('missing notin (x)'), true);
    assert.equal(match('tier'), true);
    assert.equal(match('missing'), false);
    assert.equal(match('!missing'), true);
    assert.equal(match('!tier'), false);
    assert.equal(match('replicas>2'), true);
    assert.equal(match('replicas>3'), false);
    assert.equal(match('replicas<4'), true);
    assert.equal(match('app>1'), false);
  });

  test('all requirements must hold', () => {
    assert.equal(match('app=web,tier=edge'), true);
    assert.equal(match('app=web,tier=core'), false);
  });

  test('works on object-form requirements', () => {
    const reqs = fromLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['core'] }] });
    assert.equal(matchesLabels(reqs, labels), true);
    assert.equal(matchesLabels(reqs, { app: 'web', tier: 'core' }), false);
  });
});

describe('formatLabelSelector', () => {
  test('prints the canonical form, which parses back to the same requirements', () => {
    const reqs: Requirement[] = [
      { key: 'z', operator: 'In', values: ['b', 'a'] },
      { key: 'a', operator: 'Equals', values: ['1'] },
      { key: 'm', operator: 'DoesNotExist', values: [] },
      { key: 'n', operator: 'Exists', values: [] },
      { key: 'p', operator: 'NotIn', values: ['x'] },
      { key: 'q', operator: 'NotEquals', values: ['y'] },
      { key: 'r', operator: 'GreaterThan', values: ['1'] },
    ];
    const text = formatLabelSelector(reqs);
    assert.equal(text, 'a=1,!m,n,p notin (x),q!=y,r>1,z in (a,b)');
    assert.deepEqual(
      parseLabelSelector(text),
      reqs.map((r) => ({ ...r, values: [...r.values].sort() })).sort((x, y) => x.key.localeCompare(y.key)),
    );
    assert.equal(formatLabelSelector([]), '');
  });
});
