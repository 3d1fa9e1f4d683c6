// helm install, upgrade and uninstall against the sandbox: an upgrade upgrades the CRDs (they are
// templates, not Helm's crds/ directory, which it never upgrades), uninstall leaves them and the
// hooks in them, and a release of chart 0.1.0 (its CRDs in crds/) is adopted with --take-ownership.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { customResourceDefinitions } from '../../src/api/crd.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { CHART, RELEASE_NAMESPACE } from './chart-render.ts';

type Crd = ReturnType<typeof customResourceDefinitions>[number];

const HOOKS_CRD = 'deployhooks.certhook.io';
const CRD_FILE = 'certhook.io_deployhooks.yaml';

let sandbox: TestSandbox;
let tmp: string;

before(async () => {
  sandbox = await testSandbox({ workloads: false });
  tmp = await mkdtemp(join(tmpdir(), 'certhook-upgrade-'));
});

after(async () => {
  await sandbox.close();
  await rm(tmp, { recursive: true, force: true });
});

const crds = () => sandbox.api.type('apiextensions.k8s.io', 'customresourcedefinitions');
const storedCrd = (name: string) => sandbox.api.get(crds(), undefined, name) as unknown as Crd;
const hookSpecSchema = (crd: Crd) => crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
const generated = (name: string) => customResourceDefinitions().find((c) => c.metadata.name === name)!;

/**
 * A copy of the chart as an earlier version: its DeployHook CRD without spec.dryRun, no
 * ClusterDeployHook CRD, and with
 * `layout` "crds/" the CRDs in Helm's crds/ directory instead of templates, as chart 0.1.0 had them.
 */
async function previousChart(name: string, version: string, layout: 'templates' | 'crds/'): Promise<string> {
  const dir = join(tmp, name);
  await cp(CHART, dir, { recursive: true });
  const chartYaml = join(dir, 'Chart.yaml');
  await writeFile(chartYaml, (await readFile(chartYaml, 'utf8')).replace(/^version: .*$/m, `version: ${version}`));
  const file = join(dir, 'files', 'crds', CRD_FILE);
  const crd = load(await readFile(file, 'utf8')) as Crd;
  delete hookSpecSchema(crd).properties!.dryRun;
  await writeFile(file, dump(crd));
  // Earlier charts had no ClusterDeployHook: an upgrade creates its CRD.
  await rm(join(dir, 'files', 'crds', 'certhook.io_clusterdeployhooks.yaml'));
  if (layout === 'crds/') {
    await rename(join(dir, 'files', 'crds'), join(dir, 'crds'));
    await rm(join(dir, 'templates', 'crds.yaml'));
  }
  return dir;
}

async function helm(args: string[]): Promise<string> {
  const result = await sandbox.helm([...args, '--namespace', RELEASE_NAMESPACE]);
  assert.equal(result.code, 0, `helm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Creates a DeployHook with dryRun: true and returns what the API stored (a CRD without the field prunes it). */
function createHook(name: string) {
  const hooks = sandbox.api.type('certhook.io', 'deployhooks');
  sandbox.api.create(hooks, 'default', { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name }, spec: { dryRun: true, job: { command: 'true' } } });
  return sandbox.api.get(hooks, 'default', name) as unknown as { spec: { dryRun?: boolean } };
}

const deployments = () => sandbox.api.list(sandbox.api.type('apps', 'deployments'), RELEASE_NAMESPACE).items;

describe('a release of the chart', () => {
  test('helm upgrade upgrades its CRDs; helm uninstall leaves them and the hooks, and removes the rest', async () => {
    const previous = await previousChart('previous', '0.1.9', 'templates');
    await helm(['install', 'certhook', previous, '--create-namespace']);
    assert.equal(hookSpecSchema(storedCrd(HOOKS_CRD)).properties!.dryRun, undefined, 'the earlier chart installed its older CRD');
    assert.equal(createHook('before').spec.dryRun, undefined, 'the older CRD prunes the field');

    await helm(['upgrade', 'certhook', CHART]);
    for (const crd of customResourceDefinitions()) {
      assert.deepEqual(storedCrd(crd.metadata.name).spec.versions, generated(crd.metadata.name).spec.versions, `${crd.metadata.name} is the generated one after the upgrade`);
    }
    assert.equal(createHook('after').spec.dryRun, true, 'the upgraded CRD keeps the field');
    assert.match(await helm(['history', 'certhook']), /certhook-0\.1\.9[^]*certhook-0\.2\.0/);

    // --keep-history: purging the release's own Secrets sends a protobuf DeleteOptions body, which
    // the sandbox does not decode; the chart's objects are deleted the same way either way.
    assert.match(await helm(['uninstall', 'certhook', '--keep-history']), /release "certhook" uninstalled/);
    assert.deepEqual(deployments(), [], 'the operator is gone');
    for (const crd of customResourceDefinitions()) assert.ok(storedCrd(crd.metadata.name), `${crd.metadata.name} is kept`);
    const hooks = sandbox.api.list(sandbox.api.type('certhook.io', 'deployhooks'), 'default').items.map((h) => h.metadata.name).sort();
    assert.deepEqual(hooks, ['after', 'before']);
  });

  test('from chart 0.1.0, whose CRDs Helm installed from crds/ and never owned: an upgrade says so, and --take-ownership adopts and upgrades them', async () => {
    for (const crd of customResourceDefinitions()) sandbox.api.delete(crds(), undefined, crd.metadata.name);
    const v010 = await previousChart('v0.1.0', '0.1.0', 'crds/');
    await helm(['install', 'legacy', v010]);
    assert.equal(hookSpecSchema(storedCrd(HOOKS_CRD)).properties!.dryRun, undefined);

    const refused = await sandbox.helm(['upgrade', 'legacy', CHART, '--namespace', RELEASE_NAMESPACE]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /CustomResourceDefinition "deployhook(run)?s\.certhook\.io" .*exists and cannot be imported into the current release/);

    await helm(['upgrade', 'legacy', CHART, '--take-ownership']);
    const adopted = storedCrd(HOOKS_CRD) as Crd & { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } };
    assert.deepEqual(adopted.spec.versions, generated(HOOKS_CRD).spec.versions);
    assert.equal(adopted.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    assert.equal(adopted.metadata.annotations?.['meta.helm.sh/release-name'], 'legacy');
    assert.equal(adopted.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    // Later upgrades need nothing more.
    await helm(['upgrade', 'legacy', CHART, '--set', 'replicaCount=3']);
    assert.equal((deployments()[0] as unknown as { spec: { replicas: number } }).spec.replicas, 3);
  });

  test('with crds.keep=false, helm uninstall deletes the CRDs too', async () => {
    await helm(['upgrade', 'legacy', CHART, '--set', 'crds.keep=false']);
    assert.equal((storedCrd(HOOKS_CRD) as unknown as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.['helm.sh/resource-policy'], undefined);
    await helm(['uninstall', 'legacy', '--keep-history']);
    for (const crd of customResourceDefinitions()) assert.throws(() => storedCrd(crd.metadata.name), /not found/);
  });
});

