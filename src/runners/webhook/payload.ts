// The payload of a webhook hook: the facts of one certificate event, named once here both as the
// fields a body template may use and as the JSON body sent when the hook gives no template.

/** The fields a body template names as `{{ .Field }}`, spelled like Go template fields. */
export interface PayloadFields {
  CertPEM: string;
  ChainPEM: string;
  FullChainPEM: string;
  /** Undefined when the key could not be had (see snapshot.ts). */
  PrivateKeyPEM: string | undefined;
  Fingerprint: string;
  /** The certificate's first domain. */
  Domain: string;
  Domains: string[];
  Event: string;
  /** RFC 3339, or '' when unknown. */
  IssuedAt: string;
  /** RFC 3339, or '' when unknown. */
  NotAfter: string;
  Serial: string;
  Issuer: string;
  SecretName: string;
  Namespace: string;
  HookName: string;
  RunName: string;
  DryRun: boolean;
  /** The Secret's `namespace/name`, as `certificate_id` in the default payload. */
  CertificateID: string;
  TriggeredBy: string;
  /** For a post hook, how its group's pre and deploy hooks ended (succeeded, failed); else ''. */
  Result: string;
  /** For a post hook, the pre and deploy hooks of its group that failed. */
  FailedHooks: string[];
}

export type TemplateField = keyof PayloadFields;

/**
 * What each field's value is: the template checker refuses a list inside text before any render.
 * `satisfies` keeps this in step with PayloadFields (a field missing or extra fails to compile).
 */
export const FIELD_KINDS = {
  CertPEM: 'text',
  ChainPEM: 'text',
  FullChainPEM: 'text',
  PrivateKeyPEM: 'text',
  Fingerprint: 'text',
  Domain: 'text',
  Domains: 'list',
  Event: 'text',
  IssuedAt: 'text',
  NotAfter: 'text',
  Serial: 'text',
  Issuer: 'text',
  SecretName: 'text',
  Namespace: 'text',
  HookName: 'text',
  RunName: 'text',
  DryRun: 'boolean',
  CertificateID: 'text',
  TriggeredBy: 'text',
  Result: 'text',
  FailedHooks: 'list',
} as const satisfies Record<TemplateField, 'text' | 'list' | 'boolean'>;

export const TEMPLATE_FIELDS = Object.keys(FIELD_KINDS) as readonly TemplateField[];

/** An unknown time is null in JSON, which a receiver parsing dates handles better than ''. */
const time = (rfc3339: string) => (rfc3339 === '' ? null : rfc3339);

/** The body sent when the hook gives no template. The key goes only when asked for and known. */
export function defaultPayload(f: PayloadFields, includePrivateKey: boolean): Record<string, unknown> {
  return {
    certificate_id: `${f.Namespace}/${f.SecretName}`,
    distribution_id: f.RunName,
    cert_fingerprint: f.Fingerprint,
    issued_at: time(f.IssuedAt),
    not_after: time(f.NotAfter),
    serial: f.Serial,
    issuer: f.Issuer,
    domains: f.Domains,
    event: f.Event,
    dry_run: f.DryRun,
    secret: { namespace: f.Namespace, name: f.SecretName },
    hook: { namespace: f.Namespace, name: f.HookName },
    triggered_by: f.TriggeredBy,
    ...(f.Result ? { result: f.Result, failed_hooks: f.FailedHooks } : {}),
    cert_pem: f.CertPEM,
    chain_pem: f.ChainPEM,
    fullchain_pem: f.FullChainPEM,
    ...(includePrivateKey && f.PrivateKeyPEM !== undefined ? { private_key_pem: f.PrivateKeyPEM } : {}),
  };
}
