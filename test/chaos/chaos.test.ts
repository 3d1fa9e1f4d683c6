// A short chaos run inside the test suite: the same driver as `npm run chaos`, smaller, with job
// and webhook hooks side by side and staged (a pre hook that fails for some firings, a post job
// hook and a post webhook hook beside the deploy hooks); and the stage checker itself, on side
// effects made up to break each rule, so a run that finds no violation found none to find.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runChaos, type ChaosOptions } from '../../bench/chaos.ts';
import { checkStages, type SideEffect, type StagedHook } from '../../bench/chaos/stages.ts';

test('chaos: kills, faults and bursts lose nothing, duplicate nothing and keep stages in order, for job and webhook hooks', async () => {
  const opts: ChaosOptions = {
    secrets: 12, hooks: 2, webhooks: 2, webhookFailureRate: 0.2, renewals: 24, kills: 3, faults: 8, seed: 4242, quietPeriodSeconds: 0.5, leaseDurationSeconds: 3,
    preHooks: 1, postHooks: 1, postWebhooks: 1, preFailureRate: 0.15,
  };
  const report = await runChaos(opts);
  console.log(formatReport(report, opts));
  assert.equal(report.kills, 3);
  assert.equal(report.faults, 8);
  assert.equal(report.missing, 0, `missing: ${report.missingKeys.join('; ')}`);
  assert.equal(report.duplicated, 0, `duplicated: ${report.duplicatedKeys.join('; ')}`);
  assert.equal(report.executed, report.expected);

  // Stages: in every group, pre before deploy before post; post hooks told how their group went.
  const stages = report.stages;
  assert.equal(stages.violations, 0, `order violations: ${stages.violationDetails.join('; ')}`);
  assert.equal(stages.wrongResults, 0, `post results wrong: ${stages.wrongResultDetails.join('; ')}`);
  const groups = stages.expectedGroups;
  assert.ok(groups >= 12 + 12, 'created and revoked for every Secret, and the renewals');
  assert.ok(stages.failedGroups > 0 && stages.failedGroups < groups, 'the pre hook failed for some groups, not all');
  assert.equal(stages.skipped, 3 * stages.failedGroups, 'a failed pre hook skips its group\'s deploy firings (2 job, 1 webhook)');
  assert.equal(report.expected, 4 * groups - 2 * stages.failedGroups, 'per group: the pre, the post and, unless skipped, the 2 deploy job hooks');
  assert.equal(stages.resultsChecked, 2 * groups, 'each post hook (job and webhook) of every group was checked');
  assert.ok(stages.closest.deploy !== undefined && stages.closest.post !== undefined, 'the order was checked, not vacuous');

  // Webhooks, counted by webhook-id: a resend of one id (at-least-once) is not a duplicate.
  const webhooks = report.webhooks!;
  assert.equal(webhooks.missing, 0, `missing: ${webhooks.missingKeys.join('; ')}`);
  assert.equal(webhooks.duplicated, 0, `duplicated: ${webhooks.duplicatedKeys.join('; ')}`);
  assert.equal(webhooks.bad, 0, `malformed requests: ${webhooks.badReasons.join('; ')}`);
  assert.equal(webhooks.delivered, webhooks.expected);
  assert.equal(webhooks.expected, 2 * groups - stages.failedGroups, 'the deploy webhook, unless skipped, and the post webhook of every group');
  assert.ok(webhooks.failed > 0, 'the receiver answered some attempts 5xx, so retries ran');
});

