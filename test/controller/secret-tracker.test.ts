import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTracker } from '../../src/controller/secret-tracker.ts';
import { certificate, secret } from './objects.ts';

const v1 = certificate(['api.example.com']);
const v2 = certificate(['api.example.com']);
const readable = secret('edge-tls', v1, { uid: 'uid-1' });
const unreadable = secret('edge-tls', undefined, { uid: 'uid-1' });
const KEY = 'web/edge-tls';

describe('SecretTracker', () => {
  test('an unreadable spell keeps the certificate the Secret held before it, through every unreadable write', () => {
    const tracker = new SecretTracker();
    tracker.settled(KEY, readable, undefined, 1);
    tracker.settled(KEY, unreadable, undefined, 2);
    tracker.settled(KEY, { ...unreadable, problem: { reason: 'Empty', message: 'tls.crt is empty' } }, undefined, 3);
    assert.equal(tracker.observation(KEY)?.secret?.certificate, undefined);
    assert.equal(tracker.observation(KEY)?.lastCertificate, v1);
    tracker.settled(KEY, { ...readable, certificate: v2 }, undefined, 4);
    assert.deepEqual(tracker.observation(KEY), { secret: { ...readable, certificate: v2 }, at: 4 });
  });

  test('not for another Secret of the same name, nor one never readable', () => {
    const tracker = new SecretTracker();
    tracker.settled(KEY, readable, undefined, 1);
    tracker.settled(KEY, { ...unreadable, uid: 'uid-2' }, undefined, 2);
    assert.equal(tracker.observation(KEY)?.lastCertificate, undefined);
    tracker.settled(KEY, undefined, undefined, 3);
    tracker.settled(KEY, unreadable, undefined, 4);
    assert.equal(tracker.observation(KEY)?.lastCertificate, undefined);
  });

  test('a refused firing leaves the observation as it was, and settles the change', () => {
    const tracker = new SecretTracker();
    tracker.settled(KEY, readable, undefined, 1);
    tracker.changed(KEY, undefined);
    const change = tracker.pendingChange(KEY);
    tracker.settled(KEY, { ...readable, certificate: v2 }, change, 2, true);
    assert.deepEqual(tracker.observation(KEY), { secret: readable, at: 1 });
    assert.equal(tracker.unsettled, 0);
  });
});
