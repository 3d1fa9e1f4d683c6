// Enumerations shared by DeployHook and DeployHookRun.
import { z } from 'zod';

/** The events a hook fires on unless it says otherwise. */
export const CERTIFICATE_EVENTS = ['created', 'renewed', 'revoked'] as const;
/**
 * What happened to a certificate: its Secret was created, its tls.crt changed, its Secret was
 * deleted, or (opt-in) it is close to its notAfter and no renewal came.
 */
export const CertificateEventSchema = z.enum([...CERTIFICATE_EVENTS, 'expiring']);
export type CertificateEvent = z.infer<typeof CertificateEventSchema>;

/** Why a run fired: a certificate event, or `manual` for a DeployHookRun created by hand. */
export const RunEventSchema = z.enum([...CertificateEventSchema.options, 'manual']);
export type RunEvent = z.infer<typeof RunEventSchema>;

export const RunPhaseSchema = z.enum(['Pending', 'Waiting', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Unknown']);
export type RunPhase = z.infer<typeof RunPhaseSchema>;

export const STAGES = ['pre', 'deploy', 'post'] as const;
/** When a hook runs among the hooks one certificate version fires: pre, then deploy, then post. */
export const StageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof StageSchema>;

/** Whether a hook's failure stops the later stages of its group (Fail) or is only recorded (Ignore). */
export const FailurePolicySchema = z.enum(['Fail', 'Ignore']);
export type FailurePolicy = z.infer<typeof FailurePolicySchema>;

/**
 * The known values of a run's `reason`. The field is an open string so a new reason needs no CRD
 * change; these are the ones the API documents.
 */
export const RUN_REASONS = {
  /** The hook ran and exited 0. */
  Completed: 'Completed',
  /** The hook exited non-zero; see exitCode and output. */
  ExitCode: 'ExitCode',
  /** The hook ran longer than its timeoutSeconds. */
  TimedOut: 'TimedOut',
  /** A newer certificate version arrived before this run started; the newer one runs instead. */
  Superseded: 'Superseded',
  /** The TLS Secret did not exist (or held no certificate) when a manual run needed it. */
  SecretNotFound: 'SecretNotFound',
  /** The DeployHook named by hookRef does not exist. */
  HookNotFound: 'HookNotFound',
  /** The DeployHook is not valid (its Ready condition is False). */
  HookInvalid: 'HookInvalid',
  /** The Secret's tls.crt could not be parsed. */
  CertificateUnparsable: 'CertificateUnparsable',
  /** The Job failed without a container exit code (image pull, scheduling, eviction, ...). */
  JobFailed: 'JobFailed',
  /** The Job was gone (deleted by its TTL while no operator ran, say) before its outcome was read. */
  JobNotFound: 'JobNotFound',
  /** The webhook's receiver answered 2xx within the timeout. */
  Delivered: 'Delivered',
  /** The receiver answered a status that retrying cannot mend (a 4xx other than 408 and 429, or a redirect). */
  HTTPStatus: 'HTTPStatus',
  /** Every attempt of a webhook failed with a transient error (the seed's io_transient). */
  RetriesExhausted: 'RetriesExhausted',
  /** The webhook's URL resolved to an address the operator may not connect to. */
  NetworkPolicy: 'NetworkPolicy',
  /** The webhook's rendered body was larger than a webhook may send (256 KiB). */
  BodyTooLarge: 'BodyTooLarge',
  /** The operator's master switch is off (`--hooks-enabled=false`): the firing is recorded, nothing runs. */
  HooksDisabled: 'HooksDisabled',
  /** A hook of an earlier stage of the run's group, with failurePolicy Fail, failed. */
  EarlierStageFailed: 'EarlierStageFailed',
  /** The run waits for the hooks of an earlier stage of its group to finish. */
  WaitingForStage: 'WaitingForStage',
  /** The run's hook was deleted before its webhook was delivered. */
  HookDeleted: 'HookDeleted',
} as const;
export type RunReason = (typeof RUN_REASONS)[keyof typeof RUN_REASONS];
