// `certhook trigger`: run a hook now (CertMate's Test button) by creating a manual DeployHookRun,
// and with --wait follow it to its end.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeployHookRunObject } from '../api/deployhookrun.ts';
import { API_VERSION, CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK_RUN } from '../api/names.ts';
import type { KubeClient } from '../kube/client.ts';
import { getIfExists } from '../kube/idempotent.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, objectPath, RESOURCES } from '../kube/paths.ts';
import { FINAL_PHASES } from '../controller/run-state.ts';
import { connect } from './cluster.ts';
import { CommandError, parseOptionsAndOperands, secondsOption, stringOption, UsageError } from './usage.ts';

const HELP = `usage: certhook trigger HOOK [-n NS] [--secret NAME] [--wait [--timeout SECONDS]] [--as-name NAME] [--kubeconfig FILE]
       certhook trigger --cluster HOOK [--secret NS/NAME] [...]

Runs a DeployHook now by creating a manual DeployHookRun, as CertMate's Test button does. A
disabled hook runs too. Without --secret, the operator chooses the most recent certificate (latest
notBefore) among the TLS Secrets the hook selects, and records it in the run's status.secretRef.

options:
  -n, --namespace NS   the hook's namespace (default: the kubeconfig context's, else default)
  --cluster            HOOK is a ClusterDeployHook: the run is made where its runs live (the
                       namespace its status.runNamespace names, the operator's)
  --secret NAME        run with the certificate of this TLS Secret (NS/NAME with --cluster)
  --wait               follow the run: print its phase as it changes, then its outcome and output,
                       and exit with the hook's exit code (0 when it succeeded, 1 when a webhook
                       failed or the run was skipped)
  --timeout SECONDS    with --wait, give up after this long and exit 1 (default: 0, never)
  --as-name NAME       who the run records as having triggered it (default: the kubeconfig's user)
  --kubeconfig FILE    kubeconfig to use (default: $KUBECONFIG, else in-cluster, else ~/.kube/config)`;

const POLL_MS = 500;
/** A run still Pending this long probably has no operator to start it: say so, once. */
const PENDING_HINT_MS = 15_000;

