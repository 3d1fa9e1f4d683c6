// The operator against an in-process sandbox, delivering webhooks whose URLs point off this
// machine in every form there is, and to two loopback receivers that must be reached. The input
// (argv[2], JSON: SsrfInput) names the namespaces, each with its own operator and allowlist, its
// hooks and what each test name resolves to; one TLS Secret per namespace fires every hook once.
// It prints how every run ended, and what reached the receivers and the trap, as JSON on stdout.
//
// webhook-ssrf.test.ts runs it in a network namespace with only loopback, so a guard that lets a
// request through sends nothing off this machine; it refuses to run anywhere else.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Writable } from 'node:stream';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { startOperator, type Operator } from '../../src/controller/operator.ts';
import { FINAL_PHASES } from '../../src/controller/run-state.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { credentialsFromKubeconfig } from '../../src/kube/kubeconfig.ts';
import { createLogger } from '../../src/log.ts';
import { parseAllowCidrs } from '../../src/runners/webhook/address-policy.ts';
import { createHook, createTlsSecret, HOOKS, issue, listRuns } from '../support/fixtures.ts';
import { installCrds } from '../support/operator.ts';
import { startReceiver } from '../support/receiver.ts';
import { testSandbox } from '../support/sandbox.ts';

export type Resolved = { address: string; family: 4 | 6 }[];

export interface SsrfInput {
  /** What each test name resolves to; `localhost` is 127.0.0.1, and any other name is unknown. */
  names: Record<string, Resolved>;
  namespaces: {
    name: string;
    /** The operator's `--webhook-allow-cidr` values. */
    allow: string[];
    /**
     * Placeholders in a URL: {HTTP} is the http receiver's origin (http://127.0.0.1:port),
     * {HTTPS} the https one's (https://localhost:port, whose CA the hook then trusts), {TRAP} the
     * port of a server on every loopback address that must never be connected to.
     */
    hooks: { hook: string; url: string; retries: number }[];
  }[];
}

export interface SsrfRun {
  namespace: string;
  hook: string;
  /** The URL as the hook has it (placeholders filled in). */
  url: string;
  phase?: string;
  reason?: string;
  message?: string;
  attempts: { attempt: number; statusCode?: number; errorClass?: string; message?: string }[];
  /** The hook's Reachable condition: the operator's probe of the URL goes through the same guard. */
  reachable?: { status: string; reason?: string; message?: string };
}

export interface SsrfOutput {
  runs: SsrfRun[];
  /** Connections and requests the trap got: it listens on the port of the hooks' loopback URLs, on every address. */
  trap: { port: number; connections: number; requests: number };
  /** POSTs each loopback receiver got, by path. */
  received: { http: string[]; https: string[] };
  /** Every name the operators asked to resolve (an IP literal is never one). */
  lookups: string[];
}

const interfaces = Object.keys(networkInterfaces());
if (interfaces.some((name) => name !== 'lo')) {
  console.error(`network interfaces ${interfaces.join(', ')}: run me in a network namespace with only lo (unshare --net)`);
  process.exit(2);
}

// However it goes, the script ends: the test's own timeout would say less.
const WALL_MS = 45_000;
setTimeout(() => {
  console.error(`webhook-ssrf.netns.ts: still running after ${WALL_MS / 1000}s, giving up`);
  process.exit(3);
}, WALL_MS).unref();

const input = JSON.parse(process.argv[2]!) as SsrfInput;

