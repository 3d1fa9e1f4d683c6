import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKOFF_CAP_MS, backoffMs, RETRY_AFTER_CAP_MS, retryAfterMs, statusVerdict } from '../../../src/runners/webhook/retry-policy.ts';

describe('retry policy', () => {
  test('2xx delivers; 5xx, 408 and 429 are retried; every other answer, redirects included, is terminal', () => {
    for (const code of [200, 201, 202, 204, 299]) assert.equal(statusVerdict(code), 'delivered', String(code));
    for (const code of [500, 502, 503, 504, 599, 408, 429]) assert.equal(statusVerdict(code), 'retry', String(code));
    for (const code of [100, 301, 302, 307, 308, 400, 401, 403, 404, 409, 410, 422]) assert.equal(statusVerdict(code), 'terminal', String(code));
  });

  test('backoff is 2^attempt seconds within 20% jitter, capped at 60 s', () => {
    assert.equal(backoffMs(1, 0.5), 2000);
    assert.equal(backoffMs(2, 0.5), 4000);
    assert.equal(backoffMs(3, 0), 6400);
    assert.equal(backoffMs(3, 0.999999), 9600);
    assert.equal(backoffMs(6, 0.5), BACKOFF_CAP_MS, '64 s is capped');
    assert.equal(backoffMs(10, 0), BACKOFF_CAP_MS, 'the cap holds after jitter too');
  });

  test('Retry-After in seconds or as an HTTP date, clamped to 10 minutes; unreadable or absent is undefined', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    assert.equal(retryAfterMs('3', now), 3000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('Mon, 07 Dec 2026 12:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Mon, 07 Dec 2026 11:00:00 GMT', now), 0, 'a date in the past means now');
    assert.equal(retryAfterMs('86400', now), RETRY_AFTER_CAP_MS);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });
});
