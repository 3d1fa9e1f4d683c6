// The hook container's command line: the escaping against the kubelet's $(VAR) expansion, and
// the watchdog script run for real in the POSIX shells every Debian machine has (dash, bash in
// POSIX mode; an image's BusyBox ash is a POSIX sh too), the way a container runs it: as the
// leader of its own process group, whatever it leaves behind killed when it exits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  escapeExpansion,
  hookCommandLine,
  hookTimeoutSeconds,
  jobDeadlineSeconds,
  timeoutLine,
  TIMEOUT_EXIT_CODE,
  watchdogScript,
  watchdogTimeout,
} from '../../src/runners/hook-script.ts';
import { expandReferences } from '../../src/sandbox/pod-env.ts';

describe('escapeExpansion', () => {
  const vars = new Map([['A', 'expanded'], ['CERTMATE_DOMAIN', 'api.example.com'], ['', 'empty-name']]);

  test('the kubelet expansion of the escaped text is the text, for every short string of $, (, ), A and x', () => {
    const alphabet = ['$', '(', ')', 'A', 'x'];
    let strings = [''];
    for (let length = 1; length <= 6; length++) {
      strings = strings.flatMap((s) => alphabet.map((c) => s + c));
      for (const text of strings) assert.equal(expandReferences(escapeExpansion(text), vars), text, JSON.stringify(text));
    }
  });

  test('and for commands as people write them', () => {
    for (const text of ['echo $$', 'echo $(CERTMATE_DOMAIN)', 'echo $(date +%Y) `date` ${A} $A', "echo '$(A)' \"$$(A)\"", 'a=$((1+2)); echo $a', 'price: 5$', '€$(A)€']) {
      assert.equal(expandReferences(escapeExpansion(text), vars), text);
    }
  });

  test('doubles every $ and nothing else', () => {
    assert.equal(escapeExpansion('echo $$ $(X) $'), 'echo $$$$ $$(X) $$');
    assert.equal(escapeExpansion('no dollars'), 'no dollars');
  });
});

describe('hookCommandLine', () => {
  test('the wrapper as command, the hook command as the one argument, both escaped', () => {
    const line = hookCommandLine('echo $(CERTMATE_DOMAIN)', 30);
    assert.deepEqual(line, { command: ['sh', '-c', escapeExpansion(watchdogScript(30)), 'certhook'], args: ['echo $$(CERTMATE_DOMAIN)'] });
  });

  test('the Job deadline is 10s after the timeout, and the timeout can be read back from it', () => {
    assert.equal(jobDeadlineSeconds(30), 40);
    assert.equal(hookTimeoutSeconds(40), 30);
    assert.equal(hookTimeoutSeconds(5), 5, 'a Job made before the margin existed');
    // With retries: every attempt's timeout and margin, and the backoff between them (10 s, 20 s).
    assert.equal(jobDeadlineSeconds(30, 2), 3 * 40 + 30);
    assert.equal(hookTimeoutSeconds(jobDeadlineSeconds(30, 2), 2), 30);
    assert.equal(jobDeadlineSeconds(300, 5), 6 * 310 + 310);
  });

  test('watchdogTimeout: exit 124 and the last line, nothing else', () => {
    assert.equal(watchdogTimeout(124, `out\n${timeoutLine(30)}\n`), 30);
    assert.equal(watchdogTimeout(124, 'out\n'), undefined);
    assert.equal(watchdogTimeout(1, timeoutLine(30)), undefined);
    assert.equal(watchdogTimeout(undefined, timeoutLine(30)), undefined);
    assert.equal(watchdogTimeout(124, `x ${timeoutLine(30)}`), undefined, 'a whole line only');
  });
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the wrapper as a container would run it: its own process group, killed whole when it exits. */
function runWrapper(shell: string[], command: string, opts: { timeoutSeconds: number; graceSeconds?: number; stdin?: string; termOnOutput?: string }): Promise<Ended> {
  const script = watchdogScript(opts.timeoutSeconds, opts.graceSeconds);
  const [file, ...shellArgs] = shell;
  const started = Date.now();
  const child = spawn(file!, [...shellArgs, '-c', script, 'certhook', command], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let termed = false;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    // SIGTERM to the wrapper alone, as the runtime sends it, once the command is ready for it.
    if (opts.termOnOutput !== undefined && !termed && stdout.includes(opts.termOnOutput)) {
      termed = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // A command that exits at once may close its stdin before this is written.
  child.stdin.on('error', () => {});
  child.stdin.end(opts.stdin ?? '');
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      const ms = Date.now() - started;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is already empty
      }
      child.once('close', () => resolve({ code, signal, stdout, stderr, ms }));
    });
  });
}

