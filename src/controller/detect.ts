// Secret transitions → certificate events. Pure: the two states of one Secret in, events out.
import type { CertificateEvent } from '../api/enums.ts';
import type { TlsSecret } from './tls-secret.ts';

export interface Detection {
  event: CertificateEvent;
  /** The Secret the event is about: for revoked, its last known state. */
  secret: TlsSecret;
}

/**
 * What changed between the last state the operator acted on and the current one (undefined =
 * no Secret). Only the certificate counts: labels, annotations, the key or other data keys
 * changing fire nothing. A Secret whose tls.crt holds no readable certificate fires nothing
 * (it is reported instead), and the first readable certificate it gets counts as created.
 */
export function detect(previous: TlsSecret | undefined, current: TlsSecret | undefined): Detection[] {
  const before = previous?.certificate ? previous : undefined;
  const after = current?.certificate ? current : undefined;
  if (before && current && before.uid !== current.uid) {
    // Deleted and re-created between two observations: the old one went, a new one came.
    return [{ event: 'revoked', secret: before }, ...(after ? [{ event: 'created' as const, secret: after }] : [])];
  }
  if (before && !current) return [{ event: 'revoked', secret: before }];
  if (!before && after) return [{ event: 'created', secret: after }];
  if (before && after && before.certificate!.fingerprint !== after.certificate!.fingerprint) {
    return [{ event: 'renewed', secret: after }];
  }
  return [];
}
