// A hook's status from its runs and its validity. Pure, and computed from scratch each time
// (level-triggered): the same runs always give the same status.
import type { Hook, DeployHookStatus, RunSummary } from '../api/deployhook.ts';
import type { DeployHookRun } from '../api/deployhookrun.ts';
import type { Condition, LabelSelector } from '../api/metav1.ts';
import { isClusterHook } from '../api/hook-ref.ts';
import { formatLabelSelector, fromLabelSelector, SelectorError } from '../kube/label-selector.ts';
import type { HookCondition } from '../runners/runner.ts';
import { newestFirst } from './run-state.ts';

/** How many runs the hook's status.history lists (the CRD's bound). */
export const HISTORY_LENGTH = 20;

export function runSummary(run: DeployHookRun): RunSummary {
  const s = run.status ?? {};
  const domain = s.certificate?.domain ?? run.spec.certificate?.domain;
  return {
    name: run.metadata.name!,
    event: run.spec.event,
    ...(s.phase ? { phase: s.phase } : { phase: 'Pending' }),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
    ...(run.spec.secretRef.name ? { secretName: run.spec.secretRef.name } : {}),
    ...(run.spec.secretRef.namespace ? { secretNamespace: run.spec.secretRef.namespace } : {}),
    ...(domain ? { domain } : {}),
    ...(s.startTime ? { startTime: s.startTime } : {}),
    ...(s.completionTime ? { completionTime: s.completionTime } : {}),
  };
}

/** The transition time moves only when the condition really changes. */
function withTransitionTime(condition: HookCondition, previous: readonly Condition[] | undefined, now: string): Condition {
  const before = previous?.find((c) => c.type === condition.type);
  const unchanged = before && before.status === condition.status && before.reason === condition.reason && before.message === condition.message;
  return { ...condition, lastTransitionTime: unchanged && before.lastTransitionTime ? before.lastTransitionTime : now };
}

export interface Validity {
  problems: string[];
}

/**
 * `others`: the conditions its runner reports (a webhook's Reachable), each with the generation
 * it was learnt for; `runNamespace`: where a ClusterDeployHook's runs live.
 */
export function hookStatus(hook: Hook, runs: DeployHookRun[], validity: Validity, now: string, others: HookCondition[] = [], runNamespace?: string): DeployHookStatus {
  const sorted = [...runs].sort(newestFirst);
  const count = (phase: string) => runs.filter((r) => r.status?.phase === phase).length;
  const generation = hook.metadata.generation ?? 0;
  const ready: HookCondition = validity.problems.length
    ? { type: 'Ready', status: 'False', reason: 'Invalid', message: validity.problems.join('; ') }
    : { type: 'Ready', status: 'True', reason: 'Valid', message: hook.spec.enabled === false ? 'the hook is valid and disabled: only manual runs execute' : 'the hook is valid and fires on its events' };
  const type = hook.spec.webhook ? 'webhook' : hook.spec.job ? 'job' : undefined;
  const { onEvents, domains, secretSelector } = hook.spec;
  const selector = secretSelector && selectorText(secretSelector);
  const namespaceSelector = isClusterHook(hook) ? hook.spec.namespaceSelector : undefined;
  const namespaces = namespaceSelector && selectorText(namespaceSelector);
  return {
    observedGeneration: generation,
    ...(runNamespace && isClusterHook(hook) ? { runNamespace } : {}),
    ...(namespaces ? { namespaces } : {}),
    ...(type ? { type } : {}),
    ...(onEvents ? { events: onEvents.join(',') } : {}),
    ...(domains ? { domains: domains.join(',') } : {}),
    ...(selector ? { selector } : {}),
    conditions: [ready, ...others].map((c) => withTransitionTime({ ...c, observedGeneration: c.observedGeneration ?? generation }, hook.status?.conditions, now)),
    ...(sorted[0] ? { lastRun: runSummary(sorted[0]) } : {}),
    totals: { succeeded: count('Succeeded'), failed: count('Failed'), skipped: count('Skipped') },
    history: sorted.slice(0, HISTORY_LENGTH).map(runSummary),
  };
}

/**
 * A selector that selects everything (`{}`) prints as nothing, as kubectl prints it; so does an
 * invalid one, which Ready=False already explains.
 */
function selectorText(selector: LabelSelector): string | undefined {
  try {
    return formatLabelSelector(fromLabelSelector(selector)) || undefined;
  } catch (err) {
    if (err instanceof SelectorError) return undefined;
    throw err;
  }
}
