// What the commands that talk to a cluster share: credentials as kubectl finds them, and the one
// check that the API can be reached and serves certhook's CRDs, each said in one line.
import { KubeClient, type KubeClientOptions } from '../kube/client.ts';
import { loadCredentials, type Credentials } from '../kube/credentials.ts';
import { isNotFound } from '../kube/errors.ts';
import { RESOURCES } from '../kube/paths.ts';
import { CommandError } from './usage.ts';

/**
 * Why certhook cannot work against this API, said plainly (no stack trace): it cannot be
 * reached, or certhook's CRDs are not installed. Undefined when it can.
 */
export async function apiProblem(client: KubeClient, server: string): Promise<string | undefined> {
  const { group, version } = RESOURCES.deployHooks;
  try {
    const resources = await client.get<{ resources?: { name: string }[] }>(`/apis/${group}/${version}`);
    if (resources.resources?.some((r) => r.name === RESOURCES.deployHooks.plural)) return undefined;
  } catch (err) {
    if (!isNotFound(err)) return `cannot reach the Kubernetes API at ${server}: ${(err as Error).message}`;
  }
  return 'DeployHook CRD not found: install it with `certhook crds | kubectl apply -f -` or the Helm chart';
}

/**
 * A client of the cluster the kubeconfig names, checked (unless `needsCrds` is false: a command
 * that reads only Secrets and ConfigMaps): its problems are CommandErrors.
 */
export async function connect(kubeconfig: string | undefined, needsCrds = true, opts: KubeClientOptions = {}): Promise<{ client: KubeClient; context: Credentials['context'] }> {
  let credentials: Credentials;
  try {
    credentials = await loadCredentials(kubeconfig);
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
  const client = KubeClient.create(credentials, opts);
  const problem = needsCrds ? await apiProblem(client, credentials.server) : undefined;
  if (problem) {
    await client.close();
    throw new CommandError(problem);
  }
  return { client, context: credentials.context };
}