describe('chaos: the stage checker', () => {
  const hooks: StagedHook[] = [
    { name: 'pre-0', stage: 'pre', failurePolicy: 'Fail' },
    { name: 'pre-1', stage: 'pre', failurePolicy: 'Ignore' },
    { name: 'hook-0', stage: 'deploy', failurePolicy: 'Fail' },
    { name: 'webhook-0', stage: 'deploy', failurePolicy: 'Fail' },
    { name: 'post-0', stage: 'post', failurePolicy: 'Ignore' },
  ];
  const G = 'tls-0 fp created';
  const effect = (hook: string, start: number, end: number | undefined, more: Partial<SideEffect> = {}): SideEffect =>
    ({ hook, group: G, start, end, ok: true, result: '', failedHooks: [], ...more });
  const succeeded = new Map([[G, { result: 'succeeded' as const, failedHooks: [] }]]);
  const inOrder = [
    effect('pre-0', 0, 100), effect('pre-1', 0, 150),
    effect('hook-0', 200, 300), effect('webhook-0', 160, 250),
    effect('post-0', 400, 410, { result: 'succeeded' }),
  ];

  test('side effects in order, the post hook told the right result: no violation; the closest gaps', () => {
    const check = checkStages(hooks, inOrder, succeeded);
    assert.deepEqual(check, {
      groups: 1, violations: 0, violationDetails: [], closest: { deploy: 10, post: 100 }, resultsChecked: 1, wrongResults: 0, wrongResultDetails: [],
      closestDetails: { deploy: 'webhook-0 for tls-0 fp created started 10 ms after pre-1 ended', post: 'post-0 for tls-0 fp created started 100 ms after hook-0 ended' },
    });
  });

  test('a deploy side effect before a pre hook ended, or with one that never ran; a post one before a deploy one ended', () => {
    const early = checkStages(hooks, inOrder.map((e) => (e.hook === 'webhook-0' ? { ...e, start: 120 } : e)), succeeded);
    assert.equal(early.violations, 1);
    assert.match(early.violationDetails[0]!, /^webhook-0 for tls-0 fp created started at 120: pre hook pre-1 ended 30 ms later$/);
    const noPre = checkStages(hooks, inOrder.filter((e) => e.hook !== 'pre-1'), succeeded);
    assert.equal(noPre.violations, 2, 'both deploy side effects');
    assert.match(noPre.violationDetails[0]!, /pre hook pre-1 never ran/);
    const post = checkStages(hooks, inOrder.map((e) => (e.hook === 'hook-0' ? { ...e, end: 450 } : e)), succeeded);
    assert.equal(post.violations, 1);
    assert.match(post.violationDetails[0]!, /^post-0 .*: deploy hook hook-0 ended 50 ms later$/);
    const unanswered = checkStages(hooks, inOrder.map((e) => (e.hook === 'webhook-0' ? { ...e, end: undefined, ok: false } : e)), succeeded);
    assert.match(unanswered.violationDetails.join(), /deploy hook webhook-0 never ended/);
  });

  test('a failed Fail pre hook: a deploy side effect is a violation; a failed Ignore one stops nothing', () => {
    const failedFail = inOrder.map((e) => (e.hook === 'pre-0' ? { ...e, ok: false } : e));
    const check = checkStages(hooks, failedFail, new Map([[G, { result: 'failed' as const, failedHooks: ['pre-0'] }]]));
    assert.equal(check.violations, 2);
    assert.match(check.violationDetails[0]!, /pre hook pre-0 \(Fail\) failed, so it should have been Skipped/);
    assert.equal(check.wrongResults, 1, 'told succeeded');
    assert.match(check.wrongResultDetails[0]!, /^post-0 for tls-0 fp created was told succeeded \[\], not failed \[pre-0\]$/);
    const skipped = failedFail.filter((e) => e.hook !== 'hook-0' && e.hook !== 'webhook-0')
      .map((e) => (e.hook === 'post-0' ? { ...e, result: 'failed', failedHooks: ['pre-0'] } : e));
    assert.equal(checkStages(hooks, skipped, new Map([[G, { result: 'failed' as const, failedHooks: ['pre-0'] }]])).violations, 0, 'Skipped deploy runs leave nothing to wait for');
    const ignored = inOrder.map((e) => (e.hook === 'pre-1' ? { ...e, ok: false } : e.hook === 'post-0' ? { ...e, result: 'failed', failedHooks: ['pre-1'] } : e));
    const checkIgnored = checkStages(hooks, ignored, new Map([[G, { result: 'failed' as const, failedHooks: ['pre-1'] }]]));
    assert.equal(checkIgnored.violations, 0);
    assert.equal(checkIgnored.wrongResults, 0);
  });
});
