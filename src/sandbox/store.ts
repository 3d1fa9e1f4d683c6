// The sandbox's storage: one resourceVersion counter for every object (as etcd's revision is),
// a bounded history of changes for watches, and fan-out to live watchers.
import { ApiError } from './api-error.ts';
import type { KubeObject } from '../kube/object.ts';

export type { KubeObject, ObjectMeta, OwnerReference } from '../kube/object.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: WatchEventType;
  resource: string;
  object: KubeObject;
  /** The version this event replaced (MODIFIED only), so watches can tell selector transitions. */
  previous?: KubeObject;
  rv: number;
}

export type StoreListener = (event: StoredEvent) => void;

const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

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
    const all = [...(this.objects.get(resource)?.entries() ?? [])];
    all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const items = all.map(([, obj]) => obj);
    return namespace === undefined ? items : items.filter((o) => o.metadata.namespace === namespace);
  }

  /** Writes an object (create or replace) under a new resourceVersion; returns the stored copy. */
  put(resource: string, obj: KubeObject): KubeObject {
    const rv = ++this.revision;
    const stored = structuredClone(obj);
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
    this.objects.get(resource)?.delete(objectKey(obj.metadata.namespace, obj.metadata.name!));
    const gone = structuredClone(obj);
    gone.metadata.resourceVersion = String(rv);
    this.record({ type: 'DELETED', resource, object: gone, rv });
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
