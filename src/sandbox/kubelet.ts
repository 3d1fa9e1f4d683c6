// The sandbox's node: a kubelet that binds every unscheduled pod to itself and runs the pod's
// first container as a local process (see container-process.ts), with the container's env, its
// volumes written to a per-pod directory, its output in PodLogs and its state in the pod's status.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { SandboxApi } from './api.ts';
import { launch, type ContainerExit, type ContainerProcess, type LaunchSpec } from '../runners/local-process.ts';
import { ContainerStartError, ContainerWaiting } from './container-errors.ts';
import { toHostPaths } from './mount-paths.ts';
import { containerEnv, expandReferences, type ConfigSource, type Placement } from './pod-env.ts';
import type { PodLogs } from './pod-logs.ts';
import { podStatus, type ContainerView } from './pod-status.ts';
import { podSpecOf, podStatusOf, type ContainerState, type PodSpec, type TerminatedState } from './pod-types.ts';
import { containerMounts, volumeContents, writeVolume } from './pod-volumes.ts';
import type { ResourceType } from './registry.ts';
import { getIfExists, updateWithRetry } from './retrying-update.ts';
import type { KubeObject } from './store.ts';
import { timestamp } from './timestamps.ts';
import { WorkQueue } from './work-queue.ts';

export interface KubeletOptions {
  /** Where pod directories go. Default: a new temporary directory, removed by stop(). */
  podRoot?: string;
  nodeName?: string;
  /** SIGTERM to SIGKILL, at most the pod's terminationGracePeriodSeconds. Default 1s. */
  killGraceMs?: number;
  /** How soon a waiting container (missing Secret) is tried again; the base of restart back-off. Default 1s. */
  retryMs?: number;
  onError?: (err: unknown) => void;
}

export const SANDBOX_NODE = 'sandbox-node';
const SANDBOX_IP = '127.0.0.1';
const MAX_RESTART_BACKOFF_MS = 30_000;

