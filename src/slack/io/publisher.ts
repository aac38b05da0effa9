/**
 * ProgressPublisher: the single path through which every progress-message update goes.
 *
 * It knows nothing about Mastra or Block Kit: it receives opaque payloads and a `send` function
 * (typically a `chat.update` call made with `rejectRateLimitedCalls: true`) and decides *when* to send
 * *which* payload:
 *
 * - coalescing: only the newest state of a message is kept; older queued states are dropped;
 * - per message: at most one attempt per `minIntervalMs`, never two sends in flight, never an older
 *   version after a newer one;
 * - 429: the limited message waits `Retry-After`, the others keep going; the shared budget slows down;
 * - finals are retried through 429s and transient errors (bounded) and are served before intermediates;
 * - permanent errors (message deleted, invalid blocks, ...) stop that version only;
 * - an optional shared budget (the Slack limit is per method per workspace, not per message): each
 *   send takes a permit (`permits.ts`: a ledger in the database for all replicas, or in this
 *   process), with AIMD on top: a 429 halves this process's rate, which is back to full within
 *   `recoveryMs`; tight budget → finals first, then the message that has waited longest.
 *
 * - close(): the newest state of every message is sent at once — finals retried, intermediates tried
 *   once if the budget and Retry-After allow it now — within an optional time limit after which the
 *   rest is given up.
 *
 * - guard (optional): across processes, a state published with a `stamp` is sent only if the guard
 *   (a compare-and-set in the shared store, src/slack/io/edit-guard.ts) says it is newer than what any
 *   process showed or claimed for the message; one it answers `shown` is taken as delivered, one it
 *   answers `stale` is given up.
 *
 * All waiting is done with one timer (cleared on close) and the clock is injectable. Which errors
 * are rate limits and which are permanent is decided in `retry.ts`, with every other Slack call's.
 */

import { isPermanentSlackError, slackRetryAfterMs } from '../errors.ts';
import { MemoryPermits, type PermitGrant, permitSchedule, type SendPermits } from './permits.ts';

export interface MessageRef {
  channel: string;
  ts: string;
}

/** Passed to `onError` with every failed send attempt. */
export interface SendErrorInfo {
  version: number;
  final: boolean;
  /** 1-based number of the attempt (of this version) that failed. */
  attempt: number;
  rateLimited: boolean;
  permanent: boolean;
  /** true when the same version will be sent again; false when it was given up or superseded. */
  willRetry: boolean;
  /** true when a newer version replaced the failed one (it will be tried instead). */
  superseded: boolean;
}

export interface BudgetOptions {
  /**
   * Sends per minute shared by all messages (Slack `chat.update` is Tier 3: 50+/min per workspace):
   * never more in any 60 s (see `permits.ts`).
   */
  perMinute: number;
  /** Sends at once after a pause. Default: ceil(perMinute / 20), at least 1. */
  burst?: number;
  /** Lowest fraction of `perMinute` that AIMD may slow down to. Default 0.1. */
  minRateFactor?: number;
  /** After a 429 the rate climbs back to the full rate within this long (ms). Default 20 s. */
  recoveryMs?: number;
  /**
   * Where the right to send comes from: a ledger shared by every replica (`StorePermits`).
   * Default: a ledger of `perMinute` and `burst` in this process (`MemoryPermits`).
   */
  permits?: SendPermits;
}

