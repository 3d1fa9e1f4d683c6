// The manifests in examples/ stay true. Each one is applied with the real kubectl to a sandbox with
// certhook's CRDs (so every DeployHook and ClusterDeployHook passes the CRD's schema and CEL rules) and its hooks must be
// accepted by the operator; the documents the sandbox does not serve (RBAC, apps) are checked for
// shape and for agreeing with the hook; two recipes run end to end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, loadAll } from 'js-yaml';
import { ClusterDeployHookSchema, DeployHookSchema, type Hook } from '../../src/api/deployhook.ts';
import { boundRun, DeployHookRunSchema } from '../../src/api/deployhookrun.ts';
import { API_VERSION, CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK_RUN } from '../../src/api/names.ts';
import { certmateEnv } from '../../src/runners/job-manifest.ts';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { CLUSTER_HOOKS, createTlsSecret, finishedRuns, HOOKS, issue, listRuns } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { startReceiver } from '../support/receiver.ts';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const FILES = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}
interface Role extends Manifest {
  rules: PolicyRule[];
}
interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}
interface RoleBinding extends Manifest {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: Subject[];
}

/** What the sandbox serves, so what is applied; the other kinds an example may hold are only checked. */
const SERVED = ['v1/ServiceAccount', 'v1/Secret', 'v1/ConfigMap', `${API_VERSION}/DeployHook`, `${API_VERSION}/ClusterDeployHook`];
const CHECKED_ONLY = ['rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding', 'apps/v1/Deployment'];
const RBAC_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

const typeOf = (m: Manifest) => `${m.apiVersion}/${m.kind}`;

async function readExample(file: string): Promise<Manifest[]> {
  return loadAll(await readFile(join(EXAMPLES, file), 'utf8')) as Manifest[];
}

function named<T extends Manifest>(docs: Manifest[], kind: string, name: string): T | undefined {
  return docs.find((d) => d.kind === kind && d.metadata.name === name) as T | undefined;
}

const ofKind = <T extends Manifest>(docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind) as T[];
/** The hooks of an example, of either kind. */
const hooksOf = (docs: Manifest[]): Hook[] => [
  ...ofKind(docs, 'DeployHook').map((d) => DeployHookSchema.parse(d)),
  ...ofKind(docs, CLUSTER_DEPLOY_HOOK.kind).map((d) => ClusterDeployHookSchema.parse(d)),
];

/** Every field of `written` is in `stored` with the same value; `stored` may add defaults. */
function assertWritten(stored: unknown, written: unknown, path: string): void {
  if (written === null || typeof written !== 'object' || Array.isArray(written)) {
    assert.deepEqual(stored, written, path);
    return;
  }
  assert.ok(stored && typeof stored === 'object', `${path} is kept`);
  for (const [key, value] of Object.entries(written)) assertWritten((stored as Record<string, unknown>)[key], value, `${path}.${key}`);
}

/** The one hook (DeployHook or ClusterDeployHook) of an example. */
function hookOf(docs: Manifest[]): Hook {
  const hooks = hooksOf(docs);
  assert.equal(hooks.length, 1);
  return hooks[0]!;
}

/** The Roles bound to a service account by the example's RoleBindings. */
function rolesOf(docs: Manifest[], serviceAccount: string): Role[] {
  return ofKind<RoleBinding>(docs, 'RoleBinding')
    .filter((b) => b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount))
    .map((b) => named<Role>(docs, 'Role', b.roleRef.name)!);
}

const rulesFor = (roles: Role[], apiGroup: string, resource: string) =>
  roles.flatMap((r) => r.rules).filter((rule) => rule.apiGroups.includes(apiGroup) && rule.resources.includes(resource));

