// One delivery attempt: a POST through the guarded dispatcher, timed out as a whole at the hook's
// timeoutSeconds (undici's own defaults are 300 s), redirects not followed, the response read to
// at most 64 KiB. Every way it can end becomes an attempt record; nothing throws but an abort.
import { request, type Dispatcher } from 'undici';
import { RETRY_AFTER_CAP_MS, retryAfterMs, statusVerdict, type Verdict } from './retry-policy.ts';

/** The most of a response that is read; the rest is discarded with the connection. */
const RESPONSE_READ_LIMIT = 64 * 1024;
/** The most of a response that is kept on the run. */
export const RESPONSE_KEEP_LIMIT = 1024;
const MESSAGE_LIMIT = 1024;

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** Aborts the attempt without recording it (this replica stopped leading). */
  signal: AbortSignal;
}

export interface AttemptResult {
  verdict: Verdict;
  statusCode?: number;
  durationSeconds: number;
  errorClass?: string;
  message?: string;
  responseBody?: string;
  /** The receiver's Retry-After, clamped, when it sent one. */
  retryAfterMs?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/;

export async function deliver(req: DeliveryRequest): Promise<AttemptResult> {
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  const timeout = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher: req.dispatcher,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      signal: AbortSignal.any([timeout, req.signal]),
    });
    const body = await readLimited(res.body);
    const verdict = statusVerdict(res.statusCode);
    const retryAfter = header(res.headers['retry-after']);
    const waited = verdict === 'retry' ? retryAfterMs(retryAfter) : undefined;
    return {
      verdict,
      statusCode: res.statusCode,
      durationSeconds: seconds(),
      ...(verdict === 'delivered' ? {} : { errorClass: 'http_status', message: statusMessage(res.statusCode, header(res.headers.location), waited) }),
      ...(body.length ? { responseBody: body.subarray(0, RESPONSE_KEEP_LIMIT).toString('utf8') } : {}),
      ...(waited !== undefined ? { retryAfterMs: waited } : {}),
    };
  } catch (err) {
    if (req.signal.aborted) throw err;
    return { ...failure(err as Error & { code?: string }, timeout.aborted, req.timeoutMs), durationSeconds: seconds() };
  }
}

/**
 * How an attempt ended, for metrics: its answer's status class (`2xx` … `5xx`), `timeout`, or
 * `error` when no answer came (refused by policy, a connection or TLS failure).
 */
export function statusClass(result: Pick<AttemptResult, 'statusCode' | 'errorClass'>): string {
  if (result.statusCode) return `${Math.floor(result.statusCode / 100)}xx`;
  return result.errorClass === 'timeout' ? 'timeout' : 'error';
}

function failure(err: Error & { code?: string; cause?: unknown }, timedOut: boolean, timeoutMs: number): Omit<AttemptResult, 'durationSeconds'> {
  const code = err.code ?? (err.cause as { code?: string } | undefined)?.code ?? '';
  if (code === 'ERR_NETWORK_POLICY') return { verdict: 'terminal', errorClass: 'network_policy', message: limit(err.message) };
  if (timedOut || TIMEOUT_CODES.has(code)) return { verdict: 'retry', errorClass: 'timeout', message: `no complete answer within ${timeoutMs / 1000}s (timeoutSeconds)` };
  const message = limit(`${code ? `${code}: ` : ''}${(err.cause as Error | undefined)?.message ?? err.message}`);
  return { verdict: 'retry', errorClass: TLS_CODE.test(code) ? 'tls' : 'connection', message };
}

function statusMessage(statusCode: number, location: string | undefined, retryAfter: number | undefined): string {
  if (statusCode >= 300 && statusCode < 400) return limit(`HTTP ${statusCode}: redirects are not followed${location ? ` (to ${location})` : ''}; point the url at the final address`);
  const after = retryAfter === undefined ? '' : `, Retry-After ${retryAfter / 1000}s${retryAfter === RETRY_AFTER_CAP_MS ? ' (the most certhook waits)' : ''}`;
  return `HTTP ${statusCode}${after}`;
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_READ_LIMIT) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_READ_LIMIT);
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const limit = (text: string) => (text.length > MESSAGE_LIMIT ? `${text.slice(0, MESSAGE_LIMIT - 1)}…` : text);
