// Placing a problem: the path in a message (either Kubernetes spelling) to the line and column of
// the field in the manifest.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { fieldOffset } from '../../src/lint/locate.ts';
import { splitProblem } from '../../src/lint/problem-text.ts';

const MANIFEST = `spec:
  job: &job
    command: reload
    podLabels:
      app.kubernetes.io/name: web
      "team name": a
    env:
      - name: A
      - name: B
  webhook: *job
`;

function position(path: string): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(MANIFEST, { lineCounter });
  const { line, col } = lineCounter.linePos(fieldOffset(doc, path));
  return `${line}:${col}`;
}

describe('fieldOffset', () => {
  test('a field is found by its key, a list item by its index', () => {
    assert.equal(position('spec.job.command'), '3:5');
    assert.equal(position('spec.job.env[1]'), '9:9');
    assert.equal(position('spec.job.env[1].name'), '9:9');
    // zod's spelling of an index
    assert.equal(position('spec.job.env.0'), '8:9');
  });

  test('map keys in both spellings: dotted (kube-openapi), bracketed (field.Path), quoted', () => {
    assert.equal(position('spec.job.podLabels.app.kubernetes.io/name'), '5:7');
    assert.equal(position('spec.job.podLabels[app.kubernetes.io/name]'), '5:7');
    assert.equal(position('spec.job.podLabels["team name"]'), '6:7');
  });

  test('a missing field is placed at its nearest ancestor present; the root at the document', () => {
    assert.equal(position('spec.job.image'), '2:3');
    assert.equal(position('spec.job.env[7].name'), '7:5');
    assert.equal(position('status.phase'), '1:1');
    assert.equal(position(''), '1:1');
  });

  test('an alias is followed to what it names', () => {
    assert.equal(position('spec.webhook.command'), '3:5');
  });
});

describe('splitProblem', () => {
  test('the path ahead of the message, in any spelling; <nil> is the whole object', () => {
    assert.deepEqual(splitProblem('spec.job.env[0].name: Invalid value: "x": bad'), [{ path: 'spec.job.env[0].name', message: 'Invalid value: "x": bad' }]);
    assert.deepEqual(splitProblem('spec.job.podLabels["a: b"]: the key has a colon'), [{ path: 'spec.job.podLabels["a: b"]', message: 'the key has a colon' }]);
    assert.deepEqual(splitProblem('<nil>: Invalid value: "null": rules skipped'), [{ path: '', message: 'Invalid value: "null": rules skipped' }]);
    assert.deepEqual(splitProblem('no path here'), [{ path: '', message: 'no path here' }]);
  });

  test('an aggregate splits into its elements', () => {
    assert.deepEqual(splitProblem('[spec.s.matchLabels: Invalid value: "a, b": x, spec.s.matchExpressions[0].key: y]'), [
      { path: 'spec.s.matchLabels', message: 'Invalid value: "a, b": x' },
      { path: 'spec.s.matchExpressions[0].key', message: 'y' },
    ]);
  });
});
