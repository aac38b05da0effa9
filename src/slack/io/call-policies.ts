/**
 * How Flowgate calls Slack's Web API when Slack fails, in one place: a policy for each kind of use,
 * the options every `WebClient` is built with, and the one function that retries a call by its
 * policy (which failures are worth another attempt: src/slack/errors.ts).
 *
 * The SDK's own retries are off on every client (its default is 10 retries over about 30 minutes,
 * during which a person starting a run would hear nothing): each call is retried here, alone, by
 * the policy its caller chose, so one failing call never pauses another and no retries are stacked
 * on retries. Retried: HTTP 429 (after its Retry-After) and `ok: false, error: ratelimited` (the
 * same, whatever its HTTP status), HTTP 5xx and 408, network errors and timeouts. Never retried:
 * other platform errors (`ok: false`, e.g. `channel_not_found`) — Slack answered.
 */
import type { RetryOptions, WebClientOptions } from '@slack/web-api';
import { sleep } from '../../util/sleep.ts';
import { isTransientSlackFailure, SlackDeadlineError, slackFailure } from '../errors.ts';

export type SlackCallPolicyName = 'interactive' | 'modal' | 'background' | 'update' | 'lookup' | 'notice';

export interface SlackCallPolicy {
  /** Attempts in all (1: never retried here). */
  attempts: number;
  /** Time allowed for one attempt (the request timeout of the policy's client). */
  timeoutMs: number;
  /**
   * The whole call, waits and retries included, ends within this long: an attempt is only started
   * when it can end in time (the first one always is).
   */
  deadlineMs: number;
  /** Wait before the second attempt after a 5xx or network error; doubled each time, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

/** Every policy, by the use it is fit for. Callers name the policy; nobody tunes a call on their own. */
export const SLACK_CALL_POLICIES: Readonly<Record<SlackCallPolicyName, Readonly<SlackCallPolicy>>> = {
  /**
   * A person is waiting for the outcome: the progress message of the run they start, ephemeral
   * replies, the DM after a form submission, a modal they look at, user-group lookups on a click.
   * A few seconds in all, then they are told.
   */
  interactive: { attempts: 3, timeoutMs: 2500, deadlineMs: 5000, backoffMs: 250, maxBackoffMs: 1000 },
  /** `views.open`: the trigger of a click expires 3 s after it, so only a quick second try can help. */
  modal: { attempts: 2, timeoutMs: 1200, deadlineMs: 2500, backoffMs: 200, maxBackoffMs: 200 },
  /**
   * Nobody waits: permalinks, member and channel lookups, the message of a run started elsewhere
   * (thread replies and DMs: `notice`). Longer, with backoff, on a client of its own, so it never
   * holds up the calls a person waits for.
   */
  background: { attempts: 6, timeoutMs: 10_000, deadlineMs: 120_000, backoffMs: 1000, maxBackoffMs: 30_000 },
  /**
   * Progress-message edits (`chat.update`): one attempt here. The publisher decides when to try
   * again (Retry-After of that message, backoff on 5xx, finals first), see `publisher.ts`.
   */
  update: { attempts: 1, timeoutMs: 10_000, deadlineMs: 10_000, backoffMs: 0, maxBackoffMs: 0 },
  /**
   * The requester lookup of a run started elsewhere (`users.lookupByEmail`): one attempt here. A
   * failed lookup is stored as pending and tried again from the database with back-off, see
   * `elsewhere.ts`, so the check of runs started elsewhere never waits on Slack's retries.
   */
  lookup: { attempts: 1, timeoutMs: 5000, deadlineMs: 5000, backoffMs: 0, maxBackoffMs: 0 },
  /**
   * Thread replies and DMs sent through the outbox (`outbox.ts`): one attempt here. The outbox
   * tries again from the database with back-off, by any replica, and first looks for a notice whose
   * last attempt may have reached Slack, so none is posted twice.
   */
  notice: { attempts: 1, timeoutMs: 10_000, deadlineMs: 10_000, backoffMs: 0, maxBackoffMs: 0 },
};

/**
 * Bolt's own client (`auth.test` at start-up): one attempt within 10 s. A failure stops the start-up
 * with a message naming the cause; a supervisor starts Flowgate again.
 */
export const BOLT_CLIENT_TIMEOUT_MS = 10_000;

/**
 * The Socket Mode connection (`apps.connections.open`, with the app token). The SDK's Socket Mode
 * client gives up for good on HTTP and network errors, so this is the one client whose retries stay
 * in the SDK: without a connection Flowgate hears nothing, and nobody waits on this call. Bounded:
 * 30 retries, from 1 s growing by 1.5× up to 60 s (22–24 minutes in all).
 */
const SOCKET_MODE_CONNECTION_RETRY: RetryOptions = {
  retries: 30,
  factor: 1.5,
  minTimeout: 1000,
  maxTimeout: 60_000,
  randomize: true,
};

/** Options of the Socket Mode connection's client (Bolt's `installerOptions.clientOptions`). */
export function socketModeClientOptions(slackApiUrl: string): WebClientOptions {
  return { slackApiUrl, timeout: BOLT_CLIENT_TIMEOUT_MS, retryConfig: SOCKET_MODE_CONNECTION_RETRY };
}

/** Options of a `WebClient` whose calls are retried by a policy here: SDK retries off, 429s rejected. */
export function slackClientOptions(slackApiUrl: string, timeoutMs: number): WebClientOptions {
  return { slackApiUrl, timeout: timeoutMs, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true };
}

// ---------------------------------------------------------------------------------------------
// Retrying

/**
 * How long to wait before attempt `attempt + 1` after `error`, or undefined when another attempt
 * cannot help. A 429 waits its Retry-After plus a random extra of up to one Retry-After (capped at
 * `maxBackoffMs`), so calls limited together do not all come back together; 5xx and network errors
 * back off exponentially with jitter (at least a 503's Retry-After).
 */
export function retryDelayMs(
  policy: SlackCallPolicy,
  error: unknown,
  attempt: number,
  random: () => number = Math.random,
): number | undefined {
  const failure = slackFailure(error);
  if (!isTransientSlackFailure(failure)) return undefined;
  if (failure.kind === 'rate_limited') {
    return failure.retryAfterMs + random() * Math.min(failure.retryAfterMs, policy.maxBackoffMs);
  }
  const backoff = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1));
  const jittered = backoff / 2 + (random() * backoff) / 2;
  return failure.kind === 'http' && failure.retryAfterMs !== undefined
    ? Math.max(jittered, failure.retryAfterMs)
    : jittered;
}

