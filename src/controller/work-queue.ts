// A keyed work queue as controller-runtime has: a key is processed by one worker at a time,
// adding a key that is already waiting does nothing, adding one that is being processed runs it
// once more afterwards, and a failure requeues it with backoff. Reconcilers are level-triggered,
// so processing a key again is always safe. Every operation is O(1): a burst of ten thousand keys
// costs ten thousand steps.
import type { Logger } from 'pino';
import { backoffDelay } from '../kube/retry.ts';

export class WorkQueue {
  /** Keys waiting for a worker, in the order they were added (a Set iterates in insertion order). */
  private readonly waiting = new Set<string>();
  /** Keys due later (`addAfter`), each with its one timer. */
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly retrying = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly handler: (key: string) => Promise<void>;
  private readonly concurrency: number;
  private readonly log: Logger;
  private stopped = false;

  constructor(name: string, handler: (key: string) => Promise<void>, log: Logger, concurrency = 4) {
    this.handler = handler;
    this.concurrency = concurrency;
    this.log = log.child({ queue: name });
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.pump();
  }

  /**
   * Adds the key after `ms`, as a reconciler asks when it must look again later. A key already
   * due keeps its earlier time, so many calls in a burst cost one timer and one reconcile.
   */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.scheduled.has(key)) return;
    this.scheduled.set(key, setTimeout(() => {
      this.scheduled.delete(key);
      this.add(key);
    }, ms).unref());
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
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  private pump(): void {
    // A waiting key is never active: adding an active key marks it dirty instead.
    while (!this.stopped && this.active.size < this.concurrency && this.waiting.size) {
      const key = this.waiting.values().next().value as string;
      this.waiting.delete(key);
      this.active.add(key);
      void this.process(key);
    }
    if (this.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async process(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
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
}
