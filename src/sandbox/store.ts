// The sandbox's storage: one resourceVersion counter for every object (as etcd's revision is),
// a bounded history of changes for watches, and fan-out to live watchers.
import { ApiError } from './api-error.ts';
import type { KubeObject } from '../kube/object.ts';
import { cloneJson } from '../schema/json.ts';

export type { KubeObject, ObjectMeta, OwnerReference } from '../kube/object.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: WatchEventType;
  resource: string;
  object: KubeObject;
  /**
   * The version this event replaced (MODIFIED) or removed (DELETED): watches tell selector
   * transitions by it, and a continued list rolls back to its snapshot with it.
   */
  previous?: KubeObject;
  rv: number;
}

export type StoreListener = (event: StoredEvent) => void;

const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

function sorted(objects: Map<string, KubeObject>, namespace: string | undefined): KubeObject[] {
  const items = [...objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, obj]) => obj);
  return namespace === undefined ? items : items.filter((o) => o.metadata.namespace === namespace);
}

export class Store {
  private revision = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoredEvent[] = [];
  /** Watches from a resourceVersion older than this get 410 Gone. */
  private oldestWatchable = 0;
  private readonly listeners = new Set<StoreListener>();
  private readonly historyLimit: number;

  constructor(historyLimit = 10_000) {
    this.historyLimit = historyLimit;
  }

  get currentRevision(): number {
    return this.revision;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects of one resource, optionally of one namespace, sorted by namespace/name (stable for paging). */
  list(resource: string, namespace?: string): KubeObject[] {
    return sorted(this.objects.get(resource) ?? new Map(), namespace);
  }

  /**
   * The same, as they were at `revision`: what a continued list pages through, as the API server
   * serves every page of a list from one snapshot. 410 Gone once that history has expired.
   */
  listAt(resource: string, namespace: string | undefined, revision: number): KubeObject[] {
    const since = this.eventsSince(revision).filter((e) => e.resource === resource);
    if (!since.length) return this.list(resource, namespace);
    const snapshot = new Map(this.objects.get(resource));
    for (const e of since.reverse()) {
      const key = objectKey(e.object.metadata.namespace, e.object.metadata.name!);
      if (e.type === 'ADDED') snapshot.delete(key);
      else snapshot.set(key, e.previous!);
    }
    return sorted(snapshot, namespace);
  }

  /** Writes an object (create or replace) under a new resourceVersion; returns the stored copy. */
  put(resource: string, obj: KubeObject): KubeObject {
    const rv = ++this.revision;
    const stored = cloneJson(obj);
    stored.metadata.resourceVersion = String(rv);
    let bucket = this.objects.get(resource);
    if (!bucket) this.objects.set(resource, (bucket = new Map()));
    const key = objectKey(stored.metadata.namespace, stored.metadata.name!);
    const previous = bucket.get(key);
    bucket.set(key, stored);
    this.record(previous ? { type: 'MODIFIED', resource, object: stored, previous, rv } : { type: 'ADDED', resource, object: stored, rv });
    return stored;
  }

  resources(): string[] {
    return [...this.objects.keys()];
  }

  remove(resource: string, obj: KubeObject): KubeObject {
    const rv = ++this.revision;
    const key = objectKey(obj.metadata.namespace, obj.metadata.name!);
    const previous = this.objects.get(resource)?.get(key) ?? obj;
    this.objects.get(resource)?.delete(key);
    const gone = cloneJson(obj);
    gone.metadata.resourceVersion = String(rv);
    this.record({ type: 'DELETED', resource, object: gone, previous, rv });
    return gone;
  }

  private record(event: StoredEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldestWatchable = Math.max(this.oldestWatchable, dropped.at(-1)!.rv);
    }
    for (const listener of this.listeners) listener(event);
  }

  /**
   * Events after `fromRevision`, for a watch that starts there. Throws 410 Gone when that
   * revision is older than the retained history.
   */
  eventsSince(fromRevision: number): StoredEvent[] {
    if (fromRevision < this.oldestWatchable) {
      throw ApiError.gone(`too old resource version: ${fromRevision} (${this.oldestWatchable + 1})`);
    }
    const first = this.history.findIndex((e) => e.rv > fromRevision);
    return first === -1 ? [] : this.history.slice(first);
  }

  /** Forgets every retained event: any watch from an earlier resourceVersion now gets 410. */
  expireHistory(): void {
    this.history = [];
    this.oldestWatchable = this.revision;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
