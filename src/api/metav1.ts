// Zod schemas of the Kubernetes meta/v1 types the certhook resources embed.
import { z } from 'zod';
import { labelValueField, qualifiedKeysRule, qualifiedName } from './kube-names.ts';

/** Now, as the API writes a metav1.Time: RFC 3339 in whole seconds. */
export const nowTime = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * An RFC 3339 timestamp, as Kubernetes serialises metav1.Time. Validity is the CRD's
 * `format: date-time` (zod's own datetime check would add a regular expression to every CRD node).
 */
export function timestamp(description: string) {
  return z.string().meta({ format: 'date-time', description });
}

export const OwnerReferenceSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

/**
 * The ObjectMeta fields certhook reads and writes. Loose, so unknown fields survive a round trip.
 * It types the resources only: a CRD may not constrain metadata beyond name (see crd.ts).
 */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(OwnerReferenceSchema).optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

export const LabelSelectorRequirementSchema = z
  .object({
    key: qualifiedName('The label key that the requirement applies to.', "a selector requirement's key"),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
      .describe("How the key's value is compared with values: In, NotIn, Exists or DoesNotExist."),
    values: z
      .array(labelValueField('a selector requirement\'s value'))
      .max(32)
      .optional()
      .describe('The values to compare with: non-empty for In and NotIn, empty for Exists and DoesNotExist.'),
  })
  .meta({
    description: 'A label selector requirement: a key, an operator and (for In and NotIn) values.',
    'x-kubernetes-validations': [
      {
        rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
        message: 'values must list at least one value for In and NotIn, and must be empty for Exists and DoesNotExist',
      },
    ],
  });

/** metav1.LabelSelector. */
export const LabelSelectorSchema = z
  .object({
    matchLabels: z
      .record(z.string(), labelValueField('a matchLabels value'))
      .optional()
      .meta({
        description: 'Labels the object must carry with exactly these values (ANDed with matchExpressions).',
        maxProperties: 64,
        'x-kubernetes-validations': [qualifiedKeysRule('matchLabels')],
      }),
    matchExpressions: z
      .array(LabelSelectorRequirementSchema)
      .max(16)
      .optional()
      .describe('Requirements on the object\'s labels, all of which must hold.'),
  })
  .meta({
    description: 'A label query. An empty selector matches every object.',
    'x-kubernetes-map-type': 'atomic',
  });
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

/** metav1.Condition, with the same constraints as upstream. */
export const ConditionSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/)
      .describe('Type of condition in CamelCase, e.g. Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the condition was set from.'),
    lastTransitionTime: timestamp('When the condition last changed from one status to another.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe("A programmatic identifier, in CamelCase, of the reason for the condition's last transition."),
    message: z.string().max(32768).describe('A human-readable message with details about the transition.'),
  })
  .describe('One aspect of the current state of the resource.');
export type Condition = z.infer<typeof ConditionSchema>;