const lookups: string[] = [];
async function lookup(hostname: string): Promise<Resolved> {
  lookups.push(hostname);
  if (hostname === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  const resolved = input.names[hostname];
  if (resolved) return resolved;
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (this test resolves only its own names)`), { code: 'ENOTFOUND' });
}

/**
 * A server on every loopback address (:: takes IPv4 too; the namespace has no other interface)
 * that counts what reaches it: 127.0.0.2, ::ffff:127.0.0.1, 0.0.0.0 and :: all dial this machine.
 */
async function startTrap() {
  const sockets = new Set<Socket>();
  const seen = { connections: 0, requests: 0 };
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    seen.requests++;
    res.end('trapped');
  });
  server.on('connection', (socket: Socket) => {
    seen.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (host: string) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Without IPv6 in the kernel, IPv4 only.
  await listen('::').catch(() => listen('0.0.0.0'));
  return {
    seen,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

interface Started {
  operator: Operator;
  client: KubeClient;
  logs: Record<string, unknown>[];
}

/** An operator for one namespace, as startTestOperator starts one, with this script's resolver and the namespace's allowlist. */
async function startNamespacedOperator(kubeconfig: string, namespace: string, allow: string[]): Promise<Started> {
  const client = KubeClient.create(await credentialsFromKubeconfig(kubeconfig));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const operator = await startOperator({
    client,
    log: createLogger('debug', sink),
    config: {
      namespace,
      defaultImage: 'sandbox/hook:latest',
      ttlSecondsAfterFinished: 3600,
      quietPeriodMs: 0,
      webhookAllow: parseAllowCidrs(allow),
      webhookLookup: lookup,
    },
  });
  return { operator, client, logs };
}

type Hook = { metadata: { name: string }; spec: { webhook: { url: string } }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
const reachableOf = (hook: Hook) => hook.status?.conditions?.find((c) => c.type === 'Reachable');

/** Waits until every hook has a run that finished and a Reachable condition that is not Unknown. */
async function settled(custom: CustomObjectsApi, namespace: string, hooks: number, deadline: number): Promise<{ runs: DeployHookRun[]; hooks: Hook[] }> {
  for (;;) {
    const runs = await listRuns(custom, namespace);
    const list = ((await custom.listNamespacedCustomObject({ ...HOOKS, namespace })) as { items: Hook[] }).items;
    const done = runs.length === hooks && runs.every((r) => FINAL_PHASES.has(r.status?.phase ?? ''));
    const probed = list.length === hooks && list.every((h) => (reachableOf(h)?.status ?? 'Unknown') !== 'Unknown');
    if ((done && probed) || Date.now() > deadline) {
      if (!done) console.error(`${namespace}: ${runs.length} of ${hooks} runs, not all finished: ${runs.map((r) => `${r.spec.hookRef.name}:${r.status?.phase}`).join(', ')}`);
      else if (!probed) console.error(`${namespace}: not every hook was probed: ${list.map((h) => `${h.metadata.name}:${reachableOf(h)?.status}`).join(', ')}`);
      return { runs, hooks: list };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sandbox = await testSandbox({ workloads: false });
const http = await startReceiver();
const https = await startReceiver({ https: true });
const trap = await startTrap();
const operators: Started[] = [];
let failed = false;
try {
  await installCrds(sandbox);
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const fill = (url: string) => url.replaceAll('{HTTP}', http.url).replaceAll('{HTTPS}', https.url).replaceAll('{TRAP}', String(trap.port));

  for (const ns of input.namespaces) {
    await core.createNamespace({ body: { metadata: { name: ns.name } } });
    operators.push(await startNamespacedOperator(sandbox.kubeconfig(), ns.name, ns.allow));
    for (const { hook, url, retries } of ns.hooks) {
      const caBundle = url.startsWith('{HTTPS}') ? { caBundle: https.caBundle } : {};
      await createHook(custom, ns.name, hook, { onEvents: ['created'], webhook: { url: fill(url), retries, ...caBundle } });
    }
    await createTlsSecret(core, ns.name, 'site', issue('site.example.com'));
  }

  const deadline = Date.now() + 30_000;
  const outcomes = await Promise.all(input.namespaces.map((ns) => settled(custom, ns.name, ns.hooks.length, deadline)));
  const runs: SsrfRun[] = outcomes.flatMap(({ runs, hooks }, i) =>
    runs.map((run) => {
      const hook = hooks.find((h) => h.metadata.name === run.spec.hookRef.name);
      const reachable = hook && reachableOf(hook);
      const status = run.status ?? {};
      return {
        namespace: input.namespaces[i]!.name,
        hook: run.spec.hookRef.name,
        url: hook?.spec.webhook.url ?? '',
        phase: status.phase,
        reason: status.reason,
        message: status.message,
        attempts: (status.webhook?.attempts ?? []).map(({ attempt, statusCode, errorClass, message }) => ({ attempt, statusCode, errorClass, message })),
        ...(reachable ? { reachable: { status: reachable.status, reason: reachable.reason, message: reachable.message } } : {}),
      };
    }),
  );
  const output: SsrfOutput = {
    runs,
    trap: { port: trap.port, ...trap.seen },
    received: { http: http.posts.map((p) => p.path), https: https.posts.map((p) => p.path) },
    lookups: [...new Set(lookups)].sort(),
  };
  process.stdout.write(JSON.stringify(output));
} catch (err) {
  failed = true;
  console.error('webhook-ssrf.netns.ts:', err);
  for (const { logs } of operators) for (const l of logs) if (l.level === 'error' || l.level === 'fatal') console.error(JSON.stringify(l));
} finally {
  for (const { operator, client } of operators) await operator.stop().then(() => client.close());
  await Promise.all([http.close(), https.close(), trap.close()]);
  await sandbox.close();
}
// The runners' undici agents are not closed by stop(): nothing else is left to wait for.
process.exitCode = failed ? 1 : 0;
process.stdout.write('', () => process.exit());
