import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DeployHookSchema, DeployHookSpecSchema, type DeployHook } from '../../src/api/deployhook.ts';
import { DeployHookRunSchema, type DeployHookRunObject } from '../../src/api/deployhookrun.ts';
import { API_VERSION, ANNOTATIONS, LABELS } from '../../src/api/names.ts';

describe('zod schemas', () => {
  test('a minimal DeployHook spec gets the same defaults as the CRD', () => {
    assert.deepEqual(DeployHookSpecSchema.parse({ job: { command: 'nginx -s reload' } }), {
      enabled: true,
      onEvents: ['created', 'renewed', 'revoked'],
      timeoutSeconds: 30,
      expiringWithin: '336h',
      dryRun: false,
      stage: 'deploy',
      historyLimit: 10,
      job: { command: 'nginx -s reload', retries: 0 },
    });
  });

  // Patterns are CEL rules of the CRD (test/api/cel-rules.test.ts), which the operator checks before it parses.
  test('rejects out-of-range values', () => {
    const base = { job: { command: 'true' } };
    assert.equal(DeployHookSpecSchema.safeParse({ ...base, timeoutSeconds: 301 }).success, false);
    assert.equal(DeployHookSpecSchema.safeParse({ ...base, onEvents: [] }).success, false);
    assert.equal(DeployHookSpecSchema.safeParse({ ...base, onEvents: ['expired'] }).success, false);
    assert.equal(DeployHookSpecSchema.safeParse({ ...base, domains: ['*.example.com', 'api.example.com'] }).success, true);
    assert.equal(DeployHookSpecSchema.safeParse({ job: { command: 'x'.repeat(1025) } }).success, false);
  });

  test('whole resources parse into the exported types, keeping unknown metadata', () => {
    const hook: DeployHook = DeployHookSchema.parse({
      apiVersion: API_VERSION,
      kind: 'DeployHook',
      metadata: { name: 'reload-edge', namespace: 'web', managedFields: [] },
      spec: { onEvents: ['renewed'], job: { command: 'nginx -s reload' } },
    });
    assert.equal(hook.spec.enabled, true);
    assert.deepEqual(hook.metadata.managedFields, []);

    const run: DeployHookRunObject = DeployHookRunSchema.parse({
      apiVersion: 'certhook.io/v1alpha1',
      kind: 'DeployHookRun',
      metadata: { name: 'reload-edge-1', labels: { [LABELS.hook]: 'reload-edge' }, annotations: { [ANNOTATIONS.fingerprint]: 'ab'.repeat(32) } },
      spec: { hookRef: { name: 'reload-edge' }, secretRef: { name: 'edge-tls' }, event: 'manual', triggeredBy: 'alice' },
    });
    assert.equal(run.spec.event, 'manual');
    assert.equal(DeployHookRunSchema.safeParse({ ...run, kind: 'DeployHook' }).success, false);
  });

  test('label and annotation keys share the certhook.io/ prefix', () => {
    for (const key of [...Object.values(LABELS), ...Object.values(ANNOTATIONS)]) assert.match(key, /^certhook\.io\/[a-z-]+$/);
  });
});
