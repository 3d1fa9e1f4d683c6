// What runs the sandbox's workloads: the kubelet, the Job controller and the TTL-after-finished
// controller, started and stopped together.
import type { SandboxApi } from './api.ts';
import { JobController, type JobControllerOptions } from './job-controller.ts';
import { Kubelet, type KubeletOptions } from './kubelet.ts';
import type { PodLogs } from './pod-logs.ts';
import { TtlAfterFinishedController } from './ttl-controller.ts';

export type WorkloadOptions = KubeletOptions & JobControllerOptions;

export interface Workloads {
  readonly kubelet: Kubelet;
  readonly jobs: JobController;
  readonly ttl: TtlAfterFinishedController;
  /** Stops the controllers, kills every running container and waits until they have exited. */
  stop(): Promise<void>;
}

export function startWorkloads(api: SandboxApi, logs: PodLogs, opts: WorkloadOptions = {}): Workloads {
  const kubelet = new Kubelet(api, logs, opts);
  const jobs = new JobController(api, opts);
  const ttl = new TtlAfterFinishedController(api, opts);
  kubelet.start();
  jobs.start();
  ttl.start();
  return {
    kubelet,
    jobs,
    ttl,
    async stop() {
      ttl.stop();
      jobs.stop();
      await kubelet.stop();
    },
  };
}
