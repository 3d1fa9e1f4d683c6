// What the real kubectl prints for certhook's kinds, with the operator keeping their status.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useOperatorSandbox } from '../support/operator-sandbox.ts';
import { createHook, createTlsSecret, finishedRuns, HOOKS, issue } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { runTool } from '../support/tools.ts';

const env = useOperatorSandbox('k');

async function kubectl(args: string[]): Promise<string> {
  const result = await runTool('kubectl', env.sandbox.kubeconfigPath, args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** kubectl's table as one record a row, cut at the columns' header positions (empty cells stay). */
function rows(table: string): Record<string, string>[] {
  const [header, ...lines] = table.trimEnd().split('\n');
  const starts = [...header!.matchAll(/\S+( \S+)*/g)].map((m) => ({ name: m[0], at: m.index }));
  return lines.map((line) => Object.fromEntries(starts.map((c, i) => [c.name, line.slice(c.at, starts[i + 1]?.at).trim()])));
}

const pick = (row: Record<string, string>, names: string[]) => names.map((n) => row[n]);

describe('kubectl get', () => {
  test('dh shows Ready, the kind of hook and its events; -o wide adds domains and selector; dhr shows the reason', async () => {
    const ns = await env.namespace();
    await createHook(env.custom, ns, 'reload', {
      onEvents: ['created', 'renewed'],
      domains: ['api.example.com', '*.example.com'],
      secretSelector: { matchLabels: { app: 'web' } },
      job: { command: 'exit 3' },
    });
    await createHook(env.custom, ns, 'notify', { webhook: { url: 'http://127.0.0.1:9/hook' }, enabled: false });
    // The API takes it; the operator finds the template unusable.
    await createHook(env.custom, ns, 'broken', { webhook: { url: 'http://127.0.0.1:9/hook', body: { '{{ .domain }}': 'x' } } });
    await createTlsSecret(env.core, ns, 'api', issue('api.example.com'), { app: 'web' });
    await finishedRuns(env.custom, ns, 1);
    // The hooks' status follows their runs a moment later.
    await eventually(async () => {
      const hook = await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'reload' }) as { status?: { lastRun?: { phase?: string } } };
      assert.equal(hook.status?.lastRun?.phase, 'Failed');
    });

    const columns = ['NAME', 'READY', 'TYPE', 'ENABLED', 'EVENTS', 'LAST RESULT'];
    assert.deepEqual(rows(await kubectl(['get', 'dh', '-n', ns, '--sort-by', '.metadata.name'])).map((r) => pick(r, columns)), [
      ['broken', 'False', 'webhook', 'true', 'created,renewed,revoked', ''],
      ['notify', 'True', 'webhook', 'false', 'created,renewed,revoked', ''],
      ['reload', 'True', 'job', 'true', 'created,renewed', 'Failed'],
    ]);
    const wide = rows(await kubectl(['get', 'dh', '-n', ns, '-o', 'wide', '--sort-by', '.metadata.name']));
    assert.deepEqual(wide.map((r) => pick(r, ['NAME', 'DOMAINS', 'SELECTOR'])), [
      ['broken', '', ''],
      ['notify', '', ''],
      ['reload', 'api.example.com,*.example.com', 'app=web'],
    ]);
    const [run] = rows(await kubectl(['get', 'dhr', '-n', ns]));
    assert.deepEqual(pick(run!, ['HOOK', 'DOMAIN', 'EVENT', 'PHASE', 'REASON', 'EXIT CODE']), ['reload', 'api.example.com', 'created', 'Failed', 'ExitCode', '3']);
  });

  test('kubectl explain describes the fields the columns read', async () => {
    const explained = await kubectl(['explain', 'deployhooks.status.events']);
    assert.match(explained, /spec\.onEvents as one comma-separated string/);
  });
});
