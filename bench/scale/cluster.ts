// The scale bench's cluster: an in-process sandbox (no workloads: Jobs are created, never run),
// the CRDs, namespaces of TLS Secrets and catch-all DeployHooks, and renewals that change every
// Secret's leaf certificate. Writes here go straight to the sandbox's API, not over HTTP, so the
// sandbox's request counters see only what the operator (and the bench's raw HTTP loops) send.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { customResourceDefinitions } from '../../src/api/crd.ts';
import { createAuthority } from '../../src/certs/authority.ts';
import { parseCertificateBundle } from '../../src/certs/bundle.ts';
import type { WatchEvent } from '../../src/sandbox/api.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';

export const TLS_TYPE = 'kubernetes.io/tls';
export const HOOK_GROUP = 'certhook.io';

export interface Layout {
  secrets: number;
  namespaces: number;
  hooksPerNamespace: number;
}

export interface BenchCluster {
  sandbox: Sandbox;
  /** A kubeconfig file for the sandbox (removed by close()). */
  kubeconfigPath: string;
  layout: Layout;
  namespaceNames: string[];
  close(): Promise<void>;
}

export const namespaceOf = (i: number, layout: Layout) => `bench-${i % layout.namespaces}`;
export const secretName = (i: number) => `tls-${i}`;
export const hookName = (j: number) => `hook-${j}`;

