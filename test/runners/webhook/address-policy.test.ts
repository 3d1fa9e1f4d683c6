import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ipaddr from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';
import { addressVerdict, blockedMessage, isLoopbackName, parseAllowCidrs, urlProblem } from '../../../src/runners/webhook/address-policy.ts';

/** The range a refused address is named by; undefined when it is allowed. */
const refused = (address: string, allow: string[] = [], host = 'hook.example') => {
  const verdict = addressVerdict(host, address, parseAllowCidrs(allow));
  return verdict.allowed ? undefined : verdict.range;
};

describe('urlProblem', () => {
  test('accepts https anywhere, and http only to this machine by name', () => {
    for (const url of ['https://hooks.example.com/cert', 'https://10.0.0.1:8443/x?y=1', 'http://localhost:8080/hook', 'http://127.0.0.1/', 'http://[::1]:9000/']) {
      assert.equal(urlProblem(url), undefined, url);
    }
  });

  test('refuses http elsewhere and other schemes', () => {
    const http = 'http is allowed only for localhost, 127.0.0.1 or [::1]: use https';
    assert.equal(urlProblem('http://hooks.example.com/'), http);
    assert.equal(urlProblem('http://127.0.0.2/'), http);
    assert.equal(urlProblem('http://localhost.example.com/'), http);
    assert.equal(urlProblem('ftp://hooks.example.com/'), 'scheme ftp is not allowed: use https');
    assert.equal(urlProblem('file:///etc/passwd'), 'scheme file is not allowed: use https');
  });

  test('refuses what is not a URL', () => {
    assert.equal(urlProblem('hooks.example.com/cert'), 'not a valid URL');
    assert.equal(urlProblem(''), 'not a valid URL');
  });

  test('refuses credentials in the URL, pointing to a header from a Secret', () => {
    const message = 'credentials in the URL are not allowed: put them in a header with valueFrom.secretKeyRef';
    assert.equal(urlProblem('https://user:pass@hooks.example.com/'), message);
    assert.equal(urlProblem('https://user@hooks.example.com/'), message);
    assert.equal(urlProblem('https://:pass@hooks.example.com/'), message);
  });

  test('refuses a fragment, even an empty one', () => {
    assert.equal(urlProblem('https://hooks.example.com/x#top'), 'a fragment (#…) is not allowed: it is never sent to the receiver');
    assert.equal(urlProblem('https://hooks.example.com/#'), 'a fragment (#…) is not allowed: it is never sent to the receiver');
  });

  test('its messages end without a period', () => {
    for (const url of ['x', 'ftp://a/', 'http://a/', 'https://u@a/', 'https://a/#']) assert.doesNotMatch(urlProblem(url)!, /\.$/);
  });
});

test('isLoopbackName: exactly localhost, 127.0.0.1 and ::1, bracketed as a URL hostname or not', () => {
  for (const name of ['localhost', '127.0.0.1', '[::1]', '::1']) assert.equal(isLoopbackName(name), true, name);
  for (const name of ['localhost.example', '127.0.0.2', 'LOCALHOST.', '0.0.0.0', '[::]']) assert.equal(isLoopbackName(name), false, name);
});

