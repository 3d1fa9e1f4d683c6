// The sandbox demo: one DeployHook, one certificate created, renewed and revoked, and the audit
// trail those three events leave — all through the API, as a user's kubectl would do it.
import { setTimeout as delay } from 'node:timers/promises';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import { API_VERSION, DEPLOY_HOOK } from '../api/names.ts';
import { createAuthority } from '../certs/authority.ts';
import type { KubeClient } from '../kube/client.ts';
import { collectionPath, objectPath, RESOURCES } from '../kube/paths.ts';
import { FINAL_PHASES } from '../controller/run-state.ts';

const NAMESPACE = 'demo';
const HOOK = 'reload-edge';
const SECRET = 'edge-tls';
const COMMAND = 'echo "certificate $CERTMATE_EVENT: $CERTMATE_DOMAIN serial $CERTMATE_SERIAL, valid until $CERTMATE_NOT_AFTER"; '
  + 'echo "files: $(grep -c BEGIN "$CERTMATE_FULLCHAIN_PATH") certificates in fullchain.pem, key present: $(test -s "$CERTMATE_KEY_PATH" && echo yes || echo no)"';

const b64 = (text: string) => Buffer.from(text).toString('base64');

async function waitForRuns(client: KubeClient, count: number, timeoutMs = 60_000): Promise<DeployHookRun[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { items } = await client.get<{ items: DeployHookRun[] }>(collectionPath(RESOURCES.deployHookRuns, NAMESPACE));
    if (items.length >= count && items.every((r) => FINAL_PHASES.has(r.status?.phase ?? ''))) {
      return items.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.status?.startTime ?? '').localeCompare(b.status?.startTime ?? ''));
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} finished runs (have ${items.length})`);
    await delay(100);
  }
}

function auditTrail(runs: DeployHookRun[]): string {
  const rows = runs.map((r) => [r.metadata.name!, r.spec.event, r.status?.phase ?? '', String(r.status?.exitCode ?? ''), r.status?.durationSeconds !== undefined ? `${r.status.durationSeconds}s` : '']);
  const header = ['RUN', 'EVENT', 'PHASE', 'EXIT', 'DURATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(header)];
  runs.forEach((run, i) => {
    out.push(line(rows[i]!));
    for (const text of (run.status?.output ?? '').trimEnd().split('\n')) out.push(`    | ${text}`);
  });
  return out.join('\n');
}

/** Runs the demo against an API server with the operator running; returns the exit code. */
export async function runDemo(client: KubeClient, print: (line: string) => void): Promise<number> {
  const authority = createAuthority({ name: 'certhook demo CA' });
  const tls = (dnsName: string) => {
    const issued = authority.issue({ dnsNames: [dnsName] });
    return { 'tls.crt': b64(issued.fullchainPem), 'tls.key': b64(issued.keyPem) };
  };
  await client.create(collectionPath(RESOURCES.namespaces), { metadata: { name: NAMESPACE } });
  await client.create(collectionPath(RESOURCES.deployHooks, NAMESPACE), {
    apiVersion: API_VERSION,
    kind: DEPLOY_HOOK.kind,
    metadata: { name: HOOK },
    spec: { domains: ['*.example.com'], job: { command: COMMAND } },
  });
  print(`DeployHook ${NAMESPACE}/${HOOK} applied; its command:\n    ${COMMAND}`);

  await client.create(collectionPath(RESOURCES.secrets, NAMESPACE), { metadata: { name: SECRET }, type: 'kubernetes.io/tls', data: tls('edge.example.com') });
  print(`Secret ${NAMESPACE}/${SECRET} created (edge.example.com)`);
  await waitForRuns(client, 1);

  const secret = await client.get<{ data: Record<string, string> }>(objectPath(RESOURCES.secrets, NAMESPACE, SECRET));
  await client.replace(objectPath(RESOURCES.secrets, NAMESPACE, SECRET), { ...secret, data: tls('edge.example.com') });
  print(`Secret ${NAMESPACE}/${SECRET} renewed (a new certificate in tls.crt)`);
  await waitForRuns(client, 2);

  await client.delete(objectPath(RESOURCES.secrets, NAMESPACE, SECRET));
  print(`Secret ${NAMESPACE}/${SECRET} deleted`);
  const runs = await waitForRuns(client, 3);

  print(`\nAudit trail (kubectl get deployhookruns -n ${NAMESPACE}):\n${auditTrail(runs)}`);
  const ok = runs.length === 3 && runs.every((r) => r.status?.phase === 'Succeeded');
  print(ok ? '\nAll three runs succeeded: created, renewed, revoked.' : '\nNot every run succeeded; see the audit trail above.');
  return ok ? 0 : 1;
}
