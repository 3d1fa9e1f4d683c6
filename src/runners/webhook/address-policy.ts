// The SSRF rule for webhook hooks: which URLs a hook may name, and which addresses the operator
// may dial for them. Whoever may write a DeployHook chooses where the operator POSTs from inside
// the cluster: without this rule that could be the cloud metadata service, the API server or any
// pod. Pure: guarded-dispatcher.ts applies addressVerdict to every address it is about to dial.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';

type Address = IPv4 | IPv6;

/** A range the admin allowed (`--webhook-allow-cidr`): private, unique-local or CGNAT addresses in it may be dialed. */
export interface AllowedRange {
  cidr: string;
  range: [Address, number];
}

export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

// Every range ipaddr.js names (the test checks its table against this one), in words, with when
// its addresses may be dialed: `loopback` only for a loopback name, `allowlist` only inside an
// admin's range, `never` not at all. First match wins: Teredo and the 2001:… blocks sit in 2001::/23.
const SPECIAL = ([
  ['0.0.0.0/8', 'unspecified', 'never'],
  ['255.255.255.255/32', 'broadcast', 'never'],
  ['224.0.0.0/4', 'multicast', 'never'],
  ['169.254.0.0/16', 'link-local', 'never'],
  ['127.0.0.0/8', 'loopback', 'loopback'],
  // Cloud metadata services inside ranges an admin may allowlist (Alibaba Cloud's, AWS's IPv6):
  // listed before those ranges so that no allowlist reaches them.
  ['100.100.100.200/32', 'metadata', 'never'],
  ['100.64.0.0/10', 'carrier-grade NAT', 'allowlist'],
  ['10.0.0.0/8', 'private', 'allowlist'],
  ['172.16.0.0/12', 'private', 'allowlist'],
  ['192.168.0.0/16', 'private', 'allowlist'],
  ['192.0.0.0/24', 'IETF protocol assignments', 'never'],
  ['192.0.2.0/24', 'documentation', 'never'],
  ['192.88.99.0/24', '6to4 relay anycast', 'never'],
  ['198.18.0.0/15', 'benchmarking', 'never'],
  ['198.51.100.0/24', 'documentation', 'never'],
  ['203.0.113.0/24', 'documentation', 'never'],
  ['240.0.0.0/4', 'reserved', 'never'],
  ['192.175.48.0/24', 'AS112', 'never'],
  ['192.31.196.0/24', 'AS112', 'never'],
  ['192.52.193.0/24', 'AMT', 'never'],
  ['::/128', 'unspecified', 'never'],
  ['::1/128', 'loopback', 'loopback'],
  ['::ffff:0:0:0/96', 'IPv4-translated', 'never'],
  // NAT64, 6to4 and Teredo carry an IPv4 address to a gateway that can reach anything.
  ['64:ff9b::/96', 'NAT64', 'never'],
  ['64:ff9b:1::/48', 'NAT64', 'never'],
  ['2002::/16', '6to4', 'never'],
  ['2001::/32', 'Teredo', 'never'],
  ['100::/64', 'discard-only', 'never'],
  ['2001:2::/48', 'benchmarking', 'never'],
  ['2001:3::/32', 'AMT', 'never'],
  ['2001:4:112::/48', 'AS112', 'never'],
  ['2001:10::/28', 'ORCHID (deprecated)', 'never'],
  ['2001:20::/28', 'ORCHIDv2', 'never'],
  ['2001:30::/28', 'drone remote ID', 'never'],
  ['2001::/23', 'IETF protocol assignments', 'never'],
  ['2001:db8::/32', 'documentation', 'never'],
  ['3fff::/20', 'documentation', 'never'],
  ['2620:4f:8000::/48', 'AS112', 'never'],
  ['5f00::/16', 'segment routing', 'never'],
  ['fd00:ec2::254/128', 'metadata', 'never'],
  ['fc00::/7', 'unique-local', 'allowlist'],
  ['fe80::/10', 'link-local', 'never'],
  ['fec0::/10', 'site-local (deprecated)', 'never'],
  ['ff00::/8', 'multicast', 'never'],
] as const).map(([cidr, words, rule]) => ({ name: `${words} ${cidr}`, range: ipaddr.parseCIDR(cidr), rule }));

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

const contains = ([network, bits]: [Address, number], ip: Address) => network.kind() === ip.kind() && ip.match(network, bits);

