// Whether a run is a dry run, and why: its hook asks for it, or the certificate comes from a
// staging CA (CertMate's CERTMATE_DRY_RUN "when running a renewal in staging mode"). Pure.
import type { Hook } from '../api/deployhook.ts';
import type { RunCertificate } from '../api/deployhookrun.ts';
import type { TlsSecret } from './tls-secret.ts';

/** Let's Encrypt's staging hierarchy names every certificate in it "(STAGING) ...". */
const STAGING_MARK = '(STAGING)';

/**
 * `secret`: the Secret the run is for, when it still exists (its cert-manager issuer annotation);
 * `stagingIssuers`: the operator's --dry-run-issuers.
 */
export function dryRunReason(hook: Hook, certificate: RunCertificate, secret: TlsSecret | undefined, stagingIssuers: readonly string[]): string | undefined {
  if (hook.spec.dryRun) return 'the hook has spec.dryRun: true';
  if (certificate.issuer?.includes(STAGING_MARK)) return `the certificate's issuer is a staging CA: ${certificate.issuer}`;
  if (secret?.issuerName && stagingIssuers.includes(secret.issuerName)) return `the Secret's issuer ${secret.issuerName} (cert-manager.io/issuer-name) is one of --dry-run-issuers`;
  return undefined;
}
