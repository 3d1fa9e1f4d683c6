// API calls that are safe to repeat: what a level-triggered controller needs, since any step may
// run again after a restart or a retry.
import { isAlreadyExists, isNotFound } from '../kube/errors.ts';
import type { OperatorContext } from './context.ts';

/** Creates the object, or returns the one that already exists under that name. */
export async function createOrGet<T>(ctx: OperatorContext, collection: string, path: string, body: unknown): Promise<T> {
  try {
    return await ctx.retry(() => ctx.client.create<T>(collection, body));
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return ctx.retry(() => ctx.client.get<T>(path));
  }
}

/** Creates the object unless it already exists. */
export async function createIfMissing(ctx: OperatorContext, collection: string, body: unknown): Promise<void> {
  try {
    await ctx.retry(() => ctx.client.create(collection, body));
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/** The object, or undefined when there is none. */
export async function getIfExists<T>(ctx: OperatorContext, path: string): Promise<T | undefined> {
  try {
    return await ctx.retry(() => ctx.client.get<T>(path));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
