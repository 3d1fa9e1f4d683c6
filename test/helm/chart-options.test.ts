// The chart's options beyond the operator's flags (chart.test.ts has those): every value set at
// once (every-option.yaml) and each feature on its own — PodDisruptionBudget, anti-affinity presets
// and spreading, extra args/env/volumes, probes, metrics with its Service, monitors and alerts, the
// NetworkPolicy, people's aggregated ClusterRoles. Every rendering is checked against the
// Kubernetes schemas (chart-render.ts), and applied with kubectl to the sandbox for the kinds it serves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { parse } from 'yaml';
import { celMethod, CelScalar, isCelError, run as runCel, type CelInput, type CelMap } from '@bufbuild/cel';
import { OPERATOR_OPTIONS } from '../../src/cli/operator.ts';
import { parseOptions } from '../../src/cli/usage.ts';
import { valueRows, type JsonSchema } from '../../scripts/chart-docs.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { CHART, chartTool, kinds, ofComponent, only, operatorContainer, parseManifests, podSpec, RELEASE_NAMESPACE, ROOT, templateArgs, type ChartTool } from './chart-render.ts';
import type { Rendered } from './kube-schema.ts';
import { restrictedViolations } from './pod-security.ts';

const EVERY_OPTION = join(import.meta.dirname, 'every-option.yaml');
const EVERY = ['-f', EVERY_OPTION];

let chart: ChartTool;
let everything: Rendered[];
let defaults: Rendered[];

before(async () => {
  chart = await chartTool();
  [everything, defaults] = await Promise.all([chart.render([], EVERY), chart.render()]);
});

after(() => chart.close());

const selectorLabels = (objects: Rendered[]) => only(objects, 'Deployment').spec.selector.matchLabels as Record<string, string>;
const podLabels = (objects: Rendered[]) => only(objects, 'Deployment').spec.template.metadata.labels as Record<string, string>;
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const byName = (objects: Rendered[], kind: string, name: string) => only(objects.filter((o) => o.metadata.name === name), kind);

