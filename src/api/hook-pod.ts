// The pod settings a Job hook may tune (spec.job.resources, nodeSelector, tolerations, affinity,
// podLabels, podAnnotations, imagePullSecrets, securityContext), as zod schemas shaped like their
// core/v1 counterparts. What Kubernetes would refuse when the Job is created is refused when the
// hook is written, as far as OpenAPI and cheap CEL rules can say it; and the security context can
// only stay within the Pod Security "restricted" profile, with the reason when it would not.
//
// CEL cost: the API server estimates each rule's worst case from maxItems, maxProperties and
// maxLength (test/schema/cel-cost.test.ts bounds every rule's estimate).
import { z } from 'zod';
import { DNS_LABEL, DNS_SUBDOMAIN, LABEL_VALUE, LABEL_VALUE_WORDS, labelValueField, matchesRule, objectName, QUALIFIED_NAME, QUALIFIED_NAME_WORDS, qualifiedKeysRule, qualifiedName } from './kube-names.ts';
import { LabelSelectorSchema } from './metav1.ts';

/** A non-negative resource.Quantity in its string form: 100m, 0.5, 64Mi, 1G, 1e3. */
const QUANTITY = String.raw`(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?`;

/** Label keys certhook and the Job controller set on the hook's pod. */
export const RESERVED_LABEL_PREFIXES = ['certhook.io/', 'batch.kubernetes.io/'] as const;
export const RESERVED_LABELS = ['job-name', 'controller-uid'] as const;

const MAP_LIMIT = 32;
const LIST_LIMIT = 16;

const celList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(', ')}]`;

function quantity(description: string) {
  return z
    .union([z.int().min(0), z.string().min(1).max(64)])
    .meta({
      'x-kubernetes-int-or-string': true,
      description,
      'x-kubernetes-validations': [
        {
          rule: `type(self) != string || self.matches(r'^${QUANTITY}$')`,
          message: 'a quantity is a number with an optional suffix, such as 100m, 0.5, 64Mi, 1Gi or 1e3 (not MB: write M or Mi)',
        },
      ],
    });
}

const ResourceListSchema = z.object({
  cpu: quantity('CPU, in cores: 100m, 0.5 (as a string) or 1.').optional(),
  memory: quantity('Memory, in bytes: 64Mi, 1Gi.').optional(),
  'ephemeral-storage': quantity('Local ephemeral storage, in bytes: 1Gi.').optional(),
});

export const ResourceRequirementsSchema = z
  .object({
    requests: ResourceListSchema.optional().describe('What the pod is scheduled with: cpu, memory, ephemeral-storage.'),
    limits: ResourceListSchema.optional().describe('What the container may use at most: cpu, memory, ephemeral-storage.'),
  })
  .describe("Compute resources of the hook's container (core/v1 ResourceRequirements: cpu, memory, ephemeral-storage).");

export const TolerationSchema = z
  .object({
    key: z
      .string()
      .max(317)
      .meta({
        description: 'The taint key the toleration applies to; empty, with operator Exists, tolerates every taint.',
        'x-kubernetes-validations': [matchesRule(`|${QUALIFIED_NAME}`, `a toleration's key must be empty or ${QUALIFIED_NAME_WORDS}`)],
      })
      .optional(),
    operator: z.enum(['Exists', 'Equal']).optional().describe('Equal (the default) compares value; Exists tolerates any value.'),
    value: labelValueField("a toleration's value").optional().describe('The taint value, for operator Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe('The taint effect the toleration applies to; empty for all effects.'),
    tolerationSeconds: z
      .int()
      .optional()
      .describe('With effect NoExecute: how long the pod stays bound once the taint is added (default: forever).'),
  })
  .meta({
    description: 'A toleration of a node taint (core/v1 Toleration).',
    'x-kubernetes-validations': [
      {
        rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
        message: 'a toleration without a key must have operator Exists (it then tolerates every taint)',
      },
      {
        rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
        message: 'a toleration with operator Exists has no value',
      },
      {
        rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
        message: 'tolerationSeconds is only for effect NoExecute',
      },
    ],
  });

