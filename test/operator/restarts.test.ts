// Exactly once across operator restarts: the DeployHookRuns are the ledger, so a restart fires
// nothing that already fired, and what changed while no operator ran fires once on return.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, HOOKS, issue, listRuns, outputDir, renewTlsSecret, RUNS } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import type { DeployHook } from '../../src/api/deployhook.ts';
import { planRun } from '../../src/controller/plan.ts';

const env = useSandboxForOperators('r');

/** A fresh operator over what `ns` holds plans nothing, and the namespace keeps `count` runs. */
async function restartPlansNothing(t: TestContext, ns: string, count: number): Promise<void> {
  const op = await env.operatorFor(t, { namespace: ns });
  await op.operator.idle();
  assert.equal(op.planned(), 0);
  assert.equal((await listRuns(env.custom, ns)).length, count);
  await op.stop();
}

const events = (runs: DeployHookRun[]) => runs.map((r) => `${r.spec.hookRef.name}/${r.spec.secretRef.name}/${r.spec.event}`).sort();

describe('restarts', () => {
  test('restarting with nothing changed creates zero runs (50 Secrets, 3 hooks)', async (t) => {
    const ns = await env.namespace();
    const first = await env.operatorFor(t, { namespace: ns });
    for (const hook of ['a', 'b', 'c']) await createHook(env.custom, ns, hook, { job: { command: 'true' } });
    for (let i = 0; i < 50; i++) await createTlsSecret(env.core, ns, `s${i}`, issue(`s${i}.example.com`));
    await finishedRuns(env.custom, ns, 150, 120_000);
    await first.stop();
    await restartPlansNothing(t, ns, 150);
  });

  test('Secrets created, renewed and deleted while the operator is stopped each fire once when it returns', async (t) => {
    const ns = await env.namespace();
    const out = await outputDir();
    const first = await env.operatorFor(t, { namespace: ns });
    await createHook(env.custom, ns, 'h', { job: { command: `cp "$CERTMATE_CERT_PATH" "${out}/$CERTMATE_RUN_NAME.pem"; test -s "$CERTMATE_KEY_PATH"`, env: [] } });
    const renewing = issue('renewing.example.com');
    const deleting = issue('deleting.example.com');
    await createTlsSecret(env.core, ns, 'renewing', renewing);
    await createTlsSecret(env.core, ns, 'deleting', deleting);
    await finishedRuns(env.custom, ns, 2);
    await first.stop();

    await createTlsSecret(env.core, ns, 'appearing', issue('appearing.example.com'));
    const renewed = issue('renewing.example.com');
    await renewTlsSecret(env.core, ns, 'renewing', renewed);
    await env.core.deleteNamespacedSecret({ name: 'deleting', namespace: ns });

    const second = await env.operatorFor(t, { namespace: ns });
    const runs = await finishedRuns(env.custom, ns, 5);
    assert.deepEqual(events(runs), ['h/appearing/created', 'h/deleting/created', 'h/deleting/revoked', 'h/renewing/created', 'h/renewing/renewed']);
    assert.ok(runs.every((r) => r.status?.phase === 'Succeeded'), runs.map((r) => `${r.metadata.name}: ${r.status?.reason} ${r.status?.message}`).join('\n'));
    const revoked = runs.find((r) => r.spec.event === 'revoked')!;
    assert.equal(await readFile(join(out, `${revoked.metadata.name}.pem`), 'utf8'), deleting.certPem, 'the revoked-while-down run got the last certificate\'s files');
    const renewedRun = runs.find((r) => r.spec.event === 'renewed')!;
    assert.equal(await readFile(join(out, `${renewedRun.metadata.name}.pem`), 'utf8'), renewed.certPem);
    await second.stop();
    await restartPlansNothing(t, ns, 5);
  });

  test('a Secret deleted and re-created under the same name while stopped: revoked, then created', async (t) => {
    const ns = await env.namespace();
    const first = await env.operatorFor(t, { namespace: ns });
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'phoenix', issue('phoenix.example.com'));
    await finishedRuns(env.custom, ns, 1);
    await first.stop();
    await env.core.deleteNamespacedSecret({ name: 'phoenix', namespace: ns });
    await createTlsSecret(env.core, ns, 'phoenix', issue('phoenix.example.com'));
    const second = await env.operatorFor(t, { namespace: ns });
    assert.deepEqual(events(await finishedRuns(env.custom, ns, 3)), ['h/phoenix/created', 'h/phoenix/created', 'h/phoenix/revoked']);
    await second.stop();
  });
});

