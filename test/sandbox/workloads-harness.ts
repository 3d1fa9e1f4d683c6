// A sandbox API with its kubelet and Job controller running in-process, for the workload tests.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxApi } from '../../src/sandbox/api.ts';
import { PodLogs } from '../../src/sandbox/pod-logs.ts';
import { Registry } from '../../src/sandbox/registry.ts';
import type { ResourceType } from '../../src/sandbox/registry.ts';
import { Store, type KubeObject } from '../../src/sandbox/store.ts';
import { startWorkloads, type WorkloadOptions, type Workloads } from '../../src/sandbox/workloads.ts';

export interface Harness {
  api: SandboxApi;
  store: Store;
  logs: PodLogs;
  workloads: Workloads;
  jobs: ResourceType;
  pods: ResourceType;
  secrets: ResourceType;
  configMaps: ResourceType;
  /** A scratch directory on the host for files a test's commands write. */
  scratch: string;
  close(): Promise<void>;
}

export function startHarness(opts: WorkloadOptions = {}): Harness {
  const store = new Store();
  const api = new SandboxApi(store, new Registry());
  const logs = new PodLogs();
  const workloads = startWorkloads(api, logs, { retryMs: 200, backoffBaseMs: 50, ...opts });
  const scratch = mkdtempSync(join(tmpdir(), 'certhook-workload-test-'));
  return {
    api,
    store,
    logs,
    workloads,
    jobs: api.type('batch', 'jobs'),
    pods: api.type('', 'pods'),
    secrets: api.type('', 'secrets'),
    configMaps: api.type('', 'configmaps'),
    scratch,
    async close() {
      await workloads.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns something other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface JobShape {
  spec?: Record<string, unknown>;
  pod?: Record<string, unknown>;
  container?: Record<string, unknown>;
}

/** A Job (restartPolicy Never) running `sh -c script`. */
export function shellJob(name: string, script: string, shape: JobShape = {}): KubeObject {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      ...shape.spec,
      template: {
        spec: {
          restartPolicy: 'Never',
          ...shape.pod,
          containers: [{ name: 'hook', image: 'alpine:3', command: ['sh', '-c', script], ...shape.container }],
        },
      },
    },
  };
}

/** A bare pod running `sh -c script`. */
export function shellPod(name: string, script: string, shape: Omit<JobShape, 'spec'> = {}): KubeObject {
  return {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      ...shape.pod,
      containers: [{ name: 'main', image: 'alpine:3', command: ['sh', '-c', script], ...shape.container }],
    },
  };
}

export function condition(obj: KubeObject, type: string): Record<string, unknown> | undefined {
  const conditions = ((obj.status ?? {}) as { conditions?: Record<string, unknown>[] }).conditions ?? [];
  return conditions.find((c) => c.type === type && c.status === 'True');
}

export function status(obj: KubeObject): Record<string, any> {
  return (obj.status ?? {}) as Record<string, any>;
}

/** The pid a command wrote to `file` (write it with `echo $$$$`: `$$` is Kubernetes' escape for `$`). */
export async function readPid(file: string): Promise<number> {
  const pid = await waitFor('the pid file', () => (existsSync(file) ? /^(\d+)\n/.exec(readFileSync(file, 'utf8'))?.[1] : undefined));
  return Number(pid);
}

/** Whether the process still runs: a zombie (dead, not yet reaped by its new parent) does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export const secretData = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
