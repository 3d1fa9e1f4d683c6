// List + watch with a cache, made to survive what the API server and the network do: a stream
// that ends or errors restarts with backoff from the last resourceVersion, a 410 re-lists and
// synthesises the deletes it missed, and a stream silent for too long is abandoned and restarted.
// A caller about to act on the whole cache (a new leader) can ask for a fresh list first.
import { setImmediate as yieldToEventLoop, setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { KubeClient, Query } from './client.ts';
import { isGone, KubeApiError } from './errors.ts';
import { backoffDelay, type Backoff } from './retry.ts';
import type { KubeObject } from './object.ts';
import type { KubeMetrics, WatchObserver } from '../metrics/kube.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change<T> {
  type: ChangeType;
  /** `namespace/name`. */
  key: string;
  /** The object as the API sent it; for a delete missed during a re-list, undefined. */
  raw: KubeObject | undefined;
  current: T | undefined;
  previous: T | undefined;
}

export interface ReflectorOptions<T> {
  client: KubeClient;
  /** The collection path, e.g. `/api/v1/secrets` or `/apis/certhook.io/v1alpha1/namespaces/web/deployhooks`. */
  path: string;
  query?: Query;
  /** What the cache keeps of an object: keep it small, and never keep secrets' data. */
  transform: (obj: KubeObject) => T;
  /** Called synchronously for every change, in order; must not throw. */
  onChange: (change: Change<T>) => void;
  /** Called after every (re-)list has been applied. */
  onSynced?: () => void;
  log: Logger;
  pageSize?: number;
  /** A watch that sends nothing (not even a bookmark) for this long is restarted. */
  idleTimeoutMs?: number;
  /** How long the server keeps one watch open before we start a new one. */
  watchTimeoutSeconds?: number;
  backoff?: Backoff;
  /** Counts the watch's restarts and re-lists, and reports the cache's size, by resource. */
  metrics?: KubeMetrics;
}

interface ListResponse {
  metadata: { resourceVersion: string; continue?: string };
  items: KubeObject[];
}

