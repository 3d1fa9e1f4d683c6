// Leader election over the sandbox's real HTTP API: two replicas with short timings, and every way
// a leader goes away (release, crash, failing API, partition) or must never be let in.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { KubeClient, type RequestInit as KubeRequestInit } from '../../src/kube/client.ts';
import { credentialsFromKubeconfig } from '../../src/kube/kubeconfig.ts';
import { KubeApiError } from '../../src/kube/errors.ts';
import { LeaderElector, type LeaderElectionOptions, type Lease, type LeaseSpec } from '../../src/kube/leader-election.ts';
import { collectionPath, objectPath, RESOURCES } from '../../src/kube/paths.ts';
import { createLogger } from '../../src/log.ts';
import { eventually } from '../support/eventually.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';

const NAMESPACE = 'default';
const FAST = { leaseDurationSeconds: 1, renewDeadlineSeconds: 0.6, retryPeriodSeconds: 0.2 };
type Timings = Pick<LeaderElectionOptions, 'leaseDurationSeconds' | 'renewDeadlineSeconds' | 'retryPeriodSeconds'>;

let sandbox: TestSandbox;
let leaseCount = 0;
/** Run after each test, last registered first. */
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  sandbox = await testSandbox({ workloads: false });
});
afterEach(async () => {
  sandbox.faults.reset();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(() => sandbox.close());

async function newClient(): Promise<KubeClient> {
  const client = KubeClient.create(await credentialsFromKubeconfig(sandbox.kubeconfig()));
  cleanups.push(() => client.close());
  return client;
}

const microTime = () => new Date().toISOString().replace(/Z$/, '000Z');

/** Runs `before` ahead of every request the client makes: to cut it off, or to race it. */
function intercept(client: KubeClient, beforeRequest: (method: string, path: string) => void | Promise<void>): void {
  const request = client.request.bind(client);
  client.request = async <T>(method: string, path: string, init: KubeRequestInit): Promise<T> => {
    await beforeRequest(method, path);
    return request<T>(method, path, init);
  };
}

interface Replica {
  identity: string;
  elector: LeaderElector;
  client: KubeClient;
  logs: Record<string, unknown>[];
}

/** One Lease, the replicas competing for it, and the order in which they started and stopped leading. */
async function election() {
  const name = `lease-${++leaseCount}`;
  const path = objectPath(RESOURCES.leases, NAMESPACE, name);
  const admin = await newClient();
  const timeline: string[] = [];
  return {
    name,
    timeline,
    lease: () => admin.get<Lease>(path),
    createLease: (spec: LeaseSpec) =>
      admin.create<Lease>(collectionPath(RESOURCES.leases, NAMESPACE), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: NAMESPACE }, spec }),
    /** Writes the Lease as `identity` would, outside any LeaderElector (a rival replica). */
    async hold(identity: string): Promise<Lease> {
      const lease = await admin.get<Lease>(path);
      const spec = lease.spec ?? {};
      const now = microTime();
      const taking = spec.holderIdentity !== identity;
      return admin.replace<Lease>(path, {
        ...lease,
        spec: { ...spec, holderIdentity: identity, leaseDurationSeconds: 1, renewTime: now, ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}) },
      });
    },
    async replica(identity: string, timings: Timings = FAST, prepare?: (client: KubeClient) => void): Promise<Replica> {
      const client = await newClient();
      prepare?.(client);
      const logs: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      const elector = new LeaderElector({
        client,
        log: createLogger('debug', sink),
        namespace: NAMESPACE,
        name,
        identity,
        ...timings,
        onStartedLeading: () => timeline.push(`${identity} started`),
        onStoppedLeading: () => timeline.push(`${identity} stopped`),
      });
      cleanups.push(() => elector.stop());
      elector.start();
      return { identity, elector, client, logs };
    },
  };
}

type Election = Awaited<ReturnType<typeof election>>;

