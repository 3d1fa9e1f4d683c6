// `certhook lint` as CI runs it (the real CLI process), held to what it must agree with: a corpus
// of invalid manifests that kubectl apply against the sandbox refuses (or, for what only the
// operator checks, accepts), and the operator's check of a hook marks invalid, for the same reason
// lint gives, at the field lint points to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkHook } from '../../src/controller/hook-validity.ts';
import type { KubeObject } from '../../src/kube/object.ts';
import type { LintProblem as Problem } from '../../src/lint/lint-text.ts';
import { installCrds } from '../support/operator.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'certhook.js');
const CORPUS = join(ROOT, 'test', 'lint', 'corpus');
const EXAMPLES = join(ROOT, 'examples');

function lint(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'lint', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function lintJson(args: string[], input?: string): Promise<{ code: number | null; problems: Problem[] }> {
  const { code, stdout, stderr } = await lint(['--format', 'json', ...args], input);
  assert.notEqual(code, 2, stderr);
  return { code, problems: JSON.parse(stdout) as Problem[] };
}

/** A corpus file's header: the reason every judge must give, where lint must point, and who refuses it. */
interface Case {
  file: string;
  name: string;
  kind: string;
  reason: string;
  at: string;
  refusedBy: 'api' | 'operator';
}

async function corpus(): Promise<Case[]> {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    files.map(async (file) => {
      const text = await readFile(join(CORPUS, file), 'utf8');
      const field = (name: string) => {
        const value = new RegExp(`^(?:# )?${name}: (.*)$`, 'm').exec(text)?.[1];
        assert.ok(value, `${file} has no ${name}`);
        return value;
      };
      const refusedBy = field('refused-by');
      assert.ok(refusedBy === 'api' || refusedBy === 'operator', `${file}: refused-by is api or operator`);
      return { file, name: field('  name'), kind: field('kind'), reason: field('reason'), at: field('at'), refusedBy };
    }),
  );
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ');

/** The kinds the operator judges with checkHook. */
const HOOK_KINDS = ['DeployHook', 'ClusterDeployHook'];

describe('certhook lint', () => {
  let sandbox: TestSandbox;
  let dir: string;

  before(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
    dir = await mkdtemp(join(tmpdir(), 'certhook-lint-'));
  });

  after(async () => {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the corpus: lint, kubectl apply and the operator refuse each manifest for the same reason; lint points at the field', async () => {
    const cases = await corpus();
    assert.ok(cases.length >= 100, `the corpus has ${cases.length} manifests`);
    for (const kind of [...HOOK_KINDS, 'DeployHookRun']) assert.ok(cases.some((c) => c.kind === kind), `the corpus covers ${kind}`);
    assert.ok(cases.some((c) => c.kind === 'ClusterDeployHook' && c.refusedBy === 'operator'), 'the corpus covers a ClusterDeployHook only the operator refuses');
    const { code, problems } = await lintJson(['test/lint/corpus']);
    assert.equal(code, 1);

    for (const c of cases) {
      const found = problems.filter((p) => p.file === `test/lint/corpus/${c.file}`);
      const match = found.find((p) => `${p.path}: ${p.message}`.includes(c.reason));
      const listed = found.map((p) => `${p.line}:${p.column}: ${p.path}: ${p.message}`).join('\n  ');
      assert.ok(match, `${c.file}: lint does not say "${c.reason}"; it says:\n  ${listed}`);
      assert.equal(`${match.line}:${match.column}`, c.at, `${c.file}: lint points at ${match.line}:${match.column}, not at the field (${c.at})`);
      assert.deepEqual([match.kind, match.name], [c.kind, c.name], c.file);

      const applied = await sandbox.kubectl(['apply', '-f', join(CORPUS, c.file)]);
      let hook: KubeObject;
      if (c.refusedBy === 'api') {
        assert.notEqual(applied.code, 0, `${c.file}: kubectl apply accepted it`);
        assert.ok(oneLine(applied.stderr).includes(c.reason), `${c.file}: kubectl apply refused it otherwise:\n${applied.stderr}`);
        // The operator refuses it too (one definition, two uses): a hook written past an older CRD never runs.
        hook = parse(await readFile(join(CORPUS, c.file), 'utf8')) as KubeObject;
      } else {
        // The API server accepts it; the operator reads it back and will not run it (Ready=False).
        assert.equal(applied.code, 0, `${c.file}: ${applied.stderr}`);
        // kubectl apply puts a DeployHook in the kubeconfig's namespace; a ClusterDeployHook is cluster-scoped.
        hook = c.kind === 'ClusterDeployHook'
          ? sandbox.api.get(sandbox.api.type('certhook.io', 'clusterdeployhooks'), undefined, c.name)
          : sandbox.api.get(sandbox.api.type('certhook.io', 'deployhooks'), 'default', c.name);
      }
      // An unknown field is kubectl's strict decoding error, and a name that is no RFC 1123 subdomain
      // the API server's check of every object: it never stores either, so the operator never reads one.
      if (!HOOK_KINDS.includes(c.kind) || c.reason.includes('unknown field') || c.reason.startsWith('metadata.name: Invalid value')) continue;
      const checked = checkHook(hook);
      assert.equal(checked.valid, false, `${c.file}: the operator would run it`);
      assert.ok(checked.problems.join('; ').includes(c.reason), `${c.file}: the operator says: ${checked.problems.join('; ')}`);
    }
  });

  test('every example lints clean', async () => {
    const hooks = (await Promise.all((await readdir(EXAMPLES, { recursive: true })).filter((f) => f.endsWith('.yaml')).map((f) => readFile(join(EXAMPLES, f), 'utf8'))))
      .join('\n')
      .match(/^kind: (Cluster)?DeployHook$/gm);
    const { code, stdout, stderr } = await lint(['examples/']);
    assert.equal(code, 0, stdout);
    assert.equal(stdout, '');
    assert.match(stderr, new RegExp(`: ${hooks?.length} certhook objects in \\d+ files \\(\\d+ of other kinds skipped\\): no problems`));
  });

  test('text output: file:line:column: field.path: message, in the stream of a multi-document file', async () => {
    const stream = [
      'apiVersion: v1',
      'kind: Secret',
      'metadata: {name: skipped}',
      '---',
      'apiVersion: certhook.io/v1alpha1',
      'kind: DeployHook',
      'metadata: {name: flow}',
      'spec: {job: {command: "echo hi", retries: 9}, onEvents: [renewed, expired]}',
    ].join('\n');
    const { code, stdout } = await lint(['-'], stream);
    assert.equal(code, 1);
    assert.equal(
      stdout,
      '<stdin>:8:34: spec.job.retries: Invalid value: 9: spec.job.retries in body should be less than or equal to 5\n' +
        '<stdin>:8:67: spec.onEvents[1]: Unsupported value: "expired": supported values: "created", "renewed", "revoked", "expiring"\n' +
        '<stdin>:5:1: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation\n',
    );
  });

  test('JSON manifests, nested directories, and files that are not manifests or are hidden', async () => {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'apps', 'web'), { recursive: true });
    await mkdir(join(tree, '.git'), { recursive: true });
    const hook = { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name: 'json' }, spec: { webhook: { url: 'https://x.example.com', concurrency: 99 } } };
    await writeFile(join(tree, 'apps', 'web', 'hook.json'), JSON.stringify(hook, null, 2));
    await writeFile(join(tree, 'apps', 'ok.yml'), 'apiVersion: certhook.io/v1alpha1\nkind: DeployHook\nmetadata: {name: ok}\nspec: {job: {command: reload}}\n');
    await writeFile(join(tree, 'apps', 'notes.txt'), 'kind: DeployHook\n: not yaml');
    await writeFile(join(tree, '.git', 'bad.yaml'), 'kind: DeployHook\n: not yaml');
    const { code, problems } = await lintJson([tree]);
    assert.equal(code, 1);
    assert.deepEqual(problems, [
      {
        file: join(tree, 'apps', 'web', 'hook.json'),
        line: 10,
        column: 7,
        path: 'spec.webhook.concurrency',
        message: 'Invalid value: 99: spec.webhook.concurrency in body should be less than or equal to 64',
        kind: 'DeployHook',
        name: 'json',
      },
    ]);
  });

  test('a YAML syntax error is a problem at its position', async () => {
    const { code, problems } = await lintJson(['-'], 'apiVersion: certhook.io/v1alpha1\nkind: DeployHook\nspec:\n  job: {command: [x}\n');
    assert.equal(code, 1);
    assert.equal(problems.length > 0, true);
    assert.deepEqual(
      problems.map((p) => [p.file, p.line, p.path, p.kind]),
      problems.map(() => ['<stdin>', 4, '', null]),
    );
    assert.match(problems[0]!.message, /flow/i);
  });

  test('other kinds are skipped; --strict makes a certhook.io kind or version certhook does not serve a problem, in kubectl\'s words', async () => {
    const manifests = [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {nonsense: true}',
      'apiVersion: certhook.io/v1alpha1\nkind: DeployHookTemplate\nmetadata: {name: later}\nspec: {}',
      'apiVersion: certhook.io/v2\nkind: DeployHook\nmetadata: {name: future}\nspec: {}',
    ].join('\n---\n');
    const lenient = await lint(['-'], manifests);
    assert.equal(lenient.code, 0, lenient.stdout);
    assert.match(lenient.stderr, /0 certhook objects in 1 file \(3 of other kinds skipped\): no problems/);

    const { code, problems } = await lintJson(['--strict', '-'], manifests);
    assert.equal(code, 1);
    const served = 'certhook.io serves DeployHook, ClusterDeployHook, DeployHookRun in certhook.io/v1alpha1';
    assert.deepEqual(problems, [
      { file: '<stdin>', line: 7, column: 1, path: 'kind', message: `no matches for kind "DeployHookTemplate" in version "certhook.io/v1alpha1": ${served}`, kind: 'DeployHookTemplate', name: 'later' },
      { file: '<stdin>', line: 11, column: 1, path: 'apiVersion', message: `no matches for kind "DeployHook" in version "certhook.io/v2": ${served}`, kind: 'DeployHook', name: 'future' },
    ]);
    // Without client-side validation, which stops earlier on a kind the API's OpenAPI document lacks.
    const applied = await sandbox.kubectl(['apply', '--validate=false', '-f', '-'], manifests.split('---\n')[1]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /no matches for kind "DeployHookTemplate" in version "certhook\.io\/v1alpha1"/);
  });

  test('exit code 2 and a usage message: no path, an unknown option, a bad --format, a path that cannot be read, a directory without manifests', async () => {
    await mkdir(join(dir, 'empty'));
    const cases: [string[], RegExp][] = [
      [[], /name at least one file or directory to check, or - for standard input[\s\S]*usage: certhook lint/],
      [['--frobnicate', 'examples/'], /Unknown option '--frobnicate'/],
      [['--format', 'xml', 'examples/'], /--format must be text or json \(got "xml"\)/],
      [['examples/', 'no/such/dir'], /^certhook lint: cannot read no\/such\/dir: no such file or directory\n$/],
      [[join(dir, 'empty')], /empty holds no \.yaml, \.yml or \.json file/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await lint(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '', args.join(' '));
      assert.match(stderr, message);
    }
    const help = await lint(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: certhook lint \[--strict\] \[--format text\|json\] PATH\.\.\./);
  });
});
