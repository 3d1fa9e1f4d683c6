// The certhook command line as a user runs it: real processes, real output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { kubeconfigFor } from '../../src/sandbox/kubeconfig.ts';
import { testSandbox } from '../support/sandbox.ts';
import { runTool } from '../support/tools.ts';
import { eventually } from '../support/eventually.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'certhook.js');

function certhook(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('certhook CLI', () => {
  test('crds prints exactly the committed CRDs', async () => {
    const { code, stdout } = await certhook(['crds']);
    assert.equal(code, 0);
    const byName = (a: unknown, b: unknown) => ((a as { metadata: { name: string } }).metadata.name < (b as { metadata: { name: string } }).metadata.name ? -1 : 1);
    const printed = loadAll(stdout).sort(byName);
    const committed = await Promise.all((await readdir(join(ROOT, 'crds'))).map(async (f) => load(await readFile(join(ROOT, 'crds', f), 'utf8'))));
    assert.equal(printed.length, 3);
    assert.deepEqual(printed, committed.sort(byName));
  });

  test('sandbox --demo prints the audit trail of the created, renewed and revoked runs', async () => {
    const { code, stdout } = await certhook(['sandbox', '--demo']);
    assert.equal(code, 0, stdout);
    const runs = stdout.split('\n').filter((l) => /^reload-edge-/.test(l));
    assert.deepEqual(runs.map((l) => l.split(/\s+/).slice(1, 4).join(' ')), ['created Succeeded 0', 'renewed Succeeded 0', 'revoked Succeeded 0']);
    assert.match(stdout, /\| certificate created: edge.example.com/);
    assert.match(stdout, /\| certificate revoked: edge.example.com/);
    assert.match(stdout, /key present: yes/);
  });

  test('sandbox --api-only --kubeconfig-out serves kubectl until SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certhook-cli-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const child = spawn(process.execPath, [CLI, 'sandbox', '--api-only', '--kubeconfig-out', kubeconfig]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await eventually(() => assert.match(out, /kubeconfig written to/));
      const ns = await runTool('kubectl', kubeconfig, ['get', 'namespaces', '-o', 'name']);
      assert.equal(ns.code, 0, ns.stderr);
      assert.deepEqual(ns.stdout.trim().split('\n'), ['namespace/default', 'namespace/kube-system']);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  test('bad options are refused with a usage message and exit code 2', async () => {
    const port = await certhook(['sandbox', '--port', 'seventy']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port must be a whole number from 0 to 65535 \(got "seventy"\)/);
    const unknown = await certhook(['operator', '--frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--frobnicate'/);
    assert.match(unknown.stderr, /usage: certhook operator/);
    const level = await certhook(['operator', '--log-level', 'loud']);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /--log-level must be one of/);
    const format = await certhook(['operator', '--log-format', 'xml']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--log-format must be one of json, text \(got "xml"\)/);
    const cidr = await certhook(['operator', '--webhook-allow-cidr', '10.0.0.0/8', '--webhook-allow-cidr', '10.0.0.0/33']);
    assert.equal(cidr.code, 2);
    assert.match(cidr.stderr, /--webhook-allow-cidr "10\.0\.0\.0\/33": /);
    const concurrency = await certhook(['operator', '--webhook-concurrency', '0']);
    assert.equal(concurrency.code, 2);
    assert.match(concurrency.stderr, /--webhook-concurrency must be a whole number from 1 to 1024/);
    const command = await certhook(['deploy']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command "deploy"/);
  });

  test('operator without a reachable kubeconfig fails with a clear message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certhook-cli-'));
    const { code, stdout } = await certhook(['operator', '--kubeconfig', join(dir, 'missing'), '--health-port', '0']);
    assert.equal(code, 1);
    assert.match(stdout, /cannot load Kubernetes credentials/);
    assert.ok(stdout.includes(join(dir, 'missing')), `the message names the file: ${stdout}`);
  });

  test('operator logs JSON with level names and ISO-8601 times, starting with its version and effective configuration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certhook-cli-'));
    const { code, stdout } = await certhook(['operator', '--kubeconfig', join(dir, 'missing'), '--health-port', '0', '--webhook-allow-cidr', '10.20.0.0/16', '--quiet-period', '5']);
    assert.equal(code, 1);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['info', 'certhook operator starting'], ['fatal', 'cannot load Kubernetes credentials']]);
    for (const line of lines) assert.equal(new Date(line.time as string).toISOString(), line.time);
    const start = lines[0] as { version: string; node: string; config: Record<string, unknown>; qps: number; healthPort: number; leaderElection: unknown };
    assert.match(start.version, /^\d+\.\d+\.\d+/);
    assert.equal(start.node, process.version);
    assert.equal(start.config.quietPeriodMs, 5000);
    assert.deepEqual(start.config.webhookAllow, ['10.20.0.0/16']);
    assert.equal(start.leaderElection, false);
    assert.equal(start.healthPort, 0);
  });

  test('operator --log-format text writes one readable line an entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certhook-cli-'));
    const { code, stdout } = await certhook(['operator', '--kubeconfig', join(dir, 'missing'), '--health-port', '0', '--log-format', 'text']);
    assert.equal(code, 1);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 2, stdout);
    assert.match(lines[0]!, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] INFO: certhook operator starting \{.*"version":/);
    assert.match(lines[1]!, /^\[[^\]]+\] FATAL: cannot load Kubernetes credentials \{"err":".*missing/);
  });

  test('version and --version say the version, the commit of a checkout, and Node\'s version', async () => {
    for (const args of [['version'], ['--version']]) {
      const { code, stdout } = await certhook(args);
      assert.equal(code, 0);
      // The commit is known in a git checkout (as the tests run), not in the image.
      const commit = existsSync(join(ROOT, '.git')) ? ' \\(commit [0-9a-f]{12}\\)' : '';
      assert.match(stdout, new RegExp(`^certhook \\d+\\.\\d+\\.\\d+${commit}, Node ${process.version.replaceAll('.', '\\.')}\n$`));
    }
  });

  test('on a Node.js older than 22.19 it says which Node.js it needs, and exits 1', async () => {
    // The same Node, claiming to be 20: what `node bin/certhook.js` on an old system Node meets.
    const old = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'data:text/javascript,Object.defineProperty(process, "version", { value: "v20.20.2" })', CLI, 'version'], (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
    });
    assert.equal(old.code, 1);
    assert.match(old.stderr, /^certhook needs Node\.js 22\.19 or newer, and this is Node\.js v20\.20\.2/);
  });

  test('operator against an API it cannot reach, or without the CRDs, says so plainly and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certhook-cli-'));
    const closed = join(dir, 'closed');
    // A port nothing listens on.
    await writeFile(closed, kubeconfigFor('http://127.0.0.1:9'));
    const unreachable = await certhook(['operator', '--kubeconfig', closed, '--health-port', '0']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stdout, /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:9: /);
    assert.doesNotMatch(unreachable.stdout + unreachable.stderr, /\n\s+at /, 'no stack trace');

    const sandbox = await testSandbox();
    try {
      const bare = await certhook(['operator', '--kubeconfig', sandbox.kubeconfigPath, '--health-port', '0']);
      assert.equal(bare.code, 1);
      assert.match(bare.stdout, /DeployHook CRD not found: install it with `certhook crds \| kubectl apply -f -` or the Helm chart/);
    } finally {
      await sandbox.close();
    }
  });

  test('a SIGTERM while the operator is starting stops it at once', async () => {
    // An API that takes connections and never answers: start-up waits on it.
    let connected = 0;
    const silent = createServer(() => connected++);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const dir = await mkdtemp(join(tmpdir(), 'certhook-cli-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const server = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    await writeFile(kubeconfig, kubeconfigFor(server));
    const child = spawn(process.execPath, [CLI, 'operator', '--kubeconfig', kubeconfig, '--health-port', '0']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // The process is up (its signal handler too) once it has connected to the silent API.
      await eventually(() => assert.ok(connected > 0, 'the operator has connected'));
      await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGTERM');
      // Its request to the API would wait 30 s; it stops long before.
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 20 s'), 20_000))]);
      assert.equal(code, 0);
      assert.match(out, /stopped during start-up/);
    } finally {
      child.kill('SIGKILL');
      silent.close();
    }
  });
});
