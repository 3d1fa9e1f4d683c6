// kubeconfig files read as kubectl reads them: several merge (the first to set current-context
// wins, and the first to define a name), relative paths resolve against the directory of the file
// that holds them, and the current context's cluster and user make the credentials.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { load } from 'js-yaml';
import { clientNodeCredentials } from './client-node-credentials.ts';
import type { Credentials, TlsOptions } from './credentials.ts';
import { FileToken } from './file-token.ts';

type Fields = Record<string, unknown>;

/** A cluster, user or context entry, and where it was read. */
interface Entry {
  kind: 'cluster' | 'user' | 'context';
  name: string;
  fields: Fields;
  /** What errors call its file. */
  file: string;
  /** What its relative paths are relative to. */
  dir: string;
}

interface Source {
  text: string;
  file: string;
  dir: string;
}

// The fields read here. A user or cluster with any other (exec, auth-provider, as, proxy-url...)
// goes to @kubernetes/client-node whole, as every kubeconfig did before this reader existed.
const CLUSTER_FIELDS = new Set([
  'server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name',
  // Compression is for the client to ask for, and this one never does; extensions carry no credentials.
  'disable-compression', 'extensions',
]);
const USER_FIELDS = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password', 'extensions']);
// Fields holding paths, resolved against the kubeconfig's directory as kubectl resolves them.
const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile'];

/** Credentials from kubeconfig files, merged as kubectl merges the files of $KUBECONFIG. */
export async function credentialsFromKubeconfigFiles(files: string[]): Promise<Credentials> {
  const sources = await Promise.all(files.map(async (file) => {
    const path = resolve(file);
    try {
      return { text: await readFile(path, 'utf8'), file: path, dir: dirname(path) };
    } catch (err) {
      throw new Error(`cannot read the kubeconfig ${path}: ${(err as Error).message}`);
    }
  }));
  return credentialsFrom(sources);
}

/** Credentials from a kubeconfig's text (the sandbox's, for one); its relative paths resolve against the working directory. */
export function credentialsFromKubeconfig(text: string): Promise<Credentials> {
  return credentialsFrom([{ text, file: 'the kubeconfig given', dir: process.cwd() }]);
}

async function credentialsFrom(sources: Source[]): Promise<Credentials> {
  const { cluster, user, namespace } = currentClusterAndUser(sources);
  const context = { ...(user ? { user: user.name } : {}), ...(namespace ? { namespace } : {}) };
  const unread = [...Object.keys(cluster.fields).filter((f) => !CLUSTER_FIELDS.has(f)), ...Object.keys(user?.fields ?? {}).filter((f) => !USER_FIELDS.has(f))];
  if (unread.length) return { ...(await clientNodeCredentials(cluster.name, absolutePaths(cluster), user?.name ?? 'anonymous', user ? absolutePaths(user) : {})), context };
  return {
    server: server(cluster),
    tls: await tlsOptions(cluster, user),
    headers: await authHeaders(user),
    context,
  };
}

/** The current context's cluster, user (none: anonymous) and namespace, over the sources merged. */
function currentClusterAndUser(sources: Source[]): { cluster: Entry; user: Entry | undefined; namespace: string | undefined } {
  const where = sources.map((s) => s.file).join(', ');
  const entries = new Map<string, Entry>();
  let current: string | undefined;
  for (const source of sources) {
    const doc = parse(source);
    current ??= optionalString(doc['current-context'], `${source.file}: current-context`);
    for (const kind of ['cluster', 'user', 'context'] as const) {
      for (const entry of namedEntries(doc, kind, source)) if (!entries.has(`${kind}/${entry.name}`)) entries.set(`${kind}/${entry.name}`, entry);
    }
  }
  const contexts = [...entries.values()].filter((e) => e.kind === 'context').map((e) => e.name);
  const choose = contexts.length ? ` (contexts: ${contexts.join(', ')}; kubectl config use-context NAME sets one)` : '';
  if (!current) throw new Error(`${where}: no current-context is set${choose}`);
  const context = entries.get(`context/${current}`);
  if (!context) throw new Error(`${where}: current-context "${current}" names no context${choose}`);
  const clusterName = optionalString(context.fields.cluster, describe(context, 'cluster'));
  if (!clusterName) throw new Error(`${describe(context)} names no cluster`);
  const cluster = entries.get(`cluster/${clusterName}`);
  if (!cluster) throw new Error(`${describe(context)} names cluster "${clusterName}", which ${where} does not define`);
  const userName = optionalString(context.fields.user, describe(context, 'user'));
  const user = userName ? entries.get(`user/${userName}`) : undefined;
  if (userName && !user) throw new Error(`${describe(context)} names user "${userName}", which ${where} does not define`);
  return { cluster, user, namespace: optionalString(context.fields.namespace, describe(context, 'namespace')) };
}

