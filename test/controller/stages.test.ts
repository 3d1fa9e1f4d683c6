import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployHookRun, DeployHookRunStatus } from '../../src/api/deployhookrun.ts';
import type { FailurePolicy, RunEvent, Stage } from '../../src/api/enums.ts';
import { groupOf, planningOrder, stageGate } from '../../src/controller/stages.ts';
import { certificate, hook, run, secret } from './objects.ts';

const PLANNED = '2025-06-02T00:01:00.000Z';
const facts = certificate(['api.example.com']);
const api = secret('api', facts);

/** The run of hook `name` (in `stage`, with `policy` if given) for the api Secret's certificate. */
function staged(name: string, stage: Stage, status?: DeployHookRunStatus, policy?: FailurePolicy, event: RunEvent = 'renewed'): DeployHookRun {
  return run(hook({ stage, ...(policy ? { failurePolicy: policy } : {}) }, { name }), event, api, PLANNED, status);
}
const ok: DeployHookRunStatus = { phase: 'Succeeded', reason: 'Completed' };
const failed: DeployHookRunStatus = { phase: 'Failed', reason: 'ExitCode', exitCode: 1 };
const running: DeployHookRunStatus = { phase: 'Running' };

describe('stages', () => {
  test('planned runs record the stage and the failure policy, defaulted by stage', () => {
    assert.deepEqual([staged('a', 'pre'), staged('b', 'deploy'), staged('c', 'post'), staged('d', 'post', undefined, 'Fail')].map((r) => [r.spec.stage, r.spec.failurePolicy]), [['pre', 'Fail'], ['deploy', 'Fail'], ['post', 'Ignore'], ['post', 'Fail']]);
  });

  test('a group is one certificate version of one Secret and one event; a manual run has none', () => {
    const mine = staged('b', 'deploy');
    const other = run(hook({ stage: 'pre' }, { name: 'a' }), 'renewed', secret('api', certificate(['api.example.com'])), PLANNED);
    const recreated = run(hook({ stage: 'pre' }, { name: 'a' }), 'renewed', secret('api', facts, { uid: 'another-uid' }), PLANNED);
    const revoke = staged('a', 'pre', undefined, undefined, 'revoked');
    const pre = staged('a', 'pre');
    assert.deepEqual(groupOf(mine, [mine, other, recreated, revoke, pre]).map((r) => r.metadata.name), [pre.metadata.name]);
    assert.deepEqual(groupOf(staged('b', 'deploy', undefined, undefined, 'manual'), [pre]), []);
  });

  test('pre runs at once; deploy waits for every pre hook; post for every pre and deploy hook', () => {
    assert.deepEqual(stageGate(staged('a', 'pre'), [staged('b', 'deploy'), staged('c', 'post')]), { go: true });
    assert.deepEqual(stageGate(staged('b', 'deploy'), [staged('a1', 'pre', running), staged('a2', 'pre', ok), staged('a3', 'pre')]), { wait: ['a1', 'a3'] });
    assert.deepEqual(stageGate(staged('b', 'deploy'), [staged('a', 'pre', ok), staged('b2', 'deploy', running), staged('c', 'post')]), { go: true }, 'deploy hooks run side by side');
    assert.deepEqual(stageGate(staged('c', 'post'), [staged('a', 'pre', ok), staged('b', 'deploy', running)]), { wait: ['b'] });
    assert.deepEqual(stageGate(staged('c', 'post'), [staged('a', 'pre', ok), staged('b', 'deploy', ok), staged('c2', 'post', running)]), { go: true, group: { result: 'succeeded' } });
  });

  test('a failed pre hook with Fail skips the deploy hooks (at once), not the post hooks, which learn it', () => {
    assert.deepEqual(stageGate(staged('b', 'deploy'), [staged('a1', 'pre', failed), staged('a2', 'pre', running)]), { skip: ['a1'] });
    assert.deepEqual(stageGate(staged('b', 'deploy'), [staged('a', 'pre', { phase: 'Unknown', reason: 'JobNotFound' })]), { skip: ['a'] }, 'an unknown outcome is not a success');
    const skippedDeploy: DeployHookRunStatus = { phase: 'Skipped', reason: 'EarlierStageFailed' };
    assert.deepEqual(stageGate(staged('c', 'post'), [staged('a1', 'pre', failed), staged('a2', 'pre', ok), staged('b', 'deploy', skippedDeploy)]), { go: true, group: { result: 'failed', failedHooks: ['a1'] } });
  });

  test('an Ignore hook\'s failure stops nothing, but a post hook still learns of it', () => {
    assert.deepEqual(stageGate(staged('b', 'deploy'), [staged('a', 'pre', failed, 'Ignore')]), { go: true });
    assert.deepEqual(stageGate(staged('c', 'post'), [staged('a', 'pre', failed, 'Ignore'), staged('b', 'deploy', failed)]), { go: true, group: { result: 'failed', failedHooks: ['a', 'b'] } });
    assert.deepEqual(stageGate(staged('c', 'post'), [staged('b', 'deploy', ok), staged('c2', 'post', failed)]), { go: true, group: { result: 'succeeded' } }, 'a post hook\'s failure is not its group\'s');
  });

  test('firings are planned revokes first, then pre, deploy and post, keeping their order otherwise', () => {
    const f = (name: string, stage: Stage, event: string) => ({ event, hook: hook({ stage }, { name }), name });
    const order = planningOrder([f('post', 'post', 'created'), f('d1', 'deploy', 'created'), f('pre', 'pre', 'created'), f('d2', 'deploy', 'revoked'), f('d3', 'deploy', 'created'), f('pre2', 'pre', 'revoked')]);
    assert.deepEqual(order.map((x) => `${x.event}:${x.name}`), ['revoked:pre2', 'revoked:d2', 'created:pre', 'created:d1', 'created:d3', 'created:post']);
  });
});

describe('expiring', () => {
  test('the window is notAfter − expiringWithin; it fires once per certificate version, only for a hook that listens', async () => {
    const { durationMs, expiringFor, expiringFrom } = await import('../../src/controller/ledger.ts');
    assert.equal(durationMs('336h'), 336 * 3600_000);
    assert.equal(durationMs('1h30m5s'), 5405_000);
    const listening = hook({ onEvents: ['expiring'], expiringWithin: '720h' });
    const notAfter = Date.parse(facts.notAfter);
    assert.equal(expiringFrom(listening, facts), notAfter - 720 * 3600_000);
    assert.equal(expiringFor(listening, api, [], notAfter - 721 * 3600_000), undefined, 'before the window');
    const firing = expiringFor(listening, api, [], notAfter - 719 * 3600_000);
    assert.equal(firing?.event, 'expiring');
    const fired = run(listening, 'expiring', api, PLANNED);
    assert.equal(expiringFor(listening, api, [fired], notAfter - 1), undefined, 'once per certificate version');
    assert.equal(expiringFor(hook({ expiringWithin: '720h' }), api, [], notAfter - 1), undefined, 'not listening: by default hooks do not');
  });
});
