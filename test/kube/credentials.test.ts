// Credentials as the operator reads them: kubeconfig files (every field read natively, relative
// paths, merging, the errors a user can act on), the pod's service account (its token re-read as
// the kubelet rotates it), the order kubectl looks in, and the exec plugins left to client-node.
// Servers are node:http(s) on 127.0.0.1; nothing reads the real /var/run or ~/.kube.
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { createAuthority } from '../../src/certs/authority.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { loadCredentials, type Credentials, type LoadOptions } from '../../src/kube/credentials.ts';
import { TOKEN_REREAD_MS } from '../../src/kube/file-token.ts';

const root = await mkdtemp(join(tmpdir(), 'certhook-credentials-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A fresh directory, and a way to write files into it (created with their parent directories). */
async function workdir() {
  const dir = join(root, String(++dirs));
  await mkdir(dir);
  return {
    dir,
    async write(name: string, content: string, mode = 0o600): Promise<string> {
      const path = join(dir, name);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, content, { mode });
      return path;
    },
  };
}

/** A kubeconfig of one context, "main", for `cluster` and `user`. */
function kubeconfig(cluster: Record<string, unknown>, user?: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'main', cluster }],
    users: user ? [{ name: 'main', user }] : [],
    contexts: [{ name: 'main', context: { cluster: 'main', ...(user ? { user: 'main' } : {}) } }],
    'current-context': 'main',
    ...extra,
  });
}

/** Loads a kubeconfig text through a file (the --kubeconfig path), so relative paths have a directory. */
async function fromKubeconfig(text: string): Promise<Credentials> {
  const { write } = await workdir();
  return loadCredentials(await write('config', text));
}

/** A server answering 200 with the headers (and the TLS client certificate's CN) it received. */
async function echoServer(tls?: { cert: string; key: string }) {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ headers: req.headers, clientCn: peer?.subject?.CN ?? null }));
  };
  // The client certificate is asked for and reported, not verified: the test CA issues server certificates only.
  const server = tls ? createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: false }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

type Echo = { headers: Record<string, string>; clientCn: string | null };

async function echo(credentials: Credentials): Promise<Echo> {
  const client = KubeClient.create(credentials, { requestTimeoutMs: 5000 });
  try {
    return await client.get<Echo>('/version');
  } finally {
    await client.close();
  }
}

