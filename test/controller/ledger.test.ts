import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployHook } from '../../src/api/deployhook.ts';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { capturingRun, ledgerFirings } from '../../src/controller/ledger.ts';
import { firingOf, type Firing } from '../../src/controller/plan.ts';
import type { TlsSecret } from '../../src/controller/tls-secret.ts';
import { certificate, HOOK_CREATED, hook, run, secret } from './objects.ts';

// The hook was created at HOOK_CREATED (2025-06-01); certificates are issued around it.
const issued = (notBefore: string) => certificate(['api.example.com'], { notBefore: new Date(notBefore) });
const v1 = issued('2025-06-02T00:00:00Z');
const v2 = issued('2025-07-01T00:00:00Z');
const v3 = issued('2025-08-01T00:00:00Z');
const beforeHook = issued('2025-05-01T00:00:00Z');

const owner = hook();
const edge = secret('edge-tls', v1, { uid: 'uid-1', creationTimestamp: '2025-06-02T00:00:00Z' });
const edgeRenewed: TlsSecret = { ...edge, certificate: v2 };
const edgeRecreated = secret('edge-tls', v3, { uid: 'uid-2', creationTimestamp: '2025-08-01T00:00:00Z' });

const createdRun = run(owner, 'created', edge, '2025-06-02T00:00:01.000Z');
const renewedRun = run(owner, 'renewed', edgeRenewed, '2025-07-01T00:00:01.000Z');
const revokedRun = run(owner, 'revoked', edgeRenewed, '2025-07-15T00:00:01.000Z');

/** A firing in short: event, Secret uid and fingerprint. */
interface Brief {
  event: string;
  uid: string | undefined;
  fingerprint: string;
}
const brief = (f: Firing): Brief => ({ event: f.event, uid: f.secret.uid, fingerprint: f.certificate.fingerprint });
const created = (s: TlsSecret): Brief => ({ event: 'created', uid: s.uid, fingerprint: s.certificate!.fingerprint });
const renewed = (s: TlsSecret): Brief => ({ event: 'renewed', uid: s.uid, fingerprint: s.certificate!.fingerprint });
const revoked = (last: DeployHookRun): Brief => ({ event: 'revoked', uid: last.metadata.annotations!['certhook.io/secret-uid'], fingerprint: last.spec.certificate!.fingerprint });

