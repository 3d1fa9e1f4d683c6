// The kubeconfig users and clusters certhook does not read itself (exec plugins, auth providers,
// impersonation, proxy-url...), served by @kubernetes/client-node as every kubeconfig was before.
// Imported here, on demand: loading it costs ~500 ms and ~80 MiB, which only these setups pay.
import type { RequestOptions } from 'node:https';
import type { Credentials } from './credentials.ts';

type Fields = Record<string, unknown>;

/** Credentials for one kubeconfig cluster and user, their relative paths already made absolute. */
export async function clientNodeCredentials(clusterName: string, cluster: Fields, userName: string, user: Fields): Promise<Credentials> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  // JSON is YAML: client-node reads the cluster and user itself, every field it knows as it knows it.
  kc.loadFromString(JSON.stringify({
    clusters: [{ name: clusterName, cluster }],
    users: [{ name: userName, user }],
    contexts: [{ name: 'certhook', context: { cluster: clusterName, user: userName } }],
    'current-context': 'certhook',
  }));
  // Once for TLS (an exec plugin may hand out a client certificate too), then per request for headers.
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  return {
    server: kc.getCurrentCluster()!.server.replace(/\/+$/, ''),
    tls: {
      ...(tls.ca ? { ca: tls.ca as string | Buffer } : {}),
      ...(tls.cert ? { cert: tls.cert as string | Buffer } : {}),
      ...(tls.key ? { key: tls.key as string | Buffer } : {}),
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
      ...(tls.servername ? { servername: tls.servername } : {}),
    },
    async headers() {
      const opts: RequestOptions = { headers: {} };
      await kc.applyToHTTPSOptions(opts);
      const headers = { ...(opts.headers as Record<string, string>) };
      // client-node hands basic auth to node:https as `auth`, not as a header.
      if (opts.auth && !headers.Authorization) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      return headers;
    },
  };
}
