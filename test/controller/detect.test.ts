import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../../src/controller/detect.ts';
import type { TlsSecret } from '../../src/controller/tls-secret.ts';
import { certificate, secret } from './objects.ts';

const v1 = certificate(['api.example.com']);
const v2 = certificate(['api.example.com']);

const edge = secret('edge-tls', v1, { uid: 'uid-1' });
const renewed: TlsSecret = { ...edge, certificate: v2 };
const unreadable = secret('edge-tls', undefined, { uid: 'uid-1' });
const relabelled: TlsSecret = { ...edge, labels: { tier: 'edge' }, creationTimestamp: '2025-06-03T00:00:00Z' };
const recreated = secret('edge-tls', v2, { uid: 'uid-2' });
const recreatedSameCertificate: TlsSecret = { ...edge, uid: 'uid-2' };
const recreatedUnreadable = secret('edge-tls', undefined, { uid: 'uid-2' });

describe('detect', () => {
  const cases: [string, TlsSecret | undefined, TlsSecret | undefined, { event: string; secret: TlsSecret }[]][] = [
    ['a new Secret with a readable certificate: created', undefined, edge, [{ event: 'created', secret: edge }]],
    ['an unreadable tls.crt becoming readable: created', unreadable, edge, [{ event: 'created', secret: edge }]],
    ['a re-created Secret after an unreadable one: created only', unreadable, recreated, [{ event: 'created', secret: recreated }]],
    ['another fingerprint in tls.crt: renewed, with the new state', edge, renewed, [{ event: 'renewed', secret: renewed }]],
    ['the same certificate written again: nothing', edge, { ...edge }, []],
    ['labels and creation time changed: nothing', edge, relabelled, []],
    ['tls.crt became unreadable: nothing', edge, unreadable, []],
    ['still unreadable: nothing', unreadable, { ...unreadable }, []],
    ['a new Secret with an unreadable certificate: nothing', undefined, unreadable, []],
    ['no Secret before or after: nothing', undefined, undefined, []],
    ['deleted: revoked, with the last known state', edge, undefined, [{ event: 'revoked', secret: edge }]],
    ['an unreadable Secret deleted: nothing', unreadable, undefined, []],
    ['deleted and re-created (new uid): revoked then created', edge, recreated, [{ event: 'revoked', secret: edge }, { event: 'created', secret: recreated }]],
    ['re-created with the same certificate: still revoked then created', edge, recreatedSameCertificate, [{ event: 'revoked', secret: edge }, { event: 'created', secret: recreatedSameCertificate }]],
    ['re-created with an unreadable certificate: revoked only', edge, recreatedUnreadable, [{ event: 'revoked', secret: edge }]],
  ];
  for (const [name, previous, current, expected] of cases) {
    test(name, () => {
      assert.deepEqual(detect(previous, current), expected);
    });
  }

  test('revoked carries the previous object itself, created the current one', () => {
    const [revoked, created] = detect(edge, recreated);
    assert.equal(revoked!.secret, edge);
    assert.equal(created!.secret, recreated);
  });
});
