// Firings → DeployHookRuns with their certificate snapshots. The snapshot is taken from the very
// Secret object the event came with (or, for the ledger, from the Secret as it is now, or the last
// run's snapshot for a Secret that is gone), so a run always sees the version that fired it; the
// private key is held only until that snapshot is written.
import type { DeployHook } from '../api/deployhook.ts';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { parseCertificateBundle } from '../certs/bundle.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, objectPath, RESOURCES } from '../kube/paths.ts';
import { FILES, snapshotName, snapshotSecret, type CertificateFiles } from '../runners/job-manifest.ts';
import { createOrGet, getIfExists } from './idempotent.ts';
import { cacheKey, type OperatorContext } from './context.ts';
import type { Detection } from './detect.ts';
import { hookFires } from './match.ts';
import { planRun, type Firing } from './plan.ts';
import { tlsCertificatePem } from './tls-secret.ts';

/** The files of the certificate in a Secret object (the one an event carried). */
export function certificateFiles(secret: KubeObject): CertificateFiles | undefined {
  const bundle = parseCertificateBundle(tlsCertificatePem(secret));
  if (!bundle.ok) return undefined;
  const key = ((secret.data ?? {}) as Record<string, string | undefined>)['tls.key'];
  return {
    cert: bundle.leafPem,
    chain: bundle.chainPem,
    fullchain: bundle.fullchainPem,
    key: key === undefined ? undefined : Buffer.from(key, 'base64').toString('utf8'),
  };
}

/** The files a run's snapshot holds. */
function snapshotFiles(snapshot: KubeObject): CertificateFiles | undefined {
  const data = (snapshot.data ?? {}) as Record<string, string | undefined>;
  const file = (name: string) => (data[name] === undefined ? undefined : Buffer.from(data[name], 'base64').toString('utf8'));
  const cert = file(FILES.cert);
  const fullchain = file(FILES.fullchain);
  if (cert === undefined || fullchain === undefined) return undefined;
  return { cert, chain: file(FILES.chain) ?? '', fullchain, key: file(FILES.key) };
}

/** The files an earlier run's snapshot kept, if it still exists. */
export async function filesOfRun(ctx: OperatorContext, run: DeployHookRun): Promise<CertificateFiles | undefined> {
  const snapshot = await getIfExists<KubeObject>(ctx, objectPath(RESOURCES.secrets, run.metadata.namespace!, snapshotName(run)));
  return snapshot ? snapshotFiles(snapshot) : undefined;
}

/** The valid hooks of the Secret's namespace that `detection` fires. */
export function firingHooks(ctx: OperatorContext, detection: Detection): DeployHook[] {
  const hooks: DeployHook[] = [];
  for (const entry of ctx.indexes.hooksByNamespace.get(detection.secret.namespace).values()) {
    if (entry.valid && hookFires(entry.hook, detection.event, detection.secret)) hooks.push(entry.hook);
  }
  return hooks;
}

/**
 * The files for a firing the ledger found: the Secret's, read now, while it still holds that
 * certificate; 'stale' when it no longer does (that change has its own firing). None for a
 * revoke: its Secret is gone, and preparing the run takes them from the run that captured them.
 */
export async function ledgerFiles(ctx: OperatorContext, firing: Firing): Promise<CertificateFiles | undefined | 'stale'> {
  if (firing.event === 'revoked') return undefined;
  const namespace = firing.hook.metadata.namespace!;
  const secret = await getIfExists<KubeObject>(ctx, objectPath(RESOURCES.secrets, namespace, firing.secret.name));
  const files = secret && secret.metadata.uid === firing.secret.uid ? certificateFiles(secret) : undefined;
  if (!files) return 'stale';
  const current = parseCertificateBundle(files.fullchain);
  return current.ok && current.facts.fingerprint === firing.certificate.fingerprint ? files : 'stale';
}

/**
 * Creates the run for one firing, its snapshot, and marks it Pending, each step idempotent: a
 * run that already exists (planned before a restart, or by another replica) is completed, not
 * duplicated. Without files the run is left unprepared, for the run reconciler to prepare.
 */
export async function planFiring(ctx: OperatorContext, firing: Firing, files: CertificateFiles | undefined): Promise<void> {
  const planned = planRun(firing, new Date().toISOString());
  const namespace = planned.metadata.namespace!;
  const name = planned.metadata.name!;
  const key = cacheKey(namespace, name);
  ctx.planning.add(key);
  try {
    const run = await createOrGet<DeployHookRun>(ctx, collectionPath(RESOURCES.deployHookRuns, namespace), objectPath(RESOURCES.deployHookRuns, namespace, name), planned);
    if (run.status?.phase) return;
    if (files) {
      await createOrGet(ctx, collectionPath(RESOURCES.secrets, namespace), objectPath(RESOURCES.secrets, namespace, snapshotName(run)), snapshotSecret(run, files));
      await ctx.retry(() => ctx.client.patch(objectPath(RESOURCES.deployHookRuns, namespace, name, 'status'), 'merge', {
        status: { phase: 'Pending', observedGeneration: run.metadata.generation ?? 1, certificate: run.spec.certificate },
      }));
    }
    ctx.log.info({ run: name, hook: firing.hook.metadata.name, secret: firing.secret.name, event: firing.event, namespace }, 'run planned');
  } finally {
    ctx.planning.delete(key);
    ctx.runQueue.add(key);
  }
}

