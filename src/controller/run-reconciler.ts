// One DeployHookRun from planned to finished; the run's phases, never the workload's details,
// which are its runner's. A run without a phase is started: its hook checked, its snapshot found
// (or, for a run made by hand or one whose planner stopped first, written), its certificate
// checked to still be current, then its runner started, and the run marked Running in one write.
// A Running run is observed until its runner reports the outcome. Level-triggered: each step
// reads what exists and does the next thing, so a restart at any point resumes, and nothing runs
// twice.
import type { Hook } from '../api/deployhook.ts';
import { fitCertificate, listsAllDnsNames, type DeployHookRun, type DeployHookRunStatus, type RunCertificate } from '../api/deployhookrun.ts';
import { RUN_REASONS } from '../api/enums.ts';
import { nowTime } from '../api/metav1.ts';
import { ANNOTATIONS } from '../api/names.ts';
import { parseCertificateBundle } from '../certs/bundle.ts';
import { getIfExists } from '../kube/idempotent.ts';
import type { KubeObject } from '../kube/object.ts';
import { objectPath, RESOURCES } from '../kube/paths.ts';
import type { Runner, RunContext } from '../runners/runner.ts';
import { snapshotFiles, snapshotInfo, snapshotName, withAllDnsNames, type SnapshotInfo } from '../runners/snapshot.ts';
import { hookKeyOfRun, hookTitle, isClusterHook, isClusterRun, runHookTitle, secretKeyOfRun, secretNamespaceOf } from '../api/hook-ref.ts';
import { cacheKey, hookEntry, namespacesOfHook, runsOfSecret, type OperatorContext } from './context.ts';
import { checkHook, type CheckedHook } from './hook-validity.ts';
import { OPERATOR_IDENTITY, runCertificate } from './plan.ts';
import { mostRecentCertificate } from './match.ts';
import { filesForRun, ownSnapshot, supersededStatus, writeSnapshot } from './planner.ts';
import { isFinished, plannedAt } from './run-state.ts';
import { dryRunReason } from './dry-run.ts';
import { groupOf, stageGate } from './stages.ts';
import type { ReconcileResult } from './work-queue.ts';

/**
 * How long a run the operator planned may go without its snapshot before the run reconciler
 * writes it itself: its planner writes it a moment after the run (and the run's watch event often
 * comes first), unless that planner stopped. Meanwhile the run is looked at again every
 * SNAPSHOT_POLL_MS; the planner's own requeue usually brings it back sooner.
 */
const SNAPSHOT_GRACE_MS = 5000;
const SNAPSHOT_POLL_MS = 200;

export async function reconcileRun(ctx: OperatorContext, key: string): Promise<ReconcileResult> {
  const run = ctx.caches.runs.cache.get(key);
  if (!run || isFinished(run)) return;
  // Its watch event brings the run back sooner; the requeue only makes sure it comes back.
  if (ctx.expectations.isStale(key, run.metadata.resourceVersion)) return { requeueAfterMs: 1000 };
  return run.status?.phase === 'Running' ? observe(ctx, run) : start(ctx, run);
}

/** Fields a status no longer has: null removes them (merge-patch semantics). */
const CLEARED_WHEN_FINISHED = { nextAttemptTime: null };
const NOT_WAITING = { reason: null, message: null };

async function setStatus(ctx: OperatorContext, run: DeployHookRun, status: DeployHookRunStatus, cleared: Record<string, null> = {}): Promise<void> {
  await ctx.client.patch(
    objectPath(RESOURCES.deployHookRuns, run.metadata.namespace!, run.metadata.name!, 'status'),
    'merge',
    { status: { observedGeneration: run.metadata.generation ?? 1, ...status, ...cleared } },
    { discardBody: true },
  );
  ctx.expectations.wroteStatus(cacheKey(run.metadata.namespace!, run.metadata.name!), run.metadata.resourceVersion);
}