export interface RetryOptions {
  /** Attempts per non-final version (429 and transient errors). Default 3. */
  maxAttempts?: number;
  /** Attempts per final version. Default 20. */
  finalMaxAttempts?: number;
  /** A final is given up (counted failed) once this long has passed since it was queued. Default 10 min. */
  finalMaxElapsedMs?: number;
  /** Backoff after a transient (non-429) error: base * 2^(attempt-1), capped. Defaults 1 s and 30 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** A stamped state, as the guard sees it. */
export interface GuardedSend {
  /** What `publish` was given as `stamp` (e.g. the run and the state's version). */
  stamp: unknown;
  /** `contentOf(payload)`: what Slack would show. */
  content: string;
  final: boolean;
}

/**
 * Orders the sends of stamped states across processes. `claim` is asked just before each attempt:
 * `send` to go on, `shown` when the message shows this content already (taken as delivered, nothing
 * sent), `stale` when a newer state was claimed or shown meanwhile (given up); a rejection is a
 * failed attempt, retried as ever. `shown` is told what the message shows after each delivery, and
 * what it was posted with (`posted`); its failure is ignored.
 */
export interface SendGuard {
  claim(ref: MessageRef, send: GuardedSend): Promise<'send' | 'shown' | 'stale'>;
  shown(ref: MessageRef, send: GuardedSend): Promise<void>;
}

export interface PublisherOptions<P> {
  /** Delivers one payload (e.g. `chat.update`). Must settle; throws/rejects on failure. */
  send(ref: MessageRef, payload: P): Promise<void>;
  /** Minimum time between two attempts for the same message. Default 1000. */
  minIntervalMs?: number;
  /** Returns the wait in ms when `error` is a rate-limit error. Default: `WebAPIRateLimitedError.retryAfter` (s). */
  retryAfterMs?(error: unknown): number | undefined;
  /** true when retrying the same payload cannot help. Default: {@link isPermanentSlackError}. */
  isPermanent?(error: unknown): boolean;
  /** Monotonic clock in ms. Default `performance.now()`; timers are the global `setTimeout`. */
  now?(): number;
  /** Logging hook, called for every failed attempt. Must not throw (exceptions are swallowed). */
  onError?(ref: MessageRef, error: unknown, info: SendErrorInfo): void;
  /** Shared send budget for all messages. Default `{ perMinute: 50 }`; `false` disables it. */
  budget?: BudgetOptions | false;
  retry?: RetryOptions;
  /** Idle per-message bookkeeping is forgotten after this long. Default 30 min. */
  forgetAfterMs?: number;
  /**
   * What Slack would show of a payload, as a string: a non-final publish whose content equals what
   * the message shows (or will show once what is queued lands) sends nothing. Default `JSON.stringify`.
   */
  contentOf?(payload: P): string;
  /** Orders the sends of states published with a `stamp` across processes; see {@link SendGuard}. */
  guard?: SendGuard;
}

export interface PublisherStats {
  /** Successful sends. */
  sent: number;
  /** Send attempts answered with a rate-limit error. */
  rateLimited: number;
  /** Accepted states never sent because a newer state replaced them (or close() gave them up). */
  dropped: number;
  /** Versions given up: permanent error, or retries exhausted. */
  failed: number;
  /** Publishes refused: stale version, after a final, after close(). */
  ignored: number;
  /** Publishes that would have changed nothing Slack shows: nothing sent for them. */
  unchanged: number;
  /** States the guard refused: another process had claimed or shown a newer one. */
  stale: number;
  /** Now: messages with a state waiting to be sent. */
  queued: number;
  /** Now: how long (ms) the state waiting longest has waited. */
  oldestWaitingMs: number;
}

export interface CloseOptions {
  /**
   * Resolve within this long (ms) whatever happens: what is still queued is given up (counted
   * dropped, finals failed) and sends still in flight are no longer waited for. Default: no limit.
   */
  withinMs?: number;
}

export interface Publisher<P> {
  /** `stamp`: checked by the guard, if any, before each attempt (see {@link SendGuard}). */
  publish(ref: MessageRef, version: number, payload: P, opts?: { final?: boolean; stamp?: unknown }): void;
  /**
   * The message was just posted with `payload`: what Slack shows, so an edit to the same is not
   * sent (with a `stamp`, by any process: the guard is told). Resolves once the guard was told.
   */
  posted(ref: MessageRef, payload: P, opts?: { stamp?: unknown }): Promise<void>;
  settled(ref?: MessageRef): Promise<void>;
  /** Stops accepting publishes and flushes what is held; see {@link CloseOptions}. */
  close(options?: CloseOptions): Promise<void>;
  stats(): PublisherStats;
}

function defaultNow(): number {
  return performance.now();
}

function safeCall<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

function keyOf(ref: MessageRef): string {
  return `${ref.channel}\n${ref.ts}`;
}

// ---------------------------------------------------------------------------------------------
// Slowing down after 429s: AIMD, back to the full rate within a fixed time

/**
 * How fast this process may send on top of its permits: at full rate nothing holds it back (the
 * permits do); a 429 halves the rate (once per round of sends made at the old rate), which then
 * climbs back in a straight line to the full rate `recoveryMs` after the 429, however few edits
 * are made meanwhile.
 */
class Throttle {
  private readonly perMinute: number;
  private readonly minFactor: number;
  private readonly recoveryMs: number;
  /** The factor right after the last halving, and when that was. */
  private low = 1;
  private since = Number.NEGATIVE_INFINITY;
  /** Sends started before this instant were made at the old rate: their 429s do not halve again. */
  private holdUntil = Number.NEGATIVE_INFINITY;
  /** While slowed down: the earliest next send. */
  private nextAt = Number.NEGATIVE_INFINITY;

