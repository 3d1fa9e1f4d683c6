// The Table printers of the built-in kinds the sandbox serves, after kube-apiserver's
// pkg/printers/internalversion (which prints with Wide on, so priority-1 columns are included;
// kubectl shows them with `-o wide`).
import { formatLabelSelector, fromLabelSelector, type LabelSelector } from '../kube/label-selector.ts';
import type { KubeObject } from '../kube/object.ts';
import {
  age,
  column,
  CREATION_TIMESTAMP_DESCRIPTION,
  humanDuration,
  NAME_COLUMN,
  parseTimestamp,
  type Printer,
  type TableRowCondition,
} from './table.ts';

const AGE_COLUMN = column('Age', 'string', CREATION_TIMESTAMP_DESCRIPTION);
const wide = { priority: 1 };

// Loose readers for objects that have passed only the sandbox's shape checks.
type Fields = Record<string, unknown>;
const fields = (v: unknown): Fields => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const count = (v: unknown): number => (typeof v === 'number' ? v : 0);
const present = (v: unknown): boolean => v !== undefined && v !== null;
const created = (obj: KubeObject, now: Date) => age(obj.metadata.creationTimestamp, now);
const name = (obj: KubeObject) => obj.metadata.name ?? '';

/** Printers by resource (plural) name. */
export const builtinPrinters: Readonly<Record<string, Printer>> = {
  namespaces: {
    columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
    row: (obj, now) => ({ cells: [name(obj), text(fields(obj.status).phase), created(obj, now)] }),
  },
  secrets: {
    columns: [
      NAME_COLUMN,
      column('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
      column('Data', 'string', 'Data contains the secret data.'),
      AGE_COLUMN,
    ],
    // stringData counts too: the API server folds it into data.
    row: (obj, now) => ({
      cells: [name(obj), text(obj.type), new Set([...Object.keys(fields(obj.data)), ...Object.keys(fields(obj.stringData))]).size, created(obj, now)],
    }),
  },
  configmaps: {
    columns: [NAME_COLUMN, column('Data', 'string', 'Data contains the configuration data.'), AGE_COLUMN],
    row: (obj, now) => ({
      cells: [name(obj), Object.keys(fields(obj.data)).length + Object.keys(fields(obj.binaryData)).length, created(obj, now)],
    }),
  },
  serviceaccounts: {
    columns: [NAME_COLUMN, column('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE_COLUMN],
    row: (obj, now) => ({ cells: [name(obj), list(obj.secrets).length, created(obj, now)] }),
  },
  pods: {
    columns: [
      NAME_COLUMN,
      column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 'string', 'The aggregate status of the containers in this pod.'),
      column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE_COLUMN,
      column('IP', 'string', 'podIP address allocated to the pod.', wide),
      column('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', wide),
      column('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', wide),
      column('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', wide),
    ],
    row: podRow,
  },
  jobs: {
    columns: [
      NAME_COLUMN,
      column('Status', 'string', 'Status of the job.'),
      column('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
      column('Duration', 'string', 'Time required to complete the job.'),
      AGE_COLUMN,
      column('Containers', 'string', 'Names of each container in the template.', wide),
      column('Images', 'string', 'Images referenced by each container in the template.', wide),
      column('Selector', 'string', 'A label query over pods that should match the pod count.', wide),
    ],
    row: jobRow,
  },
  events: {
    columns: [
      column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
      column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
      column('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
      column('Object', 'string', 'The object this Event is about.'),
      column('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', wide),
      column('Source', 'string', 'The component reporting this event.', wide),
      column('Message', 'string', 'A human-readable description of the status of this operation.'),
      column('First Seen', 'string', 'The time at which the event was first recorded.', wide),
      column('Count', 'string', 'The number of times this event has occurred.', wide),
      { ...NAME_COLUMN, priority: 1 },
    ],
    row: eventRow,
  },
  leases: {
    columns: [NAME_COLUMN, column('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), AGE_COLUMN],
    row: (obj, now) => ({ cells: [name(obj), text(fields(obj.spec).holderIdentity), created(obj, now)] }),
  },
  // CRDs print with the API server's default table convertor: an absolute creation time.
  customresourcedefinitions: {
    columns: [NAME_COLUMN, column('Created At', 'date', CREATION_TIMESTAMP_DESCRIPTION)],
    row: (obj) => ({ cells: [name(obj), rfc3339Seconds(parseTimestamp(obj.metadata.creationTimestamp))] }),
  },
};

// time.Time.UTC().Format(time.RFC3339); an unset time is Go's zero time.
function rfc3339Seconds(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const POD_COMPLETED: Record<string, TableRowCondition[]> = {
  Succeeded: [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }],
  Failed: [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }],
};

// printPod: the READY count, the STATUS reason (init progress, a container's waiting or
// terminated reason, Terminating) and RESTARTS with the time of the last restart.
function podRow(pod: KubeObject, now: Date): { cells: unknown[]; conditions?: TableRowCondition[] } {
  const spec = fields(pod.spec);
  const status = fields(pod.status);
  const conditions = list(status.conditions).map(fields);
  const phase = text(status.phase);
  let reason = text(status.reason) || phase;
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initSpecs = new Map(list(spec.initContainers).map((c) => [text(fields(c).name), fields(c)]));
  const restartable = (containerName: unknown) => initSpecs.get(text(containerName))?.restartPolicy === 'Always';
  const initCount = list(spec.initContainers).length;
  const total = list(spec.containers).length + [...initSpecs.values()].filter((c) => c.restartPolicy === 'Always').length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = Number.NEGATIVE_INFINITY;
  let lastSidecarRestart = Number.NEGATIVE_INFINITY;
  const finishedAt = (c: Fields) => parseTimestamp(fields(fields(c.lastState).terminated).finishedAt) ?? Number.NEGATIVE_INFINITY;

  let initializing = false;
  for (const [i, c] of list(status.initContainerStatuses).map(fields).entries()) {
    const state = fields(c.state);
    const terminated = present(state.terminated) ? fields(state.terminated) : undefined;
    const waiting = present(state.waiting) ? fields(state.waiting) : undefined;
    restarts += count(c.restartCount);
    if (present(fields(c.lastState).terminated)) lastRestart = Math.max(lastRestart, finishedAt(c));
    if (restartable(c.name)) {
      sidecarRestarts += count(c.restartCount);
      if (present(fields(c.lastState).terminated)) lastSidecarRestart = Math.max(lastSidecarRestart, finishedAt(c));
    }
    if (terminated && count(terminated.exitCode) === 0) continue;
    if (restartable(c.name) && c.started === true) {
      if (c.ready === true) ready++;
      continue;
    }
    if (terminated) reason = `Init:${text(terminated.reason) || terminatedCode(terminated)}`;
    else if (waiting && text(waiting.reason) && waiting.reason !== 'PodInitializing') reason = `Init:${text(waiting.reason)}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
    break;
  }

  const initialized = conditions.find((c) => c.type === 'Initialized')?.status === 'True';
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    for (const c of list(status.containerStatuses).map(fields).reverse()) {
      const state = fields(c.state);
      restarts += count(c.restartCount);
      if (present(fields(c.lastState).terminated)) lastRestart = Math.max(lastRestart, finishedAt(c));
      const waitingReason = text(fields(state.waiting).reason);
      if (waitingReason) reason = waitingReason;
      else if (present(state.terminated)) reason = text(fields(state.terminated).reason) || terminatedCode(fields(state.terminated));
      else if (c.ready === true && present(state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsCell =
    restarts !== 0 && lastRestart !== Number.NEGATIVE_INFINITY ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts);
  const gates = list(spec.readinessGates).map((g) => fields(g).conditionType);
  const readinessGates = gates.length
    ? `${gates.filter((type) => conditions.find((c) => c.type === type)?.status === 'True').length}/${gates.length}`
    : '<none>';
  const podIP = text(fields(list(status.podIPs)[0]).ip) || text(status.podIP);
  return {
    cells: [
      name(pod),
      `${ready}/${total}`,
      reason,
      restartsCell,
      created(pod, now),
      podIP || '<none>',
      text(spec.nodeName) || '<none>',
      text(status.nominatedNodeName) || '<none>',
      readinessGates,
    ],
    ...(POD_COMPLETED[phase] ? { conditions: POD_COMPLETED[phase] } : {}),
  };
}

function terminatedCode(terminated: Fields): string {
  return count(terminated.signal) !== 0 ? `Signal:${count(terminated.signal)}` : `ExitCode:${count(terminated.exitCode)}`;
}

// printJob.
function jobRow(job: KubeObject, now: Date): { cells: unknown[] } {
  const spec = fields(job.spec);
  const status = fields(job.status);
  const succeeded = count(status.succeeded);
  let completions: string;
  if (typeof spec.completions === 'number') completions = `${succeeded}/${spec.completions}`;
  else if (count(spec.parallelism) > 1) completions = `${succeeded}/1 of ${count(spec.parallelism)}`;
  else completions = `${succeeded}/1`;

  const start = parseTimestamp(status.startTime);
  const end = parseTimestamp(status.completionTime);
  let duration = '';
  if (start !== undefined) duration = humanDuration((end ?? now.getTime()) - start);

  // A condition type counts when its first occurrence is True.
  const has = (type: string) => list(status.conditions).map(fields).find((c) => c.type === type)?.status === 'True';
  let state = 'Running';
  if (has('Complete')) state = 'Complete';
  else if (has('Failed')) state = 'Failed';
  else if (job.metadata.deletionTimestamp) state = 'Terminating';
  else if (has('Suspended')) state = 'Suspended';
  else if (has('FailureTarget')) state = 'FailureTarget';
  else if (has('SuccessCriteriaMet')) state = 'SuccessCriteriaMet';

  const containers = list(fields(fields(fields(spec.template).spec)).containers).map(fields);
  return {
    cells: [
      name(job),
      state,
      completions,
      duration,
      created(job, now),
      containers.map((c) => text(c.name)).join(','),
      containers.map((c) => text(c.image)).join(','),
      selectorText(spec.selector),
    ],
  };
}

// metav1.FormatLabelSelector.
function selectorText(selector: unknown): string {
  if (selector === undefined || selector === null) return '<none>';
  try {
    return formatLabelSelector(fromLabelSelector(fields(selector) as LabelSelector)) || '<none>';
  } catch {
    return '<error>';
  }
}

// printEvent, for core/v1 Events and events.k8s.io/v1 ones (whose fields it maps back the way
// the API server converts between the two).
function eventRow(event: KubeObject, now: Date): { cells: unknown[] } {
  const involved = fields(event.involvedObject ?? event.regarding);
  const source = fields(event.source ?? event.deprecatedSource);
  const series = present(event.series) ? fields(event.series) : undefined;

  const firstTimestamp = event.firstTimestamp ?? event.deprecatedFirstTimestamp;
  const firstSeen = parseTimestamp(firstTimestamp) === undefined ? age(event.eventTime, now) : age(firstTimestamp, now);
  const lastTimestamp = event.lastTimestamp ?? event.deprecatedLastTimestamp;
  let lastSeen = parseTimestamp(lastTimestamp) === undefined ? firstSeen : age(lastTimestamp, now);
  let occurrences = count(event.count ?? event.deprecatedCount);
  if (series) {
    lastSeen = age(series.lastObservedTime, now);
    occurrences = count(series.count);
  } else if (occurrences === 0) occurrences = 1; // singleton events of the new API carry no count

  const kind = text(involved.kind).toLowerCase();
  const target = text(involved.name) ? `${kind}/${text(involved.name)}` : kind;
  const component = text(source.component) || text(event.reportingController ?? event.reportingComponent);
  const instance = text(source.host) || text(event.reportingInstance);
  const sourceText = component ? (instance ? `${component}, ${instance}` : component) : '<unknown>';
  return {
    cells: [
      lastSeen,
      text(event.type),
      text(event.reason),
      target,
      text(involved.fieldPath),
      sourceText,
      text(event.message ?? event.note).trim(),
      firstSeen,
      occurrences,
      name(event),
    ],
  };
}
