// Keys kept out of sight: after a scenario of job hooks and webhooks (secret headers, a signing
// key, the private key in bodies, a receiver that echoes what it gets), a ClusterDeployHook's
// webhook, failures, a timeout and an invalid hook, no private key, header secret or signing key appears in a log line, an Event,
// a hook's or run's status, or the metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useSandboxForOperators } from '../support/operator-sandbox.ts';
import { CLUSTER_HOOKS, createClusterHook, createHook, finishedRuns, HOOKS, issue, RUNS, tlsSecret } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { startReceiver } from '../support/receiver.ts';

const env = useSandboxForOperators('leak');

/** Distinct pieces of a secret: long enough that finding one anywhere means it leaked. */
function fingerprints(secret: string): string[] {
  const body = secret.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return [body.slice(0, 32), body.slice(-32), secret.trim()].filter((s) => s.length >= 16);
}

test('no key, header secret or signing key in logs, Events, statuses or metrics', async (t) => {
  const [ns, ops] = [await env.namespace(), await env.namespace()];
  const op = await env.operatorFor(t, { clusterHookNamespace: ops });
  // Echoes every body back, as debugging endpoints do; refuses the "rejected" hook's with a 422.
  const receiver = await startReceiver({ script: (request) => ({ status: request.path === '/rejected' ? 422 : 200, body: request.body }) });
  t.after(() => receiver.close());

  const token = `Bearer tok-${randomBytes(12).toString('hex')}`;
  const signingKey = randomBytes(32).toString('base64');
  // The tenant's hooks take them from the tenant's namespace, the ClusterDeployHook's from the operator's.
  for (const namespace of [ns, ops]) await env.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'hook-secrets' }, stringData: { token, signing: `whsec_${signingKey}` } } });
  const webhook = (path: string) => ({
    url: `${receiver.url}/${path}`,
    includePrivateKey: true,
    headers: [{ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'hook-secrets', key: 'token' } } }],
    signing: { secretRef: { name: 'hook-secrets', key: 'signing' } },
  });
  await createHook(env.custom, ns, 'deploys', { job: { command: 'test -s "$CERTMATE_KEY_PATH" && echo deployed' } });
  await createHook(env.custom, ns, 'fails', { onEvents: ['created'], job: { command: 'echo failing >&2; exit 2' } });
  await createHook(env.custom, ns, 'slow', { onEvents: ['created'], timeoutSeconds: 1, job: { command: 'sleep 5' } });
  await createHook(env.custom, ns, 'signed', { webhook: webhook('signed') });
  // The key first in the body, so an echo of it starts with the key.
  await createHook(env.custom, ns, 'rejected', { onEvents: ['created'], webhook: { ...webhook('rejected'), body: { key: '{{ .PrivateKeyPEM }}', domain: '{{ .Domain }}' } } });
  await createHook(env.custom, ns, 'invalid', { webhook: { ...webhook('invalid'), body: { '{{ .Domain }}': 'x' } } });
  await env.sandbox.kubectl(['label', 'namespace', ns, 'leak=watched']);
  await createClusterHook(env.custom, 'platform-signed', { namespaceSelector: { matchLabels: { leak: 'watched' } }, webhook: webhook('platform-signed') });

  const first = issue('leak.example.com');
  const second = issue('leak.example.com');
  await env.core.createNamespacedSecret({ namespace: ns, body: tlsSecret('leak-tls', first) as never });
  // deploys, fails, slow, signed and rejected fire for created.
  await finishedRuns(env.custom, ns, 5);
  await env.core.replaceNamespacedSecret({ namespace: ns, name: 'leak-tls', body: tlsSecret('leak-tls', second) as never });
  await finishedRuns(env.custom, ns, 7);
  await env.core.deleteNamespacedSecret({ namespace: ns, name: 'leak-tls' });
  const runs = await finishedRuns(env.custom, ns, 9);
  // The ClusterDeployHook's created, renewed and revoked.
  const platformRuns = await finishedRuns(env.custom, ops, 3);
  await op.operator.idle();
  assert.ok(platformRuns.every((r) => r.status?.reason === 'Delivered'));
  assert.ok(receiver.posts.some((p) => p.path === '/platform-signed' && p.body.includes('PRIVATE KEY')));
  // The scenario did what it says: a key reached the receiver, and was refused once.
  assert.ok(receiver.posts.some((p) => p.body.includes('PRIVATE KEY')));
  assert.ok(runs.some((r) => r.status?.reason === 'HTTPStatus'));
  assert.ok(runs.some((r) => r.status?.reason === 'TimedOut'));
  await eventually(async () => {
    const invalid = await env.custom.getNamespacedCustomObject({ ...HOOKS, namespace: ns, name: 'invalid' }) as { status?: { conditions?: { status: string }[] } };
    assert.equal(invalid.status?.conditions?.[0]?.status, 'False');
  });

  const places: Record<string, string> = {
    logs: op.logs.map((l) => JSON.stringify(l)).join('\n'),
    events: JSON.stringify(await Promise.all([ns, ops, 'default'].map((namespace) => env.core.listNamespacedEvent({ namespace })))),
    hooks: JSON.stringify([await env.custom.listNamespacedCustomObject({ ...HOOKS, namespace: ns }), await env.custom.listClusterCustomObject({ ...CLUSTER_HOOKS })]),
    runs: JSON.stringify(await Promise.all([ns, ops].map((namespace) => env.custom.listNamespacedCustomObject({ ...RUNS, namespace })))),
    metrics: await op.operator.metrics.registry.metrics(),
  };
  const secrets = { 'the first private key': first.keyPem, 'the second private key': second.keyPem, 'the header token': token, 'the signing key': signingKey };
  for (const [place, text] of Object.entries(places)) {
    assert.ok(text.length > 100, `${place} were collected`);
    for (const [what, secret] of Object.entries(secrets)) {
      for (const piece of fingerprints(secret)) assert.ok(!text.includes(piece), `${what} appears in the ${place}`);
    }
  }
});
