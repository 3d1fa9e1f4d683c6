// The bench's own HTTP traffic to the sandbox (127.0.0.1 only): raw creates and patches with
// undici, raw watches that note when each event arrived, and a raw write loop. Its writes are
// counted, so they can be told apart from the operator's in the sandbox's request counters.
import { Agent, request } from 'undici';

export interface WatchedEvent {
  type: string;
  object: { metadata: { name?: string; namespace?: string; resourceVersion?: string }; spec?: Record<string, unknown> };
  /** performance.now() when its line arrived. */
  at: number;
}

export class RawClient {
  readonly server: string;
  private readonly agent: Agent;
  /** Write requests this client has sent. */
  writes = 0;

  constructor(server: string) {
    if (!server.startsWith('http://127.0.0.1:')) throw new Error(`the bench talks only to 127.0.0.1, not ${server}`);
    this.server = server;
    this.agent = new Agent({ connections: 16, keepAliveTimeout: 60_000 });
  }

  private async send(method: 'POST' | 'PATCH', path: string, body: unknown, contentType = 'application/json'): Promise<{ metadata: { resourceVersion: string } }> {
    this.writes++;
    const res = await request(`${this.server}${path}`, {
      method,
      dispatcher: this.agent,
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as { metadata: { resourceVersion: string } };
  }

  /** Creates a small ConfigMap; returns how long the create took, in ms. */
  async createConfigMap(namespace: string, name: string): Promise<number> {
    const started = performance.now();
    await this.send('POST', `/api/v1/namespaces/${namespace}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { key: 'value' } });
    return performance.now() - started;
  }

  /** Creates an object with dryRun=All (validated and admitted, not stored); returns how long it took, in ms. */
  async createDryRun(collection: string, body: unknown): Promise<number> {
    const started = performance.now();
    await this.send('POST', `${collection}?dryRun=All`, body);
    return performance.now() - started;
  }

  /** A merge patch of a Secret; returns its new resourceVersion and when the answer came. */
  async patchSecret(namespace: string, name: string, patch: unknown): Promise<{ resourceVersion: string; returnedAt: number }> {
    const written = await this.send('PATCH', `/api/v1/namespaces/${namespace}/secrets/${name}`, patch, 'application/merge-patch+json');
    return { resourceVersion: written.metadata.resourceVersion, returnedAt: performance.now() };
  }

  /** Creates `count` ConfigMaps with `inFlight` requests at a time; returns creates a second. */
  async writeRate(namespace: string, count: number, inFlight: number): Promise<{ perSecond: number; ms: number }> {
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < count) await this.createConfigMap(namespace, `raw-${next++}`);
    }));
    const ms = performance.now() - started;
    return { perSecond: (count / ms) * 1000, ms };
  }

  /**
   * Watches a collection from `resourceVersion` (`query` adds selectors); `onEvent` gets every
   * event with its arrival time. stop() ends the stream.
   */
  watch(path: string, resourceVersion: string, onEvent: (e: WatchedEvent) => void, query = ''): { stop(): void; done: Promise<void> } {
    const abort = new AbortController();
    const url = `${this.server}${path}?watch=1&resourceVersion=${resourceVersion}${query ? `&${query}` : ''}`;
    const done = (async () => {
      const res = await request(url, { dispatcher: this.agent, signal: abort.signal, headers: { accept: 'application/json' } });
      if (res.statusCode !== 200) throw new Error(`watch ${path}: HTTP ${res.statusCode}: ${await res.body.text()}`);
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of res.body) {
        const at = performance.now();
        buffered += decoder.decode(chunk as Buffer, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) onEvent({ ...(JSON.parse(line) as Omit<WatchedEvent, 'at'>), at });
        }
      }
    })().catch((err: unknown) => {
      if (!abort.signal.aborted) throw err;
    });
    return { stop: () => abort.abort(), done };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * Arrival times of watch events by a key, and waits for a key to arrive (it may have already).
 */
export class Arrivals {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();

  note(key: string, at: number): void {
    if (this.seen.has(key)) return;
    this.seen.set(key, at);
    this.waiting.get(key)?.(at);
    this.waiting.delete(key);
  }

  wait(key: string, timeoutMs: number): Promise<number> {
    const at = this.seen.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`${key}: no watch event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(key, (arrived) => {
        clearTimeout(timer);
        resolve(arrived);
      });
    });
  }

  forget(key: string): void {
    this.seen.delete(key);
  }
}
