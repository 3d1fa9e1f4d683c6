// End to end through the sandbox: TLS Secret changes fire DeployHooks as Jobs whose commands
// really run, and the outcome is recorded on the runs and the hooks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, HOOKS, issue, listRuns, outputDir, renewTlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

const env = useOperatorSandbox('t');
const namespace = () => env.namespace();

/** A hook command that records its env and the files it was given under $OUT/<run>/. */
const RECORDER = 'd="$OUT/$CERTMATE_RUN_NAME"; mkdir -p "$d"; env | grep ^CERTMATE_ | sort > "$d/env"; cp "$CERTMATE_CERT_PATH" "$d/cert.pem"; cp "$CERTMATE_CHAIN_PATH" "$d/chain.pem"; cp "$CERTMATE_FULLCHAIN_PATH" "$d/fullchain.pem"; cp "$CERTMATE_KEY_PATH" "$d/key.pem"; echo recorded';

async function recorded(dir: string, run: string) {
  const env = Object.fromEntries((await readFile(join(dir, run, 'env'), 'utf8')).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const read = (f: string) => readFile(join(dir, run, f), 'utf8').catch(() => undefined);
  return { env, cert: await read('cert.pem'), chain: await read('chain.pem'), fullchain: await read('fullchain.pem'), key: await read('key.pem') };
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();

describe('a certificate\'s life fires the hook once per event', () => {
  test('created, renewed, relabelled (nothing), revoked — with the env and files of each version', async () => {
    const ns = await namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'recorder', { job: { command: RECORDER, env: [{ name: 'OUT', value: out }] } });
    const first = issue('api.example.com', 'www.example.com');
    await createTlsSecret(env.core, ns, 'web-tls', first);
    const [created] = await finishedRuns(env.custom, ns, 1);
    assert.equal(created!.spec.event, 'created');
    assert.equal(created!.status?.phase, 'Succeeded');
    assert.equal(created!.status?.exitCode, 0);
    assert.match(created!.status?.output ?? '', /recorded/);

    const files = await recorded(out, created!.metadata.name!);
    assert.equal(files.env.CERTMATE_DOMAIN, 'api.example.com');
    assert.equal(files.env.CERTMATE_DOMAINS, 'api.example.com,www.example.com');
    assert.equal(files.env.CERTMATE_EVENT, 'created');
    assert.equal(files.env.CERTMATE_SECRET_NAME, 'web-tls');
    assert.equal(files.env.CERTMATE_SECRET_NAMESPACE, ns);
    assert.equal(files.env.CERTMATE_HOOK_NAME, 'recorder');
    assert.equal(files.env.CERTMATE_RUN_NAME, created!.metadata.name);
    assert.equal(files.env.CERTMATE_FINGERPRINT, fingerprintOf(first.certPem));
    assert.equal(files.env.CERTMATE_TRIGGERED_BY, 'certhook');
    for (const v of ['CERT', 'CHAIN', 'FULLCHAIN', 'KEY']) assert.ok(files.env[`CERTMATE_${v}_PATH`], `CERTMATE_${v}_PATH`);
    for (const v of ['SERIAL', 'NOT_BEFORE', 'NOT_AFTER', 'ISSUER']) assert.ok(files.env[`CERTMATE_${v}`], `CERTMATE_${v}`);
    assert.equal(files.env.CERTMATE_DRY_RUN, undefined);
    assert.equal(files.cert, first.certPem);
    assert.equal(files.chain, first.chainPem);
    assert.equal(files.fullchain, first.fullchainPem);
    assert.equal(files.key, first.keyPem);

    const second = issue('api.example.com', 'www.example.com');
    await renewTlsSecret(env.core, ns, 'web-tls', second);
    const afterRenewal = await finishedRuns(env.custom, ns, 2);
    const renewed = afterRenewal[1]!;
    assert.equal(renewed.spec.event, 'renewed');
    assert.equal(renewed.status?.phase, 'Succeeded');
    assert.equal((await recorded(out, renewed.metadata.name!)).cert, second.certPem);

    const current = await env.core.readNamespacedSecret({ name: 'web-tls', namespace: ns });
    current.metadata!.labels = { relabelled: 'yes' };
    current.metadata!.annotations = { note: 'metadata only' };
    await env.core.replaceNamespacedSecret({ name: 'web-tls', namespace: ns, body: current });
    await env.op.operator.idle();
    assert.equal((await listRuns(env.custom, ns)).length, 2, 'a metadata-only change fires nothing');

    await env.core.deleteNamespacedSecret({ name: 'web-tls', namespace: ns });
    const all = await finishedRuns(env.custom, ns, 3);
    const revoked = all[2]!;
    assert.equal(revoked.spec.event, 'revoked');
    assert.equal(revoked.status?.phase, 'Succeeded');
    const revokedFiles = await recorded(out, revoked.metadata.name!);
    assert.equal(revokedFiles.env.CERTMATE_EVENT, 'revoked');
    assert.equal(revokedFiles.cert, second.certPem, 'the revoked run still got the files of the last version');
    assert.equal(revokedFiles.key, second.keyPem);

    const hook = (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'recorder' })) as any;
    await eventually(async () => {
      const h = (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'recorder' })) as any;
      assert.equal(h.status.totals.succeeded, 3);
      assert.equal(h.status.lastRun.name, revoked.metadata.name);
      assert.deepEqual(h.status.history.map((r: { event: string }) => r.event), ['revoked', 'renewed', 'created']);
      assert.equal(h.status.conditions[0].type, 'Ready');
      assert.equal(h.status.conditions[0].status, 'True');
      assert.equal(h.status.observedGeneration, hook.metadata.generation);
    });
    const events = await env.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=recorder' });
    assert.equal(events.items.filter((e) => e.reason === 'RunSucceeded').length, 3);
  });

  test('snapshots and Jobs are owned by their run', async () => {
    const ns = await namespace();
    await createHook(env.custom, ns, 'noop', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'owned', issue('owned.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    const snapshot = await env.core.readNamespacedSecret({ name: run!.status!.snapshotSecretName!, namespace: ns });
    assert.equal(snapshot.metadata!.ownerReferences![0]!.uid, run!.metadata.uid);
    assert.equal(snapshot.type, 'Opaque', 'snapshots are not TLS Secrets, so they never fire hooks themselves');
    await env.custom.deleteNamespacedCustomObject({ group: 'certhook.io', version: 'v1alpha1', plural: 'deployhookruns', namespace: ns, name: run!.metadata.name! });
    await eventually(async () => assert.deepEqual((await env.core.listNamespacedSecret({ namespace: ns })).items.map((s) => s.metadata!.name), ['owned']));
  });
});