describe('kubeconfig users and clusters', () => {
  test('a token: the Authorization header, the server without its trailing slash, TLS verified', async () => {
    const c = await fromKubeconfig(kubeconfig({ server: 'https://api.example.test:6443/' }, { token: 'secret-token' }));
    assert.equal(c.server, 'https://api.example.test:6443');
    assert.deepEqual(c.tls, { rejectUnauthorized: true });
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer secret-token' });
  });

  test('a tokenFile, relative to the kubeconfig, trimmed', async () => {
    const { write } = await workdir();
    await write('secrets/token', 'file-token\n');
    const c = await loadCredentials(await write('config', kubeconfig({ server: 'https://api.example.test' }, { tokenFile: 'secrets/token' })));
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer file-token' });
  });

  test('basic auth', async () => {
    const c = await fromKubeconfig(kubeconfig({ server: 'https://api.example.test' }, { username: 'admin', password: 'p:w' }));
    assert.deepEqual(await c.headers(), { Authorization: `Basic ${b64('admin:p:w')}` });
  });

  test('no user, or a user with nothing: no Authorization header', async () => {
    assert.deepEqual(await (await fromKubeconfig(kubeconfig({ server: 'https://api.example.test' }))).headers(), {});
    assert.deepEqual(await (await fromKubeconfig(kubeconfig({ server: 'https://api.example.test' }, {}))).headers(), {});
  });

  test('client certificate, key and CA as data', async () => {
    const c = await fromKubeconfig(kubeconfig(
      { server: 'https://api.example.test', 'certificate-authority-data': b64('CA PEM') },
      { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM') },
    ));
    assert.deepEqual(c.tls, { ca: Buffer.from('CA PEM'), cert: Buffer.from('CERT PEM'), key: Buffer.from('KEY PEM'), rejectUnauthorized: true });
  });

  test('HTTPS for real: CA, client certificate and key as files relative to the kubeconfig, tls-server-name', async () => {
    const authority = createAuthority({ name: 'credentials test' });
    // A certificate for the name the API server has inside a cluster, not for 127.0.0.1.
    const server = authority.issue({ dnsNames: ['kubernetes.default.svc'] });
    const port = await echoServer({ cert: server.fullchainPem, key: server.keyPem });
    const client = authority.issue({ dnsNames: [], commonName: 'certhook-operator' });
    const { write } = await workdir();
    await write('pki/ca.crt', authority.rootPem);
    await write('pki/client.crt', client.certPem);
    await write('pki/client.key', client.keyPem);
    const config = await write('kube/config', kubeconfig(
      { server: `https://127.0.0.1:${port}`, 'certificate-authority': '../pki/ca.crt', 'tls-server-name': 'kubernetes.default.svc' },
      { 'client-certificate': '../pki/client.crt', 'client-key': '../pki/client.key', token: 't' },
    ));
    const answer = await echo(await loadCredentials(config));
    assert.equal(answer.clientCn, 'certhook-operator');
    assert.equal(answer.headers.authorization, 'Bearer t');
  });

  test('HTTPS for real: CA data; without it the server is not trusted; insecure-skip-tls-verify trusts any', async () => {
    const authority = createAuthority({ name: 'credentials test' });
    const issued = authority.issue({ dnsNames: ['localhost'] });
    const port = await echoServer({ cert: issued.fullchainPem, key: issued.keyPem });
    const server = `https://localhost:${port}`;
    assert.equal((await echo(await fromKubeconfig(kubeconfig({ server, 'certificate-authority-data': b64(authority.rootPem) })))).clientCn, null);
    await assert.rejects(echo(await fromKubeconfig(kubeconfig({ server }))), /certificate/);
    const skipping = await fromKubeconfig(kubeconfig({ server, 'insecure-skip-tls-verify': true }));
    assert.equal(skipping.tls.rejectUnauthorized, false);
    assert.equal((await echo(skipping)).clientCn, null);
  });

  test('the current context picks the cluster and user among several', async () => {
    const c = await fromKubeconfig(dump({
      clusters: [{ name: 'dev', cluster: { server: 'https://dev.example.test' } }, { name: 'prod', cluster: { server: 'https://prod.example.test' } }],
      users: [{ name: 'dev', user: { token: 'dev-token' } }, { name: 'prod', user: { token: 'prod-token' } }],
      contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'dev' } }, { name: 'prod', context: { cluster: 'prod', user: 'prod', namespace: 'x' } }],
      'current-context': 'prod',
    }));
    assert.equal(c.server, 'https://prod.example.test');
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer prod-token' });
  });

  test('$KUBECONFIG files merge as kubectl merges them: the first current-context and the first of each name win, paths stay relative to their own file', async () => {
    const a = await workdir();
    const b = await workdir();
    await b.write('token', 'from-b');
    const first = await a.write('config', dump({ clusters: [{ name: 'c', cluster: { server: 'https://a.example.test' } }], 'current-context': 'ctx' }));
    const second = await b.write('config', dump({
      clusters: [{ name: 'c', cluster: { server: 'https://b.example.test' } }],
      users: [{ name: 'u', user: { tokenFile: 'token' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }, { name: 'other', context: { cluster: 'c' } }],
      'current-context': 'other',
    }));
    const c = await loadCredentials(undefined, { env: { KUBECONFIG: [first, second].join(delimiter) } });
    assert.equal(c.server, 'https://a.example.test');
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer from-b' });
  });
});

