import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployHook } from '../../src/api/deployhook.ts';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { capturingRun, firingsFor, type Observation } from '../../src/controller/ledger.ts';
import { firingOf, type Firing } from '../../src/controller/plan.ts';
import type { TlsSecret } from '../../src/controller/tls-secret.ts';
import { certificate, HOOK_CREATED, hook, NAMESPACE, run, secret } from './objects.ts';

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

// The hook exists since HOOK_CREATED; the live column's observations were made after it.
const SEEN_AT = Date.parse('2025-06-01T12:00:00.000Z');
const seen = (secret: TlsSecret | undefined): Observation => ({ secret, at: SEEN_AT });
const NOTHING_SEEN = seen(undefined);
const edgeUnreadable = secret('edge-tls', undefined, { uid: 'uid-1', creationTimestamp: '2025-05-01T00:00:00Z' });
const edgeOld = { ...edge, creationTimestamp: '2025-05-01T00:00:00Z' };
const edgeBackdated = { ...edgeOld, certificate: beforeHook };
/** Renewed to a certificate whose notBefore is also before the hook (issuers backdate notBefore). */
const edgeBackdatedRenewal = { ...edgeOld, certificate: issued('2025-05-15T00:00:00Z') };
/** Seen unreadable after it held `before`'s certificate, as the Secret tracker keeps it. */
const unreadableAfter = (before: TlsSecret): Observation => ({ secret: { ...before, certificate: undefined, problem: { reason: 'Unparsable', message: 'garbage' } }, at: SEEN_AT, lastCertificate: before.certificate! });
const revokedSecret = (s: TlsSecret): Brief => ({ event: 'revoked', uid: s.uid, fingerprint: s.certificate!.fingerprint });

/**
 * The rule chain, one row per case: the Secret now (or none), the hook's runs, what a live
 * operator saw before this change, and what fires — live (with that observation) and after a
 * restart (without it). Where the two columns differ, only the live operator could know.
 */
