// Firings → DeployHookRuns and their certificate snapshots. Planning writes objects, never a
// status: the run first (its name keys the firing, so planning twice creates one), then the
// snapshot it owns. The files come from the object the Secret's last change carried, else the
// Secret read now, else (for a revoke) the snapshot of the run that captured that certificate,
// so a run always gets the version that fired it; the private key is held only until written.
import type { DeployHookRun, DeployHookRunStatus, RunCertificate } from '../api/deployhookrun.ts';
import { RUN_REASONS } from '../api/enums.ts';
import { ANNOTATIONS } from '../api/names.ts';
import { parseCertificateBundle } from '../certs/bundle.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { createOrGet, getIfExists } from '../kube/idempotent.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, objectPath, RESOURCES } from '../kube/paths.ts';
import { certificateFiles, ownsSnapshot, secretData, snapshotFiles, snapshotInfo, snapshotName, snapshotOwner, snapshotSecret, type CertificateFiles, type SnapshotInfo } from '../runners/snapshot.ts';
import { hookKeyOfRun, runNamespaceOf, secretKeyOfRun, secretNamespaceOf } from '../api/hook-ref.ts';
import { cacheKey, runsOfSecret, type OperatorContext } from './context.ts';
import { isRefused, reportRefusal, warnOfKeyMismatch } from './firing-warnings.ts';
import { capturingRun } from './ledger.ts';
import { planRun, runCertificate, type Firing } from './plan.ts';

/** The files of the certificate `object` holds, if it is that Secret (uid) with that certificate. */
function filesOf(object: KubeObject | undefined, uid: string, fingerprint: string | undefined): CertificateFiles | undefined {
  if (!object || object.metadata.uid !== uid) return undefined;
  const { fingerprint: holds, ...files } = certificateFiles(object) ?? {};
  return holds && (!fingerprint || holds === fingerprint) ? files as CertificateFiles : undefined;
}

/** The files the snapshot of an earlier run kept, if it still exists. */
async function filesOfRun(ctx: OperatorContext, run: DeployHookRun): Promise<CertificateFiles | undefined> {
  const snapshot = await getIfExists<KubeObject>(ctx.client, objectPath(RESOURCES.secrets, run.metadata.namespace!, run.status?.snapshotSecretName ?? snapshotName(run)));
  return snapshot ? snapshotFiles(snapshot) : undefined;
}

/** A revoked certificate's files: its Secret is gone, so the run that captured it has them. */
async function revokedFiles(ctx: OperatorContext, revoked: DeployHookRun): Promise<CertificateFiles | undefined> {
  const hookKey = hookKeyOfRun(revoked);
  const runs = runsOfSecret(ctx, secretNamespaceOf(revoked), revoked.spec.secretRef.name).filter((r) => hookKeyOfRun(r) === hookKey);
  const captured = capturingRun(runs, revoked);
  return captured ? filesOfRun(ctx, captured) : undefined;
}

/** What a run's snapshot is made of, or why the run cannot have one (the outcome to record). */
export type RunFiles = { files: CertificateFiles; certificate: RunCertificate } | { outcome: DeployHookRunStatus };

/** A created or renewed run whose certificate its Secret no longer holds (`current`: what it holds now, if it is the same Secret). */
export const supersededStatus = (run: DeployHookRun, current: string | undefined): DeployHookRunStatus => ({
  phase: 'Skipped',
  reason: RUN_REASONS.Superseded,
  message: current
    ? `Secret "${run.spec.secretRef.name}" now holds certificate ${current}, which has its own run`
    : `Secret "${run.spec.secretRef.name}" was deleted before the run started`,
});

/**
 * The files for a run that has no snapshot: made by hand (manual: the Secret's certificate now),
 * or planned by an operator that stopped before writing it (the Secret's, while it still holds the
 * run's certificate; a revoke's from the run that captured it).
 */