export async function runTrigger(args: string[], print: (line: string) => void = console.log): Promise<number> {
  const parsed = parseOptionsAndOperands(args, {
    namespace: { type: 'string', short: 'n' },
    cluster: { type: 'boolean' },
    secret: { type: 'string' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
    'as-name': { type: 'string' },
    kubeconfig: { type: 'string' },
  }, HELP);
  if (!parsed) return 0;
  const { values, operands } = parsed;
  if (operands.length !== 1) throw new UsageError(operands.length ? `one hook at a time (got ${operands.join(', ')})` : 'name the DeployHook to run', HELP);
  const timeoutSeconds = secondsOption(stringOption(values, 'timeout'), 'timeout', 7 * 24 * 3600, HELP) ?? 0;
  if (timeoutSeconds && !values.wait) throw new UsageError('--timeout is for --wait', HELP);

  const cluster = values.cluster === true;
  if (cluster && stringOption(values, 'namespace')) throw new UsageError('--cluster: a ClusterDeployHook\'s run is made where its runs live; leave out --namespace', HELP);
  const secretRef = secretRefOf(stringOption(values, 'secret'), cluster);
  const { client, context } = await connect(stringOption(values, 'kubeconfig'));
  const hook = operands[0]!;
  try {
    const namespace = cluster ? await clusterRunNamespace(client, hook) : stringOption(values, 'namespace') || context?.namespace || 'default';
    if (!cluster && !(await getIfExists(client, objectPath(RESOURCES.deployHooks, namespace, hook)))) throw new CommandError(`DeployHook "${hook}" not found in namespace ${namespace}`);
    const run = await client.create<DeployHookRunObject>(collectionPath(RESOURCES.deployHookRuns, namespace), {
      apiVersion: API_VERSION,
      kind: DEPLOY_HOOK_RUN.kind,
      metadata: { generateName: `${hook.slice(0, 40)}-manual-` },
      spec: {
        hookRef: cluster ? { kind: CLUSTER_DEPLOY_HOOK.kind, name: hook } : { name: hook },
        ...(secretRef ? { secretRef } : {}),
        event: 'manual',
        triggeredBy: stringOption(values, 'as-name') || context?.user || 'certhook trigger',
      },
    });
    const name = run.metadata.name!;
    print(`deployhookrun.certhook.io/${name} created in namespace ${namespace}`);
    if (!values.wait) return 0;
    return await follow(client, namespace, name, timeoutSeconds * 1000, print);
  } finally {
    await client.close();
  }
}

/** `--secret`: NAME, or for a ClusterDeployHook NS/NAME. */
function secretRefOf(secret: string | undefined, cluster: boolean): { name: string; namespace?: string } | undefined {
  if (!secret) return undefined;
  const [namespace, name, ...rest] = secret.split('/');
  if (!cluster) {
    if (name !== undefined) throw new UsageError(`--secret names a Secret of the hook's namespace: NAME, not ${secret} (another namespace's Secret is for a ClusterDeployHook, with --cluster)`, HELP);
    return { name: secret };
  }
  if (!name || rest.length || !namespace) throw new UsageError(`--secret with --cluster is NAMESPACE/NAME (got ${secret})`, HELP);
  return { namespace, name };
}

/** Where a ClusterDeployHook's runs live: the operator says so in its status. */
async function clusterRunNamespace(client: KubeClient, hook: string): Promise<string> {
  const found = await getIfExists<KubeObject & { status?: { runNamespace?: string } }>(client, objectPath(RESOURCES.clusterDeployHooks, undefined, hook));
  if (!found) throw new CommandError(`ClusterDeployHook "${hook}" not found`);
  const namespace = found.status?.runNamespace;
  if (!namespace) throw new CommandError(`ClusterDeployHook "${hook}" has no status.runNamespace yet: no certhook operator serving ClusterDeployHooks has seen it (is one running, without --namespace?)`);
  return namespace;
}

/** Polls the run until it ends, printing each phase it passes through, then its outcome. */
async function follow(client: KubeClient, namespace: string, name: string, timeoutMs: number, print: (line: string) => void): Promise<number> {
  const started = Date.now();
  let shown = '';
  let chosen = false;
  let hinted = false;
  for (;;) {
    const run = await client.get<DeployHookRunObject & KubeObject>(objectPath(RESOURCES.deployHookRuns, namespace, name));
    const status = run.status ?? {};
    const phase = status.phase ?? 'Pending';
    if (status.secretRef && !chosen) {
      chosen = true;
      const secret = status.secretRef.namespace ? `${status.secretRef.namespace}/${status.secretRef.name}` : status.secretRef.name;
      print(`${name}: the operator chose Secret ${secret}, the most recent certificate the hook selects`);
    }
    if (FINAL_PHASES.has(phase)) return outcome(run, print);
    const line = phase === 'Waiting' ? `${phase}: ${status.message}` : phase;
    if (line !== shown) print(`${name}: ${(shown = line)}`);
    const waited = Date.now() - started;
    if (phase === 'Pending' && waited > PENDING_HINT_MS && !hinted) {
      hinted = true;
      print(`${name}: still Pending after ${Math.round(waited / 1000)}s: is the certhook operator running and watching namespace ${namespace}?`);
    }
    if (timeoutMs && waited > timeoutMs) {
      console.error(`certhook trigger: ${name} did not finish within ${timeoutMs / 1000}s (phase ${phase})`);
      return 1;
    }
    await sleep(POLL_MS);
  }
}

function outcome(run: DeployHookRunObject, print: (line: string) => void): number {
  const status = run.status ?? {};
  print(`${run.metadata.name}: ${status.phase} (${status.reason ?? 'no reason'})${status.message ? `: ${status.message}` : ''}`);
  if (status.output) {
    print('--- output (tail) ---');
    print(status.output.replace(/\n$/, ''));
  }
  if (status.exitCode !== undefined) return status.exitCode;
  return status.phase === 'Succeeded' ? 0 : 1;
}
