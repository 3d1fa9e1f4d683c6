import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateEvent } from '../../src/api/enums.ts';
import { DeployHookRunSchema, fitCertificate, listsAllDnsNames, RUN_DNS_NAMES_LIMIT, RunCertificateSchema } from '../../src/api/deployhookrun.ts';
import { firingOf, OPERATOR_IDENTITY, planRun, runCertificate, runName, type Firing, type FiringSecret, type HookIdentity } from '../../src/controller/plan.ts';
import { labelValue } from '../../src/api/names.ts';
import { certificate, hook, NAMESPACE, secret } from './objects.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const FP_A = 'a'.repeat(64);
const FP_B = 'b'.repeat(64);
const edge: FiringSecret = { namespace: NAMESPACE, name: 'edge-tls', uid: 'uid-1' };
const ref = (name: string, namespace: string | undefined = NAMESPACE, kind = 'DeployHook'): HookIdentity => ({ kind, namespace, name });

describe('runName', () => {
  test('is <hook>-<event>-<10 hex>, the same every time', () => {
    const name = runName(ref('reload-edge'), edge, FP_A, 'renewed');
    assert.match(name, /^reload-edge-renewed-[0-9a-f]{10}$/);
    assert.equal(runName(ref('reload-edge'), { ...edge }, FP_A, 'renewed'), name);
  });

  test('differs when any part of the firing differs', () => {
    const variants: [HookIdentity, FiringSecret, string, CertificateEvent][] = [
      [ref('reload-edge'), edge, FP_A, 'created'],
      [ref('reload-edge-2'), edge, FP_A, 'created'],
      [ref('reload-edge'), { ...edge, name: 'shop-tls' }, FP_A, 'created'],
      [ref('reload-edge'), { ...edge, uid: 'uid-2' }, FP_A, 'created'],
      [ref('reload-edge'), edge, FP_B, 'created'],
      [ref('reload-edge'), edge, FP_A, 'revoked'],
      // The parts are hashed separately, not as one run-together string.
      [ref('reload'), { namespace: NAMESPACE, name: 'edge', uid: 'u' }, FP_A, 'created'],
      [ref('reload'), { namespace: NAMESPACE, name: 'edg', uid: 'eu' }, FP_A, 'created'],
      // A hook of the same name in another namespace, or of another kind (a cluster-scoped one).
      [ref('reload-edge', 'other'), edge, FP_A, 'created'],
      [ref('reload-edge', undefined, 'ClusterDeployHook'), edge, FP_A, 'created'],
    ];
    const names = variants.map((args) => runName(...args));
    assert.equal(new Set(names).size, variants.length, names.join('\n'));
  });

  const longHooks: [string, string][] = [
    ['a 63-character hook name', 'h'.repeat(63)],
    ['a 63-character hook name whose cut ends in a dash', `${'x'.repeat(43)}-${'y'.repeat(19)}`],
    ['a 63-character hook name with dashes everywhere', 'a-'.repeat(31) + 'b'],
  ];
  for (const [what, hookName] of longHooks) {
    test(`${what} gives a DNS label of at most 63 characters`, () => {
      for (const event of ['created', 'renewed', 'revoked'] as const) {
        const name = runName(ref(hookName), edge, FP_A, event);
        assert.ok(name.length <= 63, `${name} has ${name.length} characters`);
        assert.match(name, DNS_LABEL);
        assert.match(name, new RegExp(`-${event}-[0-9a-f]{10}$`));
      }
    });
  }

  test('a dotted hook name cut at its dot still gives a DNS subdomain a Job can be named', () => {
    const name = runName(ref(`${'x'.repeat(43)}.${'y'.repeat(19)}`), edge, FP_A, 'created');
    assert.ok(name.length <= 63);
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });

  test('63-character hook names differing only past the cut still give different runs', () => {
    const a = runName(ref(`${'h'.repeat(62)}a`), edge, FP_A, 'created');
    const b = runName(ref(`${'h'.repeat(62)}b`), edge, FP_A, 'created');
    assert.notEqual(a, b);
  });
});

describe('labelValue', () => {
  const cases: [string, string, string][] = [
    ['a short value stays', 'edge-tls', 'edge-tls'],
    ['the empty value stays', '', ''],
    ['cut to 63 characters', 'a'.repeat(100), 'a'.repeat(63)],
    ['a dash left at the cut is dropped', `${'a'.repeat(62)}-b`, 'a'.repeat(62)],
    ['dots, dashes and underscores left at the cut are dropped', `${'a'.repeat(60)}._-tail`, 'a'.repeat(60)],
    ['exactly 63 characters stay', 'b'.repeat(63), 'b'.repeat(63)],
  ];
  for (const [what, input, expected] of cases) {
    test(what, () => {
      const value = labelValue(input);
      assert.equal(value, expected);
      assert.match(value, LABEL_VALUE);
    });
  }
});