  constructor(options: BudgetOptions) {
    this.perMinute = options.perMinute > 0 && Number.isFinite(options.perMinute) ? options.perMinute : 50;
    this.minFactor = Math.min(1, Math.max(0.001, options.minRateFactor ?? 0.1));
    this.recoveryMs = Math.max(0, options.recoveryMs ?? 20_000);
  }

  factor(now: number): number {
    if (this.low >= 1) return 1;
    const elapsed = now - this.since;
    if (elapsed >= this.recoveryMs) return 1;
    return this.low + ((1 - this.low) * Math.max(0, elapsed)) / this.recoveryMs;
  }

  /** The earliest this process may send (-Infinity: nothing holds it back but the permits). */
  readyAt(now: number): number {
    return this.factor(now) >= 1 ? Number.NEGATIVE_INFINITY : this.nextAt;
  }

  private gap(now: number): number {
    return 60_000 / (this.perMinute * this.factor(now));
  }

  sent(now: number): void {
    this.nextAt = this.factor(now) >= 1 ? Number.NEGATIVE_INFINITY : now + this.gap(now);
  }

  onRateLimited(now: number, startedAt: number, retryAfterMs: number): void {
    if (startedAt >= this.holdUntil) {
      this.low = Math.max(this.minFactor, this.factor(now) / 2);
      this.since = now;
      this.holdUntil = now + Math.max(retryAfterMs, this.gap(now));
    }
    if (this.factor(now) < 1) this.nextAt = Math.max(this.nextAt, now + this.gap(now));
  }

  ratePerMinute(now: number): number {
    return this.perMinute * this.factor(now);
  }
}

// ---------------------------------------------------------------------------------------------
// ProgressPublisher

interface Entry<P> {
  version: number;
  payload: P;
  /** `contentOf(payload)`. */
  content: string;
  final: boolean;
  /** Failed attempts of this version so far. */
  attempts: number;
  /** For the guard; undefined: sent unguarded. */
  stamp: unknown;
}

interface MessageState<P> {
  readonly key: string;
  readonly ref: MessageRef;
  /** Highest version accepted (queued or sent). */
  accepted: number;
  /** Highest version whose fate is settled (delivered, given up, discarded). */
  done: number;
  pending: Entry<P> | undefined;
  inFlight: Entry<P> | undefined;
  /** The content of the last payload delivered: what Slack shows now. */
  shown: string | undefined;
  /** When the message started waiting with an undelivered state (for fairness). */
  waitingSince: number;
  lastAttemptAt: number;
  blockedUntil: number;
  /** When the first final of the current finalization was accepted (retry deadline). */
  finalSince: number | undefined;
  finalDelivered: boolean;
  idleSince: number;
  waiters: Array<{ target: number; resolve: () => void }>;
}

/** Every count at zero: a publisher's stats before it has done anything. */
export const EMPTY_STATS = (): PublisherStats => ({
  sent: 0,
  rateLimited: 0,
  dropped: 0,
  failed: 0,
  ignored: 0,
  unchanged: 0,
  stale: 0,
  queued: 0,
  oldestWaitingMs: 0,
});

export class ProgressPublisher<P> implements Publisher<P> {
  private readonly sendFn: (ref: MessageRef, payload: P) => Promise<void>;
  private readonly contentOfFn: (payload: P) => string;
  private readonly minIntervalMs: number;
  private readonly retryAfterMsFn: (error: unknown) => number | undefined;
  private readonly isPermanentFn: (error: unknown) => boolean;
  private readonly nowFn: () => number;
  private readonly onErrorFn: ((ref: MessageRef, error: unknown, info: SendErrorInfo) => void) | undefined;
  private readonly permits: SendPermits | undefined;
  private readonly throttle: Throttle | undefined;
  /** Permits in hand: until when each may be used, oldest first. */
  private held: number[] = [];
  /** A take from `permits` is on its way. */
  private asking = false;
  /** The ledger said none before this instant. */
  private askAt = Number.NEGATIVE_INFINITY;
  private readonly maxAttempts: number;
  private readonly finalMaxAttempts: number;
  private readonly finalMaxElapsedMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly forgetAfterMs: number;
  private readonly guard: SendGuard | undefined;

