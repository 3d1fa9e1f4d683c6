// Two operator processes with --leader-elect against one sandbox: one acts, a SIGTERM hands over
// at once, a SIGKILL hands over within a lease duration, and every firing happens exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { clients, installCrds } from '../support/operator.ts';
import { readFile } from 'node:fs/promises';
import { createHook, createTlsSecret, finishedRuns, issue, listRuns, outputDir } from '../support/fixtures.ts';
import { eventually } from '../support/eventually.ts';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'certhook.js');
const LEASE_SECONDS = 3;

interface Replica {
  name: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

let sandbox: TestSandbox;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const replicas: Replica[] = [];

function startReplica(name: string): Replica {
  const child = spawn(process.execPath, [
    CLI, 'operator', '--kubeconfig', sandbox.kubeconfigPath, '--namespace', 'le', '--leader-elect',
    '--leader-election-namespace', 'le', '--lease-duration', String(LEASE_SECONDS), '--renew-deadline', '2', '--retry-period', '0.4',
    '--quiet-period', '0', '--health-port', '0', '--metrics-port', '0', '--log-level', 'info',
  ], { env: { ...process.env, POD_NAME: name }, stdio: ['ignore', 'pipe', 'inherit'] });
  const replica: Replica = { name, child, logs: [], exited: new Promise((resolve) => child.on('exit', resolve)) };
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) replica.logs.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  replicas.push(replica);
  return replica;
}

const acting = (r: Replica) => r.logs.filter((l) => l.msg === 'acting: reconciling every Secret and run').length;
const stopped = (r: Replica) => r.logs.some((l) => l.msg === 'no longer acting: stopped planning and executing runs');
const planned = (r: Replica) => r.logs.filter((l) => l.msg === 'run planned').length;

async function leader(): Promise<Replica> {
  return eventually(() => {
    const leaders = replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null && acting(r) > 0 && !stopped(r));
    assert.equal(leaders.length, 1, `leaders: ${leaders.map((r) => r.name).join(', ')}`);
    return leaders[0]!;
  }, 30_000);
}

before(async () => {
  sandbox = await testSandbox();
  ({ core, custom } = clients(sandbox));
  await installCrds(sandbox);
  await core.createNamespace({ body: { metadata: { name: 'le' } } });
  await createHook(custom, 'le', 'h', { job: { command: 'true' } });
});

after(async () => {
  for (const r of replicas) r.child.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.exited));
  await sandbox.close();
});

describe('leader election', () => {
  test('of two replicas only the leader acts; SIGTERM hands over at once; SIGKILL within a lease duration', async () => {
    startReplica('replica-a');
    startReplica('replica-b');
    const first = await leader();
    const standby = replicas.find((r) => r !== first)!;
    await createTlsSecret(core, 'le', 'one', issue('one.example.com'));
    await finishedRuns(custom, 'le', 1);
    assert.equal(planned(first), 1);
    assert.equal(planned(standby), 0, 'the standby plans nothing');

    const released = Date.now();
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    const second = await leader();
    assert.equal(second, standby);
    const takeoverMs = Date.now() - released;
    await createTlsSecret(core, 'le', 'two', issue('two.example.com'));
    await finishedRuns(custom, 'le', 2);
    const lease = await sandbox.kubectl(['get', 'lease', 'certhook-leader', '-n', 'le', '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.match(lease.stdout, /^replica-b_|^replica-a_/);
    assert.ok(lease.stdout.startsWith(second.name), `the Lease names the new leader (${lease.stdout})`);
    console.log(`takeover after SIGTERM: ${takeoverMs} ms (lease duration ${LEASE_SECONDS}s)`);

    const third = startReplica('replica-c');
    await eventually(() => assert.ok(third.logs.some((l) => l.msg === 'caches filled')));
    second.child.kill('SIGKILL');
    await second.exited;
    // Changed while no replica leads: the new leader's ledger fires it once.
    await createTlsSecret(core, 'le', 'three', issue('three.example.com'));
    const next = await leader();
    assert.equal(next, third);
    const runs = await finishedRuns(custom, 'le', 3);
    assert.deepEqual(runs.map((r) => `${r.spec.secretRef.name}/${r.spec.event}/${r.status?.phase}`).sort(), ['one/created/Succeeded', 'three/created/Succeeded', 'two/created/Succeeded']);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await listRuns(custom, 'le')).length, 3, 'nothing fired twice');
  });

  test('a leader killed mid-group: the next one neither reruns the pre hook nor loses the deploy hook, nor starts it early', async () => {
    const out = await outputDir();
    await createHook(custom, 'le', 'gate', { stage: 'pre', job: { command: `sleep 2; echo "$CERTMATE_RUN_NAME" >> "${out}/gate"` } });
    const current = await leader();
    if (!replicas.some((r) => r !== current && r.child.exitCode === null && r.child.signalCode === null)) startReplica('replica-d');
    await createTlsSecret(core, 'le', 'staged', issue('staged.example.com'));
    await eventually(async () => {
      const runs = (await listRuns(custom, 'le')).filter((r) => r.spec.secretRef.name === 'staged');
      assert.equal(runs.find((r) => r.spec.hookRef.name === 'gate')?.status?.phase, 'Running');
      assert.equal(runs.find((r) => r.spec.hookRef.name === 'h')?.status?.phase, 'Waiting');
    });
    current.child.kill('SIGKILL');
    await current.exited;
    const next = await leader();
    assert.notEqual(next, current);
    const runs = (await finishedRuns(custom, 'le', 5, 60_000)).filter((r) => r.spec.secretRef.name === 'staged');
    const gate = runs.find((r) => r.spec.hookRef.name === 'gate')!;
    const deploy = runs.find((r) => r.spec.hookRef.name === 'h')!;
    assert.equal(gate.status?.phase, 'Succeeded');
    assert.equal(deploy.status?.phase, 'Succeeded');
    assert.ok(deploy.status!.startTime! >= gate.status!.completionTime!, 'the deploy hook started after its pre hook ended');
    assert.equal((await readFile(join(out, 'gate'), 'utf8')).trim().split('\n').length, 1, 'the pre hook ran once');
  });
});
