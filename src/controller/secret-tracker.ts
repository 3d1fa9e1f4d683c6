// What this process knows of each TLS Secret beyond the cache: the state it last reconciled (what
// the rule chain compares the Secret with), and its changes not reconciled yet — when the last one
// came (for the quiet period) and the data it carried (the files a snapshot is taken from, held
// only until the Secret is reconciled). Forgotten when this process stops acting.
import type { KubeObject } from '../kube/object.ts';
import { lastCertificateOf, type Observation } from './ledger.ts';
import type { TlsSecret } from './tls-secret.ts';

export interface PendingChange {
  /** When the last change came, in ms. */
  at: number;
  /** The last object a change carried with its data; a delete found by a re-list carries none. */
  object: KubeObject | undefined;
}

/** Of a TLS Secret object, what a snapshot is taken from: its identity and its certificate and key. */
function certificateData(secret: KubeObject): KubeObject {
  const { uid, name, namespace } = secret.metadata;
  const data = (secret.data ?? {}) as Record<string, string | undefined>;
  return { apiVersion: secret.apiVersion, kind: secret.kind, metadata: { uid, name, namespace }, data: { 'tls.crt': data['tls.crt'], 'tls.key': data['tls.key'] } };
}

export class SecretTracker {
  private readonly seen = new Map<string, Observation>();
  private readonly pending = new Map<string, PendingChange>();

  /** A change to the Secret `key`: `object` is what the watch carried (undefined: nothing). */
  changed(key: string, object: KubeObject | undefined): void {
    this.pending.set(key, { at: Date.now(), object: object ? certificateData(object) : this.pending.get(key)?.object });
  }

  pendingChange(key: string): PendingChange | undefined {
    return this.pending.get(key);
  }

  /** The Secret as this process last reconciled it; undefined when it has not (since it acted). */
  observation(key: string): Observation | undefined {
    return this.seen.get(key);
  }

  /**
   * `key` was reconciled against `secret`, with `change` the pending change it settled: a change
   * that came meanwhile stays pending. A Secret that is gone needs no memory: with no run and no
   * Secret, nothing fires either way. `refused`: a firing of it was refused, so what was seen
   * before stays the observation, and the next reconcile decides the same again.
   */
  settled(key: string, secret: TlsSecret | undefined, change: PendingChange | undefined, at: number, refused = false): void {
    if (!refused) this.observe(key, secret, at);
    if (this.pending.get(key) === change) this.pending.delete(key);
  }

  private observe(key: string, secret: TlsSecret | undefined, at: number): void {
    if (!secret) {
      this.seen.delete(key);
      return;
    }
    const before = this.seen.get(key);
    // An unreadable tls.crt keeps the certificate the same Secret held before it.
    const lastCertificate = !secret.certificate && before?.secret?.uid === secret.uid ? lastCertificateOf(before) : undefined;
    this.seen.set(key, lastCertificate ? { secret, at, lastCertificate } : { secret, at });
  }

  /** Secrets with changes not reconciled yet. */
  get unsettled(): number {
    return this.pending.size;
  }

  clear(): void {
    this.seen.clear();
    this.pending.clear();
  }
}
