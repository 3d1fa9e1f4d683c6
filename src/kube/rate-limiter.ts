// Client-side rate limiting, as client-go's token bucket: `burst` requests may go at once, then
// `qps` a second; a request without a token waits for one, in arrival order. When the server
// asks us to back off (429, Retry-After) every request of the client waits, not just that one.
import { performance } from 'node:perf_hooks';

interface Waiter {
  grant: () => void;
}

export class RateLimiter {
  private readonly qps: number;
  private readonly burst: number;
  private tokens: number;
  /** When `tokens` was last brought up to date; in the future during a pause (none accrue before it). */
  private last: number;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** For tests and metrics: requests that had to wait for a token, and back-offs the server asked for. */
  readonly stats = { waited: 0, pauses: 0 };

  constructor(qps: number, burst: number) {
    if (!(qps > 0)) throw new Error('qps must be greater than zero');
    if (!(Number.isInteger(burst) && burst >= 1)) throw new Error('burst must be a whole number of at least 1');
    this.qps = qps;
    this.burst = burst;
    this.tokens = burst;
    this.last = performance.now();
  }

  /** Resolves when a request may go; rejects if `signal` aborts first (the token is not spent). */
  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.refill();
    if (!this.queue.length && this.tokens >= 1 && this.last <= performance.now()) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    this.stats.waited++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(signal!.reason);
        this.schedule();
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /**
   * Holds every request for `ms` from now. The bucket is emptied too, so that afterwards requests
   * resume at `qps` rather than in a burst at a server that has just said it is overloaded.
   */
  pause(ms: number): void {
    this.refill();
    const until = performance.now() + ms;
    if (until <= this.last) return;
    this.stats.pauses++;
    this.last = until;
    this.tokens = 0;
    this.schedule();
  }

  private refill(): void {
    const now = performance.now();
    if (now <= this.last) return;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
  }

  /** Grants what tokens allow, then sleeps until the next token is due (re-planned on every change). */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.refill();
    const now = performance.now();
    while (this.queue.length && this.tokens >= 1 && this.last <= now) {
      this.tokens -= 1;
      this.queue.shift()!.grant();
    }
    if (!this.queue.length) return;
    const ms = this.last - now + (Math.max(0, 1 - this.tokens) * 1000) / this.qps;
    this.timer = setTimeout(() => this.schedule(), Math.ceil(ms));
  }
}
