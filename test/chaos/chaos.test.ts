// A short chaos run inside the test suite: the same driver as `npm run chaos`, smaller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runChaos, type ChaosOptions } from '../../bench/chaos.ts';

test('chaos: kills, faults and bursts lose nothing and duplicate nothing', async () => {
  const opts: ChaosOptions = { secrets: 12, hooks: 2, renewals: 24, kills: 3, faults: 8, seed: 4242, quietPeriodSeconds: 0.5, leaseDurationSeconds: 3 };
  const report = await runChaos(opts);
  console.log(formatReport(report, opts));
  assert.equal(report.kills, 3);
  assert.equal(report.faults, 8);
  assert.equal(report.missing, 0, `missing: ${report.missingKeys.join('; ')}`);
  assert.equal(report.duplicated, 0, `duplicated: ${report.duplicatedKeys.join('; ')}`);
  assert.equal(report.executed, report.expected);
  assert.ok(report.expected >= 2 * (12 + 12) , 'created and revoked for every Secret and hook, and the renewals');
});