export const objectKey = (obj: { metadata: { namespace?: string; name?: string } }) =>
  `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

/** A reflector's life, whatever it caches: what an owner starts, waits on, re-lists and stops. */
export interface CacheLoop {
  start(): void;
  stop(): Promise<void>;
  waitForSync(): Promise<void>;
  resync(): Promise<void>;
  readonly alive: boolean;
}

export class Reflector<T> implements CacheLoop {
  readonly cache = new Map<string, T>();
  /** The resourceVersion each cached entry was made from, so a re-list skips what did not change. */
  private readonly versions = new Map<string, string>();
  private readonly opts: ReflectorOptions<T>;
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private synced = false;
  private running: Promise<void> | undefined;
  private ended = false;
  private syncWaiters: (() => void)[] = [];
  private resyncWaiters: (() => void)[] = [];
  /** Ends the current watch or backoff wait early, when a resync is asked for. */
  private cycle = new AbortController();
  /** Counts of what happened, for metrics and tests. */
  readonly stats = { lists: 0, watches: 0, restarts: 0, gone: 0, idleRestarts: 0 };
  private readonly observer: WatchObserver | undefined;

  constructor(opts: ReflectorOptions<T>) {
    this.opts = opts;
    this.observer = opts.metrics?.watch(resourceOf(opts.path), () => this.cache.size);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.opts.log.error({ err, path: this.opts.path }, 'watch loop ended unexpectedly');
    }).finally(() => {
      this.ended = !this.abort.signal.aborted;
    });
  }

  /** False once the list-and-watch loop has ended without being stopped: the cache is frozen. */
  get alive(): boolean {
    return !this.ended;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    for (const resolve of this.resyncWaiters.splice(0)) resolve();
  }

  /**
   * Re-lists now, abandoning the current watch, and resolves once a list begun after this call
   * has been applied (or the reflector has stopped): a watch may have gone quiet without the
   * stream failing yet, and a new leader must not decide on what it missed.
   */
  resync(): Promise<void> {
    return new Promise((resolve) => {
      this.resyncWaiters.push(resolve);
      this.cycle.abort();
    });
  }

  /** Resolves once the first list has been applied. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      this.cycle = new AbortController();
      try {
        if (needList || this.resyncWaiters.length) {
          await this.list();
          needList = false;
        }
        await this.watch(AbortSignal.any([signal, this.cycle.signal]));
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        if (this.cycle.signal.aborted) continue; // a resync ended the watch: re-list at once
        if (isGone(err)) {
          this.stats.gone++;
          this.opts.log.info({ path: this.opts.path }, 'watch history expired (410 Gone); re-listing');
          needList = true;
          continue;
        }
        this.stats.restarts++;
        this.observer?.restarted();
        const waitMs = backoffDelay(failures++, this.opts.backoff ?? { initialMs: 100, maxMs: 10_000 });
        this.opts.log.warn({ path: this.opts.path, err: describe(err), retryInMs: waitMs }, 'watch failed; restarting');
        await delay(waitMs, undefined, { signal: AbortSignal.any([signal, this.cycle.signal]) }).catch(() => {});
      }
    }
  }

  /**
   * A full paged list, applied as a diff so a consumer sees exactly the changes it missed. Each
   * page is applied as it arrives (the raw list is never held whole), and the event loop gets a
   * turn between pages.
   */
  private async list(): Promise<void> {
    const { client, path, query } = this.opts;
    const resyncWaiters = this.resyncWaiters.splice(0);
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    const fetchPage = (from: string | undefined) => {
      const page = client.get<ListResponse>(path, { ...query, limit: this.opts.pageSize ?? 500, ...(from ? { continue: from } : {}) });
      page.catch(() => {}); // awaited below; until then, a failure is not an unhandled rejection
      return page;
    };
    try {
      let next = fetchPage(undefined);
      do {
        const page = await next;
        cont = page.metadata.continue || undefined;
        // The API server prepares the next page while this one is applied.
        if (cont) next = fetchPage(cont);
        for (const raw of page.items) {
          const key = objectKey(raw);
          seen.add(key);
          const previous = this.cache.get(key);
          if (previous && this.versions.get(key) === raw.metadata.resourceVersion) continue;
          const current = this.remember(key, raw);
          this.emit({ type: previous ? 'MODIFIED' : 'ADDED', key, raw, current, previous });
        }
        rv = page.metadata.resourceVersion;
        await yieldToEventLoop();
      } while (cont);
    } catch (err) {
      this.resyncWaiters.unshift(...resyncWaiters);
      throw err;
    }
    if (this.stats.lists++ > 0) this.observer?.relisted();
    for (const [key, previous] of [...this.cache]) {
      if (!seen.has(key)) {
        this.forget(key);
        this.emit({ type: 'DELETED', key, raw: undefined, current: undefined, previous });
      }
    }
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    this.opts.onSynced?.();
    for (const resolve of resyncWaiters) resolve();
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const { client, path, query, transform } = this.opts;
    const idleTimeoutMs = this.opts.idleTimeoutMs ?? 120_000;
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    this.stats.watches++;
    const stream = client.watch<KubeObject>(path, {
      ...query,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
    }, idleTimeoutMs, signal);
    // A stream delivers as fast as its buffer fills (a burst of ten thousand events arrives at
    // once): give the event loop a turn every few milliseconds of work, so timers, health probes
    // and lease renewals are never held up for long.
    let turnStarted = performance.now();
    try {
      for await (const event of stream) {
        if (performance.now() - turnStarted > WATCH_SLICE_MS) {
          await yieldToEventLoop();
          turnStarted = performance.now();
        }
        const obj = event.object;
        if (event.type === 'ERROR') {
          const status = obj as unknown as { code?: number; reason?: string; message?: string };
          throw new KubeApiError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'watch error');
        }
        this.resourceVersion = obj.metadata.resourceVersion ?? this.resourceVersion;
        if (event.type === 'BOOKMARK') continue;
        const key = objectKey(obj);
        const previous = this.cache.get(key);
        if (event.type === 'DELETED') {
          this.forget(key);
          this.emit({ type: 'DELETED', key, raw: obj, current: undefined, previous: previous ?? transform(obj) });
        } else {
          const current = this.remember(key, obj);
          this.emit({ type: previous ? 'MODIFIED' : 'ADDED', key, raw: obj, current, previous });
        }
      }
    } catch (err) {
      if (isBodyTimeout(err)) {
        this.stats.idleRestarts++;
        this.observer?.restarted();
        this.opts.log.warn({ path, idleTimeoutMs }, 'watch silent for too long; restarting it');
        return;
      }
      throw err;
    }
  }

  private remember(key: string, raw: KubeObject): T {
    const current = this.opts.transform(raw);
    this.cache.set(key, current);
    this.versions.set(key, raw.metadata.resourceVersion ?? '');
    return current;
  }

  private forget(key: string): void {
    this.cache.delete(key);
    this.versions.delete(key);
  }

  private emit(change: Change<T>): void {
    try {
      this.opts.onChange(change);
    } catch (err) {
      this.opts.log.error({ err, path: this.opts.path }, 'change handler failed');
    }
  }
}

/** The longest a watch stream's events are handled without giving the event loop a turn. */
const WATCH_SLICE_MS = 20;

function isBodyTimeout(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.name === 'BodyTimeoutError' || (err instanceof KubeApiError && /UND_ERR_(BODY|HEADERS)_TIMEOUT/.test(err.message));
}

/** The resource a collection path lists: its last segment (`secrets`, `deployhookruns`). */
const resourceOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
