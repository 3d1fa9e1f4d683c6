// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics
// (tools/leaderelection). The holder renews every retryPeriod. Others take the Lease only once
// they have seen its record unchanged for its leaseDuration, timed on their OWN monotonic clock
// from when they saw it change, so clock skew between machines does not matter. A leader that
// has not renewed for renewDeadline (< leaseDuration) stops leading before anyone may take over.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { isAlreadyExists, isConflict, isNotFound, KubeApiError } from './errors.ts';
import type { KubeObject } from './object.ts';
import { collectionPath, objectPath, RESOURCES } from './paths.ts';
import type { KubeMetrics } from '../metrics/kube.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with microseconds. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  log: Logger;
  namespace: string;
  name: string;
  /** This replica: unique among the candidates (pod name plus a random suffix, say). */
  identity: string;
  /** How long others wait, from when they last saw the Lease change, before taking it. Default 15. */
  leaseDurationSeconds?: number;
  /** How long a leader keeps leading without a successful renew. Default 10. */
  renewDeadlineSeconds?: number;
  /** The pause between attempts; fractions allowed. Default 2. */
  retryPeriodSeconds?: number;
  onStartedLeading: () => void;
  /** Called as soon as leadership is lost: renew deadline passed, Lease taken, or stop(). */
  onStoppedLeading: () => void;
  /** Reports leader_election_master_status for the Lease's name. */
  metrics?: KubeMetrics;
}

/** client-go's JitterFactor: candidates wait retryPeriod × (1 + random × 1.2) between attempts. */
const JITTER_FACTOR = 1.2;

/** Kubernetes MicroTime (RFC 3339, six fractional digits); Date only has milliseconds. */
const microTime = (): string => new Date().toISOString().replace(/Z$/, '000Z');