  private readonly states = new Map<string, MessageState<P>>();
  /** Messages with a pending entry. */
  private readonly queued = new Set<MessageState<P>>();
  private inFlightCount = 0;
  private readonly counters = EMPTY_STATS();

  private pumpRequested = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastSweep: number;

  private closing = false;
  private stopped = false;
  private closePromise: Promise<void> | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private resolveClose: (() => void) | undefined;

  constructor(options: PublisherOptions<P>) {
    this.sendFn = options.send;
    this.minIntervalMs = Math.max(0, options.minIntervalMs ?? 1000);
    this.retryAfterMsFn = options.retryAfterMs ?? slackRetryAfterMs;
    this.isPermanentFn = options.isPermanent ?? isPermanentSlackError;
    this.nowFn = options.now ?? defaultNow;
    this.onErrorFn = options.onError;
    const retry = options.retry ?? {};
    this.maxAttempts = Math.max(1, retry.maxAttempts ?? 3);
    this.finalMaxAttempts = Math.max(1, retry.finalMaxAttempts ?? 20);
    this.finalMaxElapsedMs = retry.finalMaxElapsedMs ?? 10 * 60_000;
    this.baseDelayMs = Math.max(0, retry.baseDelayMs ?? 1000);
    this.maxDelayMs = Math.max(this.baseDelayMs, retry.maxDelayMs ?? 30_000);
    this.forgetAfterMs = options.forgetAfterMs ?? 30 * 60_000;
    this.contentOfFn = options.contentOf ?? ((payload) => JSON.stringify(payload));
    this.guard = options.guard;
    const now = this.nowFn();
    this.lastSweep = now;
    const budget = options.budget === false ? undefined : (options.budget ?? { perMinute: 50 });
    this.throttle = budget && new Throttle(budget);
    this.permits =
      budget &&
      (budget.permits ??
        new MemoryPermits(
          permitSchedule(budget.perMinute, budget.burst !== undefined ? { burst: budget.burst } : {}),
          this.nowFn,
        ));
  }

  /**
   * Queues `payload` as state `version` of the message. Never throws, never blocks.
   * Ignored when `version` is not above every version already accepted for the message, when a
   * final is queued and this one is not final, after a final was delivered, and after close().
   */
  publish(ref: MessageRef, version: number, payload: P, opts?: { final?: boolean; stamp?: unknown }): void {
    try {
      const final = opts?.final === true;
      const stamp = opts?.stamp;
      if (this.closing || !Number.isFinite(version)) {
        this.counters.ignored++;
        return;
      }
      const now = this.nowFn();
      this.maybeSweep(now);
      const state = this.stateFor(ref, now);
      const finalizing = state.pending?.final === true || state.inFlight?.final === true;
      if (state.finalDelivered || version <= state.accepted || (finalizing && !final)) {
        this.counters.ignored++;
        return;
      }
      const content = this.contentOfFn(payload);
      state.accepted = version;
      if (final && state.finalSince === undefined) state.finalSince = now;
      if (this.unchanged(state, { version, content, final, stamp })) {
        this.counters.unchanged++;
        return;
      }
      if (state.pending) {
        this.counters.dropped++;
      } else {
        state.waitingSince = now;
      }
      state.pending = { version, payload, content, final, attempts: 0, stamp };
      this.queued.add(state);
      this.requestPump();
    } catch {
      // never throw into the caller
    }
  }

