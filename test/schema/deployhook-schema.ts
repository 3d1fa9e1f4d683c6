// A DeployHook-like CRD schema (openAPIV3Schema) used by the schema engine's tests.
import type { JSONSchemaProps } from '../../src/schema/structural.ts';

export const deployHookSchema: JSONSchemaProps = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'has(self.job) != has(self.webhook)', message: 'exactly one of job or webhook must be set' },
      ],
      properties: {
        enabled: { type: 'boolean', default: true },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: 300, default: 30 },
        onEvents: {
          type: 'array',
          'x-kubernetes-list-type': 'set',
          items: { type: 'string', enum: ['created', 'renewed', 'revoked'] },
        },
        domains: { type: 'array', maxItems: 3, items: { type: 'string', minLength: 1 } },
        job: {
          type: 'object',
          required: ['command'],
          properties: {
            command: { type: 'string', maxLength: 1024 },
            image: { type: 'string' },
            resources: { type: 'object', default: {}, properties: { cpu: { type: 'string', default: '100m' } } },
          },
        },
        webhook: {
          type: 'object',
          required: ['url'],
          properties: {
            url: {
              type: 'string',
              'x-kubernetes-validations': [{ rule: "self.startsWith('https://')", message: 'url must use https' }],
            },
            secretRef: {
              type: 'object',
              properties: { name: { type: 'string' } },
              'x-kubernetes-validations': [
                { rule: 'self == oldSelf', message: 'secretRef is immutable' },
              ],
            },
          },
        },
      },
    },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

export function hook(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name: 'x', namespace: 'web' }, spec };
}
