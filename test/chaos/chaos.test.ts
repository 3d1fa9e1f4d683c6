// A short chaos run inside the test suite: the same driver as `npm run chaos`, smaller, with job
// and webhook hooks side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runChaos, type ChaosOptions } from '../../bench/chaos.ts';

test('chaos: kills, faults and bursts lose nothing and duplicate nothing, for job and webhook hooks', async () => {
  const opts: ChaosOptions = {
    secrets: 12, hooks: 2, webhooks: 2, webhookFailureRate: 0.2, renewals: 24, kills: 3, faults: 8, seed: 4242, quietPeriodSeconds: 0.5, leaseDurationSeconds: 3,
  };
  const report = await runChaos(opts);
  console.log(formatReport(report, opts));
  assert.equal(report.kills, 3);
  assert.equal(report.faults, 8);
  assert.equal(report.missing, 0, `missing: ${report.missingKeys.join('; ')}`);
  assert.equal(report.duplicated, 0, `duplicated: ${report.duplicatedKeys.join('; ')}`);
  assert.equal(report.executed, report.expected);
  assert.ok(report.expected >= 2 * (12 + 12), 'created and revoked for every Secret and hook, and the renewals');

  // Webhooks, counted by webhook-id: a resend of one id (at-least-once) is not a duplicate.
  const webhooks = report.webhooks!;
  assert.equal(webhooks.missing, 0, `missing: ${webhooks.missingKeys.join('; ')}`);
  assert.equal(webhooks.duplicated, 0, `duplicated: ${webhooks.duplicatedKeys.join('; ')}`);
  assert.equal(webhooks.bad, 0, `malformed requests: ${webhooks.badReasons.join('; ')}`);
  assert.equal(webhooks.delivered, webhooks.expected);
  assert.equal(webhooks.expected, report.expected, 'the webhook hooks fire when the job hooks do');
  assert.ok(webhooks.failed > 0, 'the receiver answered some attempts 5xx, so retries ran');
});
