// Retrying transient API failures with capped, jittered exponential backoff, honouring Retry-After.
import { setTimeout as delay } from 'node:timers/promises';
import { isTransient, KubeApiError } from './errors.ts';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 30_000 };

/** The wait before attempt `attempt` (0-based): full jitter over a capped exponential. */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export interface RetryOptions {
  backoff?: Backoff;
  signal?: AbortSignal;
  /** Give up after this many attempts (default: never, while the signal allows). */
  attempts?: number;
  /** Called before each wait, so callers can log what is being retried. */
  onRetry?: (err: KubeApiError, attempt: number, waitMs: number) => void;
}

/**
 * Runs `fn` until it succeeds or fails with something a retry cannot fix. Transient failures
 * (no answer, 429, 5xx) are retried for as long as the signal allows, or `attempts` times.
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || opts.signal?.aborted || attempt + 1 >= (opts.attempts ?? Infinity)) throw err;
      const apiErr = err as KubeApiError;
      const waitMs = apiErr.retryAfterSeconds !== undefined
        ? Math.min(apiErr.retryAfterSeconds * 1000, (opts.backoff ?? DEFAULT_BACKOFF).maxMs)
        : backoffDelay(attempt, opts.backoff);
      opts.onRetry?.(apiErr, attempt, waitMs);
      await delay(waitMs, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}