function parse(source: Source): Fields {
  let doc: unknown;
  try {
    doc = load(source.text);
  } catch (err) {
    throw new Error(`${source.file} is not valid YAML: ${(err as Error).message}`);
  }
  // An empty file is an empty kubeconfig, as kubectl reads it.
  if (doc === undefined || doc === null) return {};
  if (!isFields(doc)) throw new Error(`${source.file} is not a kubeconfig: its top level is not a mapping`);
  return doc;
}

function namedEntries(doc: Fields, kind: Entry['kind'], source: Source): Entry[] {
  const list = doc[`${kind}s`];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new Error(`${source.file}: ${kind}s is not a list`);
  return list.map((item: unknown, i) => {
    const at = `${source.file}: ${kind}s[${i}]`;
    if (!isFields(item)) throw new Error(`${at} is not a mapping`);
    const name = optionalString(item.name, `${at}.name`);
    if (!name) throw new Error(`${at} has no name`);
    const fields = item[kind] ?? {};
    if (!isFields(fields)) throw new Error(`${at}.${kind} is not a mapping`);
    return { kind, name, fields, file: source.file, dir: source.dir };
  });
}

/** The entry's fields, its relative paths made absolute (an exec command too, when it is a path, as kubectl does). */
function absolutePaths(entry: Entry): Fields {
  const fields = { ...entry.fields };
  for (const field of PATH_FIELDS) {
    const path = pathField(entry, field);
    if (path) fields[field] = path;
  }
  if (isFields(fields.exec) && typeof fields.exec.command === 'string' && /[/\\]/.test(fields.exec.command)) {
    fields.exec = { ...fields.exec, command: resolve(entry.dir, fields.exec.command) };
  }
  return fields;
}

/** A field naming a file, resolved against the directory of the kubeconfig that holds it. */
function pathField(entry: Entry, field: string): string | undefined {
  const path = optionalString(entry.fields[field], describe(entry, field));
  return path && resolve(entry.dir, path);
}

function server(cluster: Entry): string {
  const url = optionalString(cluster.fields.server, describe(cluster, 'server'));
  if (!url) throw new Error(`${describe(cluster)} has no server`);
  // Bearer tokens would cross the network in the clear: client-node refused this, and so does certhook.
  if (url.startsWith('http:') && cluster.fields['insecure-skip-tls-verify'] !== true) {
    throw new Error(`${describe(cluster)}: the server ${url} is plain HTTP; set insecure-skip-tls-verify: true to use it anyway`);
  }
  return url.replace(/\/+$/, '');
}

async function tlsOptions(cluster: Entry, user: Entry | undefined): Promise<TlsOptions> {
  const skip = cluster.fields['insecure-skip-tls-verify'];
  if (skip !== undefined && typeof skip !== 'boolean') throw new Error(`${describe(cluster, 'insecure-skip-tls-verify')} must be true or false`);
  const servername = optionalString(cluster.fields['tls-server-name'], describe(cluster, 'tls-server-name'));
  const ca = await pem(cluster, 'certificate-authority');
  const cert = user && (await pem(user, 'client-certificate'));
  const key = user && (await pem(user, 'client-key'));
  if (user && Boolean(cert) !== Boolean(key)) throw new Error(`${describe(user)} has a client ${cert ? 'certificate but no key' : 'key but no certificate'}: set both`);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: skip !== true, ...(servername ? { servername } : {}) };
}

/** A PEM given as `FIELD-data` (base64; it wins, as in client-go) or as a file named by `FIELD`. */
async function pem(entry: Entry, field: string): Promise<Buffer | undefined> {
  const data = optionalString(entry.fields[`${field}-data`], describe(entry, `${field}-data`));
  if (data) {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(data)) throw new Error(`${describe(entry, `${field}-data`)} is not base64`);
    return Buffer.from(data, 'base64');
  }
  const file = pathField(entry, field);
  if (!file) return undefined;
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`${describe(entry, field)}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The Authorization header of a user: a bearer token (from a file, re-read each minute) or basic auth. */
async function authHeaders(user: Entry | undefined): Promise<() => Promise<Record<string, string>>> {
  if (!user) return async () => ({});
  const field = (name: string) => optionalString(user.fields[name], describe(user, name));
  const token = field('token');
  const tokenFile = pathField(user, 'tokenFile');
  const username = field('username');
  const password = field('password');
  // kubectl refuses the same: which one would the server be meant to see?
  if ((token || tokenFile) && (username || password)) throw new Error(`${describe(user)} has both a token and a username/password: keep one`);
  if (tokenFile) {
    const source = await FileToken.read(tokenFile, token).catch((err: Error) => {
      throw new Error(`${describe(user, 'tokenFile')}: ${err.message}`);
    });
    return async () => ({ Authorization: `Bearer ${await source.current()}` });
  }
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (username || password) headers.Authorization = `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
  return async () => headers;
}

function describe(entry: Entry, field?: string): string {
  return `${entry.kind} "${entry.name}" in ${entry.file}${field ? `, field ${field}` : ''}`;
}

/** A string field, undefined when absent or empty (kubectl reads "" as unset). */
function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${what} must be a string`);
  return value;
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
