/**
 * A token bucket per person, for the commands whose cost falls on the Mastra server and on
 * Slack's lookups (`runs`, `status` of a run Flowgate has no record of): anyone may ask a few at
 * once, then about one every `refillMs`. Kept in memory, per replica: each replica bounds what
 * one person can make it do. People whose bucket is full again are forgotten, so memory follows
 * the people asking now.
 */
export interface PerPersonLimitOptions {
  /** Requests one person may make at once. */
  burst: number;
  /** One more request per this many milliseconds. */
  refillMs: number;
  now?: () => number;
}

export class PerPersonLimit {
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #now: () => number;
  /** Tokens left per person, as of `at`. */
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: PerPersonLimitOptions) {
    this.#burst = options.burst;
    this.#refillMs = options.refillMs;
    this.#now = options.now ?? Date.now;
  }

  /** Takes `cost` tokens of `userId`'s bucket: 0 when granted, else how many ms until it would be. */
  take(userId: string, cost = 1): number {
    const now = this.#now();
    this.#forgetFull(now);
    const bucket = this.#buckets.get(userId);
    const tokens = bucket
      ? Math.min(this.#burst, bucket.tokens + (now - bucket.at) / this.#refillMs)
      : this.#burst;
    if (tokens >= cost) {
      this.#buckets.set(userId, { tokens: tokens - cost, at: now });
      return 0;
    }
    return Math.ceil((cost - tokens) * this.#refillMs);
  }

  /** People tracked right now (tests: memory stays bounded by who asks). */
  get size(): number {
    return this.#buckets.size;
  }

  #forgetFull(now: number): void {
    const fullAfter = this.#burst * this.#refillMs;
    for (const [userId, bucket] of this.#buckets) {
      if (now - bucket.at >= fullAfter) this.#buckets.delete(userId);
    }
  }
}
