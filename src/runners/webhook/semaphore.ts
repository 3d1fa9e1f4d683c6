// A counting semaphore: deliveries wait for a slot of their hook and one of the operator's.
// The limit may change while slots are held (a hook's concurrency edited): it applies to the next
// acquisitions.

export class Semaphore {
  limit: number;
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get inUse(): number {
    return this.held;
  }

  /** Resolves once a slot is held; rejects if `signal` aborts first (the slot is then not held). */
  acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', cancel);
        this.held++;
        resolve();
      };
      const cancel = () => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', cancel, { once: true });
      this.waiting.push(grant);
    });
  }

  release(): void {
    this.held--;
    while (this.held < this.limit && this.waiting.length) this.waiting.shift()!();
  }
}