describe('a revoked run left half-planned', () => {
  // What a planner leaves when it dies right after creating the run (no snapshot, no phase), and
  // a run marked Pending whose snapshot is missing: either way the next operator takes the files
  // from the run that captured that certificate.
  for (const phase of [undefined, 'Pending'] as const) {
    test(`a revoked run with no snapshot and ${phase ? `phase ${phase}` : 'no phase'}: the next operator takes the files from the last run`, async (t) => {
      const ns = await env.namespace();
      const out = await outputDir();
      const first = await env.operatorFor(t, { namespace: ns });
      // historyLimit 1: the revoked run alone is within it, so retention must keep the run whose files it needs.
      await createHook(env.custom, ns, 'h', { historyLimit: 1, job: { command: `cp "$CERTMATE_CERT_PATH" "${out}/$CERTMATE_RUN_NAME.pem"` } });
      const cert = issue('halfway.example.com');
      await createTlsSecret(env.core, ns, 'halfway', cert);
      const [created] = await finishedRuns(env.custom, ns, 1);
      await first.stop();
      const secret = await env.core.readNamespacedSecret({ name: 'halfway', namespace: ns });
      await env.core.deleteNamespacedSecret({ name: 'halfway', namespace: ns });
      const hook = await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'h' }) as DeployHook;
      const firing = { hook, event: 'revoked' as const, secret: { namespace: ns, name: 'halfway', uid: secret.metadata!.uid! }, certificate: created!.spec.certificate! };
      const planned = planRun(firing, new Date().toISOString(), ns);
      await env.custom.createNamespacedCustomObject({ ...RUNS, namespace: ns, body: planned });
      if (phase) {
        await env.custom.patchNamespacedCustomObjectStatus({ ...RUNS, namespace: ns, name: planned.metadata.name!, body: { status: { phase, observedGeneration: 1, certificate: planned.spec.certificate } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      }
      await env.operatorFor(t, { namespace: ns });
      // Once the revoked run has finished, the created run is beyond the limit and goes.
      const [revoked] = await finishedRuns(env.custom, ns, 1);
      assert.equal(revoked!.spec.event, 'revoked');
      assert.equal(revoked!.status?.phase, 'Succeeded', `${revoked!.status?.reason}: ${revoked!.status?.message}`);
      assert.equal(await readFile(join(out, `${revoked!.metadata.name}.pem`), 'utf8'), cert.certPem);
    });
  }
});

describe('new hooks', () => {
  test('a new hook fires nothing for certificates that exist, and fires when one changes', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns });
    await createTlsSecret(env.core, ns, 'old', issue('old.example.com'));
    await op.operator.idle();
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamps have whole seconds
    await createHook(env.custom, ns, 'late', { job: { command: 'true' } });
    await eventually(async () => {
      const hook = (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'late' })) as { status?: { conditions?: unknown[] } };
      assert.ok(hook.status?.conditions?.length, 'the operator has seen the hook');
    });
    await op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 0);
    await renewTlsSecret(env.core, ns, 'old', issue('old.example.com'));
    assert.deepEqual(events(await finishedRuns(env.custom, ns, 1)), ['late/old/renewed']);
    await op.stop();
  });

  test('while the operator was down: a Secret created after the hook fires created, one that predates it fires nothing', async (t) => {
    const ns = await env.namespace();
    await createTlsSecret(env.core, ns, 'before', issue('before.example.com'));
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamps have whole seconds
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await new Promise((r) => setTimeout(r, 1100));
    await createTlsSecret(env.core, ns, 'after', issue('after.example.com'));
    const op = await env.operatorFor(t, { namespace: ns });
    assert.deepEqual(events(await finishedRuns(env.custom, ns, 1)), ['h/after/created']);
    await op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 1);
    await op.stop();
  });
});

