import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateEvent } from '../../src/api/enums.ts';
import { domainMatches, hookFires, hookSelects, mostRecentCertificate } from '../../src/controller/match.ts';
import { certificate, hook, secret } from './objects.ts';

describe('domainMatches', () => {
  const cases: [pattern: string, name: string, matches: boolean][] = [
    ['api.example.com', 'api.example.com', true],
    ['api.example.com', 'API.Example.COM', true],
    ['API.EXAMPLE.COM', 'api.example.com', true],
    ['api.example.com', 'www.example.com', false],
    ['api.example.com', 'api.example.com.evil.org', false],
    ['example.com', 'api.example.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'API.Example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', '.example.com', false],
    ['*.example.com', 'aexample.com', false],
    ['*.example.com', 'a.example.org', false],
    // A certificate's own wildcard name matches only the same wildcard pattern.
    ['*.example.com', '*.example.com', true],
    ['*.example.com', '*.EXAMPLE.com', true],
    ['api.example.com', '*.example.com', false],
    ['example.com', '*.example.com', false],
    ['*.com', '*.example.com', false],
    ['*.example.com', '*.a.example.com', false],
  ];
  for (const [pattern, name, matches] of cases) {
    test(`${pattern} ${matches ? 'matches' : 'does not match'} ${name}`, () => {
      assert.equal(domainMatches(pattern, name), matches);
    });
  }
});

describe('hookSelects', () => {
  const sans = certificate(['api.example.com', 'www.example.com'], { commonName: 'cn.example.com' });
  const cnOnly = certificate([], { commonName: 'cn.example.com' });
  const wildcard = certificate(['*.example.com']);

  const cases: [string, Parameters<typeof hook>[0], ReturnType<typeof secret>, boolean][] = [
    ['no domains and no selector: every TLS Secret of the namespace', {}, secret('a', sans), true],
    ['a Secret of another namespace: never', {}, secret('a', sans, { namespace: 'other' }), false],
    ['any DNS name of the certificate may match', { domains: ['www.example.com'] }, secret('a', sans), true],
    ['any pattern may match', { domains: ['nope.example.org', '*.example.com'] }, secret('a', sans), true],
    ['no DNS name matches', { domains: ['shop.example.com'] }, secret('a', sans), false],
    ['the CN is ignored when there are DNS names', { domains: ['cn.example.com'] }, secret('a', sans), false],
    ['the CN counts when there are no DNS names', { domains: ['cn.example.com'] }, secret('a', cnOnly), true],
    ['a wildcard certificate and the same wildcard pattern', { domains: ['*.example.com'] }, secret('a', wildcard), true],
    ['a wildcard certificate and an exact name under it', { domains: ['api.example.com'] }, secret('a', wildcard), false],
    ['domains and no readable certificate', { domains: ['api.example.com'] }, secret('a', undefined), false],
    ['matchLabels held', { secretSelector: { matchLabels: { tier: 'edge' } } }, secret('a', sans, { labels: { tier: 'edge', team: 'x' } }), true],
    ['matchLabels with another value', { secretSelector: { matchLabels: { tier: 'edge' } } }, secret('a', sans, { labels: { tier: 'core' } }), false],
    ['matchLabels missing', { secretSelector: { matchLabels: { tier: 'edge' } } }, secret('a', sans), false],
    ['matchExpressions In held', { secretSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge', 'web'] }] } }, secret('a', sans, { labels: { tier: 'web' } }), true],
    ['matchExpressions In not held', { secretSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge'] }] } }, secret('a', sans, { labels: { tier: 'web' } }), false],
    ['matchExpressions NotIn with the label absent', { secretSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['edge'] }] } }, secret('a', sans), true],
    ['matchExpressions Exists', { secretSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }, secret('a', sans, { labels: { tier: '' } }), true],
    ['matchExpressions DoesNotExist', { secretSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }, secret('a', sans, { labels: { tier: 'edge' } }), false],
    ['matchLabels and matchExpressions both must hold', { secretSelector: { matchLabels: { tier: 'edge' }, matchExpressions: [{ key: 'team', operator: 'Exists' }] } }, secret('a', sans, { labels: { tier: 'edge' } }), false],
    ['domains match but the selector does not', { domains: ['api.example.com'], secretSelector: { matchLabels: { tier: 'edge' } } }, secret('a', sans), false],
    ['the selector matches but no domain does', { domains: ['shop.example.com'], secretSelector: { matchLabels: { tier: 'edge' } } }, secret('a', sans, { labels: { tier: 'edge' } }), false],
    ['both domains and selector hold', { domains: ['api.example.com'], secretSelector: { matchLabels: { tier: 'edge' } } }, secret('a', sans, { labels: { tier: 'edge' } }), true],
  ];
  for (const [name, spec, tls, selects] of cases) {
    test(name, () => {
      assert.equal(hookSelects(hook(spec), tls), selects);
    });
  }
});

describe('hookFires', () => {
  const tls = secret('edge-tls', certificate(['api.example.com']), { labels: { tier: 'edge' } });
  const events: CertificateEvent[] = ['created', 'renewed', 'revoked'];
  const fired = (spec: Parameters<typeof hook>[0]) => events.filter((event) => hookFires(hook(spec), event, tls));

  test('an enabled hook with the default onEvents fires on all three events', () => {
    assert.deepEqual(fired({}), events);
  });

  test('a disabled hook fires on nothing', () => {
    assert.deepEqual(fired({ enabled: false }), []);
  });

  test('only the events in onEvents fire', () => {
    assert.deepEqual(fired({ onEvents: ['created', 'renewed'] }), ['created', 'renewed']);
    assert.deepEqual(fired({ onEvents: ['revoked'] }), ['revoked']);
  });

  test('a hook that does not select the Secret fires on nothing', () => {
    assert.deepEqual(fired({ domains: ['shop.example.com'] }), []);
    assert.deepEqual(fired({ secretSelector: { matchLabels: { tier: 'core' } } }), []);
    assert.deepEqual(events.filter((event) => hookFires(hook({}), event, { ...tls, namespace: 'other' })), []);
  });
});

describe('mostRecentCertificate: the Secret a manual run without secretRef runs with', () => {
  const from = (day: number) => ({ notBefore: new Date(Date.UTC(2025, 5, day)) });
  const older = secret('older', certificate(['a.example.com'], from(1)), { labels: { app: 'web' } });
  const newer = secret('newer', certificate(['b.example.com'], from(5)), { labels: { app: 'web' } });
  const twin = secret('a-twin', certificate(['c.example.com'], from(5)), { labels: { app: 'web' } });
  const unselected = secret('db', certificate(['d.example.com'], from(9)), { labels: { app: 'db' } });
  const unreadable = secret('broken', undefined, { labels: { app: 'web' } });
  const web = hook({ secretSelector: { matchLabels: { app: 'web' } } });

  test('the latest notBefore among the Secrets the hook selects, whatever the order', () => {
    assert.equal(mostRecentCertificate(web, [older, newer, unselected, unreadable])?.name, 'newer');
    assert.equal(mostRecentCertificate(web, [unreadable, unselected, newer, older])?.name, 'newer');
  });

  test('a tie goes to the first name, so the choice is stable', () => {
    assert.equal(mostRecentCertificate(web, [newer, twin])?.name, 'a-twin');
    assert.equal(mostRecentCertificate(web, [twin, newer])?.name, 'a-twin');
  });

  test('the hook\'s domains count; none selected: none', () => {
    assert.equal(mostRecentCertificate(hook({ domains: ['a.example.com'] }), [older, newer])?.name, 'older');
    assert.equal(mostRecentCertificate(web, [unselected, unreadable]), undefined);
  });
});