  posted(ref: MessageRef, payload: P, opts?: { stamp?: unknown }): Promise<void> {
    try {
      const state = this.stateFor(ref, this.nowFn());
      const content = this.contentOfFn(payload);
      if (!state.pending && !state.inFlight && state.shown === undefined) state.shown = content;
      const stamp = opts?.stamp;
      if (this.guard && stamp !== undefined)
        return this.guard.shown(state.ref, { stamp, content, final: false }).catch(() => {});
    } catch {
      // never throw into the caller
    }
    return Promise.resolve();
  }

  /**
   * Whether a state with `content` would change nothing Slack shows once what is queued
   * has landed; if so it is taken as `version` of what is already on its way (so `settled` waits
   * for that), or as done at once when nothing is. A queued state in between that differs is
   * dropped when the message shows, or is being sent, this content already.
   */
  private unchanged(
    state: MessageState<P>,
    next: { version: number; content: string; final: boolean; stamp: unknown },
  ): boolean {
    const { version, content, final, stamp } = next;
    const { pending, inFlight } = state;
    if (pending?.content === content) {
      pending.version = version;
      pending.final ||= final;
      pending.stamp = stamp;
      return true;
    }
    const landing = inFlight ? inFlight.content : state.shown;
    if (landing !== content) return false;
    if (pending) {
      state.pending = undefined;
      this.queued.delete(state);
      this.counters.dropped++;
    }
    if (inFlight) {
      // What is being sent is this very content: it lands as this version (a final, if this is),
      // and the guard is told so when it does.
      inFlight.version = version;
      inFlight.final ||= final;
      inFlight.stamp = stamp;
    } else {
      // Slack shows it already: done (a final, delivered). The guard records the newer version, so
      // no other process sends an older state over it.
      if (final) {
        state.finalDelivered = true;
        state.finalSince = undefined;
      }
      if (this.guard && stamp !== undefined)
        void this.guard.shown(state.ref, { stamp, content, final }).catch(() => {});
      this.markDone(state, version);
    }
    return true;
  }

  /** Resolves once every version published so far (to `ref`, or to any message) is delivered or given up (or at once after close). */
  settled(ref?: MessageRef): Promise<void> {
    if (this.stopped) return Promise.resolve(); // closed: nothing more will be delivered
    const targets = ref ? [this.states.get(keyOf(ref))] : [...this.states.values()];
    const waits: Promise<void>[] = [];
    for (const state of targets) {
      if (!state || state.done >= state.accepted) continue;
      const target = state.accepted;
      waits.push(new Promise<void>((resolve) => state.waiters.push({ target, resolve })));
    }
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Stops accepting publishes and flushes what is held: the newest queued state of every message is
   * sent without waiting for its interval. Finals are retried as ever (the shared budget and
   * Retry-After still apply); an intermediate is tried once if that can be done now, else given up
   * (the next start renders the run again). Then stops. With `withinMs`, resolves by then.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = new Promise<void>((resolve) => {
      this.resolveClose = resolve;
    });
    if (options.withinMs !== undefined && Number.isFinite(options.withinMs)) {
      this.closeTimer = setTimeout(() => this.giveUp(), Math.max(0, options.withinMs));
    }
    this.checkClosed();
    if (!this.stopped) this.requestPump();
    return this.closePromise;
  }

  /** The close deadline passed: give up what is left and stop now. */
  private giveUp(): void {
    this.closeTimer = undefined;
    if (this.stopped) return;
    for (const state of [...this.queued]) {
      const entry = state.pending;
      state.pending = undefined;
      this.queued.delete(state);
      if (!entry) continue;
      if (entry.final) this.counters.failed++;
      else this.counters.dropped++;
      this.markDone(state, entry.version);
    }
    this.stop();
  }

