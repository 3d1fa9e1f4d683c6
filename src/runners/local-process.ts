// A container as a local process, as the sandbox's kubelet and `certhook run` start a hook: its
// own process group (so every process it starts belongs to it, as in a container's PID namespace),
// stdout and stderr as they arrive, and a kill as the container runtime does it: SIGTERM to the
// container's first process, SIGKILL to all of them after a grace period (or as soon as the first
// one exits).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface ContainerExit {
  /** The process's exit code, or 128 + the signal number when a signal ended it. */
  exitCode: number;
  signal?: NodeJS.Signals;
}

export interface LaunchSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  onOutput(chunk: Buffer): void;
}

export interface ContainerProcess {
  readonly pid: number;
  /** Settles when the process has exited and its output has been delivered. */
  readonly exited: Promise<ContainerExit>;
  /** SIGTERM to the main process, SIGKILL to the group after `graceMs`; resolves when it has exited. */
  kill(graceMs: number): Promise<ContainerExit>;
}

// How long output of processes that outlive the main one may keep the pipes open.
const DRAIN_MS = 1000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Starts the process; rejects when it cannot be started (e.g. the executable does not exist). */
export function launch(spec: LaunchSpec): Promise<ContainerProcess> {
  const [file, ...args] = spec.argv;
  const child = spawn(file!, args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.on('data', spec.onOutput);
  child.stderr.on('data', spec.onOutput);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      child.off('error', reject);
      // Nothing after a successful spawn reports through 'error' here; keep a stray one from crashing the sandbox.
      child.on('error', () => {});
      const pid = child.pid!;
      const exited = new Promise<ContainerExit>((settle) => {
        child.once('exit', (code, signal) => {
          // The container ends with its main process: whatever it left behind is killed too.
          signalGroup(pid, 'SIGKILL');
          const drained = new Promise<void>((done) => setTimeout(done, DRAIN_MS).unref());
          void Promise.race([closed, drained]).then(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            settle(signal ? { exitCode: 128 + (constants.signals[signal] ?? 0), signal } : { exitCode: code ?? 0 });
          });
        });
      });
      let done = false;
      void exited.then(() => (done = true));
      resolve({
        pid,
        exited,
        kill(graceMs) {
          if (done) return exited;
          // The runtime signals the container's init only; what it does with the signal is its own affair.
          signalProcess(pid, 'SIGTERM');
          const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
          return exited.finally(() => clearTimeout(timer));
        },
      });
    });
  });
}
