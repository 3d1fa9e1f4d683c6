// The operator running in-process against a test sandbox, with the CRDs installed.
import { Writable } from 'node:stream';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { customResourceDefinitions } from '../../src/api/crd.ts';
import { startOperator, type Operator } from '../../src/controller/operator.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { credentialsFromKubeconfig } from '../../src/kube/kubeconfig.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import type { TestSandbox } from './sandbox.ts';

/** Where a test operator's ClusterDeployHooks' runs live, unless the test says otherwise. */
export const TEST_CLUSTER_HOOK_NAMESPACE = 'certhook-system';

export interface TestOperator {
  operator: Operator;
  client: KubeClient;
  /** Every log line the operator wrote, parsed. */
  logs: Record<string, unknown>[];
  /** How many runs this operator planned (its own `run planned` log lines). */
  planned(): number;
  stop(): Promise<void>;
}

/**
 * Tests send nothing off this machine, DNS queries included: `localhost` is 127.0.0.1 and every
 * other name is unknown (a probe of an example's URL then fails here, not on the network).
 */
export async function loopbackOnlyLookup(hostname: string): Promise<{ address: string; family: 4 | 6 }[]> {
  if (hostname === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (tests resolve only localhost)`), { code: 'ENOTFOUND' });
}

export async function installCrds(sandbox: TestSandbox): Promise<void> {
  for (const crd of customResourceDefinitions()) {
    const existing = sandbox.api.registry.get(crd.spec.group, crd.spec.names.plural);
    if (!existing) sandbox.api.create(sandbox.api.type('apiextensions.k8s.io', 'customresourcedefinitions'), undefined, crd);
  }
}

export async function startTestOperator(sandbox: TestSandbox, opts: { namespace?: string; watchIdleTimeoutMs?: number; quietPeriodMs?: number; activateOnSync?: boolean; requestTimeoutMs?: number; isLeader?: () => boolean; webhookConcurrency?: number; hooksEnabled?: boolean; dryRunIssuers?: string[]; resyncPeriodMs?: number; allowedServiceAccounts?: string[]; clusterHookNamespace?: string } = {}): Promise<TestOperator> {
  await installCrds(sandbox);
  // The client counts its requests where the operator counts the rest (operator.metrics).
  const metrics = new Metrics();
  const client = KubeClient.create(await credentialsFromKubeconfig(sandbox.kubeconfig()), { metrics: metrics.kube, ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}) });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  let stopping: Promise<void> | undefined;
  const operator = await startOperator({
    client,
    log: createLogger('debug', sink),
    metrics,
    config: { namespace: opts.namespace, defaultImage: 'sandbox/hook:latest', ttlSecondsAfterFinished: 3600, quietPeriodMs: opts.quietPeriodMs ?? 0, ...(opts.webhookConcurrency ? { webhookConcurrency: opts.webhookConcurrency } : {}), webhookLookup: loopbackOnlyLookup, ...(opts.hooksEnabled === false ? { hooksEnabled: false } : {}), ...(opts.dryRunIssuers ? { dryRunIssuers: opts.dryRunIssuers } : {}), ...(opts.resyncPeriodMs ? { resyncPeriodMs: opts.resyncPeriodMs } : {}), ...(opts.allowedServiceAccounts ? { allowedServiceAccounts: opts.allowedServiceAccounts } : {}), // As the CLI: every-namespace operators serve ClusterDeployHooks, with their runs in one namespace.
      ...(opts.namespace ? {} : { clusterHookNamespace: opts.clusterHookNamespace ?? TEST_CLUSTER_HOOK_NAMESPACE }) },
    ...(opts.activateOnSync === false ? { activateOnSync: false } : {}),
    ...(opts.watchIdleTimeoutMs ? { watchIdleTimeoutMs: opts.watchIdleTimeoutMs } : {}),
    ...(opts.isLeader ? { isLeader: opts.isLeader } : {}),
  });
  return {
    operator,
    client,
    logs,
    planned: () => logs.filter((l) => l.msg === 'run planned').length,
    stop: () => (stopping ??= operator.stop().then(() => client.close())),
  };
}

export function clients(sandbox: TestSandbox) {
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}