/** A rival that keeps renewing the Lease by hand every 200 ms until stopped. */
function rival(e: Election, identity: string) {
  let renewals = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await e.hold(identity).then(() => renewals++, () => {});
      await delay(200);
    }
  })();
  cleanups.push(async () => {
    running = false;
    await loop;
  });
  return {
    renewals: () => renewals,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Replays the timeline: at no point may two replicas both believe they lead. */
function assertOneLeaderAtATime(timeline: string[]): void {
  const leading = new Set<string>();
  for (const entry of timeline) {
    const [identity, what] = entry.split(' ') as [string, string];
    if (what === 'started') leading.add(identity);
    else leading.delete(identity);
    assert.ok(leading.size <= 1, `two leaders at once: ${timeline.join(', ')}`);
  }
}

const logged = (r: Replica, msg: string) => r.logs.filter((l) => l.msg === msg);

async function leaderOf(...replicas: Replica[]): Promise<Replica> {
  return eventually(() => {
    const leaders = replicas.filter((r) => r.elector.isLeader);
    assert.equal(leaders.length, 1);
    return leaders[0]!;
  });
}

/** Waits until `standby` has read the Lease `holder` holds, so its expiry clock is running. */
const sawLeader = (standby: Replica, holder: Replica) =>
  eventually(() => assert.ok(logged(standby, 'observed a new leader').some((l) => l.holder === holder.identity)));

describe('LeaderElector', () => {
  test('exactly one of two replicas leads, and keeps renewing the Lease that names it', async () => {
    const e = await election();
    const a = await e.replica('a');
    const b = await e.replica('b');
    const leader = await leaderOf(a, b);
    const standby = leader === a ? b : a;
    const first = await e.lease();
    assert.equal(first.spec?.holderIdentity, leader.identity);
    assert.equal(first.spec?.leaseDurationSeconds, 1);
    assert.equal(first.spec?.leaseTransitions, 0);
    assert.match(first.spec?.acquireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(first.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // Renewals move renewTime and keep acquireTime, holder and transitions.
    const renewed = await eventually(async () => {
      const lease = await e.lease();
      assert.notEqual(lease.spec?.renewTime, first.spec?.renewTime);
      return lease;
    });
    assert.deepEqual(
      { holder: renewed.spec?.holderIdentity, acquired: renewed.spec?.acquireTime, transitions: renewed.spec?.leaseTransitions },
      { holder: leader.identity, acquired: first.spec?.acquireTime, transitions: 0 },
    );
    assert.equal(standby.elector.isLeader, false);
    assert.deepEqual(e.timeline, [`${leader.identity} started`]);
  });

  test('stop({ release: true }) hands the Lease to the standby at once, long before it could expire', async () => {
    // With a 30 s lease, only the release can explain a takeover within 10 s.
    const slow = { leaseDurationSeconds: 30, renewDeadlineSeconds: 20, retryPeriodSeconds: 0.2 };
    const e = await election();
    const a = await e.replica('a', slow);
    await leaderOf(a);
    const b = await e.replica('b', slow);
    await sawLeader(b, a);

    await a.elector.stop({ release: true });
    assert.equal(a.elector.isLeader, false);
    assert.deepEqual(e.timeline, ['a started', 'a stopped']);
    assert.equal(logged(a, 'released the lease').length, 1);

    await eventually(() => assert.equal(b.elector.isLeader, true), 10_000);
    const lease = await e.lease();
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseDurationSeconds, 30);
    assert.equal(lease.spec?.leaseTransitions, 1);
    assert.equal(logged(b, 'took the lease')[0]?.previousHolder, '');
    assert.deepEqual(e.timeline, ['a started', 'a stopped', 'b started']);
  });

  test('a leader that dies without releasing is replaced once its Lease expires', async () => {
    const timings = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.2 };
    const e = await election();
    const a = await e.replica('a', timings);
    await leaderOf(a);
    const b = await e.replica('b', timings);
    await sawLeader(b, a);

    await a.elector.stop({ release: false });
    assert.deepEqual(e.timeline, ['a started', 'a stopped']);
    assert.equal((await e.lease()).spec?.holderIdentity, 'a', 'the Lease was not released');

    await eventually(() => assert.equal(b.elector.isLeader, true));
    const lease = await e.lease();
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseTransitions, 1);
    assert.equal(logged(b, 'took the lease')[0]?.previousHolder, 'a');
  });

  test('a leader whose renewals keep failing stops leading at once; leadership resumes when the API recovers', async () => {
    const e = await election();
    const a = await e.replica('a');
    await leaderOf(a);
    const b = await e.replica('b');
    await sawLeader(b, a);

    sandbox.faults.failNext('update', 'leases', 1000, 500);
    await eventually(() => assert.deepEqual(e.timeline, ['a started', 'a stopped']));
    assert.equal(a.elector.isLeader, false);
    assert.equal(b.elector.isLeader, false);
    assert.ok(sandbox.faults.injected('update', 'leases') > 0);
    const failures = logged(a, 'could not renew the lease');
    assert.ok(failures.length > 0);
    assert.deepEqual({ level: failures[0]!.level, code: failures[0]!.code }, { level: 'warn', code: 500 });
    assert.equal(logged(a, 'stopped leading')[0]?.reason, 'the renew deadline passed');

    sandbox.faults.reset();
    const leader = await leaderOf(a, b);
    assert.equal((await e.lease()).spec?.holderIdentity, leader.identity);
    assertOneLeaderAtATime(e.timeline);
  });

  test('a partitioned leader stops leading before the standby takes over, and stays standby once it heals', async () => {
    let partitioned = false;
    let requestsSinceHealed = 0;
    const e = await election();
    const a = await e.replica('a', FAST, (client) =>
      intercept(client, () => {
        if (partitioned) throw new KubeApiError(0, 'Transport', 'network partition');
        requestsSinceHealed++;
      }),
    );
    await leaderOf(a);
    const b = await e.replica('b');
    await sawLeader(b, a);

    partitioned = true;
    await eventually(() => assert.equal(b.elector.isLeader, true));
    assert.equal(a.elector.isLeader, false);
    assert.deepEqual(e.timeline, ['a started', 'a stopped', 'b started']);
    assert.equal((await e.lease()).spec?.leaseTransitions, 1);

    // Healed, a reads b's Lease again and again (8 retry periods, longer than a lease) and leaves it alone.
    partitioned = false;
    requestsSinceHealed = 0;
    await eventually(() => assert.ok(requestsSinceHealed >= 8));
    assert.equal(a.elector.isLeader, false);
    assert.equal(b.elector.isLeader, true);
    assert.equal((await e.lease()).spec?.holderIdentity, 'b');
    assert.deepEqual(e.timeline, ['a started', 'a stopped', 'b started']);
  });

  test('a Lease another identity keeps renewing is never taken; once it stops, it is, and leaseTransitions counts it', async () => {
    const e = await election();
    await e.createLease({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    const other = rival(e, 'other');
    await eventually(() => assert.ok(other.renewals() >= 1));
    const held = await e.lease();
    assert.equal(held.spec?.leaseTransitions, 1);

    const a = await e.replica('a');
    // Ten renewals take more than two seconds: twice the lease duration.
    await eventually(() => assert.ok(other.renewals() >= 11 && logged(a, 'the lease is held by another replica and has not expired').length >= 3));
    assert.equal(a.elector.isLeader, false);
    assert.deepEqual(e.timeline, []);
    assert.equal((await e.lease()).spec?.holderIdentity, 'other');

    await other.stop();
    await eventually(() => assert.equal(a.elector.isLeader, true));
    const taken = await e.lease();
    assert.equal(taken.spec?.holderIdentity, 'a');
    assert.equal(taken.spec?.leaseTransitions, 2);
    assert.notEqual(taken.spec?.acquireTime, held.spec?.acquireTime);
  });

  test('losing the race on the acquiring update (409) backs off and leaves the Lease to the winner', async () => {
    const e = await election();
    await e.createLease({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    let other: ReturnType<typeof rival> | undefined;
    // Just before a's first update, a rival takes the Lease: a's update carries a stale resourceVersion.
    const a = await e.replica('a', FAST, (client) =>
      intercept(client, async (method) => {
        if (method !== 'PUT' || other) return;
        await e.hold('other');
        other = rival(e, 'other');
      }),
    );

    await eventually(() => assert.equal(logged(a, 'another replica wrote the lease first')[0]?.code, 409));
    await eventually(() => assert.ok(other!.renewals() >= 11));
    assert.equal(a.elector.isLeader, false);
    assert.deepEqual(e.timeline, []);
    const lease = await e.lease();
    assert.equal(lease.spec?.holderIdentity, 'other');
    assert.equal(lease.spec?.leaseTransitions, 1);
  });

  test('rejects timings in which a leader could outlive its Lease', async () => {
    const base = { client: await newClient(), log: createLogger('silent'), namespace: NAMESPACE, name: 'x', identity: 'a', onStartedLeading() {}, onStoppedLeading() {} };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }), /leaseDurationSeconds must be greater/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineSeconds: 1, retryPeriodSeconds: 1 }), /renewDeadlineSeconds must be greater/);
    assert.throws(() => new LeaderElector({ ...base, retryPeriodSeconds: 0 }), /retryPeriodSeconds must be greater/);
    assert.doesNotThrow(() => new LeaderElector({ ...base, ...FAST }));
  });
});
