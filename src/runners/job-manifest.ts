// A run → the Job that executes it. Pure.
import type { DeployHook, HookJob } from '../api/deployhook.ts';
import type { DeployHookRun, RunCertificate } from '../api/deployhookrun.ts';
import type { KubeObject } from '../kube/object.ts';
import { ownerReference } from '../kube/object.ts';
import type { RunContext } from './runner.ts';
import { FILES, runLabels, type SnapshotInfo } from './snapshot.ts';

/** Where the certificate files are mounted in the hook's container. */
export const CERTIFICATE_DIR = '/var/run/certhook/certificate';

/** The user the hook runs as: not root, so the pod passes the "restricted" Pod Security profile. */
const HOOK_UID = 65532;

export interface JobOptions {
  /** The image a hook runs in when it names none. */
  defaultImage: string;
  /** How long a finished Job stays for `kubectl logs` before Kubernetes deletes it. */
  ttlSecondsAfterFinished: number;
}

/** The `CERTMATE_*` environment: the CertMate contract plus what a script wants next. */
export function certmateEnv(run: DeployHookRun, hook: DeployHook, certificate: RunCertificate, hasKey: boolean, { group, dryRunReason }: RunContext = {}): { name: string; value: string }[] {
  const env: [string, string | undefined][] = [
    ['CERTMATE_DOMAIN', certificate.domain],
    ['CERTMATE_DOMAINS', certificate.dnsNames?.join(',')],
    ['CERTMATE_CERT_PATH', `${CERTIFICATE_DIR}/${FILES.cert}`],
    ['CERTMATE_CHAIN_PATH', `${CERTIFICATE_DIR}/${FILES.chain}`],
    ['CERTMATE_FULLCHAIN_PATH', `${CERTIFICATE_DIR}/${FILES.fullchain}`],
    ['CERTMATE_KEY_PATH', hasKey ? `${CERTIFICATE_DIR}/${FILES.key}` : undefined],
    ['CERTMATE_EVENT', run.spec.event],
    ['CERTMATE_DRY_RUN', hook.spec.dryRun || dryRunReason ? '1' : undefined],
    ['CERTMATE_FINGERPRINT', certificate.fingerprint],
    ['CERTMATE_SERIAL', certificate.serial],
    ['CERTMATE_NOT_BEFORE', certificate.notBefore],
    ['CERTMATE_NOT_AFTER', certificate.notAfter],
    ['CERTMATE_ISSUER', certificate.issuer],
    ['CERTMATE_SECRET_NAME', run.spec.secretRef.name],
    ['CERTMATE_SECRET_NAMESPACE', run.metadata.namespace],
    ['CERTMATE_HOOK_NAME', hook.metadata.name],
    ['CERTMATE_RUN_NAME', run.metadata.name],
    ['CERTMATE_TRIGGERED_BY', run.spec.triggeredBy],
    // A post hook learns how its group's pre and deploy hooks ended.
    ['CERTMATE_RESULT', group?.result],
    ['CERTMATE_FAILED_HOOKS', group && (group.failedHooks ?? []).join(',')],
  ];
  return env.filter((e): e is [string, string] => e[1] !== undefined).map(([name, value]) => ({ name, value }));
}

/**
 * The Job that runs the hook once: `sh -c <command>`, no retries, killed at timeoutSeconds, as a
 * non-root user with no privileges and no API token unless the hook names a service account.
 */
export function hookJob(run: DeployHookRun, hook: DeployHook, job: HookJob, certificate: RunCertificate, snapshot: SnapshotInfo, opts: JobOptions, context: RunContext = {}): KubeObject {
  const { timeoutSeconds } = hook.spec;
  const labels = runLabels(run);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: run.metadata.name!,
      namespace: run.metadata.namespace!,
      labels,
      ownerReferences: [ownerReference(run as KubeObject)],
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: timeoutSeconds,
      ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(job.serviceAccountName
            ? { serviceAccountName: job.serviceAccountName, automountServiceAccountToken: true }
            : { automountServiceAccountToken: false }),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: HOOK_UID,
            runAsGroup: HOOK_UID,
            fsGroup: HOOK_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [{
            name: 'hook',
            image: job.image ?? opts.defaultImage,
            command: ['sh', '-c', job.command],
            env: [...certmateEnv(run, hook, certificate, snapshot.hasKey, context), ...(job.env ?? [])],
            volumeMounts: [{ name: 'certificate', mountPath: CERTIFICATE_DIR, readOnly: true }],
            securityContext: {
              allowPrivilegeEscalation: false,
              runAsNonRoot: true,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            },
          }],
          volumes: [{ name: 'certificate', secret: { secretName: snapshot.name, defaultMode: 0o440 } }],
        },
      },
    },
  };
}

