// The schema checks every chart rendering goes through (chart-render.ts) catch what they claim to.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaProblems } from './chart-render.ts';
import { unknownFields, type Rendered } from './kube-schema.ts';

const deployment = (): Rendered => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'certhook', labels: { 'app.kubernetes.io/name': 'certhook' } },
  spec: {
    selector: { matchLabels: { app: 'certhook' } },
    template: {
      metadata: { labels: { app: 'certhook' } },
      spec: { containers: [{ name: 'operator', image: 'x', resources: { limits: { memory: '256Mi' } }, ports: [{ name: 'health', containerPort: 8081 }] }] },
    },
  },
});

describe('unknownFields', () => {
  test('none in a valid object, maps (labels, resource limits) taking any key', () => {
    assert.deepEqual(unknownFields(deployment()), []);
  });

  test('names each unknown field by its path, at any depth', () => {
    const object = deployment() as Rendered & Record<string, any>;
    object.spec.replica = 2;
    object.spec.template.spec.containers[0].ports[0].containerport = 8081;
    object.spec.template.spec.securitycontext = {};
    assert.deepEqual(unknownFields(object).sort(), ['Deployment.spec.replica', 'Deployment.spec.template.spec.containers[0].ports[0].containerport', 'Deployment.spec.template.spec.securitycontext']);
  });

  test('in the Prometheus Operator\'s kinds, by the fields the chart uses', () => {
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm' }, spec: { selector: { matchLabels: {} }, endpoints: [{ port: 'metrics', intervall: '30s' }] } } as Rendered;
    assert.deepEqual(unknownFields(monitor), ['ServiceMonitor.spec.endpoints[0].intervall']);
  });

  test('a kind without a schema is an error, not a pass', () => {
    assert.throws(() => unknownFields({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), /no schema for example\.com\/v1 Widget/);
  });
});

describe('schemaProblems', () => {
  test('adds what kubernetes-models rejects: wrong types and missing required fields', () => {
    const object = deployment() as Rendered & Record<string, any>;
    object.spec.replicas = 'two';
    delete object.spec.selector;
    const problems = schemaProblems(object);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^Deployment certhook: .*(replicas must be integer|must have required property 'selector')/);
  });
});
