// A run → the Job that executes it. Pure.
import { cloneJson } from '../schema/json.ts';
import { secretNamespaceOf } from '../api/hook-ref.ts';
import type { Hook, HookJob } from '../api/deployhook.ts';
import type { DeployHookRun, RunCertificate } from '../api/deployhookrun.ts';
import type { KubeObject } from '../kube/object.ts';
import { ownerReference } from '../kube/object.ts';
import { escapeExpansion, hookCommandLine, jobDeadlineSeconds } from './hook-script.ts';
import type { RunContext } from './runner.ts';
import { FILES, runLabels, type SnapshotInfo } from './snapshot.ts';

/** Where the certificate files are mounted in the hook's container. */
export const CERTIFICATE_DIR = '/var/run/certhook/certificate';

/** The user and group the hook runs as unless it says otherwise: not root, as the "restricted" Pod Security profile requires. */
const HOOK_UID = 65532;

export interface JobOptions {
  /** The image a hook runs in when it names none. */
  defaultImage: string;
  /** How long a finished Job stays for `kubectl logs` before Kubernetes deletes it. */
  ttlSecondsAfterFinished: number;
}

/**
 * The `CERTMATE_*` environment: the CertMate contract plus what a script wants next. The files
 * are in `certificateDir`: the Job's mount, or the directory `certhook run` wrote them to.
 */
export function certmateEnv(run: DeployHookRun, hook: Hook, certificate: RunCertificate, hasKey: boolean, { group, dryRunReason }: RunContext = {}, certificateDir = CERTIFICATE_DIR): { name: string; value: string }[] {
  const env: [string, string | undefined][] = [
    ['CERTMATE_DOMAIN', certificate.domain],
    ['CERTMATE_DOMAINS', certificate.dnsNames?.join(',')],
    ['CERTMATE_CERT_PATH', `${certificateDir}/${FILES.cert}`],
    ['CERTMATE_CHAIN_PATH', `${certificateDir}/${FILES.chain}`],
    ['CERTMATE_FULLCHAIN_PATH', `${certificateDir}/${FILES.fullchain}`],
    ['CERTMATE_KEY_PATH', hasKey ? `${certificateDir}/${FILES.key}` : undefined],
    ['CERTMATE_EVENT', run.spec.event],
    ['CERTMATE_DRY_RUN', hook.spec.dryRun || dryRunReason ? '1' : undefined],
    ['CERTMATE_FINGERPRINT', certificate.fingerprint],
    ['CERTMATE_SERIAL', certificate.serial],
    ['CERTMATE_NOT_BEFORE', certificate.notBefore],
    ['CERTMATE_NOT_AFTER', certificate.notAfter],
    ['CERTMATE_ISSUER', certificate.issuer],
    ['CERTMATE_SECRET_NAME', run.spec.secretRef.name],
    ['CERTMATE_SECRET_NAMESPACE', secretNamespaceOf(run)],
    ['CERTMATE_HOOK_NAME', hook.metadata.name],
    ['CERTMATE_RUN_NAME', run.metadata.name],
    ['CERTMATE_TRIGGERED_BY', run.spec.triggeredBy],
    // A post hook learns how its group's pre and deploy hooks ended.
    ['CERTMATE_RESULT', group?.result],
    ['CERTMATE_FAILED_HOOKS', group && (group.failedHooks ?? []).join(',')],
  ];
  return env.filter((e): e is [string, string] => e[1] !== undefined).map(([name, value]) => ({ name, value }));
}

/** The pod's and the container's security contexts: restricted, with what the hook tunes. */
function securityContexts(job: HookJob) {
  const tuned = job.securityContext ?? {};
  const seccompProfile = () => (tuned.seccompProfile ? { ...tuned.seccompProfile } : { type: 'RuntimeDefault' });
  return {
    pod: {
      runAsNonRoot: true,
      runAsUser: tuned.runAsUser ?? HOOK_UID,
      runAsGroup: tuned.runAsGroup ?? HOOK_UID,
      fsGroup: tuned.fsGroup ?? HOOK_UID,
      seccompProfile: seccompProfile(),
    },
    container: {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      ...(tuned.readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem: tuned.readOnlyRootFilesystem } : {}),
      capabilities: { drop: ['ALL'], ...(tuned.capabilities?.add?.length ? { add: [...tuned.capabilities.add] } : {}) },
      seccompProfile: seccompProfile(),
      ...(tuned.appArmorProfile ? { appArmorProfile: { ...tuned.appArmorProfile } } : {}),
    },
  };
}

/**
 * The Job that runs the hook once: `sh -c <command>` with the command as written, stopped at
 * timeoutSeconds (the Job's deadline a little later is the backstop), retried spec.job.retries times (each attempt a pod), as a non-root
 * user with no privileges and no API token unless the hook names a service account; with the pod
 * settings the hook tunes, which stay within the restricted profile (the CRD refuses the rest).
 */
export function hookJob(run: DeployHookRun, hook: Hook, job: HookJob, certificate: RunCertificate, snapshot: SnapshotInfo, opts: JobOptions, context: RunContext = {}): KubeObject {
  const { timeoutSeconds } = hook.spec;
  const labels = runLabels(run);
  const security = securityContexts(job);
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
      backoffLimit: job.retries,
      activeDeadlineSeconds: jobDeadlineSeconds(timeoutSeconds, job.retries),
      ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished,
      template: {
        // certhook's labels win (and the CRD refuses podLabels that would set them).
        metadata: { labels: { ...job.podLabels, ...labels }, ...(job.podAnnotations ? { annotations: { ...job.podAnnotations } } : {}) },
        spec: {
          restartPolicy: 'Never',
          ...(job.serviceAccountName
            ? { serviceAccountName: job.serviceAccountName, automountServiceAccountToken: true }
            : { automountServiceAccountToken: false }),
          ...(job.imagePullSecrets ? { imagePullSecrets: job.imagePullSecrets.map(({ name }) => ({ name })) } : {}),
          ...(job.nodeSelector ? { nodeSelector: { ...job.nodeSelector } } : {}),
          ...(job.tolerations ? { tolerations: cloneJson(job.tolerations) } : {}),
          ...(job.affinity ? { affinity: cloneJson(job.affinity) } : {}),
          securityContext: security.pod,
          containers: [{
            name: 'hook',
            image: job.image ?? opts.defaultImage,
            ...hookCommandLine(job.command, timeoutSeconds),
            // The certificate's names are anyone's text: Kubernetes' $(VAR) expansion of env values must not touch them.
            env: [...certmateEnv(run, hook, certificate, snapshot.hasKey, context).map(({ name, value }) => ({ name, value: escapeExpansion(value) })), ...(job.env ?? [])],
            ...(job.resources ? { resources: cloneJson(job.resources) } : {}),
            volumeMounts: [{ name: 'certificate', mountPath: CERTIFICATE_DIR, readOnly: true }],
            securityContext: security.container,
          }],
          volumes: [{ name: 'certificate', secret: { secretName: snapshot.name, defaultMode: 0o440 } }],
        },
      },
    },
  };
}