describe('addressVerdict', () => {
  test('global unicast passes, in either family and IPv4-mapped', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(refused(address), undefined, address);
  });

  test('loopback only for a loopback name: a name resolving to it is refused', () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]', '::1']) {
      assert.equal(refused('127.0.0.1', [], host), undefined, host);
      assert.equal(refused('::1', [], host), undefined, host);
    }
    assert.equal(refused('127.0.0.1', [], 'evil.example'), 'loopback 127.0.0.0/8');
    assert.equal(refused('127.1.2.3', [], 'evil.example'), 'loopback 127.0.0.0/8');
    assert.equal(refused('::1', [], 'evil.example'), 'loopback ::1/128');
    assert.equal(refused('127.0.0.1', ['127.0.0.0/8'], 'evil.example'), 'loopback 127.0.0.0/8');
  });

  test('cloud metadata addresses are refused', () => {
    assert.equal(refused('169.254.169.254'), 'link-local 169.254.0.0/16');
    assert.equal(refused('fd00:ec2::254'), 'metadata fd00:ec2::254/128');
    assert.equal(refused('100.100.100.200'), 'metadata 100.100.100.200/32');
    // Never, even inside an allowed range that holds them.
    assert.equal(refused('fd00:ec2::254', ['fd00::/8']), 'metadata fd00:ec2::254/128');
    assert.equal(refused('100.100.100.200', ['100.64.0.0/10']), 'metadata 100.100.100.200/32');
    assert.equal(refused('fe80::a9fe:a9fe'), 'link-local fe80::/10');
  });

  test('private, unique-local and CGNAT addresses pass only inside an allowed range', () => {
    assert.equal(refused('10.1.2.3'), 'private 10.0.0.0/8');
    assert.equal(refused('10.1.2.3', ['10.0.0.0/8']), undefined);
    assert.equal(refused('10.1.2.3', ['10.2.0.0/16', '192.168.0.0/16']), 'private 10.0.0.0/8');
    assert.equal(refused('172.31.255.1'), 'private 172.16.0.0/12');
    assert.equal(refused('192.168.1.1', ['192.168.1.0/24']), undefined);
    assert.equal(refused('fd12:3456::1'), 'unique-local fc00::/7');
    assert.equal(refused('fd12:3456::1', ['fd12:3456::/32']), undefined);
    assert.equal(refused('100.64.0.1'), 'carrier-grade NAT 100.64.0.0/10');
    assert.equal(refused('100.64.0.1', ['100.64.0.0/10']), undefined);
    assert.equal(refused('::ffff:10.1.2.3', ['10.0.0.0/8']), undefined);
  });

  test('link-local is refused even when allowed', () => {
    assert.equal(refused('169.254.169.254', ['169.254.0.0/16']), 'link-local 169.254.0.0/16');
    assert.equal(refused('fe80::1', ['fe80::/10']), 'link-local fe80::/10');
    assert.equal(refused('::ffff:169.254.169.254', ['169.254.0.0/16']), 'IPv4-mapped IPv6 of link-local 169.254.0.0/16');
  });

  test('the other special ranges are refused and named', () => {
    const cases: [string, string][] = [
      ['0.0.0.0', 'unspecified 0.0.0.0/8'],
      ['::', 'unspecified ::/128'],
      ['255.255.255.255', 'broadcast 255.255.255.255/32'],
      ['224.0.0.1', 'multicast 224.0.0.0/4'],
      ['ff02::1', 'multicast ff00::/8'],
      ['240.0.0.1', 'reserved 240.0.0.0/4'],
      ['198.18.0.1', 'benchmarking 198.18.0.0/15'],
      ['2001:2::1', 'benchmarking 2001:2::/48'],
      ['192.0.2.1', 'documentation 192.0.2.0/24'],
      ['2001:db8::1', 'documentation 2001:db8::/32'],
      ['fec0::1', 'site-local (deprecated) fec0::/10'],
    ];
    for (const [address, range] of cases) assert.equal(refused(address), range, address);
  });

  test('an IPv6 address that embeds an IPv4 one is judged as that address', () => {
    assert.equal(refused('::ffff:169.254.169.254'), 'IPv4-mapped IPv6 of link-local 169.254.0.0/16');
    assert.equal(refused('::ffff:a9fe:a9fe'), 'IPv4-mapped IPv6 of link-local 169.254.0.0/16');
    assert.equal(refused('::169.254.169.254'), 'IPv4-compatible IPv6 of link-local 169.254.0.0/16');
    assert.equal(refused('::a9fe:a9fe'), 'IPv4-compatible IPv6 of link-local 169.254.0.0/16');
    assert.equal(refused('::8.8.8.8'), undefined);
    assert.equal(refused('::a00:1'), 'IPv4-compatible IPv6 of private 10.0.0.0/8');
    assert.equal(refused('::ffff:127.0.0.1', [], 'evil.example'), 'IPv4-mapped IPv6 of loopback 127.0.0.0/8');
  });

  test('NAT64, 6to4 and Teredo are refused outright, whatever they carry', () => {
    assert.equal(refused('64:ff9b::808:808'), 'NAT64 64:ff9b::/96');
    assert.equal(refused('64:ff9b::a9fe:a9fe'), 'NAT64 64:ff9b::/96');
    assert.equal(refused('64:ff9b:1::1'), 'NAT64 64:ff9b:1::/48');
    assert.equal(refused('2002:808:808::1'), '6to4 2002::/16');
    assert.equal(refused('2001:0:a9fe:a9fe::1'), 'Teredo 2001::/32');
  });

  test('every range ipaddr.js names is refused', () => {
    // ipaddr.js's own table behind range(), read here only, to catch a range a new version adds.
    type Table = Record<string, [IPv4 | IPv6, number] | [IPv4 | IPv6, number][]>;
    const tables = [ipaddr.IPv4.prototype, ipaddr.IPv6.prototype].map((p) => (p as unknown as { SpecialRanges: Table }).SpecialRanges);
    let checked = 0;
    for (const table of tables) {
      for (const [name, entry] of Object.entries(table)) {
        const ranges = Array.isArray(entry[0]) ? (entry as [IPv4 | IPv6, number][]) : [entry as [IPv4 | IPv6, number]];
        for (const [network, bits] of ranges) {
          const address = network.toString();
          assert.notEqual(refused(address), undefined, `${name} ${address}/${bits}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 40, `only ${checked} ranges`);
  });

  test('what is not an address in canonical form is refused', () => {
    assert.equal(refused('hooks.example.com'), 'not an IP address');
    assert.equal(refused('2852039166'), 'not an IP address');
  });

  test('the numeric forms of 169.254.169.254 reach it as that address, through the URL parser', () => {
    const forms = ['http://169.254.169.254/', 'http://2852039166/', 'http://0xa9.0xfe.0xa9.0xfe/', 'http://0251.0376.0251.0376/', 'http://0xa9fea9fe/', 'http://169.254.43518/'];
    for (const url of forms) {
      const { hostname } = new URL(url);
      assert.equal(hostname, '169.254.169.254', url);
      assert.deepEqual(addressVerdict(hostname, hostname, []), { allowed: false, range: 'link-local 169.254.0.0/16' }, url);
    }
    const { hostname } = new URL('http://[::ffff:169.254.169.254]/');
    assert.equal(hostname, '[::ffff:a9fe:a9fe]');
    assert.equal(refused(hostname.slice(1, -1), [], hostname), 'IPv4-mapped IPv6 of link-local 169.254.0.0/16');
  });
});

describe('parseAllowCidrs', () => {
  test('reads IPv4 and IPv6 CIDRs', () => {
    const ranges = parseAllowCidrs(['10.0.0.0/8', 'fd00::/8', '192.168.7.0/24']);
    assert.deepEqual(ranges.map((r) => r.cidr), ['10.0.0.0/8', 'fd00::/8', '192.168.7.0/24']);
    assert.deepEqual(parseAllowCidrs([]), []);
  });

  test('refuses a bad one, saying which and what is wanted', () => {
    const notCidr = (cidr: string) => `--webhook-allow-cidr ${JSON.stringify(cidr)}: not a CIDR (want e.g. 10.0.0.0/8 or fd00::/8)`;
    for (const cidr of ['10.0.0.0/33', '10.0.0.0', 'fd00::/129', '0xa.0.0.0/8', ' 10.0.0.0/8', 'ten/8']) {
      assert.throws(() => parseAllowCidrs(['10.0.0.0/8', cidr]), { message: notCidr(cidr) }, cidr);
    }
  });

  test('refuses host bits, naming the network meant', () => {
    assert.throws(() => parseAllowCidrs(['192.168.1.0/16']), { message: '--webhook-allow-cidr "192.168.1.0/16": host bits set (did you mean 192.168.0.0/16?)' });
    assert.throws(() => parseAllowCidrs(['fd00::1/8']), { message: '--webhook-allow-cidr "fd00::1/8": host bits set (did you mean fd00::/8?)' });
  });
});

test('blockedMessage', () => {
  assert.equal(
    blockedMessage('evil.example', '127.0.0.1', 'loopback 127.0.0.0/8'),
    'network policy blocked: evil.example resolved to 127.0.0.1 (loopback 127.0.0.0/8)',
  );
});