export async function filesForRun(ctx: OperatorContext, run: DeployHookRun): Promise<RunFiles> {
  const namespace = secretNamespaceOf(run);
  const secretName = run.spec.secretRef.name;
  if (run.spec.event === 'revoked') {
    const files = await revokedFiles(ctx, run);
    return files
      ? { files, certificate: run.spec.certificate! }
      : { outcome: { phase: 'Failed', reason: RUN_REASONS.SecretNotFound, message: 'the revoked certificate\'s files were not captured before its Secret was deleted' } };
  }
  const secret = await getIfExists<KubeObject>(ctx.client, objectPath(RESOURCES.secrets, namespace, secretName));
  const bundle = secret ? parseCertificateBundle(secretData(secret, 'tls.crt') ?? '') : undefined;
  const current = bundle?.ok ? bundle.facts : undefined;
  if (run.spec.event === 'manual') {
    if (!secret) return { outcome: { phase: 'Failed', reason: RUN_REASONS.SecretNotFound, message: `Secret "${secretName}" does not exist in namespace ${namespace}` } };
    if (!current) return { outcome: { phase: 'Failed', reason: RUN_REASONS.CertificateUnparsable, message: `Secret "${secretName}" holds no readable certificate${bundle && !bundle.ok ? `: ${bundle.message}` : ''}` } };
    if (run.spec.certificate && run.spec.certificate.fingerprint !== current.fingerprint) {
      return { outcome: { phase: 'Skipped', reason: RUN_REASONS.Superseded, message: `Secret "${secretName}" no longer holds certificate ${run.spec.certificate.fingerprint}` } };
    }
    const { fingerprint: _, ...files } = certificateFiles(secret!)!;
    return { files, certificate: run.spec.certificate ?? runCertificate(current) };
  }
  const sameSecret = secret?.metadata.uid === run.metadata.annotations?.[ANNOTATIONS.secretUid];
  const files = filesOf(secret, run.metadata.annotations?.[ANNOTATIONS.secretUid] ?? '', run.spec.certificate?.fingerprint);
  return files ? { files, certificate: run.spec.certificate! } : { outcome: supersededStatus(run, sameSecret ? current?.fingerprint : undefined) };
}

/**
 * Writes a run's snapshot, or joins the owners of the one another run of that certificate wrote,
 * and remembers it until the run starts. A key that is not the certificate's is warned of here,
 * where the pair the hook gets is put together.
 */
export async function writeSnapshot(ctx: OperatorContext, run: DeployHookRun, files: CertificateFiles): Promise<SnapshotInfo> {
  const snapshot = snapshotSecret(run, files);
  const namespace = run.metadata.namespace!;
  const name = snapshot.metadata.name!;
  const key = cacheKey(namespace, name);
  // The other hooks of a certificate join the snapshot its first run wrote a moment ago: one
  // request, where a create refused as a duplicate, a read and the join would be three.
  const uid = ctx.snapshotsWritten.get(key);
  if (!uid || !(await ownSnapshot(ctx, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name, uid } }, run))) {
    // The last other owner may go (and the garbage collector with it) between the two steps.
    for (;;) {
      const existing = await createOrGet<KubeObject>(ctx.client, collectionPath(RESOURCES.secrets, namespace), objectPath(RESOURCES.secrets, namespace, name), snapshot);
      if (await ownSnapshot(ctx, existing, run)) {
        rememberSnapshot(ctx, key, existing.metadata.uid!);
        break;
      }
    }
  }
  const info = snapshotInfo(snapshot);
  ctx.snapshots.set(cacheKey(run.metadata.namespace!, run.metadata.name!), info);
  // A revoke's files are those an earlier run was warned of already.
  if (run.spec.event !== 'revoked') await warnOfKeyMismatch(ctx, run, files);
  return info;
}

/** How many snapshots the planner remembers writing (their runs are planned together). */
const SNAPSHOTS_REMEMBERED = 1024;

