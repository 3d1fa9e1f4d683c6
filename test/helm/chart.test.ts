// The Helm chart, rendered by the real helm 4: it lints, its Deployment passes the operator flags
// the operator really has (with its defaults), it renders the generated CRDs from templates, its pod
// passes Pod Security "restricted", its RBAC grants every request the operator makes, and with
// leader election its rendered operator, run against the sandbox, elects itself with only what it
// grants. chart-options.test.ts covers the rest of the values, upgrade.test.ts helm upgrade.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { clientOptions, DEFAULT_HOOK_IMAGE, logFormatOption, logLevelOption, OPERATOR_OPTIONS, operatorConfig } from '../../src/cli/operator.ts';
import { intOption, parseOptions, secondsOption, stringOption } from '../../src/cli/usage.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { credentialsFromKubeconfig } from '../../src/kube/kubeconfig.ts';
import { LeaderElector, type Lease } from '../../src/kube/leader-election.ts';
import type { KubeObject } from '../../src/kube/object.ts';
import { RESOURCES } from '../../src/kube/paths.ts';
import { createLogger } from '../../src/log.ts';
import { issue, tlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { installCrds, startTestOperator } from '../support/operator.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { restrictedViolations } from './pod-security.ts';
import { CHART, chartTool, kinds, ofComponent, only, operatorContainer, podSpec, RELEASE_NAMESPACE, ROOT, parseManifests, templateArgs, valueArgs, type ChartTool } from './chart-render.ts';
import type { Rendered } from './kube-schema.ts';
import { FINAL_PHASES } from '../../src/controller/run-state.ts';

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

let chart: ChartTool;

before(async () => {
  chart = await chartTool();
});

after(() => chart.close());

const helm = (args: string[]) => chart.helm(args);
const render = (sets: string[] = [], flags: string[] = []) => chart.render(sets, flags);
const renderError = (sets: string[], flags: string[] = []) => chart.renderError(sets, flags);

/** The NOTES helm install prints. */
async function notes(sets: string[]): Promise<string> {
  const result = await helm(['install', 'certhook', CHART, '--dry-run=client', '--namespace', RELEASE_NAMESPACE, ...valueArgs(sets)]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.slice(result.stdout.indexOf('NOTES:'));
}

/** The operator's own ClusterRole (the others are people's, aggregated into view and edit). */
const operatorClusterRole = (objects: Rendered[]) => only(ofComponent(objects, 'operator'), 'ClusterRole');
const inNamespace = (objects: Rendered[], namespace: string) => objects.filter((o) => o.metadata.namespace === namespace);
/** The Role for the Lease: the only Role in the release's namespace (the chart's other rules are elsewhere or cluster-wide). */
const leaseRole = (objects: Rendered[]) => only(inNamespace(objects, RELEASE_NAMESPACE), 'Role');

/** The settings the chart controls, as the operator itself parses the rendered args (strictly: an unknown flag throws). */
function parsedArgs(args: string[]) {
  assert.equal(args[0], 'operator');
  const values = parseOptions(args.slice(1), OPERATOR_OPTIONS, '');
  assert.ok(values);
  // The operator parses these with the same bound in a function it does not export; running the
  // rendered args (below) checks them in full.
  const seconds = (name: string) => secondsOption(stringOption(values, name), name, 3600, '');
  return {
    ...operatorConfig(values, ''),
    ...clientOptions(values, ''),
    logLevel: logLevelOption(values, ''),
    logFormat: logFormatOption(values, ''),
    healthPort: intOption(stringOption(values, 'health-port'), 'health-port', 0, 65535, ''),
    metricsPort: intOption(stringOption(values, 'metrics-port'), 'metrics-port', 0, 65535, ''),
    leaderElect: values['leader-elect'] === true,
    leaderElectionNamespace: stringOption(values, 'leader-election-namespace'),
    leaderElectionId: stringOption(values, 'leader-election-id'),
    leaseDurationSeconds: seconds('lease-duration'),
    renewDeadlineSeconds: seconds('renew-deadline'),
    retryPeriodSeconds: seconds('retry-period'),
  };
}

/** Each flag `certhook operator --help` documents, with the text of its "(default: …)" ('' when none). */
function documentedDefaults(help: string): Map<string, string> {
  const entries = new Map<string, string>();
  let flag: string | undefined;
  for (const line of help.split('\n')) {
    const start = /^ {2}(--[a-z-]+)/.exec(line);
    if (start) entries.set((flag = start[1]!), line);
    else if (flag && /^ {4,}\S/.test(line)) entries.set(flag, `${entries.get(flag)} ${line.trim()}`);
    else flag = undefined;
  }
  return new Map([...entries].map(([f, text]) => [f, /\(default: ([^;)]*)/.exec(text)?.[1] ?? '']));
}

/** Whether `rules` grant the request; `name` is the object's, when RBAC can see it (not on create). */
function granted(rules: PolicyRule[], verb: string, resource: string, name?: string): boolean {
  const ref = Object.values(RESOURCES).find((r) => r.plural === resource.split('/')[0]);
  assert.ok(ref, `the operator requested ${resource}, which it does not declare in src/kube/paths.ts`);
  return rules.some((r) =>
    r.apiGroups.includes(ref.group) && r.resources.includes(resource) && r.verbs.includes(verb) && (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))));
}

