// Certificate events → DeployHookRuns with their certificate snapshots. The snapshot is taken
// from the very Secret object the event came with, so a run always sees the version that fired
// it; the private key is held only until that snapshot is written.
import type { DeployHook } from '../api/deployhook.ts';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { parseCertificateBundle } from '../certs/bundle.ts';
import { isAlreadyExists } from '../kube/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, objectPath, RESOURCES } from '../kube/paths.ts';
import { withRetry } from '../kube/retry.ts';
import { snapshotSecret, type CertificateFiles } from '../runners/job-manifest.ts';
import { cacheKey, type OperatorContext } from './context.ts';
import type { Detection } from './detect.ts';
import { hookFires } from './match.ts';
import { planRun } from './plan.ts';
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

/** The valid hooks that `detection` fires. */
export function firingHooks(ctx: OperatorContext, detection: Detection): DeployHook[] {
  const hooks: DeployHook[] = [];
  for (const entry of ctx.caches.hooks.cache.values()) {
    if (entry.valid && hookFires(entry.hook, detection.event, detection.secret)) hooks.push(entry.hook);
  }
  return hooks;
}

/**
 * Creates the run for one firing, its snapshot, and marks it Pending, each step idempotent: a
 * run that already exists (planned before a restart, or by another replica) is completed, not
 * duplicated.
 */
export async function planFiring(ctx: OperatorContext, hook: DeployHook, detection: Detection, files: CertificateFiles | undefined): Promise<void> {
  const planned = planRun(hook, detection.secret, detection.event);
  const namespace = planned.metadata.namespace!;
  const name = planned.metadata.name!;
  const key = cacheKey(namespace, name);
  ctx.planning.add(key);
  try {
    const run = await createOrGet<DeployHookRun>(ctx, collectionPath(RESOURCES.deployHookRuns, namespace), objectPath(RESOURCES.deployHookRuns, namespace, name), planned);
    if (run.status?.phase) return;
    if (files) {
      await createOrGet(ctx, collectionPath(RESOURCES.secrets, namespace), objectPath(RESOURCES.secrets, namespace, `${name}-certificate`), snapshotSecret(run, files));
    }
    await withRetry(() => ctx.client.patch(objectPath(RESOURCES.deployHookRuns, namespace, name, 'status'), 'merge', {
      status: { phase: 'Pending', observedGeneration: run.metadata.generation ?? 1, certificate: run.spec.certificate },
    }));
    ctx.log.info({ run: name, hook: hook.metadata.name, secret: detection.secret.name, event: detection.event, namespace }, 'run planned');
  } finally {
    ctx.planning.delete(key);
    ctx.runQueue.add(key);
  }
}

async function createOrGet<T>(ctx: OperatorContext, collection: string, path: string, body: unknown): Promise<T> {
  try {
    return await withRetry(() => ctx.client.create<T>(collection, body));
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return withRetry(() => ctx.client.get<T>(path));
  }
}