describe('which hooks fire', () => {
  test('onEvents, enabled, domains (exact and wildcard), secretSelector and namespaces', async () => {
    const ns = await namespace();
    const other = await namespace();
    await createHook(env.custom, ns, 'only-revoked', { onEvents: ['revoked'], job: { command: 'true' } });
    await createHook(env.custom, ns, 'disabled', { enabled: false, job: { command: 'true' } });
    await createHook(env.custom, ns, 'exact', { domains: ['api.example.com'], job: { command: 'true' } });
    await createHook(env.custom, ns, 'wildcard', { domains: ['*.example.org'], job: { command: 'true' } });
    await createHook(env.custom, ns, 'selected', { secretSelector: { matchLabels: { tier: 'edge' } }, job: { command: 'true' } });
    await createHook(env.custom, ns, 'everything', { job: { command: 'true' } });
    await createHook(env.custom, other, 'elsewhere', { job: { command: 'true' } });

    await createTlsSecret(env.core, ns, 'api', issue('api.example.com'));
    await createTlsSecret(env.core, ns, 'deep', issue('a.b.example.org'));
    await createTlsSecret(env.core, ns, 'shop', issue('shop.example.org'), { tier: 'edge' });
    const runs = await finishedRuns(env.custom, ns, 6);
    const fired = runs.map((r) => `${r.spec.hookRef.name}/${r.spec.secretRef.name}/${r.spec.event}`).sort();
    assert.deepEqual(fired, [
      'everything/api/created',
      'everything/deep/created',
      'everything/shop/created',
      'exact/api/created',
      'selected/shop/created',
      'wildcard/shop/created',
    ]);
    assert.equal((await listRuns(env.custom, other)).length, 0, 'a hook sees only its own namespace');

    await env.core.deleteNamespacedSecret({ name: 'api', namespace: ns });
    const afterRevoke = await finishedRuns(env.custom, ns, runs.length + 3);
    const revokedBy = afterRevoke.filter((r) => r.spec.event === 'revoked').map((r) => r.spec.hookRef.name).sort();
    assert.deepEqual(revokedBy, ['everything', 'exact', 'only-revoked']);
  });
});
