/**
 * What a failed Slack Web API call means, in one place: the errors a `WebClient` throws classified
 * (rate limited, HTTP, network, platform), and which of them are worth another attempt. Pure: the
 * retrying (src/slack/io/call-policies.ts), the outbox, the publisher and the words people read
 * (src/slack/render/failures.ts) all decide from it.
 */

const SLACK_DEADLINE_CODE = 'flowgate_slack_deadline';

/** Thrown instead of a call that a runner had no time left for; counts as a timeout. */
export class SlackDeadlineError extends Error {
  override readonly name = 'SlackDeadlineError';
  readonly code = SLACK_DEADLINE_CODE;
  constructor() {
    super('A Slack call was not attempted: the calls before it used up the time allowed.');
  }
}

/** The wait after `ok: false, error: ratelimited` when Slack names none (no Retry-After header). */
export const RATE_LIMITED_WAIT_MS = 1000;

/** A failed Web API call, classified (`network` with `timedOut` also for a call out of time). */
export type SlackFailure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'http'; status: number; retryAfterMs?: number }
  | { kind: 'network'; timedOut: boolean }
  | { kind: 'platform'; error: string }
  | { kind: 'other' };

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

/** Classifies an error thrown by a `WebClient` call (anything else is `other`). */
export function slackFailure(error: unknown): SlackFailure {
  switch (field(error, 'code')) {
    case 'slack_webapi_rate_limited_error': {
      const retryAfterMs = seconds(field(error, 'retryAfter'));
      return retryAfterMs === undefined ? { kind: 'other' } : { kind: 'rate_limited', retryAfterMs };
    }
    case 'slack_webapi_http_error': {
      const status = field(error, 'statusCode');
      if (typeof status !== 'number') return { kind: 'other' };
      const retryAfterMs = seconds(field(field(error, 'headers'), 'retry-after'));
      return retryAfterMs === undefined ? { kind: 'http', status } : { kind: 'http', status, retryAfterMs };
    }
    case 'slack_webapi_request_error': {
      const original = field(error, 'original');
      const name = field(original, 'name');
      return { kind: 'network', timedOut: name === 'TimeoutError' || name === 'AbortError' };
    }
    case SLACK_DEADLINE_CODE:
      return { kind: 'network', timedOut: true };
    case 'slack_webapi_platform_error': {
      const data = field(error, 'data');
      const code = field(data, 'error');
      // `ok: false, error: ratelimited` answered with HTTP 200: a 429 all the same.
      if (code === 'ratelimited' || code === 'rate_limited') {
        const retryAfterMs = seconds(field(field(data, 'response_metadata'), 'retryAfter'));
        return { kind: 'rate_limited', retryAfterMs: retryAfterMs ?? RATE_LIMITED_WAIT_MS };
      }
      return { kind: 'platform', error: typeof code === 'string' ? code : 'unknown_error' };
    }
    default:
      return { kind: 'other' };
  }
}

/** Slack did not process the call and may well on another try: 429, 5xx, 408, network errors. */
export function isTransientSlackFailure(failure: SlackFailure): boolean {
  if (failure.kind === 'rate_limited' || failure.kind === 'network') return true;
  return failure.kind === 'http' && (failure.status >= 500 || failure.status === 408);
}

/** Platform errors (`ok: false`) that mean "not now", not "never": worth trying again. */
export const TRANSIENT_PLATFORM_ERRORS: ReadonlySet<string> = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
  'external_channel_migrating',
]);

/** A rate limit's wait in ms (a 429's Retry-After, or `ok: false, error: ratelimited`); the publisher's default. */
export function slackRetryAfterMs(error: unknown): number | undefined {
  const failure = slackFailure(error);
  return failure.kind === 'rate_limited' ? failure.retryAfterMs : undefined;
}

/**
 * For idempotent edits (the publisher's default): platform errors are permanent except a few
 * server-side ones; HTTP 4xx (except 408/425/429) are permanent; network errors, 5xx and unknown
 * errors are transient.
 */
export function isPermanentSlackError(error: unknown): boolean {
  const failure = slackFailure(error);
  if (failure.kind === 'platform') return !TRANSIENT_PLATFORM_ERRORS.has(failure.error);
  if (failure.kind === 'http')
    return failure.status >= 400 && failure.status < 500 && ![408, 425, 429].includes(failure.status);
  return false;
}
