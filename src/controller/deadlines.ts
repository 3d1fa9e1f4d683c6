// One ordered queue of deadlines with a single timer, for events that come due by time alone (a
// certificate entering its hook's expiry window): a priority queue by time, one timer armed for
// the earliest. A key scheduled again keeps only its latest deadline (older entries are skipped).
import TinyQueue from 'tinyqueue';

/** setTimeout's longest delay; a later deadline is re-armed from there. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Entry {
  key: string;
  at: number;
}

export class Deadlines {
  private readonly queue = new TinyQueue<Entry>([], (a, b) => a.at - b.at);
  private readonly due = new Map<string, number>();
  private readonly onDue: (key: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(onDue: (key: string) => void) {
    this.onDue = onDue;
  }

  /** `key` is due at `at` (ms since the epoch), instead of any earlier schedule of it. */
  schedule(key: string, at: number): void {
    if (this.due.get(key) === at) return;
    this.due.set(key, at);
    this.queue.push({ key, at });
    if (at < this.armedFor) this.arm();
  }

  get size(): number {
    return this.due.size;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    while (this.queue.length) this.queue.pop();
    this.due.clear();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.dropStale();
    const next = this.queue.peek();
    this.armedFor = next?.at ?? Infinity;
    if (!next) return;
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_DELAY_MS, Math.max(0, next.at - Date.now())));
    this.timer.unref();
  }

  private fire(): void {
    const now = Date.now();
    for (this.dropStale(); (this.queue.peek()?.at ?? Infinity) <= now; this.dropStale()) {
      const { key } = this.queue.pop()!;
      this.due.delete(key);
      this.onDue(key);
    }
    this.arm();
  }

  /** Drops the first entries that a later schedule of their key replaced. */
  private dropStale(): void {
    for (let top = this.queue.peek(); top && this.due.get(top.key) !== top.at; top = this.queue.peek()) this.queue.pop();
  }
}
