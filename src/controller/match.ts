// Which hooks a certificate event fires. Pure.
import type { CertificateEvent } from '../api/enums.ts';
import type { Hook } from '../api/deployhook.ts';
import { isClusterHook } from '../api/hook-ref.ts';
import type { LabelSelector } from '../api/metav1.ts';
import { fromLabelSelector, matchesLabels, type Requirement } from '../kube/label-selector.ts';
import type { TlsSecret } from './tls-secret.ts';

/**
 * A hook pattern matches a certificate name exactly (case-insensitively), or, as `*.suffix`,
 * any name of exactly one more label under suffix. A certificate's own wildcard name matches
 * only the same wildcard pattern.
 */
export function domainMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (p === n) return true;
  if (!p.startsWith('*.')) return false;
  const suffix = p.slice(1);
  if (!n.endsWith(suffix)) return false;
  const label = n.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** Whether the hook's domains (none: any) allow a certificate with these names. */
export function domainsAllow(hook: Hook, names: string[]): boolean {
  const { domains } = hook.spec;
  return !domains?.length || names.some((name) => domains.some((pattern) => domainMatches(pattern, name)));
}

/** A certificate's names for matching: its DNS names, else its common name. */
export const certificateNames = (dnsNames: string[] | undefined, commonName: string | undefined): string[] =>
  dnsNames?.length ? dnsNames : [commonName].filter((n): n is string => !!n);

/** Each hook object's compiled secretSelector: compiled once, not for every Secret it is matched with. */
const compiledSelectors = new WeakMap<LabelSelector, Requirement[]>();

export function compiledSelector(selector: LabelSelector): Requirement[] {
  let requirements = compiledSelectors.get(selector);
  if (!requirements) compiledSelectors.set(selector, (requirements = fromLabelSelector(selector)));
  return requirements;
}

/**
 * Whether the hook's filters (namespace, domains, secretSelector) select this Secret. A
 * ClusterDeployHook's namespaces are the caller's to choose (its namespaceSelector is matched
 * against the Namespace's labels, which a Secret does not carry: `namespaceSelects`).
 */
export function hookSelects(hook: Hook, secret: TlsSecret): boolean {
  if (!isClusterHook(hook) && hook.metadata.namespace !== secret.namespace) return false;
  if (!domainsAllow(hook, certificateNames(secret.certificate?.dnsNames, secret.certificate?.commonName))) return false;
  const { secretSelector } = hook.spec;
  return !secretSelector || matchesLabels(compiledSelector(secretSelector), secret.labels);
}

/** Whether a ClusterDeployHook's namespaceSelector (none: every namespace) selects a namespace with these labels. */
export function namespaceSelects(hook: Hook, labels: Record<string, string> | undefined): boolean {
  if (!isClusterHook(hook)) return false;
  const { namespaceSelector } = hook.spec;
  return !namespaceSelector || matchesLabels(compiledSelector(namespaceSelector), labels ?? {});
}

/** Whether the hook is enabled and listens for the event. */
export const hookListens = (hook: Hook, event: CertificateEvent): boolean =>
  hook.spec.enabled !== false && hook.spec.onEvents.includes(event);

/** Whether the event fires the hook by itself: enabled, listening for the event, selecting the Secret. */
export function hookFires(hook: Hook, event: CertificateEvent, secret: TlsSecret): boolean {
  return hookListens(hook, event) && hookSelects(hook, secret);
}

/**
 * For a manual run that names no Secret: of the Secrets the hook selects, the one whose
 * certificate is the most recent (latest notBefore; then the name, so the choice is stable).
 */
export function mostRecentCertificate(hook: Hook, secrets: Iterable<TlsSecret>): TlsSecret | undefined {
  let best: { secret: TlsSecret; notBefore: number } | undefined;
  for (const secret of secrets) {
    if (!secret.certificate || !hookSelects(hook, secret)) continue;
    const notBefore = Date.parse(secret.certificate.notBefore);
    if (!best || notBefore > best.notBefore || (notBefore === best.notBefore && secret.name < best.secret.name)) best = { secret, notBefore };
  }
  return best?.secret;
}