describe('kubeconfig errors say which file and field', () => {
  const server = { server: 'https://api.example.test' };
  const fails = async (text: string, message: RegExp) => {
    const { write } = await workdir();
    const file = await write('config', text);
    await assert.rejects(loadCredentials(file), (err: Error) => {
      assert.match(err.message, message);
      assert.ok(err.message.includes(file), `names ${file}: ${err.message}`);
      return true;
    });
  };

  test('an unreadable file', async () => {
    const { dir } = await workdir();
    await assert.rejects(loadCredentials(join(dir, 'missing')), new RegExp(`cannot read the kubeconfig ${join(dir, 'missing')}: ENOENT`));
  });

  test('no current context, or one that is not there', async () => {
    await fails(dump({ contexts: [{ name: 'a', context: { cluster: 'c' } }, { name: 'b', context: { cluster: 'c' } }] }), /no current-context is set \(contexts: a, b; kubectl config use-context NAME sets one\)/);
    await fails(kubeconfig(server, undefined, { 'current-context': 'gone' }), /current-context "gone" names no context \(contexts: main/);
  });

  test('a context naming a missing cluster or user', async () => {
    await fails(dump({ contexts: [{ name: 'x', context: { cluster: 'nowhere' } }], 'current-context': 'x' }), /context "x" in .* names cluster "nowhere", which .* does not define/);
    await fails(dump({ clusters: [{ name: 'c', cluster: server }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'nobody' } }], 'current-context': 'x' }), /context "x" in .* names user "nobody", which .* does not define/);
  });

  test('files a field names that cannot be read', async () => {
    await fails(kubeconfig({ ...server, 'certificate-authority': 'ca.crt' }), /cluster "main" in .*, field certificate-authority: cannot read .*ca\.crt: ENOENT/);
    await fails(kubeconfig(server, { 'client-certificate': 'c.crt', 'client-key-data': b64('k') }), /user "main" in .*, field client-certificate: cannot read .*c\.crt: ENOENT/);
    await fails(kubeconfig(server, { tokenFile: 'token' }), /user "main" in .*, field tokenFile: cannot read the token file .*token: ENOENT/);
  });

  test('fields that do not make sense', async () => {
    await fails(kubeconfig({ 'certificate-authority-data': b64('x') }), /cluster "main" in .* has no server/);
    await fails(kubeconfig({ server: 'http://api.example.test' }), /the server http:\/\/api\.example\.test is plain HTTP; set insecure-skip-tls-verify: true/);
    await fails(kubeconfig(server, { 'client-certificate-data': b64('c') }), /user "main" in .* has a client certificate but no key/);
    await fails(kubeconfig(server, { token: 't', username: 'u', password: 'p' }), /has both a token and a username\/password/);
    await fails(kubeconfig({ ...server, 'certificate-authority-data': 'not base64!' }), /field certificate-authority-data is not base64/);
    await fails(kubeconfig({ server: 443 }), /field server must be a string/);
    await fails('clusters: [', /is not valid YAML/);
  });
});

describe('in-cluster: the pod service account', () => {
  async function serviceAccount(token: string) {
    const sa = await workdir();
    await sa.write('token', token);
    await sa.write('ca.crt', 'CLUSTER CA');
    return sa;
  }

  test('the service host and port, ca.crt, and the token', async () => {
    const sa = await serviceAccount('sa-token');
    const c = await loadCredentials(undefined, { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa.dir, home: sa.dir });
    assert.equal(c.server, 'https://10.96.0.1:443');
    assert.deepEqual(c.tls, { ca: Buffer.from('CLUSTER CA'), rejectUnauthorized: true });
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer sa-token' });
    const v6 = await loadCredentials(undefined, { env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa.dir, home: sa.dir });
    assert.equal(v6.server, 'https://[fd00::1]:443');
  });

  test('a rotated token is read within a minute, not on every request; a token file gone for a moment keeps the last token', async () => {
    const sa = await serviceAccount('first');
    let now = 1_000_000;
    const c = await loadCredentials(undefined, { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa.dir, now: () => now });
    await sa.write('token', 'second');
    now += TOKEN_REREAD_MS - 1;
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer first' }, 'not re-read within the minute');
    now += 1;
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer second' }, 're-read after it');
    await unlink(join(sa.dir, 'token'));
    now += TOKEN_REREAD_MS;
    assert.deepEqual(await c.headers(), { Authorization: 'Bearer second' });
  });
});

