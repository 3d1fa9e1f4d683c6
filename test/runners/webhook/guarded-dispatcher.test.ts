// Real servers on loopback only. Every URL or address that points off this machine is dialed by
// dial.netns.ts inside a network namespace that has only loopback, so a broken guard sends nothing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import { createAuthority } from '../../../src/certs/authority.ts';
import { blockedMessage } from '../../../src/runners/webhook/address-policy.ts';
import { NetworkPolicyError, webhookDispatcher, type DispatcherOptions } from '../../../src/runners/webhook/guarded-dispatcher.ts';
import { runIsolated } from '../../support/netns.ts';
import type { DialCase, DialResult } from './dial.netns.ts';

/** A receiver on 127.0.0.1 that counts the connections it is offered and the TLS names asked for. */
async function receiver(server: Server) {
  const seen = { connections: 0, servernames: [] as (string | false | null)[] };
  server.on('connection', () => seen.connections++);
  server.on('secureConnection', (socket: TLSSocket) => seen.servernames.push(socket.servername));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, port: (server.address() as AddressInfo).port };
}

const answer = (_req: unknown, res: { end(body: string): void }) => res.end('ok');

/** POSTs to `url` through a fresh guarded dispatcher; the status and body, or the error. */
async function post(url: string, opts: Partial<DispatcherOptions> = {}, headers: Record<string, string> = {}) {
  const dispatcher = webhookDispatcher({ allow: [], connectTimeoutMs: 2000, ...opts });
  try {
    const { statusCode, body } = await request(url, { method: 'POST', body: '{}', headers, dispatcher });
    return { status: statusCode, body: await body.text() };
  } finally {
    await dispatcher.destroy();
  }
}

const noLookup = async (): Promise<never> => assert.fail('an IP literal is not looked up');