/** Every CERTMATE_* variable certhook sets (for a dry run, with a key): the names a command may read. */
function certmateVariables(hook: Hook): Set<string> {
  // A ClusterDeployHook's run names its kind and the Secret's namespace.
  const cluster = hook.kind === CLUSTER_DEPLOY_HOOK.kind;
  const run = boundRun(DeployHookRunSchema.parse({
    apiVersion: API_VERSION,
    kind: DEPLOY_HOOK_RUN.kind,
    metadata: { name: 'run', namespace: 'ns' },
    spec: {
      hookRef: cluster ? { kind: CLUSTER_DEPLOY_HOOK.kind, name: hook.metadata.name } : { name: hook.metadata.name },
      secretRef: cluster ? { namespace: 'tenant', name: 'tls' } : { name: 'tls' },
      event: 'manual',
      triggeredBy: 'test',
    },
  }));
  const certificate = {
    fingerprint: '0'.repeat(64),
    serial: '01',
    domain: 'a.example.com',
    dnsNames: ['a.example.com'],
    notBefore: '2025-01-01T00:00:00Z',
    notAfter: '2025-04-01T00:00:00Z',
    issuer: 'CA',
  };
  // Every variable the hook can get: a dry run's, and a post hook's result.
  const group = hook.spec.stage === 'post' ? { group: { result: 'failed' as const, failedHooks: ['x'] } } : {};
  return new Set(certmateEnv(run, { ...hook, spec: { ...hook.spec, dryRun: true } }, certificate, true, group).map((v) => v.name));
}

const env = useOperatorSandbox('examples-');
const namespace = () => env.namespace();

/**
 * `kubectl apply -n <namespace> -f -` of the documents the env.sandbox serves; asserts each was created. A
 * ClusterDeployHook is cluster-scoped (kubectl applies it without a namespace), and its example's other documents
 * go in the namespace given, standing in for the operator's.
 */
async function apply(ns: string, docs: Manifest[]): Promise<void> {
  const served = docs.filter((d) => SERVED.includes(typeOf(d)));
  const result = await env.sandbox.kubectl(['apply', '-n', ns, '-f', '-'], served.map((d) => dump(d)).join('---\n'));
  assert.equal(result.code, 0, result.stderr);
  const resource = (d: Manifest) => (d.apiVersion.includes('/') ? `${d.kind.toLowerCase()}.${d.apiVersion.split('/')[0]}` : d.kind.toLowerCase());
  assert.deepEqual(result.stdout.trim().split('\n').sort(), served.map((d) => `${resource(d)}/${d.metadata.name} created`).sort());
}


test('the examples are the six CertMate recipes, four webhooks, the stages, the expiry warning and a ClusterDeployHook, each described in the README', async () => {
  assert.deepEqual(FILES, [
    'cluster-deployhook.yaml',
    'page-on-revocation.yaml',
    'push-to-s3.yaml',
    'reload-nginx.yaml',
    'restart-deployment.yaml',
    'skip-during-dry-run.yaml',
    'stage-post-report.yaml',
    'stage-pre-check.yaml',
    'sync-to-peer.yaml',
    'warn-before-expiry.yaml',
    'webhook-chat-on-revocation.yaml',
    'webhook-gitlab-variable.yaml',
    'webhook-plain.yaml',
    'webhook-signed.yaml',
  ]);
  const readme = await readFile(join(EXAMPLES, 'README.md'), 'utf8');
  for (const file of FILES) assert.ok(readme.includes(`examples/${file}`), `README.md describes ${file}`);
  for (const [, mentioned] of readme.matchAll(/examples\/([\w.-]+\.yaml)/g)) assert.ok(FILES.includes(mentioned!), `README.md names ${mentioned}, which does not exist`);
});

