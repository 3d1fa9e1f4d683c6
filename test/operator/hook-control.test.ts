// Hook control end to end: the master switch, events no hook takes, and dry runs for
// certificates from a staging issuer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthority } from '../../src/certs/authority.ts';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, issue, listRuns, outputDir, renewTlsSecret } from '../support/fixtures.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually } from '../support/eventually.ts';

const env = useSandboxForOperators('hc');
const staging = createAuthority({ name: '(STAGING) Pretend Pear' });

describe('the master switch', () => {
  test('--hooks-enabled=false records every firing as Skipped, "Deploy hooks disabled"; switched back on, nothing replays and new events run', async (t) => {
    const off = await env.operatorFor(t, { hooksEnabled: false });
    const ns = await env.namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'reload', { job: { command: `touch "${out}/$CERTMATE_RUN_NAME"` } });
    await createTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const [skipped] = await finishedRuns(env.custom, ns, 1);
    assert.equal(skipped!.status?.phase, 'Skipped');
    assert.equal(skipped!.status?.reason, 'HooksDisabled');
    assert.equal(skipped!.status?.message, 'Deploy hooks disabled');
    await off.stop();

    await env.operatorFor(t, {});
    await renewTlsSecret(env.core, ns, 'site', issue('site.example.com'));
    const runs = await finishedRuns(env.custom, ns, 2);
    assert.deepEqual(runs.map((r) => `${r.spec.event}:${r.status?.phase}`), ['created:Skipped', 'renewed:Succeeded'], 'the skipped created is not replayed');
    await assert.rejects(readFile(join(out, skipped!.metadata.name!)), 'the skipped run never ran');
  });

  test('a certificate event no hook takes logs "No hooks configured for <domain>" and is counted', async (t) => {
    const op = await env.operatorFor(t, {});
    const ns = await env.namespace();
    await createHook(env.custom, ns, 'api-only', { domains: ['api.example.com'], job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'www', issue('www.example.com'));
    await eventually(() => {
      const line = op.logs.find((l) => l.msg === 'No hooks configured for www.example.com');
      assert.ok(line);
      assert.equal(line.level, 'info');
      assert.equal(line.event, 'created');
    });
    assert.equal(op.operator.context.counters.unmatchedCertificateEvents, 1);
    await createTlsSecret(env.core, ns, 'api', issue('api.example.com'));
    await finishedRuns(env.custom, ns, 1);
    assert.equal(op.logs.filter((l) => String(l.msg).startsWith('No hooks configured')).length, 1, 'a matched event says nothing');
  });
});

describe('staging dry runs', () => {
  test('a certificate from a "(STAGING)" issuer, or from an issuer in --dry-run-issuers, runs dry and says why; others do not', async (t) => {
    await env.operatorFor(t, { dryRunIssuers: ['letsencrypt-staging'] });
    const ns = await env.namespace();
    const out = await outputDir();
    await createHook(env.custom, ns, 'deploy', { job: { command: `echo "dry=$CERTMATE_DRY_RUN" > "${out}/$CERTMATE_SECRET_NAME"` } });
    await createTlsSecret(env.core, ns, 'le-staging', staging.issue({ dnsNames: ['a.example.com'] }));
    await createTlsSecret(env.core, ns, 'annotated', issue('b.example.com'), {}, { 'cert-manager.io/issuer-name': 'letsencrypt-staging' });
    await createTlsSecret(env.core, ns, 'production', issue('c.example.com'), {}, { 'cert-manager.io/issuer-name': 'letsencrypt-prod' });
    const runs = Object.fromEntries((await finishedRuns(env.custom, ns, 3)).map((r) => [r.spec.secretRef.name, r]));
    assert.equal((await readFile(join(out, 'le-staging'), 'utf8')).trim(), 'dry=1');
    assert.match(runs['le-staging']!.status!.dryRunReason!, /^the certificate's issuer is a staging CA: \(STAGING\) Pretend Pear/);
    assert.equal((await readFile(join(out, 'annotated'), 'utf8')).trim(), 'dry=1');
    assert.equal(runs.annotated!.status!.dryRunReason, "the Secret's issuer letsencrypt-staging (cert-manager.io/issuer-name) is one of --dry-run-issuers");
    assert.equal((await readFile(join(out, 'production'), 'utf8')).trim(), 'dry=');
    assert.equal(runs.production!.status!.dryRunReason, undefined);
    assert.equal((await listRuns(env.custom, ns)).length, 3);
  });
});

describe('expiring', () => {
  const expiringCa = createAuthority({ name: 'certhook expiry test CA' });
  const inMinutes = (m: number) => new Date(Date.now() + m * 60_000);

  test('a certificate already in the window fires once, also after a restart; one entering it later fires when it does; a renewed one never', async (t) => {
    const first = await env.operatorFor(t, {});
    const ns = await env.namespace();
    await createHook(env.custom, ns, 'warn', { onEvents: ['expiring'], expiringWithin: '59m58s', job: { command: 'echo "expiring $CERTMATE_DOMAIN $CERTMATE_NOT_AFTER"' } });
    // Already inside: notAfter in 30 minutes.
    await createTlsSecret(env.core, ns, 'soon', expiringCa.issue({ dnsNames: ['soon.example.com'], notAfter: inMinutes(30) }));
    // Enters the window about 2 s from now.
    const later = inMinutes(60);
    await createTlsSecret(env.core, ns, 'later', expiringCa.issue({ dnsNames: ['later.example.com'], notAfter: later }));
    // Renewed before its window opens: its old certificate never warns.
    await createTlsSecret(env.core, ns, 'renewed', expiringCa.issue({ dnsNames: ['renewed.example.com'], notAfter: new Date(later.getTime() + 1000) }));
    await renewTlsSecret(env.core, ns, 'renewed', expiringCa.issue({ dnsNames: ['renewed.example.com'], notAfter: inMinutes(24 * 60) }));

    const [soon] = await finishedRuns(env.custom, ns, 1);
    assert.equal(soon!.spec.secretRef.name, 'soon');
    assert.equal(soon!.spec.event, 'expiring');
    assert.equal(soon!.status?.phase, 'Succeeded');
    assert.match(soon!.status!.output!, /^expiring soon\.example\.com 20/);
    const runs = await finishedRuns(env.custom, ns, 2, 15_000);
    const laterRun = runs.find((r) => r.spec.secretRef.name === 'later')!;
    const opens = Date.parse(laterRun.spec.certificate!.notAfter!) - (59 * 60 + 58) * 1000;
    assert.ok(Date.parse(laterRun.metadata.annotations!['certhook.io/planned-at']!) >= opens, 'not before its window opened');

    await first.stop();
    const second = await env.operatorFor(t, {});
    await second.operator.idle();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await listRuns(env.custom, ns)).map((r) => r.spec.secretRef.name).sort(), ['later', 'soon'], 'nothing again after a restart, and never for the renewed certificate');
    assert.equal(second.planned(), 0);
  });
});