describe('webhookDispatcher on loopback', () => {
  const authority = createAuthority({ name: 'certhook test' });
  const issued = authority.issue({ dnsNames: ['localhost'] });
  let http: Awaited<ReturnType<typeof receiver>>;
  let https: Awaited<ReturnType<typeof receiver>>;

  before(async () => {
    http = await receiver(createHttpServer(answer));
    https = await receiver(createHttpsServer({ key: issued.keyPem, cert: issued.fullchainPem }, answer));
  });

  after(() => {
    for (const { server } of [http, https]) {
      server.closeAllConnections();
      server.close();
    }
  });

  test('dials an IP-literal URL as is, without a lookup', async () => {
    assert.deepEqual(await post(`http://127.0.0.1:${http.port}/hook`, { lookup: noLookup }), { status: 200, body: 'ok' });
  });

  test('https to localhost with the receiver\'s CA: SNI and verification use the name, not the address', async () => {
    const before = https.seen.servernames.length;
    assert.deepEqual(await post(`https://localhost:${https.port}/hook`, { ca: authority.rootPem }), { status: 200, body: 'ok' });
    // A Host header does not change the name TLS checks, as it would with undici's own connector.
    assert.deepEqual(await post(`https://localhost:${https.port}/hook`, { ca: authority.rootPem }, { host: 'other.example' }), { status: 200, body: 'ok' });
    assert.deepEqual(https.seen.servernames.slice(before), ['localhost', 'localhost']);
  });

  test('https without the receiver\'s CA fails verification', async () => {
    await assert.rejects(post(`https://localhost:${https.port}/hook`), { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
  });

  test('a name resolving to loopback is refused before any connection is made', async () => {
    const before = http.seen.connections;
    const lookup = async (hostname: string) => (hostname === 'rebind.test' ? [{ address: '127.0.0.1', family: 4 as const }] : []);
    const refusal = await post(`http://rebind.test:${http.port}/hook`, { lookup }).catch((error: unknown) => error);
    assert.ok(refusal instanceof NetworkPolicyError);
    assert.equal(refusal.message, 'network policy blocked: rebind.test resolved to 127.0.0.1 (loopback 127.0.0.0/8)');
    assert.deepEqual([refusal.code, refusal.host, refusal.address, refusal.range], ['ERR_NETWORK_POLICY', 'rebind.test', '127.0.0.1', 'loopback 127.0.0.0/8']);
    assert.equal(http.seen.connections, before);
  });

  test('when an address refuses the connection, the next checked one is dialed', async () => {
    // Where localhost is ::1 first and the receiver listens on 127.0.0.1 only.
    const lookup = async () => [{ address: '::1', family: 6 as const }, { address: '127.0.0.1', family: 4 as const }];
    assert.deepEqual(await post(`http://localhost:${http.port}/hook`, { lookup }), { status: 200, body: 'ok' });
  });
});

/** Runs dial.netns.ts on `cases` in a fresh network namespace whose only interface is loopback. */
const dialIsolated = (cases: DialCase[]) => runIsolated<DialResult[]>(join(import.meta.dirname, 'dial.netns.ts'), cases, 60_000);

test('addresses off this machine are refused, in any form (in a loopback-only network namespace)', async () => {
  const metadata = 'link-local 169.254.0.0/16';
  // URL, then the host and address the refusal names, and the range.
  const refusals: [string, string, string, string][] = [
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', '169.254.169.254', metadata],
    ['https://169.254.169.254/', '169.254.169.254', '169.254.169.254', metadata],
    ['http://2852039166/', '169.254.169.254', '169.254.169.254', metadata],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254', '169.254.169.254', metadata],
    ['http://0251.0376.0251.0376/', '169.254.169.254', '169.254.169.254', metadata],
    ['http://10.0.0.1/', '10.0.0.1', '10.0.0.1', 'private 10.0.0.0/8'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254', 'fd00:ec2::254', 'metadata fd00:ec2::254/128'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe', '::ffff:a9fe:a9fe', `IPv4-mapped IPv6 of ${metadata}`],
    ['http://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe', '::ffff:a9fe:a9fe', `IPv4-mapped IPv6 of ${metadata}`],
    ['http://[::169.254.169.254]/', '::a9fe:a9fe', '::a9fe:a9fe', `IPv4-compatible IPv6 of ${metadata}`],
    ['http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe', 'NAT64 64:ff9b::/96'],
    ['http://[2002:a9fe:a9fe::1]/', '2002:a9fe:a9fe::1', '2002:a9fe:a9fe::1', '6to4 2002::/16'],
    ['http://[2001:0:a9fe:a9fe::1]/', '2001:0:a9fe:a9fe::1', '2001:0:a9fe:a9fe::1', 'Teredo 2001::/32'],
    ['http://[fe80::1]/', 'fe80::1', 'fe80::1', 'link-local fe80::/10'],
    ['http://0.0.0.0/', '0.0.0.0', '0.0.0.0', 'unspecified 0.0.0.0/8'],
    ['http://[::]/', '::', '::', 'unspecified ::/128'],
    ['http://255.255.255.255/', '255.255.255.255', '255.255.255.255', 'broadcast 255.255.255.255/32'],
    ['http://224.0.0.1/', '224.0.0.1', '224.0.0.1', 'multicast 224.0.0.0/4'],
    ['http://240.0.0.1/', '240.0.0.1', '240.0.0.1', 'reserved 240.0.0.0/4'],
    ['http://100.64.0.1/', '100.64.0.1', '100.64.0.1', 'carrier-grade NAT 100.64.0.0/10'],
    ['http://100.100.100.200/', '100.100.100.200', '100.100.100.200', 'metadata 100.100.100.200/32'],
    ['http://172.16.0.1/', '172.16.0.1', '172.16.0.1', 'private 172.16.0.0/12'],
    ['http://192.168.1.1/', '192.168.1.1', '192.168.1.1', 'private 192.168.0.0/16'],
    // Names: one refused address among good ones is enough.
    ['https://metadata.test/', 'metadata.test', '169.254.169.254', metadata],
    ['https://mixed.test/', 'mixed.test', '169.254.169.254', metadata],
  ];
  const resolves: Record<string, DialCase['resolves']> = {
    'https://metadata.test/': [{ address: '169.254.169.254', family: 4 }],
    'https://mixed.test/': [{ address: '93.184.215.14', family: 4 }, { address: '169.254.169.254', family: 4 }],
  };
  // A public address passes and is dialed, which the namespace makes fail: the guard is not refusing everything.
  const allowed = { url: 'http://public.test/', resolves: [{ address: '93.184.215.14', family: 4 as const }] };

  const results = await dialIsolated([...refusals.map(([url]) => ({ url, resolves: resolves[url] })), allowed]);

  assert.deepEqual(
    results.slice(0, -1),
    refusals.map(([url, host, address, range]) => ({ url, code: 'ERR_NETWORK_POLICY', message: blockedMessage(host, address, range) })),
  );
  const last = results.at(-1)!;
  assert.equal(last.url, allowed.url);
  assert.notEqual(last.code, 'ERR_NETWORK_POLICY', last.message);
  assert.match(last.code ?? '', /^(ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT)$/, last.message);
});
