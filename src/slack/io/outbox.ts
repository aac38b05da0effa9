/**
 * The one way thread replies and DMs go out: through an outbox in the database, so that each
 * notice reaches Slack exactly once across failures, restarts and replicas.
 *
 * - A notice is written once under its key (`send`; writing it again changes nothing) and tried at
 *   once in the same process. What fails is tried again with back-off by a small loop in every
 *   replica (`start`), which claims due notices one attempt at a time with a lease (a conditional
 *   update, as the deadline scheduler claims deadlines: src/deadlines/scheduler.ts).
 * - A notice is marked sent only once Slack said ok. A 429 — or `ok: false` with `ratelimited` —
 *   waits its Retry-After (or the back-off); a permanent error (`channel_not_found`, …) or a notice
 *   still unsent after `giveUpAfterMs` is given up, with a warning.
 * - Each notice is posted with its key in the message's metadata. An attempt whose outcome is
 *   unknown (a timeout, a connection cut, a process stopped mid-call) leaves the notice `unsure`;
 *   before posting it again, the next attempt looks for it in the thread or the DM by that key, and
 *   takes a message found as sent. So: at least once, de-duplicated by metadata.
 */
import type { KnownBlock } from '@slack/types';
import type { Logger } from '../../logger.ts';
import type { NewNotice, Notice, NoticeResult, Store } from '../../store/index.ts';
import { sleep } from '../../util/sleep.ts';
import { slackFailure, TRANSIENT_PLATFORM_ERRORS } from '../errors.ts';
import type { PostedMessage, SlackGateway } from './gateway.ts';

export type { NewNotice } from '../../store/index.ts';

export interface OutboxOptions {
  store: Store;
  gateway: SlackGateway;
  logger: Logger;
  /** This replica (its claims name it). */
  owner: string;
  /**
   * A DM asking questions was posted by the loop, and recorded (`saveQuestionDm`): the run's
   * message now says whom it asked (src/slack/services/progress-messages.ts). One posted by `send` is its caller's.
   */
  onAsked?(runId: string): void;
  /**
   * Asked before every attempt after the first (once an earlier one is known not to have posted
   * it): false drops the notice instead — a question DM whose question was answered meanwhile.
   */
  wanted?(notice: Notice): Promise<boolean>;
  /** How often due notices are looked for. Default 1000 ms. */
  intervalMs?: number;
  /**
   * `send` tries again itself (up to twice) when the next try is due within this long — a 429's
   * short Retry-After, a first back-off — rather than leave it to the loop. Default 3000 ms.
   */
  retryWithinMs?: number;
  /** First wait after a failure, doubled each attempt up to `maxBackoffMs`. Default 1000 ms. */
  backoffMs?: number;
  /** Default 5 minutes. */
  maxBackoffMs?: number;
  /** A notice not sent this long after it was written is given up. Default 24 hours. */
  giveUpAfterMs?: number;
  now?: () => Date;
  random?: () => number;
}

/**
 * How long one attempt may hold a notice: its calls (a DM opened, `MAX_NOTICE_PAGES` pages looked
 * at, a post: each at most the `notice` policy's 10 s) end within it, so no two attempts overlap.
 */
export const NOTICE_LEASE_MS = 60_000;
/** At most this many notices are looked for per tick, and tried at once. */
const BATCH = 50;
/** `send` tries a notice at most this many more times itself, when each is due within `retryWithinMs`. */
const SEND_RETRIES = 2;

/** What an attempt's failure means for the notice. */
type Verdict =
  | { retry: true; afterMs?: number; unsure: boolean; error: string }
  | { retry: false; error: string };

/**
 * A failed call, judged: rate limits (a 429, and `ok: false` with `ratelimited`, which Slack also
 * answers) wait; a platform error means Slack refused and did nothing; a network error, a timeout
 * or an HTTP 5xx may have reached Slack (`unsure`); other HTTP errors did not.
 */
