// .github/workflows/release.yml: valid YAML whose release job tests, builds the image for amd64 and
// arm64, pushes it to ghcr.io tagged with the chart's appVersion, and packages and pushes the chart
// as an OCI artifact, in that order; and the versions it publishes agree.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  id?: string;
  with?: Record<string, string | boolean>;
}

interface Workflow {
  on: { push: { tags: string[] } };
  permissions: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
}

const readText = (path: string) => readFile(join(ROOT, path), 'utf8');
const chart = async () => parse(await readText('helm/certhook/Chart.yaml')) as { version: string; appVersion: string };
const workflow = async () => parse(await readText('.github/workflows/release.yml'), { strict: true, uniqueKeys: true }) as Workflow;

/** The index of the one step that `matches`, failing when there is none or several. */
function stepIndex(steps: Step[], what: string, matches: (step: Step) => boolean): number {
  const found = steps.flatMap((step, i) => (matches(step) ? [i] : []));
  assert.equal(found.length, 1, `expected one step that ${what}, found ${found.length}`);
  return found[0]!;
}

const uses = (action: string) => (step: Step) => step.uses?.split('@')[0] === action;
const runs = (pattern: RegExp) => (step: Step) => pattern.test(step.run ?? '');

describe('the release workflow', () => {
  test('runs on a v* tag with the right to push packages', async () => {
    const flow = await workflow();
    assert.deepEqual(flow.on.push.tags, ['v*']);
    assert.equal(flow.permissions.packages, 'write');
    assert.equal(flow.env.IMAGE, 'ghcr.io/certhook/certhook');
    assert.equal(flow.env.CHARTS, 'oci://ghcr.io/certhook/charts');
  });

  test('tests, then builds for amd64 and arm64 with QEMU and buildx and pushes the appVersion tag, then packages and pushes the chart', async () => {
    const flow = await workflow();
    const steps = Object.values(flow.jobs).flatMap((job) => job.steps);
    for (const step of steps) assert.ok(step.name, `a step without a name: ${JSON.stringify(step)}`);
    const order = [
      stepIndex(steps, 'checks out the repository', uses('actions/checkout')),
      stepIndex(steps, 'runs npm ci && npm test', runs(/^npm ci && npm test$/m)),
      stepIndex(steps, 'reads the appVersion', (s) => s.id === 'version'),
      stepIndex(steps, 'sets up QEMU', uses('docker/setup-qemu-action')),
      stepIndex(steps, 'sets up buildx', uses('docker/setup-buildx-action')),
      stepIndex(steps, 'logs in to ghcr.io', (s) => uses('docker/login-action')(s) && s.with?.registry === 'ghcr.io'),
      stepIndex(steps, 'builds and pushes the image', uses('docker/build-push-action')),
      stepIndex(steps, 'packages the chart', runs(/^helm package helm\/certhook\b/m)),
      stepIndex(steps, 'pushes the chart', runs(/^helm push .*certhook-\*\.tgz "\$\{CHARTS\}"$/m)),
    ];
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `the steps are out of order: ${order.join(', ')}`);

    const build = steps.find(uses('docker/build-push-action'))!.with!;
    assert.deepEqual(String(build.platforms).split(','), ['linux/amd64', 'linux/arm64']);
    assert.equal(build.push, true);
    assert.equal(build.tags, '${{ env.IMAGE }}:${{ steps.version.outputs.app_version }}');
    assert.match(String(build['build-args']), /^VERSION=\$\{\{ steps\.version\.outputs\.app_version \}\}$/m);
    assert.match(String(build['build-args']), /^REVISION=\$\{\{ github\.sha \}\}$/m);
  });

  test('its version step reads the chart\'s appVersion, and refuses a tag that does not name it', async () => {
    const script = (await workflow()).jobs.release!.steps.find((s) => s.id === 'version')!.run!;
    const { appVersion } = await chart();
    const tmp = await mkdtemp(join(tmpdir(), 'certhook-release-'));
    const output = join(tmp, 'output');
    const runScript = (tag: string) => promisify(execFile)('bash', ['-e', '-c', script], { cwd: ROOT, env: { PATH: process.env.PATH, GITHUB_REF_NAME: tag, GITHUB_OUTPUT: output } });
    try {
      await runScript(`v${appVersion}`);
      assert.equal(await readFile(output, 'utf8'), `app_version=${appVersion}\n`);
      await assert.rejects(runScript('v9.9.9'), (err: { stdout: string }) => err.stdout.includes(`is not v + the chart's appVersion (${appVersion})`));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('versions', () => {
  test('the chart\'s appVersion (the image tag it runs and the release pushes) is package.json\'s version', async () => {
    const { version } = JSON.parse(await readText('package.json')) as { version: string };
    assert.equal((await chart()).appVersion, version);
  });

  test('the README installs the chart\'s version from where the release pushes it', async () => {
    const readme = await readText('README.md');
    const install = /helm install certhook (\S+) --version (\S+)/.exec(readme);
    assert.ok(install, 'the README has a helm install from the OCI registry');
    assert.deepEqual([install[1], install[2]], [`${(await workflow()).env.CHARTS}/certhook`, (await chart()).version]);
  });

  test('the chart runs the image the release pushes', async () => {
    const values = parse(await readText('helm/certhook/values.yaml')) as { image: { repository: string; tag: string } };
    assert.equal(values.image.repository, (await workflow()).env.IMAGE);
    assert.equal(values.image.tag, '', 'the tag defaults to the appVersion');
  });
});
