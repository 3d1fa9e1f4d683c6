// One operator's metrics: a registry of its own (several operators share a process in tests, so
// nothing goes to prom-client's global registry), handed down to each layer that counts.
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC): once a process. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();

  constructor(opts: MetricsOptions = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
