// Malformed certificates against the sandbox and the real operator: each case of the corpus gets
// its Warning Event and fires nothing, or fires once, as the README says; none stalls, crashes or
// silently drops anything, and a good Secret still fires normally afterwards.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { createAuthority } from '../../src/certs/authority.ts';
import { serveHealth } from '../../src/cli/operator.ts';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, issue, listRuns, outputDir, renewTlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { parseExposition } from '../support/exposition.ts';

const env = useSandboxForOperators('malformed');
const authority = createAuthority({ name: 'certhook corpus CA' });

/** Records each run's CERTMATE_* environment, and the names as an unquoted expansion gives them, under $OUT/<run>/. */
const RECORDER = 'd="$OUT/$CERTMATE_RUN_NAME"; mkdir -p "$d"; env | grep ^CERTMATE_ | sort > "$d/env"; echo $CERTMATE_DOMAIN > "$d/unquoted"; echo recorded';

async function recordedEnv(out: string, run: string): Promise<Record<string, string>> {
  const text = await readFile(join(out, run, 'env'), 'utf8');
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `host-${i}.corpus.example.com`);
const pem = (text: string) => Buffer.from(text);
const DAY = 24 * 3600 * 1000;

/** openssl, for what the test CA does not make: a CSR, and a self-signed CA certificate with its key. */
async function openssl() {
  const dir = await mkdtemp(join(tmpdir(), 'certhook-corpus-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const csr = execFileSync('openssl', ['req', '-new', ...ec, '-subj', '/CN=csr.example.com', '-keyout', join(dir, 'csr.key')]).toString();
  execFileSync('openssl', ['req', '-x509', ...ec, '-days', '30', '-subj', '/CN=certhook corpus root', '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')], { stdio: 'ignore' });
  const made = { csr, caCert: await readFile(join(dir, 'ca.crt'), 'utf8'), caKey: await readFile(join(dir, 'ca.key'), 'utf8') };
  await rm(dir, { recursive: true });
  return made;
}

/** What a case that fires checks of its run, the hook's CERTMATE_* environment and its unquoted $CERTMATE_DOMAIN. */
type Check = (run: DeployHookRun, hookEnv: Record<string, string>, unquoted: string) => void;

interface Case {
  /** The Secret's name. */
  name: string;
  crt: Buffer;
  key: Buffer;
  /** Fires nothing, with this Warning Event on the Secret, whose message matches; or fires `created` once, checked by `check`. */
  expect: { warning: 'CertificateEmpty' | 'CertificateUnparsable'; message: RegExp } | { fires: true; check?: Check };
}

async function corpus(): Promise<Case[]> {
  const good = issue('good.corpus.example.com');
  const { csr, caCert, caKey } = await openssl();
  const key = pem(good.keyPem);
  const unreadable = (name: string, crt: Buffer | string, message: RegExp, warning: 'CertificateEmpty' | 'CertificateUnparsable' = 'CertificateUnparsable'): Case =>
    ({ name, crt: Buffer.from(crt), key, expect: { warning, message } });
  const fires = (name: string, crt: string, keyPem: string, check?: Check): Case =>
    ({ name, crt: pem(crt), key: pem(keyPem), expect: { fires: true, ...(check ? { check } : {}) } });
  const issued = (name: string, request: Parameters<typeof authority.issue>[0], check?: Check) => {
    const cert = authority.issue(request);
    return fires(name, cert.fullchainPem, cert.keyPem, check);
  };
  const manyNames = (n: number) => issued(`sans-${n}`, { dnsNames: names(n) }, (run, hookEnv) => {
    assert.deepEqual(run.spec.certificate!.dnsNames, names(n).slice(0, 100), 'the run lists the first 100 names');
    assert.equal(run.spec.certificate!.dnsNamesTotal, n);
    assert.deepEqual(hookEnv.CERTMATE_DOMAINS!.split(','), names(n), 'the hook gets every name');
  });
  const mismatched = issue('mismatch.corpus.example.com');
  return [
    unreadable('empty', '', /tls.crt is empty/, 'CertificateEmpty'),
    unreadable('garbage', 'this is not a certificate\n', /found no PEM blocks/),
    unreadable('key-in-crt', good.keyPem, /found only PRIVATE KEY blocks: a certificate goes in tls.crt, its key in tls.key/),
    unreadable('csr-in-crt', csr, /found only CERTIFICATE REQUEST blocks/),
    unreadable('der', new X509Certificate(good.certPem).raw, /binary data, not PEM text: DER\?/),
    unreadable('not-utf8', Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xff, 0xfe]), /binary data, not PEM text/),
    unreadable('truncated-paste', good.certPem.slice(0, 300), /-----BEGIN CERTIFICATE----- without its -----END CERTIFICATE----- line: a truncated paste\?/),
    unreadable('cut-in-the-middle', good.certPem.slice(0, 200) + good.certPem.slice(-60), /certificate 1 of 1 is not a valid X.509 certificate/),
    unreadable('key-as-certificate', good.keyPem.replaceAll('PRIVATE KEY', 'CERTIFICATE'), /certificate 1 of 1 is not a valid X.509 certificate/),
    unreadable('broken-chain', good.certPem + good.chainPem.replace(/[A-Za-z]{20}/, 'A'.repeat(20)), /certificate 2 of 2 is not a valid X.509 certificate/),
    issued('expired', { dnsNames: ['expired.corpus.example.com'], notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - 10 * DAY) }),
    issued('not-yet-valid', { dnsNames: ['future.corpus.example.com'], notBefore: new Date(Date.now() + 10 * DAY) }),
    issued('cn-only', { dnsNames: [], commonName: 'cn-only.corpus.example.com' }, (run, hookEnv) => {
      assert.equal(run.spec.certificate!.domain, 'cn-only.corpus.example.com');
      assert.equal(hookEnv.CERTMATE_DOMAIN, 'cn-only.corpus.example.com');
    }),
    issued('sans-100', { dnsNames: names(100) }, (run, hookEnv) => {
      assert.equal(run.spec.certificate!.dnsNames!.length, 100);
      assert.equal(run.spec.certificate!.dnsNamesTotal, undefined);
      assert.equal(hookEnv.CERTMATE_DOMAINS!.split(',').length, 100);
    }),
    manyNames(150),
    manyNames(500),
    fires('chain-200', good.certPem + authority.intermediatePem.repeat(199), good.keyPem),
    fires('ca-alone', caCert, caKey, (run) => assert.equal(run.spec.certificate!.domain, 'certhook corpus root')),
    fires('crlf', good.fullchainPem.replaceAll('\n', '\r\n'), good.keyPem.replaceAll('\n', '\r\n')),
    issued('san-command', { dnsNames: ['$(echo pwned)', 'a$$b.corpus.example.com', '`id`.corpus.example.com'] }, (_run, hookEnv, unquoted) => {
      assert.equal(hookEnv.CERTMATE_DOMAIN, '$(echo pwned)');
      assert.equal(hookEnv.CERTMATE_DOMAINS, '$(echo pwned),a$$b.corpus.example.com,`id`.corpus.example.com');
      assert.equal(unquoted.trim(), '$(echo pwned)', 'expanded by the hook\'s shell, still text');
    }),
    issued('cn-variable', { dnsNames: [], commonName: '$(CERTMATE_KEY_PATH)' }, (_run, hookEnv) => {
      assert.equal(hookEnv.CERTMATE_DOMAIN, '$(CERTMATE_KEY_PATH)', 'Kubernetes\' $(VAR) expansion leaves the name alone');
    }),
    fires('key-mismatch', mismatched.fullchainPem, good.keyPem),
  ];
}

