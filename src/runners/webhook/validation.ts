// What the CRD cannot check of a webhook and the operator must before it runs one: the URL as a
// URL, the body template, the CA bundle. A problem makes the hook Ready=False; it never delivers.
import { X509Certificate } from 'node:crypto';
import type { HookWebhook } from '../../api/deployhook.ts';
import { urlProblem } from './address-policy.ts';
import { compiledBody } from './request.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function webhookProblems(webhook: HookWebhook): string[] {
  const problems: string[] = [];
  const url = urlProblem(webhook.url);
  if (url) problems.push(`spec.webhook.url: ${url}`);
  if (webhook.body) {
    const body = compiledBody(webhook);
    if (!body.ok) problems.push(...body.problems);
  }
  if (webhook.caBundle !== undefined) {
    const ca = caBundleProblem(webhook.caBundle);
    if (ca) problems.push(`spec.webhook.caBundle: ${ca}`);
  }
  return problems;
}

function caBundleProblem(caBundle: string): string | undefined {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(caBundle)) return 'not base64: give the PEM file base64-encoded (base64 -w0 ca.pem)';
  const pems = Buffer.from(caBundle, 'base64').toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (!pems.length) return 'holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA file base64-encoded';
  for (const [i, pem] of pems.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      return `certificate ${i + 1} of ${pems.length} cannot be read: ${(err as Error).message}`;
    }
  }
  return undefined;
}
