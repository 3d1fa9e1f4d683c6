// `certhook run`: a hook tried on this machine with the contract it gets in the cluster. A job
// hook's command runs with the CERTMATE_* environment and the four files, stopped at its timeout,
// its output and exit code its own; a webhook hook's request is printed (secret values masked)
// and, with --send, sent through the operator's address guard.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Hook, EnvVar, HookJob, HookWebhook } from '../api/deployhook.ts';
import { boundRun, type DeployHookRun, type RunCertificate } from '../api/deployhookrun.ts';
import { RunEventSchema } from '../api/enums.ts';
import { API_VERSION, DEPLOY_HOOK, DEPLOY_HOOK_RUN } from '../api/names.ts';
import { parseCertificateBundle } from '../certs/bundle.ts';
import { checkHook } from '../controller/hook-validity.ts';
import { parseManifests } from '../lint/kubectl-yaml.ts';
import { isObject } from '../schema/json.ts';
import { runCertificate } from '../controller/plan.ts';
import type { KubeClient } from '../kube/client.ts';
import { getIfExists } from '../kube/idempotent.ts';
import type { KubeObject } from '../kube/object.ts';
import { objectPath, RESOURCES } from '../kube/paths.ts';
import { KILL_GRACE_SECONDS, localHookArgv } from '../runners/hook-script.ts';
import { certmateEnv } from '../runners/job-manifest.ts';
import { launch } from '../runners/local-process.ts';
import { certificateFiles, FILES, secretData, type CertificateFiles } from '../runners/snapshot.ts';
import { parseAllowCidrs } from '../runners/webhook/address-policy.ts';
import { deliver } from '../runners/webhook/delivery.ts';
import { webhookDispatcher } from '../runners/webhook/guarded-dispatcher.ts';
import { attemptHeaders, payloadFields, prepareRequest, renderBody, RequestProblem, type SecretKey } from '../runners/webhook/request.ts';
import { keyLines, redact } from '../runners/webhook/redact.ts';
import { webhookId } from '../runners/webhook/signing.ts';
import { connect } from './cluster.ts';
import { CommandError, parseOptions, stringOption, UsageError, type OptionValues } from './usage.ts';

const HELP = `usage: certhook run -f HOOK.yaml (--secret SECRET.yaml | --cert-dir DIR | --secret-name NAME)
                    [--event EVENT] [--dry-run] [--send] [--name HOOK] [-n NS] [--kubeconfig FILE]

Runs a DeployHook on this machine with the contract it gets in the cluster. A job hook's command
runs here as its Job runs it (sh -c, stopped after timeoutSeconds with exit 124), with the
CERTMATE_* environment and cert.pem, chain.pem, fullchain.pem and privkey.pem in a temporary
directory; its output and exit code are this command's. For a webhook hook it prints the request
it would send (the values of Secrets masked) and, with --send, sends it once.

options:
  -f, --filename FILE        the DeployHook manifest (YAML or JSON; several documents: see --name)
  --name HOOK                the hook to run, when FILE holds more than one
  --secret FILE              the certificate from a TLS Secret manifest (data or stringData)
  --cert-dir DIR             the certificate from files: cert.pem, chain.pem or fullchain.pem, and
                             privkey.pem; or tls.crt and tls.key
  --secret-name NAME         the certificate from a TLS Secret in the cluster (with --kubeconfig)
  --event EVENT              created, renewed, revoked, expiring or manual (default: manual)
  --dry-run                  run as a dry run (CERTMATE_DRY_RUN=1; a webhook's dry_run: true)
  --send                     a webhook hook: send the request, and exit 1 unless it was delivered
  --webhook-allow-cidr CIDR  with --send: let the request reach this private range (repeatable)
  -n, --namespace NS         the namespace the hook and Secret are in (default: the manifest's, else
                             the kubeconfig context's, else default)
  --kubeconfig FILE          read --secret-name, and the Secrets and ConfigMaps the hook's env,
                             headers and signing key name, from this cluster`;

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  name: { type: 'string' },
  secret: { type: 'string' },
  'cert-dir': { type: 'string' },
  'secret-name': { type: 'string' },
  event: { type: 'string' },
  'dry-run': { type: 'boolean' },
  send: { type: 'boolean' },
  'webhook-allow-cidr': { type: 'string', multiple: true },
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
} as const;

const MASK = '****';

/** What the run reads from the cluster, when it has one: Secret and ConfigMap keys. */
interface Cluster {
  client: KubeClient;
  namespace: string;
  read(kind: 'secrets' | 'configmaps', name: string, key: string): Promise<string | undefined>;
}

