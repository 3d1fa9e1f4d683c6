// The bench's child processes: the operator (the real CLI), and the small baseline and probe
// processes beside it. Each is started here, ended here by its own PID, and every wait on one
// has a timeout.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const CLI = join(ROOT, 'src', 'cli', 'main.ts');
export const script = (name: string) => join(HERE, name);

/** `promise`'s value, or 'timeout' after `ms` (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  /** When it was spawned (performance.now()). */
  readonly spawnedAt: number;
  exitCode: number | null | undefined;
  /** The last lines it wrote (stdout and stderr), for a diagnosis. */
  readonly tail: string[] = [];
  private readonly lineListeners: ((line: string) => void)[] = [];

  constructor(name: string, args: string[], env?: NodeJS.ProcessEnv) {
    this.name = name;
    this.spawnedAt = performance.now();
    this.process = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    if (this.process.pid === undefined) throw new Error(`${name}: could not be started`);
    this.pid = this.process.pid;
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
      this.process.once('error', () => {
        this.exitCode = null;
        resolve(null);
      });
    });
    for (const stream of [this.process.stdout!, this.process.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > 200) this.tail.shift();
        for (const listener of this.lineListeners) listener(line);
      });
    }
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the first line matching, or rejects on timeout or exit. */
  line(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const found = this.tail.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.name}: no expected output within ${timeoutMs} ms${this.describeTail()}`)), timeoutMs);
      const listener = (l: string) => {
        if (match(l)) done(undefined, l);
      };
      const done = (err: Error | undefined, l?: string) => {
        clearTimeout(timer);
        const at = this.lineListeners.indexOf(listener);
        if (at >= 0) this.lineListeners.splice(at, 1);
        if (err) reject(err);
        else resolve(l!);
      };
      this.lineListeners.push(listener);
      void this.exited.then(() => setTimeout(() => done(new Error(`${this.name}: exited (${this.exitCode}) before the expected output${this.describeTail()}`)), 50));
    });
  }

  /** Waits for it to exit by itself; kills it and throws after the timeout. */
  async waitExit(timeoutMs: number): Promise<number | null> {
    const code = await within(this.exited, timeoutMs);
    if (code === 'timeout') {
      await this.stop('SIGKILL', 1000);
      throw new Error(`${this.name}: did not exit within ${timeoutMs} ms${this.describeTail()}`);
    }
    return code;
  }

  /** Sends `signal` to this child's PID; SIGKILLs it if it has not exited after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      return; // already gone
    }
    const outcome = await within(this.exited, graceMs);
    if (outcome === 'timeout' && this.running) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await within(this.exited, 5000);
    }
  }

  describeTail(): string {
    return this.tail.length ? `; last output:\n  ${this.tail.slice(-15).join('\n  ')}` : '';
  }
}

/** Every child started, so that a failing bench still ends them all (by PID). */
const started = new Set<Child>();

export function startChild(name: string, args: string[], env?: NodeJS.ProcessEnv): Child {
  const child = new Child(name, args, env);
  started.add(child);
  void child.exited.then(() => started.delete(child));
  return child;
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...started].map((c) => c.stop('SIGKILL', 2000)));
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A process's resident set size (VmRSS), in bytes. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for PID ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) a process has used so far, in seconds (Linux clock ticks of 1/100 s). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS every `everyMs` and keeps the peak. */
export function rssPeak(pid: number, everyMs = 100): { readonly peak: number; stop(): void } {
  let peak = 0;
  const timer = setInterval(() => {
    rssBytes(pid).then((rss) => {
      peak = Math.max(peak, rss);
    }, () => {});
  }, everyMs);
  return { get peak() { return peak; }, stop: () => clearInterval(timer) };
}

/** Polls `url` until it answers 200; rejects on timeout or when `child` exits first. */
export async function waitFor200(url: string, child: Child, timeoutMs: number, everyMs = 10): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!child.running) throw new Error(`${child.name}: exited (${child.exitCode}) before ${url} answered 200${child.describeTail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, Math.min(2000, deadline - performance.now()))) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet, or busy
    }
    await delay(everyMs);
  }
  throw new Error(`${child.name}: ${url} did not answer 200 within ${timeoutMs} ms${child.describeTail()}`);
}

export interface OperatorSettings {
  kubeconfigPath: string;
  /** Extra command-line flags (only those this build of the CLI accepts are passed). */
  extraArgs: string[];
  /** The CLI to run: the TypeScript sources by default; the built image's entry point for the bench. */
  cli?: string;
  /** Environment for the operator process, as the image sets it (NODE_OPTIONS, MALLOC_ARENA_MAX, ...). */
  env?: Record<string, string>;
}