  stats(): PublisherStats {
    const now = this.nowFn();
    let oldestWaitingMs = 0;
    for (const state of this.queued) oldestWaitingMs = Math.max(oldestWaitingMs, now - state.waitingSince);
    return { ...this.counters, queued: this.queued.size, oldestWaitingMs };
  }

  /** This process's rate after AIMD (sends per minute; `perMinute` when not slowed), or undefined without a budget. */
  budgetRatePerMinute(): number | undefined {
    return this.throttle?.ratePerMinute(this.nowFn());
  }

  // -------------------------------------------------------------------------------------------

  private stateFor(ref: MessageRef, now: number): MessageState<P> {
    const key = keyOf(ref);
    let state = this.states.get(key);
    if (!state) {
      state = {
        key,
        ref: { channel: ref.channel, ts: ref.ts },
        accepted: Number.NEGATIVE_INFINITY,
        done: Number.NEGATIVE_INFINITY,
        pending: undefined,
        inFlight: undefined,
        shown: undefined,
        waitingSince: now,
        lastAttemptAt: Number.NEGATIVE_INFINITY,
        blockedUntil: Number.NEGATIVE_INFINITY,
        finalSince: undefined,
        finalDelivered: false,
        idleSince: now,
        waiters: [],
      };
      this.states.set(key, state);
    }
    return state;
  }

  private maybeSweep(now: number): void {
    if (now - this.lastSweep < this.forgetAfterMs / 2) return;
    this.lastSweep = now;
    for (const [key, state] of this.states) {
      if (
        !state.pending &&
        !state.inFlight &&
        state.waiters.length === 0 &&
        now - state.idleSince >= this.forgetAfterMs
      ) {
        this.states.delete(key);
      }
    }
  }

  private requestPump(): void {
    if (this.pumpRequested || this.stopped) return;
    this.pumpRequested = true;
    Promise.resolve()
      .then(() => {
        this.pumpRequested = false;
        this.pump();
      })
      .catch(() => {});
  }

  /** Sends everything that may go now, in priority order, and arms the timer for the next moment. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.nowFn();
    let nextWake = Number.POSITIVE_INFINITY;
    const ready: MessageState<P>[] = [];
    for (const state of this.queued) {
      if (state.inFlight) continue; // its completion triggers a pump
      // Closing: what is held goes at once, but never against a Retry-After or a backoff.
      const interval = this.closing ? 0 : this.minIntervalMs;
      const readyAt = Math.max(state.lastAttemptAt + interval, state.blockedUntil);
      if (readyAt <= now) ready.push(state);
      else if (this.closing && !state.pending?.final) this.discard(state);
      else nextWake = Math.min(nextWake, readyAt);
    }
    // Finals first; then the message that has waited longest.
    ready.sort((a, b) => {
      const fa = a.pending?.final ? 0 : 1;
      const fb = b.pending?.final ? 0 : 1;
      return fa - fb || a.waitingSince - b.waitingSince;
    });
    for (const [index, state] of ready.entries()) {
      const wait = this.permit(now, ready.length - index);
      if (wait > 0) {
        // Infinity: the ledger is asked; its answer pumps again.
        if (Number.isFinite(wait)) {
          nextWake = Math.min(nextWake, now + wait);
          // Closing: an intermediate goes now or never (the next start renders the run again).
          if (this.closing)
            for (const rest of ready.slice(index)) if (!rest.pending?.final) this.discard(rest);
        }
        break;
      }
      this.dispatch(state, now);
    }
    this.checkClosed();
    if (!this.stopped) this.arm(nextWake, now);
  }

  /**
   * Takes a permit for one send now: 0 when there is one, else how long until one may be (ms), or
   * Infinity while the ledger is being asked (for up to `want`, the sends that could go now).
   */
  private permit(now: number, want: number): number {
    if (!this.permits || !this.throttle) return 0;
    const paced = this.throttle.readyAt(now);
    if (paced > now) return paced - now;
    while (this.held.length > 0 && this.held[0]! < now) this.held.shift(); // held too long: not used
    if (this.held.length === 0) {
      if (this.asking) return Number.POSITIVE_INFINITY;
      if (now < this.askAt) return this.askAt - now;
      // Slowed down: one at a time, so no permit waits for the pace.
      const count = this.throttle.factor(now) < 1 ? 1 : want;
      let grant: PermitGrant | Promise<PermitGrant>;
      try {
        grant = this.permits.take(count);
      } catch {
        grant = { granted: 0, retryInMs: 1000 };
      }
      if (isPromise(grant)) {
        this.asking = true;
        grant
          .catch(() => ({ granted: 0, retryInMs: 1000 }))
          .then((answer) => {
            this.asking = false;
            this.received(answer, count, now);
            this.requestPump();
          })
          .catch(() => {});
        return Number.POSITIVE_INFINITY;
      }
      this.received(grant, count, now);
      if (this.held.length === 0) return Math.max(1, this.askAt - now);
    }
    this.held.shift();
    this.throttle.sent(now);
    return 0;
  }

