// The image's build without a Docker engine: tsc builds dist/ as the Dockerfile's build stage does,
// then the runtime stage is assembled in a temp dir from exactly what its COPY lines name, and
// its ENTRYPOINT is run there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { keyValues, parseDockerfile, type Stage } from './dockerfile.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKDIR = '/app';
const run = promisify(execFile);

let stages: Stage[];
let tmp: string;
/** The build stage's /app/dist. */
let dist: string;
/** The runtime stage's /app. */
let image: string;

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => join(e.parentPath, e.name));
}

/** The module specifiers a compiled file imports: import/export ... from, bare import, import() of a literal. */
function importsOf(code: string): string[] {
  const patterns = [/^(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"\n]+)['"]/gm, /^import\s*['"]([^'"\n]+)['"]/gm, /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]!));
}

const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const runtime = () => stages.at(-1)!;
const inImage = (containerPath: string) => join(image, relative(WORKDIR, resolve(WORKDIR, containerPath)));

/** Runs the image's ENTRYPOINT with `args`, with the Dockerfile's ENV, as `docker run image args` would. */
async function runImage(args: string[]) {
  const [command, script, ...rest] = runtime().instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args;
  assert.equal(command, 'node');
  // `ENV KEY=value` or `ENV KEY="a value"`: Docker drops the quotes.
  const env = Object.assign({}, ...runtime().instructions.filter((i) => i.keyword === 'ENV').map((i) => keyValues(i.text))) as Record<string, string>;
  return run(process.execPath, [inImage(script!), ...rest, ...args], { cwd: image, env: { PATH: process.env.PATH, ...env } });
}

before(async () => {
  stages = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  tmp = await mkdtemp(join(tmpdir(), 'certhook-image-'));
  dist = join(tmp, 'build', 'dist');
  image = join(tmp, 'image');
  // The build stage's command, with the output redirected.
  await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { cwd: ROOT });
  // What other stages produce, here: the build stage's dist/, and node_modules (the repo's, which
  // holds the production dependencies among others; the import check below covers the difference).
  const stageOutputs: Record<string, string> = {
    [`build:${WORKDIR}/dist`]: dist,
    [`deps:${WORKDIR}/node_modules`]: join(ROOT, 'node_modules'),
  };
  for (const copy of runtime().instructions.filter((i) => i.keyword === 'COPY')) {
    const target = copy.args.at(-1)!;
    for (const source of copy.args.slice(0, -1)) {
      const to = target.endsWith('/') ? join(inImage(target), source.split('/').at(-1)!) : inImage(target);
      await mkdir(dirname(to), { recursive: true });
      if (copy.flags.from === undefined) {
        await cp(join(ROOT, source), to, { recursive: true });
      } else {
        const output = stageOutputs[`${copy.flags.from}:${source}`];
        assert.ok(output, `COPY --from=${copy.flags.from} ${source}: this test does not know what that stage produces there`);
        await (source.endsWith('node_modules') ? symlink(output, to, 'dir') : cp(output, to, { recursive: true }));
      }
    }
  }
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('tsc -p tsconfig.build.json', () => {
  test('emits every module of src/cli with its relative imports rewritten to existing .js files', async () => {
    const files = await jsFiles(dist);
    assert.ok(files.some((f) => f.endsWith(join('cli', 'main.js'))));
    for (const file of files) {
      for (const specifier of importsOf(await readFile(file, 'utf8')).filter((s) => s.startsWith('.'))) {
        assert.match(specifier, /\.js$/, `${relative(dist, file)} imports ${specifier}`);
        assert.ok(existsSync(resolve(dirname(file), specifier)), `${relative(dist, file)} imports ${specifier}, which was not emitted`);
      }
    }
  });

  test('the built code imports only Node built-ins and production dependencies (what npm ci --omit=dev installs)', async () => {
    const { dependencies } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const bare = new Set<string>();
    for (const file of await jsFiles(dist)) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) if (!specifier.startsWith('.')) bare.add(specifier);
    }
    assert.ok(bare.has('zod'));
    for (const specifier of bare) {
      const builtin = specifier.startsWith('node:') || builtinModules.includes(specifier);
      assert.ok(builtin || packageName(specifier) in dependencies, `${specifier} is not a production dependency`);
    }
  });
});

