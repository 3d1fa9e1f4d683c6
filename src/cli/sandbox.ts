// `certhook sandbox`: certhook without a cluster — the embedded Kubernetes API sandbox with the
// operator running against it, or (--api-only) the sandbox alone.
import { writeFile } from 'node:fs/promises';
import { customResourceDefinitions } from '../api/crd.ts';
import { startOperator, type Operator } from '../controller/operator.ts';
import { KubeClient } from '../kube/client.ts';
import { credentialsFromKubeconfig } from '../kube/kubeconfig.ts';
import { createCliLogger } from '../log.ts';
import { startSandbox } from '../sandbox/index.ts';
import { runDemo } from './demo.ts';
import { logFormatOption, logLevelOption, operatorConfig, untilSignal } from './operator.ts';
import { intOption, parseOptions, stringOption } from './usage.ts';

const HELP = `usage: certhook sandbox [--demo | --api-only] [--kubeconfig-out FILE] [--port N] [--log-level LEVEL] [--log-format json|text] [--quiet-period SECONDS]

Starts an in-memory Kubernetes API server on 127.0.0.1 (with a Job controller and a kubelet that
runs containers as local processes), installs certhook's CRDs and runs the operator against it,
until SIGINT or SIGTERM.

options:
  --demo                create a DeployHook and a TLS Secret, renew the certificate, delete the
                        Secret, print the audit trail of the three runs, and exit
  --api-only            serve the API only: no CRDs, no operator
  --kubeconfig-out FILE write a kubeconfig for the sandbox to FILE (use it with kubectl --kubeconfig FILE)
  --port N              listen on port N (default: a free port)
  --log-level LEVEL     the operator's log level (default: warn with --demo, else info)
  --log-format FORMAT   json or text (default: json)
  --quiet-period SECONDS  the operator's quiet period for bursts of writes to one Secret (default: 2)`;

export async function runSandbox(args: string[]): Promise<number> {
  const opts = parseOptions(args, {
    demo: { type: 'boolean' },
    'api-only': { type: 'boolean' },
    'kubeconfig-out': { type: 'string' },
    port: { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    'quiet-period': { type: 'string' },
  }, HELP);
  if (!opts) return 0;
  const port = intOption(stringOption(opts, 'port'), 'port', 0, 65535, HELP);
  const kubeconfigOut = stringOption(opts, 'kubeconfig-out');
  const demo = opts.demo === true;
  const log = await createCliLogger(logLevelOption({ 'log-level': stringOption(opts, 'log-level') ?? (demo ? 'warn' : 'info') }, HELP), logFormatOption(opts, HELP));

  const sandbox = await startSandbox(port !== undefined ? { port } : {});
  if (kubeconfigOut) await writeFile(kubeconfigOut, sandbox.kubeconfig(), { mode: 0o600 });
  console.log(`sandbox API server listening on ${sandbox.url}`);
  if (kubeconfigOut) console.log(`kubeconfig written to ${kubeconfigOut}: kubectl --kubeconfig ${kubeconfigOut} get namespaces`);

  let operator: Operator | undefined;
  let client: KubeClient | undefined;
  try {
    if (!opts['api-only']) {
      const crdType = sandbox.api.type('apiextensions.k8s.io', 'customresourcedefinitions');
      for (const crd of customResourceDefinitions()) sandbox.api.create(crdType, undefined, crd);
      client = KubeClient.create(await credentialsFromKubeconfig(sandbox.kubeconfig()));
      operator = await startOperator({ client, log, config: operatorConfig(opts, HELP) });
      console.log('certhook CRDs installed and the operator is running');
    }
    if (demo) return await runDemo(client!, (line) => console.log(line));
    console.log(`stop with Ctrl-C`);
    await untilSignal();
    return 0;
  } finally {
    await operator?.stop();
    await client?.close();
    await sandbox.close();
  }
}
