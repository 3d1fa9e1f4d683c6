// What the operator keeps of a TLS Secret between events: its identity, labels and certificate
// facts. Never the private key, and not the certificate's PEM either: both are read again from
// the API object at the moment a run's snapshot is written.
import { parseCertificateBundle, type CertificateFacts } from '../certs/bundle.ts';
import type { KubeObject } from '../kube/object.ts';
import { secretData } from '../runners/snapshot.ts';

export interface TlsSecret {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  creationTimestamp: string;
  /**
   * When the API server last recorded a write to it, in ms: its managedFields' latest time, to the
   * second. What a process that did not see the write knows of when it came (the quiet period).
   */
  writtenAt: number | undefined;
  /** cert-manager's `cert-manager.io/issuer-name` annotation: the Issuer that signed it. */
  issuerName?: string;
  /** Facts of the certificate in tls.crt; undefined when tls.crt is empty or unreadable. */
  certificate: CertificateFacts | undefined;
  /** Why tls.crt gives no certificate, when it does not. */
  problem: { reason: 'Empty' | 'Unparsable'; message: string } | undefined;
}

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';
export const ISSUER_NAME_ANNOTATION = 'cert-manager.io/issuer-name';

export function toTlsSecret(secret: KubeObject): TlsSecret {
  const bundle = parseCertificateBundle(secretData(secret, 'tls.crt') ?? '');
  const issuerName = secret.metadata.annotations?.[ISSUER_NAME_ANNOTATION];
  return {
    namespace: secret.metadata.namespace!,
    name: secret.metadata.name!,
    uid: secret.metadata.uid!,
    labels: secret.metadata.labels ?? {},
    creationTimestamp: secret.metadata.creationTimestamp ?? '',
    writtenAt: lastRecordedWrite(secret),
    ...(issuerName ? { issuerName } : {}),
    certificate: bundle.ok ? bundle.facts : undefined,
    problem: bundle.ok ? undefined : { reason: bundle.reason, message: bundle.message },
  };
}

function lastRecordedWrite(secret: KubeObject): number | undefined {
  let latest: number | undefined;
  for (const entry of secret.metadata.managedFields ?? []) {
    const time = Date.parse(entry.time ?? '');
    if (time > (latest ?? -Infinity)) latest = time;
  }
  return latest;
}
