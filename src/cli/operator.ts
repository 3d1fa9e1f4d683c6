// `certhook operator`: run the operator against a cluster.
import { DNS_LABEL } from '../api/kube-names.ts';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from '../http-server.ts';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_RESYNC_PERIOD_MS, startOperator, type Operator } from '../controller/operator.ts';
import { parseAllowedServiceAccounts } from '../controller/service-account-policy.ts';
import { DEFAULT_BURST, DEFAULT_QPS, KubeClient, type KubeClientOptions } from '../kube/client.ts';
import { loadCredentials } from '../kube/credentials.ts';
import { LeaderElector } from '../kube/leader-election.ts';
import { RESOURCES } from '../kube/paths.ts';
import { parseAllowCidrs, type AllowedRange } from '../runners/webhook/address-policy.ts';
import { DEFAULT_WEBHOOK_CONCURRENCY } from '../runners/webhook/webhook-runner.ts';
import { Metrics } from '../metrics/metrics.ts';
import { DEFAULT_METRICS_PORT, serveMetrics } from '../metrics/server.ts';
import { createCliLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log.ts';
import { COMMIT, VERSION } from '../version.ts';
import { apiProblem } from './cluster.ts';
import { booleanOption, intOption, parseOptions, secondsOption, stringOption, UsageError, type OptionValues } from './usage.ts';

export const DEFAULT_HOOK_IMAGE = 'docker.io/library/alpine:3.22';
const DEFAULT_JOB_TTL_SECONDS = 3600;
const DEFAULT_QUIET_PERIOD_SECONDS = 2;

const HELP = `usage: certhook operator [options]

Watches TLS Secrets and DeployHooks and runs each hook, as a Kubernetes Job or a signed webhook,
once per certificate created, renewed or revoked.

options:
  --kubeconfig FILE          kubeconfig to use (default: $KUBECONFIG, else in-cluster, else ~/.kube/config)
  --namespace NS             watch only this namespace (default: all namespaces); ClusterDeployHooks
                             are then not served
  --cluster-hook-namespace NS  where ClusterDeployHooks' runs, Jobs and snapshots live, and their
                             ServiceAccounts and valueFrom references are (default: $POD_NAMESPACE,
                             else default)
  --hook-image IMAGE         image for hooks that name none (default: ${DEFAULT_HOOK_IMAGE})
  --job-ttl-seconds N        how long finished hook Jobs are kept (default: ${DEFAULT_JOB_TTL_SECONDS})
  --quiet-period SECONDS     writes to one Secret within this time fire once, for the final version
                             (default: ${DEFAULT_QUIET_PERIOD_SECONDS}; 0 fires on every write; fractions allowed)
  --resync-period SECONDS    reconcile every Secret and run again this often, whatever the watches
                             said (default: ${DEFAULT_RESYNC_PERIOD_MS / 1000}; 0 = never)
  --leader-elect             take a coordination.k8s.io Lease so that, of several replicas, only the
                             holder plans and runs hooks (default: off)
  --leader-election-namespace NS  the Lease's namespace (default: $POD_NAMESPACE, else default)
  --leader-election-id NAME  the Lease's name (default: certhook-leader)
  --lease-duration SECONDS   how long a Lease lasts without renewal: a killed leader's replacement
                             takes over after at most this long (default: 15)
  --renew-deadline SECONDS   a leader that cannot renew for this long stops at once (default: 10)
  --retry-period SECONDS     how often to renew or try to acquire (default: 2)
  --kube-api-qps N           requests a second to the API server, sustained (default: ${DEFAULT_QPS})
  --kube-api-burst N         requests that may go at once above that (default: ${DEFAULT_BURST})
  --hooks-enabled BOOL       the master switch: false records every firing as Skipped (HooksDisabled,
                             "Deploy hooks disabled") and runs nothing (default: true)
  --dry-run-issuers NAMES    cert-manager issuers (cert-manager.io/issuer-name), comma-separated,
                             whose certificates fire dry runs, as "(STAGING)" issuers always do
  --webhook-concurrency N    webhook deliveries in flight at once, over every hook (default: ${DEFAULT_WEBHOOK_CONCURRENCY})
  --allowed-service-accounts NAMES  the only ServiceAccounts hooks may run their Jobs as,
                             comma-separated, each NAME (any namespace) or NAMESPACE/NAME; a hook
                             naming another is Ready=False and never runs (default: any)
  --webhook-allow-cidr CIDR  let webhooks reach this private range (10/8, 172.16/12, 192.168/16,
                             fc00::/7, 100.64/10 are refused otherwise); repeatable. Loopback,
                             link-local and metadata addresses are never allowed
  --log-level LEVEL          ${LOG_LEVELS.join('|')} (default: info)
  --log-format FORMAT        json (one object a line, for log pipelines) or text (one readable line
                             an entry, for a terminal) (default: json)
  --health-port N            serve /healthz and /readyz on this port (default: 8081; 0 = off)
  --metrics-port N           serve Prometheus metrics on /metrics of this port (default: ${DEFAULT_METRICS_PORT}; 0 = off)`;

export const OPERATOR_OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'cluster-hook-namespace': { type: 'string' },
  'hook-image': { type: 'string' },
  'job-ttl-seconds': { type: 'string' },
  'quiet-period': { type: 'string' },
  'resync-period': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'health-port': { type: 'string' },
  'metrics-port': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string' },
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
  'kube-api-qps': { type: 'string' },
  'kube-api-burst': { type: 'string' },
  'hooks-enabled': { type: 'string' },
  'dry-run-issuers': { type: 'string' },
  'webhook-concurrency': { type: 'string' },
  'webhook-allow-cidr': { type: 'string', multiple: true },
  'allowed-service-accounts': { type: 'string' },
} as const;

