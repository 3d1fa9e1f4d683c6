// Kubernetes API failures, with what a caller needs to decide: retry, re-read, or give up.

export class KubeApiError extends Error {
  /** The HTTP status; 0 when no answer came (refused, reset, timed out). */
  readonly code: number;
  readonly reason: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  static fromResponse(code: number, body: string, retryAfter: string | string[] | undefined): KubeApiError {
    let reason = 'Unknown';
    let message = body.slice(0, 500) || `HTTP ${code}`;
    let retryAfterSeconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    try {
      const status = JSON.parse(body) as { reason?: string; message?: string; details?: { retryAfterSeconds?: number } };
      reason = status.reason ?? reason;
      message = status.message ?? message;
      if (!Number.isFinite(retryAfterSeconds) && status.details?.retryAfterSeconds !== undefined) retryAfterSeconds = status.details.retryAfterSeconds;
    } catch {
      // Not a Status body (a proxy's error page, say): keep the raw text.
    }
    return new KubeApiError(code, reason, message, Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : undefined);
  }

  static fromTransport(err: unknown, what: string): KubeApiError {
    const e = err as { code?: string; name?: string; message?: string };
    if (e?.name === 'AbortError') return new KubeApiError(0, 'Aborted', `${what}: aborted`);
    return new KubeApiError(0, 'Transport', `${what}: ${e?.code ?? e?.name ?? 'error'}: ${e?.message ?? String(err)}`);
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.code === 404;
export const isAlreadyExists = (err: unknown): boolean => err instanceof KubeApiError && err.code === 409 && err.reason === 'AlreadyExists';
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.code === 409 && err.reason !== 'AlreadyExists';
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone');

/** Failures that say nothing about the request itself: the same request may well succeed later. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return false;
  if (err.reason === 'Aborted') return false;
  return err.code === 0 || err.code === 429 || err.code >= 500;
}
