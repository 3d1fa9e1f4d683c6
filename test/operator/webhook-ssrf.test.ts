// SSRF end to end: DeployHooks whose webhook URLs name the cloud metadata service, private,
// special and IPv4-in-IPv6 addresses in every spelling, and names resolving to them, fired by a
// real operator against the sandbox. Each run must fail at once with reason NetworkPolicy, after
// one attempt of class network_policy and no retry, while loopback receivers named by loopback
// names are delivered to. The operator and sandbox run in webhook-ssrf.netns.ts, in a network
// namespace with only loopback: even a guard that let a request through would send nothing off
// this machine. A second operator, allowlisting 10.0.0.0/8, shows that range let past the guard
// (and failing there for want of a route) while every other refusal stands.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runIsolated } from '../support/netns.ts';
import type { SsrfInput, SsrfOutput, SsrfRun } from './webhook-ssrf.netns.ts';

const META = 'link-local 169.254.0.0/16';
const LOOPBACK = 'loopback 127.0.0.0/8';

/** A URL that must be refused: the host and address the refusal names, and the range (its kind first). */
interface Refusal {
  hook: string;
  url: string;
  host: string;
  address: string;
  range: string;
}

// Hook name, URL, then the host and address the message names and the range. The host of an
// IP-literal URL is the literal as the URL parser writes it (IPv6 without brackets).
const refusals: Refusal[] = ([
  // Cloud metadata services.
  ['aws-metadata', 'https://169.254.169.254/latest/meta-data/', '169.254.169.254', '169.254.169.254', META],
  ['aws-metadata-v6', 'https://[fd00:ec2::254]/', 'fd00:ec2::254', 'fd00:ec2::254', 'metadata fd00:ec2::254/128'],
  ['alibaba-metadata', 'https://100.100.100.200/', '100.100.100.200', '100.100.100.200', 'metadata 100.100.100.200/32'],
  // Private, shared and special IPv4.
  ['private-10', 'https://10.0.0.1/', '10.0.0.1', '10.0.0.1', 'private 10.0.0.0/8'],
  ['private-172', 'https://172.16.0.1/', '172.16.0.1', '172.16.0.1', 'private 172.16.0.0/12'],
  ['private-192', 'https://192.168.1.1/', '192.168.1.1', '192.168.1.1', 'private 192.168.0.0/16'],
  ['cgnat', 'https://100.64.0.1/', '100.64.0.1', '100.64.0.1', 'carrier-grade NAT 100.64.0.0/10'],
  ['unspecified-v4', 'https://0.0.0.0/', '0.0.0.0', '0.0.0.0', 'unspecified 0.0.0.0/8'],
  ['unspecified-v6', 'https://[::]/', '::', '::', 'unspecified ::/128'],
  // Linux dials this machine for 0.0.0.0 and ::, so these would reach the trap.
  ['unspecified-v4-trap', 'https://0.0.0.0:{TRAP}/', '0.0.0.0', '0.0.0.0', 'unspecified 0.0.0.0/8'],
  ['unspecified-v6-trap', 'https://[::]:{TRAP}/', '::', '::', 'unspecified ::/128'],
  ['broadcast', 'https://255.255.255.255/', '255.255.255.255', '255.255.255.255', 'broadcast 255.255.255.255/32'],
  ['multicast', 'https://224.0.0.1/', '224.0.0.1', '224.0.0.1', 'multicast 224.0.0.0/4'],
  ['reserved', 'https://240.0.0.1/', '240.0.0.1', '240.0.0.1', 'reserved 240.0.0.0/4'],
  // Other spellings of 169.254.169.254: the URL parser makes them the dotted quad.
  ['metadata-decimal', 'https://2852039166/', '169.254.169.254', '169.254.169.254', META],
  ['metadata-hex', 'https://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254', '169.254.169.254', META],
  ['metadata-octal', 'https://0251.0376.0251.0376/', '169.254.169.254', '169.254.169.254', META],
  ['metadata-two-parts', 'https://169.254.43518/', '169.254.169.254', '169.254.169.254', META],
  ['metadata-trailing-dot', 'https://169.254.169.254./', '169.254.169.254', '169.254.169.254', META],
  // IPv6 carrying an IPv4 address.
  ['metadata-v4-mapped', 'https://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe', '::ffff:a9fe:a9fe', `IPv4-mapped IPv6 of ${META}`],
  ['metadata-v4-mapped-hex', 'https://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe', '::ffff:a9fe:a9fe', `IPv4-mapped IPv6 of ${META}`],
  ['metadata-v4-compatible', 'https://[::169.254.169.254]/', '::a9fe:a9fe', '::a9fe:a9fe', `IPv4-compatible IPv6 of ${META}`],
  ['metadata-v4-translated', 'https://[::ffff:0:a9fe:a9fe]/', '::ffff:0:a9fe:a9fe', '::ffff:0:a9fe:a9fe', 'IPv4-translated ::ffff:0:0:0/96'],
  ['metadata-nat64', 'https://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe', 'NAT64 64:ff9b::/96'],
  ['metadata-6to4', 'https://[2002:a9fe:a9fe::1]/', '2002:a9fe:a9fe::1', '2002:a9fe:a9fe::1', '6to4 2002::/16'],
  ['metadata-teredo', 'https://[2001:0:a9fe:a9fe::1]/', '2001:0:a9fe:a9fe::1', '2001:0:a9fe:a9fe::1', 'Teredo 2001::/32'],
  ['link-local-v6', 'https://[fe80::1]/', 'fe80::1', 'fe80::1', 'link-local fe80::/10'],
  // Loopback under a name (or literal) that is not a loopback name, at the trap's port (the
  // IPv4-compatible ::7f00:1 is not this machine's, but judged as the 127.0.0.1 it carries).
  ['loopback-other', 'https://127.0.0.2:{TRAP}/', '127.0.0.2', '127.0.0.2', LOOPBACK],
  ['loopback-v4-mapped', 'https://[::ffff:127.0.0.1]:{TRAP}/', '::ffff:7f00:1', '::ffff:7f00:1', `IPv4-mapped IPv6 of ${LOOPBACK}`],
  ['loopback-v4-compatible', 'https://[::127.0.0.1]:{TRAP}/', '::7f00:1', '::7f00:1', `IPv4-compatible IPv6 of ${LOOPBACK}`],
  // Names (DNS rebinding): the addresses they resolve to are judged, every one of them.
  ['name-metadata', 'https://metadata.rebind.test/', 'metadata.rebind.test', '169.254.169.254', META],
  ['name-metadata-v6', 'https://v6.rebind.test/', 'v6.rebind.test', 'fd00:ec2::254', 'metadata fd00:ec2::254/128'],
  ['name-mixed', 'https://mixed.rebind.test/', 'mixed.rebind.test', '169.254.169.254', META],
  ['name-loopback', 'https://evil.rebind.test:{TRAP}/', 'evil.rebind.test', '127.0.0.1', LOOPBACK],
] as const).map(([hook, url, host, address, range]) => ({ hook, url, host, address, range }));