const eventsOf = async (namespace: string, name: string): Promise<CoreV1Event[]> =>
  (await env.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;

function secretOf(name: string, crt: Buffer, key: Buffer) {
  return { metadata: { name }, type: 'kubernetes.io/tls', data: { 'tls.crt': crt.toString('base64'), 'tls.key': key.toString('base64') } };
}

describe('the malformed-certificate corpus', () => {
  test('each case gets its Warning Event and fires nothing, or fires created once; a good Secret fires normally afterwards', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, {});
    const out = await outputDir();
    await createHook(env.custom, ns, 'recorder', { job: { command: RECORDER, env: [{ name: 'OUT', value: out }] } });
    const cases = await corpus();
    assert.ok(cases.length >= 15);
    for (const c of cases) await env.core.createNamespacedSecret({ namespace: ns, body: secretOf(c.name, c.crt, c.key) as never });

    const firing = cases.filter((c) => 'fires' in c.expect);
    const runs = await finishedRuns(env.custom, ns, firing.length, 120_000);
    assert.deepEqual(runs.map((r) => r.spec.secretRef!.name).sort(), firing.map((c) => c.name).sort(), 'one run for each case that fires, none for the others');
    for (const c of cases) {
      await t.test(c.name, async () => {
        if ('warning' in c.expect) {
          const { warning, message } = c.expect;
          await eventually(async () => {
            const events = await eventsOf(ns, c.name);
            assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', warning]]);
            assert.match(events[0]!.message!, message);
          });
          return;
        }
        const run = runs.find((r) => r.spec.secretRef!.name === c.name)!;
        assert.equal(run.spec.event, 'created');
        assert.equal(run.status?.phase, 'Succeeded', run.status?.message);
        const unquoted = await readFile(join(out, run.metadata.name!, 'unquoted'), 'utf8');
        c.expect.check?.(run, await recordedEnv(out, run.metadata.name!), unquoted);
      });
    }

    const mismatch = runs.find((r) => r.spec.secretRef!.name === 'key-mismatch')!;
    await eventually(async () => {
      for (const name of ['key-mismatch', mismatch.metadata.name!]) {
        const events = (await eventsOf(ns, name)).filter((e) => e.reason === 'KeyMismatch');
        assert.equal(events.length, 1, `a KeyMismatch Event on ${name}`);
        assert.equal(events[0]!.type, 'Warning');
        assert.match(events[0]!.message!, /tls.key does not hold the private key of the certificate in tls.crt.*the hook runs anyway/);
      }
    });
    // Only the mismatched pair is warned of: the matching ones (the CA's own key and CRLF keys included) are not.
    const warnedRuns = new Set((await env.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === 'KeyMismatch').map((e) => e.involvedObject.name));
    assert.deepEqual([...warnedRuns].sort(), ['key-mismatch', mismatch.metadata.name!].sort());
    assert.ok(!existsPwned(out), 'no command in a name ran');

    await createTlsSecret(env.core, ns, 'good-afterwards', issue('afterwards.corpus.example.com'));
    const all = await finishedRuns(env.custom, ns, firing.length + 1);
    const afterwards = all.find((r) => r.spec.secretRef!.name === 'good-afterwards')!;
    assert.equal(afterwards.status?.phase, 'Succeeded');
    const keyLine = cases[0]!.key.toString().split('\n')[1]!;
    assert.ok(!JSON.stringify(op.logs).includes(keyLine), 'no key material in the logs');
  });
});