const SHELLS: [string, string[]][] = [
  ['sh', ['sh']],
  ['dash', ['dash']],
  ['bash --posix', ['bash', '--posix']],
];

for (const [name, shell] of SHELLS) {
  describe(`the watchdog script in ${name}`, { concurrency: true }, () => {
    test("the command's exit code, stdout, stderr and stdin pass through", async () => {
      const ended = await runWrapper(shell, 'read line; echo "got $line"; echo oops >&2; exit 3', { timeoutSeconds: 30, stdin: 'hello\n' });
      assert.deepEqual([ended.code, ended.stdout, ended.stderr], [3, 'got hello\n', 'oops\n']);
      assert.equal((await runWrapper(shell, 'true', { timeoutSeconds: 30 })).code, 0);
      assert.ok((await runWrapper(shell, 'true', { timeoutSeconds: 30 })).ms < 2000, 'no waiting for the watchdog');
    });

    test("a command's own 124 is its exit code, without the timeout line; one killed by a signal exits 128 + the signal", async () => {
      const own = await runWrapper(shell, 'exit 124', { timeoutSeconds: 30 });
      assert.equal(own.code, 124);
      assert.equal(watchdogTimeout(own.code ?? undefined, own.stdout + own.stderr), undefined);
      assert.equal((await runWrapper(shell, 'kill -9 $$', { timeoutSeconds: 30 })).code, 137);
    });

    test('the command is sh -c with its text as written', async () => {
      const ended = await runWrapper(shell, 'echo "$0|$#|$$" | grep -E "^sh\\|0\\|[0-9]+$"; echo \'$(A) `b`\'', { timeoutSeconds: 30 });
      assert.equal(ended.code, 0, ended.stderr);
      assert.match(ended.stdout, /^sh\|0\|\d+\n\$\(A\) `b`\n$/);
    });

    test('past the timeout: SIGTERM to the command, exit 124 with the timeout line, the output before it kept', async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'certhook-watchdog-'));
      const ended = await runWrapper(shell, `echo before; sleep 30; touch ${dir}/after`, { timeoutSeconds: 1 });
      assert.equal(ended.code, TIMEOUT_EXIT_CODE);
      assert.equal(ended.stdout, 'before\n');
      assert.match(ended.stderr, /certhook: timeout after 1s: the command was stopped\n$/);
      assert.equal(watchdogTimeout(ended.code ?? undefined, ended.stdout + ended.stderr), 1);
      // Not before the timeout; long before the command's own 30 s (a bound a loaded machine keeps).
      assert.ok(ended.ms >= 1000 && ended.ms < 20_000, `${ended.ms}ms`);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(existsSync(join(dir, 'after')), false, 'the command did not go on');
      t.diagnostic(`${ended.ms}ms`);
    });

    test("past the timeout a command's TERM handler runs, and its children get the signal too", async () => {
      // The command waits for its child to finish: the container ends when the command does.
      const command = `sh -c 'trap "echo child stopped; exit 1" TERM; sleep 30 & wait' & trap "wait $!; echo cleaning up; exit 9" TERM; wait`;
      const ended = await runWrapper(shell, command, { timeoutSeconds: 1 });
      assert.equal(ended.code, TIMEOUT_EXIT_CODE);
      assert.equal(ended.stdout, 'child stopped\ncleaning up\n');
    });

    test('a command that ignores SIGTERM is killed after the grace period', async () => {
      const ended = await runWrapper(shell, 'trap "" TERM; echo stubborn; sleep 30', { timeoutSeconds: 1, graceSeconds: 1 });
      assert.equal(ended.code, TIMEOUT_EXIT_CODE);
      assert.equal(ended.stdout, 'stubborn\n');
      assert.ok(ended.ms >= 2000 && ended.ms < 20_000, `${ended.ms}ms`);
    });

    test("the container's SIGTERM (to the wrapper alone, as the runtime sends it) reaches the command once; it exits as the command does", async () => {
      const ended = await runWrapper(shell, 'trap "echo got TERM; exit 9" TERM; echo started; sleep 30 & wait', { timeoutSeconds: 30, termOnOutput: 'started\n' });
      assert.equal(ended.code, 9);
      assert.equal(ended.stdout, 'started\ngot TERM\n');
      assert.ok(ended.ms < 20_000, `stopped, not left to its 30 s: ${ended.ms}ms`);
    });
  });
}
