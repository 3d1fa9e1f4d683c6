// TLS Secret changes → firings. Writes to one Secret within the quiet period coalesce: when the
// Secret has been quiet that long, the last state is compared with the state before the burst,
// and only that final version fires.
import type { Change } from '../kube/reflector.ts';
import type { OperatorContext } from './context.ts';
import { detect } from './detect.ts';
import { firingOf } from './plan.ts';
import { certificateFiles, firingHooks, planFiring } from './planner.ts';
import type { SerialQueues } from './serial-queues.ts';
import type { TlsSecret } from './tls-secret.ts';

interface Burst {
  /** The state the operator last acted on, before the first change of the burst. */
  before: TlsSecret | undefined;
  /** The last change of the burst: its object carries the files that will be snapshotted. */
  last: Change<TlsSecret>;
  timer: NodeJS.Timeout | undefined;
}

export class SecretChanges {
  private readonly bursts = new Map<string, Burst>();
  private readonly ctx: OperatorContext;
  private readonly serial: SerialQueues;

  constructor(ctx: OperatorContext, serial: SerialQueues) {
    this.ctx = ctx;
    this.serial = serial;
  }

  /** Secrets with a burst still in its quiet period. */
  get pending(): number {
    return this.bursts.size;
  }

  add(change: Change<TlsSecret>): void {
    const burst = this.bursts.get(change.key);
    if (burst) {
      clearTimeout(burst.timer);
      burst.last = change;
    } else {
      this.bursts.set(change.key, { before: change.previous, last: change, timer: undefined });
    }
    if (this.ctx.config.quietPeriodMs === 0) return this.settle(change.key);
    this.bursts.get(change.key)!.timer = setTimeout(() => this.settle(change.key), this.ctx.config.quietPeriodMs);
  }

  /** Forgets every unsettled burst (on losing leadership): the next leader's ledger covers them. */
  clear(): void {
    for (const burst of this.bursts.values()) clearTimeout(burst.timer);
    this.bursts.clear();
  }

  private settle(key: string): void {
    const burst = this.bursts.get(key);
    if (!burst) return;
    this.bursts.delete(key);
    const { before, last } = burst;
    for (const detection of detect(before, last.current)) {
      const hooks = firingHooks(this.ctx, detection);
      if (!hooks.length) continue;
      // The files come from the object the last event carried and are dropped once written. A
      // delete seen only by a re-list carries none: preparing the run finds them.
      const files = last.raw ? certificateFiles(last.raw) : undefined;
      this.ctx.log.debug({ secret: key, event: detection.event, hooks: hooks.length }, 'certificate event');
      for (const hook of hooks) {
        const firing = firingOf(hook, detection.event, detection.secret);
        this.serial.enqueue(key, () => planFiring(this.ctx, firing, files));
      }
    }
  }
}
