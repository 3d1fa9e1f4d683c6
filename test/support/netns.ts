// Runs a script in a fresh network namespace whose only interface is loopback (`unshare --net`,
// then `ip link set lo up`), so that a test of addresses off this machine can send nothing
// anywhere even when what it tests is broken. Needs root (CI runs as root); fails, never skips.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

/** The path of a root tool, wherever this system keeps it. */
function tool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this one
    }
  }
  assert.fail(`${name} not found: this test needs util-linux's unshare and iproute2's ip, and root (it runs in a network namespace with only loopback)`);
}

/** `unshare` and its arguments that run `argv` isolated. */
export function isolated(argv: string[]): [string, string[]] {
  return [tool('unshare'), ['--net', 'sh', '-c', '"$0" link set lo up && exec "$@"', tool('ip'), ...argv]];
}

/** Runs `script` with node, `input` as its one argument (JSON), isolated; returns its stdout parsed as JSON. */
export async function runIsolated<T>(script: string, input: unknown, timeoutMs: number): Promise<T> {
  const [unshare, args] = isolated([process.execPath, script, JSON.stringify(input)]);
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(unshare, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }));
  } catch (err) {
    // Not the command line: it carries the whole input.
    const e = err as Error & { stderr?: string; code?: number | string; killed?: boolean };
    const how = e.killed ? `killed after ${timeoutMs / 1000} s` : `exit ${e.code}`;
    assert.fail(`${basename(script)} under unshare --net failed (${how}; it needs root, or CAP_SYS_ADMIN, for a network namespace):\n${e.stderr?.trim() || e.message}`);
  }
  try {
    return JSON.parse(stdout) as T;
  } catch {
    assert.fail(`${basename(script)} printed no JSON: ${stdout.slice(0, 2000)}`);
  }
}