interface PodWorker {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly dir: string;
  /** SIGTERM to SIGKILL for this pod. */
  readonly graceMs: number;
  volumesWritten: boolean;
  restartCount: number;
  lastState?: ContainerState;
  process?: ContainerProcess;
  /** The current launch, settled once its process has exited (or failed to start). */
  launch?: Promise<void>;
  retry?: NodeJS.Timeout;
  /** The pod is being deleted or the kubelet stops: no more starts. */
  stopping: boolean;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class Kubelet {
  private readonly api: SandboxApi;
  private readonly logs: PodLogs;
  private readonly pods: ResourceType;
  private readonly nodeName: string;
  private readonly killGraceMs: number;
  private readonly retryMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly ownsPodRoot: boolean;
  private readonly podRoot: string;
  private readonly placement: Placement;
  private readonly workers = new Map<string, PodWorker>();
  /** Cleanups of workers whose pods are gone, still waiting for their process to exit. */
  private readonly retiring = new Set<Promise<void>>();
  private queue: WorkQueue | undefined;
  private unwatch: (() => void) | undefined;
  private stopped = false;

  constructor(api: SandboxApi, logs: PodLogs, opts: KubeletOptions = {}) {
    this.api = api;
    this.logs = logs;
    this.pods = api.type('', 'pods');
    this.nodeName = opts.nodeName ?? SANDBOX_NODE;
    this.killGraceMs = opts.killGraceMs ?? 1000;
    this.retryMs = opts.retryMs ?? 1000;
    this.onError = opts.onError ?? ((err) => console.error('sandbox kubelet:', err));
    this.ownsPodRoot = opts.podRoot === undefined;
    this.podRoot = opts.podRoot ?? mkdtempSync(join(tmpdir(), 'certhook-sandbox-pods-'));
    this.placement = { nodeName: this.nodeName, hostIP: SANDBOX_IP, podIP: SANDBOX_IP };
  }

  start(): void {
    const queue = new WorkQueue((key) => this.sync(key), { retryMs: this.retryMs, onError: (err) => this.onError(err) });
    this.queue = queue;
    this.unwatch = this.api.watch(this.pods, undefined, {}, (e) => queue.add(keyOf(e.object.metadata.namespace!, e.object.metadata.name!)));
  }

  /** Kills every container and waits for them; pods keep the status they had. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    this.queue?.stop();
    const workers = [...this.workers.values()];
    for (const w of workers) this.halt(w);
    await Promise.all([...workers.map((w) => w.launch), ...this.retiring]);
    if (this.ownsPodRoot) rmSync(this.podRoot, { recursive: true, force: true });
    else for (const w of workers) rmSync(w.dir, { recursive: true, force: true });
  }

  private sync(key: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = getIfExists(this.api, this.pods, { namespace, name });
    const known = this.workers.get(key);
    if (known && known.uid !== pod?.metadata.uid) this.retire(known);
    if (!pod) return;
    const spec = podSpecOf(pod);
    if (spec.nodeName && spec.nodeName !== this.nodeName) return;
    const worker = this.workers.get(key);
    if (pod.metadata.deletionTimestamp) {
      if (worker) this.halt(worker);
      return;
    }
    if (worker) return;
    const phase = podStatusOf(pod).phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    if (phase === 'Running') {
      // Running by a kubelet before this one, whose processes died with it.
      this.reportLost(pod);
      return;
    }
    const w: PodWorker = {
      namespace,
      name,
      uid: pod.metadata.uid!,
      dir: join(this.podRoot, `${namespace}_${name}_${pod.metadata.uid}`),
      graceMs: Math.min(this.killGraceMs, (spec.terminationGracePeriodSeconds ?? 30) * 1000),
      volumesWritten: false,
      restartCount: 0,
      stopping: false,
    };
    this.workers.set(key, w);
    if (!spec.nodeName) this.bind(w);
    this.tryStart(w);
  }

  private bind(w: PodWorker): void {
    updateWithRetry(this.api, this.pods, w, (pod) => {
      const spec = pod.spec as PodSpec;
      if (spec.nodeName) return false;
      spec.nodeName = this.nodeName;
      return true;
    });
  }

  private tryStart(w: PodWorker): void {
    w.retry = undefined;
    if (w.stopping) return;
    const pod = getIfExists(this.api, this.pods, w);
    if (!pod || pod.metadata.deletionTimestamp) return;
    let launchSpec: Omit<LaunchSpec, 'onOutput'>;
    try {
      launchSpec = this.prepare(w, pod);
    } catch (err) {
      if (err instanceof ContainerWaiting) {
        this.report(w, { state: { waiting: { reason: err.reason, message: err.message } } });
        w.retry = setTimeout(() => this.guarded(() => this.tryStart(w)), this.retryMs);
        w.retry.unref();
        return;
      }
      if (err instanceof ContainerStartError) {
        this.end(w, { exitCode: 128, reason: 'StartError', message: err.message, finishedAt: timestamp() });
        return;
      }
      throw err;
    }
    if (w.restartCount === 0) this.report(w, { state: { waiting: { reason: 'ContainerCreating' } } });
    else this.logs.forget(w.namespace, w.name); // `kubectl logs` shows the current container's output
    const startedAt = timestamp();
    w.launch = launch({ ...launchSpec, onOutput: (chunk) => this.output(w, chunk) })
      .then(
        async (proc) => {
          w.process = proc;
          const containerID = `sandbox://${proc.pid}`;
          if (w.stopping) void proc.kill(w.graceMs);
          else this.report(w, { state: { running: { startedAt } }, containerID });
          const exit = await proc.exited;
          w.process = undefined;
          this.exited(w, exit, { startedAt, containerID });
        },
        (err: Error) => this.end(w, { exitCode: 128, reason: 'StartError', message: err.message, startedAt, finishedAt: timestamp() }),
      )
      .catch((err: unknown) => this.onError(err));
  }

  /** Volumes on disk, then the command line and environment; throws ContainerWaiting/ContainerStartError. */
  private prepare(w: PodWorker, pod: KubeObject): Omit<LaunchSpec, 'onOutput'> {
    const spec = podSpecOf(pod);
    const container = spec.containers[0];
    if (!container) throw new ContainerStartError('the pod has no containers');
    if (spec.initContainers?.length) throw new ContainerStartError('initContainers are not supported by the sandbox kubelet');
    if (!container.command?.length) {
      throw new ContainerStartError(
        `container "${container.name}" has no command: the sandbox runs commands as local processes and has no images, so the entrypoint of image "${container.image ?? ''}" is unknown; set command`,
      );
    }
    const source = this.configSource(w.namespace);
    const volumesDir = join(w.dir, 'volumes');
    const workDir = join(w.dir, 'work');
    // Volumes are set up once per pod: emptyDir contents survive container restarts.
    if (!w.volumesWritten) {
      const contents = volumeContents(pod, source);
      mkdirSync(workDir, { recursive: true });
      for (const content of contents) writeVolume(volumesDir, content);
      w.volumesWritten = true;
    }
    const mounts = containerMounts(pod, container, volumesDir);
    const vars = containerEnv(pod, container, source, this.placement);
    // Only PATH comes from the host (so `sh`, `cat` ... resolve); HOME is the pod's own directory.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOSTNAME: w.name, HOME: workDir };
    for (const [k, v] of vars) env[k] = toHostPaths(v, mounts);
    const argv = [...container.command, ...(container.args ?? [])].map((a) => toHostPaths(expandReferences(a, vars), mounts));
    let cwd = workDir;
    if (container.workingDir) {
      const mapped = toHostPaths(container.workingDir, mounts);
      // A workingDir outside every mount is a directory of the container's own filesystem: the work dir.
      cwd = mapped === container.workingDir ? join(workDir, container.workingDir) : mapped;
      mkdirSync(cwd, { recursive: true });
    }
    return { argv, cwd, env };
  }

  private configSource(namespace: string): ConfigSource {
    const secrets = this.api.type('', 'secrets');
    const configMaps = this.api.type('', 'configmaps');
    return {
      secret: (name) => getIfExists(this.api, secrets, { namespace, name }),
      configMap: (name) => getIfExists(this.api, configMaps, { namespace, name }),
    };
  }

  private output(w: PodWorker, chunk: Buffer): void {
    if (this.workers.get(keyOf(w.namespace, w.name)) === w) this.logs.append(w.namespace, w.name, chunk);
  }

  private exited(w: PodWorker, exit: ContainerExit, started: { startedAt: string; containerID: string }): void {
    const terminated: TerminatedState = {
      exitCode: exit.exitCode,
      reason: exit.exitCode === 0 ? 'Completed' : 'Error',
      ...started,
      finishedAt: timestamp(),
    };
    const pod = getIfExists(this.api, this.pods, w);
    const spec = pod && podSpecOf(pod);
    const policy = spec?.restartPolicy ?? 'Always';
    const restart = spec && !w.stopping && (policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0));
    if (!restart) {
      this.end(w, terminated);
      return;
    }
    this.finishLog(w);
    const backoff = Math.min(this.retryMs * 2 ** w.restartCount, MAX_RESTART_BACKOFF_MS);
    w.restartCount++;
    w.lastState = { terminated };
    const message = `back-off ${Math.round(backoff / 1000)}s restarting failed container=${spec.containers[0]?.name ?? ''} pod=${w.name}_${w.namespace}(${w.uid})`;
    this.report(w, { state: { waiting: { reason: 'CrashLoopBackOff', message } } });
    w.retry = setTimeout(() => this.guarded(() => this.tryStart(w)), backoff);
    w.retry.unref();
  }

