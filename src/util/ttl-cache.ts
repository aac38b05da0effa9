/**
 * A cache of lookups with a time to live and a bound on its size: an entry older than its time to
 * live is looked up again, and past `maxEntries` the oldest entries go first, so memory follows
 * what is looked up now, not everything ever looked up.
 */
export class TtlCache<V> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** In insertion order: a `set` moves an entry to the end. */
  readonly #entries = new Map<string, { at: number; value: V }>();

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  /** The value, while it is fresh: `{ value }` (the value may be undefined), else undefined. */
  get(key: string): { value: V } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() - entry.at < this.#ttlMs) return { value: entry.value };
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { at: this.#now(), value });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
