// The undici dispatcher every webhook delivery goes through, so that address-policy.ts holds for
// the address actually dialed. Its connector resolves the receiver's name itself, refuses unless
// every address passes addressVerdict, and dials the exact address it checked: a name that
// re-resolves between check and connect (DNS rebinding) gets nowhere. The check is in the
// connector, not in a dns lookup hook, because Node's net never calls lookup for an IP literal.
//
// A plain Agent never reads HTTP(S)_PROXY or NO_PROXY (only EnvHttpProxyAgent does), so no proxy
// carries a delivery past the check; nor does it follow redirects, so a 3xx leads nowhere either.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { addressVerdict, blockedMessage, type AllowedRange } from './address-policy.ts';

export type Lookup = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export interface DispatcherOptions {
  allow: AllowedRange[];
  /** PEM: the receiver's private CA, trusted instead of the public ones (as Node's `ca` does). */
  ca?: string;
  /** Default: node:dns/promises lookup with all: true. */
  lookup?: Lookup;
  /** Per address dialed, TCP and TLS handshake. Default: 10 s. */
  connectTimeoutMs?: number;
  /** Per origin. Default: unlimited. */
  connections?: number;
}

export class NetworkPolicyError extends Error {
  readonly code = 'ERR_NETWORK_POLICY';
  readonly host: string;
  readonly address: string;
  readonly range: string;

  constructor(host: string, address: string, range: string) {
    super(blockedMessage(host, address, range));
    this.name = 'NetworkPolicyError';
    this.host = host;
    this.address = address;
    this.range = range;
  }
}

// dns answers only families 4 and 6.
const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true })) as { address: string; family: 4 | 6 }[];

// Failures that come at once and say nothing of the next address: an IPv6 address first in a pod
// with no IPv6 route, or localhost's ::1 when the receiver listens on 127.0.0.1. A timeout is
// not among them: trying on would multiply the connect timeout.
const TRY_NEXT = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

export function webhookDispatcher(opts: DispatcherOptions): Agent {
  const lookup = opts.lookup ?? systemLookup;
  // With a connect function of ours, undici applies neither Agent's connectTimeout nor its tls
  // options: both go to the connector we wrap.
  const dial = buildConnector({
    allowH2: false,
    timeout: opts.connectTimeoutMs ?? 10_000,
    ...(opts.ca === undefined ? {} : { ca: opts.ca }),
  });

  /** The addresses `hostname` (an IPv6 literal without brackets) may be dialed at; throws when any is refused. */
  async function checked(hostname: string): Promise<string[]> {
    const resolved = isIP(hostname) === 0 ? await lookup(hostname) : [{ address: hostname }];
    if (resolved.length === 0) throw new Error(`${hostname} resolved to no address`);
    for (const { address } of resolved) {
      const verdict = addressVerdict(hostname, address, opts.allow);
      if (!verdict.allowed) throw new NetworkPolicyError(hostname, address, verdict.range);
    }
    return resolved.map((r) => r.address);
  }

  function dialInTurn(options: buildConnector.Options, addresses: string[], callback: buildConnector.Callback): void {
    const [address, ...rest] = addresses as [string, ...string[]];
    // TLS sends SNI for, and verifies the certificate against, the URL's name, never the address
    // dialed nor a Host header (undici would take the servername from one). An IP literal has
    // no SNI: Node then verifies the certificate against the address, which is the literal.
    const servername = options.protocol === 'https:' && isIP(options.hostname) === 0 ? options.hostname : undefined;
    // net and tls throw on bad options; undici catches that around its connector's call, which
    // this one has left by now.
    try {
      dial({ ...options, hostname: address, servername }, (...result) => {
        const [error] = result;
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (rest.length > 0 && code !== undefined && TRY_NEXT.has(code)) dialInTurn(options, rest, callback);
        else callback(...result);
      });
    } catch (error) {
      callback(error as Error, null);
    }
  }

  const connect: buildConnector.connector = (options, callback) => {
    checked(options.hostname).then(
      (addresses) => dialInTurn(options, addresses, callback),
      (error: Error) => callback(error, null),
    );
  };

  return new Agent({ connect, allowH2: false, ...(opts.connections === undefined ? {} : { connections: opts.connections }) });
}