for (const file of FILES) {
  describe(`examples/${file}`, () => {
    test('holds known kinds only, and defines every name its hook refers to', async () => {
      const docs = await readExample(file);
      for (const d of docs) {
        assert.ok(SERVED.includes(typeOf(d)) || CHECKED_ONLY.includes(typeOf(d)), `unexpected ${typeOf(d)}`);
        assert.equal(d.metadata.namespace, undefined, `${d.kind}/${d.metadata.name} leaves the namespace to kubectl apply -n`);
      }
      const hook = hookOf(docs);
      const { job, webhook } = hook.spec;
      const definesKey = (kind: 'Secret' | 'ConfigMap', ref: { name: string; key: string }, what: string) => {
        const source = named<Manifest & { data?: object; stringData?: object }>(docs, kind, ref.name);
        assert.ok(source, `${what} reads ${ref.name}, which the file does not define`);
        assert.ok(Object.hasOwn({ ...source.data, ...source.stringData }, ref.key), `${what} reads key ${ref.key} of ${ref.name}`);
      };

      if (job) {
        const contract = certmateVariables(hook);
        const env = new Set((job.env ?? []).map((e) => e.name));
        for (const [, variable] of job.command.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)) {
          assert.ok(contract.has(variable!) || env.has(variable!), `the command reads $${variable}, which neither certhook nor spec.job.env sets`);
        }
        for (const e of job.env ?? []) {
          const secretRef = e.valueFrom?.secretKeyRef;
          const ref = secretRef ?? e.valueFrom?.configMapKeyRef;
          if (ref) definesKey(secretRef ? 'Secret' : 'ConfigMap', ref, `env ${e.name}`);
        }
      }
      for (const h of webhook?.headers ?? []) if (h.valueFrom) definesKey('Secret', h.valueFrom.secretKeyRef, `header ${h.name}`);
      if (webhook?.signing) definesKey('Secret', webhook.signing.secretRef, 'signing');

      for (const role of ofKind<Role>(docs, 'Role')) {
        assert.ok(role.rules.length > 0, `Role ${role.metadata.name} has rules`);
        for (const rule of role.rules) {
          for (const list of [rule.apiGroups, rule.resources, rule.verbs]) assert.ok(Array.isArray(list) && list.length > 0, `Role ${role.metadata.name}: ${JSON.stringify(rule)}`);
          for (const verb of rule.verbs) assert.ok(RBAC_VERBS.includes(verb), `Role ${role.metadata.name}: verb ${verb}`);
        }
        assert.ok(ofKind<RoleBinding>(docs, 'RoleBinding').some((b) => b.roleRef.name === role.metadata.name), `Role ${role.metadata.name} is bound`);
      }
      for (const binding of ofKind<RoleBinding>(docs, 'RoleBinding')) {
        assert.equal(binding.roleRef.apiGroup, 'rbac.authorization.k8s.io');
        assert.equal(binding.roleRef.kind, 'Role');
        assert.ok(named(docs, 'Role', binding.roleRef.name), `RoleBinding ${binding.metadata.name} binds Role ${binding.roleRef.name}, which the file defines`);
        assert.ok(binding.subjects.length > 0);
        for (const subject of binding.subjects) {
          assert.equal(subject.kind, 'ServiceAccount');
          assert.ok(named(docs, 'ServiceAccount', subject.name), `RoleBinding ${binding.metadata.name}: ServiceAccount ${subject.name} is defined`);
        }
      }
      if (job?.serviceAccountName) {
        assert.ok(named(docs, 'ServiceAccount', job.serviceAccountName), `the hook's ServiceAccount ${job.serviceAccountName} is defined`);
        assert.ok(rolesOf(docs, job.serviceAccountName).length > 0, `a RoleBinding grants ${job.serviceAccountName} a Role`);
      }
    });

    test('applies with kubectl, and the operator accepts its hook as written', async () => {
      const docs = await readExample(file);
      const ns = await namespace();
      await apply(ns, docs);
      for (const written of ofKind<Manifest & { spec: Record<string, unknown> }>(docs, 'DeployHook')) {
        await eventually(async () => {
          const stored = (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: written.metadata.name })) as Hook;
          // Nothing pruned or rewritten (defaults only added): what the user wrote is what the operator runs.
          assertWritten(stored.spec, written.spec, 'spec');
          const ready = stored.status?.conditions?.find((c) => c.type === 'Ready');
          assert.equal(ready?.status, 'True', ready?.message);
          assert.equal(stored.status?.observedGeneration, stored.metadata.generation);
        });
      }
      for (const written of ofKind<Manifest & { spec: Record<string, unknown> }>(docs, CLUSTER_DEPLOY_HOOK.kind)) {
        await eventually(async () => {
          const stored = (await env.custom.getClusterCustomObject({ ...CLUSTER_HOOKS, name: written.metadata.name })) as Hook;
          assert.equal(stored.metadata.namespace, undefined, 'cluster-scoped, whatever kubectl apply -n says');
          assertWritten(stored.spec, written.spec, 'spec');
          const ready = stored.status?.conditions?.find((c) => c.type === 'Ready');
          assert.equal(ready?.status, 'True', ready?.message);
          assert.equal(stored.status?.observedGeneration, stored.metadata.generation);
        });
      }
    });
  });
}