/** Whether a file named after the command's output exists anywhere the hook wrote. */
function existsPwned(out: string): boolean {
  return execFileSync('find', [out, '-name', '*pwned*']).toString().trim() !== '';
}

describe('a tls.crt built to stall the operator', () => {
  test('1 MiB (over the cap, not read) and 400 KiB (read, in one pass) of unclosed BEGIN lines: /healthz answers and a good Secret fires', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, {});
    const health = await serveHealth(0, () => op.operator, pino({ level: 'silent' }));
    t.after(() => health.close());
    await createHook(env.custom, ns, 'deploy', { job: { command: 'true' } });
    const line = '-----BEGIN X-----\n';
    const key = pem(issue('stall.example.com').keyPem);
    const huge = line.repeat(Math.floor((1024 * 1024 - key.length) / line.length));
    const large = line.repeat(Math.floor((400 * 1024) / line.length));
    await env.core.createNamespacedSecret({ namespace: ns, body: secretOf('huge', pem(huge), key) as never });
    await env.core.createNamespacedSecret({ namespace: ns, body: secretOf('large', pem(large), key) as never });
    await createTlsSecret(env.core, ns, 'good', issue('good.stall.example.com'));

    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.spec.secretRef!.name, 'good');
    assert.equal(run!.status?.phase, 'Succeeded');
    const res = await fetch(`http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz`);
    assert.equal(res.status, 200);
    await eventually(async () => {
      assert.match((await eventsOf(ns, 'huge'))[0]?.message ?? '', /tls.crt is \d+ KiB; certhook reads a certificate chain of at most 448 KiB/);
      assert.match((await eventsOf(ns, 'large'))[0]?.message ?? '', /-----BEGIN X----- without its -----END X----- line/);
    });
    // They sit there through a renewal of the good one and a resync of everything.
    await renewTlsSecret(env.core, ns, 'good', issue('good.stall.example.com'));
    const runs = await finishedRuns(env.custom, ns, 2);
    assert.deepEqual(runs.map((r) => r.spec.event), ['created', 'renewed']);
  });
});

