// What fires: the one rule chain, for live changes and restarts alike. The DeployHookRuns are the
// ledger of what has fired; for one Secret name and one hook, the Secret as it is now (or its
// absence), the hook's runs for that name, and — when this process saw it since the hook existed —
// the Secret as it was last reconciled, decide the firings. Pure.
//
// The observation makes the live column exact (a renewal to a certificate backdated before the
// hook, a delete of a Secret no run recorded, tls.crt becoming readable); without it, after a
// restart, the runs and the creation times alone decide. README "Exactly once" is the table.
import type { Hook } from '../api/deployhook.ts';
import { isClusterHook, secretNamespaceOf } from '../api/hook-ref.ts';
import { listsAllDnsNames, type DeployHookRun } from '../api/deployhookrun.ts';
import type { CertificateEvent } from '../api/enums.ts';
import { ANNOTATIONS } from '../api/names.ts';
import type { CertificateFacts } from '../certs/bundle.ts';
import { certificateNames, domainsAllow, hookFires, hookListens } from './match.ts';
import { newestFirst } from './run-state.ts';
import { firingOf, type Firing } from './plan.ts';
import type { TlsSecret } from './tls-secret.ts';

const secretUidOf = (run: DeployHookRun) => run.metadata.annotations?.[ANNOTATIONS.secretUid];

/** The runs of one hook for one Secret name, latest first; manual runs are tests, not the ledger. */
export function ledgerOf(runs: DeployHookRun[], secretName: string): DeployHookRun[] {
  return runs
    .filter((r) => r.spec.secretRef.name === secretName && r.spec.event !== 'manual' && r.spec.certificate)
    .sort(newestFirst);
}

/**
 * The run whose snapshot holds a revoked run's certificate files: the latest other run for the
 * same Secret (by uid) and certificate. A revoked run planned without the deleted object (a
 * delete seen only by a re-list, or found by the ledger) takes its files from there.
 */
export function capturingRun(runs: DeployHookRun[], revoked: DeployHookRun): DeployHookRun | undefined {
  return ledgerOf(runs, revoked.spec.secretRef.name).find((r) => r.spec.event !== 'revoked'
    && secretUidOf(r) === secretUidOf(revoked)
    && r.spec.certificate!.fingerprint === revoked.spec.certificate?.fingerprint);
}

/** A Secret as this process last reconciled it: its state then (none: there was no Secret), and when. */
export interface Observation {
  secret: TlsSecret | undefined;
  /** When, in ms since the epoch. */
  at: number;
  /**
   * While its tls.crt is unreadable: the certificate it last held, seen since. An unreadable
   * spell does not erase it, so the next certificate is a renewal of that one.
   */
  lastCertificate?: CertificateFacts;
}

/** The certificate the Secret of an observation held last, readable now or before an unreadable spell. */
export const lastCertificateOf = (seen: Observation): CertificateFacts | undefined => seen.secret?.certificate ?? seen.lastCertificate;

/**
 * Revoked for the certificate of a run: the Secret is gone, so the hook's domains are checked, its
 * selector not. A run that lists only the first of its certificate's names is taken as allowed:
 * the hook fired for that certificate, so its domains allowed it then.
 */
function revokedOfRun(hook: Hook, last: DeployHookRun): Firing | undefined {
  const certificate = last.spec.certificate!;
  const allowed = !listsAllDnsNames(certificate) || domainsAllow(hook, certificateNames(certificate.dnsNames, certificate.domain));
  if (!hookListens(hook, 'revoked') || !allowed) return undefined;
  return { hook, event: 'revoked', secret: { namespace: secretNamespaceOf(last), name: last.spec.secretRef.name, uid: secretUidOf(last) ?? '' }, certificate };
}

/** Revoked for a Secret this process saw before it went: its labels are known too. */
const revokedOfSecret = (hook: Hook, gone: TlsSecret): Firing | undefined =>
  (hookFires(hook, 'revoked', gone) ? firingOf(hook, 'revoked', gone) : undefined);

/**
 * The event for the Secret's certificate when no run of the hook records this Secret (by uid):
 * what this process saw says it exactly; without that, creation times decide.
 */
function unrecordedEvent(hook: Hook, secret: TlsSecret, seen: Observation | undefined): 'created' | 'renewed' | undefined {
  const certificate = secret.certificate!;
  if (seen) {
    const before = lastCertificateOf(seen);
    if (seen.secret?.uid !== secret.uid || !before) return 'created';
    // The same certificate, seen since the hook existed, fired nothing then: it predates the hook.
    return before.fingerprint === certificate.fingerprint ? undefined : 'renewed';
  }
  const hookCreated = hook.metadata.creationTimestamp ?? '';
  if (secret.creationTimestamp >= hookCreated) return 'created';
  return Date.parse(certificate.notBefore) > Date.parse(hookCreated) ? 'renewed' : undefined;
}

