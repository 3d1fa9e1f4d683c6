// DeployHook: what to run when a TLS Secret's certificate is created, renewed or revoked.
// The zod schemas are the one source: the CRD (crd.ts) is generated from them and the operator
// validates against that CRD, so every constraint lives here, as OpenAPI or CEL.
import { z } from 'zod';
import { COMMAND_GUARDRAILS } from './command-guardrails.ts';
import { CERTIFICATE_EVENTS, CertificateEventSchema, RunEventSchema, RunPhaseSchema } from './enums.ts';
import { ConditionSchema, LabelSelectorSchema, ObjectMetaSchema, timestamp } from './metav1.ts';
import { API_VERSION, DEPLOY_HOOK } from './names.ts';

/** An exact DNS name, or `*.` followed by one: the wildcard stands for exactly one label. */
const DOMAIN_PATTERN = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const KeySelectorSchema = z.object({
  name: z.string().min(1).max(253).describe('Name of the object in the hook\'s namespace.'),
  key: z.string().min(1).max(253).describe('The key whose value becomes the variable\'s value.'),
  optional: z
    .boolean()
    .optional()
    .describe('Whether the Job may start when the object or key is missing (the variable is then unset).'),
});

export const EnvVarSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/)
      .meta({
        description: 'Name of the environment variable. Names starting with CERTMATE_ are reserved for the variables certhook sets.',
        'x-kubernetes-validations': [
          {
            rule: "!self.startsWith('CERTMATE_')",
            message: 'env names starting with CERTMATE_ are reserved for the variables certhook sets: choose another name',
          },
        ],
      }),
    value: z.string().max(32768).optional().describe('Literal value. Set either value or valueFrom.'),
    valueFrom: z
      .object({
        secretKeyRef: KeySelectorSchema.optional().describe('Take the value from a key of a Secret.'),
        configMapKeyRef: KeySelectorSchema.optional().describe('Take the value from a key of a ConfigMap.'),
      })
      .meta({
        description: 'Take the value from a Secret or ConfigMap key. Set either value or valueFrom.',
        'x-kubernetes-validations': [
          {
            rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
            message: 'valueFrom needs exactly one of secretKeyRef or configMapKeyRef',
          },
        ],
      })
      .optional(),
  })
  .meta({
    description: 'An extra environment variable for the hook (core/v1 EnvVar).',
    'x-kubernetes-validations': [
      { rule: '!(has(self.value) && has(self.valueFrom))', message: 'set either value or valueFrom, not both' },
    ],
  });
export type EnvVar = z.infer<typeof EnvVarSchema>;

export const HookJobSchema = z
  .object({
    command: z
      .string()
      .min(1)
      .max(1024)
      .meta({
        description:
          'Shell command, run as `sh -c`, at most 1024 characters (put longer logic in a script). The certificate ' +
          'files and CERTMATE_* variables describe the certificate that fired the run. Obviously dangerous shapes ' +
          '(eval, rm of /, fork bombs, reading /etc/shadow) are rejected.',
        'x-kubernetes-validations': COMMAND_GUARDRAILS,
      }),
    image: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe("Container image that runs the command. Defaults to the image in the operator's configuration."),
    serviceAccountName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe('Service account for the Job. By default none is used and no API token is mounted.'),
    env: z
      .array(EnvVarSchema)
      .max(64)
      .optional()
      .meta({
        description: 'Extra environment variables for the command, beside the CERTMATE_* ones.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
  })
  .describe('Run the hook as a Kubernetes Job in the hook\'s namespace.');
export type HookJob = z.infer<typeof HookJobSchema>;

export const DeployHookSpecSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Whether the hook fires on certificate events. A disabled hook never fires by itself; manual runs still work.'),
    onEvents: z
      .array(CertificateEventSchema)
      .min(1)
      .max(CERTIFICATE_EVENTS.length)
      .default([...CERTIFICATE_EVENTS])
      .meta({
        description:
          'Certificate events the hook fires on: created (the TLS Secret appeared), renewed (its certificate ' +
          'changed) and revoked (the Secret was deleted). Defaults to all three.',
        'x-kubernetes-list-type': 'set',
      }),
    domains: z
      .array(z.string().min(1).max(253).regex(DOMAIN_PATTERN))
      .min(1)
      .max(100)
      .optional()
      .describe(
        'DNS names the hook is for: lowercase exact names (api.example.com) or one-label wildcards (*.example.com). ' +
          "A certificate matches if any of its DNS names matches. Omit to match every certificate the selector allows.",
      ),
    secretSelector: LabelSelectorSchema.optional().describe(
      'Labels of the TLS Secrets the hook is for. Omit to consider every TLS Secret in the namespace.',
    ),
    timeoutSeconds: z
      .int()
      .min(1)
      .max(300)
      .default(30)
      .describe('Seconds the hook may run before it is stopped and the run fails with TimedOut (1 to 300).'),
    dryRun: z
      .boolean()
      .default(false)
      .describe('Run the hook with CERTMATE_DRY_RUN=1 so it can report what it would do without doing it.'),
    historyLimit: z
      .int()
      .min(1)
      .max(100)
      .default(10)
      .describe(
        "How many DeployHookRuns of this hook are kept, besides the latest run for each Secret, which is always kept.",
      ),
    job: HookJobSchema,
  })
  .describe('What the hook runs and for which certificates.');
