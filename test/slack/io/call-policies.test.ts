/**
 * The retry policies of Slack calls: which failures are tried again, and that no policy ever takes
 * longer than it says, whatever Slack answers and however slowly (on a fake clock).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  isPermanentSlackError,
  SlackDeadlineError,
  slackFailure,
  slackRetryAfterMs,
} from '../../../src/slack/errors.ts';
import {
  retryDelayMs,
  SLACK_CALL_POLICIES,
  type SlackCallPolicy,
  type SlackCallPolicyName,
  slackCallRunner,
  slackClientOptions,
} from '../../../src/slack/io/call-policies.ts';
import { silentSlackLogger } from '../../emulator/helpers.ts';

const POLICY_NAMES = Object.keys(SLACK_CALL_POLICIES) as SlackCallPolicyName[];

const http = (status: number, headers: Record<string, string> = {}) =>
  new WebAPIHTTPError(status, 'error', headers, '');
const platform = (error: string) => new WebAPIPlatformError({ ok: false, error });
const network = () => new WebAPIRequestError(new Error('socket hang up'));
const timeout = () => new WebAPIRequestError(new DOMException('The operation timed out.', 'TimeoutError'));

/** A runner on a fake clock: sleeping and each attempt's latency advance it. */
function fakeRun(policy: SlackCallPolicy, options: { signal?: AbortSignal } = {}) {
  let t = 0;
  const waits: number[] = [];
  const run = slackCallRunner(policy, {
    now: () => t,
    sleep: async (ms) => {
      waits.push(ms);
      t += ms;
    },
    random: () => 0.5,
    ...options,
  });
  return {
    run,
    waits,
    elapsed: () => t,
    /** A call that takes `latencyMs` and then fails with `error()` (or answers `ok`). */
    call: (outcomes: Array<() => unknown>, latencyMs: (attempt: number) => number = () => 50) => {
      let attempt = 0;
      return async () => {
        const outcome = outcomes[Math.min(attempt, outcomes.length - 1)]!;
        t += latencyMs(++attempt);
        const value = outcome();
        if (value instanceof Error) throw value;
        return value;
      };
    },
  };
}

