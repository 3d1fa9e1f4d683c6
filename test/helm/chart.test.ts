// The Helm chart, rendered by the real helm 4: it lints, its Deployment passes the operator flags
// the operator really has, it ships the generated CRDs, its pod passes Pod Security "restricted",
// and its RBAC grants every request the operator makes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { DEFAULT_HOOK_IMAGE, logLevelOption, OPERATOR_OPTIONS, operatorConfig } from '../../src/cli/operator.ts';
import { intOption, parseOptions, stringOption } from '../../src/cli/usage.ts';
import type { KubeObject } from '../../src/kube/object.ts';
import { RESOURCES } from '../../src/kube/paths.ts';
import { issue, tlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { startTestOperator } from '../support/operator.ts';
import { testSandbox } from '../support/sandbox.ts';
import { runTool } from '../support/tools.ts';
import { restrictedViolations, type PodSpec } from './pod-security.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHART = join(ROOT, 'helm', 'certhook');
const RELEASE_NAMESPACE = 'certhook-system';

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

let home: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'certhook-helm-'));
});

after(async () => {
  await rm(home, { recursive: true, force: true });
});

/** helm with its home, cache and config in a temp dir; lint and template need no cluster. */
const helm = (args: string[]) => runTool('helm', join(home, 'kubeconfig'), args);

async function render(sets: string[] = [], flags: string[] = []): Promise<KubeObject[]> {
  const result = await helm(['template', 'certhook', CHART, '--namespace', RELEASE_NAMESPACE, ...sets.flatMap((s) => ['--set', s]), ...flags]);
  assert.equal(result.code, 0, result.stderr);
  return (loadAll(result.stdout) as (KubeObject | null)[]).filter((doc): doc is KubeObject => doc !== null);
}

function only(objects: KubeObject[], kind: string): KubeObject & Record<string, any> {
  const matching = objects.filter((o) => o.kind === kind);
  assert.equal(matching.length, 1, `expected one ${kind}, rendered ${matching.length}`);
  return matching[0]!;
}

const kinds = (objects: KubeObject[]) => objects.map((o) => o.kind).sort();
const podSpec = (objects: KubeObject[]): PodSpec & Record<string, any> => only(objects, 'Deployment').spec.template.spec;
const operatorContainer = (objects: KubeObject[]) => podSpec(objects).containers.find((c) => c.name === 'operator') as Record<string, any>;

/** The settings the chart controls, as the operator itself parses the rendered args (strictly: an unknown flag throws). */
function parsedArgs(args: string[]) {
  assert.equal(args[0], 'operator');
  const values = parseOptions(args.slice(1), OPERATOR_OPTIONS, '');
  assert.ok(values);
  const { namespace, defaultImage, ttlSecondsAfterFinished } = operatorConfig(values, '');
  return {
    namespace,
    defaultImage,
    ttlSecondsAfterFinished,
    logLevel: logLevelOption(values, ''),
    healthPort: intOption(stringOption(values, 'health-port'), 'health-port', 0, 65535, ''),
  };
}

