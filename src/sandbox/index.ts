// An in-memory Kubernetes API server with a Job controller and a kubelet that runs containers as
// local processes: what tests and `certhook sandbox` run against.
import type { AddressInfo } from 'node:net';
import { SandboxApi } from './api.ts';
import { Faults } from './faults.ts';
import { createSandboxServer } from './http.ts';
import { kubeconfigFor } from './kubeconfig.ts';
import { PodLogs } from './pod-logs.ts';
import { Registry } from './registry.ts';
import { Store } from './store.ts';
import { startWorkloads } from './workloads.ts';

export interface SandboxOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** How many changes the watch history keeps before older resourceVersions get 410 Gone. */
  historyLimit?: number;
  bookmarkIntervalMs?: number;
  /** Run Jobs' pods as local processes (default true). */
  workloads?: boolean;
}

export interface Sandbox {
  readonly url: string;
  readonly api: SandboxApi;
  readonly faults: Faults;
  readonly logs: PodLogs;
  /** A kubeconfig (YAML) whose current context points at this sandbox. */
  kubeconfig(): string;
  /** Forgets the watch history: watches from any earlier resourceVersion now get 410 Gone. */
  expireHistory(): void;
  close(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const store = new Store(opts.historyLimit);
  const api = new SandboxApi(store, new Registry());
  const faults = new Faults();
  const logs = new PodLogs();
  const server = createSandboxServer(api, faults, logs, { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000 });
  const workloads = opts.workloads === false ? undefined : startWorkloads(api, logs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    api,
    faults,
    logs,
    kubeconfig: () => kubeconfigFor(url),
    expireHistory: () => {
      store.expireHistory();
      faults.counters.historyExpirations++;
    },
    async close() {
      faults.dropWatches();
      await workloads?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
