// The README's GitOps walkthrough with examples/gitops, as a GitOps tool does it: rendered by
// kustomize, linted, applied with server-side apply, applied again unchanged, then changed — and
// only certificate events fire hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { DeployHook } from '../../src/api/deployhook.ts';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { finishedRuns, HOOKS, issue, listRuns, tlsSecret } from '../support/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const GITOPS = join(ROOT, 'examples', 'gitops');
const NAMESPACE = 'web';

const env = useOperatorSandbox('gitops');

function lint(input: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(ROOT, 'bin', 'certhook.js'), 'lint', '-'], (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
    child.stdin!.end(input);
  });
}

async function apply(manifests: string): Promise<string> {
  const result = await env.sandbox.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-'], manifests);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

const hook = async (name: string) => (await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: NAMESPACE, name })) as DeployHook;
const versions = async () => Promise.all(['announce-certificate', 'revoked-to-chat'].map(async (n) => {
  const h = await hook(n);
  return { generation: h.metadata.generation, resourceVersion: h.metadata.resourceVersion };
}));

test('render, lint, apply server-side; re-applied unchanged nothing moves; a changed hook fires nothing', async () => {
  await env.core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const rendered = await env.sandbox.kubectl(['kustomize', GITOPS]);
  assert.equal(rendered.code, 0, rendered.stderr);
  const linted = await lint(rendered.stdout);
  assert.equal(linted.code, 0, linted.stderr);

  assert.deepEqual((await apply(rendered.stdout)).trim().split('\n'), [
    'deployhook.certhook.io/announce-certificate serverside-applied',
    'deployhook.certhook.io/revoked-to-chat serverside-applied',
  ]);
  const applied = await hook('announce-certificate');
  assert.equal(applied.metadata.labels?.['app.kubernetes.io/part-of'], 'web-certificates');
  assert.ok((applied.metadata.managedFields as { manager?: string }[] | undefined)?.some((f) => f.manager === 'gitops'));

  await env.core.createNamespacedSecret({ namespace: NAMESPACE, body: tlsSecret('www-tls', issue('www.example.com')) as never });
  const [created] = await finishedRuns(env.custom, NAMESPACE, 1);
  assert.equal(created!.spec.event, 'created');
  assert.match(created!.status?.output ?? '', /^certificate created for www\.example\.com, valid until /);

  // A GitOps tool re-applies on every sync: nothing changes, no generation moves, no run comes.
  const before = await versions();
  await apply(rendered.stdout);
  assert.deepEqual(await versions(), before);

  // A change to a hook is configuration, not a certificate event.
  await apply(rendered.stdout.replace('timeoutSeconds: 60', 'timeoutSeconds: 90'));
  const changed = await hook('announce-certificate');
  assert.equal(changed.spec.timeoutSeconds, 90);
  assert.equal(changed.metadata.generation, before[0]!.generation! + 1);
  await env.op.operator.idle();
  assert.equal((await listRuns(env.custom, NAMESPACE)).length, 1, 'no run but the created one');
});