interface Observed {
  /** The election record, to notice when it changes. */
  record: string;
  holder: string;
  /** Local monotonic time (ms) at which this record was first seen. */
  seenAt: number;
  durationMs: number;
}

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly namespace: string;
  private readonly name: string;
  private readonly identity: string;
  private readonly path: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly onStartedLeading: () => void;
  private readonly onStoppedLeading: () => void;
  private readonly abort = new AbortController();
  private observed: Observed | undefined;
  private leading = false;
  /** Monotonic time (ms) past which this replica must not believe it leads. */
  private leaderUntil = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(opts: LeaderElectionOptions) {
    const lease = opts.leaseDurationSeconds ?? 15;
    const renew = opts.renewDeadlineSeconds ?? 10;
    const retry = opts.retryPeriodSeconds ?? 2;
    // client-go's checks: the leader must give up before others may take over, and must get
    // more than one (jittered) attempt to renew before it gives up.
    if (!(retry > 0)) throw new Error('retryPeriodSeconds must be greater than zero');
    if (!(renew > retry * JITTER_FACTOR)) throw new Error(`renewDeadlineSeconds must be greater than retryPeriodSeconds × ${JITTER_FACTOR}`);
    if (!(lease > renew)) throw new Error('leaseDurationSeconds must be greater than renewDeadlineSeconds');
    if (!opts.identity) throw new Error('identity must not be empty');
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.path = objectPath(RESOURCES.leases, opts.namespace, opts.name);
    this.log = opts.log.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    // The field is an integer; rounding up only makes others wait longer, never shorter.
    this.leaseDurationSeconds = Math.ceil(lease);
    this.renewDeadlineMs = renew * 1000;
    this.retryPeriodMs = retry * 1000;
    this.onStartedLeading = opts.onStartedLeading;
    this.onStoppedLeading = opts.onStoppedLeading;
    opts.metrics?.leaderElection(opts.name, () => this.isLeader);
  }

  /** Starts competing for the Lease, in the background, until stop(). */
  start(): void {
    if (this.loop || this.stopped) throw new Error('a LeaderElector starts once');
    this.loop = this.run();
  }

  /** Whether this replica leads: never past its last successful renew + renewDeadline. */
  get isLeader(): boolean {
    return this.leading && performance.now() < this.leaderUntil;
  }

  /**
   * Stops competing. With `release`, a Lease this replica holds is handed back (holder "",
   * duration 1s) so a standby takes over at once. Stop the work the Lease guards first: after the
   * release another replica may start it. Calls onStoppedLeading if this replica was leading.
   */
  stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped ??= this.shutdown(opts.release ?? false);
    return this.stopped;
  }

  private async shutdown(release: boolean): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (release) await this.release();
    this.stopLeading('stopped');
  }

  private async run(): Promise<void> {
    this.log.info('competing for the leader lease');
    while (!this.abort.signal.aborted) {
      // Timed from before the request: others time the Lease from when they see the write,
      // which is later, so our deadline always ends before their expiry does.
      const startedAt = performance.now();
      if (await this.tryAcquireOrRenew()) this.holdUntil(startedAt + this.renewDeadlineMs);
      const waitMs = this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR);
      await delay(waitMs, undefined, { signal: this.abort.signal }).catch(() => {});
    }
  }

  /** One attempt: true when the Lease now names this replica. Never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    // No answer within the renew deadline is no use: give up on it and try again.
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.renewDeadlineMs)]);
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>('GET', this.path, { signal });
    } catch (err) {
      return isNotFound(err) ? this.create(signal) : this.failed('read', err);
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const mine = holder === this.identity;
    if (holder && !mine) {
      this.stopLeading(`the lease is held by ${holder}`);
      if (!this.observedExpired()) {
        this.log.debug({ holder }, 'the lease is held by another replica and has not expired');
        return false;
      }
    }
    const now = microTime();
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: mine ? (spec.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      // The resourceVersion read above makes this conditional: if anyone wrote in between, 409.
      this.observe(await this.client.request<Lease>('PUT', this.path, { body: { ...lease, spec: next }, signal }));
    } catch (err) {
      return this.failed(mine ? 'renew' : 'acquire', err);
    }
    if (!mine) this.log.info({ previousHolder: holder, leaseTransitions: next.leaseTransitions }, 'took the lease');
    return true;
  }

  private async create(signal: AbortSignal): Promise<boolean> {
    const now = microTime();
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: { holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
    };
    try {
      this.observe(await this.client.request<Lease>('POST', collectionPath(RESOURCES.leases, this.namespace), { body: lease, signal }));
    } catch (err) {
      return this.failed('create', err);
    }
    this.log.info('created the lease');
    return true;
  }

  private failed(action: 'read' | 'create' | 'acquire' | 'renew', err: unknown): false {
    if (this.abort.signal.aborted) return false;
    const fields = err instanceof KubeApiError ? { action, code: err.code, reason: err.reason, error: err.message } : { action, error: String(err) };
    // Losing a race for the Lease is the election working, not a failure.
    if (isConflict(err) || isAlreadyExists(err)) this.log.info(fields, 'another replica wrote the lease first');
    else this.log.warn(fields, `could not ${action} the lease`);
    return false;
  }

  /** Notes when the election record changes, by the local clock (client-go's observedTime). */
  private observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([holder, spec.leaseDurationSeconds, spec.acquireTime, spec.renewTime, spec.leaseTransitions]);
    if (record === this.observed?.record) return;
    if (holder && holder !== this.identity && holder !== this.observed?.holder) this.log.info({ holder }, 'observed a new leader');
    // The holder's own duration, as client-go now uses: it is what the holder promised to honour.
    const durationSeconds = spec.leaseDurationSeconds ?? this.leaseDurationSeconds;
    this.observed = { record, holder, seenAt: performance.now(), durationMs: durationSeconds * 1000 };
  }

  private observedExpired(): boolean {
    return !this.observed || performance.now() >= this.observed.seenAt + this.observed.durationMs;
  }

  private holdUntil(until: number): void {
    const now = performance.now();
    // The write took longer than the deadline: the others may already count the Lease as expired.
    if (until <= now) return;
    this.leaderUntil = until;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.stopLeading('the renew deadline passed'), until - now);
    if (this.leading) return;
    this.leading = true;
    this.log.info('started leading');
    this.notify(this.onStartedLeading, 'onStartedLeading');
  }

  private stopLeading(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    clearTimeout(this.deadlineTimer);
    this.log.info({ reason }, 'stopped leading');
    this.notify(this.onStoppedLeading, 'onStoppedLeading');
  }

  /**
   * Hands the Lease back if it still names this replica (client-go's ReleaseOnCancel). Read
   * afresh: an attempt cut short by stop() may have renewed it after all.
   */
  private async release(): Promise<void> {
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const lease = await this.client.request<Lease>('GET', this.path, { signal });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime();
      const spec: LeaseSpec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
      await this.client.request<Lease>('PUT', this.path, { body: { ...lease, spec }, signal });
      this.log.info('released the lease');
    } catch (err) {
      if (isNotFound(err)) return;
      const fields = err instanceof KubeApiError ? { code: err.code, reason: err.reason, error: err.message } : { error: String(err) };
      this.log.warn(fields, 'could not release the lease: a standby takes over when it expires');
    }
  }

  private notify(callback: () => void, name: string): void {
    try {
      callback();
    } catch (err) {
      this.log.error({ error: String(err) }, `${name} threw`);
    }
  }
}
