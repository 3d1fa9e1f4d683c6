// The API client's metrics: client-go's request metrics and leader-election gauge under their
// names and labels, and certhook's own of its watches and caches. `host` is the API server's
// address (one value); the rest are verbs, status codes and resource names.
import { Counter, Histogram, type Registry } from 'prom-client';
import { SampledGauge } from './sampled.ts';

/** client-go's `code` for a request that got no answer. */
export const NO_ANSWER_CODE = '<error>';
// client-go's request latency buckets.
const REQUEST_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

/** What the REST client reports of each request: bound to its host once. */
export interface RequestObserver {
  /** A request ended: its status code (or NO_ANSWER_CODE) and how long the answer took. */
  observe(method: string, code: string, seconds: number): void;
}

/** What a reflector reports: its watch's restarts and its re-lists. */
export interface WatchObserver {
  /** The watch failed or went silent and is started again. */
  restarted(): void;
  /** The collection was listed again after the first time (410 Gone, a new leader's resync). */
  relisted(): void;
}

export class KubeMetrics {
  private readonly requests: Counter<'code' | 'method' | 'host'>;
  private readonly requestDuration: Histogram<'verb' | 'host'>;
  private readonly leading: SampledGauge<'name'>;
  private readonly watchRestarts: Counter<'resource'>;
  private readonly relists: Counter<'resource'>;
  private readonly cacheObjects: SampledGauge<'resource'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({ name: 'rest_client_requests_total', help: 'Number of HTTP requests, partitioned by status code, method, and host.', labelNames: ['code', 'method', 'host'], registers });
    this.requestDuration = new Histogram({ name: 'rest_client_request_duration_seconds', help: 'Request latency in seconds. Broken down by verb, and host.', labelNames: ['verb', 'host'], buckets: REQUEST_BUCKETS, registers });
    this.leading = new SampledGauge(registry, 'leader_election_master_status', 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. \'name\' is the string used to identify the lease.', ['name']);
    this.watchRestarts = new Counter({ name: 'certhook_watch_restarts_total', help: 'Watches started again after they failed or went silent, per resource.', labelNames: ['resource'], registers });
    this.relists = new Counter({ name: 'certhook_watch_relists_total', help: 'Collections listed again after their first list (watch history expired, a new leader\'s resync), per resource.', labelNames: ['resource'], registers });
    this.cacheObjects = new SampledGauge(registry, 'certhook_cache_objects', 'Objects in the operator\'s cache, per resource.', ['resource']);
  }

  /** The observer of a client's requests to the API server at `host`. */
  restClient(host: string): RequestObserver {
    return {
      observe: (method, code, seconds) => {
        this.requests.inc({ code, method, host });
        this.requestDuration.observe({ verb: method, host }, seconds);
      },
    };
  }

  /** Reports whether this replica holds the Lease `name`, read at scrape time. */
  leaderElection(name: string, leading: () => boolean): void {
    this.leading.add((set) => set({ name }, leading() ? 1 : 0));
  }

  /** The observer of the reflector of one resource, whose cache size is read at scrape time. */
  watch(resource: string, cacheSize: () => number): WatchObserver {
    const labels = { resource };
    const restarts = this.watchRestarts.labels(labels);
    const relists = this.relists.labels(labels);
    restarts.inc(0);
    relists.inc(0);
    this.cacheObjects.add((set) => set(labels, cacheSize()));
    return { restarted: () => restarts.inc(), relisted: () => relists.inc() };
  }
}
