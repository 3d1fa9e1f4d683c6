// The certhook command line as a user runs it: real processes, real output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
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
    assert.equal(printed.length, 2);
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
});