function noticeVerdict(error: unknown, posting: boolean): Verdict {
  const failure = slackFailure(error);
  switch (failure.kind) {
    case 'rate_limited':
      // A 429, or `ok: false` with `ratelimited` (src/slack/errors.ts takes both for one).
      return { retry: true, afterMs: failure.retryAfterMs, unsure: false, error: 'rate limited' };
    case 'platform':
      return TRANSIENT_PLATFORM_ERRORS.has(failure.error)
        ? { retry: true, unsure: false, error: failure.error }
        : { retry: false, error: failure.error };
    case 'http':
      return {
        retry: true,
        ...(failure.retryAfterMs !== undefined ? { afterMs: failure.retryAfterMs } : {}),
        unsure: posting && failure.status >= 500,
        error: `HTTP ${failure.status}`,
      };
    case 'network':
      return { retry: true, unsure: posting, error: failure.timedOut ? 'timed out' : 'network error' };
    default:
      return { retry: true, unsure: posting, error: error instanceof Error ? error.message : String(error) };
  }
}

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #inFlight = new Map<string, Promise<NoticeResult | undefined>>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = true;
  /** Stopping: `send` tries no more than once. */
  #closing = false;

  constructor(options: OutboxOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
  }

  /**
   * Writes the notice (once per key: a notice written before is left as it is) and tries it now.
   * Resolves once this try is over, to true when it sent the notice (false: sent before, left for a
   * later try, given up, or being tried elsewhere); never rejects for Slack's sake.
   */
  async send(notice: NewNotice): Promise<boolean> {
    await this.add(notice);
    for (let retries = 0; ; retries++) {
      const result = await this.#attempt(notice.key, false);
      if (result?.state !== 'pending') return result?.state === 'sent';
      // Due again soon (a 429's Retry-After, a first back-off): tried again here, as promptly as
      // the loop would; anything later is the loop's.
      const wait = result.nextAt.getTime() - this.#now().getTime();
      const within = this.#o.retryWithinMs ?? 3000;
      if (this.#closing || retries >= SEND_RETRIES || within <= 0 || wait > within) return false;
      await sleep(Math.max(0, wait));
    }
  }

  /** Writes the notice, once per key, for the loop (or a `send` with its key) to deliver. */
  async add(notice: NewNotice): Promise<void> {
    await this.#o.store.addNotice(notice, this.#now());
  }

  /** Looks for due notices now, then every interval. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** No more ticks; waits for the attempts in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#closing = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /** One look for due notices; resolves once the attempts it started are over (tests, benchmarks). */
  async tick(): Promise<void> {
    const due = await this.#o.store.dueNotices(this.#now(), BATCH);
    await Promise.all(due.map((n) => this.#attempt(n.key, true)));
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#ticking = this.tick()
        .catch((error) => this.#o.logger.warn('the outbox check failed', error))
        .finally(() => {
          this.#ticking = undefined;
          this.#schedule(this.#o.intervalMs ?? 1000);
        });
    }, delay);
  }

  /**
   * One attempt at `key`, unless one is in progress here already (its outcome then) or another
   * replica holds it: what became of the notice, if this process tried it.
   */
  #attempt(key: string, loop: boolean): Promise<NoticeResult | undefined> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const work = this.#claimAndTry(key, loop)
      .catch((error) => {
        this.#o.logger.warn(`notice ${key}: the attempt failed`, error);
        return undefined;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, work);
    return work;
  }

  async #claimAndTry(key: string, loop: boolean): Promise<NoticeResult | undefined> {
    const { store, owner } = this.#o;
    const now = this.#now();
    const notice = await store.claimNotice(key, owner, new Date(now.getTime() + NOTICE_LEASE_MS), now);
    if (!notice) return undefined; // sent, given up, not due yet, or being tried elsewhere
    const result = await this.#try(notice, loop);
    if (result.state === 'given_up' && result.error !== 'no longer needed')
      this.#o.logger.warn(
        `${describe(notice)} was given up after ${notice.attempts} attempt(s): ${result.error}`,
      );
    await store.finishNotice(key, owner, result);
    return result;
  }

  async #try(notice: Notice, loop: boolean): Promise<NoticeResult> {
    const { gateway } = this.#o;
    let unsure = notice.unsure;
    let posting = false;
    try {
      const thread = 'channel' in notice.to ? notice.to : undefined;
      const channel =
        thread?.channel ?? (await gateway.dmWith((notice.to as { userId: string }).userId, 'notice'));
      if (unsure) {
        // An earlier attempt may have posted it, its answer lost: look before posting again.
        const found = await gateway.findNotice(
          channel,
          thread?.threadTs,
          notice.key,
          notice.createdAt,
          'notice',
        );
        if (found) return await this.#sent(notice, found, loop);
        unsure = false;
      }
      if (notice.attempts > 1 && this.#o.wanted && !(await this.#o.wanted(notice))) {
        this.#o.logger.debug(`${describe(notice)} is no longer needed; not sent`);
        return { state: 'given_up', error: 'no longer needed' };
      }
      const content = {
        text: notice.text,
        ...(notice.blocks ? { blocks: notice.blocks as KnownBlock[] } : {}),
      };
      posting = true;
      const posted: PostedMessage = await gateway.postNotice(
        channel,
        thread?.threadTs,
        content,
        notice.key,
        'notice',
      );
      posting = false;
      unsure = true; // posted: should recording it fail, the next attempt finds it
      return await this.#sent(notice, posted, loop);
    } catch (error) {
      const verdict = noticeVerdict(error, posting);
      const now = this.#now();
      const late = now.getTime() - notice.createdAt.getTime() >= (this.#o.giveUpAfterMs ?? 24 * 60 * 60_000);
      if (!verdict.retry || late) return { state: 'given_up', error: verdict.error };
      return {
        state: 'pending',
        nextAt: new Date(now.getTime() + Math.max(verdict.afterMs ?? 0, this.#backoff(notice.attempts))),
        unsure: unsure || verdict.unsure,
        error: verdict.error,
      };
    }
  }

  /** Slack has it: a DM asking questions is recorded as asked (before it counts as sent). */
  async #sent(notice: Notice, posted: { channel: string; ts: string }, loop: boolean): Promise<NoticeResult> {
    if (notice.asks && notice.asks.length > 0 && notice.runId && 'userId' in notice.to) {
      const at = this.#now();
      for (const suspensionKey of notice.asks) {
        await this.#o.store.saveQuestionDm({
          runId: notice.runId,
          suspensionKey,
          userId: notice.to.userId,
          channel: posted.channel,
          ts: posted.ts,
          at,
        });
      }
      if (loop) this.#o.onAsked?.(notice.runId);
    }
    return { state: 'sent', posted: { channel: posted.channel, ts: posted.ts } };
  }

  /** The wait after attempt `attempts` failed: doubling, with jitter, capped. */
  #backoff(attempts: number): number {
    const base = this.#o.backoffMs ?? 1000;
    const cap = this.#o.maxBackoffMs ?? 5 * 60_000;
    const backoff = Math.min(cap, base * 2 ** Math.max(0, attempts - 1));
    return backoff / 2 + (this.#random() * backoff) / 2;
  }
}

/** A notice in a log line: what and where, never its text. */
function describe(notice: Notice): string {
  const where =
    'userId' in notice.to
      ? `the DM to ${notice.to.userId}`
      : `the thread ${notice.to.channel}/${notice.to.threadTs}`;
  return `${notice.runId ? `run ${notice.runId}: ` : ''}notice ${notice.key} in ${where}`;
}
