// API calls that are safe to repeat: what a level-triggered controller needs, since any step may
// run again after a restart or a failure. Failures other than the expected conflict are thrown
// back to the caller's work queue, which retries with backoff.
import type { KubeClient } from './client.ts';
import { isAlreadyExists, isNotFound } from './errors.ts';

/** Creates the object, or returns the one that already exists under that name. */
export async function createOrGet<T>(client: KubeClient, collection: string, path: string, body: unknown): Promise<T> {
  try {
    return await client.create<T>(collection, body);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return client.get<T>(path);
  }
}

/** Creates the object unless it already exists. */
export async function createIfMissing(client: KubeClient, collection: string, body: unknown): Promise<void> {
  try {
    await client.create(collection, body, { discardBody: true });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/** The object, or undefined when there is none. */
export async function getIfExists<T>(client: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