/**
 * What `hook` fires for the Secret named `name`, given the Secret now (undefined: none), the
 * hook's runs (any; those for other names are ignored) and what this process last saw of it:
 * - a run exists for the Secret's current certificate: nothing;
 * - the latest run is for another certificate of the same Secret: renewed;
 * - the latest run is for a Secret of that name that is gone (deleted, perhaps re-created):
 *   revoked for it, unless that already fired, then created for the one that exists now;
 * - no run, and this process saw a Secret of that name since the hook existed: revoked for it if
 *   it went; created if the Secret is new or its certificate became readable; renewed if its
 *   certificate changed;
 * - no run, nothing seen: the Secret created after the hook: created; else its certificate
 *   issued after the hook: renewed; else the certificate predates the hook: nothing.
 */
export function firingsFor(hook: Hook, name: string, secret: TlsSecret | undefined, runs: DeployHookRun[], observed?: Observation): Firing[] {
  if (secret && ((!isClusterHook(hook) && secret.namespace !== hook.metadata.namespace) || secret.name !== name)) return [];
  const hookCreated = Date.parse(hook.metadata.creationTimestamp ?? '') || 0;
  const seen = observed && observed.at >= hookCreated ? observed : undefined;
  const ledger = ledgerOf(runs, name);
  const latest = ledger[0];
  const mine = secret ? ledger.filter((r) => secretUidOf(r) === secret.uid) : [];
  // A Secret of this name seen with a certificate, gone now (deleted, perhaps re-created).
  const gone = seen?.secret?.certificate && seen.secret.uid !== secret?.uid ? seen.secret : undefined;
  const firings: Firing[] = [];
  let revoked: Firing | undefined;
  if (latest && latest.spec.event !== 'revoked' && !mine.length) {
    revoked = gone?.uid === secretUidOf(latest) ? revokedOfSecret(hook, gone!) : revokedOfRun(hook, latest);
  } else if (!latest && gone) {
    revoked = revokedOfSecret(hook, gone);
  }
  if (revoked) firings.push(revoked);
  const certificate = secret?.certificate;
  if (!secret || !certificate || mine.some((r) => r.spec.certificate!.fingerprint === certificate.fingerprint)) return firings;
  const event = mine.length ? 'renewed' : latest ? 'created' : unrecordedEvent(hook, secret, seen);
  if (event && hookFires(hook, event, secret)) firings.push(firingOf(hook, event, secret));
  return firings;
}

/** A Go-style duration of hours, minutes and seconds (`336h`, `1h30m`), in ms. */
export function durationMs(duration: string): number {
  const [, h = '0', m = '0', s = '0'] = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration) ?? [];
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/** When a certificate enters the hook's expiry window: notAfter − expiringWithin, in ms. */
export const expiringFrom = (hook: Hook, certificate: { notAfter: string }): number =>
  Date.parse(certificate.notAfter) - durationMs(hook.spec.expiringWithin);

/**
 * Expiring for the Secret's certificate, once per certificate version (the ledger holds its run):
 * the hook listens for it and selects the Secret, and `now` is inside the window. A renewal
 * replaces the certificate, so one that came is never warned about.
 */
export function expiringFor(hook: Hook, secret: TlsSecret | undefined, runs: DeployHookRun[], now: number): Firing | undefined {
  const certificate = secret?.certificate;
  if (!secret || !certificate || !hookFires(hook, 'expiring', secret) || now < expiringFrom(hook, certificate)) return undefined;
  const fired = ledgerOf(runs, secret.name).some((r) => r.spec.event === 'expiring' && secretUidOf(r) === secret.uid && r.spec.certificate!.fingerprint === certificate.fingerprint);
  return fired ? undefined : firingOf(hook, 'expiring', secret);
}

/**
 * The certificate event a live change to a Secret was, from what this process last saw of it (for
 * telling users that no hook took it): none without a change, or for a change that is not one.
 */
export function liveEvent(secret: TlsSecret | undefined, seen: Observation | undefined): { event: CertificateEvent; secret: TlsSecret } | undefined {
  if (secret?.certificate) {
    const last = seen && lastCertificateOf(seen);
    if (!last || seen!.secret?.uid !== secret.uid) return { event: 'created', secret };
    return last.fingerprint === secret.certificate.fingerprint ? undefined : { event: 'renewed', secret };
  }
  const before = seen?.secret?.certificate ? seen.secret : undefined;
  return before && !secret ? { event: 'revoked', secret: before } : undefined;
}