describe('where credentials are looked for: --kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config', () => {
  test('each source in turn, and an error naming them all when there is none', async () => {
    const w = await workdir();
    const config = (name: string) => w.write(name, kubeconfig({ server: `https://${name}.example.test` }));
    const explicit = await config('explicit');
    const env: NodeJS.ProcessEnv = { KUBECONFIG: await config('env'), KUBERNETES_SERVICE_HOST: 'in-cluster.example.test', KUBERNETES_SERVICE_PORT: '443' };
    await w.write('sa/token', 't');
    await w.write('home/.kube/config', kubeconfig({ server: 'https://home.example.test' }));
    const opts: LoadOptions = { env, serviceAccountDir: join(w.dir, 'sa'), home: join(w.dir, 'home') };
    const server = async (path?: string) => (await loadCredentials(path, opts)).server;
    assert.equal(await server(explicit), 'https://explicit.example.test');
    assert.equal(await server(), 'https://env.example.test');
    delete env.KUBECONFIG;
    assert.equal(await server(), 'https://in-cluster.example.test:443');
    await unlink(join(w.dir, 'sa', 'token'));
    assert.equal(await server(), 'https://home.example.test', 'a pod without a token goes on to ~/.kube/config');
    await unlink(join(w.dir, 'home', '.kube', 'config'));
    await assert.rejects(server(), /no Kubernetes credentials: KUBERNETES_SERVICE_HOST is set but there is no service account token at .*sa\/token/);
    delete env.KUBERNETES_SERVICE_HOST;
    await assert.rejects(server(), /no Kubernetes credentials: pass --kubeconfig, set KUBECONFIG, run in a cluster, or create .*home\/\.kube\/config/);
  });
});

describe('what the native reader leaves to @kubernetes/client-node', () => {
  /** An exec plugin as kubectl runs one: a relative command (resolved against the kubeconfig's directory) running a node script. */
  async function execKubeconfig(server: string) {
    const w = await workdir();
    await w.write('plugin.mjs', `console.log(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-' + process.env.PLUGIN_NAME } }));\n`);
    await w.write('bin/plugin.sh', '#!/bin/sh\nexec "$NODE" "$(dirname "$0")/../plugin.mjs"\n', 0o700);
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/plugin.sh', env: [{ name: 'NODE', value: process.execPath }, { name: 'PLUGIN_NAME', value: 'exec-plugin' }], interactiveMode: 'Never' };
    return w.write('config', kubeconfig({ server, 'insecure-skip-tls-verify': true }, { exec }));
  }

  test('an exec user: the plugin runs and its token reaches the server', async () => {
    const port = await echoServer();
    const answer = await echo(await loadCredentials(await execKubeconfig(`http://127.0.0.1:${port}`)));
    assert.equal(answer.headers.authorization, 'Bearer from-exec-plugin');
  });

  test('only such users load client-node at all', async () => {
    // A process of its own, so that no other test's imports count: it records every module resolved.
    const script = `
      import { registerHooks } from 'node:module';
      let loaded = false;
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded ||= r.url.includes('/@kubernetes/client-node/'); return r; } });
      const { loadCredentials } = await import(${JSON.stringify(new URL('../../src/kube/credentials.ts', import.meta.url).href)});
      const c = await loadCredentials(process.argv[1]);
      await c.headers();
      console.log(JSON.stringify({ loaded }));`;
    const loads = async (config: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, config], { timeout: 60_000 });
      return (JSON.parse(stdout) as { loaded: boolean }).loaded;
    };
    const port = await echoServer();
    assert.equal(await loads(await (await workdir()).write('config', kubeconfig({ server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true }, { token: 't' }))), false);
    assert.equal(await loads(await execKubeconfig(`http://127.0.0.1:${port}`)), true);
  });
});
