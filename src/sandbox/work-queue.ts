// A controller's work queue: keys, deduplicated, handled one at a time outside the watch callback
// that added them (watch events arrive synchronously inside the store's write), with delayed adds
// for timers and a retry after a failed sync.

export interface WorkQueueOptions {
  /** How long a key waits after its handler threw before it is handled again. */
  retryMs?: number;
  onError?: (err: unknown, key: string) => void;
}

interface Delayed {
  timer: NodeJS.Timeout;
  due: number;
}

export class WorkQueue {
  private readonly handle: (key: string) => void;
  private readonly retryMs: number;
  private readonly onError: (err: unknown, key: string) => void;
  private readonly pending = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(handle: (key: string) => void, opts: WorkQueueOptions = {}) {
    this.handle = handle;
    this.retryMs = opts.retryMs ?? 1000;
    this.onError = opts.onError ?? ((err, key) => console.error(`sandbox: syncing ${key} failed:`, err));
  }

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.scheduled ??= setImmediate(() => this.drain());
  }

  /** Adds `key` after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const due = Date.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, Math.max(0, ms));
    timer.unref();
    this.delayed.set(key, { timer, due });
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.pending.clear();
  }

  private drain(): void {
    this.scheduled = undefined;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        this.handle(key);
      } catch (err) {
        this.onError(err, key);
        this.addAfter(key, this.retryMs);
      }
    }
  }
}