describe('helm lint', () => {
  for (const sets of [[], ['operator.watchNamespace=web'], ['operator.leaderElection.enabled=false', 'replicaCount=1'], ['replicaCount=3']]) {
    test(`passes --strict${sets.length ? ` with ${sets.join(' ')}` : ''}`, async () => {
      const result = await helm(['lint', '--strict', CHART, ...valueArgs(sets)]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }

  test('values.schema.json rejects what the operator would refuse or silently ignore', async () => {
    for (const [set, message] of [
      ['operator.logLevel=loud', /logLevel/],
      ['operator.healthPort=0', /healthPort/],
      ['operator.watchNamspace=web', /watchNamspace/],
      ['operator.quietPeriodSeconds=301', /quietPeriodSeconds/],
      ['operator.kubeApiQps=0', /kubeApiQps/],
      ['operator.leaderElection.retryPeriodSeconds=0', /retryPeriodSeconds/],
      ['operator.leaderElection.renewDeadline=5', /renewDeadline/],
      ['replicaCount=-1', /replicaCount/],
    ] as const) {
      const result = await helm(['template', 'certhook', CHART, '--set', set]);
      assert.notEqual(result.code, 0, set);
      assert.match(result.stderr, message);
    }
  });
});

describe('helm template with the default values', () => {
  let objects: Rendered[];
  let help: string;

  before(async () => {
    objects = await render();
    ({ stdout: help } = await promisify(execFile)(process.execPath, [join(ROOT, 'src', 'cli', 'main.ts'), 'operator', '--help']));
  });

  test('renders the operator with cluster-wide RBAC, a Role for its Lease and a PodDisruptionBudget, the CRDs, a metrics Service and people\'s ClusterRoles, each labelled with its component', () => {
    assert.deepEqual(kinds(ofComponent(objects, 'operator')), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'ServiceAccount']);
    assert.deepEqual(kinds(ofComponent(objects, 'crds')), ['CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition']);
    assert.deepEqual(kinds(ofComponent(objects, 'metrics')), ['Service']);
    assert.deepEqual(kinds(ofComponent(objects, 'rbac')), ['ClusterRole', 'ClusterRole']);
    assert.equal(objects.length, 13, 'every object has one of the four components');
    const binding = only(objects, 'ClusterRoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: operatorClusterRole(objects).metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: RELEASE_NAMESPACE }]);
    assert.equal(podSpec(objects).serviceAccountName, only(objects, 'ServiceAccount').metadata.name);
  });

  test('the Deployment runs two replicas that elect a leader, and rolls them over one at a time', () => {
    const deployment = only(objects, 'Deployment');
    assert.equal(deployment.spec.replicas, 2);
    // A new pod is ready (standing by) before an old one stops, so one is always there to take over.
    assert.deepEqual(deployment.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    // A stopping leader releases the Lease within its renew deadline; the grace period allows it.
    assert.ok(podSpec(objects).terminationGracePeriodSeconds > parsedArgs(operatorContainer(objects).args).renewDeadlineSeconds!);
  });

  test('the args are flags `certhook operator` accepts, with the values.yaml settings', () => {
    assert.deepEqual(parsedArgs(operatorContainer(objects).args), {
      namespace: undefined,
      clusterHookNamespace: RELEASE_NAMESPACE,
      defaultImage: DEFAULT_HOOK_IMAGE,
      ttlSecondsAfterFinished: 3600,
      quietPeriodMs: 2000,
      resyncPeriodMs: 300_000,
      hooksEnabled: true,
      dryRunIssuers: [],
      webhookConcurrency: 32,
      webhookAllow: [],
      qps: 50,
      burst: 100,
      logLevel: 'info',
      logFormat: 'json',
      healthPort: 8081,
      metricsPort: 8080,
      leaderElect: true,
      leaderElectionNamespace: RELEASE_NAMESPACE,
      leaderElectionId: 'certhook-leader',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    });
  });

  test('every flag passed is one `certhook operator --help` documents, set to its documented default where that is a fixed value', () => {
    const defaults = documentedDefaults(help);
    const compared: string[] = [];
    for (const arg of (operatorContainer(objects).args as string[]).slice(1)) {
      const eq = arg.indexOf('=');
      const flag = eq < 0 ? arg : arg.slice(0, eq);
      const value = arg.slice(eq + 1);
      const documented = defaults.get(flag);
      assert.ok(documented !== undefined, `${flag} is not in the operator's help`);
      // Switches, and defaults taken from the environment ("$POD_NAMESPACE, else default"), have no value to match.
      if (eq < 0 || !/^[^\s$,]+$/.test(documented)) continue;
      assert.ok(value === documented || Number(value) === Number(documented), `${arg}, but the operator's default is ${documented}`);
      compared.push(flag);
    }
    assert.deepEqual(compared, ['--hook-image', '--job-ttl-seconds', '--log-level', '--log-format', '--health-port', '--metrics-port', '--quiet-period', '--resync-period', '--kube-api-qps', '--kube-api-burst', '--hooks-enabled', '--webhook-concurrency', '--leader-election-id', '--lease-duration', '--renew-deadline', '--retry-period']);
    // The ones left: what the operator's default ($POD_NAMESPACE) would be, the pod's own namespace.
    assert.equal(parsedArgs(operatorContainer(objects).args).leaderElectionNamespace, only(objects, 'Deployment').metadata.namespace);
    assert.equal(parsedArgs(operatorContainer(objects).args).clusterHookNamespace, only(objects, 'Deployment').metadata.namespace);
  });

  test('operator.webhookAllowCidrs becomes one --webhook-allow-cidr each, which the operator parses', async () => {
    const allowed = await render(['operator.webhookAllowCidrs={10.20.0.0/16,fd00:10::/64}']);
    const args = operatorContainer(allowed).args as string[];
    assert.deepEqual(args.filter((a) => a.startsWith('--webhook-allow-cidr')), ['--webhook-allow-cidr=10.20.0.0/16', '--webhook-allow-cidr=fd00:10::/64']);
    assert.deepEqual(parsedArgs(args).webhookAllow.map((r) => r.cidr), ['10.20.0.0/16', 'fd00:10::/64']);
  });

  test('hooks.enabled and operator.dryRunIssuers reach the operator', async () => {
    const args = operatorContainer(await render(['hooks.enabled=false', 'operator.dryRunIssuers={letsencrypt-staging,internal-test}'])).args as string[];
    const parsed = parsedArgs(args);
    assert.equal(parsed.hooksEnabled, false);
    assert.deepEqual(parsed.dryRunIssuers, ['letsencrypt-staging', 'internal-test']);
  });

  test('POD_NAMESPACE and POD_NAME come from the downward API', () => {
    const env = operatorContainer(objects).env as { name: string; valueFrom?: unknown }[];
    assert.deepEqual(env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.deepEqual(env.find((e) => e.name === 'POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  });

  test('NODE_OPTIONS: the image\'s by default; operator.nodeOptions replaces them', async () => {
    const names = (objs: Rendered[]) => (operatorContainer(objs).env as { name: string; value?: string }[]);
    assert.equal(names(objects).find((e) => e.name === 'NODE_OPTIONS'), undefined);
    const raised = await render(['operator.nodeOptions=--max-old-space-size=400']);
    assert.equal(names(raised).find((e) => e.name === 'NODE_OPTIONS')?.value, '--max-old-space-size=400');
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

  test('the cluster-wide RBAC serves ClusterDeployHooks: list and watch them and namespaces\' labels, patch their status, name them as owners', () => {
    const rules = operatorClusterRole(objects).rules as PolicyRule[];
    for (const [verb, resource] of [['get', 'clusterdeployhooks'], ['list', 'clusterdeployhooks'], ['watch', 'clusterdeployhooks'], ['patch', 'clusterdeployhooks/status'], ['update', 'clusterdeployhooks/finalizers'], ['list', 'namespaces'], ['watch', 'namespaces']] as const) {
      assert.ok(granted(rules, verb, resource), `${verb} ${resource}`);
    }
    // Nothing else of them: ClusterDeployHooks are written by people, namespaces only read.
    assert.ok(!granted(rules, 'create', 'clusterdeployhooks') && !granted(rules, 'update', 'clusterdeployhooks') && !granted(rules, 'patch', 'clusterdeployhooks'));
    assert.deepEqual(rules.filter((r) => r.resources.includes('namespaces')), [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] }]);
  });

  test('the cluster-wide RBAC deletes only DeployHookRuns (retention) and grants no wildcards', () => {
    const rules = operatorClusterRole(objects).rules as PolicyRule[];
    for (const rule of rules) {
      assert.ok(!rule.verbs.some((v) => ['deletecollection', '*'].includes(v)), JSON.stringify(rule));
      if (rule.verbs.includes('delete')) assert.deepEqual(rule.resources, ['deployhookruns'], JSON.stringify(rule));
      assert.ok(!rule.resources.includes('*') && !rule.apiGroups.includes('*'), JSON.stringify(rule));
      if (rule.verbs.includes('update')) assert.ok(rule.resources.every((r) => r.endsWith('/finalizers')), JSON.stringify(rule));
    }
  });
});

describe('helm template with operator.watchNamespace=web', () => {
  test('grants a Role and RoleBinding in web instead of cluster-wide, and passes --namespace=web (and no --cluster-hook-namespace)', async () => {
    const objects = await render(['operator.watchNamespace=web']);
    assert.deepEqual(kinds(ofComponent(objects, 'operator')), ['Deployment', 'PodDisruptionBudget', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'ServiceAccount']);
    const role = only(inNamespace(objects, 'web'), 'Role');
    const binding = only(inNamespace(objects, 'web'), 'RoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    // The operator itself still runs in the release's namespace.
    assert.equal(only(objects, 'Deployment').metadata.namespace, RELEASE_NAMESPACE);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: RELEASE_NAMESPACE }]);
    assert.ok(operatorContainer(objects).args.includes('--namespace=web'));
    assert.equal(parsedArgs(operatorContainer(objects).args).namespace, 'web');
    // The operator refuses --cluster-hook-namespace with --namespace, and serves no ClusterDeployHooks.
    assert.deepEqual((operatorContainer(objects).args as string[]).filter((a) => a.startsWith('--cluster-hook-namespace')), []);
    assert.equal(parsedArgs(operatorContainer(objects).args).clusterHookNamespace, undefined);
    // The cluster-wide rules but those for ClusterDeployHooks and namespaces (a Role cannot grant cluster-scoped kinds).
    const clusterScoped = (r: PolicyRule) => r.resources.some((resource) => /^(clusterdeployhooks|namespaces)(\/|$)/.test(resource));
    const clusterRules = operatorClusterRole(await render()).rules as PolicyRule[];
    assert.ok(clusterRules.some(clusterScoped));
    assert.deepEqual(role.rules, clusterRules.filter((r) => !clusterScoped(r)));
  });
});

describe('helm template with operator.clusterHookNamespace', () => {
  test('passes --cluster-hook-namespace, which the operator parses', async () => {
    const args = operatorContainer(await render(['operator.clusterHookNamespace=certhook-hooks'])).args as string[];
    assert.deepEqual(args.filter((a) => a.startsWith('--cluster-hook-namespace')), ['--cluster-hook-namespace=certhook-hooks']);
    assert.equal(parsedArgs(args).clusterHookNamespace, 'certhook-hooks');
  });

  test('with operator.watchNamespace is refused, saying why (the operator would refuse to start)', async () => {
    assert.match(await renderError(['operator.clusterHookNamespace=certhook-hooks', 'operator.watchNamespace=web']), /operator\.clusterHookNamespace is certhook-hooks but operator\.watchNamespace is web: an operator watching one namespace serves no ClusterDeployHooks/);
    assert.match(await renderError(['operator.clusterHookNamespace=Hooks']), /clusterHookNamespace/);
  });
});

describe('leader election in the chart', () => {
  test('on: a Role and RoleBinding for the Lease in the release\'s namespace, where the operator is told to keep it, even when watching another', async () => {
    const objects = await render(['operator.watchNamespace=web']);
    const role = leaseRole(objects);
    const binding = only(inNamespace(objects, RELEASE_NAMESPACE), 'RoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: RELEASE_NAMESPACE }]);
    const args = parsedArgs(operatorContainer(objects).args);
    assert.equal(args.leaderElect, true);
    assert.equal(args.leaderElectionNamespace, RELEASE_NAMESPACE);
    // Only Leases, and by name wherever RBAC can tell (the verbs themselves are checked against a real run below).
    for (const rule of role.rules as PolicyRule[]) {
      assert.deepEqual([rule.apiGroups, rule.resources], [['coordination.k8s.io'], ['leases']], JSON.stringify(rule));
      assert.ok(rule.resourceNames ? rule.resourceNames.join() === args.leaderElectionId : rule.verbs.join() === 'create', JSON.stringify(rule));
    }
  });

  test('the Lease is per release, so two releases in one namespace do not share a leader', async () => {
    const other = await helm(['template', 'edge', CHART, '--namespace', RELEASE_NAMESPACE]);
    assert.equal(other.code, 0, other.stderr);
    const objects = parseManifests(other.stdout);
    assert.equal(parsedArgs(operatorContainer(objects).args).leaderElectionId, 'edge-certhook-leader');
  });

  test('off: no Lease Role, no leader-election flags, and one pod replaced with Recreate', async () => {
    const objects = await render(['operator.leaderElection.enabled=false', 'replicaCount=1']);
    assert.deepEqual(kinds(ofComponent(objects, 'operator')), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'ServiceAccount']);
    const args = operatorContainer(objects).args as string[];
    assert.deepEqual(args.filter((a) => /^--(leader-elect|lease-|renew-|retry-)/.test(a)), []);
    assert.equal(parsedArgs(args).leaderElect, false);
    const deployment = only(objects, 'Deployment');
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.strategy, { type: 'Recreate' });
  });

  test('more than one replica without leader election is refused, saying why', async () => {
    for (const sets of [['operator.leaderElection.enabled=false'], ['operator.leaderElection.enabled=false', 'replicaCount=3']]) {
      const stderr = await renderError(sets);
      assert.match(stderr, /replicaCount is [23] but operator\.leaderElection\.enabled is false: without leader election every replica would plan and run hooks/);
    }
  });
});

describe('NOTES.txt', () => {
  test('says how to check the operator and where hooks and runs are', async () => {
    const text = await notes([]);
    assert.match(text, /kubectl -n certhook-system get deployment certhook\n/);
    assert.match(text, /kubectl get dh,dhr -A\n/);
    assert.match(text, /every namespace/);
    assert.match(text, /ClusterDeployHooks' runs and Jobs are in namespace certhook-system:\n\n  kubectl get cdh\n  kubectl -n certhook-system get dhr\n/);
  });

  test('points at the watched namespace when there is one', async () => {
    const text = await notes(['operator.watchNamespace=web']);
    assert.match(text, /kubectl get dh,dhr -n web\n/);
    assert.match(text, /in namespace web only/);
    assert.match(text, /serves no ClusterDeployHooks/);
    assert.doesNotMatch(text, /get cdh/);
  });

  test('says helm upgrade upgrades the CRDs and whether helm uninstall keeps them, or how to install them when the chart does not', async () => {
    const kept = await notes([]);
    assert.match(kept, /helm upgrade\nupgrades them\. helm uninstall leaves them, and with them every hook and run/);
    assert.match(kept, /kubectl delete crd deployhooks\.certhook\.io clusterdeployhooks\.certhook\.io deployhookruns\.certhook\.io\n/);
    assert.match(await notes(['crds.keep=false']), /helm uninstall deletes them, and with them every hook and run/);
    const off = await notes(['crds.enabled=false']);
    assert.match(off, /certhook crds \| kubectl apply --server-side -f -\n/);
    assert.doesNotMatch(off, /helm upgrade upgrades them/);
  });

  test('names the metrics Service and how it is scraped', async () => {
    assert.match(await notes([]), /\/metrics of service\/certhook-metrics, port 8080\.\n/);
    assert.match(await notes(['metrics.serviceMonitor.enabled=true']), /port 8080 \(scraped through a ServiceMonitor\)\./);
    assert.doesNotMatch(await notes(['metrics.enabled=false']), /\/metrics/);
  });

  test('says how to see which replica leads, or that leader election is off', async () => {
    assert.match(await notes([]), /kubectl -n certhook-system get lease certhook-leader -o jsonpath='\{\.spec\.holderIdentity\}'\n/);
    const off = await notes(['operator.leaderElection.enabled=false', 'replicaCount=1']);
    assert.doesNotMatch(off, /get lease/);
    assert.match(off, /Leader election is off/);
  });
});

describe('the CRDs in the chart', () => {
  const crdsOf = (objects: Rendered[]) => objects.filter((o) => o.kind === 'CustomResourceDefinition');
  const byName = (a: KubeObject, b: KubeObject) => a.metadata.name!.localeCompare(b.metadata.name!);

  test('are rendered from templates (helm upgrade upgrades them): exactly the generated CRDs of crds/, labelled, and kept on uninstall', async () => {
    const rendered = crdsOf(await render()).sort(byName);
    const files = (await readdir(join(ROOT, 'crds'))).filter((f) => f.endsWith('.yaml')).sort();
    const committed = await Promise.all(files.map(async (f) => loadAll(await readFile(join(ROOT, 'crds', f), 'utf8'))[0] as KubeObject));
    assert.equal(committed.length, 3);
    for (const crd of rendered) {
      assert.equal(crd.metadata.labels?.['app.kubernetes.io/component'], 'crds');
      assert.equal(crd.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
      assert.deepEqual(crd.metadata.annotations, { 'helm.sh/resource-policy': 'keep' });
    }
    const withoutChartMetadata = rendered.map(({ metadata: { labels, annotations, ...metadata }, ...rest }) => ({ ...rest, metadata }));
    assert.deepEqual(withoutChartMetadata, committed.sort(byName));
    // Helm's crds/ directory installs once and never upgrades: nothing may be left there.
    assert.equal((await readdir(CHART)).includes('crds'), false);
  });

  test('crds.keep=false leaves them to helm uninstall; crds.enabled=false leaves them out', async () => {
    for (const crd of crdsOf(await render(['crds.keep=false']))) assert.equal(crd.metadata.annotations, undefined);
    assert.deepEqual(crdsOf(await render(['crds.enabled=false'])), []);
  });
});

describe('the chart\'s RBAC against the operator\'s requests', () => {
  test('every request of a hook\'s life (created, renewed, manual run, revoked) is granted by the Role', async () => {
    const rules = only(inNamespace(await render(['operator.watchNamespace=web']), 'web'), 'Role').rules as PolicyRule[];
    const sandbox = await testSandbox();
    const op = await startTestOperator(sandbox, { namespace: 'web' });
    try {
      // The test writes through the sandbox's API directly, so every HTTP request counted is the operator's.
      const api = sandbox.api;
      const secrets = api.type('', 'secrets');
      const runs = api.type('certhook.io', 'deployhookruns');
      api.create(api.type('', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
      api.create(api.type('certhook.io', 'deployhooks'), 'web', { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name: 'reload' }, spec: { historyLimit: 1, job: { command: 'echo reloaded' } } });
      // historyLimit 1: older runs are pruned, so count the runs ever seen finished.
      const seen = new Set<string>();
      const finished = (count: number) => eventually(() => {
        const items = api.list(runs, 'web').items as (KubeObject & { status?: { phase?: string } })[];
        for (const r of items) if (FINAL_PHASES.has(r.status?.phase ?? '')) seen.add(r.metadata.name!);
        assert.equal(seen.size, count, JSON.stringify(items.map((r) => [r.metadata.name, r.status?.phase, (r as any).status?.reason, (r as any).status?.message])));
        assert.ok(items.every((r) => FINAL_PHASES.has(r.status?.phase ?? '')));
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
      for (const expected of ['watch secrets', 'create secrets', 'patch secrets', 'create jobs', 'list pods', 'get pods/log', 'create deployhookruns', 'delete deployhookruns', 'patch deployhookruns/status', 'patch deployhooks/status', 'create events']) {
        assert.ok(requests.includes(expected), `the scenario made no "${expected}" request: ${requests.join(', ')}`);
      }
      for (const request of requests) {
        const [verb, resource] = request.split(' ') as [string, string];
        assert.ok(granted(rules, verb, resource), `the operator's "${request}" is not granted by the chart's RBAC`);
      }
    } finally {
      await op.stop();
      await sandbox.close();
    }
  });
});

describe('the chart\'s ClusterRole against the operator\'s requests for a ClusterDeployHook', () => {
  test('every request of a cluster hook\'s life (created, manual run, revoked) is granted, and so is naming it as its runs\' owner', async () => {
    const rules = operatorClusterRole(await render()).rules as PolicyRule[];
    const sandbox = await testSandbox();
    const api = sandbox.api;
    // The namespaces first, as the operator's cache must know web's label before web's Secret arrives.
    for (const [name, labels] of [[RELEASE_NAMESPACE, {}], ['web', { tier: 'edge' }]] as const) {
      api.create(api.type('', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    }
    const op = await startTestOperator(sandbox, { clusterHookNamespace: RELEASE_NAMESPACE });
    try {
      const secrets = api.type('', 'secrets');
      const runs = api.type('certhook.io', 'deployhookruns');
      api.create(api.type('certhook.io', 'clusterdeployhooks'), undefined, { apiVersion: 'certhook.io/v1alpha1', kind: 'ClusterDeployHook', metadata: { name: 'audit' }, spec: { namespaceSelector: { matchLabels: { tier: 'edge' } }, job: { command: 'echo audited' } } });
      const finished = (count: number) => eventually(() => {
        const items = api.list(runs, RELEASE_NAMESPACE).items as (KubeObject & { status?: { phase?: string } })[];
        assert.equal(items.filter((r) => FINAL_PHASES.has(r.status?.phase ?? '')).length, count, JSON.stringify(items.map((r) => [r.metadata.name, r.status?.phase])));
        return items;
      }, 30_000);
      api.create(secrets, 'web', tlsSecret('edge-tls', issue('edge.example.com')));
      await finished(1);
      api.create(runs, RELEASE_NAMESPACE, { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHookRun', metadata: { name: 'by-hand' }, spec: { hookRef: { kind: 'ClusterDeployHook', name: 'audit' }, secretRef: { namespace: 'web', name: 'edge-tls' }, event: 'manual' } });
      await finished(2);
      api.delete(secrets, 'web', 'edge-tls');
      const all = await finished(3);
      await op.operator.idle();

      const requests = Object.keys(sandbox.faults.counters.requests);
      for (const expected of ['list clusterdeployhooks', 'watch clusterdeployhooks', 'list namespaces', 'watch namespaces', 'patch clusterdeployhooks/status', 'create deployhookruns', 'create jobs', 'create events']) {
        assert.ok(requests.includes(expected), `the scenario made no "${expected}" request: ${requests.join(', ')}`);
      }
      for (const request of requests) {
        const [verb, resource] = request.split(' ') as [string, string];
        assert.ok(granted(rules, verb, resource), `the operator's "${request}" is not granted by the chart's ClusterRole`);
      }
      // blockOwnerDeletion needs update of the owner's finalizers (OwnerReferencesPermissionEnforcement, which the sandbox does not enforce).
      const planned = all.filter((r) => r.metadata.name !== 'by-hand');
      assert.deepEqual(planned.map((r) => r.metadata.ownerReferences?.filter((o) => o.blockOwnerDeletion).map((o) => o.kind)), [['ClusterDeployHook'], ['ClusterDeployHook']]);
      assert.ok(granted(rules, 'update', 'clusterdeployhooks/finalizers'));
    } finally {
      await op.stop();
      await sandbox.close();
    }
  });
});

describe('the rendered operator with leader election, run against the sandbox', () => {
  const CLI = join(ROOT, 'bin', 'certhook.js');
  let sandbox: TestSandbox;
  let objects: Rendered[];

  before(async () => {
    sandbox = await testSandbox({ workloads: false });
    await installCrds(sandbox);
    sandbox.api.create(sandbox.api.type('', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: RELEASE_NAMESPACE } });
    objects = await render();
  });

  after(() => sandbox.close());

  /** The container's env as the kubelet would set it for `pod`: values, and the downward API's metadata fields. */
  function downwardEnv(container: Record<string, any>, pod: { name: string; namespace: string }): Record<string, string> {
    const fields: Record<string, string> = { 'metadata.name': pod.name, 'metadata.namespace': pod.namespace };
    return Object.fromEntries((container.env as { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]).map((e) => {
      const value = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ''];
      assert.ok(value !== undefined, `env ${e.name} is neither a value nor a metadata field`);
      return [e.name, value];
    }));
  }

  /** The request kinds made so far ("verb resource"). */
  const requestsSoFar = () => Object.keys(sandbox.faults.counters.requests);
  const leaseVerbs = (requests: string[]) => requests.filter((r) => r.endsWith(' leases')).map((r) => r.split(' ')[0]!).sort();

  test('it leads as its pod, with exactly the verbs its Lease Role grants, NOTES\' command names it, and SIGTERM hands the Lease back', async () => {
    const container = operatorContainer(objects);
    const pod = { name: 'certhook-6d5f7b9c4-x2x7q', namespace: RELEASE_NAMESPACE };
    const args = parsedArgs(container.args);
    // The rendered args as they are, but for the kubeconfig the in-cluster config stands for, and no health or metrics port to collide on.
    const child = spawn(process.execPath, [CLI, ...container.args, '--kubeconfig', sandbox.kubeconfigPath, '--health-port=0', '--metrics-port=0'], {
      env: { ...process.env, ...downwardEnv(container, pod) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const leases = sandbox.api.type('coordination.k8s.io', 'leases');
    const lease = () => sandbox.api.get(leases, RELEASE_NAMESPACE, args.leaderElectionId!) as Lease;
    try {
      await eventually(() => {
        const holder = lease().spec?.holderIdentity ?? '';
        assert.match(holder, new RegExp(`^${pod.name}_`), `the Lease's holder is "${holder}"; the operator wrote:\n${output}`);
      }, 30_000);
      // Created, then renewed at least once: every path of a leader's life but the release.
      await eventually(() => assert.ok(sandbox.faults.requests('update', 'leases') >= 1, output), 30_000);
      const whileLeading = requestsSoFar();
      const used = leaseVerbs(whileLeading);
      assert.ok(used.includes('create'), used.join());
      const rules = leaseRole(objects).rules as PolicyRule[];
      assert.deepEqual([...new Set(rules.flatMap((r) => r.verbs))].sort(), used, 'the Lease Role grants exactly the verbs the elector used');
      for (const verb of used) assert.ok(granted(rules, verb, 'leases', verb === 'create' ? undefined : args.leaderElectionId), `"${verb} leases" is not granted`);
      const clusterRules = operatorClusterRole(objects).rules as PolicyRule[];
      for (const request of whileLeading.filter((r) => !r.endsWith(' leases'))) {
        const [verb, resource] = request.split(' ') as [string, string];
        assert.ok(granted(clusterRules, verb, resource), `the operator's "${request}" is not granted by the ClusterRole`);
      }

      const command = (await notes([])).split('\n').find((line) => line.includes('get lease'));
      assert.ok(command);
      // Split as sh would: words of unquoted runs and '…' parts, the quotes removed.
      const words = command.trim().match(/(?:[^\s']+|'[^']*')+/g)!.map((w) => w.replace(/'([^']*)'/g, '$1'));
      assert.equal(words[0], 'kubectl');
      const shown = await sandbox.kubectl(words.slice(1));
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stdout, lease().spec?.holderIdentity);

      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      assert.equal(lease().spec?.holderIdentity, '', 'the Lease is released on SIGTERM');
      // The release (and kubectl's get) used no verb beyond those.
      assert.deepEqual(leaseVerbs(requestsSoFar()), used);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });

  test('the chart renders exactly the timings the LeaderElector accepts', async () => {
    const client = KubeClient.create(await credentialsFromKubeconfig(sandbox.kubeconfig()));
    try {
      const outcomes = new Set<boolean>();
      for (const [lease, renew, retry] of [[15, 10, 2], [15, 15, 2], [10, 12, 2], [1, 0.6, 0.5], [1, 0.61, 0.5], [3, 2, 0.4]] as const) {
        const timings = { leaseDurationSeconds: lease, renewDeadlineSeconds: renew, retryPeriodSeconds: retry };
        const rendered = await helm(templateArgs([], ['--set-json', `operator.leaderElection=${JSON.stringify({ enabled: true, ...timings })}`]));
        let accepted = true;
        try {
          new LeaderElector({ client, log: createLogger('silent'), namespace: RELEASE_NAMESPACE, name: 'certhook-leader', identity: 'check', ...timings, onStartedLeading() {}, onStoppedLeading() {} });
        } catch {
          accepted = false;
        }
        assert.equal(rendered.code === 0, accepted, `${JSON.stringify(timings)}: ${rendered.stderr}`);
        if (!accepted) assert.match(rendered.stderr, /leaseDurationSeconds > renewDeadlineSeconds > 1\.2 × retryPeriodSeconds > 0/);
        outcomes.add(accepted);
      }
      assert.equal(outcomes.size, 2, 'the cases cover both outcomes');
    } finally {
      await client.close();
    }
  });
});