async function finish(ctx: OperatorContext, run: DeployHookRun, status: DeployHookRunStatus, hook: CheckedHook | undefined): Promise<void> {
  const key = cacheKey(run.metadata.namespace!, run.metadata.name!);
  ctx.snapshots.delete(key);
  await setStatus(ctx, run, { ...status, completionTime: status.completionTime ?? nowTime() }, run.status?.nextAttemptTime ? CLEARED_WHEN_FINISHED : {});
  for (const runner of ctx.runners) runner.release?.(key);
  ctx.log.info({ run: run.metadata.name, namespace: run.metadata.namespace, phase: status.phase, reason: status.reason, exitCode: status.exitCode }, 'run finished');
  if (hook) {
    const type = status.phase === 'Failed' || status.phase === 'Unknown' ? 'Warning' : 'Normal';
    const secret = run.spec.secretRef.name ? `Secret ${run.spec.secretRef.name}` : 'no Secret';
    const message = `run ${run.metadata.name} (${run.spec.event}, ${secret}): ${status.reason}${status.message ? `: ${status.message}` : ''}`;
    await ctx.recorder.record(hook.raw, type, `Run${status.phase}`, message, run.metadata.name!);
  }
}

/** The run's hook. The cache lags the API (a run created together with its hook may come first), so only the API says it does not exist. */
async function hookOf(ctx: OperatorContext, run: DeployHookRun): Promise<CheckedHook | undefined> {
  const cached = hookEntry(ctx, hookKeyOfRun(run));
  if (cached) return cached;
  const { name } = run.spec.hookRef;
  const path = isClusterRun(run) ? objectPath(RESOURCES.clusterDeployHooks, undefined, name) : objectPath(RESOURCES.deployHooks, run.metadata.namespace!, name);
  const raw = await getIfExists<KubeObject>(ctx.client, path);
  return raw && checkHook(raw, ctx.config.allowedServiceAccounts, ctx.config.clusterHookNamespace);
}

/**
 * Why a ClusterDeployHook's run may not run where it is: only the operator's namespace for them
 * holds their runs (a tenant's run of one would take its Job, Secrets and ServiceAccount from the
 * tenant's namespace). Undefined for a run where it belongs, and for every DeployHook's run.
 */
function misplacedClusterRun(ctx: OperatorContext, run: DeployHookRun): string | undefined {
  // ClusterDeployHooks are served when their cache exists (operator.ts decides that once).
  const where = ctx.caches.cluster && ctx.config.clusterHookNamespace;
  if (!isClusterRun(run) || run.metadata.namespace === where) return undefined;
  return where
    ? `${runHookTitle(run)}'s runs live in namespace ${where} (--cluster-hook-namespace): a run in namespace ${run.metadata.namespace} may not use it`
    : 'this operator serves no ClusterDeployHooks: it watches one namespace (--namespace)';
}

function runnerOf(ctx: OperatorContext, hook: Hook): Runner | undefined {
  return ctx.runners.find((r) => r.runs(hook));
}

/**
 * The run's snapshot, if there is one (written by its planner, or by another run of its
 * certificate: the run joins its owners), and the certificate it holds, with every DNS name.
 */
async function existingSnapshot(ctx: OperatorContext, run: DeployHookRun): Promise<{ snapshot: SnapshotInfo; certificate: RunCertificate } | undefined> {
  const key = cacheKey(run.metadata.namespace!, run.metadata.name!);
  const written = ctx.snapshots.get(key);
  // A certificate the run lists only some names of is read from the snapshot, for the rest.
  if (written && written !== 'writing' && run.spec.certificate && listsAllDnsNames(run.spec.certificate)) return { snapshot: written, certificate: run.spec.certificate };
  const object = await getIfExists<KubeObject>(ctx.client, objectPath(RESOURCES.secrets, run.metadata.namespace!, snapshotName(run)));
  const files = object && snapshotFiles(object);
  if (!object || !files || !(await ownSnapshot(ctx, object, run))) return undefined;
  // A manual run's certificate is the one its snapshot took from the Secret.
  const bundle = run.spec.certificate ? undefined : parseCertificateBundle(files.fullchain);
  const certificate = run.spec.certificate ?? (bundle?.ok ? runCertificate(bundle.facts) : undefined);
  return certificate && { snapshot: snapshotInfo(object), certificate: withAllDnsNames(certificate, files) };
}