describe('planRun', () => {
  const owner = hook({}, { name: 'reload-edge', uid: 'hook-uid-7' });
  const firing: Firing = {
    hook: owner,
    event: 'renewed',
    secret: edge,
    certificate: {
      fingerprint: FP_A,
      serial: '4F2A',
      domain: 'api.example.com',
      dnsNames: ['api.example.com'],
      notBefore: '2025-06-01T00:00:00Z',
      notAfter: '2025-08-30T00:00:00Z',
      issuer: 'certhook unit CA Intermediate CA',
    },
  };

  test('the run: labels, annotations, owner and spec', () => {
    const name = runName(ref('reload-edge'), edge, FP_A, 'renewed');
    assert.deepEqual(planRun(firing, '2025-06-03T04:05:06.789Z', NAMESPACE), {
      apiVersion: 'certhook.io/v1alpha1',
      kind: 'DeployHookRun',
      metadata: {
        name,
        namespace: NAMESPACE,
        labels: { 'certhook.io/hook': 'reload-edge', 'certhook.io/secret': 'edge-tls', 'certhook.io/event': 'renewed' },
        annotations: {
          'certhook.io/fingerprint': FP_A,
          'certhook.io/secret-uid': 'uid-1',
          'certhook.io/planned-at': '2025-06-03T04:05:06.789Z',
        },
        ownerReferences: [{ apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', name: 'reload-edge', uid: 'hook-uid-7', controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        hookRef: { name: 'reload-edge' },
        secretRef: { name: 'edge-tls' },
        event: 'renewed',
        certificate: firing.certificate,
        triggeredBy: OPERATOR_IDENTITY,
        stage: 'deploy',
        failurePolicy: 'Fail',
      },
    });
    assert.equal(OPERATOR_IDENTITY, 'certhook');
  });

  test('a Secret name too long for a label is shortened in the label only', () => {
    const longName = `${'s'.repeat(70)}.example-tls`;
    const run = planRun({ ...firing, secret: { namespace: NAMESPACE, name: longName, uid: 'uid-9' } }, '2025-06-03T04:05:06.789Z', NAMESPACE);
    assert.equal(run.metadata.labels!['certhook.io/secret'], 's'.repeat(63));
    assert.equal(run.spec.secretRef.name, longName);
    assert.equal(run.metadata.name, runName(ref('reload-edge'), { namespace: NAMESPACE, name: longName, uid: 'uid-9' }, FP_A, 'renewed'));
  });
});

describe('firingOf and runCertificate', () => {
  const facts = certificate(['api.example.com', 'www.example.com'], { notBefore: new Date('2025-06-02T00:00:00Z'), notAfter: new Date('2025-08-31T00:00:00Z') });

  test('a firing names the Secret by name and uid and carries its certificate facts', () => {
    const owner = hook();
    const tls = secret('edge-tls', facts, { uid: 'uid-3', labels: { tier: 'edge' } });
    assert.deepEqual(firingOf(owner, 'created', tls), {
      hook: owner,
      event: 'created',
      secret: { namespace: NAMESPACE, name: 'edge-tls', uid: 'uid-3' },
      certificate: {
        fingerprint: facts.fingerprint,
        serial: facts.serial,
        domain: 'api.example.com',
        dnsNames: ['api.example.com', 'www.example.com'],
        notBefore: '2025-06-02T00:00:00Z',
        notAfter: '2025-08-31T00:00:00Z',
        issuer: 'certhook unit CA Intermediate CA',
      },
    });
  });

  test('no domain when the certificate has neither DNS names nor a common name', () => {
    assert.equal('domain' in runCertificate({ ...facts, dnsNames: [], commonName: undefined, primaryName: undefined }), false);
  });
});

describe('a certificate of any size fits its run', () => {
  const names = Array.from({ length: 150 }, (_, i) => `host-${i}.example.com`);
  const many = certificate(names);
  const firing = firingOf(hook(), 'created', secret('many-tls', many));

  test('the firing carries every name; the run lists the first 100 and counts them all, within its schema', () => {
    assert.equal(firing.certificate.dnsNames!.length, 150);
    const planned = planRun(firing, '2025-06-02T00:00:00.000Z', NAMESPACE);
    assert.deepEqual(planned.spec.certificate!.dnsNames, names.slice(0, RUN_DNS_NAMES_LIMIT));
    assert.equal(planned.spec.certificate!.dnsNamesTotal, 150);
    assert.equal(listsAllDnsNames(planned.spec.certificate!), false);
    const parsed = DeployHookRunSchema.safeParse(planned);
    assert.ok(parsed.success, parsed.error?.message);
  });

  test('a certificate whose names all fit is recorded as it is, with no count', () => {
    const few = runCertificate(certificate(['a.example.com', 'b.example.com']));
    assert.deepEqual(fitCertificate(few), few);
    assert.equal(listsAllDnsNames(few), true);
  });

  test('fitting a fitted certificate keeps its count; what no schema field can hold is cut or left out', () => {
    const fitted = fitCertificate(firing.certificate);
    assert.deepEqual(fitCertificate(fitted), fitted);
    const odd = fitCertificate({ ...runCertificate(many), dnsNames: ['ok.example.com', `${'a'.repeat(300)}.example.com`], domain: 'd'.repeat(300), issuer: 'i'.repeat(2000), serial: 'F'.repeat(200) });
    assert.deepEqual(odd.dnsNames, ['ok.example.com']);
    assert.equal(odd.dnsNamesTotal, 2);
    assert.equal(odd.domain!.length, 253);
    assert.equal(odd.issuer!.length, 1024);
    assert.equal(odd.serial!.length, 128);
    assert.ok(RunCertificateSchema.safeParse(odd).success);
  });
});