const NodeSelectorRequirementSchema = z
  .object({
    key: qualifiedName('The node label the requirement applies to.', "a node selector requirement's key"),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'])
      .describe('In, NotIn, Exists, DoesNotExist, Gt or Lt.'),
    values: z
      .array(z.string().max(63))
      .max(64)
      .optional()
      .meta({
        description: 'Values: at least one for In and NotIn, none for Exists and DoesNotExist, one integer for Gt and Lt.',
        'x-kubernetes-validations': [
          { rule: `self.all(v, v.matches(r'^(${LABEL_VALUE})$'))`, message: `every value must be a label value: ${LABEL_VALUE_WORDS}` },
        ],
      }),
  })
  .meta({
    description: 'A node selector requirement: a key, an operator and values.',
    'x-kubernetes-validations': [
      {
        rule:
          "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : " +
          "self.operator in ['Gt', 'Lt'] ? has(self.values) && size(self.values) == 1 && self.values[0].matches('^-?[0-9]+$') : " +
          '!has(self.values) || size(self.values) == 0',
        message: 'values: at least one for In and NotIn, exactly one integer for Gt and Lt, none for Exists and DoesNotExist',
      },
    ],
  });

/** Kubernetes selects nodes by one field only, metadata.name, with In or NotIn and one name. */
const NodeFieldRequirementSchema = z
  .object({
    key: z.enum(['metadata.name']).describe('The node field the requirement applies to: metadata.name, the only one Kubernetes supports.'),
    operator: z.enum(['In', 'NotIn']).describe('In or NotIn.'),
    values: z
      .array(
        z
          .string()
          .min(1)
          .max(253)
          .meta({ description: 'The name of a node.', 'x-kubernetes-validations': [matchesRule(DNS_SUBDOMAIN, "a node's name is a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")] }),
      )
      .min(1)
      .max(1)
      .describe('Exactly one node name.'),
  })
  .describe('A node field requirement: metadata.name In or NotIn one name.');

const NodeSelectorTermSchema = z
  .object({
    matchExpressions: z
      .array(NodeSelectorRequirementSchema)
      .max(LIST_LIMIT)
      .optional()
      .describe("Requirements on the node's labels."),
    matchFields: z
      .array(NodeFieldRequirementSchema)
      .max(LIST_LIMIT)
      .optional()
      .describe("Requirements on the node's fields (metadata.name)."),
  })
  .describe('A node selector term: all its requirements must hold.');

const weight = () => z.int().min(1).max(100).describe('Weight of the preference, 1 to 100.');

const PodAffinityTermSchema = z
  .object({
    labelSelector: LabelSelectorSchema.optional().describe('The pods this term is about.'),
    namespaceSelector: LabelSelectorSchema.optional().describe("Namespaces of those pods, by label (default: the hook's namespace)."),
    namespaces: z
      .array(
        z
          .string()
          .min(1)
          .max(63)
          .meta({ 'x-kubernetes-validations': [matchesRule(DNS_LABEL, "a namespace's name is a lowercase RFC 1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")] }),
      )
      .max(LIST_LIMIT)
      .optional()
      .describe('Namespaces of those pods, by name.'),
    topologyKey: qualifiedName('The node label whose value defines "the same place": kubernetes.io/hostname, topology.kubernetes.io/zone.', 'topologyKey'),
  })
  .describe('Pods (selected by label, in some namespaces) this pod should (or should not) run with, per topologyKey.');

const WeightedPodAffinityTermSchema = z
  .object({ weight: weight(), podAffinityTerm: PodAffinityTermSchema })
  .describe('A preferred pod affinity term and its weight.');

const podAffinity = (description: string) =>
  z
    .object({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .array(PodAffinityTermSchema)
        .max(LIST_LIMIT)
        .optional()
        .describe('Terms the node must satisfy to be chosen.'),
      preferredDuringSchedulingIgnoredDuringExecution: z
        .array(WeightedPodAffinityTermSchema)
        .max(LIST_LIMIT)
        .optional()
        .describe('Terms the scheduler prefers, by weight.'),
    })
    .describe(description);

export const AffinitySchema = z
  .object({
    nodeAffinity: z
      .object({
        requiredDuringSchedulingIgnoredDuringExecution: z
          .object({
            nodeSelectorTerms: z.array(NodeSelectorTermSchema).min(1).max(LIST_LIMIT).describe('Terms of which at least one must hold.'),
          })
          .optional()
          .describe('The node must satisfy one of these terms.'),
        preferredDuringSchedulingIgnoredDuringExecution: z
          .array(z.object({ weight: weight(), preference: NodeSelectorTermSchema }).describe('A preferred node selector term and its weight.'))
          .max(LIST_LIMIT)
          .optional()
          .describe('Terms the scheduler prefers, by weight.'),
      })
      .optional()
      .describe('Which nodes the pod may or should run on.'),
    podAffinity: podAffinity('Pods the hook should run near.').optional(),
    podAntiAffinity: podAffinity('Pods the hook should run away from.').optional(),
  })
  .describe('Scheduling constraints of the pod (core/v1 Affinity).');

