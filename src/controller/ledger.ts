// The DeployHookRuns are the ledger of what has fired. When the operator starts with no memory
// (or takes over as leader, or first sees a hook), it compares the ledger with the Secrets that
// exist and fires what the ledger lacks — so changes made while it was down fire once, and
// nothing that already fired fires again. Pure.
import type { DeployHook } from '../api/deployhook.ts';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { ANNOTATIONS } from '../api/names.ts';
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

function revokedFiring(hook: DeployHook, last: DeployHookRun): Firing | undefined {
  const certificate = last.spec.certificate!;
  // The Secret is gone, so its labels are unknown: the hook's domains are checked, its selector not.
  if (!hookListens(hook, 'revoked') || !domainsAllow(hook, certificateNames(certificate.dnsNames, certificate.domain))) return undefined;
  return {
    hook,
    event: 'revoked',
    secret: { name: last.spec.secretRef.name, uid: secretUidOf(last) ?? '' },
    certificate: last.spec.certificate!,
  };
}

/**
 * What `hook` should fire that its runs do not record, given the TLS Secrets of its namespace
 * and its runs:
 * - a run exists for the Secret's current certificate: nothing;
 * - the latest run is for another certificate of the same Secret: renewed;
 * - the latest run is for a Secret of that name that is gone (deleted, perhaps re-created):
 *   revoked for it, unless that already fired, then created for the one that exists now;
 * - no run, and the Secret was created after the hook: created;
 * - no run, the Secret predates the hook, and its certificate was issued after the hook: renewed;
 * - otherwise the certificate predates the hook: nothing.
 */
export function ledgerFirings(hook: DeployHook, secrets: TlsSecret[], runs: DeployHookRun[]): Firing[] {
  const hookCreated = hook.metadata.creationTimestamp ?? '';
  const firings: Firing[] = [];
  const present = new Set<string>();
  for (const secret of secrets) {
    if (secret.namespace !== hook.metadata.namespace) continue;
    present.add(secret.name);
    const ledger = ledgerOf(runs, secret.name);
    const mine = ledger.filter((r) => secretUidOf(r) === secret.uid);
    const latest = ledger[0];
    if (!mine.length && latest && latest.spec.event !== 'revoked') {
      // The runs are for an earlier Secret of this name, which is gone.
      const revoked = revokedFiring(hook, latest);
      if (revoked) firings.push(revoked);
    }
    if (!secret.certificate) continue;
    if (mine.some((r) => r.spec.certificate!.fingerprint === secret.certificate!.fingerprint)) continue;
    let event: Firing['event'] | undefined;
    if (mine.length) {
      event = 'renewed';
    } else if (latest) {
      event = 'created';
    } else if (secret.creationTimestamp >= hookCreated) {
      event = 'created';
    } else if (Date.parse(secret.certificate.notBefore) > Date.parse(hookCreated)) {
      event = 'renewed';
    }
    if (event && hookFires(hook, event, secret)) firings.push(firingOf(hook, event, secret));
  }
  const gone = new Set(runs.map((r) => r.spec.secretRef.name).filter((name) => !present.has(name)));
  for (const name of gone) {
    const latest = ledgerOf(runs, name)[0];
    if (!latest || latest.spec.event === 'revoked') continue;
    const revoked = revokedFiring(hook, latest);
    if (revoked) firings.push(revoked);
  }
  return firings;
}