describe('the ledger across an unreadable spell', () => {
  test('valid, garbage, a new certificate: created, then renewed', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, {});
    await createHook(env.custom, ns, 'deploy', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'spell', issue('spell.example.com'));
    await finishedRuns(env.custom, ns, 1);
    const current = await env.core.readNamespacedSecret({ name: 'spell', namespace: ns });
    current.data = { ...current.data, 'tls.crt': Buffer.from('garbage').toString('base64') };
    await env.core.replaceNamespacedSecret({ name: 'spell', namespace: ns, body: current });
    await eventually(async () => assert.equal((await eventsOf(ns, 'spell'))[0]?.reason, 'CertificateUnparsable'));
    await op.operator.idle();
    await renewTlsSecret(env.core, ns, 'spell', issue('spell.example.com'));
    const runs = await finishedRuns(env.custom, ns, 2);
    assert.deepEqual(runs.map((r) => [r.spec.event, r.status?.phase]), [['created', 'Succeeded'], ['renewed', 'Succeeded']]);
  });

  test('a Secret that predates the hook: valid, garbage, the same certificate again fires nothing; another one fires renewed', async (t) => {
    const ns = await env.namespace();
    const first = issue('predates.example.com');
    await createTlsSecret(env.core, ns, 'old', first);
    // Creation times have whole seconds: one in the hook's second would count as created after it.
    const created = (await env.core.readNamespacedSecret({ name: 'old', namespace: ns })).metadata!.creationTimestamp!;
    await eventually(() => assert.ok(Date.now() >= created.getTime() + 1000));
    const op = await env.operatorFor(t, {});
    await createHook(env.custom, ns, 'deploy', { job: { command: 'true' } });
    await op.operator.idle();
    const write = async (crt: string) => {
      const current = await env.core.readNamespacedSecret({ name: 'old', namespace: ns });
      current.data = { ...current.data, 'tls.crt': Buffer.from(crt).toString('base64') };
      await env.core.replaceNamespacedSecret({ name: 'old', namespace: ns, body: current });
      await eventually(async () => assert.equal((await env.core.readNamespacedSecret({ name: 'old', namespace: ns })).data?.['tls.crt'], Buffer.from(crt).toString('base64')));
      await op.operator.idle();
    };
    await write('garbage');
    await write(first.fullchainPem);
    assert.equal((await listRuns(env.custom, ns)).length, 0, 'the certificate from before the spell predates the hook');
    await write('garbage');
    await renewTlsSecret(env.core, ns, 'old', issue('predates.example.com'));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.spec.event, 'renewed');
  });
});

