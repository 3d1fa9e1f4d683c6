// DeployHookRun: one firing of a DeployHook for one version of one TLS Secret's certificate.
// The operator creates one per (hook, Secret, certificate fingerprint, event); creating one by hand
// is the manual trigger. The spec is the request and never changes; the status is the outcome.
import { z } from 'zod';
import { FailurePolicySchema, RunEventSchema, RunPhaseSchema, StageSchema } from './enums.ts';
import { DNS_LABEL, matchesRule, objectName } from './kube-names.ts';
import { ObjectMetaSchema, timestamp } from './metav1.ts';
import { API_VERSION, DEPLOY_HOOK_RUN, HOOK_KINDS } from './names.ts';

export const HookRefSchema = z
  .object({
    kind: z
      .enum(HOOK_KINDS)
      .optional()
      .describe("The hook's kind: DeployHook (the default), in the run's namespace, or ClusterDeployHook."),
    name: objectName('name', 'Name of the hook.', 'run'),
  })
  .describe('The hook to run.');

const secretRef = (description: string) =>
  z
    .object({
      namespace: z
        .string()
        .min(1)
        .max(63)
        .meta({
          description: "The Secret's namespace, for a ClusterDeployHook's run (which lives in the operator's namespace); a DeployHook's run takes a Secret of its own namespace.",
          'x-kubernetes-validations': [matchesRule(DNS_LABEL, "secretRef.namespace must be a namespace's name: a lowercase RFC 1123 label of at most 63 characters (letters, digits and '-', e.g. team-a)")],
        })
        .optional(),
      name: objectName('name', 'Name of the Secret.', 'run'),
    })
    .describe(description);

const IS_CLUSTER_RUN = "has(self.hookRef.kind) && self.hookRef.kind == 'ClusterDeployHook'";

/** How many of a certificate's DNS names a run lists; CAs issue certificates with a few hundred. */
export const RUN_DNS_NAMES_LIMIT = 100;
const DNS_NAME_LENGTH = 253;
const SERIAL_LENGTH = 128;
const ISSUER_LENGTH = 1024;

export const RunCertificateSchema = z
  .object({
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe('SHA-256 fingerprint of the leaf certificate (DER), lowercase hex without colons.'),
    serial: z.string().min(1).max(SERIAL_LENGTH).optional().describe('Serial number of the leaf certificate, hex.'),
    domain: z
      .string()
      .max(DNS_NAME_LENGTH)
      .optional()
      .describe("The certificate's primary name: its first DNS name, else its common name."),
    dnsNames: z
      .array(z.string().max(DNS_NAME_LENGTH))
      .max(RUN_DNS_NAMES_LIMIT)
      .optional()
      .describe(`The DNS names of the certificate (subjectAltName), in its order: all of them, or the first ${RUN_DNS_NAMES_LIMIT} when dnsNamesTotal says it has more. The hook gets every name.`),
    dnsNamesTotal: z
      .int()
      .min(0)
      .optional()
      .describe('How many DNS names the certificate has, when dnsNames lists only some of them.'),
    notBefore: timestamp('Start of the certificate\'s validity.').optional(),
    notAfter: timestamp('End of the certificate\'s validity.').optional(),
    issuer: z.string().max(ISSUER_LENGTH).optional().describe("The issuer's common name, else its full distinguished name."),
  })
  .describe('Identifies one version of a certificate.');
export type RunCertificate = z.infer<typeof RunCertificateSchema>;

/**
 * A certificate as a run records it: within the schema's limits whatever the certificate holds,
 * so that the API never refuses a run for its certificate. The first RUN_DNS_NAMES_LIMIT DNS
 * names, and how many there are when that is not all; a name no DNS name can be (over 253
 * characters) is not listed; the free-text fields cut at their limits. The fingerprint keys the
 * run, and the snapshot holds the whole certificate.
 */
export function fitCertificate(certificate: RunCertificate): RunCertificate {
  const { dnsNamesTotal: _, ...rest } = certificate;
  const fitted: RunCertificate = rest;
  const names = certificate.dnsNames;
  if (names) {
    const listed = names.filter((name) => name.length <= DNS_NAME_LENGTH).slice(0, RUN_DNS_NAMES_LIMIT);
    // Fitting a fitted certificate keeps its count.
    const total = Math.max(names.length, certificate.dnsNamesTotal ?? 0);
    fitted.dnsNames = listed;
    if (listed.length < total) fitted.dnsNamesTotal = total;
  }
  if (certificate.domain !== undefined) fitted.domain = certificate.domain.slice(0, DNS_NAME_LENGTH);
  if (certificate.serial !== undefined) fitted.serial = certificate.serial.slice(0, SERIAL_LENGTH);
  if (certificate.issuer !== undefined) fitted.issuer = certificate.issuer.slice(0, ISSUER_LENGTH);
  return fitted;
}