export interface RetryContext {
  /** Ends waits at once: the call fails with its last error (shutdown). */
  signal?: AbortSignal;
  /** Monotonic ms; default `performance.now`. */
  now?: () => number;
  /** Waits `ms` or until `signal` aborts; default a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Told about every failed attempt that will be tried again. */
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
}

/**
 * Runs Web API calls by `policy`; every call made through one runner shares its deadline.
 * `beforeAttempt` is awaited before each attempt (e.g. to let calls a person waits for go first);
 * the time it takes counts.
 */
export type SlackCallRunner = <T>(
  call: () => Promise<T>,
  options?: { beforeAttempt?: () => Promise<void> },
) => Promise<T>;

/**
 * A runner for one piece of work (e.g. "post the progress message, or DM it"): each call is
 * attempted up to `policy.attempts` times, and nothing is attempted or waited for past
 * `policy.deadlineMs` from now — a wait or an attempt that could not end in time is not begun, and
 * the last error is thrown instead.
 */
export function slackCallRunner(policy: SlackCallPolicy, context: RetryContext = {}): SlackCallRunner {
  const now = context.now ?? (() => performance.now());
  const pause = context.sleep ?? sleep;
  const random = context.random ?? Math.random;
  const deadline = now() + policy.deadlineMs;
  let started = false;
  return async <T>(call: () => Promise<T>, options: { beforeAttempt?: () => Promise<void> } = {}) => {
    for (let attempt = 1; ; attempt++) {
      await options.beforeAttempt?.();
      if (started && now() + policy.timeoutMs > deadline) throw new SlackDeadlineError();
      started = true;
      try {
        return await call();
      } catch (error) {
        if (attempt >= policy.attempts || context.signal?.aborted) throw error;
        const wait = retryDelayMs(policy, error, attempt, random);
        if (wait === undefined || now() + wait + policy.timeoutMs > deadline) throw error;
        context.onRetry?.(error, attempt, wait);
        await pause(wait, context.signal);
        if (context.signal?.aborted) throw error;
      }
    }
  };
}