describe('what the RBAC documents grant is what the commands need', () => {
  test('restart-deployment: get, patch, list and watch on exactly the Deployment the command restarts', async () => {
    const docs = await readExample('restart-deployment.yaml');
    const hook = hookOf(docs);
    const { command } = hook.spec.job!;
    const restarted = [...command.matchAll(/kubectl rollout restart deployment\/([a-z0-9.-]+)/g)].map((m) => m[1]!);
    assert.equal(restarted.length, 1);
    const wait = command.match(/kubectl rollout status deployment\/([a-z0-9.-]+) --timeout=(\d+)s/);
    assert.ok(wait, 'it waits for the rollout');
    assert.equal(wait[1], restarted[0], 'it waits for the Deployment it restarted');
    assert.ok(Number(wait[2]) < hook.spec.timeoutSeconds, 'the rollout wait ends before the hook is stopped');

    const rules = rulesFor(rolesOf(docs, hook.spec.job!.serviceAccountName!), 'apps', 'deployments');
    assert.equal(rules.length, 1);
    assert.deepEqual(rules[0]!.resourceNames, restarted);
    assert.deepEqual([...rules[0]!.verbs].sort(), ['get', 'list', 'patch', 'watch']);
  });

  test('reload-nginx: pods to find them, pods/exec (get and create) to reload them, nothing else', async () => {
    const docs = await readExample('reload-nginx.yaml');
    const hook = hookOf(docs);
    assert.match(hook.spec.job!.command, /kubectl get pods -l "\$NGINX_SELECTOR"/);
    assert.match(hook.spec.job!.command, /kubectl exec "\$pod" -c "\$NGINX_CONTAINER" -- nginx -s reload/);
    const roles = rolesOf(docs, hook.spec.job!.serviceAccountName!);
    assert.deepEqual(roles.flatMap((r) => r.rules).map((r) => `${r.resources.join()}: ${[...r.verbs].sort().join()}`).sort(), [
      'pods/exec: create,get',
      'pods: get,list',
    ]);
    assert.equal(rulesFor(roles, '', 'pods/exec').length, 1, 'pods/exec in the env.core API group');
  });
});