describe('the runtime stage', () => {
  test('certhook crds prints the CRDs of crds/', async () => {
    const { stdout } = await runImage(['crds']);
    const files = (await readdir(join(ROOT, 'crds'))).filter((f) => f.endsWith('.yaml')).sort();
    const committed = await Promise.all(files.map(async (f) => loadAll(await readFile(join(ROOT, 'crds', f), 'utf8'))[0]));
    const printed = loadAll(stdout) as { metadata: { name: string } }[];
    const byName = (a: unknown, b: unknown) => (a as { metadata: { name: string } }).metadata.name.localeCompare((b as { metadata: { name: string } }).metadata.name);
    assert.equal(printed.length, files.length);
    assert.deepEqual(printed.sort(byName), committed.sort(byName));
  });

  test('certhook --help and certhook operator --help work', async () => {
    const { stdout: usage } = await runImage(['--help']);
    for (const command of ['operator', 'sandbox', 'crds']) assert.match(usage, new RegExp(`^\\s+${command}\\s`, 'm'));
    const { stdout: operatorHelp } = await runImage(['operator', '--help']);
    assert.match(operatorHelp, /^usage: certhook operator/);
    assert.match(operatorHelp, /--health-port N/);
  });

  test('holds no sources: bin/certhook.js runs the built dist/', () => {
    assert.ok(existsSync(join(image, 'dist', 'cli', 'main.js')));
    assert.ok(!existsSync(join(image, 'src')));
  });
});

describe('Dockerfile', () => {
  test('is multi-stage, every stage on one Node 24 base named by its full version, which NODE_DIGEST pins', async () => {
    assert.ok(stages.length >= 2);
    const [base] = new Set(stages.map((s) => s.from));
    assert.equal(new Set(stages.map((s) => s.from)).size, 1, 'every stage starts from the same base');
    assert.match(base!, /^node:24\.\d+\.\d+-bookworm-slim$/);
    // The Node the tests run on (package.json's node devDependency) is the image's.
    assert.equal(base!.split(':')[1]!.split('-')[0], process.versions.node);
    const digest = `@sha256:${'0'.repeat(64)}`;
    const pinned = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'), { NODE_DIGEST: digest });
    for (const stage of pinned) assert.equal(stage.from, base + digest);
  });

  test('the runtime stage carries the OCI labels, the build-specific ones from build arguments', async () => {
    const { license } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    const labels = Object.assign({}, ...runtime().instructions.filter((i) => i.keyword === 'LABEL').map((i) => keyValues(i.text))) as Record<string, string>;
    const declared = new Set(runtime().instructions.filter((i) => i.keyword === 'ARG').map((i) => i.text.split('=')[0]));
    const oci = (name: string) => labels[`org.opencontainers.image.${name}`];
    assert.equal(oci('title'), 'certhook');
    assert.match(oci('description') ?? '', /deploy hooks/);
    assert.equal(oci('licenses'), license);
    for (const [name, arg] of [['source', 'SOURCE'], ['version', 'VERSION'], ['revision', 'REVISION']] as const) {
      assert.equal(oci(name), `\${${arg}}`, `org.opencontainers.image.${name} comes from the ${arg} build argument`);
      assert.ok(declared.has(arg), `the runtime stage declares ARG ${arg}`);
    }
  });

  test('the runtime stage gets node_modules from an npm ci --omit=dev', () => {
    const copy = runtime().instructions.find((i) => i.keyword === 'COPY' && i.args.some((a) => a.endsWith('node_modules')));
    assert.ok(copy?.flags.from, 'node_modules must come from another stage');
    const deps = stages.find((s) => s.name === copy.flags.from);
    const install = deps?.instructions.find((i) => i.keyword === 'RUN' && i.args.join(' ').includes('npm ci'));
    assert.ok(install?.args.includes('--omit=dev'), `stage ${copy.flags.from} must install with --omit=dev`);
  });

  test('stages that run on the build platform (--platform=$BUILDPLATFORM) make only what any platform runs: no production dependency has a native addon or an install script', async () => {
    const native = stages.filter((s) => s.name === 'deps');
    assert.ok(native.every((s) => s.platform === '$BUILDPLATFORM'), 'the deps stage installs natively');
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }> };
    const production = Object.entries(lock.packages).filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev);
    assert.ok(production.length > 10);
    assert.deepEqual(production.filter(([, entry]) => entry.hasInstallScript).map(([path]) => path), []);
    const addons: string[] = [];
    for (const [path] of production) {
      const files = await readdir(join(ROOT, path), { recursive: true });
      addons.push(...files.filter((f) => f.endsWith('.node') || f.endsWith('binding.gyp')).map((f) => join(path, f)));
    }
    assert.deepEqual(addons, []);
  });

  test('the runtime stage runs as a numeric non-root user (what runAsNonRoot can verify)', () => {
    const user = runtime().instructions.filter((i) => i.keyword === 'USER').at(-1)?.args[0];
    assert.match(user ?? '', /^[1-9]\d*(:\d+)?$/);
  });

  test('.dockerignore keeps node_modules, dist and .git out, and nothing a COPY needs', async () => {
    const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const name of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(name), `${name} is not ignored`);
    const contextSources = stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'COPY' && i.flags.from === undefined).flatMap((i) => i.args.slice(0, -1));
    for (const source of contextSources) assert.ok(!ignored.includes(source.split('/')[0]!), `${source} is copied but ignored`);
  });
});
