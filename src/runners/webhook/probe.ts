// The health probe of a webhook's URL (the seed's "harmless OPTIONS (or GET) probe"): OPTIONS,
// then HEAD when the endpoint does not do OPTIONS, through the same guarded dispatcher as
// deliveries. Its result is the hook's Reachable condition; it never blocks firing.
import { request, type Dispatcher } from 'undici';
import type { HookCondition } from '../runner.ts';

export const REACHABLE = 'Reachable';

export async function probeUrl(url: string, dispatcher: Dispatcher, timeoutMs: number): Promise<HookCondition> {
  try {
    let status = await answer(url, 'OPTIONS', dispatcher, timeoutMs);
    if (status === 405 || status === 501) status = await answer(url, 'HEAD', dispatcher, timeoutMs);
    return reachability(status);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_NETWORK_POLICY') return { type: REACHABLE, status: 'False', reason: 'NetworkPolicy', message: e.message };
    const timedOut = e.name === 'TimeoutError' || /TIMEOUT/.test(e.code ?? '');
    return timedOut
      ? { type: REACHABLE, status: 'False', reason: 'Timeout', message: `no answer within ${timeoutMs / 1000}s` }
      : { type: REACHABLE, status: 'False', reason: 'ConnectionFailed', message: `${e.code ? `${e.code}: ` : ''}${e.message}` };
  }
}

/**
 * Any answer but 410 and 5xx means a server is there: many receivers route only POST and answer
 * a probe 404 or 401, which still proves the address right.
 */
export function reachability(status: number): HookCondition {
  if (status === 410) return gone(`the url answered HTTP 410 Gone: the endpoint has been removed`);
  if (status >= 500) return { type: REACHABLE, status: 'False', reason: 'HTTPStatus', message: `the url answered HTTP ${status}` };
  return { type: REACHABLE, status: 'True', reason: 'Answered', message: `the url answered HTTP ${status}` };
}

export const gone = (message: string): HookCondition => ({ type: REACHABLE, status: 'False', reason: 'Gone', message });

async function answer(url: string, method: 'OPTIONS' | 'HEAD', dispatcher: Dispatcher, timeoutMs: number): Promise<number> {
  const res = await request(url, { method, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
  await res.body.dump();
  return res.statusCode;
}
