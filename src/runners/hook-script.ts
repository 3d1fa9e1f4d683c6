// The hook container's command line. Pure. Two things a bare `sh -c <command>` gets wrong:
// - Kubernetes expands `$(VAR)` and turns `$$` into `$` in a container's command and args, so the
//   shell would not see the command as written: every `$` is doubled, which the kubelet undoes.
// - At activeDeadlineSeconds the Job controller deletes the pod, and the output goes with it. So the
//   command is stopped inside the container, by a watchdog in portable POSIX sh (images vary: no
//   `timeout` binary is assumed), and the container exits 124 with the output logged; the Job's
//   deadline stays as a backstop, a little later.

/** How the container exits when the watchdog stopped the command (as coreutils `timeout` does). */
export const TIMEOUT_EXIT_CODE = 124;
/** Seconds from SIGTERM to SIGKILL for a command past its timeout. */
export const KILL_GRACE_SECONDS = 5;
/** The Job's activeDeadlineSeconds is the hook's timeoutSeconds plus this: the backstop. */
export const DEADLINE_MARGIN_SECONDS = 10;

/** `$0` of the wrapper script: what its own error messages start with. */
const SCRIPT_NAME = 'certhook';

/** The run's message for a hook stopped at its timeout. */
export const timeoutMessage = (seconds: number) => `timeout after ${seconds}s`;

/** The last line of a container whose command the watchdog stopped. */
export const timeoutLine = (seconds: number) => `${SCRIPT_NAME}: ${timeoutMessage(seconds)}: the command was stopped`;
const TIMEOUT_LINE = new RegExp(`^${SCRIPT_NAME}: timeout after (\\d+)s: the command was stopped$`, 'm');

/**
 * Escapes text for a container's command or args: Kubernetes reads `$$` as `$` and leaves `$(VAR)`
 * written `$$(VAR)` unexpanded, so doubling every `$` gives the process exactly `text`.
 */
export function escapeExpansion(text: string): string {
  return text.replaceAll('$', () => '$$');
}

/**
 * The wrapper, run as `sh -c <script> certhook <command>`. It runs the command as `sh -c "$1"` in
 * the background, with the container's stdin, stdout and stderr, and waits for it:
 * - its exit status is the container's, and the container ends when it does (what it leaves
 *   running is killed with the container);
 * - after `timeoutSeconds` a watchdog signals ALRM: every process of the container but the wrapper
 *   and the watchdog gets SIGTERM, the command SIGKILL `graceSeconds` later if it still runs, and
 *   the wrapper exits 124 with `timeoutLine` on stderr;
 * - a stop signal the container gets (SIGTERM when its pod is deleted; INT, QUIT or HUP from an
 *   image's STOPSIGNAL) is passed on as SIGTERM to every process of the container, and the
 *   wrapper exits as the command does. Without this the command would never see it: the wrapper
 *   is PID 1, and PID 1 ignores signals it does not handle.
 * `kill 0` reaches the container's processes only: a container's first process leads its own
 * process group (the runtime calls setsid), as does the sandbox kubelet's. A wait cut short by a
 * signal is waited again, so the status is the command's own (the shells that forget a status
 * once reported say 127: the one kept is then right).
 */
export function watchdogScript(timeoutSeconds: number, graceSeconds = KILL_GRACE_SECONDS): string {
  const ignore = 'trap "" TERM INT HUP QUIT ALRM';
  return [
    `# certhook: runs the hook's command ("$1") as sh -c, stopped after ${timeoutSeconds}s (exit ${TIMEOUT_EXIT_CODE})`,
    `trap '${ignore}; woken=1; kill -s TERM 0' TERM INT HUP QUIT`,
    `trap '${ignore}; woken=1; timedout=1; kill -s TERM 0' ALRM`,
    'exec 3<&0',
    'sh -c "$1" <&3 3<&- &',
    'cmd=$!',
    'exec 3<&-',
    `(trap "" TERM; sleep ${timeoutSeconds} && kill -s ALRM $$ && sleep ${graceSeconds} && kill -s KILL $cmd) >/dev/null 2>&1 &`,
    'dog=$!',
    'while :; do',
    '  woken=',
    '  wait $cmd; status=$?',
    '  [ -n "$woken" ] || break',
    '  kill -0 $cmd 2>/dev/null && continue',
    '  wait $cmd 2>/dev/null; again=$?; [ $again -eq 127 ] || status=$again',
    '  break',
    'done',
    'kill -s KILL $dog 2>/dev/null',
    `if [ -n "$timedout" ]; then echo "${timeoutLine(timeoutSeconds)}" >&2; exit ${TIMEOUT_EXIT_CODE}; fi`,
    'exit $status',
  ].join('\n');
}

/**
 * The wrapper and the hook's command as written, as one argv: what a process on this machine
 * runs (`certhook run`), where no `$(VAR)` expansion comes between them and the shell.
 */
export const localHookArgv = (command: string, timeoutSeconds: number): string[] => ['sh', '-c', watchdogScript(timeoutSeconds), SCRIPT_NAME, command];

/**
 * The hook container's `command` and `args`: the same argv, escaped so that Kubernetes' `$(VAR)`
 * expansion gives it back unchanged; the hook's command is the one argument.
 */
export function hookCommandLine(command: string, timeoutSeconds: number): { command: string[]; args: string[] } {
  const argv = localHookArgv(command, timeoutSeconds).map(escapeExpansion);
  return { command: argv.slice(0, -1), args: argv.slice(-1) };
}

/** The Job controller's backoff before retry `n` (1-based): 10 s, doubling, at most 6 minutes. */
const retryBackoffSeconds = (n: number) => Math.min(10 * 2 ** (n - 1), 360);
const backoffAllowance = (retries: number) => Array.from({ length: retries }, (_, i) => retryBackoffSeconds(i + 1)).reduce((a, b) => a + b, 0);

/**
 * The Job's activeDeadlineSeconds, the backstop to every attempt's own timeout: each attempt's
 * timeout and margin, and the Job controller's backoff between them.
 */
export const jobDeadlineSeconds = (timeoutSeconds: number, retries = 0) =>
  (timeoutSeconds + DEADLINE_MARGIN_SECONDS) * (retries + 1) + backoffAllowance(retries);

/** A hook's timeoutSeconds from its Job's activeDeadlineSeconds and backoffLimit (for when the hook is gone). */
export function hookTimeoutSeconds(activeDeadlineSeconds: number, retries = 0): number {
  const perAttempt = (activeDeadlineSeconds - backoffAllowance(retries)) / (retries + 1);
  return perAttempt > DEADLINE_MARGIN_SECONDS ? perAttempt - DEADLINE_MARGIN_SECONDS : activeDeadlineSeconds;
}

/**
 * The timeout the watchdog stopped the command at, read from how the container ended: exit code
 * 124 with `timeoutLine` in its output. A command that exits 124 by itself (its own `timeout`
 * expiring, say) prints no such line and is an ordinary exit code.
 */
export function watchdogTimeout(exitCode: number | undefined, output: string): number | undefined {
  if (exitCode !== TIMEOUT_EXIT_CODE) return undefined;
  const line = TIMEOUT_LINE.exec(output);
  return line ? Number(line[1]) : undefined;
}
