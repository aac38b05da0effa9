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
 * - an optional shared token bucket (the Slack limit is per method per workspace, not per message)
 *   with AIMD: halve the rate on 429, creep back up on success; tight budget → finals first, then the
 *   message that has waited longest.
 *
 * - close(): the newest state of every message is sent at once — finals retried, intermediates tried
 *   once if the budget and Retry-After allow it now — within an optional time limit after which the
 *   rest is given up.
 *
 * All waiting is done with one timer (cleared on close) and the clock is injectable. Which errors
 * are rate limits and which are permanent is decided in `retry.ts`, with every other Slack call's.
 */
import { isPermanentSlackError, slackRetryAfterMs } from './retry.ts';

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
  /** Sends per minute shared by all messages (Slack `chat.update` is Tier 3: 50+/min per workspace). */
  perMinute: number;
  /** Token bucket capacity. Default: ceil(perMinute / 20), at least 1. */
  burst?: number;
  /** Lowest fraction of `perMinute` that AIMD may slow down to. Default 0.1. */
  minRateFactor?: number;
  /** Fraction of `perMinute` regained after each successful send. Default 1 / perMinute. */
  increasePerSuccess?: number;
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
  publish(ref: MessageRef, version: number, payload: P, opts?: { final?: boolean }): void;
  /** The message was just posted with `payload`: what Slack shows, so an edit to the same is not sent. */
  posted(ref: MessageRef, payload: P): void;
  settled(ref?: MessageRef): Promise<void>;
  /**
   * The share of the workspace's budget this process may use (1 / live replicas), so that all
   * replicas together keep to it. Default 1.
   */
  setBudgetShare(share: number): void;
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

function keyOf(ref: MessageRef): string {
  return `${ref.channel}\n${ref.ts}`;
}

// ---------------------------------------------------------------------------------------------
// Shared budget: token bucket + AIMD

class SharedBudget {
  private readonly fullRatePerMs: number;
  private readonly fullBurst: number;
  private ratePerMs: number;
  private burst: number;
  private readonly minFactor: number;
  private readonly increase: number;
  private tokens: number;
  private last: number;
  private factor = 1;
  /** Sends started before this instant were made at the old rate: their 429s do not halve again. */
  private holdUntil = Number.NEGATIVE_INFINITY;