/** The API client's rate limits from the command line. */
export function clientOptions(values: OptionValues, help: string): KubeClientOptions {
  return {
    qps: intOption(stringOption(values, 'kube-api-qps'), 'kube-api-qps', 1, 1_000_000, help) ?? DEFAULT_QPS,
    burst: intOption(stringOption(values, 'kube-api-burst'), 'kube-api-burst', 1, 1_000_000, help) ?? DEFAULT_BURST,
  };
}

export function logLevelOption(values: OptionValues, help: string): LogLevel {
  const level = stringOption(values, 'log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`, help);
  return level as LogLevel;
}

export function logFormatOption(values: OptionValues, help: string): LogFormat {
  const format = stringOption(values, 'log-format') ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got "${format}")`, help);
  return format as LogFormat;
}

/** The operator's settings from its command-line options. */
export function operatorConfig(values: OptionValues, help: string) {
  return {
    namespace: stringOption(values, 'namespace') || undefined,
    ...clusterHookNamespace(values, help),
    defaultImage: stringOption(values, 'hook-image') ?? DEFAULT_HOOK_IMAGE,
    ttlSecondsAfterFinished: intOption(stringOption(values, 'job-ttl-seconds'), 'job-ttl-seconds', 0, 7 * 24 * 3600, help) ?? DEFAULT_JOB_TTL_SECONDS,
    quietPeriodMs: Math.round(1000 * (secondsOption(stringOption(values, 'quiet-period'), 'quiet-period', 300, help) ?? DEFAULT_QUIET_PERIOD_SECONDS)),
    resyncPeriodMs: Math.round(1000 * (secondsOption(stringOption(values, 'resync-period'), 'resync-period', 24 * 3600, help) ?? DEFAULT_RESYNC_PERIOD_MS / 1000)),
    hooksEnabled: booleanOption(stringOption(values, 'hooks-enabled'), 'hooks-enabled', help) ?? true,
    dryRunIssuers: (stringOption(values, 'dry-run-issuers') ?? '').split(',').map((n) => n.trim()).filter(Boolean),
    webhookConcurrency: intOption(stringOption(values, 'webhook-concurrency'), 'webhook-concurrency', 1, 1024, help) ?? DEFAULT_WEBHOOK_CONCURRENCY,
    webhookAllow: allowCidrs(values, help),
    ...allowedServiceAccounts(values, help),
  };
}

/** Where ClusterDeployHooks' runs live; none for an operator that watches one namespace. */
function clusterHookNamespace(values: OptionValues, help: string): { clusterHookNamespace?: string } {
  const given = stringOption(values, 'cluster-hook-namespace');
  if (stringOption(values, 'namespace')) {
    if (given) throw new UsageError('--cluster-hook-namespace has no use with --namespace: an operator watching one namespace serves no ClusterDeployHooks', help);
    return {};
  }
  const namespace = given || process.env.POD_NAMESPACE || 'default';
  if (!new RegExp(`^${DNS_LABEL}$`).test(namespace)) throw new UsageError(`--cluster-hook-namespace must be a namespace's name, a lowercase RFC 1123 label (got "${namespace}")`, help);
  return { clusterHookNamespace: namespace };
}

function allowedServiceAccounts(values: OptionValues, help: string): { allowedServiceAccounts?: string[] } {
  const given = stringOption(values, 'allowed-service-accounts');
  if (given === undefined) return {};
  try {
    return { allowedServiceAccounts: parseAllowedServiceAccounts(given) };
  } catch (err) {
    throw new UsageError((err as Error).message, help);
  }
}

function allowCidrs(values: OptionValues, help: string): AllowedRange[] {
  const given = values['webhook-allow-cidr'];
  try {
    return parseAllowCidrs(Array.isArray(given) ? given.map(String) : []);
  } catch (err) {
    throw new UsageError((err as Error).message, help);
  }
}

/**
 * /healthz answers ok while the process can do its work (not once a cache's watch loop has died:
 * a kubelet's liveness probe then restarts it); /readyz once the operator's caches are filled.
 */
