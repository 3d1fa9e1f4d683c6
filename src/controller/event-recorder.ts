// Kubernetes Events about hooks, runs and Secrets, where `kubectl describe` shows them.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { isAlreadyExists } from '../kube/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, RESOURCES } from '../kube/paths.ts';
import { withRetry } from '../kube/retry.ts';

export type EventType = 'Normal' | 'Warning';

/** Where an Event about an object goes: its namespace, or for a cluster-scoped one (a ClusterDeployHook) default, as Kubernetes' recorders do. */
const eventNamespace = (about: KubeObject): string => about.metadata.namespace ?? 'default';

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly signal: AbortSignal;

  constructor(client: KubeClient, log: Logger, signal: AbortSignal) {
    this.client = client;
    this.log = log;
    this.signal = signal;
  }

  /**
   * Records one event. `dedupeKey` names the occurrence (a run's outcome, a certificate version's
   * problem): recording the same occurrence twice, after a restart say, creates one Event.
   */
  async record(about: KubeObject, type: EventType, reason: string, message: string, dedupeKey: string): Promise<void> {
    const now = new Date().toISOString();
    const hash = createHash('sha256').update(`${about.metadata.uid}\0${reason}\0${dedupeKey}`).digest('hex').slice(0, 16);
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${about.metadata.name}.${hash}`, namespace: eventNamespace(about) },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        namespace: about.metadata.namespace,
        uid: about.metadata.uid,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: 'certhook' },
      reportingComponent: 'certhook',
      reportingInstance: 'certhook',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      // A few quick tries: the run or hook it is about must not wait on it for long.
      await withRetry(() => this.client.create(collectionPath(RESOURCES.events, eventNamespace(about)), event, { discardBody: true }), { signal: this.signal, attempts: 3 });
    } catch (err) {
      // An event is a courtesy: failing to write one must not fail the work it describes.
      if (!isAlreadyExists(err) && !this.signal.aborted) this.log.warn({ err: (err as Error).message, reason }, 'could not record event');
    }
  }
}
