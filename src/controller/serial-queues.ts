// Ordered work per key: tasks for one key run one after another in the order given (a Secret's
// created before its renewed), tasks for different keys run concurrently.
import type { Logger } from 'pino';

export class SerialQueues {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  get length(): number {
    return this.tails.size;
  }

  enqueue(key: string, task: () => Promise<void>): void {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task).catch((err: unknown) => {
      // Transient API failures were already retried inside the task; what reaches here is a
      // request the API refuses for good (RBAC, validation), which no retry can fix.
      this.log.error({ key, err: (err as Error)?.message ?? String(err) }, 'planning a run failed');
    });
    this.tails.set(key, next);
    void next.then(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
  }

  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }
}
