// Correctness gaps, each a test that fails without its fix: leadership that lapsed, a manual run
// that races its hook, and a Job that is gone before its outcome was read.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { clients, startTestOperator } from '../support/operator.ts';
import { createHook, createTlsSecret, issue, listRuns } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

let sandbox: TestSandbox;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let namespaceCount = 0;

async function namespace(): Promise<string> {
  const name = `c${++namespaceCount}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

async function operatorFor(t: TestContext, opts: Parameters<typeof startTestOperator>[1]) {
  const op = await startTestOperator(sandbox, opts);
  t.after(() => op.stop());
  return op;
}

before(async () => {
  sandbox = await testSandbox({ workloads: false });
  ({ core, custom } = clients(sandbox));
});
after(() => sandbox.close());

describe('leadership', () => {
  test('a replica whose elector no longer holds the lease starts no Job, though it was told to act', async (t) => {
    const ns = await namespace();
    let leading = true;
    const op = await operatorFor(t, { namespace: ns, isLeader: () => leading });
    await createHook(custom, ns, 'h', { job: { command: 'true' } });
    await eventually(() => op.operator.context.caches.hooks.cache.size === 1);
    // The lease lapsed (a renew deadline passed) before the elector told the operator so.
    leading = false;
    await createTlsSecret(core, ns, 'a-tls', issue('a.example.com'));
    await eventually(async () => (await listRuns(custom, ns)).length === 1);
    await op.operator.idle();
    const jobs = await sandbox.api.list(sandbox.api.type('batch', 'jobs'), ns);
    assert.equal(jobs.items.length, 0);
  });
});
