// One DeployHookRun from planned to finished: prepare (snapshot, for runs made by hand or left
// half-planned by a crash), start (the Job, unless the certificate was superseded), observe
// (the Job's outcome onto the run). Level-triggered: each step reads what exists and does the
// next thing, so a restart at any point resumes, and nothing runs twice.
import type { DeployHook } from '../api/deployhook.ts';
import type { DeployHookRun, DeployHookRunStatus } from '../api/deployhookrun.ts';
import { RUN_REASONS } from '../api/enums.ts';
import { ANNOTATIONS } from '../api/names.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, objectPath, RESOURCES } from '../kube/paths.ts';
import { hookJob, snapshotName, snapshotSecret } from '../runners/job-manifest.ts';
import { jobState, runOutcome } from '../runners/job-outcome.ts';
import { createIfMissing, createOrGet, getIfExists } from './idempotent.ts';
import { cacheKey, nowIso, runsOfHook, type OperatorContext } from './context.ts';
import { capturingRun } from './ledger.ts';
import { certificateFiles, filesOfRun } from './planner.ts';
import { runCertificate } from './plan.ts';
import { isFinished } from './run-state.ts';
import { toTlsSecret } from './tls-secret.ts';

export async function reconcileRun(ctx: OperatorContext, key: string): Promise<void> {
  const run = ctx.caches.runs.cache.get(key);
  if (!run || isFinished(run) || ctx.planning.has(key)) return;
  switch (run.status?.phase) {
    case undefined:
      return prepare(ctx, run);
    case 'Pending':
      return start(ctx, run);
    case 'Running':
      return observe(ctx, run);
  }
}

async function setStatus(ctx: OperatorContext, run: DeployHookRun, status: DeployHookRunStatus): Promise<void> {
  await ctx.retry(() => ctx.client.patch(
    objectPath(RESOURCES.deployHookRuns, run.metadata.namespace!, run.metadata.name!, 'status'),
    'merge',
    { status: { observedGeneration: run.metadata.generation ?? 1, ...status } },
  ));
}

async function finish(ctx: OperatorContext, run: DeployHookRun, status: DeployHookRunStatus): Promise<void> {
  const completionTime = status.completionTime ?? nowIso();
  await setStatus(ctx, run, { ...status, completionTime });
  const namespace = run.metadata.namespace!;
  ctx.log.info({ run: run.metadata.name, namespace, phase: status.phase, reason: status.reason, exitCode: status.exitCode }, 'run finished');
  const hook = ctx.caches.hooks.cache.get(cacheKey(namespace, run.spec.hookRef.name));
  if (hook) {
    const type = status.phase === 'Failed' ? 'Warning' : 'Normal';
    const reason = `Run${status.phase}`;
    const message = `run ${run.metadata.name} (${run.spec.event}, Secret ${run.spec.secretRef.name}): ${status.reason}${status.message ? `: ${status.message}` : ''}`;
    await ctx.recorder.record(hook.raw, type, reason, message, run.metadata.name!);
  }
  ctx.hookQueue.add(cacheKey(namespace, run.spec.hookRef.name));
}

function hookOf(ctx: OperatorContext, run: DeployHookRun) {
  return ctx.caches.hooks.cache.get(cacheKey(run.metadata.namespace!, run.spec.hookRef.name));
}

/**
 * A run with no phase: made by hand (manual), or planned by an operator that stopped before
 * its snapshot was written. Snapshot the Secret's current certificate, when it is still the
 * run's, and mark the run Pending.
 */