describe('every option at once (every-option.yaml)', () => {
  test('sets every value the schema declares', async () => {
    const schema = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as JsonSchema;
    const rows = valueRows(schema, await readFile(join(CHART, 'values.yaml'), 'utf8'));
    const values = parse(await readFile(EVERY_OPTION, 'utf8')) as Record<string, unknown>;
    const has = (path: string) => path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values) !== undefined;
    assert.deepEqual(rows.map((r) => r.key).filter((key) => !has(key)), []);
  });

  test('lints with --strict', async () => {
    const result = await chart.helm(['lint', '--strict', CHART, ...EVERY]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test('renders every kind, each object with its component label, and no two objects alike', () => {
    assert.deepEqual(kinds(everything), [
      'ClusterRole', 'ClusterRole', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget',
      'PodMonitor', 'PrometheusRule', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount', 'ServiceMonitor',
      'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
    ]);
    for (const object of everything) assert.match(object.metadata.labels?.['app.kubernetes.io/component'] ?? '', /^(operator|metrics|rbac|crds)$/, object.kind);
    const keys = everything.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  test('the operator\'s args, with extraArgs after the chart\'s, are flags the operator accepts', () => {
    const args = operatorContainer(everything).args as string[];
    assert.equal(args.at(-1), '--kubeconfig=/etc/certhook/kubeconfig');
    assert.ok(args.includes('--log-format=text'));
    assert.ok(args.includes('--allowed-service-accounts=hook-runner,web/deployer'));
    assert.ok(args.includes('--metrics-port=9090'));
    assert.ok(parseOptions(args.slice(1), OPERATOR_OPTIONS, ''));
  });

  test('the pod: image pinned by digest, extra env, volumes and mounts, labels, annotations, priority, probes, and Pod Security "restricted"', () => {
    const container = operatorContainer(everything);
    const spec = podSpec(everything);
    assert.equal(container.image, 'registry.example.com/mirror/certhook:0.1.0-rc.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    assert.deepEqual(container.env.slice(-2).map((e: { name: string }) => e.name), ['HTTPS_PROXY', 'NO_PROXY']);
    assert.deepEqual(spec.volumes, [{ name: 'kubeconfig', secret: { secretName: 'certhook-kubeconfig' } }]);
    assert.deepEqual(container.volumeMounts, [{ name: 'kubeconfig', mountPath: '/etc/certhook', readOnly: true }]);
    const template = only(everything, 'Deployment').spec.template;
    assert.equal(template.metadata.labels['example.com/cost-centre'], 'tls');
    assert.equal(template.metadata.annotations['example.com/team'], 'platform');
    assert.equal(spec.priorityClassName, 'system-cluster-critical');
    assert.deepEqual(container.livenessProbe, { httpGet: { path: '/healthz', port: 'health' }, initialDelaySeconds: 5, periodSeconds: 30, timeoutSeconds: 3, successThreshold: 1, failureThreshold: 5 });
    assert.deepEqual(container.readinessProbe, { httpGet: { path: '/readyz', port: 'health' }, initialDelaySeconds: 2, periodSeconds: 5, timeoutSeconds: 2, successThreshold: 2, failureThreshold: 6 });
    assert.deepEqual(restrictedViolations(spec), []);
  });

  test('affinity replaces the anti-affinity preset; a spread constraint without a labelSelector spreads the release\'s pods', () => {
    const spec = podSpec(everything);
    assert.deepEqual(Object.keys(spec.affinity), ['nodeAffinity']);
    const [zones, hosts] = spec.topologySpreadConstraints;
    assert.deepEqual(zones.labelSelector, { matchLabels: selectorLabels(everything) });
    assert.deepEqual(hosts.labelSelector, { matchLabels: { 'app.kubernetes.io/instance': 'certhook' } });
  });
});

describe('PodDisruptionBudget', () => {
  test('by default, over the two replicas: one stays available, and it selects the operator\'s pods', () => {
    const budget = only(defaults, 'PodDisruptionBudget');
    assert.deepEqual(budget.spec.minAvailable, 1);
    assert.equal(budget.spec.maxUnavailable, undefined);
    assert.deepEqual(budget.spec.selector.matchLabels, selectorLabels(defaults));
  });

  test('maxUnavailable replaces minAvailable', () => {
    assert.deepEqual(only(everything, 'PodDisruptionBudget').spec, { maxUnavailable: 1, selector: { matchLabels: selectorLabels(everything) } });
  });

  test('none over a single replica (it would only block drains), nor when disabled', async () => {
    assert.deepEqual((await chart.render(['replicaCount=1'])).filter((o) => o.kind === 'PodDisruptionBudget'), []);
    assert.deepEqual((await chart.render(['podDisruptionBudget.enabled=false'])).filter((o) => o.kind === 'PodDisruptionBudget'), []);
  });
});

describe('podAntiAffinity presets', () => {
  const term = { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'certhook', 'app.kubernetes.io/instance': 'certhook' } } };

  test('soft by default: replicas preferably on different nodes', () => {
    assert.deepEqual(podSpec(defaults).affinity, { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } });
    assert.deepEqual(term.labelSelector.matchLabels, selectorLabels(defaults));
  });

  test('hard requires it, on the topologyKey given, and rolls pods one at a time without a surge pod (which may find no node); none sets no affinity', async () => {
    const objects = await chart.render(['podAntiAffinity.preset=hard', 'podAntiAffinity.topologyKey=topology.kubernetes.io/zone']);
    assert.deepEqual(podSpec(objects).affinity, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term, topologyKey: 'topology.kubernetes.io/zone' }] } });
    assert.deepEqual(only(objects, 'Deployment').spec.strategy.rollingUpdate, { maxSurge: 0, maxUnavailable: 1 });
    // Where affinity replaces the preset, the surge pod is back.
    assert.deepEqual(only(everything, 'Deployment').spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    assert.equal(podSpec(await chart.render(['podAntiAffinity.preset=none'])).affinity, undefined);
    assert.match(await chart.renderError(['podAntiAffinity.preset=always']), /preset/);
  });
});

