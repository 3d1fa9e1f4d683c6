// The payload fields of one renewal, shared by the webhook payload and template tests.
import type { PayloadFields } from '../../../src/runners/webhook/payload.ts';

const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

export const LEAF = pem('CERTIFICATE', 'MIIBszCCAVmgAwIBAgIUb0+"quoted"\\backslash\nAQIDBAUGBwgJCgsMDQ4PEBESExQV');
export const CHAIN = pem('CERTIFICATE', 'MIIBjjCCATSgAwIBAgIUIssuer');
export const KEY = pem('PRIVATE KEY', 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49');

export function fields(overrides: Partial<PayloadFields> = {}): PayloadFields {
  return {
    CertPEM: LEAF,
    ChainPEM: CHAIN,
    FullChainPEM: LEAF + CHAIN,
    PrivateKeyPEM: KEY,
    Fingerprint: 'ab'.repeat(32),
    Domain: 'api.example.com',
    Domains: ['api.example.com', 'www.example.com'],
    Event: 'renewed',
    IssuedAt: '2025-06-01T00:00:00Z',
    NotAfter: '2025-08-30T00:00:00Z',
    Serial: '6f4fa2',
    Issuer: 'CN=Example CA',
    SecretName: 'api-tls',
    Namespace: 'shop',
    HookName: 'gitlab',
    RunName: 'gitlab-renewed-0123456789',
    DryRun: false,
    CertificateID: 'shop/api-tls',
    TriggeredBy: 'certhook',
    Result: '',
    FailedHooks: [],
    ...overrides,
  };
}
