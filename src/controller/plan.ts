// Certificate events × hooks → DeployHookRun objects. Pure: the run's name is derived from what
// keys a firing, so two operators (or one, twice) planning the same firing create one object.
import { createHash } from 'node:crypto';
import type { Hook } from '../api/deployhook.ts';
import { isClusterHook } from '../api/hook-ref.ts';
import { fitCertificate, type DeployHookRun, type RunCertificate } from '../api/deployhookrun.ts';
import type { CertificateEvent } from '../api/enums.ts';
import { ANNOTATIONS, API_VERSION, DEPLOY_HOOK_RUN, LABELS, labelValue, NAME_LIMIT } from '../api/names.ts';
import type { CertificateFacts } from '../certs/bundle.ts';
import { defaultFailurePolicy } from './stages.ts';
import type { TlsSecret } from './tls-secret.ts';

/** The identity who fires automatic runs, recorded in spec.triggeredBy. */
export const OPERATOR_IDENTITY = 'certhook';

/** What identifies a hook: its kind (a cluster-scoped one has no namespace), namespace and name. */
export interface HookIdentity {
  kind: string;
  namespace: string | undefined;
  name: string;
}

export const hookIdentity = (hook: Hook): HookIdentity => ({ kind: hook.kind, namespace: hook.metadata.namespace, name: hook.metadata.name! });

/** The Secret of a firing: a ClusterDeployHook's are in many namespaces. */
export interface FiringSecret {
  namespace: string;
  name: string;
  uid: string;
}

/**
 * `<hook>-<event>-<hash>`, at most 63 characters (so it also names the run's Job and fits a
 * label), where the hash covers everything that keys a firing: the hook (kind, namespace and
 * name, so hooks of two kinds with one name never collide), the Secret (by uid, so a Secret
 * deleted and created again is a new Secret; a cluster hook's, by namespace too), the
 * certificate fingerprint and the event.
 */
export function runName(hook: HookIdentity, secret: FiringSecret, fingerprint: string, event: CertificateEvent): string {
  // A DeployHook's Secrets are of its own namespace: its runs' names stay as they were.
  const secretNamespace = hook.namespace === undefined ? [secret.namespace] : [];
  const hash = createHash('sha256').update([hook.kind, hook.namespace ?? '', hook.name, secret.name, ...secretNamespace, secret.uid, fingerprint, event].join('\0')).digest('hex').slice(0, 10);
  const suffix = `-${event}-${hash}`;
  return `${labelValue(hook.name.slice(0, NAME_LIMIT - suffix.length))}${suffix}`;
}

export function runCertificate(facts: CertificateFacts): RunCertificate {
  return {
    fingerprint: facts.fingerprint,
    serial: facts.serial,
    ...(facts.primaryName ? { domain: facts.primaryName } : {}),
    dnsNames: facts.dnsNames,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    issuer: facts.issuer,
  };
}

/** One firing: `event` of one certificate version of one Secret fires `hook`. */
export interface Firing {
  hook: Hook;
  event: CertificateEvent;
  secret: FiringSecret;
  /** Every DNS name (a revoke's: what its last run recorded); the run records it fitted to its schema. */
  certificate: RunCertificate;
}

export function firingOf(hook: Hook, event: CertificateEvent, secret: TlsSecret): Firing {
  return { hook, event, secret: { namespace: secret.namespace, name: secret.name, uid: secret.uid }, certificate: runCertificate(secret.certificate!) };
}

/**
 * The run recording a firing, in `namespace` (runNamespaceOf the hook), owned by the hook (its
 * runs go with it). `plannedAt` (with milliseconds) orders the runs of one hook and Secret, which
 * creationTimestamp's whole seconds cannot.
 */
export function planRun({ hook, event, secret, certificate }: Firing, plannedAt: string, namespace: string): DeployHookRun {
  const cluster = isClusterHook(hook);
  return {
    apiVersion: API_VERSION,
    kind: DEPLOY_HOOK_RUN.kind,
    metadata: {
      name: runName(hookIdentity(hook), secret, certificate.fingerprint, event),
      namespace,
      labels: {
        [LABELS.hook]: labelValue(hook.metadata.name!),
        [LABELS.secret]: labelValue(secret.name),
        ...(cluster ? { [LABELS.secretNamespace]: secret.namespace } : {}),
        [LABELS.event]: event,
      },
      annotations: {
        [ANNOTATIONS.fingerprint]: certificate.fingerprint,
        [ANNOTATIONS.secretUid]: secret.uid,
        [ANNOTATIONS.plannedAt]: plannedAt,
      },
      ownerReferences: [{
        apiVersion: API_VERSION,
        kind: hook.kind,
        name: hook.metadata.name!,
        uid: hook.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    spec: {
      hookRef: cluster ? { kind: hook.kind, name: hook.metadata.name! } : { name: hook.metadata.name! },
      secretRef: cluster ? { namespace: secret.namespace, name: secret.name } : { name: secret.name },
      event,
      certificate: fitCertificate(certificate),
      triggeredBy: OPERATOR_IDENTITY,
      // As planned: the group's order never changes with a later edit of a hook.
      stage: hook.spec.stage,
      failurePolicy: hook.spec.failurePolicy ?? defaultFailurePolicy(hook.spec.stage),
    },
  };
}