const profile = (kind: string, hint: string) =>
  z
    .object({
      type: z.enum(['RuntimeDefault', 'Localhost', 'Unconfined']).describe(`RuntimeDefault or Localhost (${hint}).`),
      localhostProfile: z.string().min(1).max(4096).optional().describe(`The ${kind} profile to use, for type Localhost.`),
    })
    .meta({
      description: `The ${kind} profile of the hook's container.`,
      'x-kubernetes-validations': [
        {
          rule: "self.type != 'Unconfined'",
          message: `${kind} type Unconfined is refused: the Pod Security restricted profile allows only RuntimeDefault or Localhost`,
        },
        {
          rule: "self.type == 'Localhost' ? has(self.localhostProfile) : !has(self.localhostProfile)",
          message: 'localhostProfile is required with type Localhost, and only allowed with it',
        },
      ],
    });

const notRoot = (field: string, what: string, why: string) =>
  z
    .int()
    .min(0)
    .max(2147483647)
    .meta({
      description: `The ${what} the hook runs as (default 65532). Not 0.`,
      'x-kubernetes-validations': [{ rule: 'self != 0', message: `${field} 0 (root) is refused: ${why}` }],
    });

const mustBe = (value: boolean, field: string, why: string) =>
  z
    .boolean()
    .meta({
      description: `Must be ${value} (accepted so a restricted security context can be copied as it is); ${why}.`,
      'x-kubernetes-validations': [{ rule: value ? 'self' : '!self', message: `${field}: ${!value} is refused: ${why}` }],
    });

export const HookSecurityContextSchema = z
  .object({
    runAsUser: notRoot('runAsUser', 'user ID', 'the Pod Security restricted profile requires a non-root user').optional(),
    runAsGroup: notRoot('runAsGroup', 'primary group ID', "a hook runs without root's privileges, its group's included").optional(),
    fsGroup: z
      .int()
      .min(0)
      .max(2147483647)
      .optional()
      .describe('The group that owns the mounted certificate files (default 65532).'),
    runAsNonRoot: mustBe(true, 'runAsNonRoot', 'the Pod Security restricted profile requires a non-root user').optional(),
    readOnlyRootFilesystem: z.boolean().optional().describe("Mount the container's root filesystem read-only."),
    privileged: mustBe(false, 'privileged', 'the Pod Security restricted profile forbids privileged containers').optional(),
    allowPrivilegeEscalation: mustBe(false, 'allowPrivilegeEscalation', 'the Pod Security restricted profile forbids privilege escalation').optional(),
    capabilities: z
      .object({
        add: z
          .array(z.string().min(1).max(64))
          .max(8)
          .optional()
          .meta({
            description: 'Capabilities to add: only NET_BIND_SERVICE.',
            'x-kubernetes-validations': [
              {
                rule: "self.all(c, c == 'NET_BIND_SERVICE')",
                message: 'only NET_BIND_SERVICE may be added: the Pod Security restricted profile forbids every other capability',
              },
            ],
          }),
        drop: z
          .array(z.string().min(1).max(64))
          .max(64)
          .optional()
          .meta({
            description: 'Capabilities to drop: must include ALL (certhook drops ALL in any case).',
            'x-kubernetes-validations': [
              { rule: "'ALL' in self", message: 'drop must include ALL: the Pod Security restricted profile requires dropping every capability' },
            ],
          }),
      })
      .optional()
      .describe('Linux capabilities: every one is dropped; NET_BIND_SERVICE may be added back.'),
    seccompProfile: profile('seccomp', 'default RuntimeDefault').optional(),
    appArmorProfile: profile('AppArmor', 'default: the runtime\'s').optional(),
  })
  .describe(
    "Security settings of the hook's pod and container, within the Pod Security restricted profile: a setting " +
      'outside it is refused with the reason.',
  );
export type HookSecurityContext = z.infer<typeof HookSecurityContextSchema>;

