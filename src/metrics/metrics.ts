// One operator's metrics: a registry of its own (several operators share a process in tests, so
// nothing goes to prom-client's global registry), handed down to each layer that counts: the
// API client and its watches (kube), the controllers' queues (controller), the runs and
// webhooks (certhook).
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CerthookMetrics } from './certhook.ts';
import { ControllerMetrics } from './controller.ts';
import { KubeMetrics } from './kube.ts';

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC): once a process. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly kube = new KubeMetrics(this.registry);
  readonly controller = new ControllerMetrics(this.registry);
  readonly certhook = new CerthookMetrics(this.registry);

  constructor(opts: MetricsOptions = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
