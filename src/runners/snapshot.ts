// The certificate snapshot: the files of exactly the certificate version a run is for, in a
// Secret of the run's namespace owned by the runs that use it. One certificate of one Secret has
// one snapshot there, however many hooks it fires (each of their runs an owner, so it goes with
// the last of them): one copy of the key, not one per hook. This module alone writes and reads
// its format (name, file names, keys).
import { createHash } from 'node:crypto';
import { listsAllDnsNames, type DeployHookRun, type RunCertificate } from '../api/deployhookrun.ts';
import { ANNOTATIONS, LABELS, labelValue } from '../api/names.ts';
import { parseCertificateBundle, splitCertificateChain } from '../certs/bundle.ts';
import { ownerReference, type KubeObject, type OwnerReference } from '../kube/object.ts';

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

/**
 * The name of the snapshot a run uses: `<secret>-certificate-<hash>`, the hash over the Secret's
 * uid and the certificate's fingerprint, for every run that fires for that certificate; a run made
 * by hand (a manual one, or one without its Secret's uid) has its own, `<run>-certificate`.
 */
export function snapshotName(run: DeployHookRun): string {
  const uid = run.metadata.annotations?.[ANNOTATIONS.secretUid];
  const fingerprint = run.spec.certificate?.fingerprint;
  if (run.spec.event === 'manual' || !uid || !fingerprint) return `${run.metadata.name}-certificate`;
  const hash = createHash('sha256').update(`${uid}\0${fingerprint}`).digest('hex').slice(0, 16);
  // A name cut short keeps ending in a letter or digit, as a DNS subdomain must.
  return `${run.spec.secretRef.name.slice(0, 200).replace(/[^a-z0-9]+$/, '')}-certificate-${hash}`;
}

/** A run as an owner of the snapshots it uses: one owner among several, none the controller. */
export function snapshotOwner(run: DeployHookRun): OwnerReference {
  const { controller: _, ...owner } = ownerReference(run as KubeObject);
  return owner;
}

/** Whether the run is among the snapshot's owners. */
export const ownsSnapshot = (snapshot: KubeObject, run: DeployHookRun): boolean =>
  (snapshot.metadata.ownerReferences ?? []).some((o) => o.uid === run.metadata.uid);

/** The labels of what is made for a run alone: its Job, the Job's pod. */
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

/** The labels of a snapshot: the certificate's Secret (a shared one belongs to no single hook or run). */
function snapshotLabels(run: DeployHookRun): Record<string, string> {
  return {
    [LABELS.secret]: labelValue(run.spec.secretRef.name),
    ...(run.spec.secretRef.namespace ? { [LABELS.secretNamespace]: run.spec.secretRef.namespace } : {}),
  };
}

/** The snapshot Secret for a run, owned by it (the runs that share it add themselves). */
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
      labels: snapshotLabels(run),
      ...(run.spec.certificate ? { annotations: { [ANNOTATIONS.fingerprint]: run.spec.certificate.fingerprint } } : {}),
      ownerReferences: [snapshotOwner(run)],
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
