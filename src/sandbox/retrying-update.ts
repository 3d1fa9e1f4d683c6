// Read-modify-write of one object with optimistic concurrency, as controllers do it: re-read and
// retry on 409 Conflict.
import { ApiError } from './api-error.ts';
import type { SandboxApi, WriteOptions } from './api.ts';
import type { ResourceType } from './registry.ts';
import type { KubeObject } from './store.ts';

const MAX_ATTEMPTS = 10;

const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;

export interface ObjectRef {
  namespace: string | undefined;
  name: string;
  /** When given, an object of the same name but another uid counts as gone. */
  uid?: string;
}

/**
 * Applies `change` to a fresh copy of the object and writes it back (to the status subresource
 * when asked). `change` edits the copy in place and returns false when there is nothing to write.
 * Returns the object as stored, or undefined when it is gone.
 */
export function updateWithRetry(
  api: SandboxApi,
  t: ResourceType,
  ref: ObjectRef,
  change: (obj: KubeObject) => boolean,
  subresource?: 'status',
  opts: WriteOptions = {},
): KubeObject | undefined {
  for (let attempt = 1; ; attempt++) {
    const current = getIfExists(api, t, ref);
    if (!current) return undefined;
    if (!change(current)) return current;
    try {
      return api.update(t, ref.namespace, ref.name, current, subresource, opts);
    } catch (err) {
      if (isCode(err, 404)) return undefined;
      if (!isCode(err, 409) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

export function getIfExists(api: SandboxApi, t: ResourceType, ref: ObjectRef): KubeObject | undefined {
  try {
    const obj = api.get(t, ref.namespace, ref.name);
    return ref.uid === undefined || obj.metadata.uid === ref.uid ? obj : undefined;
  } catch (err) {
    if (isCode(err, 404)) return undefined;
    throw err;
  }
}

/** Deletes an object; one already gone is not an error. */
export function deleteIfExists(api: SandboxApi, t: ResourceType, ref: ObjectRef, policy: 'Background' | 'Foreground'): void {
  try {
    api.delete(t, ref.namespace, ref.name, { propagationPolicy: policy, ...(ref.uid ? { preconditions: { uid: ref.uid } } : {}) });
  } catch (err) {
    if (isCode(err, 404) || (ref.uid && isCode(err, 409))) return;
    throw err;
  }
}