export async function runHookLocally(args: string[]): Promise<number> {
  const values = parseOptions(args, OPTIONS, HELP);
  if (!values) return 0;
  const file = stringOption(values, 'filename');
  if (!file) throw new UsageError('name the DeployHook manifest with -f FILE', HELP);
  const sources = ['secret', 'cert-dir', 'secret-name'].filter((s) => stringOption(values, s));
  if (sources.length !== 1) throw new UsageError('give the certificate with exactly one of --secret FILE, --cert-dir DIR or --secret-name NAME', HELP);
  const event = RunEventSchema.safeParse(stringOption(values, 'event') ?? 'manual');
  if (!event.success) throw new UsageError(`--event must be one of ${RunEventSchema.options.join(', ')}`, HELP);
  let allow;
  try {
    allow = parseAllowCidrs([values['webhook-allow-cidr'] ?? []].flat().map(String));
  } catch (err) {
    throw new UsageError((err as Error).message, HELP);
  }

  const hook = await loadHook(file, stringOption(values, 'name'));
  const kubeconfig = stringOption(values, 'kubeconfig');
  const cluster = kubeconfig || stringOption(values, 'secret-name') ? await clusterOf(kubeconfig, namespaceOf(values, hook)) : undefined;
  try {
    const namespace = cluster?.namespace ?? namespaceOf(values, hook) ?? 'default';
    const { secretName, files } = await certificateSource(values, cluster);
    const bundle = parseCertificateBundle(files.fullchain);
    if (!bundle.ok) throw new CommandError(`the certificate cannot be read: ${bundle.message}`);
    const certificate = runCertificate(bundle.facts);
    const run = localRun(hook, namespace, secretName, event.data, values['dry-run'] === true);
    if (hook.spec.job) return await runJob(run, hook, hook.spec.job, certificate, files, cluster);
    return await runWebhook(run, hook, hook.spec.webhook!, certificate, files, cluster, values.send === true ? allow : undefined);
  } finally {
    await cluster?.client.close();
  }
}

/** The documents of a manifest file, read as kubectl reads them. */
async function readManifests(file: string): Promise<unknown[]> {
  try {
    return parseManifests(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CommandError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

async function loadHook(file: string, name: string | undefined): Promise<Hook> {
  const docs = await readManifests(file);
  const hooks = docs.filter((d): d is KubeObject => isObject(d) && d.apiVersion === API_VERSION && d.kind === DEPLOY_HOOK.kind);
  const chosen = name ? hooks.filter((h) => h.metadata?.name === name) : hooks;
  if (chosen.length !== 1) {
    const names = hooks.map((h) => h.metadata?.name).join(', ');
    throw new CommandError(!hooks.length ? `${file} holds no DeployHook` : name ? `${file} holds no DeployHook named "${name}" (it holds ${names})` : `${file} holds ${hooks.length} DeployHooks (${names}): choose one with --name`);
  }
  const checked = checkHook(chosen[0]!);
  if (!checked.valid) throw new CommandError(`DeployHook "${chosen[0]!.metadata?.name}" is invalid, as the operator would find it:\n  ${checked.problems.join('\n  ')}`);
  return checked.hook;
}

function namespaceOf(values: OptionValues, hook: Hook): string | undefined {
  return stringOption(values, 'namespace') || hook.metadata.namespace || undefined;
}

async function clusterOf(kubeconfig: string | undefined, namespace: string | undefined): Promise<Cluster> {
  // It reads Secrets and ConfigMaps only: a cluster without certhook installed will do.
  const { client, context } = await connect(kubeconfig, false);
  const ns = namespace ?? context?.namespace ?? 'default';
  const objects = new Map<string, Promise<KubeObject | undefined>>();
  return {
    client,
    namespace: ns,
    async read(kind, name, key) {
      const path = objectPath(kind === 'secrets' ? RESOURCES.secrets : RESOURCES.configMaps, ns, name);
      if (!objects.has(path)) objects.set(path, getIfExists<KubeObject>(client, path));
      const object = await objects.get(path)!;
      if (!object) return undefined;
      return kind === 'secrets' ? secretData(object, key) : (object.data as Record<string, string> | undefined)?.[key];
    },
  };
}

/** The certificate's files, from the one source given, and the name of the Secret it stands for. */
async function certificateSource(values: OptionValues, cluster: Cluster | undefined): Promise<{ secretName: string; files: CertificateFiles }> {
  const manifest = stringOption(values, 'secret');
  const dir = stringOption(values, 'cert-dir');
  let secret: KubeObject | undefined;
  let secretName: string;
  if (manifest) {
    secret = await secretFromManifest(manifest);
    secretName = secret.metadata?.name ?? basename(manifest).replace(/\.(ya?ml|json)$/, '');
  } else if (dir) {
    secret = await secretFromDirectory(dir);
    secretName = basename(dir);
  } else {
    secretName = stringOption(values, 'secret-name')!;
    secret = await getIfExists<KubeObject>(cluster!.client, objectPath(RESOURCES.secrets, cluster!.namespace, secretName));
    if (!secret) throw new CommandError(`Secret "${secretName}" does not exist in namespace ${cluster!.namespace}`);
  }
  const files = certificateFiles(secret);
  if (!files) throw new CommandError(`no certificate in ${manifest ?? dir ?? `Secret "${secretName}"`}: tls.crt (or cert.pem) holds no PEM certificate`);
  return { secretName, files };
}

async function secretFromManifest(file: string): Promise<KubeObject> {
  const secret = (await readManifests(file)).find((d): d is KubeObject => isObject(d) && d.kind === 'Secret');
  if (!secret) throw new CommandError(`${file} holds no Secret`);
  // stringData is what people write by hand; the API server would merge it into data.
  const data = { ...(secret.data as Record<string, string> | undefined) };
  for (const [key, value] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) data[key] = Buffer.from(value).toString('base64');
  return { ...secret, data };
}

/** cert.pem with chain.pem (or fullchain.pem) and privkey.pem, as CertMate writes them; or tls.crt and tls.key. */
async function secretFromDirectory(dir: string): Promise<KubeObject> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CommandError(`cannot read ${dir}: ${(err as Error).message}`);
  }
  const read = (name: string) => (names.includes(name) ? readFile(join(dir, name), 'utf8') : Promise.resolve(undefined));
  const [tlsCrt, tlsKey, cert, chain, fullchain, key] = await Promise.all(['tls.crt', 'tls.key', FILES.cert, FILES.chain, FILES.fullchain, FILES.key].map(read));
  const crt = tlsCrt ?? fullchain ?? (cert !== undefined ? `${cert.trimEnd()}\n${chain ?? ''}` : undefined);
  if (crt === undefined) throw new CommandError(`${dir} holds neither tls.crt nor ${FILES.fullchain} nor ${FILES.cert}`);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const privateKey = tlsKey ?? key;
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: basename(dir) }, data: { 'tls.crt': b64(crt), ...(privateKey ? { 'tls.key': b64(privateKey) } : {}) } };
}

