// A secondary index over a reflector's cache, as controller-runtime's field indexers: objects
// grouped by a derived value (a namespace, an owner), so a lookup costs the size of its group,
// not of the whole cache. Kept up to date from the reflector's changes.

export class CacheIndex<T> {
  private readonly groups = new Map<string, Map<string, T>>();
  private readonly valuesOf: (obj: T) => readonly string[];

  constructor(valuesOf: (obj: T) => readonly string[]) {
    this.valuesOf = valuesOf;
  }

  /** Applies one cache change: `key` went from `previous` to `current` (undefined: absent). */
  update(key: string, previous: T | undefined, current: T | undefined): void {
    if (previous) {
      for (const value of this.valuesOf(previous)) {
        const group = this.groups.get(value);
        group?.delete(key);
        if (group?.size === 0) this.groups.delete(value);
      }
    }
    if (current) {
      for (const value of this.valuesOf(current)) {
        let group = this.groups.get(value);
        if (!group) this.groups.set(value, (group = new Map()));
        group.set(key, current);
      }
    }
  }

  /** The objects indexed under `value`, by cache key. */
  get(value: string): ReadonlyMap<string, T> {
    return this.groups.get(value) ?? EMPTY;
  }

  list(value: string): T[] {
    return [...this.get(value).values()];
  }

  /** Every value that has at least one object. */
  values(): IterableIterator<string> {
    return this.groups.keys();
  }
}

const EMPTY: ReadonlyMap<string, never> = new Map<string, never>();
