// The webhook runner: a hook's `spec.webhook` is delivered as a POST of the run's certificate
// event, signed, retried on transient failures. Starting a run gives it its delivery id; each
// observation either reports the attempt that just ended (recorded on the run with the time of
// the next one, so a restart or a new leader resumes the schedule) or sends the next attempt when
// it is due. Attempts run in the background, bounded per hook and for the whole operator, and
// report back through the run queue, so no worker waits on a slow receiver.
import { objectKey } from '../../kube/reflector.ts';
import { runHookTitle } from '../../api/hook-ref.ts';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import type { Hook, HookWebhook } from '../../api/deployhook.ts';
import type { DeployHookRun, DeployHookRunStatus, WebhookAttempt } from '../../api/deployhookrun.ts';
import { RUN_REASONS, type RunReason } from '../../api/enums.ts';
import type { Condition } from '../../api/metav1.ts';
import { nowTime } from '../../api/metav1.ts';
import type { KubeClient } from '../../kube/client.ts';
import { getIfExists } from '../../kube/idempotent.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { CerthookMetrics } from '../../metrics/certhook.ts';
import { objectPath, RESOURCES } from '../../kube/paths.ts';
import type { HookCondition, Observation, Runner, Started, StartRequest } from '../runner.ts';
import { secretData, snapshotFiles, snapshotName } from '../snapshot.ts';
import type { AllowedRange } from './address-policy.ts';
import { deliver, statusClass } from './delivery.ts';
import { webhookDispatcher, type Lookup } from './guarded-dispatcher.ts';
import { keyLines, redact } from './redact.ts';
import { gone, probeUrl, REACHABLE } from './probe.ts';
import { attemptHeaders, payloadFields, prepareRequest, renderBody, RequestProblem, type PreparedRequest, type SecretKey } from './request.ts';
import { backoffMs, type Verdict } from './retry-policy.ts';
import { Semaphore } from './semaphore.ts';
import { webhookId } from './signing.ts';

export const DEFAULT_WEBHOOK_CONCURRENCY = 32;

export interface WebhookRunnerOptions {
  client: KubeClient;
  log: Logger;
  /** Private ranges the cluster admin allows webhooks to reach (`--webhook-allow-cidr`). */
  allow: AllowedRange[];
  /** Deliveries in flight at once, over every hook (`--webhook-concurrency`). */
  concurrency: number;
  /** Whether this replica may act now: nothing is sent otherwise. */
  isActive: () => boolean;
  /** A run's attempt ended (or its probe): the run is to be observed again. */
  onRunChanged: (runKey: string) => void;
  /** A hook's Reachable condition changed. */
  onHookChanged: (hookKey: string) => void;
  /** Resolves webhook host names (default: the system's resolver). */
  lookup?: Lookup;
  /** Counts and times the attempts sent, by how they ended. */
  metrics?: CerthookMetrics;
}

/** An attempt as it ended, before the run records it. */
interface AttemptOutcome {
  record: WebhookAttempt;
  verdict: Verdict;
  retryAfterMs?: number;
}

/** The attempt of a run under way in this process, then its outcome until the run records it. */
interface Delivery {
  attempt: number;
  outcome?: AttemptOutcome;
  /** The attempt could not be made for a reason that is not the receiver's (the API failed). */
  error?: Error;
}

const TERMINAL_REASONS: Record<string, RunReason> = {
  network_policy: RUN_REASONS.NetworkPolicy,
  body_too_large: RUN_REASONS.BodyTooLarge,
  http_status: RUN_REASONS.HTTPStatus,
};

const runKeyOf = (run: DeployHookRun) => `${run.metadata.namespace}/${run.metadata.name}`;
/** The run's delivery id: as recorded when it started, which is this. */
const deliveryId = (run: DeployHookRun) => run.status?.webhook?.id ?? webhookId(run.metadata.namespace!, run.metadata.name!);
/** The URL's origin, for messages: never its path or query, which may carry a token. */
const originOf = (url: string) => URL.parse(url)?.origin ?? 'the url';