describe('which failures are tried again', () => {
  test.each([
    ['HTTP 500', true, http(500)],
    ['HTTP 503', true, http(503)],
    ['HTTP 408', true, http(408)],
    ['a network error', true, network()],
    ['a timeout', true, timeout()],
    ['a 429 with Retry-After', true, new WebAPIRateLimitedError(1)],
    ['ok: false, error: ratelimited (HTTP 200)', true, platform('ratelimited')],
    ['HTTP 400', false, http(400)],
    ['HTTP 404', false, http(404)],
    ['channel_not_found', false, platform('channel_not_found')],
    ['a platform internal_error (Slack may have done part of it)', false, platform('internal_error')],
    ['invalid_auth', false, platform('invalid_auth')],
    ['an error that is not Slack’s', false, new TypeError('x is undefined')],
  ])('%s: tried again %s', async (_, retried, error) => {
    const fake = fakeRun(SLACK_CALL_POLICIES.interactive);
    const call = fake.call([() => error, () => 'ok']);
    if (retried) await expect(fake.run(call)).resolves.toBe('ok');
    else await expect(fake.run(call)).rejects.toBe(error);
  });

  test('a 429 waits its Retry-After (plus jitter); a 503 at least its Retry-After', () => {
    const { background, interactive } = SLACK_CALL_POLICIES;
    expect(retryDelayMs(background, new WebAPIRateLimitedError(3), 1, () => 0)).toBe(3000);
    expect(retryDelayMs(background, new WebAPIRateLimitedError(3), 1, () => 1)).toBe(6000);
    expect(retryDelayMs(interactive, new WebAPIRateLimitedError(3), 1, () => 1)).toBe(4000);
    expect(retryDelayMs(background, http(503, { 'retry-after': '20' }), 1, () => 0)).toBe(20_000);
    expect(retryDelayMs(background, http(500), 1, () => 1)).toBe(1000);
    expect(retryDelayMs(background, http(500), 3, () => 1)).toBe(4000);
    expect(retryDelayMs(background, http(500), 10, () => 1)).toBe(30_000);
  });

  test('ok: false, error: ratelimited is a 429: its Retry-After when Slack sends one, else 1 s', () => {
    const withHeader = new WebAPIPlatformError({
      ok: false,
      error: 'ratelimited',
      response_metadata: { retryAfter: 7 },
    });
    expect(slackFailure(withHeader)).toEqual({ kind: 'rate_limited', retryAfterMs: 7000 });
    expect(slackFailure(platform('ratelimited'))).toEqual({ kind: 'rate_limited', retryAfterMs: 1000 });
    expect(slackFailure(platform('rate_limited'))).toEqual({ kind: 'rate_limited', retryAfterMs: 1000 });
    const { background } = SLACK_CALL_POLICIES;
    expect(retryDelayMs(background, withHeader, 1, () => 0)).toBe(7000);
    expect(slackRetryAfterMs(withHeader)).toBe(7000);
    expect(isPermanentSlackError(withHeader)).toBe(false);
  });

  test('a 429 longer than a person may wait: failed at once, no waiting', async () => {
    const fake = fakeRun(SLACK_CALL_POLICIES.interactive);
    const limited = new WebAPIRateLimitedError(30);
    await expect(fake.run(fake.call([() => limited]))).rejects.toBe(limited);
    expect(fake.waits).toEqual([]);
  });

  test('a real WebClient built by the policy: no SDK retries, and a hanging Slack is a timeout', async () => {
    const server = createServer(() => {}); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new WebClient('xoxb-test', {
        ...slackClientOptions(`http://127.0.0.1:${port}/api/`, 200),
        logger: silentSlackLogger,
      });
      const t0 = Date.now();
      const error = await client.auth.test().catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(slackFailure(error)).toEqual({ kind: 'network', timedOut: true });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('every policy is bounded', () => {
  test('a person waits a few seconds at most; a modal opens within the 3 s of its trigger', () => {
    expect(SLACK_CALL_POLICIES.interactive.deadlineMs).toBeLessThanOrEqual(5000);
    expect(SLACK_CALL_POLICIES.modal.deadlineMs).toBeLessThan(3000);
    for (const name of POLICY_NAMES) {
      const policy = SLACK_CALL_POLICIES[name];
      expect(policy.timeoutMs, name).toBeLessThanOrEqual(policy.deadlineMs);
    }
  });

  test('whatever Slack answers, and however slowly: never past the deadline, never more attempts', async () => {
    const failure = fc.constantFrom<() => unknown>(
      () => http(500),
      () => http(502),
      network,
      () => new WebAPIRateLimitedError(1),
      () => new WebAPIRateLimitedError(3),
      () => http(503, { 'retry-after': '2' }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...POLICY_NAMES),
        fc.array(failure, { minLength: 1, maxLength: 12 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        async (name, failures, slowness) => {
          const policy = SLACK_CALL_POLICIES[name];
          const fake = fakeRun(policy);
          let attempts = 0;
          // Each attempt takes up to the policy's timeout (a hanging Slack is cut there).
          const latency = (n: number) => {
            attempts = n;
            return Math.round(slowness[(n - 1) % slowness.length]! * policy.timeoutMs);
          };
          await fake.run(fake.call(failures, latency)).catch(() => {});
          expect(attempts).toBeLessThanOrEqual(policy.attempts);
          expect(fake.elapsed()).toBeLessThanOrEqual(policy.deadlineMs);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('worst cases, stated: HTTP 500 every time, and a Slack that never answers', async () => {
    const worst = async (name: SlackCallPolicyName, error: () => unknown, hang: boolean) => {
      const policy = SLACK_CALL_POLICIES[name];
      const fake = fakeRun(policy);
      const call = fake.call([error], () => (hang ? policy.timeoutMs : 50));
      await fake.run(call).catch(() => {});
      return fake.elapsed();
    };
    expect(await worst('interactive', () => http(500), false)).toBe(3 * 50 + 187.5 + 375); // 0.7 s
    expect(await worst('interactive', timeout, true)).toBe(2500); // a second try could not end in time
    expect(await worst('modal', () => http(500), false)).toBe(2 * 50 + 150);
    expect(await worst('update', () => http(500), false)).toBe(50); // the publisher retries these
  });

  test('calls through one runner share its deadline; a call with no time left is a timeout', async () => {
    const fake = fakeRun(SLACK_CALL_POLICIES.interactive);
    const slowRefusal = fake.call([() => platform('channel_not_found')], () => 4000);
    await expect(fake.run(slowRefusal)).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    const next = fake.run(fake.call([() => 'ok']));
    await expect(next).rejects.toBeInstanceOf(SlackDeadlineError);
    expect(slackFailure(await next.catch((e: unknown) => e))).toEqual({ kind: 'network', timedOut: true });
  });

  test('shutting down ends the waits: the call fails at once with its last error', async () => {
    const stopping = new AbortController();
    const fake = fakeRun(SLACK_CALL_POLICIES.background, { signal: stopping.signal });
    const error = http(500);
    stopping.abort();
    await expect(fake.run(fake.call([() => error]))).rejects.toBe(error);
    expect(fake.waits).toEqual([]);
  });
});
