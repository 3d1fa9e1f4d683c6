// The certificate snapshot: the files of exactly the certificate version a run is for, in a
// Secret owned by the run. This module alone writes and reads its format (file names, keys).
import { listsAllDnsNames, type DeployHookRun, type RunCertificate } from '../api/deployhookrun.ts';
import { LABELS, labelValue } from '../api/names.ts';
import { parseCertificateBundle, splitCertificateChain } from '../certs/bundle.ts';
import type { KubeObject } from '../kube/object.ts';
import { ownerReference } from '../kube/object.ts';

/** The snapshot's keys, which are also the file names the hook sees. */
export const FILES = {
  cert: 'cert.pem',
  chain: 'chain.pem',
  fullchain: 'fullchain.pem',
  key: 'privkey.pem',
} as const;

export interface CertificateFiles {
  cert: string;
  chain: string;
  fullchain: string;
  /** Absent when the key could not be had (a Secret deleted while the operator was down). */
  key: string | undefined;
}

/** What a runner needs to know of a run's snapshot without reading the files. */
export interface SnapshotInfo {
  name: string;
  hasKey: boolean;
}

export const snapshotName = (run: DeployHookRun) => `${run.metadata.name}-certificate`;

/** The labels of everything made for a run: its snapshot, its Job, the Job's pod. */
export function runLabels(run: DeployHookRun): Record<string, string> {
  return {
    [LABELS.hook]: labelValue(run.spec.hookRef.name),
    [LABELS.secret]: labelValue(run.spec.secretRef.name),
    ...(run.spec.secretRef.namespace ? { [LABELS.secretNamespace]: run.spec.secretRef.namespace } : {}),
    [LABELS.event]: run.spec.event,
    [LABELS.run]: labelValue(run.metadata.name!),
  };
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** A data key of a Secret object, decoded; undefined when absent. */
export function secretData(secret: KubeObject, key: string): string | undefined {
  const value = ((secret.data ?? {}) as Record<string, string | undefined>)[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/**
 * The files of the certificate in a TLS Secret object (the one an event carried, or one read
 * now), with that certificate's fingerprint. Whether the certificate is readable is the cache's
 * to say (it parsed the same tls.crt): callers check the fingerprint against its facts.
 */
export function certificateFiles(secret: KubeObject): (CertificateFiles & { fingerprint: string }) | undefined {
  const split = splitCertificateChain(secretData(secret, 'tls.crt') ?? '');
  if (!split) return undefined;
  return { cert: split.leafPem, chain: split.chainPem, fullchain: split.fullchainPem, key: secretData(secret, 'tls.key'), fingerprint: split.fingerprint };
}

/** The snapshot Secret for a run, owned by it. */
export function snapshotSecret(run: DeployHookRun, files: CertificateFiles): KubeObject {
  const data: Record<string, string> = {
    [FILES.cert]: b64(files.cert),
    [FILES.chain]: b64(files.chain),
    [FILES.fullchain]: b64(files.fullchain),
  };
  if (files.key !== undefined) data[FILES.key] = b64(files.key);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: snapshotName(run),
      namespace: run.metadata.namespace!,
      labels: runLabels(run),
      ownerReferences: [ownerReference(run as KubeObject)],
    },
    type: 'Opaque',
    immutable: true,
    data,
  };
}

/** The files a snapshot Secret holds; undefined when it is not a whole snapshot. */
export function snapshotFiles(snapshot: KubeObject): CertificateFiles | undefined {
  const cert = secretData(snapshot, FILES.cert);
  const fullchain = secretData(snapshot, FILES.fullchain);
  if (cert === undefined || fullchain === undefined) return undefined;
  return { cert, chain: secretData(snapshot, FILES.chain) ?? '', fullchain, key: secretData(snapshot, FILES.key) };
}

export const snapshotInfo = (snapshot: KubeObject): SnapshotInfo => ({
  name: snapshot.metadata.name!,
  hasKey: secretData(snapshot, FILES.key) !== undefined,
});

/**
 * The certificate as a hook is told of it: every DNS name (CERTMATE_DOMAINS, a webhook's
 * domains), read from the snapshot's leaf when the run lists only the first ones.
 */
export function withAllDnsNames(certificate: RunCertificate, files: CertificateFiles): RunCertificate {
  if (listsAllDnsNames(certificate)) return certificate;
  const leaf = parseCertificateBundle(files.cert);
  return leaf.ok && leaf.facts.fingerprint === certificate.fingerprint ? { ...certificate, dnsNames: leaf.facts.dnsNames } : certificate;
}