describe('retention', () => {
  test('runs beyond historyLimit are pruned, with their Jobs and snapshots; the latest run of each Secret stays', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns });
    await createHook(env.custom, ns, 'h', { historyLimit: 2, job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'quiet', issue('quiet.example.com'));
    await createTlsSecret(env.core, ns, 'busy', issue('busy.example.com'));
    for (let i = 0; i < 4; i++) {
      await renewTlsSecret(env.core, ns, 'busy', issue('busy.example.com'));
      await op.operator.idle();
    }
    await op.operator.idle();
    await eventually(async () => {
      const runs = await listRuns(env.custom, ns);
      assert.equal(runs.length, 3, runs.map((r) => r.metadata.name).join(', '));
      assert.ok(runs.some((r) => r.spec.secretRef.name === 'quiet'), 'the latest run of a quiet Secret is kept');
      // A certificate's snapshot goes with the last run that uses it.
      const snapshots = await env.core.listNamespacedSecret({ namespace: ns, labelSelector: 'certhook.io/secret' });
      assert.deepEqual(snapshots.items.map((s) => s.metadata!.name).sort(), runs.map((r) => r.status!.snapshotSecretName).sort());
    });
    await op.stop();
  });
});

describe('coalescing', () => {
  test('writes within the quiet period fire once, for the final version', async (t) => {
    const ns = await env.namespace();
    const out = await outputDir();
    const op = await env.operatorFor(t, { namespace: ns, quietPeriodMs: 400 });
    await createHook(env.custom, ns, 'h', { job: { command: `cp "$CERTMATE_CERT_PATH" "${out}/$CERTMATE_RUN_NAME.pem"` } });
    await createTlsSecret(env.core, ns, 'burst', issue('burst.example.com'));
    let last = issue('burst.example.com');
    for (let i = 0; i < 5; i++) {
      last = issue('burst.example.com');
      await renewTlsSecret(env.core, ns, 'burst', last);
    }
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.spec.event, 'created', 'created and renewed within the quiet period: one created, for the final version');
    assert.equal(await readFile(join(out, `${run!.metadata.name}.pem`), 'utf8'), last.certPem);
    await op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 1);

    await env.core.deleteNamespacedSecret({ name: 'burst', namespace: ns });
    await createTlsSecret(env.core, ns, 'flash', issue('flash.example.com'));
    await env.core.deleteNamespacedSecret({ name: 'flash', namespace: ns });
    const runs = await finishedRuns(env.custom, ns, 2);
    assert.deepEqual(events(runs), ['h/burst/created', 'h/burst/revoked'], 'a Secret created and deleted within the quiet period fires nothing');
    await op.stop();
  });

  test('a burst of writes that spans a restart fires once, for the final version', async (t) => {
    const ns = await env.namespace();
    const quietPeriodMs = 3000;
    const first = await env.operatorFor(t, { namespace: ns, quietPeriodMs });
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'span', issue('span.example.com'));
    await finishedRuns(env.custom, ns, 1);
    // The burst's first write reaches the first operator, which stops before it has been quiet
    // that long; the next operator sees only the write's time in managedFields.
    await renewTlsSecret(env.core, ns, 'span', issue('span.example.com'));
    await first.stop();
    const second = await env.operatorFor(t, { namespace: ns, quietPeriodMs });
    const last = issue('span.example.com');
    await renewTlsSecret(env.core, ns, 'span', last);
    const runs = await finishedRuns(env.custom, ns, 2);
    await new Promise((resolve) => setTimeout(resolve, quietPeriodMs));
    await second.operator.idle();
    assert.deepEqual(events(await listRuns(env.custom, ns)), ['h/span/created', 'h/span/renewed'], 'one renewed run for the burst');
    const renewed = runs.find((r) => r.spec.event === 'renewed')!;
    assert.equal(renewed.spec.certificate!.fingerprint, new X509Certificate(last.certPem).fingerprint256.replaceAll(':', '').toLowerCase(), 'for the final version');
    await second.stop();
  });

  test('a quiet period of 0 fires on every write', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { namespace: ns, quietPeriodMs: 0 });
    await createHook(env.custom, ns, 'h', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'each', issue('each.example.com'));
    await renewTlsSecret(env.core, ns, 'each', issue('each.example.com'));
    await renewTlsSecret(env.core, ns, 'each', issue('each.example.com'));
    const runs = await finishedRuns(env.custom, ns, 3);
    assert.deepEqual(runs.map((r) => r.spec.event).sort(), ['created', 'renewed', 'renewed']);
    await op.stop();
  });
});

