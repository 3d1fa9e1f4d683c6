// A small Kubernetes REST client: undici for HTTP, so timeouts and watch streams stay ours, with
// the credentials of credentials.ts.
import { Agent, request } from 'undici';
import type { Credentials } from './credentials.ts';
import { KubeApiError } from './errors.ts';
import { RateLimiter } from './rate-limiter.ts';
import { NO_ANSWER_CODE, type KubeMetrics, type RequestObserver } from '../metrics/kube.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface RequestInit {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** The caller does not read the answer of a write that succeeds: it is not parsed. */
  discardBody?: boolean;
}

/** For writes whose answer the caller does not read. */
export type WriteOptions = Pick<RequestInit, 'discardBody'>;

export interface WatchEvent<T = Record<string, unknown>> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface KubeClientOptions {
  /** A request with no answer for this long fails as a timeout (and is retried by callers). */
  requestTimeoutMs?: number;
  /** Requests a second, sustained. A watch takes one token to start and none while it streams. */
  qps?: number;
  /** Requests that may go at once before `qps` applies. */
  burst?: number;
  /** Open connections to the API server at most; more requests queue. Each watch holds one. */
  maxConnections?: number;
  /** Counts every request by status code, and times it (the rate limiter's wait not included). */
  metrics?: KubeMetrics;
}

// client-go's defaults (5/10) are for tools, and cert-manager's (20/50) for a controller of ~1
// write per renewal. A certhook firing costs about eight requests (the run, its snapshot Secret,
// its Job and its status to start; the pod, its log, the final status and an Event to finish), so
// 50 qps sustains ~6 firings a second, more than kube-controller-manager (20 qps) turns Jobs
// into pods; burst 100 lets a handful of firings, or a re-list, go at once. API Priority and
// Fairness guards the server beyond that, and its 429s pause this client. 16 connections leave room beside the
// operator's few long-lived watches (one connection each over HTTP/1.1).
export const DEFAULT_QPS = 50;
export const DEFAULT_BURST = 100;
export const DEFAULT_MAX_CONNECTIONS = 16;
/** The longest a Retry-After may hold every request of the client. */
const MAX_BACKOFF_MS = 30_000;

export class KubeClient {
  private readonly credentials: Credentials;
  private readonly agent: Agent;
  private readonly requestTimeoutMs: number;
  private readonly limiter: RateLimiter;
  private readonly requests: RequestObserver | undefined;

  private constructor(credentials: Credentials, agent: Agent, opts: KubeClientOptions) {
    this.credentials = credentials;
    this.agent = agent;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.limiter = new RateLimiter(opts.qps ?? DEFAULT_QPS, opts.burst ?? DEFAULT_BURST);
    this.requests = opts.metrics?.restClient(new URL(credentials.server).host);
  }

  static create(credentials: Credentials, opts: KubeClientOptions = {}): KubeClient {
    const agent = new Agent({
      connect: { ...credentials.tls },
      keepAliveTimeout: 30_000,
      connections: opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    });
    return new KubeClient(credentials, agent, opts);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  create<T>(path: string, body: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { body, ...opts });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  patch<T>(path: string, type: PatchType, body: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: PATCH_CONTENT_TYPES[type], ...opts });
  }

  delete<T>(path: string, options: Record<string, unknown> = {}, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, { body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options }, ...opts });
  }

  async text(path: string, query?: Query): Promise<string> {
    const res = await this.send('GET', path, query ? { query } : {}, this.requestTimeoutMs);
    const text = await res.body.text();
    if (res.statusCode >= 300) throw KubeApiError.fromResponse(res.statusCode, text, res.headers['retry-after']);
    return text;
  }

  async request<T>(method: string, path: string, init: RequestInit): Promise<T> {
    const res = await this.send(method, path, init, this.requestTimeoutMs);
    if (init.discardBody && res.statusCode < 300) {
      await res.body.dump();
      return {} as T;
    }
    const text = await res.body.text();
    if (res.statusCode >= 300) throw KubeApiError.fromResponse(res.statusCode, text, res.headers['retry-after']);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * A watch stream. `idleTimeoutMs` bounds the silence between chunks (bookmarks keep a healthy
   * stream talking), so a half-open connection fails instead of hanging forever.
   */
  async *watch<T>(path: string, query: Query, idleTimeoutMs: number, signal?: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const res = await this.send('GET', path, { query: { ...query, watch: true }, ...(signal ? { signal } : {}) }, idleTimeoutMs);
    if (res.statusCode >= 300) {
      throw KubeApiError.fromResponse(res.statusCode, await res.body.text(), res.headers['retry-after']);
    }
    // Streaming: a character split across two chunks is held back until its last byte arrives.
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Buffer, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield JSON.parse(line) as WatchEvent<T>;
      }
    }
  }

  /** Requests that waited for a rate-limit token, and shared back-offs the server asked for. */
  get rateLimitStats(): { readonly waited: number; readonly pauses: number } {
    return this.limiter.stats;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async send(method: string, path: string, init: RequestInit, timeoutMs: number) {
    const url = new URL(this.credentials.server + path);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'certhook', ...(await this.credentials.headers()) };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['Content-Type'] = init.contentType ?? 'application/json';
    }
    let res;
    let sentAt: number | undefined;
    try {
      await this.limiter.acquire(init.signal);
      sentAt = performance.now();
      res = await request(url, {
        method: method as 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (err) {
      // Only a request that was sent counts: not one abandoned while it waited for a token.
      if (sentAt !== undefined) this.requests?.observe(method, NO_ANSWER_CODE, (performance.now() - sentAt) / 1000);
      throw KubeApiError.fromTransport(err, `${method} ${url.pathname}`);
    }
    this.requests?.observe(method, String(res.statusCode), (performance.now() - sentAt) / 1000);
    const backOffMs = serverBackOffMs(res.statusCode, res.headers['retry-after']);
    if (backOffMs) this.limiter.pause(backOffMs);
    return res;
  }
}

/**
 * How long the server asked this client to hold off: Retry-After in seconds (what Kubernetes
 * sends), else 1 s for a bare 429; capped, so a wild header cannot stall the operator.
 */
function serverBackOffMs(status: number, retryAfter: string | string[] | undefined): number {
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  const seconds = header ? Number(header) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_BACKOFF_MS);
  return status === 429 ? 1000 : 0;
}