export function serveHealth(port: number, operator: () => Operator | undefined, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const ready = operator()?.ready() ?? false;
    const healthy = operator()?.healthy() ?? true;
    if (req.url === '/healthz') res.writeHead(healthy ? 200 : 500).end(healthy ? 'ok' : 'a cache stopped watching');
    else if (req.url === '/readyz') res.writeHead(ready ? 200 : 503).end(ready ? 'ok' : 'not ready');
    else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      log.info({ port: (server.address() as AddressInfo).port }, 'health endpoints listening');
      resolve(server);
    });
  });
}

export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export async function runOperator(args: string[]): Promise<number> {
  const values = parseOptions(args, OPERATOR_OPTIONS, HELP);
  if (!values) return 0;
  const config = operatorConfig(values, HELP);
  const limits = clientOptions(values, HELP);
  const healthPort = intOption(stringOption(values, 'health-port'), 'health-port', 0, 65535, HELP) ?? 8081;
  const metricsPort = intOption(stringOption(values, 'metrics-port'), 'metrics-port', 0, 65535, HELP) ?? DEFAULT_METRICS_PORT;
  if (metricsPort && metricsPort === healthPort) throw new UsageError(`--metrics-port and --health-port must differ (both are ${metricsPort})`, HELP);
  const election = values['leader-elect'] ? leaderElectionOptions(values) : undefined;
  const log = await createCliLogger(logLevelOption(values, HELP), logFormatOption(values, HELP));
  log.info({
    version: VERSION,
    ...(COMMIT ? { commit: COMMIT } : {}),
    node: process.version,
    config: { ...config, webhookAllow: config.webhookAllow.map((range) => range.cidr) },
    ...limits,
    healthPort,
    metricsPort,
    leaderElection: election ?? false,
  }, 'certhook operator starting');
  let credentials;
  try {
    credentials = await loadCredentials(stringOption(values, 'kubeconfig'));
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot load Kubernetes credentials');
    return 1;
  }
  const metrics = new Metrics({ processMetrics: true });
  const client = KubeClient.create(credentials, { ...limits, metrics: metrics.kube });
  let operator: Operator | undefined;
  // Stopping is possible from here on: a SIGTERM while the caches fill stops the process at once.
  const signal = untilSignal();
  void signal.then((received) => {
    if (operator) return;
    log.info({ signal: received }, 'stopped during start-up');
    process.exit(0);
  });
  const problem = await apiProblem(client, credentials.server);
  if (problem) {
    log.fatal(problem);
    await client.close();
    return 1;
  }
  let health: Server | undefined;
  let metricsServer: Server | undefined;
  try {
    health = healthPort ? await serveHealth(healthPort, () => operator, log) : undefined;
    metricsServer = metricsPort ? await serveMetrics(metricsPort, metrics.registry, log) : undefined;
  } catch (err) {
    log.fatal(`cannot listen: ${(err as Error).message}; choose another --health-port or --metrics-port (0 turns either off)`);
    health?.close();
    await client.close();
    return 1;
  }
  let elector: LeaderElector | undefined;
  operator = await startOperator({ client, log, config, metrics, activateOnSync: !election, ...(election ? { isLeader: () => elector?.isLeader ?? false } : {}) });
  elector = election && new LeaderElector({
    ...election,
    client,
    log,
    metrics: metrics.kube,
    onStartedLeading: () => void operator.activate(),
    onStoppedLeading: () => operator.deactivate(),
  });
  elector?.start();
  log.info({ signal: await signal }, 'stopping');
  // Stop acting first, then hand the Lease over so a standby takes over at once.
  await operator.stop();
  await elector?.stop({ release: true });
  health?.close();
  metricsServer?.close();
  await client.close();
  return 0;
}

function leaderElectionOptions(values: OptionValues) {
  const seconds = (name: string, fallback: number) => secondsOption(stringOption(values, name), name, 3600, HELP) ?? fallback;
  const leaseDurationSeconds = seconds('lease-duration', 15);
  const renewDeadlineSeconds = seconds('renew-deadline', 10);
  const retryPeriodSeconds = seconds('retry-period', 2);
  if (!(leaseDurationSeconds > renewDeadlineSeconds && renewDeadlineSeconds > 1.2 * retryPeriodSeconds && retryPeriodSeconds > 0)) {
    throw new UsageError('leader election needs --lease-duration > --renew-deadline > 1.2 × --retry-period > 0', HELP);
  }
  return {
    namespace: stringOption(values, 'leader-election-namespace') || process.env.POD_NAMESPACE || 'default',
    name: stringOption(values, 'leader-election-id') || 'certhook-leader',
    // The pod name says which replica leads; the suffix keeps restarts of one pod apart.
    identity: `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`,
    leaseDurationSeconds,
    renewDeadlineSeconds,
    retryPeriodSeconds,
  };
}
