// Stages end to end: the hooks one certificate version fires run pre, then deploy, then post,
// as the hooks' own timestamps show (real processes through the sandbox's kubelet); failure
// policies; what post hooks learn; Waiting; a newer certificate superseding a waiting group; and
// an operator restarted mid-group.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, issue, listRuns, outputDir, renewTlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { startReceiver } from '../support/receiver.ts';

const env = useSandboxForOperators('st');

/** A command that records when it started and ended (ms), and its stage environment, then does `work`. */
const recorded = (out: string, work = 'true') =>
  `echo "start $(date +%s%3N)" >> "${out}/$CERTMATE_HOOK_NAME"; ${work}; rc=$?; ` +
  `echo "end $(date +%s%3N) result=$CERTMATE_RESULT failed=$CERTMATE_FAILED_HOOKS event=$CERTMATE_EVENT" >> "${out}/$CERTMATE_HOOK_NAME"; exit $rc`;

interface Trace {
  starts: number[];
  ends: number[];
  lines: string[];
}
async function trace(out: string, hook: string): Promise<Trace> {
  const lines = (await readFile(join(out, hook), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  const times = (kind: string) => lines.filter((l) => l.startsWith(kind)).map((l) => Number(l.split(' ')[1]));
  return { starts: times('start'), ends: times('end'), lines };
}
const byHook = (runs: DeployHookRun[]) => Object.fromEntries(runs.map((r) => [r.spec.hookRef.name, r]));

describe('stages', () => {
  test('pre hooks run first, then the deploy hooks side by side, then post, which learns the result; a waiting run shows Waiting', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'check', { stage: 'pre', job: { command: recorded(out, 'sleep 1.5') } });
    // Long enough that the two deploy hooks overlap however slowly a loaded machine starts them.
    await createHook(env.custom, ns, 'reload', { job: { command: recorded(out, 'sleep 1.5') } });
    await createHook(env.custom, ns, 'sync', { stage: 'deploy', job: { command: recorded(out, 'sleep 1.5') } });
    await createHook(env.custom, ns, 'notify', { stage: 'post', job: { command: recorded(out) } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    await eventually(async () => {
      const runs = byHook(await listRuns(env.custom, ns));
      assert.equal(runs.reload?.status?.phase, 'Waiting');
      assert.equal(runs.reload?.status?.reason, 'WaitingForStage');
      assert.equal(runs.reload?.status?.message, 'waiting for check of an earlier stage to finish');
      assert.equal(runs.notify?.status?.phase, 'Waiting');
    });
    const runs = byHook(await finishedRuns(env.custom, ns, 4));
    for (const run of Object.values(runs)) assert.equal(run.status?.phase, 'Succeeded', `${run.spec.hookRef.name}: ${run.status?.message}`);
    assert.equal(runs.reload!.status?.reason, 'Completed', 'Waiting\'s reason does not outlive it');
    assert.equal(runs.reload!.status?.message, 'the hook exited 0');
    const [check, reload, sync, notify] = await Promise.all(['check', 'reload', 'sync', 'notify'].map((h) => trace(out, h)));
    for (const [name, tr] of Object.entries({ check, reload, sync, notify })) assert.equal(tr!.starts.length, 1, `${name} ran once`);
    assert.ok(reload!.starts[0]! >= check!.ends[0]!, 'reload started after check ended');
    assert.ok(sync!.starts[0]! >= check!.ends[0]!, 'sync started after check ended');
    assert.ok(reload!.starts[0]! < sync!.ends[0]! && sync!.starts[0]! < reload!.ends[0]!, 'the deploy hooks overlapped');
    assert.ok(notify!.starts[0]! >= Math.max(reload!.ends[0]!, sync!.ends[0]!), 'notify started after both deploy hooks ended');
    assert.match(notify!.lines.at(-1)!, / result=succeeded failed= event=created$/);
    assert.match(reload!.lines.at(-1)!, / result= failed= /, 'only post hooks learn the result');
    assert.deepEqual(runs.notify!.status?.group, { result: 'succeeded' });
  });

  test('a failed pre hook (Fail) skips the deploy hooks, naming it; post still runs and learns what failed', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'precheck', { stage: 'pre', job: { command: recorded(out, 'exit 3') } });
    await createHook(env.custom, ns, 'lint', { stage: 'pre', failurePolicy: 'Ignore', job: { command: recorded(out, 'exit 1') } });
    await createHook(env.custom, ns, 'reload', { job: { command: recorded(out) } });
    await createHook(env.custom, ns, 'page', { stage: 'post', job: { command: recorded(out) } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const runs = byHook(await finishedRuns(env.custom, ns, 4));
    assert.equal(runs.precheck!.status?.phase, 'Failed');
    assert.equal(runs.lint!.status?.phase, 'Failed');
    assert.equal(runs.reload!.status?.phase, 'Skipped');
    assert.equal(runs.reload!.status?.reason, 'EarlierStageFailed');
    assert.equal(runs.reload!.status?.message, 'an earlier stage failed: precheck (failurePolicy Fail)', 'the Ignore hook stops nothing');
    assert.equal((await trace(out, 'reload')).starts.length, 0, 'the deploy hook never ran');
    assert.equal(runs.page!.status?.phase, 'Succeeded');
    assert.match((await trace(out, 'page')).lines.at(-1)!, / result=failed failed=lint,precheck /);
  });

  test('an Ignore pre hook\'s failure stops nothing; a failed deploy hook does not stop post', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'warm', { stage: 'pre', failurePolicy: 'Ignore', job: { command: recorded(out, 'exit 1') } });
    await createHook(env.custom, ns, 'reload', { job: { command: recorded(out, 'exit 2') } });
    await createHook(env.custom, ns, 'cleanup', { stage: 'post', job: { command: recorded(out) } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const runs = byHook(await finishedRuns(env.custom, ns, 3));
    assert.equal(runs.reload!.status?.phase, 'Failed', 'the deploy hook ran');
    assert.equal(runs.reload!.status?.exitCode, 2);
    assert.equal(runs.cleanup!.status?.phase, 'Succeeded');
    assert.match((await trace(out, 'cleanup')).lines.at(-1)!, / result=failed failed=reload,warm /);
  });

  test('a newer certificate supersedes a group waiting for its pre hook; the new group runs in order', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'drain', { stage: 'pre', onEvents: ['renewed'], job: { command: recorded(out, 'sleep 1.5') } });
    await createHook(env.custom, ns, 'reload', { onEvents: ['renewed'], job: { command: recorded(out) } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    await renewTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    await eventually(async () => assert.equal(byHook(await listRuns(env.custom, ns)).reload?.status?.phase, 'Waiting'));
    await renewTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const runs = await finishedRuns(env.custom, ns, 4, 60_000);
    const reloads = runs.filter((r) => r.spec.hookRef.name === 'reload');
    assert.deepEqual(reloads.map((r) => `${r.status?.phase}/${r.status?.reason}`).sort(), ['Skipped/Superseded', 'Succeeded/Completed']);
    const reload = await trace(out, 'reload');
    assert.equal(reload.starts.length, 1, 'only the newest certificate was deployed');
    const drain = await trace(out, 'drain');
    assert.ok(reload.starts[0]! >= Math.max(...drain.ends), 'after the newest group\'s pre hook ended');
  });

  test('an operator stopped mid-group: the next one neither reruns the pre hook nor loses the deploy hook', async (t) => {
    const first = await env.operatorFor(t, {});
    const ns = await env.namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'backup', { stage: 'pre', job: { command: recorded(out, 'sleep 2') } });
    await createHook(env.custom, ns, 'reload', { job: { command: recorded(out) } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    await eventually(async () => {
      const runs = byHook(await listRuns(env.custom, ns));
      assert.equal(runs.backup?.status?.phase, 'Running');
      assert.equal(runs.reload?.status?.phase, 'Waiting');
    });
    await first.stop();
    await env.operatorFor(t, {});
    const runs = byHook(await finishedRuns(env.custom, ns, 2));
    assert.equal(runs.reload!.status?.phase, 'Succeeded');
    const [backup, reload] = await Promise.all([trace(out, 'backup'), trace(out, 'reload')]);
    assert.equal(backup.starts.length, 1, 'the pre hook ran once');
    assert.equal(reload.starts.length, 1, 'the deploy hook ran once');
    assert.ok(reload.starts[0]! >= backup.ends[0]!);
  });

  test('a post webhook gets result and failed_hooks in its payload', async (t) => {
    await env.operatorFor(t, {});
    const ns = await env.namespace();
    const r = await startReceiver();
    t.after(() => r.close());
    await createHook(env.custom, ns, 'verify', { stage: 'pre', failurePolicy: 'Ignore', job: { command: 'exit 1' } });
    await createHook(env.custom, ns, 'reload', { job: { command: 'true' } });
    await createHook(env.custom, ns, 'report', { stage: 'post', webhook: { url: `${r.url}/report`, body: { outcome: '{{ .Result }}', failed: '{{ .FailedHooks }}' } } });
    await createHook(env.custom, ns, 'audit', { stage: 'post', webhook: { url: `${r.url}/audit` } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    await finishedRuns(env.custom, ns, 4);
    const bodies = Object.fromEntries(r.posts.map((p) => [p.path, JSON.parse(p.body)]));
    assert.deepEqual(bodies['/report'], { outcome: 'failed', failed: ['verify'] });
    assert.equal(bodies['/audit'].result, 'failed');
    assert.deepEqual(bodies['/audit'].failed_hooks, ['verify']);
  });
});
