import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podAnnotationProblems } from '../../src/api/hook-pod.ts';
import { schemaAt, violations } from './crd-schema.ts';

const KEY_MESSAGE = /^every key of (podLabels|podAnnotations|nodeSelector) must be a name of at most 63 characters/;

test('pod label, annotation and node selector keys are qualified names, as Kubernetes checks them, in the CRD', () => {
  for (const field of ['podLabels', 'podAnnotations', 'nodeSelector']) {
    const node = schemaAt('DeployHook', `spec.job.${field}`);
    assert.deepEqual(violations(node, { app: 'x', 'example.com/team': 'edge', 'a.b_c-d': '', 'A1': 'x', [`${'p'.repeat(253)}/${'n'.repeat(63)}`]: 'x' }), [], field);
    const bad = ['bad key', 'a/b/c', 'Example.com/x', 'n'.repeat(64), '-lead', 'trail.', 'x/', '/x', '', `${'p'.repeat(254)}/x`, 'kube_system/x', 'a'.repeat(400)];
    for (const key of bad) assert.match(violations(node, { [key]: 'x' }).join(), KEY_MESSAGE, `${field}: ${JSON.stringify(key)}`);
  }
});

test('label values: at most 63 characters, alphanumeric at both ends', () => {
  const value = schemaAt('DeployHook', 'spec.job.podLabels').additionalProperties!;
  for (const ok of ['', 'web', 'a.b_c-d', 'v1']) assert.deepEqual(violations(value, ok), [], ok);
  for (const bad of ['web team', '-x', 'x-', 'ü']) assert.match(violations(value, bad).join(), /a podLabels value must be a label value/, bad);
});

test('the operator refuses annotations over the 256 KiB Kubernetes allows, counted in bytes', () => {
  assert.deepEqual(podAnnotationProblems({ podAnnotations: { 'sidecar.istio.io/inject': 'false' } }), []);
  assert.match(podAnnotationProblems({ podAnnotations: { big: 'x'.repeat(256 * 1024) } })[0]!, /^spec\.job\.podAnnotations: 262147 bytes, more than the 256 KiB Kubernetes allows$/);
  assert.equal(podAnnotationProblems({ podAnnotations: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'é'.repeat(4096)])) }).length, 1, 'two bytes a character');
});