/** The spec.job fields that tune the hook's pod. */
export const HOOK_POD_FIELDS = {
  resources: ResourceRequirementsSchema.optional(),
  nodeSelector: z
    .record(z.string(), labelValueField('a nodeSelector value'))
    .optional()
    .meta({ description: 'Node labels the hook\'s node must have.', maxProperties: MAP_LIMIT, 'x-kubernetes-validations': [qualifiedKeysRule('nodeSelector')] }),
  tolerations: z.array(TolerationSchema).max(LIST_LIMIT).optional().describe('Taints the hook\'s pod tolerates.'),
  affinity: AffinitySchema.optional(),
  podLabels: z
    .record(z.string(), labelValueField('a podLabels value'))
    .optional()
    .meta({
      description:
        "Extra labels on the hook's pod (not on the Job). certhook.io/ and batch.kubernetes.io/ keys, job-name and " +
        'controller-uid are certhook\'s and the Job controller\'s own.',
      maxProperties: MAP_LIMIT,
      'x-kubernetes-validations': [
        qualifiedKeysRule('podLabels'),
        {
          rule:
            `self.all(k, ${RESERVED_LABEL_PREFIXES.map((p) => `!k.startsWith('${p}')`).join(' && ')} && ` +
            `!(k in ${celList(RESERVED_LABELS)}))`,
          message:
            `podLabels cannot set ${RESERVED_LABEL_PREFIXES.map((p) => `${p}*`).join(', ')}, ${RESERVED_LABELS.join(' or ')}: ` +
            'certhook and the Job controller set those labels on the pod',
        },
      ],
    }),
  podAnnotations: z
    .record(z.string(), z.string().max(4096))
    .optional()
    .meta({
      description:
        "Annotations on the hook's pod: e.g. sidecar.istio.io/inject: \"false\", as a service-mesh sidecar would keep " +
        'the Job from completing. certhook.io/ keys are certhook\'s own.',
      maxProperties: MAP_LIMIT,
      'x-kubernetes-validations': [
        qualifiedKeysRule('podAnnotations'),
        { rule: "self.all(k, !k.startsWith('certhook.io/'))", message: 'podAnnotations cannot set certhook.io/* annotations: they are certhook\'s own' },
        {
          // The profile checks the annotation of AppArmor's beta as it checks appArmorProfile.
          rule:
            "self.all(k, !k.startsWith('container.apparmor.security.beta.kubernetes.io/') || self[k] == 'runtime/default' || self[k].startsWith('localhost/'))",
          message:
            'an AppArmor annotation may only be runtime/default or localhost/<profile>: the Pod Security restricted profile forbids any other; better, set securityContext.appArmorProfile',
        },
        {
          // The API server refuses a pod whose seccomp annotation differs from its seccompProfile, which certhook always sets.
          rule: "self.all(k, !k.startsWith('seccomp.security.alpha.kubernetes.io/') && !k.startsWith('container.seccomp.security.alpha.kubernetes.io/'))",
          message: 'seccomp annotations are not allowed: set securityContext.seccompProfile instead',
        },
      ],
    }),
  imagePullSecrets: z
    .array(
      z
        .object({ name: objectName('an imagePullSecrets name', "Name of a Secret in the hook's namespace.") })
        .describe('A Secret with the credentials of a registry.'),
    )
    .max(8)
    .optional()
    .meta({
      description: "Secrets (in the hook's namespace) to pull the image with.",
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  securityContext: HookSecurityContextSchema.optional(),
};

const SUFFIX_FACTORS: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A quantity's value, of a form the CRD's pattern accepts (100m, 0.5, 64Mi, 1e3). */
function quantityValue(quantity: number | string): number {
  if (typeof quantity === 'number') return quantity;
  const [, number, suffix = ''] = /^([0-9.]+(?:[eE][-+]?[0-9.]+)?)(.*)$/.exec(quantity) ?? [];
  return Number(number) * (SUFFIX_FACTORS[suffix] ?? Number.NaN);
}

/**
 * What the CRD cannot check of a Job hook's pod settings and Kubernetes would refuse when the pod
 * is created: the annotations' total size in bytes (CEL counts characters and cannot sum a map),
 * and a request above its limit (CEL here has no quantities). The operator checks them; the hook
 * is Ready=False.
 */
export function podSettingProblems(job: { podAnnotations?: Record<string, string>; resources?: z.infer<typeof ResourceRequirementsSchema> }): string[] {
  const problems: string[] = [];
  const bytes = Object.entries(job.podAnnotations ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > 256 * 1024) problems.push(`spec.job.podAnnotations: ${bytes} bytes, more than the 256 KiB Kubernetes allows`);
  const { requests = {}, limits = {} } = job.resources ?? {};
  for (const [resource, request] of Object.entries(requests)) {
    const limit = limits[resource as keyof typeof limits];
    if (request === undefined || limit === undefined || quantityValue(request) <= quantityValue(limit)) continue;
    problems.push(
      `spec.job.resources.requests.${resource}: ${request} is more than its limit, ${limit}: Kubernetes would refuse the pod; lower the request or raise the limit`,
    );
  }
  return problems;
}