/**
 * Has the API refuse the runs of hooks whose names are over 8 characters long, as it refuses a
 * field over its limit, until `accept()` (or the test's end).
 */
function refuseRunsOfLongHookNames(t: TestContext): { accept(): void } {
  const runType = env.sandbox.api.type('certhook.io', 'deployhookruns');
  const schema = runType.schema!;
  const strict = structuredClone(schema);
  strict.properties!.spec!.properties!.hookRef!.properties!.name!.maxLength = 8;
  runType.schema = strict;
  const accept = () => { runType.schema = schema; };
  t.after(accept);
  return { accept };
}

describe('a firing the API refuses', () => {
  test('is recorded on the Secret and the hook, counted, and planned at a later resync once the API takes it', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { resyncPeriodMs: 500 });
    const api = refuseRunsOfLongHookNames(t);
    await createHook(env.custom, ns, 'accepted', { job: { command: 'true' } });
    await createHook(env.custom, ns, 'refused-hook', { job: { command: 'true' } });
    await createTlsSecret(env.core, ns, 'web', issue('web.example.com'));

    const [accepted] = await finishedRuns(env.custom, ns, 1);
    assert.equal(accepted!.spec.hookRef.name, 'accepted', 'the Secret\'s other firings go ahead');
    const refusedTotal = async () => parseExposition(await op.operator.metrics.registry.metrics()).sum('certhook_firings_refused_total', { namespace: ns, hook: 'refused-hook' });
    await eventually(async () => {
      for (const name of ['web', 'refused-hook']) {
        const events = (await eventsOf(ns, name)).filter((e) => e.reason === 'FiringRefused');
        assert.equal(events.length, 1, `a FiringRefused Event on ${name}`);
        assert.equal(events[0]!.type, 'Warning');
        assert.match(events[0]!.message!, /the API refused run refused-hook-created-[0-9a-f]{10} \(DeployHook refused-hook, created, Secret web\): 422 .*spec.hookRef.name.*; it is tried again at the next resync/);
      }
      assert.ok(op.logs.some((l) => l.msg === 'the API refused a firing\'s run; it is tried again at the next resync' && l.hook === 'refused-hook' && l.code === 422));
      // Tried again at each resync, refused each time.
      assert.ok(await refusedTotal() >= 2, `refused ${await refusedTotal()} times`);
    });

    api.accept();
    const runs = await finishedRuns(env.custom, ns, 2);
    const planned = runs.find((r) => r.spec.hookRef.name === 'refused-hook')!;
    assert.equal(planned.spec.event, 'created');
    assert.equal(planned.status?.phase, 'Succeeded');
    const settled = await refusedTotal();
    await op.operator.idle();
    assert.equal(await refusedTotal(), settled, 'nothing refused once the API takes it');
  });

  test('holds back the later stages of its group until it is planned, so none runs before it', async (t) => {
    const ns = await env.namespace();
    const op = await env.operatorFor(t, { resyncPeriodMs: 500 });
    const api = refuseRunsOfLongHookNames(t);
    const out = await outputDir();
    await createHook(env.custom, ns, 'refused-pre', { stage: 'pre', job: { command: `touch ${out}/pre` } });
    await createHook(env.custom, ns, 'deploy', { job: { command: `test -e ${out}/pre` } });
    await createTlsSecret(env.core, ns, 'web', issue('web.example.com'));
    await eventually(async () => {
      const refused = parseExposition(await op.operator.metrics.registry.metrics()).sum('certhook_firings_refused_total', { namespace: ns, hook: 'refused-pre' });
      assert.ok(refused >= 2, `refused ${refused} times`);
    });
    assert.deepEqual(await listRuns(env.custom, ns), [], 'the deploy hook waits for its pre hook\'s run');
    api.accept();
    const runs = await finishedRuns(env.custom, ns, 2);
    assert.deepEqual(runs.map((r) => [r.spec.hookRef.name, r.status?.phase]).sort(), [['deploy', 'Succeeded'], ['refused-pre', 'Succeeded']]);
  });
});
