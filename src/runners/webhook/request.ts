// What one delivery sends: the body (the hook's template or the default payload) over the
// run's certificate files, and the headers — the hook's own (Secret values read at each attempt,
// so a rotated token is used at once), the Standard Webhooks signature and certhook's.
import { secretNamespaceOf } from '../../api/hook-ref.ts';
import type { Hook, HookWebhook } from '../../api/deployhook.ts';
import type { DeployHookRun, RunCertificate } from '../../api/deployhookrun.ts';
import { VERSION } from '../../version.ts';
import { withAllDnsNames, type CertificateFiles } from '../snapshot.ts';
import { defaultPayload, type PayloadFields } from './payload.ts';
import { parseSigningSecrets, signatureHeader } from './signing.ts';
import { compileBody, type CompiledBody } from './template.ts';

/** A rendered body larger than this is not sent. */
export const BODY_LIMIT = 256 * 1024;

export interface SecretKey {
  name: string;
  key: string;
}
/** Reads a key of a Secret in the hook's namespace; undefined when the Secret or key is missing. */
export type SecretReader = (ref: SecretKey) => Promise<string | undefined>;

/** Why a delivery could not be built: each a failed attempt, retried or not. */
export class RequestProblem extends Error {
  readonly errorClass: 'configuration' | 'body_too_large';
  constructor(errorClass: 'configuration' | 'body_too_large', message: string) {
    super(message);
    this.errorClass = errorClass;
  }
}

/** A delivery read and rendered, to be signed when it is sent (the timestamp is the attempt's). */
export interface PreparedRequest {
  body: Buffer;
  /** The hook's own headers, their Secret values read. */
  headers: Record<string, string>;
  /** The signing keys, when the hook signs. */
  keys: Buffer[] | undefined;
  /** Every value read from a Secret, to be redacted wherever it could be echoed back. */
  secrets: string[];
}

export function payloadFields(run: DeployHookRun, hook: Hook, recorded: RunCertificate, files: CertificateFiles): PayloadFields {
  const namespace = secretNamespaceOf(run);
  const certificate = withAllDnsNames(recorded, files);
  return {
    CertPEM: files.cert,
    ChainPEM: files.chain,
    FullChainPEM: files.fullchain,
    PrivateKeyPEM: files.key,
    Fingerprint: certificate.fingerprint,
    Domain: certificate.domain ?? '',
    Domains: certificate.dnsNames ?? [],
    Event: run.spec.event,
    IssuedAt: certificate.notBefore ?? '',
    NotAfter: certificate.notAfter ?? '',
    Serial: certificate.serial ?? '',
    Issuer: certificate.issuer ?? '',
    SecretName: run.spec.secretRef.name,
    Namespace: namespace,
    HookName: hook.metadata.name!,
    RunName: run.metadata.name!,
    DryRun: hook.spec.dryRun || !!run.status?.dryRunReason,
    CertificateID: `${namespace}/${run.spec.secretRef.name}`,
    TriggeredBy: run.spec.triggeredBy ?? '',
    Result: run.status?.group?.result ?? '',
    FailedHooks: run.status?.group?.failedHooks ?? [],
  };
}

const compiled = new WeakMap<HookWebhook, CompiledBody>();
/** The hook's body template, compiled once per hook object (a new generation is a new object). */
export function compiledBody(webhook: HookWebhook): CompiledBody {
  let body = compiled.get(webhook);
  if (!body) {
    body = compileBody(webhook.body, { includePrivateKey: webhook.includePrivateKey });
    compiled.set(webhook, body);
  }
  return body;
}

export function renderBody(webhook: HookWebhook, fields: PayloadFields): Buffer {
  let value: unknown;
  if (webhook.body) {
    const body = compiledBody(webhook);
    // The hook is checked before it runs; a template that fails here was edited meanwhile.
    if (!body.ok) throw new RequestProblem('configuration', `the body template is invalid: ${body.problems.join('; ')}`);
    value = body.render(fields);
  } else {
    value = defaultPayload(fields, webhook.includePrivateKey);
  }
  const bytes = Buffer.from(JSON.stringify(value), 'utf8');
  if (bytes.length > BODY_LIMIT) throw new RequestProblem('body_too_large', `the rendered body is ${bytes.length} bytes, more than the ${BODY_LIMIT} a webhook may send`);
  return bytes;
}

/** Reads what the headers and signing take from Secrets: everything a delivery waits on but the receiver. */
export async function prepareRequest(webhook: HookWebhook, body: Buffer, readSecret: SecretReader): Promise<PreparedRequest> {
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  for (const h of webhook.headers ?? []) {
    const ref = h.valueFrom?.secretKeyRef;
    const value = ref ? await readSecret(ref) : h.value;
    if (value === undefined) throw new RequestProblem('configuration', `header ${h.name}: Secret "${ref!.name}" or its key "${ref!.key}" does not exist`);
    headers[h.name.toLowerCase()] = value.replace(/\r?\n$/, '');
    if (ref) secrets.push(headers[h.name.toLowerCase()]!);
  }
  let keys: Buffer[] | undefined;
  if (webhook.signing) {
    const ref = webhook.signing.secretRef;
    const value = await readSecret(ref);
    if (value === undefined) throw new RequestProblem('configuration', `signing: Secret "${ref.name}" or its key "${ref.key}" does not exist`);
    const parsed = parseSigningSecrets(value);
    if (!parsed.ok) throw new RequestProblem('configuration', `signing: Secret "${ref.name}" key "${ref.key}": ${parsed.problem}`);
    keys = parsed.keys;
    secrets.push(value.trim(), ...keys.map((k) => k.toString('base64')));
  }
  return { body, headers, keys, secrets };
}

/** The headers of one attempt: the hook's, the signature over this attempt's timestamp, and certhook's. */
export function attemptHeaders(request: PreparedRequest, id: string, now: number = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    ...request.headers,
    ...(request.keys ? { 'webhook-signature': signatureHeader(request.keys, id, timestamp, request.body) } : {}),
    'content-type': 'application/json',
    'user-agent': `certhook/${VERSION}`,
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    // Cert Spotter's name for the same thing: receivers deduplicate by either.
    'idempotency-key': id,
  };
}
