// certhook's own metrics, labelled as cert-manager labels its own (`namespace`, and the object's
// name) so the two join in a query. Labels are object names and small fixed sets only: never a
// URL, a domain or a message.
import { Counter, Histogram, type Registry } from 'prom-client';
import { SampledGauge } from './sampled.ts';

type HookLabels = 'namespace' | 'hook';

/** A run that reached its final phase, as the runs_total and run_duration metrics count it. */
export interface FinishedRun {
  namespace: string;
  hook: string;
  event: string;
  phase: string;
  reason: string;
  /** How long it ran; absent for a run that ended before it started (Skipped, say). */
  durationSeconds: number | undefined;
}

// Runs take seconds (a webhook) to minutes (a Job that pulls its image, retries, times out).
const RUN_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
// A webhook's answer: milliseconds to its timeoutSeconds (at most 300).
const DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class CerthookMetrics {
  private readonly runs: Counter<HookLabels | 'event' | 'phase' | 'reason'>;
  private readonly runDuration: Histogram<HookLabels>;
  private readonly deliveries: Counter<HookLabels | 'status_class'>;
  private readonly deliveryDuration: Histogram<HookLabels | 'status_class'>;
  private readonly refused: Counter<HookLabels>;
  /** Read at scrape time from the hooks, runs and Secrets caches. */
  readonly lastSuccess: SampledGauge<HookLabels>;
  readonly hookReady: SampledGauge<HookLabels>;
  readonly certificateNotAfter: SampledGauge<'namespace' | 'secret'>;
  private readonly unmatchedSources: (() => number)[] = [];

  constructor(registry: Registry) {
    const registers = [registry];
    this.runs = new Counter({ name: 'certhook_runs_total', help: 'DeployHookRuns that reached a final phase (Succeeded, Failed, Skipped, Unknown), by hook, event, phase and reason.', labelNames: ['namespace', 'hook', 'event', 'phase', 'reason'], registers });
    this.runDuration = new Histogram({ name: 'certhook_run_duration_seconds', help: 'How long finished DeployHookRuns ran, from start to completion.', labelNames: ['namespace', 'hook'], buckets: RUN_BUCKETS, registers });
    this.lastSuccess = new SampledGauge(registry, 'certhook_hook_last_success_timestamp_seconds', 'When the latest Succeeded run kept of each DeployHook completed, in Unix seconds.', ['namespace', 'hook']);
    this.hookReady = new SampledGauge(registry, 'certhook_hook_ready', 'Whether each DeployHook is Ready (1) or invalid and never runs (0).', ['namespace', 'hook']);
    this.certificateNotAfter = new SampledGauge(registry, 'certhook_certificate_not_after_timestamp_seconds', 'The notAfter of the certificate in each TLS Secret, in Unix seconds.', ['namespace', 'secret']);
    const sources = this.unmatchedSources;
    new Counter({
      name: 'certhook_unmatched_certificate_events_total',
      help: 'Certificate events (created, renewed, revoked) no DeployHook took ("No hooks configured").',
      registers,
      collect() {
        this.reset();
        this.inc(sources.reduce((n, read) => n + read(), 0));
      },
    });
    this.refused = new Counter({ name: 'certhook_firings_refused_total', help: 'Firings whose DeployHookRun the API refused for good (a 4xx other than 408, 409 and 429), each refusal; the periodic resync tries them again.', labelNames: ['namespace', 'hook'], registers });
    this.deliveries = new Counter({ name: 'certhook_webhook_delivery_attempts_total', help: 'Webhook delivery attempts sent, by how they ended: the answer\'s status class (2xx, 3xx, 4xx, 5xx), timeout or error (no answer).', labelNames: ['namespace', 'hook', 'status_class'], registers });
    this.deliveryDuration = new Histogram({ name: 'certhook_webhook_delivery_duration_seconds', help: 'How long webhook delivery attempts took, by how they ended.', labelNames: ['namespace', 'hook', 'status_class'], buckets: DELIVERY_BUCKETS, registers });
  }

  runFinished(run: FinishedRun): void {
    const hook = { namespace: run.namespace, hook: run.hook };
    this.runs.inc({ ...hook, event: run.event, phase: run.phase, reason: run.reason });
    if (run.durationSeconds !== undefined) this.runDuration.observe(hook, run.durationSeconds);
  }

  firingRefused(namespace: string, hook: string): void {
    this.refused.inc({ namespace, hook });
  }

  webhookAttempt(namespace: string, hook: string, statusClass: string, seconds: number): void {
    const labels = { namespace, hook, status_class: statusClass };
    this.deliveries.inc(labels);
    this.deliveryDuration.observe(labels, seconds);
  }

  /** Adds a count of unmatched certificate events, read at scrape time. */
  countUnmatched(read: () => number): void {
    this.unmatchedSources.push(read);
  }
}
