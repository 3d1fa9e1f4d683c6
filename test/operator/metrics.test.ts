// /metrics after a whole scenario — certificates created, renewed, revoked, a hook that fails, a
// webhook retried, an unmatched certificate, an invalid hook — scraped over HTTP as Prometheus
// does: every metric there with its type, and the values the scenario implies; none counted
// again by a re-list, a dropped watch or a restart.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import pino from 'pino';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { LeaderElector } from '../../src/kube/leader-election.ts';
import { objectPath, RESOURCES } from '../../src/kube/paths.ts';
import { serveMetrics } from '../../src/metrics/server.ts';
import type { TestOperator } from '../support/operator.ts';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, issue, renewTlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { parseExposition, type Exposition } from '../support/exposition.ts';
import { startReceiver } from '../support/receiver.ts';

const env = useSandboxForOperators('metrics');
const quiet = pino({ level: 'silent' });

const TYPES: Record<string, string> = {
  controller_runtime_reconcile_total: 'counter',
  controller_runtime_reconcile_errors_total: 'counter',
  controller_runtime_reconcile_time_seconds: 'histogram',
  controller_runtime_max_concurrent_reconciles: 'gauge',
  controller_runtime_active_workers: 'gauge',
  workqueue_depth: 'gauge',
  workqueue_adds_total: 'counter',
  workqueue_queue_duration_seconds: 'histogram',
  workqueue_work_duration_seconds: 'histogram',
  workqueue_retries_total: 'counter',
  workqueue_unfinished_work_seconds: 'gauge',
  workqueue_longest_running_processor_seconds: 'gauge',
  rest_client_requests_total: 'counter',
  rest_client_request_duration_seconds: 'histogram',
  leader_election_master_status: 'gauge',
  certhook_runs_total: 'counter',
  certhook_run_duration_seconds: 'histogram',
  certhook_hook_last_success_timestamp_seconds: 'gauge',
  certhook_hook_ready: 'gauge',
  certhook_certificate_not_after_timestamp_seconds: 'gauge',
  certhook_unmatched_certificate_events_total: 'counter',
  certhook_firings_refused_total: 'counter',
  certhook_webhook_delivery_attempts_total: 'counter',
  certhook_webhook_delivery_duration_seconds: 'histogram',
  certhook_watch_restarts_total: 'counter',
  certhook_watch_relists_total: 'counter',
  certhook_cache_objects: 'gauge',
};

/** Serves the operator's registry on a loopback port, as the CLI does, and scrapes it. */
async function scraper(t: { after(fn: () => unknown): void }, op: TestOperator): Promise<() => Promise<Exposition>> {
  const server = await serveMetrics(0, op.operator.metrics.registry, quiet);
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return async () => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    return parseExposition(await res.text());
  };
}