/** The run the operator would make: manual by default, named for this machine. */
function localRun(hook: Hook, namespace: string, secretName: string, event: DeployHookRun['spec']['event'], dryRun: boolean): DeployHookRun {
  return boundRun({
    apiVersion: API_VERSION,
    kind: DEPLOY_HOOK_RUN.kind,
    metadata: { name: `${hook.metadata.name}-${event}-local`, namespace },
    spec: { hookRef: { name: hook.metadata.name! }, secretRef: { name: secretName }, event, triggeredBy: 'certhook run' },
    ...(dryRun ? { status: { dryRunReason: 'certhook run --dry-run' } } : {}),
  });
}

async function runJob(run: DeployHookRun, hook: Hook, job: HookJob, certificate: RunCertificate, files: CertificateFiles, cluster: Cluster | undefined): Promise<number> {
  const extra = await jobEnv(job.env ?? [], cluster);
  const dir = await mkdtemp(join(tmpdir(), 'certhook-run-'));
  try {
    const certificateDir = join(dir, 'certificate');
    await writeFiles(certificateDir, files);
    const context = run.status?.dryRunReason ? { dryRunReason: run.status.dryRunReason } : {};
    // As the kubelet does: only PATH comes from this machine, HOME is the run's own directory.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: dir };
    for (const { name, value } of [...certmateEnv(run, hook, certificate, files.key !== undefined, context, certificateDir), ...extra]) env[name] = value;
    const child = await launch({ argv: localHookArgv(job.command, hook.spec.timeoutSeconds), cwd: dir, env, onOutput: (chunk) => process.stdout.write(chunk) });
    const stop = () => void child.kill(KILL_GRACE_SECONDS * 1000);
    process.once('SIGINT', stop).once('SIGTERM', stop);
    const { exitCode } = await child.exited;
    process.off('SIGINT', stop).off('SIGTERM', stop);
    return exitCode;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeFiles(dir: string, files: CertificateFiles): Promise<void> {
  await mkdir(dir, { mode: 0o700 });
  const contents: [string, string | undefined][] = [[FILES.cert, files.cert], [FILES.chain, files.chain], [FILES.fullchain, files.fullchain], [FILES.key, files.key]];
  for (const [name, text] of contents) if (text !== undefined) await writeFile(join(dir, name), text, { mode: 0o600 });
}

/** The hook's own env: literal values, and the Secret and ConfigMap keys it names, read from the cluster. */
async function jobEnv(vars: EnvVar[], cluster: Cluster | undefined): Promise<{ name: string; value: string }[]> {
  const env: { name: string; value: string }[] = [];
  for (const v of vars) {
    const from = v.valueFrom;
    if (!from) {
      env.push({ name: v.name, value: v.value ?? '' });
      continue;
    }
    const [kind, ref] = from.secretKeyRef ? (['secrets', from.secretKeyRef] as const) : (['configmaps', from.configMapKeyRef!] as const);
    const what = `${kind === 'secrets' ? 'Secret' : 'ConfigMap'} "${ref.name}" key "${ref.key}"`;
    if (!cluster) throw new CommandError(`env ${v.name} comes from ${what}: pass --kubeconfig to read it from the cluster`);
    const value = await cluster.read(kind, ref.name, ref.key);
    if (value !== undefined) env.push({ name: v.name, value });
    else if (!ref.optional) throw new CommandError(`env ${v.name}: ${what} does not exist in namespace ${cluster.namespace}`);
  }
  return env;
}

/** Prints the request; with `allow` (--send), sends it once. */
async function runWebhook(run: DeployHookRun, hook: Hook, webhook: HookWebhook, certificate: RunCertificate, files: CertificateFiles, cluster: Cluster | undefined, allow: ReturnType<typeof parseAllowCidrs> | undefined): Promise<number> {
  const fields = payloadFields(run, hook, certificate, files);
  const id = webhookId(run.metadata.namespace!, run.metadata.name!);
  const fromSecret = new Set((webhook.headers ?? []).filter((h) => h.valueFrom).map((h) => h.name.toLowerCase()));
  const readSecret = async (ref: SecretKey) => cluster?.read('secrets', ref.name, ref.key);
  if (!cluster && (fromSecret.size || webhook.signing)) {
    if (allow) throw new CommandError('the hook reads headers or its signing key from Secrets: pass --kubeconfig to send it');
    // Shown for what they are: the values are in the cluster.
    const shown = Object.fromEntries((webhook.headers ?? []).map((h) => [h.name.toLowerCase(), h.valueFrom ? `<Secret "${h.valueFrom.secretKeyRef.name}" key "${h.valueFrom.secretKeyRef.key}">` : h.value!]));
    const body = renderBody(webhook, { ...fields, PrivateKeyPEM: fields.PrivateKeyPEM && MASK });
    const signing: Record<string, string> = webhook.signing ? { 'webhook-signature': `<signed when sent, with Secret "${webhook.signing.secretRef.name}" key "${webhook.signing.secretRef.key}">` } : {};
    printRequest(webhook.url, { ...attemptHeaders({ body, headers: shown, keys: undefined, secrets: [] }, id), ...signing }, body);
    return 0;
  }
  let request;
  try {
    request = await prepareRequest(webhook, renderBody(webhook, fields), readSecret);
  } catch (err) {
    if (err instanceof RequestProblem) throw new CommandError(err.message);
    throw err;
  }
  const headers = attemptHeaders(request, id);
  const masked = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, fromSecret.has(name) ? MASK : value]));
  printRequest(webhook.url, masked, renderBody(webhook, { ...fields, PrivateKeyPEM: fields.PrivateKeyPEM && MASK }));
  if (!allow) return 0;
  const dispatcher = webhookDispatcher({ allow, ...(webhook.caBundle ? { ca: webhook.caBundle } : {}) });
  try {
    const result = await deliver({ url: webhook.url, headers, body: request.body, timeoutMs: hook.spec.timeoutSeconds * 1000, dispatcher, signal: new AbortController().signal });
    console.log(`\n${result.statusCode ? `answered ${result.statusCode}` : 'no answer'} in ${result.durationSeconds}s${result.message ? `: ${result.message}` : ''}`);
    // The answer may echo the request: what is masked above stays masked.
    if (result.responseBody) console.log(redact(result.responseBody, [...request.secrets, ...keyLines(files.key)]));
    return result.verdict === 'delivered' ? 0 : 1;
  } finally {
    await dispatcher.close();
  }
}

function printRequest(url: string, headers: Record<string, string>, body: Buffer): void {
  console.log(`POST ${url}`);
  for (const [name, value] of Object.entries(headers)) console.log(`${name}: ${value}`);
  console.log('');
  console.log(body.toString('utf8'));
}
