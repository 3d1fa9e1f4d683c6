// Memory of the operator's Secret cache: what it keeps of each TLS Secret (identity, labels,
// certificate facts) against the baseline of keeping the Secret objects as the API sends them
// (certificate chain and private key included), measured in the same run.
//
//   node --expose-gc bench/cache-memory.ts [--secrets 2000]
import { parseArgs } from 'node:util';
import { createAuthority } from '../src/certs/authority.ts';
import { toTlsSecret } from '../src/controller/tls-secret.ts';
import type { KubeObject } from '../src/kube/object.ts';

const { values } = parseArgs({ options: { secrets: { type: 'string', default: '2000' } } });
const count = Number(values.secrets);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const authority = createAuthority({ name: 'bench CA' });
// A few distinct certificates, reused: issuing thousands would measure the CA, not the cache.
const issued = Array.from({ length: 16 }, (_, i) => authority.issue({ dnsNames: [`host-${i}.example.com`, `www.host-${i}.example.com`] }));

/** A Secret as the API sends it (fresh strings each, as JSON parsing gives them). */
function secretJson(i: number): string {
  const cert = issued[i % issued.length]!;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `tls-${i}`,
      namespace: 'bench',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i),
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'app.kubernetes.io/name': 'web', 'cert-manager.io/certificate-name': `cert-${i}` },
      annotations: { 'cert-manager.io/issuer-name': 'letsencrypt', 'cert-manager.io/common-name': `host-${i}.example.com` },
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(cert.fullchainPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64'), 'ca.crt': '' },
  });
}

const sources = Array.from({ length: count }, (_, i) => secretJson(i));

function measure(build: (json: string) => unknown): number {
  const before = heapAfterGc();
  const cache = new Map<number, unknown>();
  sources.forEach((json, i) => cache.set(i, build(json)));
  const after = heapAfterGc();
  if (cache.size !== count) throw new Error('cache incomplete');
  return (after - before) / count;
}

const raw = measure((json) => JSON.parse(json));
const compact = measure((json) => toTlsSecret(JSON.parse(json) as KubeObject));

console.log(`Secret cache, ${count} TLS Secrets: raw objects ${Math.round(raw)} B/Secret, certhook's cache ${Math.round(compact)} B/Secret, ratio ${(compact / raw).toFixed(2)} (lower is better)`);
