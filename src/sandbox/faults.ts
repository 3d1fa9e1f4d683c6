// Fault injection for tests: failed requests, latency, dropped and silent watches, expired
// history. Every fault that fires is counted, so a test can assert it really happened.

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface FailureRule {
  verb: Verb | '*';
  /** A resource's plural, optionally with its subresource (`jobs/status`), or `*`. */
  resource: string;
  status: 409 | 429 | 500 | 503 | 504;
  /** How many matching requests fail; each failure uses one. */
  remaining: number;
  retryAfterSeconds?: number;
}

export interface DelayRule {
  verb: Verb | '*';
  resource: string;
  ms: number;
  remaining: number;
}

export interface FaultCounters {
  requests: Record<string, number>;
  failuresInjected: Record<string, number>;
  delaysInjected: Record<string, number>;
  watchesOpened: number;
  watchesDropped: number;
  watchesSilenced: number;
  historyExpirations: number;
}

export interface OpenWatch {
  drop(): void;
  silence(): void;
}

const key = (verb: string, resource: string) => `${verb} ${resource}`;

export class Faults {
  private rules: FailureRule[] = [];
  private delays: DelayRule[] = [];
  private silenceNext = 0;
  private readonly watches = new Set<OpenWatch>();
  latencyMs = 0;
  readonly counters: FaultCounters = {
    requests: {},
    failuresInjected: {},
    delaysInjected: {},
    watchesOpened: 0,
    watchesDropped: 0,
    watchesSilenced: 0,
    historyExpirations: 0,
  };

  /** The next `count` requests matching verb and resource fail with `status`. */
  failNext(verb: FailureRule['verb'], resource: string, count: number, status: FailureRule['status'], retryAfterSeconds?: number): void {
    this.rules.push({ verb, resource, status, remaining: count, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
  }

  /**
   * The next `count` requests matching verb and resource are answered only after `ms` (and then
   * processed as usual): a slow API server, or one whose answer a client gives up waiting for.
   */
  delayNext(verb: DelayRule['verb'], resource: string, count: number, ms: number): void {
    this.delays.push({ verb, resource, ms, remaining: count });
  }

  /** Counts a request and returns the failure it must get, if any, and how long to hold it first. */
  onRequest(verb: Verb, resource: string): { failure: FailureRule | undefined; delayMs: number } {
    const k = key(verb, resource);
    this.counters.requests[k] = (this.counters.requests[k] ?? 0) + 1;
    const delay = take(this.delays, verb, resource);
    if (delay) this.counters.delaysInjected[k] = (this.counters.delaysInjected[k] ?? 0) + 1;
    const failure = take(this.rules, verb, resource);
    if (failure) this.counters.failuresInjected[k] = (this.counters.failuresInjected[k] ?? 0) + 1;
    return { failure, delayMs: this.latencyMs + (delay?.ms ?? 0) };
  }

  delayed(verb: Verb, resource: string): number {
    return this.counters.delaysInjected[key(verb, resource)] ?? 0;
  }

  requests(verb: Verb, resource: string): number {
    return this.counters.requests[key(verb, resource)] ?? 0;
  }

  injected(verb: Verb, resource: string): number {
    return this.counters.failuresInjected[key(verb, resource)] ?? 0;
  }

  /** Registers an open watch; returns whether it must start silent. */
  watchOpened(watch: OpenWatch): boolean {
    this.counters.watchesOpened++;
    this.watches.add(watch);
    if (this.silenceNext > 0) {
      this.silenceNext--;
      this.counters.watchesSilenced++;
      return true;
    }
    return false;
  }

  watchClosed(watch: OpenWatch): void {
    this.watches.delete(watch);
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Ends every open watch stream, as a restarted API server or a proxy timeout does. */
  dropWatches(): number {
    const open = [...this.watches];
    for (const w of open) w.drop();
    this.counters.watchesDropped += open.length;
    return open.length;
  }

  /** Every open watch stays connected but receives nothing more: a half-open stream. */
  silenceWatches(): number {
    const open = [...this.watches];
    for (const w of open) w.silence();
    this.counters.watchesSilenced += open.length;
    return open.length;
  }

  /** The next `count` watches are accepted and then never sent anything. */
  silenceNextWatches(count: number): void {
    this.silenceNext += count;
  }

  reset(): void {
    this.rules = [];
    this.delays = [];
    this.silenceNext = 0;
    this.latencyMs = 0;
  }
}

/** Uses up one match of the first rule for this request, if any. */
function take<R extends { verb: string; resource: string; remaining: number }>(rules: R[], verb: Verb, resource: string): R | undefined {
  const rule = rules.find(
    (r) => r.remaining > 0 && (r.verb === '*' || r.verb === verb) && (r.resource === '*' || r.resource === resource || r.resource === resource.split('/')[0]),
  );
  if (!rule) return undefined;
  rule.remaining--;
  if (rule.remaining === 0) rules.splice(rules.indexOf(rule), 1);
  return rule;
}
