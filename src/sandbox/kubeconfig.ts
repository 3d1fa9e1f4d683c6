// A kubeconfig that points kubectl, helm and @kubernetes/client-node at a sandbox.
import { dump } from 'js-yaml';

export function kubeconfigFor(server: string, namespace = 'default'): string {
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node and certhook refuse plain HTTP unless TLS verification is explicitly off; the sandbox is loopback-only.
    clusters: [{ name: 'sandbox', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'sandbox', user: {} }],
    contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'sandbox', namespace } }],
    'current-context': 'sandbox',
    preferences: {},
  });
}