describe('firingsFor: live changes and restarts', () => {
  const name = 'edge-tls';
  const cases: [string, DeployHook, TlsSecret | undefined, DeployHookRun[], Observation, Brief[], Brief[]][] = [
    ['a run exists for the current certificate: nothing', owner, edge, [createdRun], seen(edge), [], []],
    ['the latest run is for another certificate of the same Secret: renewed', owner, edgeRenewed, [createdRun], seen(edge), [renewed(edgeRenewed)], [renewed(edgeRenewed)]],
    ['runs for an earlier Secret of that name: revoked from its latest run, then created', owner, edgeRecreated, [createdRun, renewedRun], NOTHING_SEEN, [revoked(renewedRun), created(edgeRecreated)], [revoked(renewedRun), created(edgeRecreated)]],
    ['deleted and re-created between two looks: revoked for the one seen, then created', owner, edgeRecreated, [createdRun, renewedRun], seen(edgeRenewed), [revoked(renewedRun), created(edgeRecreated)], [revoked(renewedRun), created(edgeRecreated)]],
    ['re-created with the same certificate: still revoked then created (the uid keys it)', owner, { ...edgeRenewed, uid: 'uid-2' }, [createdRun, renewedRun], seen(edgeRenewed), [revoked(renewedRun), created({ ...edgeRenewed, uid: 'uid-2' })], [revoked(renewedRun), created({ ...edgeRenewed, uid: 'uid-2' })]],
    ['the earlier Secret was already revoked: created only', owner, edgeRecreated, [createdRun, renewedRun, revokedRun], NOTHING_SEEN, [created(edgeRecreated)], [created(edgeRecreated)]],
    ['deleted: revoked from its latest run', owner, undefined, [createdRun, renewedRun], seen(edgeRenewed), [revoked(renewedRun)], [revoked(renewedRun)]],
    ['deleted and already revoked: nothing', owner, undefined, [createdRun, renewedRun, revokedRun], NOTHING_SEEN, [], []],
    ['created after the hook: created', owner, edge, [], NOTHING_SEEN, [created(edge)], [created(edge)]],
    ['created the second the hook was: created', owner, { ...edge, creationTimestamp: HOOK_CREATED }, [], NOTHING_SEEN, [created(edge)], [created(edge)]],
    ['created and deleted before anything was planned: nothing', owner, undefined, [], NOTHING_SEEN, [], []],
    ['predates the hook, renewed: renewed', owner, edgeOld, [], seen(edgeBackdated), [renewed(edgeOld)], [renewed(edgeOld)]],
    ['predates the hook, renewed to a backdated certificate: renewed live; after a restart it looks older than the hook', owner, edgeBackdatedRenewal, [], seen(edgeBackdated), [renewed(edgeBackdatedRenewal)], []],
    ['predates the hook, unchanged: nothing', owner, edgeBackdated, [], seen(edgeBackdated), [], []],
    ['predates the hook, deleted: revoked live; after a restart no run says it existed', owner, undefined, [], seen(edgeBackdated), [revokedSecret(edgeBackdated)], []],
    ['predates the hook, tls.crt becomes readable: created live; after a restart, renewed (issued after the hook)', owner, edgeOld, [], seen(edgeUnreadable), [created(edgeOld)], [renewed(edgeOld)]],
    ['seen before the hook existed: the observation does not count', owner, edgeOld, [], { secret: edgeUnreadable, at: Date.parse('2025-05-20T00:00:00.000Z') }, [renewed(edgeOld)], [renewed(edgeOld)]],
    ['a Secret of another namespace: nothing', owner, { ...edge, namespace: 'other' }, [], NOTHING_SEEN, [], []],
    ['a manual run is not the ledger: the Secret still fires created', owner, edge, [run(owner, 'manual', edge, '2025-06-03T00:00:00.000Z')], NOTHING_SEEN, [created(edge)], [created(edge)]],
    ['a newer manual run does not hide a renewal', owner, edgeRenewed, [createdRun, run(owner, 'manual', edgeRenewed, '2025-07-02T00:00:00.000Z')], seen(edge), [renewed(edgeRenewed)], [renewed(edgeRenewed)]],
    ['only manual runs for a Secret that is gone: nothing', owner, undefined, [run(owner, 'manual', edge, '2025-06-03T00:00:00.000Z')], NOTHING_SEEN, [], []],
    ['tls.crt became unreadable: nothing', owner, secret('edge-tls', undefined, { uid: 'uid-1' }), [createdRun, renewedRun], seen(edgeRenewed), [], []],
    ['valid, unreadable, then another certificate: renewed (the runs know the earlier one)', owner, edgeRenewed, [createdRun], unreadableAfter(edge), [renewed(edgeRenewed)], [renewed(edgeRenewed)]],
    ['valid, unreadable, then the same certificate again: nothing', owner, edge, [createdRun], unreadableAfter(edge), [], []],
    ['predates the hook, unreadable for a while, then another certificate: renewed (the one before the spell is remembered)', owner, edgeOld, [], unreadableAfter(edgeBackdated), [renewed(edgeOld)], [renewed(edgeOld)]],
    ['predates the hook, unreadable for a while, then the same certificate again: nothing', owner, edgeBackdated, [], unreadableAfter(edgeBackdated), [], []],
    ['a disabled hook: no renewal', hook({ enabled: false }), edgeRenewed, [createdRun], seen(edge), [], []],
    ['a disabled hook: no revoke', hook({ enabled: false }), undefined, [createdRun], seen(edge), [], []],
    ['a disabled hook: nothing for a re-created Secret', hook({ enabled: false }), edgeRecreated, [createdRun], seen(edge), [], []],
    ['onEvents without renewed: no renewal', hook({ onEvents: ['created', 'revoked'] }), edgeRenewed, [createdRun], seen(edge), [], []],
    ['onEvents without revoked: no revoke', hook({ onEvents: ['created', 'renewed'] }), undefined, [createdRun], seen(edge), [], []],
    ['onEvents without revoked: a re-created Secret fires created only', hook({ onEvents: ['created'] }), edgeRecreated, [createdRun], seen(edge), [created(edgeRecreated)], [created(edgeRecreated)]],
    ['onEvents without created: a re-created Secret fires revoked only', hook({ onEvents: ['revoked'] }), edgeRecreated, [createdRun], seen(edge), [revoked(createdRun)], [revoked(createdRun)]],
    ['onEvents without created: no created for a new Secret', hook({ onEvents: ['renewed', 'revoked'] }), edge, [], NOTHING_SEEN, [], []],
    ['a selector the Secret does not match: nothing', hook({ secretSelector: { matchLabels: { tier: 'edge' } } }), edge, [], NOTHING_SEEN, [], []],
    ['domains the certificate does not match: nothing', hook({ domains: ['shop.example.com'] }), edgeRenewed, [createdRun], seen(edge), [], []],
  ];
  for (const [title, h, now, runs, before, live, restart] of cases) {
    test(title, () => {
      assert.deepEqual(firingsFor(h, name, now, runs, before).map(brief), live, 'live');
      assert.deepEqual(firingsFor(h, name, now, runs).map(brief), restart, 'after a restart');
    });
  }

  test('runs of other Secret names are not this Secret\'s ledger', () => {
    const shop = secret('shop-tls', v3, { uid: 'uid-s' });
    assert.deepEqual(firingsFor(owner, 'shop-tls', shop, [createdRun, renewedRun]).map(brief), [created(shop)]);
  });

  test('a revoke of a run that lists only the first of its names fires even when those miss the hook\'s domains', () => {
    const names = [...Array.from({ length: 120 }, (_, i) => `host-${i}.example.org`), 'api.example.com'];
    const wide = secret('edge-tls', certificate(names), { uid: 'uid-1' });
    const domains = hook({ domains: ['api.example.com'] });
    const last = run(domains, 'created', wide, '2025-06-02T00:00:01.000Z');
    assert.equal(last.spec.certificate!.dnsNames!.includes('api.example.com'), false, 'the run lists the first 100 names only');
    assert.deepEqual(firingsFor(domains, name, undefined, [last]).map(brief), [revoked(last)]);
    const listed = run(domains, 'created', secret('edge-tls', certificate(['shop.example.org']), { uid: 'uid-1' }), '2025-06-02T00:00:01.000Z');
    assert.deepEqual(firingsFor(domains, name, undefined, [listed]), [], 'a run listing all its names is checked against the domains');
  });

  test('a created or renewed firing is the firing of firingOf', () => {
    assert.deepEqual(firingsFor(owner, name, edgeRenewed, [createdRun]), [firingOf(owner, 'renewed', edgeRenewed)]);
  });

  test('a revoked firing carries the last run\'s certificate and Secret uid', () => {
    assert.deepEqual(firingsFor(owner, name, undefined, [createdRun, renewedRun]), [{
      hook: owner,
      event: 'revoked',
      secret: { namespace: NAMESPACE, name: 'edge-tls', uid: 'uid-1' },
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
    assert.deepEqual(firingsFor(owner, name, undefined, [firstPlanned, lastPlanned]).map(brief), [revoked(lastPlanned)]);
    assert.deepEqual(firingsFor(owner, name, undefined, [lastPlanned, firstPlanned]).map(brief), [revoked(lastPlanned)]);
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
