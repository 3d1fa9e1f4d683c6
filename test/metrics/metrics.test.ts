// The metrics' own rules, without a cluster: a work queue's controller-runtime metrics, which
// change of a run counts it as finished, how a webhook attempt is classed, the endpoint, one
// registry per operator, and the README's table against what is registered.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { load } from 'js-yaml';
import pino from 'pino';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { finishedByChange, lastSuccessSeconds } from '../../src/controller/operator-metrics.ts';
import { WorkQueue } from '../../src/controller/work-queue.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import { serveMetrics } from '../../src/metrics/server.ts';
import { statusClass } from '../../src/runners/webhook/delivery.ts';
import { eventually } from '../support/eventually.ts';
import { parseExposition } from '../support/exposition.ts';

const quiet = pino({ level: 'silent' });
const scrape = async (metrics: Metrics) => parseExposition(await metrics.registry.metrics());

function run(phase: string | undefined, extra: Partial<NonNullable<DeployHookRun['status']>> = {}): DeployHookRun {
  return {
    apiVersion: 'certhook.io/v1alpha1',
    kind: 'DeployHookRun',
    metadata: { name: 'r', namespace: 'web' },
    spec: { hookRef: { name: 'reload' }, secretRef: { name: 'edge-tls' }, event: 'renewed' },
    ...(phase ? { status: { phase, ...extra } } : {}),
  } as DeployHookRun;
}