const names: SsrfInput['names'] = {
  'metadata.rebind.test': [{ address: '169.254.169.254', family: 4 }],
  'v6.rebind.test': [{ address: 'fd00:ec2::254', family: 6 }],
  // One refused address among good ones is enough.
  'mixed.rebind.test': [{ address: '93.184.215.14', family: 4 }, { address: '169.254.169.254', family: 4 }],
  'evil.rebind.test': [{ address: '127.0.0.1', family: 4 }],
  'internal.rebind.test': [{ address: '10.0.0.1', family: 4 }],
};

// Loopback names, dialed for real: the guard does not refuse everything.
const controls = [
  { hook: 'control-http', url: '{HTTP}/ssrf-control' },
  { hook: 'control-https', url: '{HTTPS}/ssrf-control' },
];

// The operator allowlisting 10.0.0.0/8, and the ranges that hold two metadata services
// (100.64.0.0/10, fd00::/8): those addresses are dialed (and unreachable in the namespace: a
// connection error, retried, so no retries here to keep the test short); the metadata services
// in them are not.
const allowed = [
  { hook: 'allowed-10', url: 'https://10.0.0.1/', address: '10.0.0.1' },
  { hook: 'allowed-name', url: 'https://internal.rebind.test/', address: '10.0.0.1' },
  { hook: 'allowed-cgnat', url: 'https://100.64.0.1/', address: '100.64.0.1' },
];
const stillRefused = refusals.filter((r) => ['aws-metadata', 'private-172', 'aws-metadata-v6', 'alibaba-metadata', 'metadata-v4-mapped', 'name-loopback'].includes(r.hook));

const input: SsrfInput = {
  names,
  namespaces: [
    { name: 'ssrf', allow: [], hooks: [...refusals, ...controls].map(({ hook, url }) => ({ hook, url, retries: 3 })) },
    {
      name: 'ssrf-allow',
      allow: ['10.0.0.0/8', '100.64.0.0/10', 'fd00::/8'],
      hooks: [...allowed.map(({ hook, url }) => ({ hook, url, retries: 0 })), ...stillRefused.map(({ hook, url }) => ({ hook, url, retries: 3 }))],
    },
  ],
};