describe('helm lint', () => {
  for (const sets of [[], ['operator.watchNamespace=web']]) {
    test(`passes --strict${sets.length ? ` with ${sets.join(' ')}` : ''}`, async () => {
      const result = await helm(['lint', '--strict', CHART, ...sets.flatMap((s) => ['--set', s])]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }

  test('values.schema.json rejects what the operator would refuse or silently ignore', async () => {
    for (const [set, message] of [
      ['operator.logLevel=loud', /logLevel/],
      ['operator.healthPort=0', /healthPort/],
      ['operator.watchNamspace=web', /watchNamspace/],
    ] as const) {
      const result = await helm(['template', 'certhook', CHART, '--set', set]);
      assert.notEqual(result.code, 0, set);
      assert.match(result.stderr, message);
    }
  });
});

describe('helm template with the default values', () => {
  let objects: KubeObject[];

  before(async () => {
    objects = await render();
  });

  test('renders the operator with cluster-wide RBAC, and no CRDs unless asked', () => {
    assert.deepEqual(kinds(objects), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'ServiceAccount']);
    const binding = only(objects, 'ClusterRoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: only(objects, 'ClusterRole').metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: RELEASE_NAMESPACE }]);
    assert.equal(podSpec(objects).serviceAccountName, only(objects, 'ServiceAccount').metadata.name);
  });

  test('the Deployment runs one operator at a time (no leader election yet)', () => {
    const deployment = only(objects, 'Deployment');
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(deployment.spec.strategy.type, 'Recreate');
  });

  test('the args are flags `certhook operator` accepts, with the values.yaml settings (its own defaults)', () => {
    assert.deepEqual(parsedArgs(operatorContainer(objects).args), {
      namespace: undefined,
      defaultImage: DEFAULT_HOOK_IMAGE,
      ttlSecondsAfterFinished: 3600,
      logLevel: 'info',
      healthPort: 8081,
    });
  });

  test('every flag passed is one `certhook operator --help` documents', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'src', 'cli', 'main.ts'), 'operator', '--help']);
    const flags = (operatorContainer(objects).args as string[]).slice(1).map((arg) => arg.split('=')[0]!);
    assert.ok(flags.length >= 4);
    for (const flag of flags) assert.match(stdout, new RegExp(`^\\s+${flag} `, 'm'), `${flag} is not in the operator's help`);
  });

  test('POD_NAMESPACE comes from the downward API', () => {
    const env = operatorContainer(objects).env as { name: string; valueFrom?: unknown }[];
    assert.deepEqual(env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
  });

  test('liveness probes /healthz and readiness /readyz on the port the operator serves them on', () => {
    const container = operatorContainer(objects);
    const port = container.ports.find((p: { name: string }) => p.name === container.livenessProbe.httpGet.port);
    assert.equal(port?.containerPort, parsedArgs(container.args).healthPort);
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: port.name });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: port.name });
  });

  test('the pod passes Pod Security "restricted"', () => {
    const spec = podSpec(objects);
    assert.deepEqual(restrictedViolations(spec), []);
    // The fields the profile asks for, set explicitly rather than left to the image.
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    const container = operatorContainer(objects);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
  });

  test('the restricted check catches a pod that would be rejected', async () => {
    const loosened = await render(['securityContext.allowPrivilegeEscalation=true', 'podSecurityContext.runAsNonRoot=false']);
    assert.deepEqual(restrictedViolations(podSpec(loosened)), [
      'container operator does not set allowPrivilegeEscalation: false',
      'container operator does not run as non-root (runAsNonRoot: true on the pod or the container)',
    ]);
  });

  test('the RBAC grants no deletes and no wildcards', () => {
    const rules = only(objects, 'ClusterRole').rules as PolicyRule[];
    for (const rule of rules) {
      assert.ok(!rule.verbs.some((v) => ['delete', 'deletecollection', '*'].includes(v)), JSON.stringify(rule));
      assert.ok(!rule.resources.includes('*') && !rule.apiGroups.includes('*'), JSON.stringify(rule));
      if (rule.verbs.includes('update')) assert.ok(rule.resources.every((r) => r.endsWith('/finalizers')), JSON.stringify(rule));
    }
  });
});

describe('helm template with operator.watchNamespace=web', () => {
  test('grants a Role and RoleBinding in web instead of cluster-wide, and passes --namespace=web', async () => {
    const objects = await render(['operator.watchNamespace=web']);
    assert.deepEqual(kinds(objects), ['Deployment', 'Role', 'RoleBinding', 'ServiceAccount']);
    const role = only(objects, 'Role');
    const binding = only(objects, 'RoleBinding');
    assert.equal(role.metadata.namespace, 'web');
    assert.equal(binding.metadata.namespace, 'web');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    // The operator itself still runs in the release's namespace.
    assert.equal(only(objects, 'Deployment').metadata.namespace, RELEASE_NAMESPACE);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: RELEASE_NAMESPACE }]);
    assert.ok(operatorContainer(objects).args.includes('--namespace=web'));
    assert.equal(parsedArgs(operatorContainer(objects).args).namespace, 'web');
    assert.deepEqual(role.rules, only(await render(), 'ClusterRole').rules);
  });
});