describe('metrics', () => {
  test('on by default: --metrics-port, a container port named metrics and a Service in front of it, apart from health', () => {
    const container = operatorContainer(defaults);
    assert.ok(container.args.includes('--metrics-port=8080'));
    assert.deepEqual(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]), [['health', 8081], ['metrics', 8080]]);
    const service = only(defaults, 'Service');
    assert.equal(service.metadata.labels!['app.kubernetes.io/component'], 'metrics');
    assert.deepEqual(service.spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
    assert.ok(selects(service.spec.selector, podLabels(defaults)));
    assert.deepEqual(defaults.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/')), [], 'monitors and rules are opt-in');
  });

  test('off: --metrics-port=0 and no port, Service, monitor or rule', async () => {
    const off = await chart.render(['metrics.enabled=false', 'metrics.serviceMonitor.enabled=true', 'metrics.prometheusRule.enabled=true']);
    const container = operatorContainer(off);
    assert.ok(container.args.includes('--metrics-port=0'));
    assert.deepEqual(container.ports.map((p: { name: string }) => p.name), ['health']);
    assert.deepEqual(ofComponent(off, 'metrics'), []);
  });

  test('metrics.port equal to operator.healthPort is refused, saying why', async () => {
    assert.match(await chart.renderError(['metrics.port=8081']), /metrics\.port and operator\.healthPort are both 8081/);
  });

  test('the ServiceMonitor scrapes the metrics Service\'s port, the PodMonitor the pods\' port', () => {
    const service = only(everything, 'Service');
    const serviceMonitor = only(everything, 'ServiceMonitor');
    assert.ok(selects(serviceMonitor.spec.selector.matchLabels, service.metadata.labels!));
    assert.deepEqual(serviceMonitor.spec.namespaceSelector, { matchNames: [RELEASE_NAMESPACE] });
    assert.deepEqual(serviceMonitor.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s', honorLabels: false }]);
    assert.deepEqual(service.spec.ports.map((p: { name: string }) => p.name), ['metrics']);
    assert.equal(serviceMonitor.metadata.labels!.release, 'kube-prometheus-stack');
    const podMonitor = only(everything, 'PodMonitor');
    assert.ok(selects(podMonitor.spec.selector.matchLabels, podLabels(everything)));
    assert.deepEqual(podMonitor.spec.podMetricsEndpoints, [{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '5s', honorLabels: false }]);
    assert.ok(operatorContainer(everything).ports.some((p: { name: string; containerPort: number }) => p.name === 'metrics' && p.containerPort === 9090));
  });

  test('the PrometheusRule holds the README\'s example alerts, rule for rule, with Prometheus\' own templates left for it', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /Example alerts[^]*?```yaml\n([^]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the README\'s Metrics section has an example PrometheusRule');
    const documented = parse(block) as { spec: { groups: { rules: unknown[] }[] } };
    const rendered = only(everything, 'PrometheusRule');
    assert.deepEqual(rendered.spec.groups, documented.spec.groups);
    const alerts = documented.spec.groups.flatMap((g) => g.rules) as { alert: string; annotations: Record<string, string> }[];
    assert.deepEqual(alerts.map((r) => r.alert), ['CerthookRunFailed', 'CerthookCertificateExpiringSoon', 'CerthookHookNotReady']);
    assert.match(alerts[1]!.annotations.summary!, /\{\{ \$labels\.namespace \}\}\/\{\{ \$labels\.secret \}\}/);
  });
});

describe('NetworkPolicy', () => {
  test('off by default', () => {
    assert.deepEqual(defaults.filter((o) => o.kind === 'NetworkPolicy'), []);
  });

  test('selects the operator\'s pods: ingress to health and metrics only; egress to the API server, DNS, the webhook CIDRs and extraEgress', () => {
    const policy = only(everything, 'NetworkPolicy');
    assert.deepEqual(policy.spec.podSelector.matchLabels, selectorLabels(everything));
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(policy.spec.ingress, [{
      ports: [{ port: 'health', protocol: 'TCP' }, { port: 'metrics', protocol: 'TCP' }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    }]);
    const [apiServer, dns, webhooks, extra] = policy.spec.egress;
    assert.deepEqual(apiServer, { ports: [{ port: 443, protocol: 'TCP' }] });
    assert.deepEqual(dns, { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] });
    assert.deepEqual(webhooks, { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }, { ipBlock: { cidr: 'fd00:10::/64' } }] });
    assert.deepEqual(extra.ports, [{ port: 443, protocol: 'TCP' }]);
    assert.equal(policy.spec.egress.length, 4);
  });

  test('by default the API server is reached on 443 and 6443, and anyone may probe and scrape', async () => {
    const policy = only(await chart.render(['networkPolicy.enabled=true']), 'NetworkPolicy');
    assert.deepEqual(policy.spec.egress[0], { ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] });
    assert.equal(policy.spec.ingress[0].from, undefined);
    assert.equal(policy.spec.egress.length, 2, 'no webhook CIDRs, no extra rules');
  });
});

describe('people\'s ClusterRoles', () => {
  const RESOURCES = ['deployhooks', 'deployhookruns'];
  const aggregated = (objects: Rendered[]) => objects.filter((o) => o.kind === 'ClusterRole' && Object.keys(o.metadata.labels ?? {}).some((l) => /^rbac\.authorization\.k8s\.io\/aggregate-to-(view|edit|admin)$/.test(l)));

  test('certhook-view and certhook-edit aggregate into view, edit and admin, over the namespaced kinds only', () => {
    const view = byName(defaults, 'ClusterRole', 'certhook-view');
    const edit = byName(defaults, 'ClusterRole', 'certhook-edit');
    const aggregation = (role: Rendered) => Object.keys(role.metadata.labels!).filter((l) => l.startsWith('rbac.authorization.k8s.io/aggregate-to-')).sort();
    assert.deepEqual(aggregation(view), ['admin', 'edit', 'view'].map((r) => `rbac.authorization.k8s.io/aggregate-to-${r}`));
    assert.deepEqual(aggregation(edit), ['admin', 'edit'].map((r) => `rbac.authorization.k8s.io/aggregate-to-${r}`));
    assert.deepEqual(view.rules, [{ apiGroups: ['certhook.io'], resources: RESOURCES, verbs: ['get', 'list', 'watch'] }]);
    assert.deepEqual(edit.rules, [{ apiGroups: ['certhook.io'], resources: RESOURCES, verbs: ['create', 'update', 'patch', 'delete'] }]);
  });

  test('no role aggregated into view, edit or admin names ClusterDeployHooks (they need cluster-admin), nor any certhook resource but namespaced ones', () => {
    for (const objects of [defaults, everything]) {
      const roles = aggregated(objects);
      assert.deepEqual(roles.map((r) => r.metadata.name).sort(), objects === defaults ? ['certhook-edit', 'certhook-view'] : ['edge-hooks-edit', 'edge-hooks-view']);
      const scopes = new Map(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((crd) => {
        const spec = crd.spec as { group: string; scope: string; names: { plural: string } };
        return [`${spec.group}/${spec.names.plural}`, spec.scope];
      }));
      assert.equal(scopes.get('certhook.io/clusterdeployhooks'), 'Cluster', 'the check below is not vacuous');
      for (const role of roles) {
        for (const rule of role.rules as { apiGroups: string[]; resources: string[]; resourceNames?: string[] }[]) {
          assert.deepEqual(rule.apiGroups, ['certhook.io'], `${role.metadata.name}: ${JSON.stringify(rule)}`);
          assert.equal(rule.resourceNames, undefined);
          for (const resource of rule.resources) {
            assert.doesNotMatch(resource, /clusterdeployhooks|\*/, `${role.metadata.name} grants ${resource}`);
            // What the roles grant, a RoleBinding grants in one namespace.
            assert.equal(scopes.get(`certhook.io/${resource.split('/')[0]}`), 'Namespaced', `${role.metadata.name} grants ${resource}`);
          }
        }
      }
    }
  });

  test('rbac.aggregateClusterRoles=false leaves them out', async () => {
    assert.deepEqual(ofComponent(await chart.render(['rbac.aggregateClusterRoles=false']), 'rbac'), []);
  });
});

describe('helm template | kubectl apply against the sandbox', () => {
  let sandbox: TestSandbox;

  before(async () => {
    sandbox = await testSandbox({ workloads: false });
    for (const name of [RELEASE_NAMESPACE, 'web']) sandbox.api.create(sandbox.api.type('', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  });

  after(() => sandbox.close());

  /** The Prometheus Operator's kinds are the only ones the sandbox does not serve. */
  const served = (objects: Rendered[]) => objects.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'));

  for (const [name, flags] of [['the default values', []], ['every option', EVERY]] as const) {
    test(`with ${name}: every object is created and stored as rendered, and a second apply changes nothing`, async () => {
      const objects = served(await chart.render([], [...flags]));
      const manifest = objects.map((o) => dump(o)).join('---\n');
      const applied = await sandbox.kubectl(['apply', '-f', '-'], manifest);
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(applied.stdout.trim().split('\n').length, objects.length, applied.stdout);
      assert.ok(applied.stdout.split('\n').filter(Boolean).every((line) => / (created|configured)$/.test(line)), applied.stdout);
      // kubectl re-sends a PodDisruptionBudget's selector on every apply (its patch strategy is
      // replace), so that one reads "configured" on any API server.
      const again = await sandbox.kubectl(['apply', '-f', '-'], manifest);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.stdout.split('\n').filter((line) => line && !/ unchanged$/.test(line)), objects.some((o) => o.kind === 'PodDisruptionBudget') ? [`poddisruptionbudget.policy/${only(objects, 'PodDisruptionBudget').metadata.name} configured`] : []);
      const got = await sandbox.kubectl(['get', '-f', '-', '-o', 'json'], manifest);
      assert.equal(got.code, 0, got.stderr);
      const stored = (JSON.parse(got.stdout) as { items: Rendered[] }).items;
      assert.deepEqual(stored.map((o) => `${o.kind}/${o.metadata.name}`), objects.map((o) => `${o.kind}/${o.metadata.name}`));
      assert.deepEqual(only(stored, 'Deployment').spec, only(objects, 'Deployment').spec, 'the Deployment is stored as rendered');
    });
  }
});

describe('helm package (what the release pushes)', () => {
  test('packs the chart so that it renders exactly as the directory does, CRDs included', async () => {
    const out = await mkdtemp(join(tmpdir(), 'certhook-package-'));
    try {
      const packed = await chart.helm(['package', CHART, '--destination', out]);
      assert.equal(packed.code, 0, packed.stderr);
      const [archive] = await readdir(out);
      assert.equal(archive, `certhook-${(parse(await readFile(join(CHART, 'Chart.yaml'), 'utf8')) as { version: string }).version}.tgz`);
      const rendered = await chart.helm(templateArgs([], EVERY, join(out, archive)));
      assert.equal(rendered.code, 0, rendered.stderr);
      assert.deepEqual(parseManifests(rendered.stdout), everything);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('values.schema.json refuses what the chart would mis-render', () => {
  test('unknown keys and wrong types in the new options, with the value named', async () => {
    for (const [sets, message] of [
      [['podDisruptionBudget.minAvailable=half'], /minAvailable/],
      [['metrics.serviceMonitor.interval=often'], /interval/],
      [['metrics.podMonitr.enabled=true'], /podMonitr/],
      [['networkPolicy.apiServerPorts={0}'], /apiServerPorts/],
      [['image.digest=latest'], /digest/],
      [['crds.keep=maybe'], /keep/],
    ] as const) {
      assert.match(await chart.renderError([...sets]), message, sets.join(' '));
    }
  });
});

describe('the admission policy for hooks\' ServiceAccounts', () => {
  test('off by default; on, a hook may name a ServiceAccount only when its writer may create Jobs where its Jobs run', () => {
    assert.equal(defaults.some((o) => o.kind === 'ValidatingAdmissionPolicy'), false);
    const policy = only(everything, 'ValidatingAdmissionPolicy');
    assert.equal(policy.spec.failurePolicy, 'Fail');
    assert.deepEqual(policy.spec.matchConstraints.resourceRules, [{ apiGroups: ['certhook.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['deployhooks', 'clusterdeployhooks'] }]);
    // A ClusterDeployHook's Jobs run in the cluster hook namespace: the release's, here (every-option.yaml watches one namespace, so sets none).
    assert.deepEqual(policy.spec.variables, [{ name: 'jobNamespace', expression: `request.resource.resource == 'clusterdeployhooks' ? '${RELEASE_NAMESPACE}' : object.metadata.namespace` }]);
    const [validation] = policy.spec.validations;
    assert.equal(validation.expression, "!has(object.spec.job) || !has(object.spec.job.serviceAccountName) || authorizer.group('batch').resource('jobs').namespace(variables.jobNamespace).check('create').allowed()");
    assert.equal(validation.reason, 'Forbidden');
    const binding = only(everything, 'ValidatingAdmissionPolicyBinding');
    assert.equal(binding.spec.policyName, policy.metadata.name);
    assert.deepEqual(binding.spec.validationActions, ['Deny']);
  });

  test('evaluated as the API server would, with an authorizer that allows creating Jobs in the requester\'s namespaces only', async () => {
    const policyFor = async (sets: string[]) => only(await chart.render(['admissionPolicy.enabled=true', ...sets]), 'ValidatingAdmissionPolicy');
    /** The policy's verdict on a request: undefined when admitted, else its message. */
    function admit(policy: Rendered & Record<string, any>, resource: 'deployhooks' | 'clusterdeployhooks', object: Record<string, any>, mayCreateJobsIn: string[]): string | undefined {
      const may = new Set(mayCreateJobsIn);
      const withKey = (target: unknown, key: string, value: string) => ({ ...Object.fromEntries((target as CelMap).entries() as Iterable<[string, string]>), [key]: value });
      // Kubernetes' authorizer library, just as far as the policy uses it: group, resource, namespace, check, allowed.
      const funcs = [
        ...(['group', 'resource', 'namespace', 'check'] as const).map((name) => celMethod(name, CelScalar.DYN, [CelScalar.STRING], CelScalar.DYN, function (value) { return withKey(this, name, value); })),
        celMethod('allowed', CelScalar.DYN, [], CelScalar.BOOL, function () {
          const request = this as CelMap;
          return request.get('group') === 'batch' && request.get('resource') === 'jobs' && request.get('check') === 'create' && may.has(String(request.get('namespace')));
        }),
      ];
      const request = { resource: { group: 'certhook.io', version: 'v1alpha1', resource } };
      const evaluate = (expression: string, variables: Record<string, CelInput>) => {
        const value = runCel(expression, { object, request, authorizer: {}, variables }, { funcs });
        assert.ok(!isCelError(value), `${expression}: ${isCelError(value) ? value.message : ''}`);
        return value;
      };
      const variables = Object.fromEntries((policy.spec.variables as { name: string; expression: string }[]).map((v) => [v.name, evaluate(v.expression, {}) as CelInput]));
      const [validation] = policy.spec.validations;
      return evaluate(validation.expression, variables) === true ? undefined : String(evaluate(validation.messageExpression, variables));
    }
    const hook = (kind: string, namespace: string | undefined, serviceAccountName?: string) => ({
      apiVersion: 'certhook.io/v1alpha1', kind, metadata: { name: 'reload', ...(namespace ? { namespace } : {}) },
      spec: { job: { command: 'true', ...(serviceAccountName ? { serviceAccountName } : {}) } },
    });

    const policy = await policyFor([]);
    // A DeployHook: Jobs in its own namespace.
    assert.equal(admit(policy, 'deployhooks', hook('DeployHook', 'web'), []), undefined, 'no ServiceAccount: anyone');
    assert.equal(admit(policy, 'deployhooks', hook('DeployHook', 'web', 'deployer'), ['web']), undefined);
    assert.equal(admit(policy, 'deployhooks', hook('DeployHook', 'web', 'deployer'), [RELEASE_NAMESPACE]),
      "spec.job.serviceAccountName: only who may create Jobs in namespace web may make a DeployHook run as a ServiceAccount (deployer); leave it out to run without an API token");
    // A ClusterDeployHook: Jobs in the cluster hook namespace, whatever namespaces it selects.
    assert.equal(admit(policy, 'clusterdeployhooks', hook('ClusterDeployHook', undefined), []), undefined, 'no ServiceAccount: anyone');
    assert.equal(admit(policy, 'clusterdeployhooks', hook('ClusterDeployHook', undefined, 'auditor'), [RELEASE_NAMESPACE]), undefined);
    assert.equal(admit(policy, 'clusterdeployhooks', hook('ClusterDeployHook', undefined, 'auditor'), ['web']),
      `spec.job.serviceAccountName: only who may create Jobs in namespace ${RELEASE_NAMESPACE} (where ClusterDeployHooks' Jobs run) may make a ClusterDeployHook run as a ServiceAccount (auditor); leave it out to run without an API token`);
    // operator.clusterHookNamespace moves them, and the check with them.
    const moved = await policyFor(['operator.clusterHookNamespace=certhook-hooks']);
    assert.equal(admit(moved, 'clusterdeployhooks', hook('ClusterDeployHook', undefined, 'auditor'), ['certhook-hooks']), undefined);
    assert.match(admit(moved, 'clusterdeployhooks', hook('ClusterDeployHook', undefined, 'auditor'), [RELEASE_NAMESPACE]) ?? '', /^spec\.job\.serviceAccountName: only who may create Jobs in namespace certhook-hooks \(where ClusterDeployHooks' Jobs run\)/);
    assert.equal(admit(moved, 'deployhooks', hook('DeployHook', 'web', 'deployer'), ['web']), undefined);
  });
});
