// Container output of the sandbox's pods, kept for the `pods/log` subresource.
import { EventEmitter } from 'node:events';

interface LogEntry {
  chunks: Buffer[];
  finished: boolean;
}

export interface LogQuery {
  tailLines?: number;
  limitBytes?: number;
}

const key = (namespace: string, pod: string) => `${namespace}/${pod}`;

export class PodLogs {
  private readonly logs = new Map<string, LogEntry>();
  private readonly events = new EventEmitter();

  constructor() {
    this.events.setMaxListeners(0);
  }

  append(namespace: string, pod: string, chunk: Buffer): void {
    const entry = this.entry(namespace, pod);
    entry.chunks.push(chunk);
    this.events.emit(key(namespace, pod), chunk);
  }

  finish(namespace: string, pod: string): void {
    this.entry(namespace, pod).finished = true;
    this.events.emit(key(namespace, pod), null);
  }

  forget(namespace: string, pod: string): void {
    this.logs.delete(key(namespace, pod));
  }

  has(namespace: string, pod: string): boolean {
    return this.logs.has(key(namespace, pod));
  }

  isFinished(namespace: string, pod: string): boolean {
    return this.logs.get(key(namespace, pod))?.finished ?? false;
  }

  /** The log so far, cut as `tailLines` then `limitBytes` ask (the kubelet's order). */
  read(namespace: string, pod: string, query: LogQuery = {}): Buffer {
    let text = Buffer.concat(this.logs.get(key(namespace, pod))?.chunks ?? []);
    if (query.tailLines !== undefined) {
      const lines = text.toString('utf8').split(/(?<=\n)/);
      text = Buffer.from(lines.slice(Math.max(0, lines.length - query.tailLines)).join(''));
    }
    if (query.limitBytes !== undefined) text = text.subarray(0, query.limitBytes);
    return text;
  }

  /** Calls `onChunk` for output appended from now on, and `onChunk(null)` when the container ends. */
  follow(namespace: string, pod: string, onChunk: (chunk: Buffer | null) => void): () => void {
    const k = key(namespace, pod);
    this.events.on(k, onChunk);
    return () => this.events.off(k, onChunk);
  }

  private entry(namespace: string, pod: string): LogEntry {
    let entry = this.logs.get(key(namespace, pod));
    if (!entry) this.logs.set(key(namespace, pod), (entry = { chunks: [], finished: false }));
    return entry;
  }
}
