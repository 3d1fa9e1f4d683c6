// A keyed work queue as controller-runtime has: a key is processed by one worker at a time,
// adding a key that is already waiting does nothing, adding one that is being processed runs it
// once more afterwards, and a failure requeues it with backoff. Reconcilers are level-triggered,
// so processing a key again is always safe. Every operation is O(1): a burst of ten thousand keys
// costs ten thousand steps.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelay } from '../kube/retry.ts';
import type { ControllerMetrics, QueueObserver, ReconcileResultLabel } from '../metrics/controller.ts';

const YIELD_EVERY = 64;

/** What a reconcile may ask for: to look at the key again after a while (controller-runtime's Result). */
export type ReconcileResult = { requeueAfterMs: number } | void;

export class WorkQueue {
  /** Keys waiting for a worker, in the order they were added (a Map iterates in insertion order), with when (ms). */
  private readonly waiting = new Map<string, number>();
  /** Keys due later (`addAfter`), each with its one timer. */
  private readonly scheduled = new Map<string, { timer: NodeJS.Timeout; first: number }>();
  /** Keys being reconciled, with when each started (ms). */
  private readonly active = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly retrying = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly handler: (key: string) => Promise<ReconcileResult>;
  private readonly concurrency: number;
  private readonly log: Logger;
  private readonly observer: QueueObserver | undefined;
  private readonly accepting: () => boolean;
  private stopped = false;
  private processed = 0;

  /**
   * Keys added while `accepting` says no are dropped: a replica that does not act reconciles
   * nothing, and adds every key once it does.
   */
  constructor(name: string, handler: (key: string) => Promise<ReconcileResult>, log: Logger, concurrency = 4, metrics?: ControllerMetrics, accepting: () => boolean = () => true) {
    this.handler = handler;
    this.accepting = accepting;
    this.concurrency = concurrency;
    this.log = log.child({ queue: name });
    this.observer = metrics?.queue(name, concurrency, {
      depth: () => this.waiting.size,
      inFlightSince: () => this.active.values(),
    });
  }

  add(key: string): void {
    if (this.stopped || !this.accepting()) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.set(key, performance.now());
    this.observer?.added();
    this.pump();
  }

  /**
   * Adds the key after `ms`, as a reconciler asks when it must look again later. A key already
   * due keeps its earlier time, so many calls in a burst cost one timer and one reconcile.
   */
  addAfter(key: string, ms: number): void {
    if (this.stopped || !this.accepting() || this.scheduled.has(key)) return;
    this.schedule(key, ms, Date.now());
  }

  /**
   * Adds the key once no call for it has come for `quietMs`, but no later than `maxWaitMs` after
   * the first: a burst of changes costs one reconcile at its end, or one per `maxWaitMs` while it
   * lasts (a status written for a whole burst, not for each change).
   */
  addQuiet(key: string, quietMs: number, maxWaitMs: number): void {
    if (this.stopped || !this.accepting()) return;
    const due = this.scheduled.get(key);
    if (due) clearTimeout(due.timer);
    const first = due?.first ?? Date.now();
    this.schedule(key, Math.max(0, Math.min(quietMs, first + maxWaitMs - Date.now())), first);
  }

  private schedule(key: string, ms: number, first: number): void {
    const timer = setTimeout(() => {
      this.scheduled.delete(key);
      this.add(key);
    }, ms).unref();
    this.scheduled.set(key, { timer, first });
  }

  get length(): number {
    return this.waiting.size + this.active.size + this.retrying.size;
  }

  /** Keys due later by `addAfter`, not yet added. */
  get delayed(): number {
    return this.scheduled.size;
  }

  /** Resolves when nothing is waiting or being processed. */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    for (const { timer } of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  private pump(): void {
    // A waiting key is never active: adding an active key marks it dirty instead.
    while (!this.stopped && this.active.size < this.concurrency && this.waiting.size) {
      const [key, addedAt] = this.waiting.entries().next().value as [string, number];
      this.waiting.delete(key);
      const now = performance.now();
      this.active.set(key, now);
      this.observer?.started((now - addedAt) / 1000);
      void this.process(key);
    }
    if (this.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async process(key: string): Promise<void> {
    // Reconciles that need no I/O (a finished run, say) complete in microtasks: without a turn
    // now and then, ten thousand of them would hold the event loop (and the Lease) in one go.
    if (++this.processed % YIELD_EVERY === 0) await yieldToEventLoop();
    try {
      const result = await this.handler(key);
      this.failures.delete(key);
      this.finished(key, result ? 'requeue_after' : 'success');
      if (result) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      this.finished(key, 'error');
      this.observer?.retried();
      const attempt = this.failures.get(key) ?? 0;
      this.failures.set(key, attempt + 1);
      const waitMs = backoffDelay(attempt, { initialMs: 250, maxMs: 60_000 });
      this.log.warn({ key, err: (err as Error)?.message ?? String(err), retryInMs: waitMs }, 'reconcile failed; will retry');
      this.dirty.delete(key);
      this.retrying.add(key);
      setTimeout(() => {
        this.retrying.delete(key);
        this.add(key);
      }, waitMs).unref();
    }
    this.active.delete(key);
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
  }

  private finished(key: string, result: ReconcileResultLabel): void {
    this.observer?.finished(result, (performance.now() - this.active.get(key)!) / 1000);
  }
}
