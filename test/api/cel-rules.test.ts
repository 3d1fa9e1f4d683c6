import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { schemaAt, violations } from './crd-schema.ts';

describe('DeployHook env rules', () => {
  const name = schemaAt('DeployHook', 'spec.job.env[].name');
  const envVar = schemaAt('DeployHook', 'spec.job.env[]');
  const valueFrom = schemaAt('DeployHook', 'spec.job.env[].valueFrom');

  test('CERTMATE_ names are reserved', () => {
    assert.deepEqual(violations(name, 'PAGERDUTY_URL'), []);
    assert.deepEqual(violations(name, 'MY_CERTMATE_THING'), []);
    assert.match(violations(name, 'CERTMATE_DOMAIN').join(), /reserved/);
  });

  test('value and valueFrom exclude each other', () => {
    assert.deepEqual(violations(envVar, { name: 'A', value: 'x' }), []);
    assert.deepEqual(violations(envVar, { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }), []);
    assert.match(
      violations(envVar, { name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }).join(),
      /either value or valueFrom/,
    );
  });

  test('valueFrom names exactly one source', () => {
    assert.deepEqual(violations(valueFrom, { configMapKeyRef: { name: 'c', key: 'k' } }), []);
    assert.match(violations(valueFrom, {}).join(), /exactly one/);
    assert.match(
      violations(valueFrom, { configMapKeyRef: { name: 'c', key: 'k' }, secretKeyRef: { name: 's', key: 'k' } }).join(),
      /exactly one/,
    );
  });
});

describe('DeployHook secretSelector rules', () => {
  const requirement = schemaAt('DeployHook', 'spec.secretSelector.matchExpressions[]');

  test('In and NotIn need values; Exists and DoesNotExist take none', () => {
    assert.deepEqual(violations(requirement, { key: 'a', operator: 'In', values: ['x'] }), []);
    assert.deepEqual(violations(requirement, { key: 'a', operator: 'Exists' }), []);
    assert.deepEqual(violations(requirement, { key: 'a', operator: 'DoesNotExist', values: [] }), []);
    assert.equal(violations(requirement, { key: 'a', operator: 'NotIn' }).length, 1);
    assert.equal(violations(requirement, { key: 'a', operator: 'In', values: [] }).length, 1);
    assert.equal(violations(requirement, { key: 'a', operator: 'Exists', values: ['x'] }).length, 1);
  });
});

describe('DeployHookRun spec rules', () => {
  const spec = schemaAt('DeployHookRun', 'spec');
  const certificate = { fingerprint: 'ab'.repeat(32), dnsNames: ['a.example.com'] };
  const automatic = { hookRef: { name: 'h' }, secretRef: { name: 's' }, event: 'renewed', certificate, triggeredBy: 'certhook' };

  test('an unchanged spec passes; any change is rejected as immutable', () => {
    assert.deepEqual(violations(spec, automatic, structuredClone(automatic)), []);
    const changed = { ...automatic, certificate: { ...certificate, dnsNames: ['b.example.com'] } };
    assert.deepEqual(violations(spec, changed, automatic), ['spec is immutable']);
    assert.deepEqual(violations(spec, { ...automatic, triggeredBy: 'alice' }, automatic), ['spec is immutable']);
  });

  test('certificate is required unless the run is manual', () => {
    const { certificate: _omitted, ...withoutCertificate } = automatic;
    const manual = { ...withoutCertificate, event: 'manual', triggeredBy: 'alice' };
    assert.deepEqual(violations(spec, manual, manual), []);
    assert.deepEqual(violations(spec, withoutCertificate, withoutCertificate), ['certificate is required unless event is manual']);
  });
});