export class WebhookRunner implements Runner {
  readonly name = 'webhook';
  readonly caches = [];
  private readonly opts: WebhookRunnerOptions;
  private readonly deliveries = new Map<string, Delivery>();
  private readonly slots: Semaphore;
  private readonly hookSlots = new Map<string, Semaphore>();
  /** One dispatcher per CA bundle ('' for the system's CAs). */
  private readonly dispatchers = new Map<string, Agent>();
  /** Each hook's Reachable condition as this process last learnt it, and for which generation. */
  private readonly reachable = new Map<string, { generation: number; condition: HookCondition }>();
  private readonly probing = new Set<string>();
  /** Aborted when this replica stops acting: everything under way is abandoned. */
  private acting = new AbortController();

  constructor(opts: WebhookRunnerOptions) {
    this.opts = opts;
    this.slots = new Semaphore(opts.concurrency);
  }

  runs(hook: Hook): boolean {
    return !!hook.spec.webhook;
  }

  started(run: DeployHookRun): boolean {
    return !!run.status?.webhook;
  }

  async start({ run }: StartRequest): Promise<Started> {
    return { startTime: nowTime(), status: { webhook: { id: deliveryId(run) } } };
  }

  async observe(run: DeployHookRun, hook: Hook | undefined): Promise<Observation> {
    const key = runKeyOf(run);
    const recorded = run.status?.webhook?.attempts ?? [];
    const delivery = this.deliveries.get(key);
    if (delivery) {
      if (delivery.error) {
        this.deliveries.delete(key);
        throw delivery.error;
      }
      if (!delivery.outcome) return { waiting: true };
      if (delivery.attempt > recorded.length) return this.decide(run, hook, [...recorded, delivery.outcome.record], delivery.outcome);
      // The run holds that attempt now.
      this.deliveries.delete(key);
    }
    if (!hook?.spec.webhook) {
      return { outcome: { phase: 'Failed', reason: RUN_REASONS.HookDeleted, message: `${runHookTitle(run)} was deleted, or is no longer a valid webhook, before the delivery succeeded`, ...this.finalParts(run, recorded) } };
    }
    const due = Date.parse(run.status?.nextAttemptTime ?? '') - Date.now();
    if (due > 0) return { requeueAfterMs: due };
    if (!this.opts.isActive()) return { requeueAfterMs: 1000 };
    this.launch(key, run, hook, hook.spec.webhook, recorded.length + 1);
    return { waiting: true };
  }

  release(runKey: string): void {
    this.deliveries.delete(runKey);
  }

  deactivate(): void {
    this.acting.abort(new Error('this replica stopped acting'));
    this.acting = new AbortController();
    this.deliveries.clear();
    this.probing.clear();
  }

  async close(): Promise<void> {
    this.deactivate();
    await Promise.all([...this.dispatchers.values()].map((d) => d.destroy()));
    this.dispatchers.clear();
  }

  busy(): boolean {
    return this.probing.size > 0 || [...this.deliveries.values()].some((d) => !d.outcome && !d.error);
  }

  conditions(hook: Hook, previous: readonly Condition[]): HookCondition[] {
    const webhook = hook.spec.webhook;
    if (!webhook) return [];
    const key = objectKey(hook);
    const generation = hook.metadata.generation ?? 0;
    const known = this.reachable.get(key);
    if (known?.generation === generation) return [known.condition];
    const { lastTransitionTime: _, ...written } = previous.find((c) => c.type === REACHABLE) ?? ({} as Partial<Condition>);
    // A probe of this generation already answered (before a restart, or on another replica).
    if (written.type && written.observedGeneration === generation && written.status !== 'Unknown') return [written as HookCondition];
    this.probe(key, generation, webhook, hook.spec.timeoutSeconds);
    return [written.type ? (written as HookCondition) : { type: REACHABLE, status: 'Unknown', reason: 'Probing', message: 'the url is being probed', observedGeneration: generation }];
  }

