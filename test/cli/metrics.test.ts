// `certhook operator --metrics-port`: the process serves Prometheus metrics on its own port,
// apart from the health probes, and nothing at all with 0.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCrds } from '../support/operator.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { eventually } from '../support/eventually.ts';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'certhook.js');

/** A port nothing listens on now (the kernel's pick, released for the operator to take). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Process {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function operatorProcess(sandbox: TestSandbox, args: string[]): Process {
  const child = spawn(process.execPath, [CLI, 'operator', '--kubeconfig', sandbox.kubeconfigPath, '--quiet-period', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('certhook operator --metrics-port', () => {
  let sandbox: TestSandbox;
  before(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
  });
  after(() => sandbox.close());

  test('serves /metrics on the flag\'s port in the text format, with the process\'s own metrics', async () => {
    const port = await freePort();
    const operator = operatorProcess(sandbox, ['--metrics-port', String(port), '--health-port', '0']);
    try {
      const res = await eventually(async () => {
        const answer = await fetch(`http://127.0.0.1:${port}/metrics`);
        assert.equal(answer.status, 200);
        return answer;
      }, 60_000);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      assert.match(text, /^# TYPE process_cpu_user_seconds_total counter$/m);
      assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
      assert.match(text, /^process_resident_memory_bytes \d+/m);
      // The operator's own, from the client, the controllers and the caches it has just filled.
      assert.match(text, new RegExp(`^rest_client_requests_total\\{code="200",method="GET",host="${new URL(sandbox.url).host}"\\} [1-9]`, 'm'));
      assert.match(text, /^controller_runtime_max_concurrent_reconciles\{controller="runs"\} 16$/m);
      assert.match(text, /^certhook_cache_objects\{resource="deployhooks"\} 0$/m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 404, 'health stays on its own port');
    } finally {
      await operator.stop();
    }
    assert.match(operator.output(), /metrics endpoint listening/);
  });

  test('--metrics-port 0 serves no metrics', async () => {
    const healthPort = await freePort();
    const operator = operatorProcess(sandbox, ['--metrics-port', '0', '--health-port', String(healthPort)]);
    try {
      await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status, 200), 60_000);
      assert.equal((await fetch(`http://127.0.0.1:${healthPort}/metrics`)).status, 404);
    } finally {
      await operator.stop();
    }
    assert.doesNotMatch(operator.output(), /metrics endpoint listening/);
  });

  test('a metrics port already taken stops the operator with a message that says which flag to change', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const { port } = taken.address() as { port: number };
    try {
      const operator = operatorProcess(sandbox, ['--metrics-port', String(port), '--health-port', '0']);
      const code = await new Promise((resolve) => operator.child.on('exit', resolve));
      assert.equal(code, 1);
      assert.match(operator.output(), new RegExp(`cannot listen: .*EADDRINUSE.*${port}; choose another --health-port or --metrics-port`));
    } finally {
      taken.close();
    }
  });

  test('the same port for metrics and health is refused with a message that says so', async () => {
    const operator = operatorProcess(sandbox, ['--metrics-port', '9099', '--health-port', '9099']);
    const code = await new Promise((resolve) => operator.child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(operator.output(), /--metrics-port and --health-port must differ \(both are 9099\)/);
  });
});
