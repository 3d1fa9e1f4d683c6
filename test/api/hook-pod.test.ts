import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podKeyProblems } from '../../src/api/hook-pod.ts';

test('pod label, annotation and node selector keys are qualified names, as Kubernetes checks them', () => {
  assert.deepEqual(podKeyProblems({ podLabels: { app: 'x', 'example.com/team': 'edge', 'a.b_c-d': '' }, podAnnotations: { 'sidecar.istio.io/inject': 'false' }, nodeSelector: { 'kubernetes.io/os': 'linux' } }), []);
  assert.deepEqual(podKeyProblems({ podLabels: { 'bad key': 'x', 'a/b/c': 'x', 'Example.com/x': 'x', [`${'n'.repeat(64)}`]: 'x', '-lead': 'x' } }), [
    'spec.job.podLabels["bad key"]: the key must be at most 63 characters, alphanumeric with -, _ or . inside (after an optional prefix/)',
    'spec.job.podLabels["a/b/c"]: the key has more than one /',
    'spec.job.podLabels["Example.com/x"]: the key has a prefix that is not a DNS subdomain (lowercase, at most 253 characters)',
    `spec.job.podLabels["${'n'.repeat(64)}"]: the key must be at most 63 characters, alphanumeric with -, _ or . inside (after an optional prefix/)`,
    'spec.job.podLabels["-lead"]: the key must be at most 63 characters, alphanumeric with -, _ or . inside (after an optional prefix/)',
  ]);
  assert.match(podKeyProblems({ podAnnotations: { 'x/': 'y' } })[0]!, /^spec\.job\.podAnnotations\["x\/"\]: /);
  assert.match(podKeyProblems({ nodeSelector: { 'zone name': 'a' } })[0]!, /^spec\.job\.nodeSelector\["zone name"\]: /);
  assert.match(podKeyProblems({ podAnnotations: { big: 'x'.repeat(256 * 1024) } })[0]!, /more than the 256 KiB Kubernetes allows/);
});