  /** What an ended attempt means for the run: its outcome, or the next attempt's time. */
  private decide(run: DeployHookRun, hook: Hook | undefined, attempts: WebhookAttempt[], last: AttemptOutcome): Observation {
    const { record } = last;
    const parts = this.finalParts(run, attempts);
    const origin = hook?.spec.webhook ? originOf(hook.spec.webhook.url) : 'the receiver';
    const tries = `${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`;
    if (last.verdict === 'delivered') {
      if (hook) this.learnReachable(hook, { type: REACHABLE, status: 'True', reason: 'Delivered', message: `a delivery was answered HTTP ${record.statusCode}` });
      return { outcome: { phase: 'Succeeded', reason: RUN_REASONS.Delivered, message: `${origin} answered HTTP ${record.statusCode} after ${tries}`, ...parts } };
    }
    if (record.statusCode === 410 && hook) this.learnReachable(hook, gone('a delivery was answered HTTP 410 Gone: the endpoint has been removed'));
    if (last.verdict === 'terminal') {
      return { outcome: { phase: 'Failed', reason: TERMINAL_REASONS[record.errorClass ?? 'http_status'] ?? RUN_REASONS.HTTPStatus, message: `${origin}: ${record.message}`, ...parts } };
    }
    if (!hook?.spec.webhook) {
      return { outcome: { phase: 'Failed', reason: RUN_REASONS.HookDeleted, message: `${runHookTitle(run)} was deleted before the delivery succeeded; the last attempt: ${record.message}`, ...parts } };
    }
    if (attempts.length > hook.spec.webhook.retries) {
      return { outcome: { phase: 'Failed', reason: RUN_REASONS.RetriesExhausted, message: `io_transient: ${tries} to ${origin} failed; the last: ${record.message}`, ...parts } };
    }
    const wait = last.retryAfterMs ?? backoffMs(attempts.length);
    return {
      progress: { webhook: parts.webhook, nextAttemptTime: new Date(Date.now() + wait).toISOString(), output: parts.output },
      requeueAfterMs: wait,
    };
  }

  /** The runner's part of a run's status once an attempt is in: the attempts, the last answer, the time since it started. */
  private finalParts(run: DeployHookRun, attempts: WebhookAttempt[]): Pick<DeployHookRunStatus, 'webhook' | 'output' | 'durationSeconds'> {
    const last = attempts.at(-1);
    const started = Date.parse(run.status?.startTime ?? '');
    const output = last && (last.statusCode ? `HTTP ${last.statusCode}${last.responseBody ? `\n${last.responseBody}` : ''}` : last.message);
    return {
      webhook: { id: deliveryId(run), attempts },
      ...(output ? { output } : {}),
      ...(Number.isNaN(started) ? {} : { durationSeconds: Math.max(0, Math.round((Date.now() - started) / 100) / 10) }),
    };
  }

  private launch(key: string, run: DeployHookRun, hook: Hook, webhook: HookWebhook, attempt: number): void {
    const delivery: Delivery = { attempt };
    this.deliveries.set(key, delivery);
    const signal = this.acting.signal;
    this.attempt(run, hook, webhook, attempt, signal).then(
      (outcome) => {
        delivery.outcome = outcome;
      },
      (err: Error & { notLeading?: boolean }) => {
        if (signal.aborted) return;
        // Not leading: dropped, and looked at again when this replica leads.
        if (err.notLeading) this.deliveries.delete(key);
        else delivery.error = err;
      },
    ).finally(() => {
      if (!signal.aborted) this.opts.onRunChanged(key);
    });
  }