/** Runs webhook-ssrf.netns.ts in a fresh network namespace whose only interface is loopback. */
const runSsrfScript = () => runIsolated<SsrfOutput>(join(import.meta.dirname, 'webhook-ssrf.netns.ts'), input, 55_000);

/** The run of a hook, which the script fired once. */
function runOf(out: SsrfOutput, namespace: string, hook: string): SsrfRun {
  const run = out.runs.find((r) => r.namespace === namespace && r.hook === hook);
  assert.ok(run, `no run of ${namespace}/${hook}: ${out.runs.map((r) => `${r.namespace}/${r.hook}`).join(', ')}`);
  return run;
}

function assertRefused(run: SsrfRun, { host, address, range }: Refusal) {
  const detail = JSON.stringify(run);
  assert.equal(run.phase, 'Failed', detail);
  assert.equal(run.reason, 'NetworkPolicy', detail);
  // The message names the URL's origin (never its path), then the host, the address and the range.
  const origin = new URL(run.url).origin;
  assert.equal(run.message, `${origin}: network policy blocked: ${host} resolved to ${address} (${range})`, detail);
  assert.equal(run.attempts.length, 1, `a refusal is never retried (retries: 3): ${detail}`);
  assert.equal(run.attempts[0]!.errorClass, 'network_policy', detail);
  assert.equal(run.attempts[0]!.statusCode, undefined, detail);
  // The probe of the URL goes through the same guard.
  assert.equal(run.reachable?.status, 'False', detail);
  assert.equal(run.reachable?.reason, 'NetworkPolicy', detail);
}

describe('webhook SSRF, end to end through the sandbox and the operator (in a loopback-only network namespace)', () => {
  let out: SsrfOutput;
  before(async () => {
    out = await runSsrfScript();
  });

  test(`every URL form off this machine is refused: ${refusals.length} forms`, async (t) => {
    assert.equal(out.runs.filter((r) => r.namespace === 'ssrf').length, refusals.length + controls.length, 'one run per hook');
    // A subtest each, so that every form let through is reported, not only the first.
    for (const refusal of refusals) await t.test(`${refusal.hook}: ${refusal.url}`, () => assertRefused(runOf(out, 'ssrf', refusal.hook), refusal));
  });

  test('http://127.0.0.1 and https://localhost (with its caBundle) are delivered: the guard does not refuse everything', () => {
    for (const { hook } of controls) {
      const run = runOf(out, 'ssrf', hook);
      assert.equal(run.phase, 'Succeeded', JSON.stringify(run));
      assert.equal(run.reason, 'Delivered', JSON.stringify(run));
      assert.deepEqual(run.attempts.map((a) => [a.attempt, a.statusCode, a.errorClass]), [[1, 200, undefined]]);
      assert.equal(run.reachable?.status, 'True', JSON.stringify(run));
    }
    assert.deepEqual(out.received, { http: ['/ssrf-control'], https: ['/ssrf-control'] });
  });

  test('nothing reached the trap that evil.rebind.test, 127.0.0.2, ::ffff:127.0.0.1, 0.0.0.0 and :: point at', () => {
    assert.deepEqual({ connections: out.trap.connections, requests: out.trap.requests }, { connections: 0, requests: 0 });
  });

  test('only names are resolved: no IP-literal form is handed to the resolver', () => {
    assert.deepEqual(out.lookups, [...Object.keys(names), 'localhost'].sort());
  });

  test('--webhook-allow-cidr lets 10.0.0.1 and 100.64.0.1 past the guard (then unreachable: ENETUNREACH); metadata and every other refusal stand', () => {
    for (const { hook, address } of allowed) {
      const run = runOf(out, 'ssrf-allow', hook);
      const detail = JSON.stringify(run);
      assert.equal(run.phase, 'Failed', detail);
      assert.equal(run.reason, 'RetriesExhausted', detail);
      assert.equal(run.attempts.length, 1, detail);
      assert.equal(run.attempts[0]!.errorClass, 'connection', detail);
      assert.match(run.attempts[0]!.message ?? '', new RegExp(`^ENETUNREACH: .*${address.replaceAll('.', '\\.')}`), detail);
      assert.doesNotMatch(run.message ?? '', /network policy/, detail);
      assert.equal(run.reachable?.reason, 'ConnectionFailed', detail);
    }
    for (const refusal of stillRefused) assertRefused(runOf(out, 'ssrf-allow', refusal.hook), refusal);
    assert.equal(out.runs.filter((r) => r.namespace === 'ssrf-allow').length, allowed.length + stillRefused.length, 'one run per hook');
  });
});