/** certhook_runs_total as the runs in the API imply it: one per finished run, by its labels. */
function expectedRunCounts(runs: DeployHookRun[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs) {
    const key = [run.spec.hookRef.name, run.spec.event, run.status!.phase, run.status!.reason].join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function countedRuns(scraped: Exposition, namespace: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of scraped.find('certhook_runs_total', { namespace })) counts.set([s.labels.hook, s.labels.event, s.labels.phase, s.labels.reason].join(' '), s.value);
  return counts;
}

const notAfterSeconds = (pem: string) => Date.parse(new X509Certificate(pem).validTo) / 1000;

describe('metrics', () => {
  test('a created, renewed, revoked and failed scenario, scraped: names, types and values', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns });
    const scrape = await scraper(t, op);
    // The webhook's first delivery is answered 503 (retried at once, as Retry-After: 0 says), the second 200.
    const receiver = await startReceiver({ script: (_req, n) => (n === 1 ? { status: 503, headers: { 'retry-after': '0' } } : { status: 200 }) });
    t.after(() => receiver.close());

    await createHook(env.custom, ns, 'deploy', { secretSelector: { matchLabels: { app: 'good' } }, job: { command: 'echo deployed' } });
    await createHook(env.custom, ns, 'notify', { onEvents: ['renewed'], secretSelector: { matchLabels: { app: 'good' } }, webhook: { url: `${receiver.url}/certs`, retries: 2 } });
    await createHook(env.custom, ns, 'failing', { onEvents: ['created'], secretSelector: { matchLabels: { app: 'bad' } }, job: { command: 'echo broken; exit 3' } });
    // Valid for the API server, refused by the operator (a pod label key Kubernetes would refuse): never Ready.
    // The API takes it; the operator finds its body template unusable.
    await createHook(env.custom, ns, 'invalid', { secretSelector: { matchLabels: { app: 'never' } }, webhook: { url: 'http://127.0.0.1:9/never', body: { '{{ .Domain }}': 'x' } } });

    const good = issue('good.example.com');
    const bad = issue('bad.example.com');
    const orphan = issue('orphan.example.com');
    await createTlsSecret(env.core, ns, 'good', good, { app: 'good' });
    await createTlsSecret(env.core, ns, 'bad', bad, { app: 'bad' });
    await finishedRuns(env.custom, ns, 2);
    await createTlsSecret(env.core, ns, 'orphan', orphan, { app: 'none' });
    await eventually(() => assert.equal(op.operator.context.counters.unmatchedCertificateEvents, 1));
    await renewTlsSecret(env.core, ns, 'good', issue('good.example.com'));
    await finishedRuns(env.custom, ns, 4);
    await env.core.deleteNamespacedSecret({ namespace: ns, name: 'good' });
    const runs = await finishedRuns(env.custom, ns, 5);
    await op.operator.idle();

    // The runs the scenario implies, by hook, event, phase and reason.
    assert.deepEqual(new Set(runs.map((r) => `${r.spec.hookRef.name} ${r.spec.event} ${r.status?.phase}`)), new Set([
      'deploy created Succeeded', 'deploy renewed Succeeded', 'deploy revoked Succeeded', 'failing created Failed', 'notify renewed Succeeded',
    ]));
    const expected = expectedRunCounts(runs);
    let scraped = await eventually(async () => {
      const s = await scrape();
      assert.deepEqual(countedRuns(s, ns), expected);
      return s;
    });

    // Every metric, with its type.
    for (const [name, type] of Object.entries(TYPES)) assert.equal(scraped.types.get(name), type, `# TYPE ${name}`);

    // Run durations: every finished run that ran has one, per hook.
    assert.equal(scraped.sum('certhook_run_duration_seconds_count', { namespace: ns, hook: 'deploy' }), 3);
    assert.equal(scraped.sum('certhook_run_duration_seconds_count', { namespace: ns, hook: 'failing' }), 1);
    assert.equal(scraped.sum('certhook_run_duration_seconds_count', { namespace: ns, hook: 'notify' }), 1);

    // Hooks: ready but the invalid one; the last success of each hook that succeeded, as its runs say.
    assert.deepEqual(Object.fromEntries(scraped.find('certhook_hook_ready', { namespace: ns }).map((s) => [s.labels.hook, s.value])), { deploy: 1, notify: 1, failing: 1, invalid: 0 });
    const lastSuccess = (hook: string) => Math.max(...runs.filter((r) => r.spec.hookRef.name === hook && r.status?.phase === 'Succeeded').map((r) => Date.parse(r.status!.completionTime!) / 1000));
    assert.deepEqual(Object.fromEntries(scraped.find('certhook_hook_last_success_timestamp_seconds', { namespace: ns }).map((s) => [s.labels.hook, s.value])), { deploy: lastSuccess('deploy'), notify: lastSuccess('notify') });

    // Certificates: the notAfter of each TLS Secret there is; the revoked one's series is gone.
    assert.deepEqual(Object.fromEntries(scraped.find('certhook_certificate_not_after_timestamp_seconds', { namespace: ns }).map((s) => [s.labels.secret, s.value])), { bad: notAfterSeconds(bad.certPem), orphan: notAfterSeconds(orphan.certPem) });
    assert.equal(scraped.sum('certhook_unmatched_certificate_events_total'), 1);

    // The webhook: a 5xx, then a 2xx.
    assert.equal(scraped.sum('certhook_webhook_delivery_attempts_total', { namespace: ns, hook: 'notify', status_class: '5xx' }), 1);
    assert.equal(scraped.sum('certhook_webhook_delivery_attempts_total', { namespace: ns, hook: 'notify', status_class: '2xx' }), 1);
    assert.equal(scraped.sum('certhook_webhook_delivery_duration_seconds_count', { namespace: ns, hook: 'notify' }), 2);

    // The controllers and their queues, under controller-runtime's names and labels.
    for (const controller of ['secrets', 'runs', 'hooks', 'retention']) {
      assert.ok(scraped.sum('controller_runtime_reconcile_total', { controller, result: 'success' }) > 0, `${controller} reconciled`);
      assert.equal(scraped.find('controller_runtime_reconcile_errors_total', { controller }).length, 1);
      assert.ok(scraped.sum('controller_runtime_reconcile_time_seconds_count', { controller }) > 0);
      assert.ok(scraped.sum('workqueue_adds_total', { name: controller, controller }) > 0);
      assert.ok(scraped.sum('workqueue_work_duration_seconds_count', { name: controller, controller }) > 0);
      assert.ok(scraped.sum('workqueue_queue_duration_seconds_count', { name: controller, controller }) > 0);
      assert.equal(scraped.sum('workqueue_depth', { name: controller, controller }), 0, 'idle');
      assert.equal(scraped.sum('controller_runtime_active_workers', { controller }), 0, 'idle');
      assert.equal(scraped.sum('workqueue_unfinished_work_seconds', { name: controller, controller }), 0, 'idle');
    }
    assert.equal(scraped.sum('controller_runtime_max_concurrent_reconciles', { controller: 'runs' }), 16);

    // The API client: requests by code, method and the API server's host; the created objects answered 201.
    const host = new URL(env.sandbox.url).host;
    assert.ok(scraped.sum('rest_client_requests_total', { code: '200', method: 'GET', host }) > 0);
    assert.ok(scraped.sum('rest_client_requests_total', { code: '201', method: 'POST', host }) >= 6, 'runs, snapshots and Jobs created');
    assert.ok(scraped.sum('rest_client_request_duration_seconds_count', { verb: 'PATCH', host }) > 0);

    // The caches, as big as they are.
    const caches = op.operator.context.caches;
    assert.equal(scraped.sum('certhook_cache_objects', { resource: 'secrets' }), caches.secrets.cache.size);
    assert.equal(scraped.sum('certhook_cache_objects', { resource: 'deployhooks' }), 4);
    assert.equal(scraped.sum('certhook_cache_objects', { resource: 'deployhookruns' }), 5);
    assert.equal(scraped.sum('certhook_cache_objects', { resource: 'jobs' }), 4);

    // Nothing unbounded in a label: no URL, no domain.
    for (const sample of scraped.samples) {
      for (const [label, value] of Object.entries(sample.labels)) {
        assert.doesNotMatch(value, /:\/\/|[a-z][a-z0-9-]*\.[a-z][a-z0-9.-]*/i, `${sample.name}{${label}="${value}"}`);
      }
    }

    // A finished run changed again (annotated), a re-list and dropped watches count no run again;
    // the re-list and the restarted watches are counted as such.
    const annotated = runs[0]!.metadata.name!;
    const patched = await op.client.patch<DeployHookRun>(objectPath(RESOURCES.deployHookRuns, ns, annotated), 'merge', { metadata: { annotations: { 'example.com/audited': 'yes' } } });
    await eventually(() => assert.equal(caches.runs.cache.get(`${ns}/${annotated}`)?.metadata.resourceVersion, patched.metadata.resourceVersion));
    await caches.runs.resync();
    const restartsBefore = scraped.sum('certhook_watch_restarts_total', { resource: 'secrets' });
    assert.ok(env.sandbox.faults.dropWatches() > 0);
    scraped = await eventually(async () => {
      const s = await scrape();
      assert.ok(s.sum('certhook_watch_relists_total', { resource: 'deployhookruns' }) >= 1);
      assert.ok(s.sum('certhook_watch_restarts_total', { resource: 'secrets' }) > restartsBefore);
      return s;
    });
    await op.operator.idle();
    assert.deepEqual(countedRuns(await scrape(), ns), expected);
  });

  test('a restarted operator counts no run that finished before it, and reads the gauges from its caches', async (t) => {
    const ns = await env.namespace();
    const first = await env.operatorFor(t, { namespace: ns });
    await createHook(env.custom, ns, 'deploy', { job: { command: 'true' } });
    const cert = issue('restart.example.com');
    await createTlsSecret(env.core, ns, 'web', cert);
    const [run] = await finishedRuns(env.custom, ns, 1);
    await eventually(async () => assert.equal(parseExposition(await first.operator.metrics.registry.metrics()).sum('certhook_runs_total', { namespace: ns, hook: 'deploy', event: 'created', phase: 'Succeeded' }), 1));
    await first.stop();

    const second = await env.operatorFor(t, { namespace: ns });
    await second.operator.idle();
    const scraped = await (await scraper(t, second))();
    assert.deepEqual(scraped.find('certhook_runs_total', { namespace: ns }), [], 'finished before this operator ran');
    assert.equal(scraped.find('certhook_run_duration_seconds_count', { namespace: ns }).length, 0);
    assert.equal(scraped.sum('certhook_hook_last_success_timestamp_seconds', { namespace: ns, hook: 'deploy' }), Date.parse(run!.status!.completionTime!) / 1000);
    assert.equal(scraped.sum('certhook_certificate_not_after_timestamp_seconds', { namespace: ns, secret: 'web' }), notAfterSeconds(cert.certPem));
    assert.equal(scraped.sum('certhook_hook_ready', { namespace: ns, hook: 'deploy' }), 1);
  });

  test('a replica that does not act queues nothing while its caches fill; acting queues every cached run once', async (t) => {
    const ns = await env.namespace();
    const first = await env.operatorFor(t, { namespace: ns });
    await createHook(env.custom, ns, 'deploy', { job: { command: 'true' } });
    for (let i = 0; i < 3; i++) await createTlsSecret(env.core, ns, `web-${i}`, issue(`web-${i}.example.com`));
    await finishedRuns(env.custom, ns, 3);
    await first.stop();

    const standby = await env.operatorFor(t, { namespace: ns, activateOnSync: false });
    const adds = async () => parseExposition(await standby.operator.metrics.registry.metrics()).sum('workqueue_adds_total', {});
    assert.equal(standby.operator.context.caches.runs.cache.size, 3);
    assert.equal(await adds(), 0, 'keys queued before acting');
    await standby.operator.activate();
    await standby.operator.idle();
    const runsAdded = parseExposition(await standby.operator.metrics.registry.metrics()).sum('workqueue_adds_total', { name: 'runs' });
    assert.ok(runsAdded >= 3, `runs queued once acting: ${runsAdded}`);
  });

  test('leader_election_master_status is 1 while this replica holds the Lease, 0 once it has released it', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns, activateOnSync: false });
    const elector = new LeaderElector({
      client: op.client,
      log: quiet,
      namespace: ns,
      name: 'certhook-leader',
      identity: 'metrics-test',
      metrics: op.operator.metrics.kube,
      leaseDurationSeconds: 4,
      renewDeadlineSeconds: 3,
      retryPeriodSeconds: 0.5,
      onStartedLeading: () => void op.operator.activate(),
      onStoppedLeading: () => op.operator.deactivate(),
    });
    const scrape = await scraper(t, op);
    const status = async () => (await scrape()).find('leader_election_master_status', { name: 'certhook-leader' }).map((s) => s.value);
    assert.deepEqual(await status(), [0]);
    elector.start();
    try {
      await eventually(async () => assert.deepEqual(await status(), [1]));
    } finally {
      await elector.stop({ release: true });
    }
    assert.deepEqual(await status(), [0]);
  });
});