  /**
   * One attempt: its body and headers read and rendered, then sent once a slot of its hook and
   * one of the operator's are free (the slots bound requests to receivers, not API reads).
   */
  private async attempt(run: DeployHookRun, hook: Hook, webhook: HookWebhook, attempt: number, signal: AbortSignal): Promise<AttemptOutcome> {
    const namespace = run.metadata.namespace!;
    let request: PreparedRequest;
    try {
      request = await this.prepare(run, hook, webhook);
    } catch (err) {
      if (!(err instanceof RequestProblem)) throw err;
      return { verdict: err.errorClass === 'body_too_large' ? 'terminal' : 'retry', record: { attempt, time: nowTime(), durationSeconds: 0, errorClass: err.errorClass, message: err.message } };
    }
    const hookSlots = this.hookSlotsOf(objectKey(hook), webhook.concurrency);
    await hookSlots.acquire(signal);
    try {
      await this.slots.acquire(signal);
      try {
        // Leadership can be lost while this waited: a replica that no longer leads sends nothing.
        if (!this.opts.isActive()) throw Object.assign(new Error('not leading'), { notLeading: true });
        signal.throwIfAborted();
        const time = nowTime();
        const result = await deliver({ url: webhook.url, headers: attemptHeaders(request, deliveryId(run)), body: request.body, timeoutMs: hook.spec.timeoutSeconds * 1000, dispatcher: this.dispatcherOf(webhook.caBundle), signal });
        this.opts.metrics?.webhookAttempt(hook.metadata.namespace ?? '', hook.metadata.name!, statusClass(result), result.durationSeconds);
        if (result.statusCode && result.statusCode >= 400 && result.statusCode < 500) {
          // The seed logs the rendered body when a receiver refuses it; certhook never logs a key.
          this.opts.log.warn({ run: run.metadata.name, namespace, statusCode: result.statusCode, bodyBytes: request.body.length, body: redact(request.body.toString('utf8'), request.secrets) }, 'the receiver refused the webhook body');
        }
        const { verdict, retryAfterMs, responseBody, ...record } = result;
        if (responseBody !== undefined) Object.assign(record, { responseBody: redact(responseBody, request.secrets) });
        return { verdict, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), record: { attempt, time, ...record } };
      } finally {
        this.slots.release();
      }
    } finally {
      hookSlots.release();
    }
  }

  /** The run's certificate files (its snapshot), rendered into the body, and the headers' Secrets read. */
  private async prepare(run: DeployHookRun, hook: Hook, webhook: HookWebhook): Promise<PreparedRequest> {
    const namespace = run.metadata.namespace!;
    const snapshotSecretName = run.status?.snapshotSecretName ?? snapshotName(run);
    const snapshot = await getIfExists<KubeObject>(this.opts.client, objectPath(RESOURCES.secrets, namespace, snapshotSecretName));
    const files = snapshot && snapshotFiles(snapshot);
    if (!files) throw new RequestProblem('configuration', `the run's certificate snapshot (Secret ${snapshotSecretName}) is gone`);
    const certificate = run.status?.certificate ?? run.spec.certificate!;
    const body = renderBody(webhook, payloadFields(run, hook, certificate, files));
    const request = await prepareRequest(webhook, body, (ref) => this.readSecret(namespace, ref));
    return { ...request, secrets: [...request.secrets, ...keyLines(files.key)] };
  }

  private async readSecret(namespace: string, ref: SecretKey): Promise<string | undefined> {
    const secret = await getIfExists<KubeObject>(this.opts.client, objectPath(RESOURCES.secrets, namespace, ref.name));
    return secret && secretData(secret, ref.key);
  }

  private hookSlotsOf(hookKey: string, limit: number): Semaphore {
    let slots = this.hookSlots.get(hookKey);
    if (!slots) {
      slots = new Semaphore(limit);
      this.hookSlots.set(hookKey, slots);
    }
    slots.limit = limit;
    return slots;
  }

  private dispatcherOf(caBundle: string | undefined): Agent {
    const key = caBundle ?? '';
    let dispatcher = this.dispatchers.get(key);
    if (!dispatcher) {
      dispatcher = webhookDispatcher({
        allow: this.opts.allow,
        ...(this.opts.lookup ? { lookup: this.opts.lookup } : {}),
        ...(caBundle ? { ca: Buffer.from(caBundle, 'base64').toString('utf8') } : {}),
      });
      this.dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }

  private learnReachable(hook: Hook, condition: HookCondition): void {
    const key = objectKey(hook);
    const generation = hook.metadata.generation ?? 0;
    const known = this.reachable.get(key);
    if (known?.generation === generation && known.condition.status === condition.status && known.condition.reason === condition.reason) return;
    this.reachable.set(key, { generation, condition: { ...condition, observedGeneration: generation } });
    this.opts.onHookChanged(key);
  }

  private probe(key: string, generation: number, webhook: HookWebhook, timeoutSeconds: number): void {
    if (this.probing.has(key)) return;
    this.probing.add(key);
    const signal = this.acting.signal;
    void probeUrl(webhook.url, this.dispatcherOf(webhook.caBundle), timeoutSeconds * 1000).then((condition) => {
      if (signal.aborted) return;
      this.probing.delete(key);
      this.reachable.set(key, { generation, condition: { ...condition, observedGeneration: generation } });
      this.opts.onHookChanged(key);
    });
  }
}