async function prepare(ctx: OperatorContext, run: DeployHookRun): Promise<void> {
  const namespace = run.metadata.namespace!;
  if (!run.metadata.annotations?.[ANNOTATIONS.plannedAt]) {
    // Orders a run made by hand among the operator's runs to the millisecond, as theirs are.
    await ctx.retry(() => ctx.client.patch(objectPath(RESOURCES.deployHookRuns, namespace, run.metadata.name!), 'merge', {
      metadata: { annotations: { [ANNOTATIONS.plannedAt]: new Date().toISOString() } },
    }));
  }
  if (!hookOf(ctx, run)) {
    return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.HookNotFound, message: `DeployHook "${run.spec.hookRef.name}" does not exist in namespace ${namespace}` });
  }
  const snapshot = snapshotName(run);
  const existing = await getIfExists<KubeObject>(ctx, objectPath(RESOURCES.secrets, namespace, snapshot));
  if (existing) return setStatus(ctx, run, { phase: 'Pending', ...(run.spec.certificate ? { certificate: run.spec.certificate } : {}) });
  if (run.spec.event === 'revoked') return prepareRevoked(ctx, run);
  const secret = await getIfExists<KubeObject>(ctx, objectPath(RESOURCES.secrets, namespace, run.spec.secretRef.name));
  const current = secret ? toTlsSecret(secret) : undefined;
  const files = secret ? certificateFiles(secret) : undefined;
  if (run.spec.event === 'manual') {
    if (!current) return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.SecretNotFound, message: `Secret "${run.spec.secretRef.name}" does not exist in namespace ${namespace}` });
    if (!current.certificate || !files) {
      return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.CertificateUnparsable, message: `Secret "${run.spec.secretRef.name}" holds no readable certificate: ${current.problem?.message ?? ''}` });
    }
    if (run.spec.certificate && run.spec.certificate.fingerprint !== current.certificate.fingerprint) {
      return finish(ctx, run, { phase: 'Skipped', reason: RUN_REASONS.Superseded, message: `Secret "${run.spec.secretRef.name}" no longer holds certificate ${run.spec.certificate.fingerprint}` });
    }
  } else if (!current?.certificate || !files || current.certificate.fingerprint !== run.spec.certificate?.fingerprint) {
    return finish(ctx, run, supersededStatus(run, current?.certificate?.fingerprint));
  }
  await createIfMissing(ctx, collectionPath(RESOURCES.secrets, namespace), snapshotSecret(run, files));
  await setStatus(ctx, run, { phase: 'Pending', certificate: run.spec.certificate ?? runCertificate(current!.certificate!) });
}

/**
 * A revoked run without its snapshot (planned without the deleted object, or by an operator that
 * stopped first): the Secret is gone, so the files come from the run that captured that
 * certificate, which retention keeps until this run has finished.
 */
async function prepareRevoked(ctx: OperatorContext, run: DeployHookRun): Promise<void> {
  const namespace = run.metadata.namespace!;
  const captured = capturingRun(runsOfHook(ctx, namespace, run.spec.hookRef.name), run);
  const files = captured ? await filesOfRun(ctx, captured) : undefined;
  if (!files) {
    return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.SecretNotFound, message: 'the revoked certificate\'s files were not captured before its Secret was deleted' });
  }
  await createIfMissing(ctx, collectionPath(RESOURCES.secrets, namespace), snapshotSecret(run, files));
  await setStatus(ctx, run, { phase: 'Pending', certificate: run.spec.certificate! });
}

function supersededStatus(run: DeployHookRun, currentFingerprint: string | undefined): DeployHookRunStatus {
  return {
    phase: 'Skipped',
    reason: RUN_REASONS.Superseded,
    message: currentFingerprint
      ? `Secret "${run.spec.secretRef.name}" now holds certificate ${currentFingerprint}, which has its own run`
      : `Secret "${run.spec.secretRef.name}" was deleted before the run started`,
  };
}

