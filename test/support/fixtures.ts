// Test fixtures: TLS Secrets with real certificates, DeployHooks, and waiting on runs.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { DeployHookRun } from '../../src/api/deployhookrun.ts';
import { createAuthority, type IssuedCertificate } from '../../src/certs/authority.ts';
import { eventually } from './eventually.ts';
import { FINAL_PHASES } from '../../src/controller/run-state.ts';

const authority = createAuthority({ name: 'certhook test CA' });

export function issue(...dnsNames: string[]): IssuedCertificate {
  return authority.issue({ dnsNames });
}

/** A certificate valid from `daysAgo` days ago. */
export function issueFrom(daysAgo: number, ...dnsNames: string[]): IssuedCertificate {
  return authority.issue({ dnsNames, notBefore: new Date(Date.now() - daysAgo * 24 * 3600 * 1000) });
}

export const b64 = (text: string) => Buffer.from(text).toString('base64');

export function tlsSecret(name: string, cert: IssuedCertificate, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, labels, annotations },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(cert.fullchainPem), 'tls.key': b64(cert.keyPem) },
  };
}

export async function createTlsSecret(core: CoreV1Api, namespace: string, name: string, cert: IssuedCertificate, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) {
  await core.createNamespacedSecret({ namespace, body: tlsSecret(name, cert, labels, annotations) as never });
}

/** Replaces the certificate (and key) of a TLS Secret: a renewal, as cert-manager writes it. */
export async function renewTlsSecret(core: CoreV1Api, namespace: string, name: string, cert: IssuedCertificate) {
  const current = await core.readNamespacedSecret({ name, namespace });
  current.data = { ...current.data, 'tls.crt': b64(cert.fullchainPem), 'tls.key': b64(cert.keyPem) };
  await core.replaceNamespacedSecret({ name, namespace, body: current });
}

export const HOOKS = { group: 'certhook.io', version: 'v1alpha1', plural: 'deployhooks' };
export const RUNS = { group: 'certhook.io', version: 'v1alpha1', plural: 'deployhookruns' };

export function deployHook(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name }, spec };
}

export async function createHook(custom: CustomObjectsApi, namespace: string, name: string, spec: Record<string, unknown>) {
  return custom.createNamespacedCustomObject({ ...HOOKS, namespace, body: deployHook(name, spec) });
}

export const CLUSTER_HOOKS = { group: 'certhook.io', version: 'v1alpha1', plural: 'clusterdeployhooks' };

export async function createClusterHook(custom: CustomObjectsApi, name: string, spec: Record<string, unknown>) {
  return custom.createClusterCustomObject({ ...CLUSTER_HOOKS, body: { apiVersion: 'certhook.io/v1alpha1', kind: 'ClusterDeployHook', metadata: { name }, spec } });
}

export async function listRuns(custom: CustomObjectsApi, namespace: string): Promise<DeployHookRun[]> {
  const list = (await custom.listNamespacedCustomObject({ ...RUNS, namespace })) as { items: DeployHookRun[] };
  return list.items;
}


/** Waits until `count` runs exist in the namespace and all are finished; returns them oldest first. */
export async function finishedRuns(custom: CustomObjectsApi, namespace: string, count: number, timeoutMs = 30_000): Promise<DeployHookRun[]> {
  return eventually(async () => {
    const runs = await listRuns(custom, namespace);
    assert.equal(runs.length, count, `expected ${count} runs, have ${runs.map((r) => `${r.spec.event}:${r.status?.phase}`).join(', ')}`);
    assert.ok(runs.every((r) => FINAL_PHASES.has(r.status?.phase ?? '')), `runs not finished: ${runs.map((r) => `${r.spec.event}:${r.status?.phase}`).join(', ')}`);
    return runs.sort((a, b) => (a.metadata.creationTimestamp! < b.metadata.creationTimestamp! ? -1 : a.metadata.creationTimestamp! > b.metadata.creationTimestamp! ? 1 : 0));
  }, timeoutMs);
}

export const outputDir = () => mkdtemp(join(tmpdir(), 'certhook-hook-out-'));
