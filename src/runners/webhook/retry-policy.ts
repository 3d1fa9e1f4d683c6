// When a webhook delivery is retried, and how long it waits: the seed's rules (retry on 5xx,
// 408, 429 and transport errors; any other 4xx is the caller's bug; 2^attempt s, capped at 60 s)
// plus Cert Spotter's (a redirect is a failure) and Retry-After. Pure: the runner does the I/O.

/** How an attempt ended, as far as retrying is concerned. */
export type Verdict = 'delivered' | 'retry' | 'terminal';

export const BACKOFF_CAP_MS = 60_000;
/** A Retry-After beyond this is taken as this: a receiver cannot park a run for days. */
export const RETRY_AFTER_CAP_MS = 10 * 60_000;

export function statusVerdict(statusCode: number): Verdict {
  if (statusCode >= 200 && statusCode < 300) return 'delivered';
  if (statusCode >= 500 || statusCode === 408 || statusCode === 429) return 'retry';
  return 'terminal';
}

/**
 * The wait after failed attempt number `attempt` (1 for the first): 2^attempt seconds with up to
 * 20% jitter either way, so receivers that failed together are not retried together, capped at
 * 60 s. `random` is in [0, 1).
 */
export function backoffMs(attempt: number, random: number = Math.random()): number {
  const base = 1000 * 2 ** attempt;
  return Math.min(BACKOFF_CAP_MS, Math.round(base * (0.8 + 0.4 * random)));
}

/** A Retry-After header's wait in ms (delta-seconds or an HTTP date), clamped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (Number.isNaN(ms)) return undefined;
  return Math.min(RETRY_AFTER_CAP_MS, Math.max(0, ms));
}
