// The chaos run's stage checks, pure: given the hooks (their stage and failure policy) and every
// side effect the run saw — a job hook's execution, from the start and end times its command
// recorded, or a webhook hook's delivery, from when its first POST reached the receiver to when a
// 2xx answer first left it — it finds, for every group (one Secret, certificate and event: a
// Secret's name is its uid here, as the run never re-creates one), the side effects that started
// too early:
//
//   - a deploy hook's, unless every pre hook of its group had ended before it started, or when a
//     pre hook with failurePolicy Fail failed (its deploy runs must be Skipped: no side effect);
//   - a post hook's, unless every pre and deploy side effect of its group had ended before it
//     started (a Skipped run has none, and a pre run that never ran — a revoke whose files were
//     never captured fails without running — holds nothing back).
//
// And, for the groups whose outcome the harness knows (the expected firings: it decided which pre
// hooks fail), whether each post hook was told that outcome (CERTMATE_RESULT and
// CERTMATE_FAILED_HOOKS, or result and failed_hooks): succeeded when nothing failed, else failed
// with the failed hooks by name.

export type Stage = 'pre' | 'deploy' | 'post';

export interface StagedHook {
  name: string;
  stage: Stage;
  failurePolicy: 'Fail' | 'Ignore';
}

/** One side effect of one hook for one firing. Times in ms, one clock (the host's). */
export interface SideEffect {
  hook: string;
  /** `${secret} ${fingerprint} ${event}` */
  group: string;
  start: number;
  /** Undefined: never ended (a webhook never answered 2xx). */
  end: number | undefined;
  /** The job exited 0; the webhook was answered 2xx. */
  ok: boolean;
  /** For a post hook, what it was told of its group ('' when nothing). */
  result: string;
  failedHooks: string[];
}

export interface GroupOutcome {
  result: 'succeeded' | 'failed';
  failedHooks: string[];
}

export interface StageCheck {
  /** Groups with at least one side effect. */
  groups: number;
  /** Side effects of deploy and post hooks that started before they were allowed to (at most one each). */
  violations: number;
  violationDetails: string[];
  /**
   * The closest calls among the side effects in order (ms from the last end it waited for to its
   * start; undefined: none checked): how much room the checks had.
   */
  closest: { deploy?: number; post?: number };
  /** Which side effects those closest calls were, by stage. */
  closestDetails: { deploy?: string; post?: string };
  /** Post side effects whose result was checked, and those told the wrong one. */
  resultsChecked: number;
  wrongResults: number;
  wrongResultDetails: string[];
}

const DETAILS = 20;

export function checkStages(
  hooks: readonly StagedHook[],
  effects: readonly SideEffect[],
  /** The outcome each group's post hooks must be told, for the groups the harness knows it of. */
  outcomes: ReadonlyMap<string, GroupOutcome>,
  /** How to name a group in a detail line (e.g. with the certificate's version `tls-4#2`). */
  describe: (group: string) => string = (group) => group,
): StageCheck {
  const stageOf = new Map(hooks.map((h) => [h.name, h]));
  const pre = hooks.filter((h) => h.stage === 'pre');
  const byGroup = new Map<string, SideEffect[]>();
  for (const e of effects) {
    const list = byGroup.get(e.group) ?? [];
    list.push(e);
    byGroup.set(e.group, list);
  }
  const check: StageCheck = { groups: byGroup.size, violations: 0, violationDetails: [], closest: {}, closestDetails: {}, resultsChecked: 0, wrongResults: 0, wrongResultDetails: [] };
  const violation = (e: SideEffect, why: string) => {
    check.violations++;
    if (check.violationDetails.length < DETAILS) check.violationDetails.push(`${e.hook} for ${describe(e.group)} started at ${e.start}: ${why}`);
  };
  const ended = (list: SideEffect[]) => Math.min(...list.map((x) => x.end ?? Infinity));
  const margin = (stage: 'deploy' | 'post', e: SideEffect, waitedFor: { hook: string; end: number }[]) => {
    if (!waitedFor.length) return;
    const last = waitedFor.reduce((a, b) => (b.end > a.end ? b : a));
    const room = e.start - last.end;
    if (room >= (check.closest[stage] ?? Infinity)) return;
    check.closest[stage] = room;
    check.closestDetails[stage] = `${e.hook} for ${describe(e.group)} started ${room} ms after ${last.hook} ended`;
  };

  for (const [group, list] of byGroup) {
    const of = (hook: string) => list.filter((x) => x.hook === hook);
    for (const e of list) {
      const stage = stageOf.get(e.hook)?.stage;
      if (stage === 'deploy') {
        const why: string[] = [];
        const waitedFor: { hook: string; end: number }[] = [];
        for (const p of pre) {
          const ran = of(p.name);
          if (!ran.length) why.push(`pre hook ${p.name} never ran`);
          else if (p.failurePolicy === 'Fail' && ran.some((x) => !x.ok)) why.push(`pre hook ${p.name} (Fail) failed, so it should have been Skipped`);
          else if (ended(ran) > e.start) why.push(`pre hook ${p.name} ended ${ended(ran) - e.start} ms later`);
          else waitedFor.push({ hook: p.name, end: ended(ran) });
        }
        if (why.length) violation(e, why.join('; '));
        else margin('deploy', e, waitedFor);
      } else if (stage === 'post') {
        const why: string[] = [];
        const waitedFor: { hook: string; end: number }[] = [];
        for (const h of hooks) {
          if (h.stage === 'post') continue;
          const ran = of(h.name);
          if (!ran.length) continue;
          if (ended(ran) > e.start) why.push(`${h.stage} hook ${h.name} ${Number.isFinite(ended(ran)) ? `ended ${ended(ran) - e.start} ms later` : 'never ended'}`);
          else waitedFor.push({ hook: h.name, end: ended(ran) });
        }
        if (why.length) violation(e, why.join('; '));
        else margin('post', e, waitedFor);
        const outcome = outcomes.get(group);
        if (outcome) {
          check.resultsChecked++;
          const told = `${e.result || '(none)'} [${[...e.failedHooks].sort().join(',')}]`;
          const right = `${outcome.result} [${[...outcome.failedHooks].sort().join(',')}]`;
          if (told !== right) {
            check.wrongResults++;
            if (check.wrongResultDetails.length < DETAILS) check.wrongResultDetails.push(`${e.hook} for ${describe(group)} was told ${told}, not ${right}`);
          }
        }
      }
    }
  }
  return check;
}