/** A Pending run: start its Job, unless the certificate it is for is no longer current. */
async function start(ctx: OperatorContext, run: DeployHookRun): Promise<void> {
  const namespace = run.metadata.namespace!;
  const name = run.metadata.name!;
  let job = ctx.caches.jobs.cache.get(cacheKey(namespace, name));
  const hook = hookOf(ctx, run);
  if (!job) {
    if (!hook) {
      return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.HookNotFound, message: `DeployHook "${run.spec.hookRef.name}" does not exist in namespace ${namespace}` });
    }
    if (!hook.valid) {
      return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.HookInvalid, message: `DeployHook "${run.spec.hookRef.name}" is invalid: ${hook.problems.join('; ')}` });
    }
    if (run.spec.event === 'created' || run.spec.event === 'renewed') {
      const secret = ctx.caches.secrets.cache.get(cacheKey(namespace, run.spec.secretRef.name));
      const sameSecret = secret && secret.uid === run.metadata.annotations?.[ANNOTATIONS.secretUid];
      const fingerprint = secret?.certificate?.fingerprint;
      if (!sameSecret || fingerprint !== run.spec.certificate?.fingerprint) return finish(ctx, run, supersededStatus(run, sameSecret ? fingerprint : undefined));
    }
    const certificate = run.status?.certificate ?? run.spec.certificate;
    const snapshot = certificate && await getIfExists<KubeObject>(ctx, objectPath(RESOURCES.secrets, namespace, snapshotName(run)));
    if (!certificate || !snapshot) {
      // Pending without a snapshot: prepare again, then look again, since a status that already
      // says Pending changes nothing a watch would report.
      await prepare(ctx, run);
      ctx.runQueue.addAfter(cacheKey(namespace, name), 1000);
      return;
    }
    const hasKey = 'privkey.pem' in ((snapshot.data ?? {}) as object);
    // Leadership can be lost during the reads above: a replica that no longer acts starts nothing.
    if (!ctx.isActive()) return;
    job = await createOrGet<KubeObject>(ctx, collectionPath(RESOURCES.jobs, namespace), objectPath(RESOURCES.jobs, namespace, name), hookJob(run, hook.hook as DeployHook, certificate, hasKey, ctx.config));
    ctx.log.info({ run: name, namespace, event: run.spec.event }, 'run started');
  }
  // The Job's creation is when the run started: the same value however often this is written.
  await setStatus(ctx, run, { phase: 'Running', startTime: job.metadata.creationTimestamp ?? nowIso(), jobName: name, snapshotSecretName: snapshotName(run) });
}

/** A Running run: when its Job has finished, record the outcome. */
async function observe(ctx: OperatorContext, run: DeployHookRun): Promise<void> {
  const namespace = run.metadata.namespace!;
  const jobName = run.status?.jobName ?? run.metadata.name!;
  const job = ctx.caches.jobs.cache.get(cacheKey(namespace, jobName))
    ?? await getIfExists<KubeObject>(ctx, objectPath(RESOURCES.jobs, namespace, jobName));
  if (!job) {
    return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.JobFailed, message: `Job "${jobName}" was deleted before its outcome was recorded` });
  }
  const state = jobState(job);
  if (!state.finished) return;
  const pod = await latestPod(ctx, namespace, jobName);
  const output = pod ? await podLog(ctx, namespace, pod.metadata.name!) : '';
  const timeoutSeconds = (hookOf(ctx, run)?.valid ? (hookOf(ctx, run) as { hook: DeployHook }).hook.spec.timeoutSeconds : undefined)
    ?? ((job.spec as { activeDeadlineSeconds?: number } | undefined)?.activeDeadlineSeconds ?? 0);
  await finish(ctx, run, runOutcome(state, pod, output, timeoutSeconds, nowIso()));
}

async function latestPod(ctx: OperatorContext, namespace: string, jobName: string): Promise<KubeObject | undefined> {
  const pods = await ctx.retry(() => ctx.client.get<{ items: KubeObject[] }>(collectionPath(RESOURCES.pods, namespace), { labelSelector: `batch.kubernetes.io/job-name=${jobName}` }));
  return pods.items.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')).at(-1);
}

async function podLog(ctx: OperatorContext, namespace: string, pod: string): Promise<string> {
  try {
    return await ctx.retry(() => ctx.client.text(objectPath(RESOURCES.pods, namespace, pod, 'log'), { tailLines: 200, limitBytes: 1 << 20 }));
  } catch (err) {
    ctx.log.warn({ pod, namespace, err: (err as Error).message }, 'could not read the hook\'s output');
    return '';
  }
}

