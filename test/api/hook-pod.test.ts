import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podSettingProblems } from '../../src/api/hook-pod.ts';
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
  assert.deepEqual(podSettingProblems({ podAnnotations: { 'sidecar.istio.io/inject': 'false' } }), []);
  assert.match(podSettingProblems({ podAnnotations: { big: 'x'.repeat(256 * 1024) } })[0]!, /^spec\.job\.podAnnotations: 262147 bytes, more than the 256 KiB Kubernetes allows$/);
  assert.equal(podSettingProblems({ podAnnotations: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'é'.repeat(4096)])) }).length, 1, 'two bytes a character');
});

test('the operator refuses a request above its limit, compared as quantities', () => {
  const resources = (requests: Record<string, string | number>, limits: Record<string, string | number>) => ({ resources: { requests, limits } });
  assert.deepEqual(podSettingProblems(resources({ cpu: '500m', memory: '512Mi', 'ephemeral-storage': '1G' }, { cpu: 1, memory: '1Gi', 'ephemeral-storage': '1G' })), []);
  assert.deepEqual(podSettingProblems(resources({ cpu: '0.5', memory: 1 }, { cpu: '500m', memory: '1e3' })), []);
  assert.deepEqual(podSettingProblems(resources({ memory: '1Gi' }, {})), [], 'no limit');
  assert.deepEqual(podSettingProblems(resources({ memory: '1Gi', cpu: 2 }, { memory: '512Mi', cpu: '1500m' })), [
    'spec.job.resources.requests.memory: 1Gi is more than its limit, 512Mi: Kubernetes would refuse the pod; lower the request or raise the limit',
    'spec.job.resources.requests.cpu: 2 is more than its limit, 1500m: Kubernetes would refuse the pod; lower the request or raise the limit',
  ]);
  assert.equal(podSettingProblems(resources({ memory: '1G' }, { memory: '1Gi' })).length, 0, '10^9 is less than 2^30');
  assert.equal(podSettingProblems(resources({ memory: '1Gi' }, { memory: '1G' })).length, 1);
});