describe('ledgerFirings', () => {
  const cases: [string, DeployHook, TlsSecret[], DeployHookRun[], Brief[]][] = [
    ['a run exists for the current certificate: nothing', owner, [edge], [createdRun], []],
    ['the latest run is for another certificate of the same Secret: renewed', owner, [edgeRenewed], [createdRun], [renewed(edgeRenewed)]],
    ['runs for an earlier Secret of that name: revoked from its latest run, then created', owner, [edgeRecreated], [createdRun, renewedRun], [revoked(renewedRun), created(edgeRecreated)]],
    ['re-created with the same certificate: still revoked then created (the uid keys it)', owner, [{ ...edgeRenewed, uid: 'uid-2' }], [createdRun, renewedRun], [revoked(renewedRun), created({ ...edgeRenewed, uid: 'uid-2' })]],
    ['the earlier Secret was already revoked: created only', owner, [edgeRecreated], [createdRun, renewedRun, revokedRun], [created(edgeRecreated)]],
    ['a Secret that is gone and not revoked: revoked from its latest run', owner, [], [createdRun, renewedRun], [revoked(renewedRun)]],
    ['a Secret that is gone and already revoked: nothing', owner, [], [createdRun, renewedRun, revokedRun], []],
    ['no run, the Secret created after the hook: created', owner, [edge], [], [created(edge)]],
    ['no run, the Secret created the second the hook was: created', owner, [{ ...edge, creationTimestamp: HOOK_CREATED }], [], [created(edge)]],
    ['no run, the Secret predates the hook, its certificate does not: renewed', owner, [{ ...edge, creationTimestamp: '2025-05-01T00:00:00Z' }], [], [renewed(edge)]],
    ['no run, Secret and certificate predate the hook: nothing', owner, [secret('old-tls', beforeHook, { creationTimestamp: '2025-05-01T00:00:00Z' })], [], []],
    ['a Secret of another namespace: nothing', owner, [{ ...edge, namespace: 'other' }], [], []],
    ['a manual run is not the ledger: the Secret still fires created', owner, [edge], [run(owner, 'manual', edge, '2025-06-03T00:00:00.000Z')], [created(edge)]],
    ['a newer manual run does not hide a renewal', owner, [edgeRenewed], [createdRun, run(owner, 'manual', edgeRenewed, '2025-07-02T00:00:00.000Z')], [renewed(edgeRenewed)]],
    ['only manual runs for a Secret that is gone: nothing', owner, [], [run(owner, 'manual', edge, '2025-06-03T00:00:00.000Z')], []],
    ['a Secret present with an unreadable certificate is not gone', owner, [secret('edge-tls', undefined, { uid: 'uid-1' })], [createdRun, renewedRun], []],
    ['a disabled hook: no renewal', hook({ enabled: false }), [edgeRenewed], [createdRun], []],
    ['a disabled hook: no revoke for a Secret that is gone', hook({ enabled: false }), [], [createdRun], []],
    ['a disabled hook: nothing for a re-created Secret', hook({ enabled: false }), [edgeRecreated], [createdRun], []],
    ['onEvents without renewed: no renewal', hook({ onEvents: ['created', 'revoked'] }), [edgeRenewed], [createdRun], []],
    ['onEvents without revoked: no revoke for a Secret that is gone', hook({ onEvents: ['created', 'renewed'] }), [], [createdRun], []],
    ['onEvents without revoked: a re-created Secret fires created only', hook({ onEvents: ['created'] }), [edgeRecreated], [createdRun], [created(edgeRecreated)]],
    ['onEvents without created: a re-created Secret fires revoked only', hook({ onEvents: ['revoked'] }), [edgeRecreated], [createdRun], [revoked(createdRun)]],
    ['onEvents without created: no created for a new Secret', hook({ onEvents: ['renewed', 'revoked'] }), [edge], [], []],
    ['a selector the Secret does not match: nothing', hook({ secretSelector: { matchLabels: { tier: 'edge' } } }), [edge], [], []],
    ['domains the certificate does not match: nothing', hook({ domains: ['shop.example.com'] }), [edgeRenewed], [createdRun], []],
    ['one firing per Secret that lacks one', owner, [edgeRenewed, secret('shop-tls', v3, { uid: 'uid-s' })], [createdRun], [renewed(edgeRenewed), created(secret('shop-tls', v3, { uid: 'uid-s' }))]],
  ];
  for (const [name, h, secrets, runs, expected] of cases) {
    test(name, () => {
      assert.deepEqual(ledgerFirings(h, secrets, runs).map(brief), expected);
    });
  }

  test('a created or renewed firing is the firing the live path plans', () => {
    assert.deepEqual(ledgerFirings(owner, [edgeRenewed], [createdRun]), [firingOf(owner, 'renewed', edgeRenewed)]);
  });

  test('a revoked firing carries the last run\'s certificate and Secret uid', () => {
    assert.deepEqual(ledgerFirings(owner, [], [createdRun, renewedRun]), [{
      hook: owner,
      event: 'revoked',
      secret: { name: 'edge-tls', uid: 'uid-1' },
      certificate: renewedRun.spec.certificate,
    }]);
  });

  test('the latest run is the last planned, not the last by name, when creation seconds tie', () => {
    const second = '2025-07-01T00:00:00';
    const [low, high] = [run(owner, 'renewed', edgeRenewed, `${second}.000Z`), run(owner, 'renewed', { ...edge, certificate: v3 }, `${second}.000Z`)]
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
    // The run whose name sorts first was planned last: only the planned-at annotation says so.
    const lastPlanned = { ...low!, metadata: { ...low!.metadata, annotations: { ...low!.metadata.annotations, 'certhook.io/planned-at': `${second}.900Z` } } };
    const firstPlanned = { ...high!, metadata: { ...high!.metadata, annotations: { ...high!.metadata.annotations, 'certhook.io/planned-at': `${second}.100Z` } } };
    assert.equal(lastPlanned.metadata.creationTimestamp, firstPlanned.metadata.creationTimestamp);
    assert.deepEqual(ledgerFirings(owner, [], [firstPlanned, lastPlanned]).map(brief), [revoked(lastPlanned)]);
    assert.deepEqual(ledgerFirings(owner, [], [lastPlanned, firstPlanned]).map(brief), [revoked(lastPlanned)]);
  });
});

describe('capturingRun', () => {
  test('the latest run of the same Secret and certificate holds a revoked run\'s files', () => {
    assert.equal(capturingRun([createdRun, renewedRun, revokedRun], revokedRun), renewedRun);
    const renewedAgain = run(owner, 'renewed', edgeRenewed, '2025-07-10T00:00:01.000Z');
    assert.equal(capturingRun([createdRun, renewedRun, renewedAgain, revokedRun], revokedRun), renewedAgain);
  });

  test('not a run of another certificate, nor of a Secret re-created under the same name', () => {
    const recreatedRun = run(owner, 'created', { ...edgeRecreated, certificate: v2 }, '2025-08-01T00:00:01.000Z');
    assert.equal(capturingRun([createdRun, recreatedRun, revokedRun], revokedRun), undefined);
    assert.equal(capturingRun([createdRun, renewedRun, recreatedRun, revokedRun], revokedRun), renewedRun);
  });
});