describe('recipes end to end', () => {
  test('skip-during-dry-run: a matching certificate runs the hook, which skips its deploy', async () => {
    const docs = await readExample('skip-during-dry-run.yaml');
    const hook = hookOf(docs);
    assert.equal(hook.spec.dryRun, true);
    const ns = await namespace();
    await apply(ns, docs);
    await createTlsSecret(env.core, ns, 'staging-tls', issue(hook.spec.domains![0]!));
    const [run] = await finishedRuns(env.custom, ns, 1);
    assert.equal(run!.spec.event, 'created');
    assert.equal(run!.status?.phase, 'Succeeded', run!.status?.output);
    assert.equal(run!.status?.output?.trim(), 'dry-run, skipping deploy');
  });

  test('page-on-revocation: deleting a matching certificate sends PagerDuty one trigger event', async () => {
    const requests: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed"}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const docs = await readExample('page-on-revocation.yaml');
      const hook = hookOf(docs);
      const pagerduty = named<Manifest & { stringData: Record<string, string> }>(docs, 'Secret', 'pagerduty')!;
      pagerduty.stringData['integration-url'] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/enqueue`;
      const ns = await namespace();
      await apply(ns, docs);

      const domain = 'www.example.com';
      assert.ok(hook.spec.domains!.includes('*.example.com'), `the hook covers ${domain}`);
      await createTlsSecret(env.core, ns, 'www-tls', issue(domain));
      await env.op.operator.idle();
      assert.equal((await listRuns(env.custom, ns)).length, 0, 'a new certificate pages nobody');

      await env.core.deleteNamespacedSecret({ name: 'www-tls', namespace: ns });
      const [run] = await finishedRuns(env.custom, ns, 1);
      assert.equal(run!.spec.event, 'revoked');
      assert.equal(run!.status?.phase, 'Succeeded', run!.status?.output);

      assert.equal(requests.length, 1);
      const [request] = requests;
      assert.equal(request!.method, 'POST');
      assert.equal(request!.url, '/v2/enqueue');
      assert.equal(request!.headers['content-type'], 'application/json');
      assert.ok(request!.body.includes(`"summary": "Cert revoked: ${domain}"`), request!.body);
      const event = JSON.parse(request!.body) as { routing_key: string; event_action: string; dedup_key: string; payload: Record<string, string> };
      assert.equal(event.routing_key, pagerduty.stringData['routing-key']);
      assert.equal(event.event_action, 'trigger');
      assert.equal(event.dedup_key, `certhook/${ns}/www-tls/${run!.spec.certificate!.fingerprint}`);
      assert.deepEqual(event.payload, { summary: `Cert revoked: ${domain}`, severity: 'critical', source: 'certhook' });
    } finally {
      server.close();
    }
  });

  test('webhook-gitlab-variable and webhook-chat-on-revocation: their templates render what the receivers expect', async () => {
    const receiver = await startReceiver({ script: () => ({ status: 201, body: '{"key":"TLS_FULLCHAIN"}' }) });
    try {
      const gitlabDocs = await readExample('webhook-gitlab-variable.yaml');
      const chatDocs = await readExample('webhook-chat-on-revocation.yaml');
      // A loopback receiver stands in for GitLab and the chat service, at the examples' paths.
      const hookUrl = (docs: Manifest[], path: string) => {
        const [hook] = ofKind<Manifest & { spec: { webhook: { url: string } } }>(docs, 'DeployHook');
        assert.equal(new URL(hook!.spec.webhook.url).pathname, path);
        hook!.spec.webhook.url = `${receiver.url}${path}`;
      };
      hookUrl(gitlabDocs, '/api/v4/projects/42/variables');
      hookUrl(chatDocs, '/api/chat.postMessage');
      const ns = await namespace();
      await apply(ns, [...gitlabDocs, ...chatDocs]);
      const cert = issue('www.example.com');
      await createTlsSecret(env.core, ns, 'www-tls', cert);
      await finishedRuns(env.custom, ns, 1);
      await env.core.deleteNamespacedSecret({ name: 'www-tls', namespace: ns });
      const runs = await finishedRuns(env.custom, ns, 2);
      assert.ok(runs.every((r) => r.status?.phase === 'Succeeded'), JSON.stringify(runs.map((r) => r.status)));
      const fingerprint = runs[0]!.spec.certificate!.fingerprint;

      const [variable, message] = receiver.posts;
      assert.equal(variable!.path, '/api/v4/projects/42/variables');
      assert.equal(variable!.headers['private-token'], named<Manifest & { stringData: Record<string, string> }>(gitlabDocs, 'Secret', 'gitlab-token')!.stringData.token);
      const body = JSON.parse(variable!.body);
      assert.equal(body.value.trim(), cert.fullchainPem.trim());
      assert.equal(body.protected, true);
      assert.match(body.description, new RegExp(`^www\\.example\\.com, fingerprint ${fingerprint}, until \\d{4}-`));

      assert.equal(message!.path, '/api/chat.postMessage');
      const chatBody = JSON.parse(message!.body);
      assert.equal(chatBody.channel, '#certificates');
      assert.match(chatBody.text, new RegExp(`certificate ${ns}/www-tls \\(www\\.example\\.com\\) was revoked`));
      assert.deepEqual(chatBody.domains, ['www.example.com']);
    } finally {
      await receiver.close();
    }
  });

  test('stage-pre-check: a certificate with its chain passes and the deploy hook runs; one without is stopped before deploy', async () => {
    const docs = await readExample('stage-pre-check.yaml');
    const ns = await namespace();
    await apply(ns, docs);
    await env.custom.createNamespacedCustomObject({ ...HOOKS, namespace: ns, body: { apiVersion: API_VERSION, kind: 'DeployHook', metadata: { name: 'reload' }, spec: { domains: ['*.example.com'], job: { command: 'echo reloaded' } } } });
    await createTlsSecret(env.core, ns, 'good', issue('good.example.com'));
    const leafOnly = issue('bare.example.com');
    await createTlsSecret(env.core, ns, 'bare', { ...leafOnly, fullchainPem: leafOnly.certPem });
    const runs = await finishedRuns(env.custom, ns, 4);
    const of = (secret: string, hook: string) => runs.find((r) => r.spec.secretRef.name === secret && r.spec.hookRef.name === hook)!;
    assert.equal(of('good', 'check-before-deploy').status?.phase, 'Succeeded', of('good', 'check-before-deploy').status?.output);
    assert.match(of('good', 'check-before-deploy').status!.output!, /^ok: good\.example\.com, chain of 2/);
    assert.equal(of('good', 'reload').status?.phase, 'Succeeded');
    assert.equal(of('bare', 'check-before-deploy').status?.phase, 'Failed');
    assert.match(of('bare', 'check-before-deploy').status!.output!, /holds no intermediate/);
    assert.equal(of('bare', 'reload').status?.phase, 'Skipped');
    assert.equal(of('bare', 'reload').status?.reason, 'EarlierStageFailed');
  });
});