/** A run not started yet: check, snapshot, start its runner, mark it Running. */
async function start(ctx: OperatorContext, cached: DeployHookRun): Promise<ReconcileResult> {
  let run = cached;
  const namespace = run.metadata.namespace!;
  // Its planner, in this process, is writing the snapshot and adds the run again when done.
  if (ctx.snapshots.get(cacheKey(namespace, run.metadata.name!)) === 'writing') return;
  if (!run.metadata.annotations?.[ANNOTATIONS.plannedAt]) {
    // Orders a run made by hand among the operator's runs to the millisecond, as theirs are.
    // Later writes expect this version: its watch event must not start the run a second time.
    const patched = await ctx.client.patch<KubeObject>(objectPath(RESOURCES.deployHookRuns, namespace, run.metadata.name!), 'merge', {
      metadata: { annotations: { [ANNOTATIONS.plannedAt]: new Date().toISOString() } },
    });
    run = { ...run, metadata: { ...run.metadata, resourceVersion: patched.metadata.resourceVersion, annotations: patched.metadata.annotations } };
  }
  const misplaced = misplacedClusterRun(ctx, run);
  if (misplaced) return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.HookNotFound, message: misplaced }, undefined);
  const hook = await hookOf(ctx, run);
  if (!hook) {
    return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.HookNotFound, message: `${runHookTitle(run)} does not exist${isClusterRun(run) ? '' : ` in namespace ${namespace}`}` }, hook);
  }
  if (!hook.valid) {
    return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.HookInvalid, message: `${runHookTitle(run)} is invalid: ${hook.problems.join('; ')}` }, hook);
  }
  if (ctx.config.hooksEnabled === false) {
    // CertMate's audit message; turning the switch back on does not replay what it skipped.
    return finish(ctx, run, { phase: 'Skipped', reason: RUN_REASONS.HooksDisabled, message: 'Deploy hooks disabled' }, hook);
  }
  if (!run.spec.secretRef.name) return chooseSecret(ctx, run, hook);
  const runner = runnerOf(ctx, hook.hook);
  if (!runner) {
    return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.HookInvalid, message: `${runHookTitle(run)} names no kind of hook this operator runs` }, hook);
  }
  let prepared = await existingSnapshot(ctx, run);
  if (!prepared) {
    const sincePlanned = Date.now() - plannedAt(run);
    if (run.spec.triggeredBy === OPERATOR_IDENTITY && run.spec.event !== 'manual' && sincePlanned < SNAPSHOT_GRACE_MS) {
      return { requeueAfterMs: Math.min(SNAPSHOT_POLL_MS, SNAPSHOT_GRACE_MS - sincePlanned) };
    }
    const found = await filesForRun(ctx, run);
    if ('outcome' in found) return finish(ctx, run, found.outcome, hook);
    prepared = { snapshot: await writeSnapshot(ctx, run, found.files), certificate: withAllDnsNames(found.certificate, found.files) };
  }
  if (run.spec.event !== 'revoked' && run.spec.event !== 'manual') {
    const secret = ctx.caches.secrets.cache.get(secretKeyOfRun(run));
    const sameSecret = secret?.uid === run.metadata.annotations?.[ANNOTATIONS.secretUid];
    const fingerprint = secret?.certificate?.fingerprint;
    if (!sameSecret || fingerprint !== run.spec.certificate?.fingerprint) return finish(ctx, run, supersededStatus(run, sameSecret ? fingerprint : undefined), hook);
  }
  // Its group's earlier stages first: a run finishing requeues the runs waiting for it.
  const gate = stageGate(run, groupOf(run, runsOfSecret(ctx, secretNamespaceOf(run), run.spec.secretRef.name)));
  if ('skip' in gate) {
    return finish(ctx, run, { phase: 'Skipped', reason: RUN_REASONS.EarlierStageFailed, message: `an earlier stage failed: ${gate.skip.join(', ')} (failurePolicy Fail)` }, hook);
  }
  if ('wait' in gate) {
    const message = `waiting for ${gate.wait.join(', ')} of an earlier stage to finish`;
    if (run.status?.phase !== 'Waiting' || run.status.message !== message) await setStatus(ctx, run, { phase: 'Waiting', reason: RUN_REASONS.WaitingForStage, message });
    return;
  }
  // Leadership can be lost during the reads above: a replica that no longer acts starts nothing
  // (and looks again, in case its lease was only late to renew).
  if (!ctx.isActive()) {
    ctx.log.debug({ run: run.metadata.name, namespace }, 'not leading now: the run starts once this replica leads again');
    return { requeueAfterMs: 1000 };
  }
  const secretNow = ctx.caches.secrets.cache.get(secretKeyOfRun(run));
  const reason = dryRunReason(hook.hook, prepared.certificate, secretNow?.uid === run.metadata.annotations?.[ANNOTATIONS.secretUid] ? secretNow : undefined, ctx.config.dryRunIssuers ?? []);
  const context: RunContext = { ...(gate.group ? { group: gate.group } : {}), ...(reason ? { dryRunReason: reason } : {}) };
  const started = await runner.start({ run, hook: hook.hook, certificate: prepared.certificate, snapshot: prepared.snapshot, context });
  await setStatus(ctx, run, {
    phase: 'Running',
    certificate: fitCertificate(prepared.certificate),
    startTime: started.startTime,
    snapshotSecretName: prepared.snapshot.name,
    ...context,
    ...started.status,
  }, run.status?.phase === 'Waiting' ? NOT_WAITING : {});
  ctx.snapshots.delete(cacheKey(namespace, run.metadata.name!));
  ctx.log.info({ run: run.metadata.name, namespace, event: run.spec.event, runner: runner.name }, 'run started');
}

