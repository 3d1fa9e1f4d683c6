// The burst's baseline, as a process of its own beside the API server (as the operator is): a
// plain client sends, over HTTP, the writes the operator makes for each firing — its
// DeployHookRun, the certificate snapshot, the Job, and the run's status at Running — built by the
// operator's own builders, so the objects (and what the API server does with them: schema, CEL
// rules, managedFields) are the same. No cache, queue or ledger. `inFlight` firings at a time,
// each one's writes in order. Prints {"perSecond": ..., "ms": ...}.
//
//   node bench/scale/raw-firer.ts http://127.0.0.1:PORT NAMESPACE COUNT IN_FLIGHT
import { Agent, request } from 'undici';
import type { Hook } from '../../src/api/deployhook.ts';
import { fitCertificate, type DeployHookRun } from '../../src/api/deployhookrun.ts';
import { nowTime } from '../../src/api/metav1.ts';
import { createAuthority } from '../../src/certs/authority.ts';
import { checkHook } from '../../src/controller/hook-validity.ts';
import { firingOf, planRun } from '../../src/controller/plan.ts';
import { toTlsSecret } from '../../src/controller/tls-secret.ts';
import type { KubeObject } from '../../src/kube/object.ts';
import { collectionPath, objectPath, RESOURCES } from '../../src/kube/paths.ts';
import { hookJob } from '../../src/runners/job-manifest.ts';
import { certificateFiles, snapshotInfo, snapshotSecret } from '../../src/runners/snapshot.ts';

const [server, namespace, countText, inFlightText] = process.argv.slice(2);
if (!server?.startsWith('http://127.0.0.1:') || !namespace) throw new Error('usage: raw-firer.ts http://127.0.0.1:PORT NAMESPACE COUNT IN_FLIGHT');
const count = Number(countText);
const inFlight = Number(inFlightText);
const JOB_OPTIONS = { defaultImage: 'alpine:3.22', ttlSecondsAfterFinished: 3600 };
const agent = new Agent({ connections: inFlight, keepAliveTimeout: 60_000 });

async function send<T>(method: 'POST' | 'PATCH', path: string, body: unknown, contentType = 'application/json'): Promise<T> {
  const res = await request(`${server}${path}`, { method, dispatcher: agent, headers: { 'content-type': contentType, accept: 'application/json' }, body: JSON.stringify(body) });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

// The certificates of the Secrets that fire, as TLS Secret objects (read once, as the operator's
// cache reads each Secret once; not written: the writes measured are the firings').
const authority = createAuthority({ name: 'certhook raw firer CA' });
const secrets = Array.from({ length: 48 }, (_, i) => {
  const issued = authority.issue({ dnsNames: [`host-${i}.bench.example.com`, `www.host-${i}.bench.example.com`] });
  const object: KubeObject = {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: { name: `site-${i}`, namespace, uid: `raw-secret-${i}`, creationTimestamp: nowTime() },
    data: { 'tls.crt': Buffer.from(issued.fullchainPem).toString('base64'), 'tls.key': Buffer.from(issued.keyPem).toString('base64') },
  };
  const { fingerprint: _fingerprint, ...files } = certificateFiles(object)!;
  return { cached: toTlsSecret(object), files };
});

const stored = await send<KubeObject>('POST', collectionPath(RESOURCES.deployHooks, namespace), { apiVersion: 'certhook.io/v1alpha1', kind: 'DeployHook', metadata: { name: 'raw' }, spec: { job: { command: 'true' } } });
const checked = checkHook(stored);
if (!checked.valid) throw new Error(`the raw firings' hook is invalid: ${checked.problems.join('; ')}`);
const hook: Hook = checked.hook;

/** One firing's writes, in the operator's order; each firing a Secret uid of its own. */
async function fire(i: number): Promise<void> {
  const { cached, files } = secrets[i % secrets.length]!;
  const planned = planRun(firingOf(hook, 'renewed', { ...cached, uid: `raw-secret-${i}` }), new Date().toISOString(), namespace!);
  const run = await send<DeployHookRun>('POST', collectionPath(RESOURCES.deployHookRuns, namespace), planned);
  const snapshot = snapshotSecret(run, files);
  await send('POST', collectionPath(RESOURCES.secrets, namespace), snapshot);
  const certificate = run.spec.certificate!;
  await send('POST', collectionPath(RESOURCES.jobs, namespace), hookJob(run, hook, hook.spec.job!, certificate, snapshotInfo(snapshot), JOB_OPTIONS));
  await send('PATCH', objectPath(RESOURCES.deployHookRuns, namespace, run.metadata.name!, 'status'), {
    status: { observedGeneration: 1, phase: 'Running', certificate: fitCertificate(certificate), startTime: nowTime(), snapshotSecretName: snapshot.metadata.name, job: { name: run.metadata.name } },
  }, 'application/merge-patch+json');
}

let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: inFlight }, async () => {
  while (next < count) await fire(next++);
}));
const ms = performance.now() - started;
await agent.close();
console.log(JSON.stringify({ perSecond: (count / ms) * 1000, ms }));