/** Parses the admin's `--webhook-allow-cidr` values; throws on the first bad one, saying which and why. */
export function parseAllowCidrs(cidrs: string[]): AllowedRange[] {
  return cidrs.map((cidr) => {
    const bad = (why: string) => new Error(`--webhook-allow-cidr ${JSON.stringify(cidr)}: ${why}`);
    // Four-part decimal only: ipaddr.js would also read 0xa.0.0.0/8 or 167772160/8.
    if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(cidr) && !ipaddr.IPv6.isValidCIDR(cidr)) {
      throw bad('not a CIDR (want e.g. 10.0.0.0/8 or fd00::/8)');
    }
    const range = ipaddr.parseCIDR(cidr);
    const network = range[0].kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
    // 192.168.1.0/16 is more likely a typo for /24 than a wish to allow all of 192.168/16.
    if (network.toNormalizedString() !== range[0].toNormalizedString()) {
      throw bad(`host bits set (did you mean ${network.toString()}/${range[1]}?)`);
    }
    return { cidr, range };
  });
}

/** Why a webhook URL is refused when it is written, or undefined when it is fine. */
export function urlProblem(url: string): string | undefined {
  const parsed = URL.parse(url);
  if (!parsed) return 'not a valid URL';
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `scheme ${parsed.protocol.slice(0, -1)} is not allowed: use https`;
  if (parsed.protocol === 'http:' && !isLoopbackName(parsed.hostname)) return 'http is allowed only for localhost, 127.0.0.1 or [::1]: use https';
  if (parsed.username !== '' || parsed.password !== '') {
    return 'credentials in the URL are not allowed: put them in a header with valueFrom.secretKeyRef';
  }
  // Any '#' starts the fragment, even an empty one that URL.hash does not show.
  if (url.includes('#')) return 'a fragment (#…) is not allowed: it is never sent to the receiver';
  return undefined;
}

/** Whether a URL hostname names this machine (an IPv6 literal's hostname keeps its brackets). */
export function isLoopbackName(hostname: string): boolean {
  return LOOPBACK_NAMES.has(hostname);
}

/**
 * Whether `address`, which `host` resolved to (or is), may be dialed. Only global unicast passes,
 * with two exceptions: loopback for a loopback name, and private, unique-local and CGNAT
 * addresses inside an allowed range. An IPv6 address that embeds an IPv4 one is judged as that.
 */
export function addressVerdict(host: string, address: string, allow: AllowedRange[]): AddressVerdict {
  // Canonical forms only: net.connect would hand 2852039166 to DNS rather than dial it.
  if (isIP(address) === 0) return { allowed: false, range: 'not an IP address' };
  // ipaddr.js reads ::a.b.c.d (inet_ntop's form of ::a9fe:a9fe) as ::ffff:a.b.c.d; 0::a.b.c.d it reads right.
  const ip = ipaddr.parse(address.replace(/^::(?=[\d.]+(%|$))/, '0::'));
  const embedded = ip.kind() === 'ipv6' ? embeddedIPv4(ip as IPv6) : undefined;
  if (!embedded) return judge(host, ip, allow);
  const verdict = judge(host, embedded.ipv4, allow);
  return verdict.allowed ? verdict : { allowed: false, range: `${embedded.form} IPv6 of ${verdict.range}` };
}

export function blockedMessage(host: string, address: string, range: string): string {
  return `network policy blocked: ${host} resolved to ${address} (${range})`;
}

function judge(host: string, ip: Address, allow: AllowedRange[]): AddressVerdict {
  const special = SPECIAL.find((s) => contains(s.range, ip));
  if (!special) return { allowed: true };
  const allowed =
    (special.rule === 'loopback' && isLoopbackName(host)) ||
    (special.rule === 'allowlist' && allow.some((a) => contains(a.range, ip)));
  return allowed ? { allowed: true } : { allowed: false, range: special.name };
}

/** The IPv4 address carried by ::ffff:a.b.c.d (IPv4-mapped) or ::a.b.c.d (IPv4-compatible, deprecated). */
function embeddedIPv4(ip: IPv6): { form: string; ipv4: Address } | undefined {
  const ipv4 = () => new ipaddr.IPv4(ip.toByteArray().slice(12));
  if (ip.isIPv4MappedAddress()) return { form: 'IPv4-mapped', ipv4: ipv4() };
  const [high = 0, low = 0] = ip.parts.slice(6);
  // :: and ::1 are the unspecified and loopback addresses, not 0.0.0.0 and 0.0.0.1.
  if (ip.parts.slice(0, 6).every((p) => p === 0) && (high !== 0 || low > 1)) return { form: 'IPv4-compatible', ipv4: ipv4() };
  return undefined;
}