/**
 * A manual run that named no Secret: the operator chooses one and records it; the run's watch
 * event then brings it back naming that Secret, and it starts as any other.
 */
async function chooseSecret(ctx: OperatorContext, run: DeployHookRun, hook: Extract<CheckedHook, { valid: true }>): Promise<void> {
  const namespace = run.metadata.namespace!;
  const cluster = isClusterHook(hook.hook);
  const secret = mostRecentCertificate(hook.hook, namespacesOfHook(ctx, hook.hook).flatMap((ns) => [...ctx.indexes.secretsByNamespace.get(ns).values()]));
  if (!secret) {
    const message = `no TLS Secret that ${hookTitle(hook.hook)} selects ${cluster ? 'in the namespaces it selects' : `in namespace ${namespace}`} holds a certificate`;
    return finish(ctx, run, { phase: 'Failed', reason: RUN_REASONS.SecretNotFound, message }, hook);
  }
  await setStatus(ctx, run, { secretRef: cluster ? { namespace: secret.namespace, name: secret.name } : { name: secret.name } });
  ctx.log.info({ run: run.metadata.name, namespace, secret: secret.name }, 'chose the most recent certificate the hook selects');
}

/** A Running run: when its runner reports the outcome, record it. */
async function observe(ctx: OperatorContext, run: DeployHookRun): Promise<ReconcileResult> {
  const hook = hookEntry(ctx, hookKeyOfRun(run));
  const valid = hook?.valid ? hook.hook : undefined;
  const runner = ctx.runners.find((r) => r.started(run)) ?? (valid && runnerOf(ctx, valid));
  if (!runner) {
    return finish(ctx, run, { phase: 'Unknown', reason: RUN_REASONS.HookNotFound, message: 'no runner of this operator started the run, and its hook names none: its outcome is not known' }, hook);
  }
  const observation = await runner.observe(run, valid);
  if ('outcome' in observation) return finish(ctx, run, observation.outcome, hook);
  if ('waiting' in observation) return;
  if (observation.progress) await setStatus(ctx, run, observation.progress);
  return { requeueAfterMs: observation.requeueAfterMs };
}