  /** The ledger's answer to a take asked for at `askedAt`. */
  private received(grant: PermitGrant, want: number, askedAt: number): void {
    const granted = Number.isFinite(grant.granted) ? Math.max(0, Math.floor(grant.granted)) : 0;
    const until = askedAt + (this.permits?.holdMs ?? 0);
    for (let i = 0; i < granted; i++) this.held.push(until);
    const retry = Number.isFinite(grant.retryInMs) ? Math.max(1, grant.retryInMs) : 1000;
    this.askAt = granted >= want ? Number.NEGATIVE_INFINITY : this.nowFn() + retry;
  }

  /** Closing: gives up the intermediate state a message holds. */
  private discard(state: MessageState<P>): void {
    const entry = state.pending;
    state.pending = undefined;
    this.queued.delete(state);
    if (!entry) return;
    this.counters.dropped++;
    this.markDone(state, entry.version);
  }

  private arm(at: number, now: number): void {
    if (at === Number.POSITIVE_INFINITY) {
      this.clearTimer();
      return;
    }
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, Math.ceil(at - now)),
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private dispatch(state: MessageState<P>, now: number): void {
    const entry = state.pending!;
    state.pending = undefined;
    this.queued.delete(state);
    state.inFlight = entry;
    state.lastAttemptAt = now;
    this.inFlightCount++;
    let sending: Promise<'sent' | 'shown' | 'stale'>;
    try {
      const guard = entry.stamp === undefined ? undefined : this.guard;
      sending = guard
        ? this.guarded(guard, state.ref, entry)
        : Promise.resolve(this.sendFn(state.ref, entry.payload)).then(() => 'sent' as const);
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending
      .then(
        (outcome) =>
          outcome === 'stale' ? this.onStale(state, entry) : this.onDelivered(state, entry, outcome),
        (error: unknown) => this.onFailed(state, entry, error, now),
      )
      .catch(() => {});
  }

  /** Claims the send from the guard, sends if it may go, then tells the guard it is shown. */
  private async guarded(
    guard: SendGuard,
    ref: MessageRef,
    entry: Entry<P>,
  ): Promise<'sent' | 'shown' | 'stale'> {
    const send: GuardedSend = { stamp: entry.stamp, content: entry.content, final: entry.final };
    const verdict = await guard.claim(ref, send);
    if (verdict !== 'send') return verdict;
    await this.sendFn(ref, entry.payload);
    // Not recorded: a later rendering of the same content is sent once more, nothing worse. As the
    // entry is now: a newer stamp of the same content may have joined it on its way.
    await guard
      .shown(ref, { stamp: entry.stamp, content: entry.content, final: entry.final })
      .catch(() => {});
    return 'sent';
  }

  /** The guard refused the state: another process claimed or showed a newer one. Given up. */
  private onStale(state: MessageState<P>, entry: Entry<P>): void {
    const now = this.nowFn();
    state.inFlight = undefined;
    this.inFlightCount--;
    this.counters.stale++;
    state.shown = undefined; // what the message shows now is another process's
    if (entry.final && !state.pending?.final) state.finalSince = undefined;
    this.markDone(state, entry.version);
    this.afterSettle(state, now);
  }

  private onDelivered(state: MessageState<P>, entry: Entry<P>, outcome: 'sent' | 'shown'): void {
    const now = this.nowFn();
    state.inFlight = undefined;
    this.inFlightCount--;
    if (outcome === 'sent') this.counters.sent++;
    else this.counters.unchanged++;
    state.shown = entry.content;
    if (entry.final) {
      state.finalDelivered = true;
      if (!state.pending?.final) state.finalSince = undefined;
    }
    this.markDone(state, entry.version);
    this.afterSettle(state, now);
  }

  private onFailed(state: MessageState<P>, entry: Entry<P>, error: unknown, startedAt: number): void {
    const now = this.nowFn();
    state.inFlight = undefined;
    this.inFlightCount--;
    const attempt = entry.attempts + 1;
    const retryAfter = safeCall(() => this.retryAfterMsFn(error), undefined);
    const rateLimited = retryAfter !== undefined && Number.isFinite(retryAfter);
    const permanent = !rateLimited && safeCall(() => this.isPermanentFn(error), false);
    if (rateLimited) {
      this.counters.rateLimited++;
      const wait = Math.max(0, retryAfter);
      state.blockedUntil = Math.max(state.blockedUntil, now + wait);
      this.throttle?.onRateLimited(now, startedAt, wait);
    } else if (!permanent) {
      const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
      state.blockedUntil = Math.max(state.blockedUntil, now + backoff);
    }

    let willRetry = false;
    const superseded = !permanent && state.pending !== undefined;
    if (permanent) {
      this.counters.failed++;
    } else if (superseded) {
      this.counters.dropped++; // the newer queued state is sent instead
    } else if (this.closing && !entry.final) {
      this.counters.dropped++;
    } else if (this.mayRetry(state, entry, attempt, now)) {
      willRetry = true;
      entry.attempts = attempt;
      state.pending = entry;
      this.queued.add(state);
    } else {
      this.counters.failed++;
    }
    if (!willRetry) {
      if (entry.final && !state.pending?.final) state.finalSince = undefined;
      this.markDone(state, entry.version);
    }
    if (this.onErrorFn) {
      const onError = this.onErrorFn;
      const info: SendErrorInfo = {
        version: entry.version,
        final: entry.final,
        attempt,
        rateLimited,
        permanent,
        willRetry,
        superseded,
      };
      safeCall(() => onError(state.ref, error, info), undefined);
    }
    this.afterSettle(state, now);
  }

  private mayRetry(state: MessageState<P>, entry: Entry<P>, attempt: number, now: number): boolean {
    if (!entry.final) return attempt < this.maxAttempts;
    const since = state.finalSince ?? now;
    return attempt < this.finalMaxAttempts && now - since < this.finalMaxElapsedMs;
  }

  private markDone(state: MessageState<P>, version: number): void {
    if (version > state.done) state.done = version;
    if (state.waiters.length === 0) return;
    const remaining: typeof state.waiters = [];
    for (const waiter of state.waiters) {
      if (state.done >= waiter.target) waiter.resolve();
      else remaining.push(waiter);
    }
    state.waiters = remaining;
  }

  private afterSettle(state: MessageState<P>, now: number): void {
    if (!state.pending && !state.inFlight) state.idleSince = now;
    this.checkClosed();
    this.requestPump();
  }

  private checkClosed(): void {
    if (!this.closing || this.stopped || this.queued.size > 0 || this.inFlightCount > 0) return;
    this.stop();
  }

  private stop(): void {
    this.stopped = true;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.clearTimer();
    for (const state of this.states.values()) {
      for (const waiter of state.waiters) waiter.resolve();
      state.waiters = [];
    }
    this.resolveClose?.();
  }
}
