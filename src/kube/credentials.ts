// Where the operator's credentials come from, in the order its --help documents: an explicit
// kubeconfig, else $KUBECONFIG, else the pod's service account, else ~/.kube/config. Read here
// without @kubernetes/client-node, whose import alone costs ~500 ms and ~80 MiB; only kubeconfig
// users this code cannot serve itself (exec plugins, auth providers...) load it (kubeconfig.ts).
import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import { credentialsFromKubeconfigFiles } from './kubeconfig.ts';
import { FileToken, type Clock } from './file-token.ts';

export interface TlsOptions {
  /** Trusted CAs (PEM); the system's when absent. */
  ca?: string | Buffer;
  /** A client certificate and its key (PEM). */
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  /** The name to verify the server's certificate against, when not the server URL's host. */
  servername?: string;
}

export interface Credentials {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  readonly tls: TlsOptions;
  /** The headers that authenticate one request; asked per request, so rotated tokens are used. */
  headers(): Promise<Record<string, string>>;
  /** From a kubeconfig: its current context's user (the entry's name) and namespace. */
  readonly context?: { user?: string; namespace?: string };
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Where ~/.kube/config is looked for (default: the user's home). */
  home?: string;
  /** Where the pod's service account token and ca.crt are mounted. */
  serviceAccountDir?: string;
  /** When the service account token was last read is judged by this clock. */
  now?: Clock;
}

/** Credentials as kubectl finds them: `path`, else $KUBECONFIG, else in-cluster, else ~/.kube/config. */
export async function loadCredentials(path?: string, opts: LoadOptions = {}): Promise<Credentials> {
  if (path) return credentialsFromKubeconfigFiles([path]);
  const env = opts.env ?? process.env;
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (listed.length) return credentialsFromKubeconfigFiles(listed);
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT);
  if (inCluster && (await exists(join(dir, 'token')))) {
    return serviceAccountCredentials(env.KUBERNETES_SERVICE_HOST!, env.KUBERNETES_SERVICE_PORT!, dir, opts.now);
  }
  const config = join(opts.home ?? homedir(), '.kube', 'config');
  if (await exists(config)) return credentialsFromKubeconfigFiles([config]);
  throw new Error(
    inCluster
      ? `no Kubernetes credentials: KUBERNETES_SERVICE_HOST is set but there is no service account token at ${join(dir, 'token')} (is automountServiceAccountToken off?), and there is no ${config}; pass --kubeconfig or set KUBECONFIG`
      : `no Kubernetes credentials: pass --kubeconfig, set KUBECONFIG, run in a cluster, or create ${config}`,
  );
}

/**
 * A pod's service account, as client-go's InClusterConfig reads it. The token is a bound one
 * that the kubelet rotates (hourly by default), so it is re-read, at most once a minute.
 */
async function serviceAccountCredentials(host: string, port: string, dir: string, now?: Clock): Promise<Credentials> {
  const token = await FileToken.read(join(dir, 'token'), undefined, now);
  // client-go goes on with the system's CAs when ca.crt is missing; so does this.
  const ca = await readFile(join(dir, 'ca.crt')).catch(() => undefined);
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: { ...(ca ? { ca } : {}), rejectUnauthorized: true },
    headers: async () => ({ Authorization: `Bearer ${await token.current()}` }),
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