describe('metrics', () => {
  test('a work queue reports controller-runtime\'s metrics: results, errors, retries, and the work under way', async () => {
    const metrics = new Metrics();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let failedOnce = false;
    const queue = new WorkQueue('secrets', async (key) => {
      if (key === 'slow') await blocked;
      if (key === 'flaky' && !failedOnce) {
        failedOnce = true;
        throw new Error('conflict');
      }
      if (key === 'later') return { requeueAfterMs: 60_000 };
    }, quiet, 1, metrics.controller);
    queue.add('slow');
    queue.add('flaky');
    queue.add('flaky');
    queue.add('later');
    const labels = { name: 'secrets', controller: 'secrets' };

    // One worker, held by 'slow': the other two wait.
    let scraped = await scrape(metrics);
    assert.equal(scraped.sum('controller_runtime_max_concurrent_reconciles', { controller: 'secrets' }), 1);
    assert.equal(scraped.sum('controller_runtime_active_workers', { controller: 'secrets' }), 1);
    assert.equal(scraped.sum('workqueue_depth', labels), 2);
    assert.equal(scraped.sum('workqueue_adds_total', labels), 3, 'a key already waiting is not added again');
    await eventually(async () => assert.ok((await scrape(metrics)).sum('workqueue_longest_running_processor_seconds', labels) > 0));
    assert.ok((await scrape(metrics)).sum('workqueue_unfinished_work_seconds', labels) > 0);

    release();
    await eventually(async () => assert.equal((await scrape(metrics)).sum('controller_runtime_reconcile_total', { controller: 'secrets', result: 'success' }), 2), 5_000);
    scraped = await scrape(metrics);
    assert.equal(scraped.sum('controller_runtime_reconcile_total', { controller: 'secrets', result: 'error' }), 1);
    assert.equal(scraped.sum('controller_runtime_reconcile_total', { controller: 'secrets', result: 'requeue_after' }), 1);
    assert.equal(scraped.sum('controller_runtime_reconcile_total', { controller: 'secrets', result: 'requeue' }), 0);
    assert.equal(scraped.sum('controller_runtime_reconcile_errors_total', { controller: 'secrets' }), 1);
    assert.equal(scraped.sum('workqueue_retries_total', labels), 1);
    assert.equal(scraped.sum('workqueue_adds_total', labels), 4, 'the retry added the failed key again');
    assert.equal(scraped.sum('controller_runtime_reconcile_time_seconds_count', { controller: 'secrets' }), 4);
    assert.equal(scraped.sum('workqueue_work_duration_seconds_count', labels), 4);
    assert.equal(scraped.sum('workqueue_queue_duration_seconds_count', labels), 4);
    assert.equal(scraped.sum('controller_runtime_active_workers', { controller: 'secrets' }), 0);
    assert.equal(scraped.sum('workqueue_longest_running_processor_seconds', labels), 0);
    queue.stop();
  });

  test('a run is counted by the change that brings its final phase, and by no other', () => {
    const finished = run('Failed', { reason: 'ExitCode', durationSeconds: 4.2 });
    assert.deepEqual(finishedByChange({ previous: run('Running'), current: finished }), { namespace: 'web', hook: 'reload', event: 'renewed', phase: 'Failed', reason: 'ExitCode', durationSeconds: 4.2 });
    assert.ok(finishedByChange({ previous: run(undefined), current: run('Skipped', { reason: 'HooksDisabled' }) }), 'a run skipped before it started');
    assert.equal(finishedByChange({ previous: finished, current: finished }), undefined, 'a later write to a finished run');
    assert.equal(finishedByChange({ previous: undefined, current: finished }), undefined, 'first seen finished: a list after a restart');
    assert.equal(finishedByChange({ previous: run('Waiting'), current: run('Running') }), undefined);
    assert.equal(finishedByChange({ previous: finished, current: undefined }), undefined, 'deleted');
  });

  test('the last success is the latest completion of a Succeeded run', () => {
    assert.equal(lastSuccessSeconds([run('Failed', { completionTime: '2027-01-03T00:00:00Z' }), run('Running')]), undefined);
    assert.equal(lastSuccessSeconds([
      run('Succeeded', { completionTime: '2027-01-01T00:00:00Z' }),
      run('Succeeded', { completionTime: '2027-01-02T00:00:00Z' }),
      run('Failed', { completionTime: '2027-01-03T00:00:00Z' }),
    ]), Date.parse('2027-01-02T00:00:00Z') / 1000);
  });

  test('a webhook attempt is classed by its answer\'s status class, else as a timeout or an error', () => {
    assert.equal(statusClass({ statusCode: 204 }), '2xx');
    assert.equal(statusClass({ statusCode: 308, errorClass: 'http_status' }), '3xx');
    assert.equal(statusClass({ statusCode: 404, errorClass: 'http_status' }), '4xx');
    assert.equal(statusClass({ statusCode: 503, errorClass: 'http_status' }), '5xx');
    assert.equal(statusClass({ errorClass: 'timeout' }), 'timeout');
    assert.equal(statusClass({ errorClass: 'connection' }), 'error');
    assert.equal(statusClass({ errorClass: 'network_policy' }), 'error');
  });

  test('each operator has a registry of its own', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.certhook.runFinished({ namespace: 'web', hook: 'reload', event: 'created', phase: 'Succeeded', reason: 'Completed', durationSeconds: 1 });
    assert.equal((await scrape(a)).sum('certhook_runs_total'), 1);
    assert.equal((await scrape(b)).sum('certhook_runs_total'), 0);
    assert.doesNotMatch(await b.registry.metrics(), /^process_/m, 'process metrics only when asked for');
  });

  test('the endpoint answers GET /metrics and nothing else', async () => {
    const metrics = new Metrics();
    const server = await serveMetrics(0, metrics.registry, quiet);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^# TYPE certhook_runs_total counter$/m);
      assert.equal((await fetch(`${base}/metrics?x=1`)).status, 200);
      assert.equal((await fetch(`${base}/`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
    } finally {
      server.close();
    }
  });

  test('the README lists every metric with its type and labels, and its example alerts name real metrics', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Metrics\n'), readme.indexOf('\n## Command line\n'));
    const documented = new Map<string, { type: string; labels: string[] }>();
    for (const [, name, type, labels] of section.matchAll(/^\| `([a-z_]+)` \| (\w+) \| ([^|]*) \|/gm)) {
      documented.set(name!, { type: type!, labels: [...labels!.matchAll(/`(\w+)`/g)].map((m) => m[1]!).sort() });
    }
    const { registry } = new Metrics();
    const registered = new Map<string, { type: string; labels: string[] }>();
    for (const { name, type } of await registry.getMetricsAsJSON()) {
      const { labelNames } = registry.getSingleMetric(name) as unknown as { labelNames: string[] };
      registered.set(name, { type: String(type), labels: [...labelNames].sort() });
    }
    assert.deepEqual([...documented.keys()].sort(), [...registered.keys()].sort());
    for (const [name, metric] of registered) assert.deepEqual(documented.get(name), metric, name);
    const rule = load(section.slice(section.indexOf('```yaml') + 7, section.indexOf('```', section.indexOf('```yaml') + 7))) as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };
    const rules = rule.spec.groups[0]!.rules;
    assert.deepEqual(rules.map((r) => r.alert), ['CerthookRunFailed', 'CerthookCertificateExpiringSoon', 'CerthookHookNotReady']);
    for (const r of rules) for (const [name] of r.expr.matchAll(/certhook_[a-z_]+/g)) assert.ok(registered.has(name), `${r.alert} names ${name}`);
  });
});
