/**
 * Send permits: where the publisher (`publisher.ts`) gets its right to make one more edit under the
 * workspace's `chat.update` budget, so that the budget holds exactly — never more than `perMinute`
 * edits in any 60 s, summed over every replica, whatever each replica's CPU or clock does.
 *
 * The budget is a GCRA ledger (the theoretical time of the next permit): permits come one every
 * `intervalMs`, up to `burst` at once after a pause. Within less than L ms of each other, at most
 * `burst + ceil(L / intervalMs) - 1` permits are granted (tolerance = (burst - 1) × interval), so with
 * `intervalMs = (60 s + margin) / (perMinute - burst + 1)` no 60 s (plus the margin) sees more than
 * `perMinute`. The margin covers the time from a permit's
 * grant to Slack receiving the edit: a permit is used within `holdMs` of being asked for, or not at
 * all, and the rest of the margin is for the request on its way.
 *
 * - `MemoryPermits`: the ledger in this process (one publisher; unit tests), on the publisher's clock.
 * - `StorePermits`: the ledger in the database (`Store.takeSendPermits`: one statement, the
 *   database's clock), shared by every replica on it; a few permits at a time at most, so a busy
 *   replica makes one round trip for several edits.
 */
import type { Logger } from '../../logger.ts';
import type { Store } from '../../store/index.ts';

/** What a take granted: how many, and when fewer than asked, ms until the next one may be. */
export interface PermitGrant {
  granted: number;
  retryInMs: number;
}

/** Where the publisher gets send permits. */
export interface SendPermits {
  /** Up to `want` (≥ 1) permits now: at once, or once the ledger has answered. Never rejects. */
  take(want: number): PermitGrant | Promise<PermitGrant>;
  /** A permit not used within this long of asking for it is dropped (its schedule allows for this). */
  readonly holdMs: number;
}

export interface PermitSchedule {
  /** One permit every this many ms, sustained. */
  intervalMs: number;
  /** (burst - 1) × intervalMs: how far ahead of the pace permits may be granted. */
  toleranceMs: number;
  burst: number;
}

/** The window Slack counts a method's calls in. */
export const BUDGET_WINDOW_MS = 60_000;

/**
 * The pace that grants at most `perMinute` permits in any `windowMs + marginMs`, with bursts of
 * `burst` (default ceil(perMinute / 20); at most `perMinute`).
 */
export function permitSchedule(
  perMinute: number,
  options: { burst?: number; marginMs?: number; windowMs?: number } = {},
): PermitSchedule {
  const budget = Math.max(1, Math.floor(Number.isFinite(perMinute) && perMinute > 0 ? perMinute : 50));
  const burst = Math.min(budget, Math.max(1, Math.floor(options.burst ?? Math.ceil(budget / 20))));
  const span = (options.windowMs ?? BUDGET_WINDOW_MS) + Math.max(0, options.marginMs ?? 0);
  // Permits j = 1, 2, … granted within less than `span` of the first: (j - 1) × interval <
  // span + tolerance, so j < span / interval + burst, which is at most budget + 1.
  const intervalMs = Math.ceil(span / (budget - burst + 1));
  return { intervalMs, toleranceMs: (burst - 1) * intervalMs, burst };
}

/**
 * One take from a GCRA ledger at `now`: how many of `want` conform, and the ledger after them.
 * The database statements (`takeSendPermits` in src/store/sqlite.ts and src/store/postgres.ts) do
 * the same in SQL.
 */
export function grantPermits(
  tat: number,
  now: number,
  want: number,
  schedule: Pick<PermitSchedule, 'intervalMs' | 'toleranceMs'>,
): { granted: number; tat: number; retryInMs: number } {
  const base = Math.max(tat, now);
  const room = now - base + schedule.toleranceMs;
  const granted = Math.min(want, room < 0 ? 0 : Math.floor(room / schedule.intervalMs) + 1);
  const next = base + granted * schedule.intervalMs;
  const retryInMs = granted >= want ? 0 : Math.max(1, next - schedule.toleranceMs - now);
  return { granted, tat: next, retryInMs };
}

/** The ledger in this process: for one publisher on its own (and unit tests, on their clock). */
export class MemoryPermits implements SendPermits {
  readonly holdMs = 0; // granted and used in the same turn
  readonly #schedule: PermitSchedule;
  readonly #now: () => number;
  #tat = Number.NEGATIVE_INFINITY;

  constructor(schedule: PermitSchedule, now: () => number) {
    this.#schedule = schedule;
    this.#now = now;
  }

  take(want: number): PermitGrant {
    const result = grantPermits(this.#tat, this.#now(), want, this.#schedule);
    this.#tat = result.tat;
    return { granted: result.granted, retryInMs: result.retryInMs };
  }
}

/** How long a permit from the database may wait to be used. */
export const STORE_PERMIT_HOLD_MS = 1000;
/** The time allowed from an edit's start to Slack receiving it. */
export const DELIVERY_MARGIN_MS = 1000;
/** At most this many permits in one round trip. */
const MAX_BATCH = 5;
/** A replica the ledger said no to asks again after this long at the soonest. */
const MIN_ASK_MS = 250;
/** After the database failed to answer, ask again after this long (no permit meanwhile). */
const RETRY_AFTER_FAILURE_MS = 1000;

export interface StorePermitsOptions {
  store: Store;
  /** The budget's name in the database (one per Slack method limited per workspace). */
  name: string;
  perMinute: number;
  burst?: number;
  logger?: Logger;
}

/** The ledger in the database, shared by every replica on it. */
export class StorePermits implements SendPermits {
  readonly holdMs = STORE_PERMIT_HOLD_MS;
  readonly schedule: PermitSchedule;
  readonly #store: Store;
  readonly #name: string;
  readonly #logger: Logger | undefined;
  #failing = false;

  constructor(options: StorePermitsOptions) {
    this.#store = options.store;
    this.#name = options.name;
    this.#logger = options.logger;
    this.schedule = permitSchedule(options.perMinute, {
      ...(options.burst !== undefined ? { burst: options.burst } : {}),
      marginMs: STORE_PERMIT_HOLD_MS + DELIVERY_MARGIN_MS,
    });
  }

  async take(want: number): Promise<PermitGrant> {
    const count = Math.max(1, Math.min(MAX_BATCH, this.schedule.burst, Math.floor(want)));
    try {
      const grant = await this.#store.takeSendPermits(this.#name, count, this.schedule);
      if (this.#failing) this.#logger?.info('the database answers again: progress edits go on');
      this.#failing = false;
      if (grant.granted >= count) return grant;
      // Not sooner than MIN_ASK_MS: the ledger keeps what accrues meanwhile (up to a burst), so a
      // busy replica takes several permits a round trip rather than one. Replicas told the same
      // moment would ask together and the first would win every time: each comes back up to half
      // as late again, so the next permits go to any of them.
      const wait = Math.max(MIN_ASK_MS, grant.retryInMs);
      return { ...grant, retryInMs: wait + Math.floor(Math.random() * (wait / 2)) };
    } catch (error) {
      // No permit without the ledger: the budget holds, edits wait (finals are retried).
      if (!this.#failing)
        this.#logger?.warn('the database did not grant edits of progress messages; trying again', error);
      this.#failing = true;
      return { granted: 0, retryInMs: RETRY_AFTER_FAILURE_MS };
    }
  }
}
