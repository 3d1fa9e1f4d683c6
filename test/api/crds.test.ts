import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { run } from '@bufbuild/cel';
import { crdManifests } from '../../src/api/crd-manifests.ts';
import { customResourceDefinitions } from '../../src/api/crd.ts';
import type { StructuralSchema } from '../../src/api/structural-schema.ts';
import { crdOf, rootOf, schemaAt, violations } from './crd-schema.ts';

const root = join(import.meta.dirname, '..', '..');
// Both hold the generated files: crds/ for kubectl users, the chart's files/crds/ for its CRD template.
const crdDirs = ['crds', 'helm/certhook/files/crds'];

/** Every node of a schema with its path. */
function* nodes(node: StructuralSchema, path = ''): Generator<[string, StructuralSchema]> {
  yield [path || '<root>', node];
  for (const [name, child] of Object.entries(node.properties ?? {})) yield* nodes(child, `${path}.${name}`);
  if (node.items) yield* nodes(node.items, `${path}[]`);
  if (node.additionalProperties) yield* nodes(node.additionalProperties, `${path}[*]`);
}

describe('committed CRDs', () => {
  for (const dir of crdDirs) {
    for (const { fileName, yaml } of crdManifests()) {
      test(`${dir}/${fileName} is up to date`, () => {
        const committed = readFileSync(join(root, dir, fileName), 'utf8');
        assert.ok(committed === yaml, `${dir}/${fileName} is stale: run \`npm run generate:crds\` and commit the result`);
      });
    }

    test(`${dir}/ holds exactly the generated certhook.io files`, () => {
      const committed = readdirSync(join(root, dir)).filter((name) => name.startsWith('certhook.io_')).sort();
      assert.deepEqual(committed, crdManifests().map((m) => m.fileName).sort(), `${dir}/ differs from the generated set: run \`npm run generate:crds\``);
    });
  }

  test('the YAML says it is generated and reads back as the CRD object', () => {
    const crds = customResourceDefinitions();
    for (const [index, { yaml }] of crdManifests().entries()) {
      assert.match(yaml, /^# Generated .*npm run generate:crds/);
      assert.deepEqual(load(yaml), crds[index]);
    }
  });
});

describe('structural schemas', () => {
  for (const crd of customResourceDefinitions()) {
    const kind = crd.spec.names.kind;
    const root = rootOf(kind);

    test(`${kind}: every node has a type and every property a description`, () => {
      for (const [path, node] of nodes(root)) {
        if (node['x-kubernetes-int-or-string']) {
          // The one kind of node Kubernetes wants without a type.
          assert.equal(node.type, undefined, `${path}: an int-or-string node has no type`);
          continue;
        }
        assert.ok(['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(node.type ?? ''), `${path} has no type`);
        if (node.type === 'integer') assert.match(node.format ?? '', /^int(32|64)$/, `${path} integer without format`);
      }
      const described = (node: StructuralSchema, path: string): void => {
        for (const [name, child] of Object.entries(node.properties ?? {})) {
          assert.ok(child.description && child.description.length > 10, `${path}.${name} has no description`);
          described(child, `${path}.${name}`);
          if (child.items) described(child.items, `${path}.${name}[]`);
        }
      };
      described(root, '');
    });

    test(`${kind}: nothing Kubernetes rejects in a structural schema`, () => {
      const text = JSON.stringify(root);
      for (const keyword of ['$ref', '$defs', '$schema', 'anyOf', 'oneOf', 'allOf', 'const', 'propertyNames', 'nullable']) {
        assert.ok(!text.includes(`"${keyword}"`), `${kind} schema contains ${keyword}`);
      }
      for (const [path, node] of nodes(root)) {
        assert.ok(!(node.properties && node.additionalProperties !== undefined), `${path}: properties with additionalProperties`);
        if (node['x-kubernetes-list-type'] === 'map') {
          for (const key of node['x-kubernetes-list-map-keys'] ?? []) {
            assert.ok(node.items?.required?.includes(key), `${path}: list map key ${key} must be required`);
          }
        }
      }
    });

    test(`${kind}: every pattern is valid RE2 (what the API server compiles)`, () => {
      for (const [path, node] of nodes(root)) {
        if (node.pattern === undefined) continue;
        assert.equal(typeof run(`'x'.matches(p)`, { p: node.pattern }), 'boolean', `${path}: pattern does not compile as RE2`);
      }
    });

    test(`${kind}: root, names, scope, version and status subresource`, () => {
      assert.equal(crd.metadata.name, `${crd.spec.names.plural}.certhook.io`);
      assert.equal(crd.spec.group, 'certhook.io');
      assert.equal(crd.spec.scope, kind === 'ClusterDeployHook' ? 'Cluster' : 'Namespaced');
      assert.deepEqual(crd.spec.names.categories, ['certhook']);
      assert.equal(crd.spec.versions.length, 1);
      const [version] = crd.spec.versions;
      assert.equal(version!.name, 'v1alpha1');
      assert.ok(version!.served && version!.storage);
      assert.deepEqual(version!.subresources, { status: {} });
      assert.deepEqual(Object.keys(root.properties!), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      assert.deepEqual(root.required, ['spec']);
    });
  }

  test('names and short names', () => {
    assert.deepEqual(crdOf('DeployHook').spec.names, {
      kind: 'DeployHook',
      listKind: 'DeployHookList',
      plural: 'deployhooks',
      singular: 'deployhook',
      shortNames: ['dh'],
      categories: ['certhook'],
    });
    assert.deepEqual(crdOf('DeployHookRun').spec.names.shortNames, ['dhr']);
    assert.equal(crdOf('DeployHookRun').spec.names.listKind, 'DeployHookRunList');
  });

  test('DeployHook names are label values (at most 63 characters)', () => {
    assert.equal(schemaAt('DeployHook', 'metadata.name').maxLength, 63);
  });
});

describe('DeployHook schema', () => {
  test('defaults and bounds', () => {
    const spec = schemaAt('DeployHook', 'spec');
    assert.equal(spec.required, undefined, 'job or webhook, which a CEL rule requires');
    assert.deepEqual(spec['x-kubernetes-validations'], [{ rule: 'has(self.job) != has(self.webhook)', message: 'set exactly one of job or webhook' }]);
    assert.equal(schemaAt('DeployHook', 'spec.enabled').default, true);
    assert.deepEqual(schemaAt('DeployHook', 'spec.onEvents').default, ['created', 'renewed', 'revoked']);
    assert.equal(schemaAt('DeployHook', 'spec.onEvents').minItems, 1);
    assert.equal(schemaAt('DeployHook', 'spec.onEvents')['x-kubernetes-list-type'], 'set');
    assert.deepEqual(schemaAt('DeployHook', 'spec.onEvents[]').enum, ['created', 'renewed', 'revoked', 'expiring']);
    assert.equal(schemaAt('DeployHook', 'spec.onEvents').maxItems, 4);
    assert.equal(schemaAt('DeployHook', 'spec.expiringWithin').default, '336h');
    assert.deepEqual(pick(schemaAt('DeployHook', 'spec.timeoutSeconds')), { type: 'integer', default: 30, minimum: 1, maximum: 300 });
    assert.deepEqual(pick(schemaAt('DeployHook', 'spec.historyLimit')), { type: 'integer', default: 10, minimum: 1, maximum: 100 });
    assert.equal(schemaAt('DeployHook', 'spec.dryRun').default, false);
    assert.deepEqual(schemaAt('DeployHook', 'spec.job').required, ['command']);
    assert.equal(schemaAt('DeployHook', 'spec.job.command').maxLength, 1024);
    assert.equal(schemaAt('DeployHook', 'spec.job').properties?.webhook, undefined);
    assert.deepEqual(schemaAt('DeployHook', 'spec.webhook').required, ['url']);
    assert.deepEqual(pick(schemaAt('DeployHook', 'spec.webhook.retries')), { type: 'integer', default: 3, minimum: 0, maximum: 10 });
    assert.deepEqual(pick(schemaAt('DeployHook', 'spec.webhook.concurrency')), { type: 'integer', default: 4, minimum: 1, maximum: 64 });
    assert.equal(schemaAt('DeployHook', 'spec.webhook.includePrivateKey').default, false);
    const body = schemaAt('DeployHook', 'spec.webhook.body');
    assert.equal(body.type, 'object');
    assert.equal(body['x-kubernetes-preserve-unknown-fields'], true, 'the body is kept as written');
    assert.equal(body.additionalProperties, undefined);
  });

  test("spec.job is bounded: lists have maxItems, maps maxProperties, strings maxLength (what CEL's cost estimate needs)", () => {
    for (const [path, node] of nodes(schemaAt('DeployHook', 'spec.job'), 'spec.job')) {
      // metav1.LabelSelector's matchLabels (in pod affinity terms) is as Kubernetes has it; no rule reads it.
      if (/\.matchLabels(\[\*\])?$/.test(path)) continue;
      if (node.type === 'array') assert.ok(node.maxItems !== undefined, `${path} has no maxItems`);
      if (node.type === 'object' && node.additionalProperties) assert.ok(node.maxProperties !== undefined, `${path} has no maxProperties`);
      if (node.type === 'string' || node['x-kubernetes-int-or-string']) assert.ok(node.maxLength !== undefined || node.enum !== undefined, `${path} has no maxLength`);
    }
  });

  test('resource quantities are int-or-string, non-negative, in the quantity syntax', () => {
    for (const list of ['requests', 'limits']) {
      assert.deepEqual(Object.keys(schemaAt('DeployHook', `spec.job.resources.${list}`).properties!), ['cpu', 'memory', 'ephemeral-storage']);
    }
    const cpu = schemaAt('DeployHook', 'spec.job.resources.limits.cpu');
    assert.equal(cpu['x-kubernetes-int-or-string'], true);
    assert.equal(cpu.type, undefined);
    assert.equal(cpu.minimum, 0);
    for (const ok of ['100m', '0.5', '1', '64Mi', '1Gi', '1G', '1e3', '.5', '2k', 4n]) assert.deepEqual(violations(cpu, ok), [], String(ok));
    for (const bad of ['-1', 'lots', '1 Gi', '1gi', '', 'Mi', '64MB']) assert.match(violations(cpu, bad).join(), /a quantity is a number with an optional suffix/, bad);
  });

  test('the domain rule takes exact names and one-label wildcards only', () => {
    const domain = schemaAt('DeployHook', 'spec.domains[]');
    for (const ok of ['api.example.com', '*.example.com', 'localhost', 'xn--bcher-kva.example', 'a-b.c0']) assert.deepEqual(violations(domain, ok), [], ok);
    for (const bad of ['*', '*.*.example.com', 'a.*.example.com', 'API.example.com', '-a.example.com', 'a..b', 'a.example.com.', 'https://a.example.com']) {
      assert.match(violations(domain, bad).join(), /a domain is a lowercase DNS name/, bad);
    }
  });

  test('status: conditions are a map keyed by type, history is bounded', () => {
    const conditions = schemaAt('DeployHook', 'status.conditions');
    assert.equal(conditions['x-kubernetes-list-type'], 'map');
    assert.deepEqual(conditions['x-kubernetes-list-map-keys'], ['type']);
    assert.deepEqual(schemaAt('DeployHook', 'status.conditions[].status').enum, ['True', 'False', 'Unknown']);
    assert.equal(schemaAt('DeployHook', 'status.history').maxItems, 20);
    assert.deepEqual(schemaAt('DeployHook', 'status.history[]').properties, schemaAt('DeployHook', 'status.lastRun').properties);
    assert.equal(schemaAt('DeployHook', 'status.lastRun.completionTime').format, 'date-time');
    assert.deepEqual(Object.keys(schemaAt('DeployHook', 'status.totals').properties!), ['succeeded', 'failed', 'skipped']);
  });

  test('printer columns', () => {
    assert.deepEqual(columns('DeployHook'), [
      ['Ready', 'string', '.status.conditions[?(@.type=="Ready")].status', 0],
      ['Type', 'string', '.status.type', 0],
      ['Enabled', 'boolean', '.spec.enabled', 0],
      ['Events', 'string', '.status.events', 0],
      ['Last Result', 'string', '.status.lastRun.phase', 0],
      ['Last Run', 'date', '.status.lastRun.completionTime', 0],
      ['Age', 'date', '.metadata.creationTimestamp', 0],
      // -o wide
      ['Domains', 'string', '.status.domains', 1],
      ['Selector', 'string', '.status.selector', 1],
    ]);
  });
});

describe('DeployHookRun schema', () => {
  test('spec is immutable and the certificate is identified by its fingerprint', () => {
    assert.deepEqual(schemaAt('DeployHookRun', 'spec')['x-kubernetes-validations']![0], { rule: 'self == oldSelf', message: 'spec is immutable' });
    // A manual run may leave its Secret to the operator.
    assert.deepEqual(schemaAt('DeployHookRun', 'spec').required, ['hookRef', 'event']);
    assert.deepEqual(schemaAt('DeployHookRun', 'spec')['x-kubernetes-validations']![2], { rule: "self.event == 'manual' || has(self.secretRef)", message: 'secretRef is required unless event is manual' });
    assert.deepEqual(schemaAt('DeployHookRun', 'spec.event').enum, ['created', 'renewed', 'revoked', 'expiring', 'manual']);
    assert.equal(schemaAt('DeployHookRun', 'spec.certificate.fingerprint').pattern, '^[0-9a-f]{64}$');
  });

  test('status', () => {
    assert.deepEqual(schemaAt('DeployHookRun', 'status.phase').enum, ['Pending', 'Waiting', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Unknown']);
    assert.equal(schemaAt('DeployHookRun', 'status.output').maxLength, 4096);
    assert.equal(schemaAt('DeployHookRun', 'status.durationSeconds').type, 'number');
    assert.deepEqual(pick(schemaAt('DeployHookRun', 'status.exitCode')), { type: 'integer' });
    assert.equal(schemaAt('DeployHookRun', 'status.exitCode').format, 'int32');
  });

  test('printer columns', () => {
    assert.deepEqual(columns('DeployHookRun').map(([name]) => name), ['Hook', 'Domain', 'Event', 'Phase', 'Reason', 'Exit Code', 'Duration', 'Age', 'Hook Kind', 'Secret Namespace']);
  });
});

function pick(node: StructuralSchema) {
  const { type, default: fallback, minimum, maximum } = node;
  return Object.fromEntries(Object.entries({ type, default: fallback, minimum, maximum }).filter(([, v]) => v !== undefined));
}

function columns(kind: string) {
  return crdOf(kind).spec.versions[0]!.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath, c.priority ?? 0]);
}
