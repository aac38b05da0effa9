/**
 * Per-method rate limits, per workspace (or per channel), on an injectable clock.
 *
 * - `perMinute`: sliding window over the last 60 s (Slack's tiers: 1: 1+/min, 2: 20+, 3: 50+, 4: 100+).
 * - `perSecond` (+ `burst`): token bucket (chat.postMessage's "about 1 per second per channel, short bursts").
 *
 * Rejected calls do not consume capacity.
 */

export interface RateLimitRule {
  /** Sliding window: at most this many calls in any 60 s. */
  perMinute?: number;
  /** Token bucket refill rate. */
  perSecond?: number;
  /** Token bucket capacity (default: max(1, perSecond)). */
  burst?: number;
  /** `channel`: a separate budget per `channel` argument. Default `workspace`. */
  scope?: 'workspace' | 'channel';
}

/** One rule, several rules (all must pass), or `false` for no limit. */
export type RateLimitSetting = RateLimitRule | RateLimitRule[] | false;

const TIER2: RateLimitRule = { perMinute: 20 };
const TIER3: RateLimitRule = { perMinute: 50 };
const TIER4: RateLimitRule = { perMinute: 100 };

const POST_MESSAGE: RateLimitRule = { perSecond: 1, burst: 3, scope: 'channel' };

export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimitSetting>> = Object.freeze({
  'chat.postMessage': POST_MESSAGE,
  'chat.update': TIER3,
  'chat.delete': TIER3,
  'chat.postEphemeral': TIER4,
  'chat.getPermalink': TIER4,
  'views.open': TIER4,
  'views.update': TIER4,
  'views.push': TIER4,
  'conversations.open': TIER3,
  'conversations.info': TIER3,
  'conversations.members': TIER4,
  'conversations.join': TIER3,
  'conversations.history': TIER3,
  'conversations.replies': TIER3,
  'users.info': TIER4,
  'users.lookupByEmail': TIER3,
  'usergroups.users.list': TIER2,
});

/**
 * How a limited call is answered: HTTP 429 with `Retry-After` (Slack's usual), or HTTP 200 with
 * `ok: false, error: ratelimited` and no `Retry-After` (as some methods answer).
 */
export type RateLimitAnswer = 429 | 200;

export type RateLimitDecision =
  | { limited: false }
  | { limited: true; retryAfter: number; forced: boolean; status: RateLimitAnswer };

interface Bucket {
  tokens: number;
  last: number;
}

export class RateLimiter {
  #now: () => number;
  #settings = new Map<string, RateLimitSetting>();
  #windows = new Map<string, number[]>();
  #buckets = new Map<string, Bucket>();
  #forced = new Map<string, { remaining: number; retryAfter: number; status: RateLimitAnswer }>();
  enabled: boolean;

  constructor(now: () => number, overrides: Record<string, RateLimitSetting> | false | undefined) {
    this.#now = now;
    this.enabled = overrides !== false;
    for (const [method, setting] of Object.entries(DEFAULT_RATE_LIMITS)) this.#settings.set(method, setting);
    if (overrides)
      for (const [method, setting] of Object.entries(overrides)) this.#settings.set(method, setting);
  }

  /** Set the limit of one method; `undefined` restores the default. Resets that method's counters. */
  set(method: string, setting: RateLimitSetting | undefined): void {
    const fallback = DEFAULT_RATE_LIMITS[method];
    if (setting === undefined) {
      if (fallback === undefined) this.#settings.delete(method);
      else this.#settings.set(method, fallback);
    } else {
      this.#settings.set(method, setting);
    }
    this.#clear(method);
  }

  get(method: string): RateLimitSetting {
    return this.#settings.get(method) ?? false;
  }

  /** The next `count` calls of `method` are rate limited (even when limits are disabled), answered as `status`. */
  force(method: string, count = 1, retryAfter = 1, status: RateLimitAnswer = 429): void {
    if (count <= 0) this.#forced.delete(method);
    else this.#forced.set(method, { remaining: count, retryAfter, status });
  }

  /** Forget all usage (not the settings, not forced 429s). */
  reset(): void {
    this.#windows.clear();
    this.#buckets.clear();
  }

  check(method: string, channel?: string): RateLimitDecision {
    const forced = this.#forced.get(method);
    if (forced) {
      forced.remaining -= 1;
      if (forced.remaining <= 0) this.#forced.delete(method);
      return { limited: true, retryAfter: forced.retryAfter, forced: true, status: forced.status };
    }
    if (!this.enabled) return { limited: false };
    const setting = this.#settings.get(method);
    if (!setting) return { limited: false };
    const rules = Array.isArray(setting) ? setting : [setting];
    const now = this.#now();
    let retryAfter = 0;
    const commits: Array<() => void> = [];
    rules.forEach((rule, index) => {
      const key = `${method}|${index}|${rule.scope === 'channel' ? (channel ?? '') : '*'}`;
      if (rule.perSecond !== undefined && rule.perSecond > 0) {
        const capacity = rule.burst ?? Math.max(1, rule.perSecond);
        const bucket = this.#buckets.get(key) ?? { tokens: capacity, last: now };
        const tokens = Math.min(capacity, bucket.tokens + ((now - bucket.last) / 1000) * rule.perSecond);
        if (tokens < 1) {
          retryAfter = Math.max(retryAfter, Math.ceil((1 - tokens) / rule.perSecond));
        } else {
          commits.push(() => this.#buckets.set(key, { tokens: tokens - 1, last: now }));
        }
      } else if (rule.perMinute !== undefined) {
        const windowStart = now - 60_000;
        const calls = (this.#windows.get(key) ?? []).filter((t) => t > windowStart);
        this.#windows.set(key, calls);
        if (calls.length >= rule.perMinute) {
          const oldest = calls[calls.length - rule.perMinute] ?? now;
          retryAfter = Math.max(retryAfter, Math.ceil((oldest + 60_000 - now) / 1000));
        } else {
          commits.push(() => calls.push(now));
        }
      }
    });
    if (retryAfter > 0)
      return { limited: true, retryAfter: Math.max(1, retryAfter), forced: false, status: 429 };
    for (const commit of commits) commit();
    return { limited: false };
  }

  #clear(method: string): void {
    for (const key of [...this.#windows.keys()]) if (key.startsWith(`${method}|`)) this.#windows.delete(key);
    for (const key of [...this.#buckets.keys()]) if (key.startsWith(`${method}|`)) this.#buckets.delete(key);
  }
}