describe('NOTES.txt', () => {
  const notes = async (sets: string[]) => {
    const result = await helm(['install', 'certhook', CHART, '--dry-run=client', '--namespace', RELEASE_NAMESPACE, ...sets.flatMap((s) => ['--set', s])]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.slice(result.stdout.indexOf('NOTES:'));
  };

  test('says how to check the operator and where hooks and runs are', async () => {
    const text = await notes([]);
    assert.match(text, /kubectl -n certhook-system get deployment certhook\n/);
    assert.match(text, /kubectl get dh,dhr -A\n/);
    assert.match(text, /every namespace/);
  });

  test('points at the watched namespace when there is one', async () => {
    const text = await notes(['operator.watchNamespace=web']);
    assert.match(text, /kubectl get dh,dhr -n web\n/);
    assert.match(text, /in namespace web only/);
  });
});

describe('helm template --include-crds', () => {
  test('includes exactly the generated CRDs of crds/', async () => {
    const rendered = (await render([], ['--include-crds'])).filter((o) => o.kind === 'CustomResourceDefinition');
    const files = (await readdir(join(ROOT, 'crds'))).filter((f) => f.endsWith('.yaml')).sort();
    const committed = await Promise.all(files.map(async (f) => loadAll(await readFile(join(ROOT, 'crds', f), 'utf8'))[0] as KubeObject));
    const byName = (a: KubeObject, b: KubeObject) => a.metadata.name!.localeCompare(b.metadata.name!);
    assert.equal(committed.length, 2);
    assert.deepEqual(rendered.sort(byName), committed.sort(byName));
  });
});

describe('the chart\'s RBAC against the operator\'s requests', () => {
  /** The API group of a resource the operator uses (the sandbox counts requests by resource only). */
  function groupOf(resource: string): string {
    const ref = Object.values(RESOURCES).find((r) => r.plural === resource.split('/')[0]);
    assert.ok(ref, `the operator requested ${resource}, which it does not declare in src/kube/paths.ts`);
    return ref.group;
  }

  test('every request of a hook\'s life (created, renewed, manual run, revoked) is granted by the Role', async () => {
    const rules = only(await render(['operator.watchNamespace=web']), 'Role').rules as PolicyRule[];
    const sandbox = await testSandbox();
    const op = await startTestOperator(sandbox, { namespace: 'web' });
    try {
      // The test writes through the sandbox's API directly, so every HTTP request counted is the operator's.
      const api = sandbox.api;
      const secrets = api.type('', 'secrets');
      const runs = api.type('certhook.io', 'deployhookruns');
      api.create(api.type('', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
      api.create(api.type('certhook.io', 'deployhooks'), 'web', { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name: 'reload' }, spec: { job: { command: 'echo reloaded' } } });
      const finished = (count: number) => eventually(() => {
        const items = api.list(runs, 'web').items as (KubeObject & { status?: { phase?: string } })[];
        assert.equal(items.length, count);
        assert.ok(items.every((r) => ['Succeeded', 'Failed', 'Skipped'].includes(r.status?.phase ?? '')));
      }, 30_000);
      api.create(secrets, 'web', tlsSecret('edge-tls', issue('edge.example.com')));
      await finished(1);
      api.update(secrets, 'web', 'edge-tls', { ...api.get(secrets, 'web', 'edge-tls'), data: tlsSecret('edge-tls', issue('edge.example.com')).data });
      await finished(2);
      api.create(runs, 'web', { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'by-hand' }, spec: { hookRef: { name: 'reload' }, secretRef: { name: 'edge-tls' }, event: 'manual' } });
      await finished(3);
      api.delete(secrets, 'web', 'edge-tls');
      await finished(4);
      await op.operator.idle();

      const requests = Object.keys(sandbox.faults.counters.requests);
      // The scenario reached every kind of write and read the operator does, so the check below is not vacuous.
      for (const expected of ['watch secrets', 'create secrets', 'create jobs', 'list pods', 'get pods/log', 'create deployhookruns', 'patch deployhookruns/status', 'patch deployhooks/status', 'create events']) {
        assert.ok(requests.includes(expected), `the scenario made no "${expected}" request: ${requests.join(', ')}`);
      }
      for (const request of requests) {
        const [verb, resource] = request.split(' ') as [string, string];
        const granted = rules.some((r) => r.apiGroups.includes(groupOf(resource)) && r.resources.includes(resource) && r.verbs.includes(verb));
        assert.ok(granted, `the operator's "${request}" is not granted by the chart's RBAC`);
      }
    } finally {
      await op.stop();
      await sandbox.close();
    }
  });
});