  constructor(options: BudgetOptions, now: number) {
    const perMinute = options.perMinute > 0 && Number.isFinite(options.perMinute) ? options.perMinute : 50;
    this.fullRatePerMs = perMinute / 60_000;
    this.fullBurst = Math.max(1, options.burst ?? Math.ceil(perMinute / 20));
    this.ratePerMs = this.fullRatePerMs;
    this.burst = this.fullBurst;
    this.minFactor = Math.min(1, Math.max(0.001, options.minRateFactor ?? 0.1));
    this.increase = Math.max(0, options.increasePerSuccess ?? 1 / perMinute);
    this.tokens = this.burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerMs * this.factor);
      this.last = now;
    }
  }

  /** Takes a token and returns 0, or returns the ms until one is available. */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1 - 1e-9) {
      this.tokens = Math.max(0, this.tokens - 1);
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / (this.ratePerMs * this.factor)));
  }

  onSuccess(now: number): void {
    this.refill(now);
    this.factor = Math.min(1, this.factor + this.increase);
  }

  onRateLimited(now: number, startedAt: number, retryAfterMs: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
    if (startedAt >= this.holdUntil) {
      this.factor = Math.max(this.minFactor, this.factor / 2);
      this.holdUntil = now + Math.max(retryAfterMs, 1 / (this.ratePerMs * this.factor));
    }
  }

  /** This process's share of the workspace's budget (1 / live replicas): rate and burst scale with it. */
  setShare(share: number, now: number): void {
    this.refill(now);
    const fraction = Math.min(1, Math.max(0.001, share));
    this.ratePerMs = this.fullRatePerMs * fraction;
    this.burst = Math.max(1, this.fullBurst * fraction);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  ratePerMinute(): number {
    return this.ratePerMs * this.factor * 60_000;
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

const EMPTY_STATS = (): PublisherStats => ({
  sent: 0,
  rateLimited: 0,
  dropped: 0,
  failed: 0,
  ignored: 0,
  unchanged: 0,
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
  private readonly budget: SharedBudget | undefined;
  private readonly maxAttempts: number;
  private readonly finalMaxAttempts: number;
  private readonly finalMaxElapsedMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly forgetAfterMs: number;

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
    const now = this.nowFn();
    this.lastSweep = now;
    this.budget =
      options.budget === false ? undefined : new SharedBudget(options.budget ?? { perMinute: 50 }, now);
  }

  setBudgetShare(share: number): void {
    if (!Number.isFinite(share) || share <= 0) return;
    this.budget?.setShare(share, this.nowFn());
    this.requestPump();
  }

  /**
   * Queues `payload` as state `version` of the message. Never throws, never blocks.
   * Ignored when `version` is not above every version already accepted for the message, when a
   * final is queued and this one is not final, after a final was delivered, and after close().
   */
  publish(ref: MessageRef, version: number, payload: P, opts?: { final?: boolean }): void {
    try {
      const final = opts?.final === true;
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
      if (!final && this.unchanged(state, version, content)) {
        this.counters.unchanged++;
        return;
      }
      if (final && state.finalSince === undefined) state.finalSince = now;
      if (state.pending) {
        this.counters.dropped++;
      } else {
        state.waitingSince = now;
      }
      state.pending = { version, payload, content, final, attempts: 0 };
      this.queued.add(state);
      this.requestPump();
    } catch {
      // never throw into the caller
    }
  }

  posted(ref: MessageRef, payload: P): void {
    try {
      const state = this.stateFor(ref, this.nowFn());
      if (!state.pending && !state.inFlight && state.shown === undefined)
        state.shown = this.contentOfFn(payload);
    } catch {
      // never throw into the caller
    }
  }

  /**
   * Whether a non-final state with `content` would change nothing Slack shows once what is queued
   * has landed; if so it is taken as `version` of what is already on its way (so `settled` waits
   * for that), or as done at once when nothing is. A queued state in between that differs is
   * dropped when the message shows, or is being sent, this content already.
   */
  private unchanged(state: MessageState<P>, version: number, content: string): boolean {
    const { pending, inFlight } = state;
    if (pending?.content === content) {
      pending.version = version;
      return true;
    }
    const landing = inFlight ? inFlight.content : state.shown;
    if (landing !== content) return false;
    if (pending) {
      state.pending = undefined;
      this.queued.delete(state);
      this.counters.dropped++;
    }
    if (inFlight) inFlight.version = version;
    else this.markDone(state, version);
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

  /** Current shared rate after AIMD (sends per minute), or undefined without a budget. */
  budgetRatePerMinute(): number | undefined {
    return this.budget?.ratePerMinute();
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
      if (this.budget) {
        const wait = this.budget.take(now);
        if (wait > 0) {
          nextWake = Math.min(nextWake, now + wait);
          // Closing: an intermediate goes now or never (the next start renders the run again).
          if (this.closing)
            for (const rest of ready.slice(index)) if (!rest.pending?.final) this.discard(rest);
          break;
        }
      }
      this.dispatch(state, now);
    }
    this.checkClosed();
    if (!this.stopped) this.arm(nextWake, now);
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
    let sending: Promise<void>;
    try {
      sending = Promise.resolve(this.sendFn(state.ref, entry.payload));
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending
      .then(
        () => this.onDelivered(state, entry),
        (error: unknown) => this.onFailed(state, entry, error, now),
      )
      .catch(() => {});
  }

  private onDelivered(state: MessageState<P>, entry: Entry<P>): void {
    const now = this.nowFn();
    state.inFlight = undefined;
    this.inFlightCount--;
    this.counters.sent++;
    state.shown = entry.content;
    if (entry.final) {
      state.finalDelivered = true;
      if (!state.pending?.final) state.finalSince = undefined;
    }
    this.budget?.onSuccess(now);
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
      this.budget?.onRateLimited(now, startedAt, wait);
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

// ---------------------------------------------------------------------------------------------
// NaivePublisher: the benchmark baseline

/** Sends every publish immediately: no coalescing, ordering, interval, retry or budget. */
export class NaivePublisher<P> implements Publisher<P> {
  private readonly sendFn: (ref: MessageRef, payload: P) => Promise<void>;
  private readonly retryAfterMsFn: (error: unknown) => number | undefined;
  private readonly isPermanentFn: (error: unknown) => boolean;
  private readonly onErrorFn: ((ref: MessageRef, error: unknown, info: SendErrorInfo) => void) | undefined;
  private readonly inFlight = new Map<string, Set<Promise<void>>>();
  private readonly counters = EMPTY_STATS();
  private closed = false;

  constructor(options: PublisherOptions<P>) {
    this.sendFn = options.send;
    this.retryAfterMsFn = options.retryAfterMs ?? slackRetryAfterMs;
    this.isPermanentFn = options.isPermanent ?? isPermanentSlackError;
    this.onErrorFn = options.onError;
  }

  /** The baseline keeps no budget: nothing to share. */
  setBudgetShare(_share: number): void {}

  posted(_ref: MessageRef, _payload: P): void {}

  publish(ref: MessageRef, version: number, payload: P, opts?: { final?: boolean }): void {
    try {
      this.start(ref, version, payload, opts?.final === true);
    } catch {
      // never throw into the caller
    }
  }

  private start(ref: MessageRef, version: number, payload: P, final: boolean): void {
    if (this.closed) {
      this.counters.ignored++;
      return;
    }
    const key = keyOf(ref);
    const target: MessageRef = { channel: ref.channel, ts: ref.ts };
    let sending: Promise<void>;
    try {
      sending = Promise.resolve(this.sendFn(target, payload));
    } catch (error) {
      sending = Promise.reject(error);
    }
    const tracked: Promise<void> = sending.then(
      () => {
        this.counters.sent++;
      },
      (error: unknown) => {
        const retryAfter = safeCall(() => this.retryAfterMsFn(error), undefined);
        const rateLimited = retryAfter !== undefined;
        if (rateLimited) this.counters.rateLimited++;
        this.counters.failed++;
        const permanent = !rateLimited && safeCall(() => this.isPermanentFn(error), false);
        const onError = this.onErrorFn;
        const info: SendErrorInfo = {
          version,
          final,
          attempt: 1,
          rateLimited,
          permanent,
          willRetry: false,
          superseded: false,
        };
        if (onError) safeCall(() => onError(target, error, info), undefined);
      },
    );
    let set = this.inFlight.get(key);
    if (!set) {
      set = new Set();
      this.inFlight.set(key, set);
    }
    const bucket = set;
    bucket.add(tracked);
    void tracked.finally(() => {
      bucket.delete(tracked);
      if (bucket.size === 0 && this.inFlight.get(key) === bucket) this.inFlight.delete(key);
    });
  }

  settled(ref?: MessageRef): Promise<void> {
    const sets = ref ? [this.inFlight.get(keyOf(ref))] : [...this.inFlight.values()];
    const all: Promise<void>[] = [];
    for (const set of sets) if (set) all.push(...set);
    return Promise.all(all).then(() => undefined);
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.closed = true;
    const withinMs = options.withinMs;
    if (withinMs === undefined || !Number.isFinite(withinMs)) return this.settled();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, withinMs));
    });
    return Promise.race([this.settled(), late]).finally(() => clearTimeout(timer));
  }

  stats(): PublisherStats {
    return { ...this.counters };
  }
}
