// Gauges read at scrape time: what reflects a cache (its size, a certificate's notAfter, whether
// a hook is ready) is computed from that cache when Prometheus asks, so the hot paths that change
// the cache do no metrics work at all, and a deleted object's series goes with it.
import { Gauge, type Registry } from 'prom-client';

/** Sets one sample: the value of the series with these labels. */
export type SetSample<L extends string> = (labels: Partial<Record<L, string>>, value: number) => void;
/** Reports the current samples of one source (a cache, a queue) at scrape time. */
export type Sampler<L extends string> = (set: SetSample<L>) => void;

export class SampledGauge<L extends string> {
  private readonly samplers: Sampler<L>[] = [];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    const samplers = this.samplers;
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        // Series of objects gone since the last scrape are dropped.
        this.reset();
        for (const sample of samplers) sample((labels, value) => this.set(labels, value));
      },
    });
  }

  /** Adds a source read at every scrape. */
  add(sampler: Sampler<L>): void {
    this.samplers.push(sampler);
  }
}