  /** The container is done for good. */
  private end(w: PodWorker, terminated: TerminatedState): void {
    this.finishLog(w);
    this.report(w, { state: { terminated } });
  }

  private finishLog(w: PodWorker): void {
    if (this.workers.get(keyOf(w.namespace, w.name)) === w) this.logs.finish(w.namespace, w.name);
  }

  private report(w: PodWorker, view: Pick<ContainerView, 'state' | 'containerID'>): void {
    if (this.stopped) return;
    const full: ContainerView = { ...view, restartCount: w.restartCount, ...(w.lastState ? { lastState: w.lastState } : {}) };
    this.writeStatus(w, full);
  }

  private writeStatus(ref: { namespace: string; name: string; uid: string }, view: ContainerView): void {
    updateWithRetry(
      this.api,
      this.pods,
      ref,
      (pod) => {
        const status = podStatus(pod, view, this.placement, timestamp());
        if (isDeepStrictEqual(pod.status, status)) return false;
        pod.status = status;
        return true;
      },
      'status',
      { fieldManager: 'kubelet' },
    );
  }

  private reportLost(pod: KubeObject): void {
    const previous = podStatusOf(pod).containerStatuses?.[0];
    this.writeStatus(
      { namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
      {
        state: {
          terminated: {
            exitCode: 137,
            reason: 'ContainerStatusUnknown',
            message: 'The container could not be located when the pod was terminated',
            finishedAt: timestamp(),
          },
        },
        restartCount: previous?.restartCount ?? 0,
        ...(previous?.containerID ? { containerID: previous.containerID } : {}),
      },
    );
  }

  /** Stops the pod's container: no more starts, SIGTERM, SIGKILL after the grace period. */
  private halt(w: PodWorker): void {
    w.stopping = true;
    clearTimeout(w.retry);
    void w.process?.kill(w.graceMs);
  }

  /** The pod is gone: stop its container, then remove its directory. */
  private retire(w: PodWorker): void {
    this.workers.delete(keyOf(w.namespace, w.name));
    this.logs.forget(w.namespace, w.name);
    this.halt(w);
    const cleanup = Promise.resolve(w.launch)
      .then(() => rmSync(w.dir, { recursive: true, force: true }))
      .catch((err: unknown) => this.onError(err))
      .finally(() => this.retiring.delete(cleanup));
    this.retiring.add(cleanup);
  }

  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(err);
    }
  }
}