export async function startCluster(layout: Layout, historyLimit: number): Promise<BenchCluster> {
  const sandbox = await startSandbox({ workloads: false, historyLimit });
  const dir = await mkdtemp(join(tmpdir(), 'certhook-scale-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  try {
    await writeFile(kubeconfigPath, sandbox.kubeconfig(), { mode: 0o600 });
    const api = sandbox.api;
    for (const crd of customResourceDefinitions()) {
      if (!api.registry.get(crd.spec.group, crd.spec.names.plural)) api.create(api.type('apiextensions.k8s.io', 'customresourcedefinitions'), undefined, crd);
    }
    const namespaceNames = Array.from({ length: layout.namespaces }, (_, i) => `bench-${i}`);
    for (const name of [...namespaceNames, 'bench-raw']) api.create(api.type('', 'namespaces'), undefined, { metadata: { name } });
    return {
      sandbox,
      kubeconfigPath,
      layout,
      namespaceNames,
      async close() {
        await sandbox.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A certificate as a Secret's data, with the SHA-256 fingerprint of its leaf. */
export interface PooledCertificate {
  data: { 'tls.crt': string; 'tls.key': string };
  fingerprint: string;
}

/**
 * A few dozen distinct certificates, issued once (issuing is the slow part). Secret i starts
 * with pool[i % size]; each renewal moves it to the next one, so its leaf always changes.
 */
export class CertificatePool {
  readonly certificates: PooledCertificate[];
  /** Which pool entry each Secret holds now. */
  private readonly current = new Map<number, number>();

  constructor(size = 48) {
    if (size < 2) throw new Error('a renewal needs at least two certificates to move between');
    const authority = createAuthority({ name: 'certhook scale bench CA' });
    this.certificates = Array.from({ length: size }, (_, i) => {
      const issued = authority.issue({ dnsNames: [`host-${i}.bench.example.com`, `www.host-${i}.bench.example.com`] });
      const bundle = parseCertificateBundle(issued.fullchainPem);
      if (!bundle.ok) throw new Error('the bench CA issued an unreadable certificate');
      return {
        data: { 'tls.crt': Buffer.from(issued.fullchainPem).toString('base64'), 'tls.key': Buffer.from(issued.keyPem).toString('base64') },
        fingerprint: bundle.facts.fingerprint,
      };
    });
    if (new Set(this.certificates.map((c) => c.fingerprint)).size !== size) throw new Error('the certificate pool holds duplicates');
  }

  initial(i: number): PooledCertificate {
    this.current.set(i, i % this.certificates.length);
    return this.certificates[i % this.certificates.length]!;
  }

  /** The next certificate of Secret i: always another leaf than the one it holds. */
  next(i: number): PooledCertificate {
    const certificate = this.peekNext(i);
    this.current.set(i, this.certificates.indexOf(certificate));
    return certificate;
  }

  /** What next(i) will give, without moving on. */
  peekNext(i: number): PooledCertificate {
    return this.certificates[((this.current.get(i) ?? i % this.certificates.length) + 1) % this.certificates.length]!;
  }
}

/** Yields to the event loop every `every` synchronous writes, so the sandbox keeps serving. */
async function inChunks(count: number, every: number, write: (i: number) => void): Promise<void> {
  for (let i = 0; i < count; i++) {
    write(i);
    if ((i + 1) % every === 0) await yieldNow();
  }
}

export async function createSecrets(cluster: BenchCluster, pool: CertificatePool): Promise<void> {
  const api = cluster.sandbox.api;
  const secrets = api.type('', 'secrets');
  await inChunks(cluster.layout.secrets, 500, (i) => {
    api.create(secrets, namespaceOf(i, cluster.layout), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName(i), labels: { 'app.kubernetes.io/name': 'bench' }, annotations: { 'cert-manager.io/certificate-name': `cert-${i}` } },
      type: TLS_TYPE,
      data: pool.initial(i).data,
    });
  });
}

/**
 * One catch-all hook per namespace (or more). Created after the Secrets, and in a later second
 * (creationTimestamps have one-second resolution), so that no Secret counts as created after
 * a hook: nothing fires until a certificate is renewed.
 */
export async function createHooks(cluster: BenchCluster): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const api = cluster.sandbox.api;
  const hooks = api.type(HOOK_GROUP, 'deployhooks');
  for (const namespace of cluster.namespaceNames) {
    for (let j = 0; j < cluster.layout.hooksPerNamespace; j++) {
      api.create(hooks, namespace, { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name: hookName(j) }, spec: { job: { command: 'true' } } });
    }
  }
}

/** The merge patch that renews Secret i (the body the bench sends, in-process or over HTTP). */
export function renewalPatch(pool: CertificatePool, i: number): { data: PooledCertificate['data'] } {
  return { data: pool.next(i).data };
}

/** Renews Secrets `indexes` in-process, as fast as the sandbox takes them. */
export async function renewInProcess(cluster: BenchCluster, pool: CertificatePool, indexes: number[]): Promise<void> {
  const api = cluster.sandbox.api;
  const secrets = api.type('', 'secrets');
  await inChunks(indexes.length, 100, (k) => {
    const i = indexes[k]!;
    api.patch(secrets, namespaceOf(i, cluster.layout), secretName(i), 'merge', renewalPatch(pool, i));
  });
}

/** The sandbox's current resourceVersion: a watch from it sees only what comes next. */
export function currentRevision(cluster: BenchCluster): string {
  return String(cluster.sandbox.api.store.currentRevision);
}

/**
 * Watches a resource in-process from now on; `onEvent` gets every event synchronously.
 * Returns the stop function.
 */
export function watchFromNow(cluster: BenchCluster, group: string, plural: string, onEvent: (e: WatchEvent) => void): () => void {
  const api = cluster.sandbox.api;
  return api.watch(api.type(group, plural), undefined, { resourceVersion: currentRevision(cluster) }, onEvent);
}

/** Counts the distinct names added to a resource from now on. */
export function countAdded(cluster: BenchCluster, group: string, plural: string): { readonly count: number; names: Set<string>; stop(): void } {
  const names = new Set<string>();
  const stop = watchFromNow(cluster, group, plural, (e) => {
    if (e.type === 'ADDED') names.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
  });
  return { get count() { return names.size; }, names, stop };
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Requests by verb and resource so far (a copy of the sandbox's counters). */
export function requestCounts(cluster: BenchCluster): Record<string, number> {
  return { ...cluster.sandbox.faults.counters.requests };
}

/** Write requests (POST, PUT, PATCH, DELETE) between two snapshots of the counters, by key. */
export function writesBetween(before: Record<string, number>, after: Record<string, number>): { total: number; byKey: Record<string, number> } {
  const byKey: Record<string, number> = {};
  let total = 0;
  for (const [key, n] of Object.entries(after)) {
    const verb = key.split(' ')[0]!;
    const delta = n - (before[key] ?? 0);
    if (!WRITE_VERBS.has(verb) || delta <= 0) continue;
    byKey[key] = delta;
    total += delta;
  }
  return { total, byKey };
}

/** All requests (reads included) between two snapshots of the counters. */
export function requestsBetween(before: Record<string, number>, after: Record<string, number>): number {
  return Object.entries(after).reduce((sum, [key, n]) => sum + n - (before[key] ?? 0), 0);
}

/**
 * Waits until the write counters have not moved for `quietMs` (the operator's delayed hook
 * status and retention work done), or `timeoutMs` passed; returns whether it got quiet.
 */
export async function writesSettle(cluster: BenchCluster, quietMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = writesBetween({}, requestCounts(cluster)).total;
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = writesBetween({}, requestCounts(cluster)).total;
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return true;
    }
  }
  return false;
}
