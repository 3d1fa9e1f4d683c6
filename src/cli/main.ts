// certhook's command line: one subcommand per job, each loaded only when it runs (the operator
// starts without the sandbox's modules).
import { KubeApiError } from '../kube/errors.ts';
import { CommandError, UsageError } from './usage.ts';

const COMMANDS: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  operator: { summary: 'run the operator against a cluster', run: async (args) => (await import('./operator.ts')).runOperator(args) },
  sandbox: { summary: 'run certhook on the embedded Kubernetes API sandbox (--demo: a guided run)', run: async (args) => (await import('./sandbox.ts')).runSandbox(args) },
  crds: { summary: 'print the CustomResourceDefinitions', run: async (args) => (await import('./crds.ts')).runCrds(args) },
  lint: { summary: 'check DeployHook manifests offline, as the API server and the operator would', run: async (args) => (await import('./lint.ts')).runLint(args) },
  run: { summary: 'run a hook on this machine with the contract it gets in the cluster (a webhook: print or --send its request)', run: async (args) => (await import('./run.ts')).runHookLocally(args) },
  trigger: { summary: 'run a hook now with a manual DeployHookRun (--wait: follow it to its end)', run: async (args) => (await import('./trigger.ts')).runTrigger(args) },
  version: { summary: 'print the version, the commit when known, and Node\'s version', run: async (args) => (await import('./version.ts')).runVersion(args) },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: certhook <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'certhook <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') return COMMANDS.version!.run(rest);
  const command = COMMANDS[name];
  if (!command) {
    console.error(`certhook: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`certhook ${name}: ${err.message}\n\n${err.help}`);
      return 2;
    }
    // The API refused or could not be reached mid-command: its message says which request and why.
    if (err instanceof CommandError || err instanceof KubeApiError) {
      console.error(`certhook ${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