function rememberSnapshot(ctx: OperatorContext, key: string, uid: string): void {
  ctx.snapshotsWritten.delete(key);
  ctx.snapshotsWritten.set(key, uid);
  if (ctx.snapshotsWritten.size > SNAPSHOTS_REMEMBERED) ctx.snapshotsWritten.delete(ctx.snapshotsWritten.keys().next().value!);
}

/**
 * Makes the run an owner of a snapshot that exists, unless it is one: a strategic merge of
 * ownerReferences, by uid, so runs joining at once all stay. False when the snapshot is gone.
 */
export async function ownSnapshot(ctx: OperatorContext, snapshot: KubeObject, run: DeployHookRun): Promise<boolean> {
  if (ownsSnapshot(snapshot, run)) return true;
  try {
    await ctx.client.patch(objectPath(RESOURCES.secrets, snapshot.metadata.namespace!, snapshot.metadata.name!), 'strategic', {
      metadata: { uid: snapshot.metadata.uid, ownerReferences: [snapshotOwner(run)] },
    }, { discardBody: true });
    return true;
  } catch (err) {
    if (isNotFound(err) || isConflict(err)) return false;
    throw err;
  }
}

/** What planning a firing came to: its run planned (or nothing left to plan), or the run refused for good by the API. */
export type Planned = 'planned' | 'refused';

/**
 * Plans one firing: its files, then its run, then the run's snapshot. `changed`: the object the
 * Secret's last change carried, if any. A created or renewed firing whose certificate the Secret
 * no longer holds plans nothing: the Secret's newer change is reconciled on its own. A run the
 * API refuses for good is reported, not thrown: retrying at once would be refused again, and the
 * Secret's other firings go ahead.
 */
export async function planFiring(ctx: OperatorContext, firing: Firing, changed: KubeObject | undefined): Promise<Planned> {
  const planned = planRun(firing, new Date().toISOString(), runNamespaceOf(firing.hook, ctx.config.clusterHookNamespace ?? ''));
  const namespace = planned.metadata.namespace!;
  const secretKey = secretKeyOfRun(planned);
  let files = filesOf(changed, firing.secret.uid, firing.certificate.fingerprint);
  if (!files && firing.event !== 'revoked') {
    const now = await getIfExists<KubeObject>(ctx.client, objectPath(RESOURCES.secrets, firing.secret.namespace, firing.secret.name));
    files = filesOf(now, firing.secret.uid, firing.certificate.fingerprint);
    if (!files) return 'planned';
  }
  const runKey = cacheKey(namespace, planned.metadata.name!);
  // The run's watch event usually comes before its snapshot is written: its reconcile waits for
  // this planner, which adds the run again once it is done.
  ctx.snapshots.set(runKey, 'writing');
  try {
    let run: DeployHookRun;
    try {
      run = await createOrGet<DeployHookRun>(ctx.client, collectionPath(RESOURCES.deployHookRuns, namespace), objectPath(RESOURCES.deployHookRuns, namespace, planned.metadata.name!), planned);
    } catch (err) {
      if (!isRefused(err)) throw err;
      await reportRefusal(ctx, firing, planned.metadata.name!, err);
      return 'refused';
    }
    ctx.expectations.expect(secretKey, run);
    if (!run.status?.phase) {
      files ??= await revokedFiles(ctx, run);
      // A revoke whose files nobody captured: the run reconciler records why.
      if (files) await writeSnapshot(ctx, run, files);
    }
    ctx.log.info({ run: run.metadata.name, hook: firing.hook.metadata.name, secret: firing.secret.name, event: firing.event, namespace, ...(namespace !== firing.secret.namespace ? { secretNamespace: firing.secret.namespace } : {}) }, 'run planned');
    return 'planned';
  } finally {
    if (ctx.snapshots.get(runKey) === 'writing') ctx.snapshots.delete(runKey);
    ctx.runQueue.add(runKey);
  }
}