/** Whether a run's certificate lists every DNS name of the certificate. */
export const listsAllDnsNames = (certificate: RunCertificate): boolean =>
  certificate.dnsNamesTotal === undefined || certificate.dnsNamesTotal <= (certificate.dnsNames?.length ?? 0);

export const DeployHookRunSpecSchema = z
  .object({
    hookRef: HookRefSchema,
    secretRef: secretRef(
      'The TLS Secret whose certificate the run is for: in the run\'s namespace, or for a ClusterDeployHook\'s run in secretRef.namespace. A manual run may omit it: the operator then chooses, among ' +
        'the TLS Secrets the hook selects, the one whose certificate is the most recent (latest notBefore), and ' +
        'records it in status.secretRef.',
    ).optional(),
    event: RunEventSchema.describe('Why the run fires: created, renewed, revoked, or manual for a run created by hand.'),
    certificate: RunCertificateSchema.optional().describe(
      'The certificate version that fired the run. Required unless event is manual; a manual run without it ' +
        "uses the Secret's current certificate, recorded in status.certificate.",
    ),
    triggeredBy: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('Who fired the run: certhook for automatic firings, else a user name or free text.'),
    stage: StageSchema.optional().describe("The hook's stage when the run was planned (absent: deploy)."),
    failurePolicy: FailurePolicySchema.optional().describe("The hook's failure policy when the run was planned (absent: the stage's default)."),
  })
  .meta({
    description: 'What to run, for which certificate. Immutable once created.',
    'x-kubernetes-validations': [
      { rule: 'self == oldSelf', message: 'spec is immutable' },
      { rule: "self.event == 'manual' || has(self.certificate)", message: 'certificate is required unless event is manual' },
      { rule: "self.event == 'manual' || has(self.secretRef)", message: 'secretRef is required unless event is manual' },
      {
        rule: `!has(self.secretRef) || !has(self.secretRef.namespace) || (${IS_CLUSTER_RUN})`,
        message: "secretRef.namespace is only for a ClusterDeployHook's run: a DeployHook's run takes a Secret of its own namespace (leave namespace out)",
      },
      {
        rule: `!has(self.secretRef) || has(self.secretRef.namespace) || !(${IS_CLUSTER_RUN})`,
        message: "a ClusterDeployHook's run names its Secret's namespace too: secretRef: {namespace: ..., name: ...}",
      },
    ],
  });
export type DeployHookRunSpec = z.infer<typeof DeployHookRunSpecSchema>;

/** The first attempt and at most five retries (spec.job.retries). */
export const JOB_MAX_ATTEMPTS = 6;

export const JobAttemptSchema = z
  .object({
    attempt: z.int().min(1).max(JOB_MAX_ATTEMPTS).describe('1 for the first attempt, 2 for the first retry, ...'),
    pod: z.string().max(253).describe('The pod that ran the attempt.'),
    exitCode: z.int32().optional().describe("The command's exit code, when it ran to completion."),
    reason: z.string().max(128).optional().describe('How the attempt ended: Completed, ExitCode, TimedOut, or why the container did not end normally.'),
    startTime: timestamp('When the attempt started.').optional(),
    completionTime: timestamp('When the attempt ended.').optional(),
    output: z.string().max(1024).optional().describe("The end of the attempt's output, at most 1024 characters."),
  })
  .describe('One attempt of a Job hook.');
export type JobAttempt = z.infer<typeof JobAttemptSchema>;

/** The first attempt and at most ten retries (spec.webhook.retries). */
export const WEBHOOK_MAX_ATTEMPTS = 11;

export const WebhookAttemptSchema = z
  .object({
    attempt: z.int().min(1).max(WEBHOOK_MAX_ATTEMPTS).describe('1 for the first attempt, 2 for the first retry, ...'),
    time: timestamp('When the attempt was sent.'),
    statusCode: z.int().min(100).max(599).optional().describe('The HTTP status of the response, when there was one.'),
    durationSeconds: z.number().min(0).describe('Seconds from sending to the end of the response (or the error).'),
    errorClass: z
      .string()
      .max(64)
      .optional()
      .describe('Why the attempt failed: http_status, timeout, connection, tls, network_policy, configuration or body_too_large.'),
    message: z.string().max(1024).optional().describe('What went wrong, for a failed attempt.'),
    responseBody: z.string().max(1024).optional().describe('The start of the response body, at most 1 KiB.'),
  })
  .describe('One delivery attempt of a webhook.');
export type WebhookAttempt = z.infer<typeof WebhookAttemptSchema>;