export type DeployHookSpec = z.infer<typeof DeployHookSpecSchema>;

/** One run as the hook's status summarises it. */
export const RunSummarySchema = z
  .object({
    name: z.string().min(1).max(253).describe('Name of the DeployHookRun.'),
    event: RunEventSchema.optional().describe('The event that fired the run: created, renewed, revoked or manual.'),
    phase: RunPhaseSchema.optional().describe('Phase of the run: Pending, Running, Succeeded, Failed, Skipped or Unknown.'),
    reason: z.string().max(128).optional().describe('Why the run is in its phase, e.g. Completed, ExitCode, TimedOut.'),
    exitCode: z.int32().optional().describe("The hook's exit code, when it ran to completion."),
    secretName: z.string().max(253).optional().describe('Name of the TLS Secret the run was for.'),
    domain: z.string().max(253).optional().describe("The certificate's primary name (first DNS name, else common name)."),
    startTime: timestamp('When the run started.').optional(),
    completionTime: timestamp('When the run finished.').optional(),
  })
  .describe('Summary of one DeployHookRun.');
export type RunSummary = z.infer<typeof RunSummarySchema>;

const countSchema = (description: string) => z.int().min(0).optional().describe(description);

export const DeployHookStatusSchema = z
  .object({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation this status describes.'),
    conditions: z.array(ConditionSchema).optional().meta({
      description: 'Current state of the hook. Ready=False means the hook is invalid and never runs; the message says what to fix.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
    lastRun: RunSummarySchema.optional().describe('The most recent run of the hook.'),
    totals: z
      .object({
        succeeded: countSchema('Runs that succeeded.'),
        failed: countSchema('Runs that failed.'),
        skipped: countSchema('Runs that were skipped.'),
      })
      .optional()
      .describe('How many runs of the hook ended in each final phase.'),
    history: z
      .array(RunSummarySchema)
      .max(20)
      .optional()
      .describe('Recent runs of the hook, newest first.'),
  })
  .describe('Observed state of the hook.');
export type DeployHookStatus = z.infer<typeof DeployHookStatusSchema>;

export const DeployHookSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(DEPLOY_HOOK.kind),
    metadata: ObjectMetaSchema,
    spec: DeployHookSpecSchema,
    status: DeployHookStatusSchema.optional(),
  })
  .describe(
    'A DeployHook runs a command when a TLS Secret in its namespace gets a new certificate (created), ' +
      'a changed certificate (renewed) or is deleted (revoked). Each firing is recorded as a DeployHookRun.',
  );
export type DeployHook = z.infer<typeof DeployHookSchema>;
