// controller-runtime's controller and work-queue metrics, under its names and labels, so the
// dashboards and alerts people have for controllers work on certhook's four unchanged: each
// controller (secrets, runs, hooks, retention) is one `controller` and one work queue `name`.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SampledGauge } from './sampled.ts';

/** How a reconcile ended, as controller-runtime's `result` label says it. */
export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';
const RESULTS: readonly ReconcileResultLabel[] = ['success', 'error', 'requeue', 'requeue_after'];

/** What a work queue reports as it works, bound to its labels once: each call is an increment. */
export interface QueueObserver {
  /** A key was added that was not already waiting. */
  added(): void;
  /** A key went to a worker after waiting this long. */
  started(waitedSeconds: number): void;
  /** A reconcile ended. */
  finished(result: ReconcileResultLabel, seconds: number): void;
  /** A failed key goes back to the queue with backoff. */
  retried(): void;
}

/** What a work queue shows at scrape time. */
export interface QueueState {
  /** Keys waiting for a worker. */
  depth(): number;
  /** When each reconcile under way started (`performance.now()` ms). */
  inFlightSince(): Iterable<number>;
}

// controller-runtime's buckets: reconciles of milliseconds to a minute; the work queue's
// exponential ones, 10 ns to 1000 s.
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60];
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

type QueueLabels = 'name' | 'controller';

export class ControllerMetrics {
  private readonly reconcileTotal: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;
  private readonly maxConcurrent: Gauge<'controller'>;
  private readonly activeWorkers: SampledGauge<'controller'>;
  private readonly adds: Counter<QueueLabels>;
  private readonly retries: Counter<QueueLabels>;
  private readonly queueDuration: Histogram<QueueLabels>;
  private readonly workDuration: Histogram<QueueLabels>;
  private readonly depth: SampledGauge<QueueLabels>;
  private readonly unfinished: SampledGauge<QueueLabels>;
  private readonly longestRunning: SampledGauge<QueueLabels>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconcileTotal = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers });
    this.reconcileErrors = new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers });
    this.reconcileTime = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller', labelNames: ['controller'], buckets: RECONCILE_BUCKETS, registers });
    this.maxConcurrent = new Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Maximum number of concurrent reconciles per controller', labelNames: ['controller'], registers });
    this.activeWorkers = new SampledGauge(registry, 'controller_runtime_active_workers', 'Number of currently used workers per controller', ['controller']);
    const labelNames = ['name', 'controller'] as const;
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers });
    this.retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames, registers });
    this.queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames, buckets: QUEUE_BUCKETS, registers });
    this.workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames, buckets: QUEUE_BUCKETS, registers });
    this.depth = new SampledGauge(registry, 'workqueue_depth', 'Current depth of workqueue', labelNames);
    this.unfinished = new SampledGauge(registry, 'workqueue_unfinished_work_seconds', 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads.', labelNames);
    this.longestRunning = new SampledGauge(registry, 'workqueue_longest_running_processor_seconds', 'How many seconds has the longest running processor for workqueue been running', labelNames);
  }

  /** The observer of one controller's queue; its gauges are read from `state` at scrape time. */
  queue(name: string, workers: number, state: QueueState): QueueObserver {
    const controller = { controller: name };
    const queue = { name, controller: name };
    this.maxConcurrent.set(controller, workers);
    // Every result and the error count exist from the start, as controller-runtime has them.
    const results = Object.fromEntries(RESULTS.map((result) => [result, this.reconcileTotal.labels({ ...controller, result })])) as Record<ReconcileResultLabel, Counter.Internal>;
    for (const counter of Object.values(results)) counter.inc(0);
    const errors = this.reconcileErrors.labels(controller);
    errors.inc(0);
    const reconcileTime = this.reconcileTime.labels(controller);
    const adds = this.adds.labels(queue);
    const retries = this.retries.labels(queue);
    const queueDuration = this.queueDuration.labels(queue);
    const workDuration = this.workDuration.labels(queue);
    this.activeWorkers.add((set) => set(controller, [...state.inFlightSince()].length));
    this.depth.add((set) => set(queue, state.depth()));
    this.unfinished.add((set) => set(queue, sum(ages(state))));
    this.longestRunning.add((set) => set(queue, Math.max(0, ...ages(state))));
    return {
      added: () => adds.inc(),
      started: (waited) => queueDuration.observe(waited),
      finished(result, seconds) {
        results[result].inc();
        if (result === 'error') errors.inc();
        reconcileTime.observe(seconds);
        workDuration.observe(seconds);
      },
      retried: () => retries.inc(),
    };
  }
}

/** How long each reconcile under way has run, in seconds. */
function ages(state: QueueState): number[] {
  const now = performance.now();
  return [...state.inFlightSince()].map((since) => (now - since) / 1000);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
