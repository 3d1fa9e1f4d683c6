// Warnings a firing raises where people look (`kubectl describe` of the Secret, the hook, the run):
// a run the API refuses for good (FiringRefused, also counted and logged), and a certificate whose
// tls.key is not its key (KeyMismatch: the hook still runs, with a pair that will not work).
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { secretNamespaceOf } from '../api/hook-ref.ts';
import { ANNOTATIONS } from '../api/names.ts';
import { checkKeyPair } from '../certs/key-pair.ts';
import { KubeApiError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import type { CertificateFiles } from '../runners/snapshot.ts';
import type { OperatorContext } from './context.ts';
import type { Firing } from './plan.ts';

/** What an Event about a Secret needs of it. */
const secretObject = (namespace: string, name: string, uid: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, uid } });

/**
 * Whether the API refused a request for good: a 4xx the same request would get again (invalid,
 * forbidden, too large), not a conflict, a timeout or a rate limit.
 */
export const isRefused = (err: unknown): err is KubeApiError =>
  err instanceof KubeApiError && err.code >= 400 && err.code < 500 && ![408, 409, 429].includes(err.code);

/** A firing whose run the API refused: said on the Secret and the hook, counted and logged; the resync tries it again. */
export async function reportRefusal(ctx: OperatorContext, firing: Firing, runName: string, err: KubeApiError): Promise<void> {
  const namespace = firing.secret.namespace;
  const hook = firing.hook.metadata.name!;
  const message = `the API refused run ${runName} (${firing.hook.kind} ${hook}, ${firing.event}, Secret ${firing.secret.name}): ${err.code} ${err.message}; it is tried again at the next resync`;
  ctx.metrics.firingRefused(firing.hook.metadata.namespace ?? '', hook);
  ctx.log.warn({ run: runName, hook, secret: firing.secret.name, namespace, event: firing.event, code: err.code, err: err.message }, 'the API refused a firing\'s run; it is tried again at the next resync');
  await Promise.all([
    ctx.recorder.record(secretObject(namespace, firing.secret.name, firing.secret.uid), 'Warning', 'FiringRefused', message, runName),
    ctx.recorder.record(firing.hook as KubeObject, 'Warning', 'FiringRefused', message, runName),
  ]);
}

/** When a run's files pair a certificate with a key that is not its own: said on the run and on the Secret. */
export async function warnOfKeyMismatch(ctx: OperatorContext, run: DeployHookRun, files: CertificateFiles): Promise<void> {
  if (files.key === undefined) return;
  const check = checkKeyPair(files.cert, files.key);
  if (check === 'match') return;
  const namespace = secretNamespaceOf(run);
  const fingerprint = run.spec.certificate?.fingerprint ?? '';
  const problem = check === 'mismatch'
    ? 'tls.key does not hold the private key of the certificate in tls.crt'
    : 'tls.key holds no private key certhook can read (not PEM, encrypted, or of an unknown kind)';
  const consequence = 'the hook runs anyway, and deploys a certificate and key that do not work together: put the matching key in tls.key';
  ctx.log.warn({ run: run.metadata.name, secret: run.spec.secretRef.name, namespace, check }, 'the certificate and key of a firing do not belong together');
  const secretUid = run.metadata.annotations?.[ANNOTATIONS.secretUid];
  await Promise.all([
    ctx.recorder.record(run as KubeObject, 'Warning', 'KeyMismatch', `${problem}: ${consequence}`, fingerprint),
    // Once per certificate version, however many hooks it fires.
    secretUid && ctx.recorder.record(secretObject(namespace, run.spec.secretRef.name, secretUid), 'Warning', 'KeyMismatch', `${problem} (certificate ${fingerprint.slice(0, 16)}): ${consequence}`, fingerprint),
  ]);
}