/** The environment the image runs the operator with: the runtime stage's `ENV KEY=value` lines. */
export async function imageEnvironment(): Promise<Record<string, string>> {
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const [, key, quoted, bare] of runtime.matchAll(/^ENV (\w+)=(?:"([^"]*)"|(\S+))\s*$/gm)) env[key!] = quoted ?? bare!;
  if (!env.NODE_OPTIONS) throw new Error('the Dockerfile sets no NODE_OPTIONS');
  return env;
}

/**
 * The operator as the image runs it: compiled JavaScript (built now into bench/.build, so never
 * stale, and never the dist/ that bin/certhook.js would pick up), with the image's environment.
 */
export async function imageOperator(): Promise<Required<Pick<OperatorSettings, 'cli' | 'env'>>> {
  const outDir = join(ROOT, 'bench', '.build');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { cwd: ROOT, stdio: 'inherit' });
  return { cli: join(outDir, 'cli', 'main.js'), env: await imageEnvironment() };
}

/**
 * Which of `flags` (`--name value` pairs or lone `--name` switches) the operator CLI accepts,
 * read from its --help; the rest are reported and left out, so a flag another branch adds does
 * not break the bench before it lands.
 */
export async function acceptedOperatorArgs(args: string[]): Promise<{ accepted: string[]; dropped: string[] }> {
  const help = startChild('operator --help', [CLI, 'operator', '--help']);
  await help.waitExit(30_000);
  const text = help.tail.join('\n');
  const accepted: string[] = [];
  const dropped: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const takesValue = flag.startsWith('--') && !flag.includes('=') && i + 1 < args.length && !args[i + 1]!.startsWith('--');
    const group = takesValue ? [flag, args[++i]!] : [flag];
    const name = flag.split('=')[0]!;
    (new RegExp(`(^|\\s)${name.replace(/[-]/g, '\\-')}(\\s|=|$)`, 'm').test(text) ? accepted : dropped).push(...group);
  }
  return { accepted, dropped };
}

export interface RunningOperator {
  child: Child;
  port: number;
  /** performance.now() when /readyz first answered 200. */
  readyAt: number;
}

export function spawnOperator(settings: OperatorSettings, port: number, name = 'operator'): Child {
  return startChild(name, [
    settings.cli ?? CLI, 'operator', '--kubeconfig', settings.kubeconfigPath, '--quiet-period', '0', '--health-port', String(port), '--metrics-port', '0', '--log-level', 'warn',
    ...settings.extraArgs,
  ], settings.env === undefined ? undefined : { ...process.env, ...settings.env });
}

/** Starts the operator and waits for /readyz. */
export async function startOperatorProcess(settings: OperatorSettings, port: number, timeoutMs: number, name?: string): Promise<RunningOperator> {
  const child = spawnOperator(settings, port, name);
  try {
    const readyAt = await waitFor200(`http://127.0.0.1:${port}/readyz`, child, timeoutMs);
    return { child, port, readyAt };
  } catch (err) {
    await child.stop('SIGKILL', 2000);
    throw err;
  }
}

export interface ProbeResult {
  samples: number;
  failures: number;
  maxMs: number;
  p99Ms: number;
  medianMs: number;
}

/** Polls the operator's /healthz from a process of its own; stop() returns what it saw. */
export function startHealthProber(port: number, intervalMs = 20, timeoutMs = 5000): { stop(): Promise<ProbeResult> } {
  const child = startChild('health prober', [script('health-prober.ts'), String(port), String(intervalMs), String(timeoutMs)]);
  return {
    async stop() {
      await delay(50);
      if (!child.running) throw new Error(`health prober exited early (${child.exitCode})${child.describeTail()}`);
      process.kill(child.pid, 'SIGTERM');
      const line = await child.line((l) => l.startsWith('{'), timeoutMs + 5000);
      await child.waitExit(5000);
      return JSON.parse(line) as ProbeResult;
    },
  };
}

/** Spawn → exit of a process, in ms; throws if it fails or takes longer than `timeoutMs`. */
export async function timeToExit(name: string, args: string[], timeoutMs: number): Promise<{ ms: number; output: string[] }> {
  const child = startChild(name, args);
  const code = await child.waitExit(timeoutMs);
  const ms = performance.now() - child.spawnedAt;
  if (code !== 0) throw new Error(`${name}: exited with ${code}${child.describeTail()}`);
  return { ms, output: child.tail };
}