export const DeployHookRunStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The .metadata.generation this status describes.'),
    phase: RunPhaseSchema.optional().describe('Pending, Waiting (for an earlier stage), Running, Succeeded, Failed, Skipped, or Unknown when the outcome could not be learnt.'),
    reason: z
      .string()
      .max(128)
      .optional()
      .describe(
        'Why the run is in its phase: Completed, ExitCode, TimedOut, Superseded, SecretNotFound, HookNotFound, ' +
          'HookInvalid, CertificateUnparsable, JobFailed, JobNotFound, Delivered, HTTPStatus, RetriesExhausted, ' +
          'NetworkPolicy, BodyTooLarge, HookDeleted, EarlierStageFailed, WaitingForStage, HooksDisabled.',
      ),
    message: z.string().max(32768).optional().describe('Human-readable detail about the phase.'),
    secretRef: secretRef('For a manual run that named no Secret: the TLS Secret the operator chose for it.').optional(),
    certificate: RunCertificateSchema.optional().describe(
      'The certificate version the run acted on: spec.certificate, or for a manual run without one, ' +
        "the Secret's certificate when the run started.",
    ),
    exitCode: z.int32().optional().describe("The hook's exit code, when it ran to completion."),
    startTime: timestamp('When the hook started.').optional(),
    completionTime: timestamp('When the run reached a final phase.').optional(),
    durationSeconds: z.number().min(0).optional().describe('Wall-clock duration of the hook, in seconds.'),
    output: z
      .string()
      .max(4096)
      .optional()
      .describe("The tail of the hook's combined stdout and stderr, at most 4096 characters."),
    job: z
      .object({
        name: z.string().max(253).describe('Name of the Job that ran the hook.'),
        attempts: z
          .array(JobAttemptSchema)
          .max(JOB_MAX_ATTEMPTS)
          .optional()
          .describe('For a hook with spec.job.retries: every attempt (a pod of the Job), oldest first.'),
      })
      .optional()
      .describe('What the Job runner recorded: the Job that ran the hook.'),
    webhook: z
      .object({
        id: z.string().max(64).describe('The webhook-id (and Idempotency-Key) of every delivery of this run: receivers deduplicate by it.'),
        attempts: z
          .array(WebhookAttemptSchema)
          .max(WEBHOOK_MAX_ATTEMPTS)
          .optional()
          .describe('Every delivery attempt, oldest first.'),
      })
      .optional()
      .describe('What the webhook runner recorded: the delivery id and its attempts.'),
    group: z
      .object({
        result: z.enum(['succeeded', 'failed']).describe('failed when a pre or deploy hook of the group failed.'),
        failedHooks: z.array(z.string().max(253)).max(100).optional().describe('The pre and deploy hooks of the group that failed.'),
      })
      .optional()
      .describe('For a post hook: how the earlier stages of its group (the hooks one certificate version fired) ended.'),
    dryRunReason: z
      .string()
      .max(1024)
      .optional()
      .describe('Why the run was a dry run (CERTMATE_DRY_RUN=1, dry_run: true): the hook\'s spec.dryRun, a staging issuer, or --dry-run-issuers.'),
    nextAttemptTime: timestamp('When the next delivery attempt is due, while a retry is scheduled.').optional(),
    snapshotSecretName: z
      .string()
      .max(253)
      .optional()
      .describe('Name of the Secret holding the snapshot of the certificate files the hook saw.'),
  })
  .describe('Outcome of the run.');
export type DeployHookRunStatus = z.infer<typeof DeployHookRunStatusSchema>;
/** How the pre and deploy hooks of a post hook's group ended. */
export type GroupOutcome = NonNullable<DeployHookRunStatus['group']>;

export const DeployHookRunSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(DEPLOY_HOOK_RUN.kind),
    metadata: ObjectMetaSchema,
    spec: DeployHookRunSpecSchema,
    status: DeployHookRunStatusSchema.optional(),
  })
  .describe(
    'A DeployHookRun is one firing of a DeployHook (or ClusterDeployHook) for one certificate version of one TLS ' +
      'Secret, and its outcome. Create one by hand (event: manual) to test a hook.',
  );
/** A run as the API holds it: a manual run may name no Secret. */
export type DeployHookRunObject = z.infer<typeof DeployHookRunSchema>;

/**
 * A run as the operator works with it: its Secret always named — for a manual run that named none,
 * the one the operator chose (status.secretRef), and "" (no Secret's name) until it has chosen.
 */
export type DeployHookRun = Omit<DeployHookRunObject, 'spec'> & { spec: DeployHookRunSpec & { secretRef: { name: string; namespace?: string } } };

export function boundRun(run: DeployHookRunObject): DeployHookRun {
  if (run.spec.secretRef) return run as DeployHookRun;
  return { ...run, spec: { ...run.spec, secretRef: run.status?.secretRef ?? { name: '' } } };
}
