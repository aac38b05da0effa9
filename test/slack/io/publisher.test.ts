import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from '@slack/web-api';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { NaivePublisher } from '../../../bench/lib/naive-publisher.ts';
import { isPermanentSlackError, slackRetryAfterMs } from '../../../src/slack/errors.ts';
import {
  MemoryPermits,
  type PermitGrant,
  permitSchedule,
  type SendPermits,
} from '../../../src/slack/io/permits.ts';
import {
  type GuardedSend,
  type MessageRef,
  ProgressPublisher,
  type Publisher,
  type PublisherOptions,
  type SendErrorInfo,
} from '../../../src/slack/io/publisher.ts';

// ---------------------------------------------------------------------------------------------
// helpers

interface Payload {
  v: number;
  final?: boolean;
}

interface Call {
  key: string;
  ref: MessageRef;
  payload: Payload;
  at: number;
  doneAt?: number;
  error?: unknown;
}

const A: MessageRef = { channel: 'C1', ts: '1.0001' };
const B: MessageRef = { channel: 'C1', ts: '1.0002' };
const C: MessageRef = { channel: 'C2', ts: '1.0003' };
const D: MessageRef = { channel: 'C2', ts: '1.0004' };

const keyOf = (ref: MessageRef) => `${ref.channel}/${ref.ts}`;

function rateLimited(retryAfter = 2): Error {
  return Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter });
}
function platformError(error: string): Error {
  return Object.assign(new Error(`An API error occurred: ${error}`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error },
  });
}
function networkError(): Error {
  return Object.assign(new Error('A request error occurred: socket hang up'), {
    code: 'slack_webapi_request_error',
  });
}

/** In-memory stand-in for chat.update: records every attempt, optional latency and failures. */
class FakeSlack {
  readonly calls: Call[] = [];
  readonly delivered: Call[] = [];
  latency: (call: Call) => number = () => 0;
  /** Returns an error to throw for this attempt (decided when the request arrives), or undefined. */
  fail: (call: Call) => unknown = () => undefined;
  maxConcurrentPerMessage = 0;
  private readonly inFlight = new Map<string, number>();

  readonly send = async (ref: MessageRef, payload: Payload): Promise<void> => {
    const call: Call = { key: keyOf(ref), ref, payload, at: Date.now() };
    this.calls.push(call);
    const concurrent = (this.inFlight.get(call.key) ?? 0) + 1;
    this.inFlight.set(call.key, concurrent);
    this.maxConcurrentPerMessage = Math.max(this.maxConcurrentPerMessage, concurrent);
    const error = this.fail(call);
    const ms = this.latency(call);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    this.inFlight.set(call.key, (this.inFlight.get(call.key) ?? 1) - 1);
    call.doneAt = Date.now();
    if (error !== undefined) {
      call.error = error;
      throw error;
    }
    this.delivered.push(call);
  };

  callsTo(ref: MessageRef): Call[] {
    return this.calls.filter((c) => c.key === keyOf(ref));
  }
  deliveredTo(ref: MessageRef): Call[] {
    return this.delivered.filter((c) => c.key === keyOf(ref));
  }
  versionsTo(ref: MessageRef): number[] {
    return this.callsTo(ref).map((c) => c.payload.v);
  }
}

/** Fails the first `n` attempts whose payload matches, with `error()`. */
function failFirst(n: number, error: () => unknown, match: (call: Call) => boolean = () => true) {
  let left = n;
  return (call: Call) => {
    if (left > 0 && match(call)) {
      left--;
      return error();
    }
    return undefined;
  };
}

function make(slack: FakeSlack, options: Partial<PublisherOptions<Payload>> = {}) {
  return new ProgressPublisher<Payload>({ send: slack.send, budget: false, ...options });
}

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------

/**
 * A guard as another process sees the message: the newest stamp claimed, the content shown, and
 * whether that is known shown (what src/slack/io/edit-guard.ts keeps in the store).
 */
class SharedMessage {
  stamp = Number.NEGATIVE_INFINITY;
  content: string | undefined;
  shownKnown = false;
  readonly claims: Array<{ stamp: number; verdict: string }> = [];
  failClaims = 0;
  readonly guard = {
    claim: async (_ref: MessageRef, send: GuardedSend): Promise<'send' | 'shown' | 'stale'> => {
      if (this.failClaims > 0) {
        this.failClaims--;
        throw new Error('database unreachable');
      }
      const stamp = send.stamp as number;
      let verdict: 'send' | 'shown' | 'stale';
      if (stamp < this.stamp) verdict = 'stale';
      else {
        const same = send.content === this.content && this.shownKnown;
        this.stamp = stamp;
        this.content = send.content;
        this.shownKnown = same;
        verdict = same ? 'shown' : 'send';
      }
      this.claims.push({ stamp, verdict });
      return verdict;
    },
    shown: async (_ref: MessageRef, send: GuardedSend): Promise<void> => {
      const stamp = send.stamp as number;
      if (stamp > this.stamp || (stamp === this.stamp && send.content === this.content)) {
        this.stamp = stamp;
        this.content = send.content;
        this.shownKnown = true;
      }
    },
  };
}

describe('a guard across processes', () => {
  test('a state another process superseded is not sent, not even a final, and settled resolves', async () => {
    const slack = new FakeSlack();
    const shared = new SharedMessage();
    const pub = make(slack, { guard: shared.guard });
    pub.publish(A, 1, { v: 1 }, { stamp: 10 });
    await pub.settled(A);
    // Another process showed stamp 30 (the final) meanwhile.
    await shared.guard.shown(A, { stamp: 30, content: 'final elsewhere', final: true });
    pub.publish(A, 2, { v: 2 }, { stamp: 20 });
    await tick(2000);
    await pub.settled(A);
    pub.publish(A, 3, { v: 3 }, { stamp: 25, final: true });
    await tick(2000);
    await pub.settled(A);
    expect(slack.versionsTo(A)).toEqual([1]);
    expect(pub.stats()).toMatchObject({ sent: 1, stale: 2, failed: 0 });
    expect(shared.content).toBe('final elsewhere');
    await pub.close();
  });

  test('what the message shows already (posted, or sent by another process) is not sent again', async () => {
    const slack = new FakeSlack();
    const shared = new SharedMessage();
    const first = make(slack, { guard: shared.guard });
    await first.posted(A, { v: 1 }, { stamp: 1 });
    expect(shared).toMatchObject({ stamp: 1, shownKnown: true });
    // A restarted process knows nothing in memory: the guard tells it.
    const second = make(slack, { guard: shared.guard });
    second.publish(A, 1, { v: 1 }, { stamp: 2 });
    second.publish(B, 1, { v: 1 }); // unstamped: unguarded
    await tick(0);
    await second.settled();
    expect(slack.versionsTo(A)).toEqual([]);
    expect(slack.versionsTo(B)).toEqual([1]);
    expect(second.stats()).toMatchObject({ sent: 1, unchanged: 1 });
    expect(shared.stamp).toBe(2); // the newer version is kept
    // A final with the same content as shown: nothing to send, and it counts as delivered.
    second.publish(A, 2, { v: 1 }, { stamp: 3, final: true });
    await tick(2000);
    await second.settled(A);
    second.publish(A, 3, { v: 2 }, { stamp: 4 });
    await tick(2000);
    await second.settled(A);
    expect(slack.versionsTo(A)).toEqual([]);
    expect(second.stats().ignored).toBe(1);
    await first.close();
    await second.close();
  });

  test('a send that fails after its claim is claimed and sent again; a claim that fails is retried', async () => {
    const slack = new FakeSlack();
    const shared = new SharedMessage();
    slack.fail = failFirst(1, () => networkError());
    shared.failClaims = 1;
    const pub = make(slack, { guard: shared.guard, retry: { baseDelayMs: 100 } });
    pub.publish(A, 1, { v: 1 }, { stamp: 5, final: true });
    await tick(5000);
    await pub.settled(A);
    // The claim failed (not sent), then the send failed (claimed, never shown), then it went.
    expect(slack.versionsTo(A)).toEqual([1, 1]);
    expect(shared.claims.map((c) => c.verdict)).toEqual(['send', 'send']);
    expect(slack.deliveredTo(A).length).toBe(1);
    expect(shared).toMatchObject({ stamp: 5, shownKnown: true });
    expect(pub.stats()).toMatchObject({ sent: 1, failed: 0 });
    await pub.close();
  });
});

describe('no edit that changes nothing', () => {
  test('a state that shows what the message shows is not sent; settled still resolves', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await pub.settled(A);
    for (let version = 2; version <= 6; version++) pub.publish(A, version, { v: 1 });
    await tick(5000);
    await pub.settled(A);
    expect(slack.versionsTo(A)).toEqual([1]);
    expect(pub.stats()).toMatchObject({ sent: 1, unchanged: 5 });
    // Something else, then the first again: both change what Slack shows.
    pub.publish(A, 7, { v: 2 });
    await tick(1000);
    pub.publish(A, 8, { v: 1 });
    await tick(1000);
    await pub.settled(A);
    expect(slack.versionsTo(A)).toEqual([1, 2, 1]);
    await pub.close();
  });

  test('a final that shows what the message shows (or is being sent) is not sent again, and nothing follows it', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 500;
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await tick(600);
    await pub.settled(A);
    pub.publish(A, 2, { v: 1 }, { final: true }); // Slack shows it already
    await pub.settled(A);
    pub.publish(A, 3, { v: 2 }); // after the final: never
    pub.publish(B, 1, { v: 1 });
    await tick(100);
    pub.publish(B, 2, { v: 1 }, { final: true }); // the same content, on its way
    await tick(5000);
    await pub.settled();
    pub.publish(B, 3, { v: 2 });
    await tick(5000);
    expect(slack.versionsTo(A)).toEqual([1]);
    expect(slack.versionsTo(B)).toEqual([1]);
    expect(pub.stats()).toMatchObject({ sent: 2, unchanged: 2 });
    await pub.close();
  });

  test('a queued state is dropped when a newer one shows again what the message shows', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await pub.settled(A);
    pub.publish(A, 2, { v: 2 }); // held by the interval
    pub.publish(A, 3, { v: 1 }); // back to what Slack shows
    await tick(5000);
    await pub.settled(A);
    expect(slack.versionsTo(A)).toEqual([1]);
    expect(pub.stats()).toMatchObject({ sent: 1, dropped: 1, unchanged: 1 });
    await pub.close();
  });

  test('the same state while it is being sent is not sent twice, and settled waits for it', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 500;
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await tick(100);
    pub.publish(A, 2, { v: 1 });
    let settled = false;
    void pub.settled(A).then(() => {
      settled = true;
    });
    await tick(100);
    expect(settled).toBe(false);
    await tick(400);
    expect(settled).toBe(true);
    expect(slack.versionsTo(A)).toEqual([1]);
    await pub.close();
  });

  test('a state given up is not what Slack shows: the same state later is sent; a final that shows it again is not', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(
      1,
      () => platformError('msg_too_long'),
      (c) => c.payload.v === 2,
    );
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await pub.settled(A);
    pub.publish(A, 2, { v: 2 });
    await tick(1000);
    await pub.settled(A);
    pub.publish(A, 3, { v: 2 });
    await tick(1000);
    await pub.settled(A);
    expect(slack.deliveredTo(A).map((c) => c.payload.v)).toEqual([1, 2]);
    pub.publish(A, 4, { v: 2 }, { final: true });
    await tick(1000);
    await pub.settled(A);
    expect(slack.versionsTo(A)).toEqual([1, 2, 2]);
    await pub.close();
  });
});

describe('coalescing and per-message interval', () => {
  test('only the latest state is sent; intermediate ones are dropped and counted', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await tick();
    expect(slack.versionsTo(A)).toEqual([1]);
    for (let v = 2; v <= 5; v++) pub.publish(A, v, { v });
    await tick(999);
    expect(slack.versionsTo(A)).toEqual([1]);
    await tick(1);
    expect(slack.versionsTo(A)).toEqual([1, 5]);
    await pub.settled();
    expect(pub.stats()).toMatchObject({ sent: 2, dropped: 3, failed: 0, rateLimited: 0, ignored: 0 });
    await pub.close();
  });

  test('first update goes at once, later ones at most one per minIntervalMs', async () => {
    const slack = new FakeSlack();
    const pub = make(slack, { minIntervalMs: 500 });
    const t0 = Date.now();
    pub.publish(A, 1, { v: 1 });
    await tick();
    expect(slack.calls[0]?.at).toBe(t0);
    for (let i = 2; i <= 40; i++) {
      await tick(50);
      pub.publish(A, i, { v: i });
    }
    await tick(1000);
    const times = slack.calls.map((c) => c.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(500);
    expect(slack.calls.at(-1)?.payload.v).toBe(40);
    await pub.close();
  });

  test('1,000 publishes in 10 s to one message → at most 11 sends, the last payload is the last sent', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 120;
    // default options: 1 s interval and the default shared budget (50/min)
    const pub = new ProgressPublisher<Payload>({ send: slack.send });
    for (let i = 1; i <= 1000; i++) {
      pub.publish(A, i, { v: i });
      await tick(10);
    }
    await tick(5000);
    await pub.settled();
    expect(slack.calls.length).toBeLessThanOrEqual(11);
    expect(slack.calls.length).toBeGreaterThanOrEqual(9);
    expect(slack.delivered.at(-1)?.payload.v).toBe(1000);
    const s = pub.stats();
    expect(s.sent + s.dropped).toBe(1000);
    await pub.close();
  });

  test('messages are throttled independently', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    pub.publish(B, 1, { v: 1 });
    await tick();
    pub.publish(A, 2, { v: 2 });
    pub.publish(B, 2, { v: 2 });
    await tick();
    expect(slack.calls.length).toBe(2);
    await tick(1000);
    expect(slack.versionsTo(A)).toEqual([1, 2]);
    expect(slack.versionsTo(B)).toEqual([1, 2]);
    await pub.close();
  });
});

describe('ordering', () => {
  test('a version ≤ the last sent or queued is ignored', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    pub.publish(A, 5, { v: 5 });
    await tick();
    pub.publish(A, 3, { v: 3 }); // older than sent
    pub.publish(A, 5, { v: 5 }); // equal to sent
    pub.publish(A, 8, { v: 8 });
    pub.publish(A, 7, { v: 7 }); // older than queued
    await tick(2000);
    expect(slack.versionsTo(A)).toEqual([5, 8]);
    expect(pub.stats().ignored).toBe(3);
    await pub.close();
  });

  test('in-flight 5 then queued 7: 7 goes after 5 completes, never concurrently', async () => {
    const slack = new FakeSlack();
    slack.latency = (call) => (call.payload.v === 5 ? 3000 : 10);
    const pub = make(slack);
    pub.publish(A, 5, { v: 5 });
    await tick();
    pub.publish(A, 7, { v: 7 });
    await tick(2500); // interval passed but 5 is still in flight
    expect(slack.versionsTo(A)).toEqual([5]);
    await tick(500); // 5 completes at 3000
    expect(slack.versionsTo(A)).toEqual([5, 7]);
    expect(slack.callsTo(A)[1]!.at).toBeGreaterThanOrEqual(slack.callsTo(A)[0]!.doneAt!);
    await tick(10);
    await pub.settled();
    expect(slack.delivered.map((c) => c.payload.v)).toEqual([5, 7]);
    expect(slack.maxConcurrentPerMessage).toBe(1);
    await pub.close();
  });

  test('property: order never regresses and the newest version lands, under random latencies and failures', async () => {
    const op = fc.record({
      gap: fc.integer({ min: 0, max: 1500 }),
      msg: fc.integer({ min: 0, max: 2 }),
      stale: fc.boolean(),
    });
    const outcome = fc.oneof(
      { weight: 6, arbitrary: fc.constant<'ok'>('ok') },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((s) => ({ retryAfter: s })) },
      { weight: 1, arbitrary: fc.constant<'network'>('network') },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
        fc.array(outcome, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        async (ops, latencies, outcomes, withBudget) => {
          const refs = [A, B, C];
          const slack = new FakeSlack();
          let n = 0;
          let m = 0;
          slack.latency = () => latencies[n++ % latencies.length]!;
          slack.fail = () => {
            const o = outcomes[m++] ?? 'ok'; // then the API recovers
            if (o === 'ok') return undefined;
            if (o === 'network') return networkError();
            return rateLimited(o.retryAfter);
          };
          const pub = new ProgressPublisher<Payload>({
            send: slack.send,
            budget: withBudget ? { perMinute: 30, burst: 2 } : false,
            retry: { maxAttempts: 1000, finalMaxAttempts: 1000, baseDelayMs: 100, maxDelayMs: 2000 },
          });
          const latest = [0, 0, 0];
          let accepted = 0;
          let stales = 0;
          for (const { gap, msg, stale } of ops) {
            await tick(gap);
            if (stale && latest[msg]! > 0) {
              stales++;
              pub.publish(refs[msg]!, latest[msg]! - (gap % 2), { v: -1 }); // must be ignored
            } else {
              accepted++;
              latest[msg]! += 1 + (gap % 3);
              pub.publish(refs[msg]!, latest[msg]!, { v: latest[msg]! });
            }
          }
          for (let i = 0; i < 3; i++) {
            if (latest[i]! > 0 && ++accepted)
              pub.publish(refs[i]!, latest[i]! + 1, { v: latest[i]! + 1, final: true }, { final: true });
          }
          const done = pub.settled();
          await tick(60 * 60_000);
          await done;
          await pub.close();
          expect(vi.getTimerCount()).toBe(0);
          expect(slack.maxConcurrentPerMessage).toBeLessThanOrEqual(1);
          // every accepted state is accounted for exactly once
          const s = pub.stats();
          expect(s.sent + s.dropped + s.failed).toBe(accepted);
          expect(s.failed).toBe(0);
          expect(s.ignored).toBe(stales);
          expect(slack.calls.every((c) => c.payload.v > 0)).toBe(true);
          refs.forEach((ref, i) => {
            const attempts = slack.versionsTo(ref);
            for (let k = 1; k < attempts.length; k++)
              expect(attempts[k]).toBeGreaterThanOrEqual(attempts[k - 1]!);
            const times = slack.callsTo(ref).map((c) => c.at);
            for (let k = 1; k < times.length; k++)
              expect(times[k]! - times[k - 1]!).toBeGreaterThanOrEqual(1000);
            const delivered = slack.deliveredTo(ref).map((c) => c.payload.v);
            for (let k = 1; k < delivered.length; k++)
              expect(delivered[k]).toBeGreaterThan(delivered[k - 1]!);
            if (latest[i]! > 0) expect(delivered.at(-1)).toBe(latest[i]! + 1);
            else expect(attempts).toEqual([]);
          });
        },
      ),
      { numRuns: 60, seed: 20240611 },
    );
  });
});

describe('rate limits (429)', () => {
  test('the limited message waits Retry-After while the other keeps going', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(
      1,
      () => rateLimited(5),
      (c) => c.key === keyOf(A) && c.payload.v === 2,
    );
    const pub = make(slack);
    const start = Date.now();
    for (let i = 1; i <= 8; i++) {
      pub.publish(A, i, { v: i });
      pub.publish(B, i, { v: i });
      await tick(1000);
    }
    // A: 1 at 0 s, 2 at 1 s → 429 (5 s), next attempt at 6 s with the latest state
    expect(slack.callsTo(A).map((c) => [c.at - start, c.payload.v])).toEqual([
      [0, 1],
      [1000, 2],
      [6000, 6],
      [7000, 7],
      [8000, 8],
    ]);
    // B was never held back
    expect(slack.callsTo(B).map((c) => c.at - start)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]);
    expect(pub.stats().rateLimited).toBe(1);
    await pub.close();
  });

  test('a rate-limited intermediate with nothing newer is retried after Retry-After', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(1, () => rateLimited(3));
    const pub = make(slack);
    const start = Date.now();
    pub.publish(A, 1, { v: 1 });
    await tick(10_000);
    expect(slack.calls.map((c) => [c.at - start, c.payload.v])).toEqual([
      [0, 1],
      [3000, 1],
    ]);
    expect(slack.delivered.length).toBe(1);
    await pub.close();
  });

  test('intermediate retries are bounded (counted failed, reported)', async () => {
    const slack = new FakeSlack();
    slack.fail = () => rateLimited(1);
    const errors: SendErrorInfo[] = [];
    const pub = make(slack, { retry: { maxAttempts: 3 }, onError: (_ref, _e, info) => errors.push(info) });
    pub.publish(A, 1, { v: 1 });
    await tick(60_000);
    expect(slack.calls.length).toBe(3);
    expect(pub.stats()).toMatchObject({ failed: 1, rateLimited: 3, sent: 0 });
    expect(errors.map((e) => e.willRetry)).toEqual([true, true, false]);
    await pub.close();
  });

  test('a final is retried through three 429s and lands', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(
      3,
      () => rateLimited(2),
      (c) => c.payload.final === true,
    );
    const errors: SendErrorInfo[] = [];
    const pub = make(slack, { onError: (_r, _e, info) => errors.push(info) });
    const start = Date.now();
    pub.publish(A, 1, { v: 1 });
    await tick(1000);
    pub.publish(A, 2, { v: 2, final: true }, { final: true });
    await tick(30_000);
    expect(slack.calls.map((c) => [c.at - start, c.payload.v])).toEqual([
      [0, 1],
      [1000, 2],
      [3000, 2],
      [5000, 2],
      [7000, 2],
    ]);
    expect(slack.delivered.at(-1)?.payload).toEqual({ v: 2, final: true });
    expect(pub.stats()).toMatchObject({ sent: 2, rateLimited: 3, failed: 0 });
    expect(errors.every((e) => e.rateLimited && e.willRetry && e.final)).toBe(true);
    await pub.close();
  });
});

describe('finals', () => {
  test('a final is retried through transient errors (network, 5xx) with backoff and lands', async () => {
    const slack = new FakeSlack();
    const errs = [networkError(), new WebAPIHTTPError(503, 'Service Unavailable', {}, ''), networkError()];
    slack.fail = failFirst(3, () => errs.shift());
    const pub = make(slack, { retry: { baseDelayMs: 1000, maxDelayMs: 30_000 } });
    const start = Date.now();
    pub.publish(A, 9, { v: 9, final: true }, { final: true });
    await tick(60_000);
    // backoff 1 s, 2 s, 4 s after each failure
    expect(slack.calls.map((c) => c.at - start)).toEqual([0, 1000, 3000, 7000]);
    expect(slack.delivered.map((c) => c.payload.v)).toEqual([9]);
    expect(pub.stats()).toMatchObject({ sent: 1, failed: 0 });
    await pub.close();
  });

  test('a final keeps the per-message interval but goes as soon as it allows', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    const start = Date.now();
    pub.publish(A, 1, { v: 1 });
    await tick(300);
    pub.publish(A, 2, { v: 2, final: true }, { final: true });
    await tick(5000);
    expect(slack.calls.map((c) => c.at - start)).toEqual([0, 1000]);
    // nothing sent within the interval → the final goes at once
    pub.publish(B, 1, { v: 1, final: true }, { final: true });
    await tick();
    expect(slack.callsTo(B).length).toBe(1);
    await pub.close();
  });

  test('final retries are bounded by attempts: given up, counted failed, reported via onError', async () => {
    const slack = new FakeSlack();
    slack.fail = () => rateLimited(1);
    const onError = vi.fn<(ref: MessageRef, e: unknown, info: SendErrorInfo) => void>();
    const pub = make(slack, { retry: { finalMaxAttempts: 5 }, onError });
    pub.publish(A, 1, { v: 1, final: true }, { final: true });
    const settled = pub.settled(A);
    await tick(60_000);
    await settled;
    expect(slack.calls.length).toBe(5);
    expect(pub.stats()).toMatchObject({ failed: 1, sent: 0, rateLimited: 5 });
    expect(onError).toHaveBeenCalledTimes(5);
    expect(onError.mock.calls.at(-1)?.[0]).toEqual(A);
    expect(onError.mock.calls.at(-1)?.[2]).toMatchObject({ final: true, willRetry: false, attempt: 5 });
    await pub.close();
  });

  test('final retries are bounded by time (default ~10 minutes)', async () => {
    const slack = new FakeSlack();
    slack.fail = () => networkError();
    const pub = make(slack, { retry: { finalMaxAttempts: 1000 } });
    const start = Date.now();
    pub.publish(A, 1, { v: 1, final: true }, { final: true });
    await tick(30 * 60_000);
    expect(pub.stats().failed).toBe(1);
    const last = slack.calls.at(-1)!;
    expect(last.at - start).toBeGreaterThanOrEqual(10 * 60_000 - 30_000);
    expect(last.at - start).toBeLessThanOrEqual(10 * 60_000 + 30_000);
    expect(vi.getTimerCount()).toBe(0);
    await pub.close();
  });

  test('once a final is delivered, later publishes are ignored', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    pub.publish(A, 3, { v: 3, final: true }, { final: true });
    await tick(2000);
    pub.publish(A, 4, { v: 4 });
    pub.publish(A, 5, { v: 5, final: true }, { final: true });
    await tick(5000);
    expect(slack.versionsTo(A)).toEqual([3]);
    expect(pub.stats().ignored).toBe(2);
    await pub.close();
  });

  test('while a final is queued, non-final publishes are ignored but a newer final replaces it', async () => {
    const slack = new FakeSlack();
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await tick();
    pub.publish(A, 2, { v: 2, final: true }, { final: true });
    pub.publish(A, 3, { v: 3 }); // straggler progress event after the run ended
    pub.publish(A, 4, { v: 4, final: true }, { final: true });
    await tick(5000);
    expect(slack.calls.map((c) => c.payload)).toEqual([{ v: 1 }, { v: 4, final: true }]);
    expect(pub.stats()).toMatchObject({ sent: 2, dropped: 1, ignored: 1 });
    await pub.close();
  });
});

describe('permanent errors', () => {
  test('stop retrying that version (reported), a later version is still tried', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(1, () => platformError('message_not_found'));
    const onError = vi.fn<(ref: MessageRef, e: unknown, info: SendErrorInfo) => void>();
    const pub = make(slack, { onError });
    pub.publish(A, 1, { v: 1 });
    await tick(10_000);
    expect(slack.versionsTo(A)).toEqual([1]);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[2]).toMatchObject({ permanent: true, willRetry: false, version: 1 });
    pub.publish(A, 2, { v: 2 });
    await tick(10_000);
    expect(slack.versionsTo(A)).toEqual([1, 2]);
    expect(pub.stats()).toMatchObject({ sent: 1, failed: 1 });
    await pub.close();
  });

  test('a final rejected as invalid_blocks is not retried; a fallback final can still land', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(1, () => new WebAPIPlatformError({ ok: false, error: 'invalid_blocks' }));
    const pub = make(slack);
    pub.publish(A, 1, { v: 1, final: true }, { final: true });
    await tick(10_000);
    expect(slack.calls.length).toBe(1);
    expect(pub.stats().failed).toBe(1);
    pub.publish(A, 2, { v: 2, final: true }, { final: true });
    await tick(10_000);
    expect(slack.delivered.map((c) => c.payload.v)).toEqual([2]);
    await pub.close();
  });

  test('a permanent error on an in-flight version does not affect the newer queued one', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 500;
    slack.fail = failFirst(
      1,
      () => platformError('msg_too_long'),
      (c) => c.payload.v === 1,
    );
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    await tick();
    pub.publish(A, 2, { v: 2 });
    await tick(5000);
    expect(slack.delivered.map((c) => c.payload.v)).toEqual([2]);
    expect(pub.stats()).toMatchObject({ failed: 1, sent: 1 });
    await pub.close();
  });

  test('a transient failure of an in-flight version is superseded by the newer queued one', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 500;
    slack.fail = failFirst(1, () => networkError());
    const pub = make(slack);
    const start = Date.now();
    pub.publish(A, 1, { v: 1 });
    await tick();
    pub.publish(A, 2, { v: 2 });
    await tick(10_000);
    // v1 fails at 500 ms → 1 s backoff → v2 at 1500 ms; v1 is not retried
    expect(slack.calls.map((c) => [c.at - start, c.payload.v])).toEqual([
      [0, 1],
      [1500, 2],
    ]);
    expect(pub.stats()).toMatchObject({ sent: 1, dropped: 1, failed: 0 });
    await pub.close();
  });
});

describe('default error classification', () => {
  test('retryAfterMs reads WebAPIRateLimitedError.retryAfter (seconds)', () => {
    expect(slackRetryAfterMs(new WebAPIRateLimitedError(7))).toBe(7000);
    expect(slackRetryAfterMs(rateLimited(2))).toBe(2000);
    expect(slackRetryAfterMs(networkError())).toBeUndefined();
    expect(slackRetryAfterMs(new Error('x'))).toBeUndefined();
    expect(slackRetryAfterMs(undefined)).toBeUndefined();
  });

  test('platform errors are permanent except server-side ones; network and 5xx are transient', () => {
    for (const e of ['message_not_found', 'channel_not_found', 'invalid_blocks', 'cant_update_message']) {
      expect(isPermanentSlackError(new WebAPIPlatformError({ ok: false, error: e }))).toBe(true);
    }
    for (const e of ['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']) {
      expect(isPermanentSlackError(new WebAPIPlatformError({ ok: false, error: e }))).toBe(false);
    }
    expect(isPermanentSlackError(new WebAPIRequestError(new Error('ECONNRESET')))).toBe(false);
    expect(isPermanentSlackError(new WebAPIHTTPError(502, 'Bad Gateway', {}, ''))).toBe(false);
    expect(isPermanentSlackError(new WebAPIHTTPError(404, 'Not Found', {}, ''))).toBe(true);
    expect(isPermanentSlackError(new WebAPIRateLimitedError(1))).toBe(false);
    expect(isPermanentSlackError(new Error('boom'))).toBe(false);
  });

  test('custom classifiers are used', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(2, () => new Error('custom'));
    const pub = make(slack, {
      retryAfterMs: (e) => (e instanceof Error && e.message === 'custom' ? 4000 : undefined),
    });
    const start = Date.now();
    pub.publish(A, 1, { v: 1, final: true }, { final: true });
    await tick(20_000);
    expect(slack.calls.map((c) => c.at - start)).toEqual([0, 4000, 8000]);
    expect(pub.stats()).toMatchObject({ rateLimited: 2, sent: 1 });

    const slack2 = new FakeSlack();
    slack2.fail = () => new Error('nope');
    const pub2 = make(slack2, { isPermanent: () => true });
    pub2.publish(A, 1, { v: 1, final: true }, { final: true });
    await tick(20_000);
    expect(slack2.calls.length).toBe(1);
    await Promise.all([pub.close(), pub2.close()]);
  });
});

describe('shared budget', () => {
  test('the budget is shared by all messages', async () => {
    const slack = new FakeSlack();
    // Never more than 6 in any minute, bursts of 2: after the burst, one permit every 12 s.
    const pub = make(slack, { budget: { perMinute: 6, burst: 2 } });
    const start = Date.now();
    for (const ref of [A, B, C, D]) pub.publish(ref, 1, { v: 1 });
    await tick(35_000);
    expect(slack.calls.map((c) => c.at - start)).toEqual([0, 0, 12_000, 24_000]);
    await pub.close();
  });

  test('budget tight → finals first, then the intermediate that waited longest', async () => {
    const slack = new FakeSlack();
    const pub = make(slack, { budget: { perMinute: 6, burst: 1 } });
    const start = Date.now();
    pub.publish(A, 1, { v: 1 }); // takes the only token
    await tick(1000);
    pub.publish(B, 1, { v: 1 }); // waits since 1 s
    await tick(1000);
    pub.publish(C, 1, { v: 1 }); // waits since 2 s
    await tick(1000);
    pub.publish(D, 1, { v: 1, final: true }, { final: true }); // published last, but final
    await tick(1000);
    pub.publish(A, 2, { v: 2 }); // A waits since 4 s
    await tick(60_000);
    const order = slack.calls.map((c) => [c.key, c.at - start]);
    expect(order).toEqual([
      [keyOf(A), 0],
      [keyOf(D), 10_000],
      [keyOf(B), 20_000],
      [keyOf(C), 30_000],
      [keyOf(A), 40_000],
    ]);
    await pub.close();
  });

  test('a waiting message keeps its place when its state is replaced (fairness)', async () => {
    const slack = new FakeSlack();
    const pub = make(slack, { budget: { perMinute: 6, burst: 1 } });
    const start = Date.now();
    pub.publish(D, 1, { v: 1 }); // uses the token
    await tick(1000);
    pub.publish(A, 1, { v: 1 });
    await tick(1000);
    pub.publish(B, 1, { v: 1 });
    for (let v = 2; v <= 8; v++) {
      await tick(1000);
      pub.publish(A, v, { v }); // A keeps updating: must not lose its place nor jump ahead forever
    }
    await tick(30_000);
    expect(slack.calls.map((c) => [c.key, c.at - start, c.payload.v])).toEqual([
      [keyOf(D), 0, 1],
      [keyOf(A), 10_000, 8],
      [keyOf(B), 20_000, 1],
    ]);
    await pub.close();
  });

  test('a message retried after a 429 keeps its place in the queue (it has waited longest)', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 500;
    slack.fail = failFirst(
      1,
      () => rateLimited(1),
      (c) => c.key === keyOf(A),
    );
    // minRateFactor 1: no AIMD slow-down here, only the queue order is under test
    const pub = make(slack, { budget: { perMinute: 6, burst: 2, minRateFactor: 1 } });
    const start = Date.now();
    pub.publish(A, 1, { v: 1 }); // waiting since 0
    pub.publish(B, 1, { v: 1 });
    await tick(100);
    pub.publish(C, 1, { v: 1 }); // waiting since 100 ms; A comes back into the queue at 500 ms
    await tick(30_000);
    expect(slack.calls.map((c) => [c.key, c.at - start])).toEqual([
      [keyOf(A), 0],
      [keyOf(B), 0],
      [keyOf(A), 12_000],
      [keyOf(C), 24_000],
    ]);
    await pub.close();
  });

  test('AIMD: 429s halve the rate; after a burst of them it is back to full 20 s after the last', async () => {
    const slack = new FakeSlack();
    let limited = false;
    slack.fail = () => (limited ? rateLimited(1) : undefined);
    // Defaults but the budget: 60 a minute, bursts of 3.
    const pub = make(slack, { minIntervalMs: 0, budget: { perMinute: 60 } });
    const refs = Array.from({ length: 20 }, (_, i) => ({ channel: 'C9', ts: `9.${i}` }));
    let version = 0;
    const feed = () => {
      version++;
      for (const ref of refs) pub.publish(ref, version, { v: version });
    };
    const countIn = async (ms: number) => {
      const before = slack.delivered.length;
      for (let t = 0; t < ms; t += 500) {
        feed();
        await tick(500);
      }
      return slack.delivered.length - before;
    };
    expect(await countIn(10_000)).toBeGreaterThanOrEqual(10); // the full rate: about 1/s
    expect(pub.budgetRatePerMinute()).toBe(60);
    // 30 s of 429s: each round of sends made at the rate of its time halves it once.
    limited = true;
    const tried = slack.calls.length;
    await countIn(30_000);
    const lastLimited = slack.calls.at(-1)!.at;
    limited = false;
    expect(pub.stats().rateLimited).toBe(slack.calls.length - tried);
    expect(slack.calls.length - tried).toBeLessThan(15); // slowed down: 30 at the full rate
    expect(pub.budgetRatePerMinute()).toBeLessThanOrEqual(30);
    // Back to the full rate 20 s after the last 429, however few edits were made meanwhile.
    await countIn(20_000 - (Date.now() - lastLimited));
    expect(pub.budgetRatePerMinute()).toBe(60);
    expect(await countIn(10_000)).toBeGreaterThanOrEqual(10);
    await pub.close();
  });

  test('recovery: the rate climbs back in a straight line from the 429 to the full rate', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(1, () => rateLimited(2));
    const pub = make(slack, { budget: { perMinute: 60, recoveryMs: 30_000 } });
    pub.publish(A, 1, { v: 1 });
    await tick();
    expect(pub.budgetRatePerMinute()).toBe(30);
    await tick(15_000);
    expect(pub.budgetRatePerMinute()).toBe(45);
    await tick(15_000);
    expect(pub.budgetRatePerMinute()).toBe(60);
    await pub.close();
  });

  test('429s from requests already in flight at the old rate halve only once', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 2000;
    slack.fail = (c) => (c.at - start < 1000 ? rateLimited(1) : undefined);
    const pub = make(slack, { budget: { perMinute: 60, burst: 5 } });
    const start = Date.now();
    for (const ref of [A, B, C, D]) pub.publish(ref, 1, { v: 1 });
    await tick(2000); // the four 429s come back together
    expect(pub.stats().rateLimited).toBe(4);
    expect(pub.budgetRatePerMinute()).toBeCloseTo(30);
    await pub.close();
  });
});

describe('permits from a shared ledger', () => {
  /** Most sends within any 60 s (a window [t, t + 60 s)). */
  function worstMinute(times: number[]): number {
    const sorted = [...times].sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (j < sorted.length && sorted[j]! - sorted[i]! < 60_000) j++;
      worst = Math.max(worst, j - i);
    }
    return worst;
  }

  test('publishers on one ledger never send more than the budget in any 60 s between them', async () => {
    const permits = new MemoryPermits(permitSchedule(30), () => performance.now());
    const slacks = [new FakeSlack(), new FakeSlack(), new FakeSlack()];
    const pubs = slacks.map((slack) => make(slack, { minIntervalMs: 0, budget: { perMinute: 30, permits } }));
    const refs = Array.from({ length: 10 }, (_, i) => ({ channel: 'C7', ts: `7.${i}` }));
    for (let step = 1; step <= 600; step++) {
      for (const pub of pubs) for (const ref of refs) pub.publish(ref, step, { v: step });
      await tick(500);
    }
    const times = slacks.flatMap((slack) => slack.calls.map((c) => c.at));
    expect(worstMinute(times)).toBe(30); // used to the full, never past it
    await Promise.all(pubs.map((pub) => pub.close()));
  });

  test('a permit not used within holdMs of asking (the process stalled, the ledger was slow) is dropped, not spent late', async () => {
    const asked: Array<(grant: PermitGrant) => void> = [];
    const permits: SendPermits = {
      holdMs: 1000,
      take: () => new Promise<PermitGrant>((resolve) => asked.push(resolve)),
    };
    const slack = new FakeSlack();
    const pub = make(slack, { budget: { perMinute: 60, permits } });
    pub.publish(A, 1, { v: 1 });
    await tick();
    expect(asked).toHaveLength(1);
    await tick(1500); // the answer comes late
    asked[0]!({ granted: 1, retryInMs: 0 });
    await tick();
    expect(slack.calls).toEqual([]);
    expect(asked).toHaveLength(2); // asked again
    asked[1]!({ granted: 1, retryInMs: 0 });
    await tick();
    expect(slack.versionsTo(A)).toEqual([1]);
    await pub.close();
  });

  test('while the ledger says none, nothing is sent and it is asked again when it says', async () => {
    let calls = 0;
    const permits: SendPermits = {
      holdMs: 0,
      take: (want) => (++calls === 1 ? { granted: 0, retryInMs: 5000 } : { granted: want, retryInMs: 0 }),
    };
    const slack = new FakeSlack();
    const pub = make(slack, { budget: { perMinute: 60, permits } });
    const start = Date.now();
    pub.publish(A, 1, { v: 1, final: true }, { final: true });
    await tick(10_000);
    expect(slack.calls.map((c) => c.at - start)).toEqual([5000]);
    expect(calls).toBe(2);
    await pub.close();
  });
});

describe('200 concurrent runs under a 50/min limit', () => {
  /** A Slack-like limiter: at most `limit` accepted calls in any sliding 60 s window. */
  function slackLimiter(limit: number) {
    const accepted: number[] = [];
    return (call: Call) => {
      while (accepted.length > 0 && accepted[0]! <= call.at - 60_000) accepted.shift();
      if (accepted.length >= limit) {
        return rateLimited(Math.max(1, Math.ceil((accepted[0]! + 60_000 - call.at) / 1000)));
      }
      accepted.push(call.at);
      return undefined;
    };
  }

  async function fleet(make: (send: FakeSlack['send']) => Publisher<Payload>) {
    const slack = new FakeSlack();
    slack.fail = slackLimiter(50);
    slack.latency = () => 150;
    const pub = make(slack.send);
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const finalAt = new Map<string, number>();
    const refs: MessageRef[] = [];
    for (let i = 0; i < 200; i++) {
      const ref = { channel: `C${i % 7}`, ts: `100.${i}` };
      refs.push(ref);
      const start = Math.floor(rnd() * 30_000);
      for (let step = 1; step <= 20; step++) {
        setTimeout(() => pub.publish(ref, step, { v: step }), start + step * 3000);
      }
      setTimeout(
        () => {
          finalAt.set(keyOf(ref), Date.now());
          pub.publish(ref, 21, { v: 21, final: true }, { final: true });
        },
        start + 63_000 + Math.floor(rnd() * 1000),
      );
    }
    await tick(20 * 60_000);
    await pub.close();
    const delays: number[] = [];
    let landed = 0;
    for (const ref of refs) {
      const final = slack.deliveredTo(ref).find((c) => c.payload.final);
      if (final) {
        landed++;
        delays.push(final.doneAt! - finalAt.get(keyOf(ref))!);
      }
    }
    return { slack, stats: pub.stats(), landed, maxDelay: Math.max(0, ...delays) };
  }

  test('every final lands with few 429s; the naive publisher storms', async () => {
    const progress = await fleet(
      (send) => new ProgressPublisher<Payload>({ send, budget: { perMinute: 50 } }),
    );
    expect(progress.landed).toBe(200);
    expect(progress.stats.failed).toBe(0);
    expect(progress.stats.rateLimited).toBeLessThanOrEqual(10);
    // 200 finals at 50/min need 4 minutes; they finish within ~1 minute of each other
    expect(progress.maxDelay).toBeLessThanOrEqual(6 * 60_000);
    expect(progress.slack.maxConcurrentPerMessage).toBe(1);
    expect(vi.getTimerCount()).toBe(0);

    const naive = await fleet((send) => new NaivePublisher<Payload>({ send }));
    expect(naive.stats.sent + naive.stats.failed).toBe(200 * 21);
    expect(naive.stats.rateLimited).toBeGreaterThan(50 * progress.stats.rateLimited + 1000);
    expect(naive.landed).toBeLessThan(50);
  });
});

describe('settled / close / robustness', () => {
  test('settled(ref) waits for that message only; settled() for all', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(
      1,
      () => rateLimited(30),
      (c) => c.key === keyOf(A),
    );
    const pub = make(slack);
    pub.publish(A, 1, { v: 1 });
    pub.publish(B, 1, { v: 1 });
    let aDone = false;
    let bDone = false;
    let allDone = false;
    void pub.settled(A).then(() => {
      aDone = true;
    });
    void pub.settled(B).then(() => {
      bDone = true;
    });
    void pub.settled().then(() => {
      allDone = true;
    });
    await tick(1000);
    expect([aDone, bDone, allDone]).toEqual([false, true, false]);
    await tick(30_000);
    expect([aDone, bDone, allDone]).toEqual([true, true, true]);
    await expect(pub.settled({ channel: 'nope', ts: '0' })).resolves.toBeUndefined();
    await pub.close();
  });

  test('close() flushes what is held at once: finals through 429s, intermediates once; clears timers', async () => {
    const slack = new FakeSlack();
    slack.fail = failFirst(
      2,
      () => rateLimited(10),
      (c) => c.key === keyOf(A) && c.payload.v === 2,
    );
    const pub = make(slack);
    const start = Date.now();
    pub.publish(A, 1, { v: 1 });
    pub.publish(B, 1, { v: 1 });
    await tick();
    pub.publish(A, 2, { v: 2, final: true }, { final: true });
    pub.publish(B, 2, { v: 2 });
    let closed = false;
    void pub.close().then(() => {
      closed = true;
    });
    pub.publish(C, 1, { v: 1, final: true }, { final: true }); // after close: ignored
    await tick(15_000);
    expect(closed).toBe(false);
    await tick(15_000);
    expect(closed).toBe(true);
    // No waiting for the per-message interval; Retry-After is still honoured.
    expect(slack.callsTo(A).map((c) => c.at - start)).toEqual([0, 0, 10_000, 20_000]);
    expect(slack.deliveredTo(A).map((c) => c.payload.v)).toEqual([1, 2]);
    expect(slack.callsTo(B).map((c) => [c.payload.v, c.at - start])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    expect(slack.callsTo(C)).toEqual([]);
    expect(pub.stats()).toMatchObject({ dropped: 0, ignored: 1 });
    expect(vi.getTimerCount()).toBe(0);
    await expect(pub.close()).resolves.toBeUndefined();
  });

  test('no leaked timers while idle, and close() on an idle publisher resolves at once', async () => {
    const slack = new FakeSlack();
    const pub = make(slack, { budget: { perMinute: 50 } });
    pub.publish(A, 1, { v: 1 });
    await tick(100);
    pub.publish(A, 2, { v: 2 });
    await tick(5000);
    expect(slack.calls.length).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    await pub.close();
  });

  test('close() sends a held intermediate at once instead of waiting for its interval', async () => {
    const slack = new FakeSlack();
    const pub = make(slack, { budget: { perMinute: 50 } });
    pub.publish(A, 1, { v: 1 });
    await tick(100);
    pub.publish(A, 2, { v: 2 }); // waits for the interval: a timer is armed
    await tick(100);
    expect(vi.getTimerCount()).toBe(1);
    await pub.close();
    expect(vi.getTimerCount()).toBe(0);
    await tick(5000);
    expect(slack.versionsTo(A)).toEqual([1, 2]);
    expect(pub.stats()).toMatchObject({ sent: 2, dropped: 0 });
  });

  test('closing: an intermediate the budget holds back is given up at once; a final waits for it', async () => {
    const slack = new FakeSlack();
    const pub = make(slack, { budget: { perMinute: 60, burst: 1 } });
    pub.publish(A, 1, { v: 1 });
    await tick(); // the only token
    pub.publish(A, 2, { v: 2 });
    pub.publish(B, 1, { v: 1, final: true }, { final: true });
    let closed = false;
    void pub.close().then(() => {
      closed = true;
    });
    await tick();
    expect(pub.stats()).toMatchObject({ dropped: 1 }); // A's v2: the next start renders it again
    expect(closed).toBe(false);
    await tick(1000);
    expect(closed).toBe(true);
    expect(slack.versionsTo(A)).toEqual([1]);
    expect(slack.deliveredTo(B).map((c) => c.payload.v)).toEqual([1]);
  });

  test('close({ withinMs }) resolves by then: what Slack keeps refusing is given up, nothing waits on', async () => {
    const slack = new FakeSlack();
    slack.fail = (c) => (c.key === keyOf(A) ? rateLimited(30) : undefined);
    slack.latency = (c) => (c.key === keyOf(B) ? 60_000 : 0); // B's send hangs
    const pub = make(slack);
    pub.publish(A, 1, { v: 1, final: true }, { final: true });
    pub.publish(B, 1, { v: 1 });
    pub.publish(C, 1, { v: 1 });
    await tick();
    let closed = false;
    void pub.close({ withinMs: 1000 }).then(() => {
      closed = true;
    });
    await tick(999);
    expect(closed).toBe(false);
    await tick(1);
    expect(closed).toBe(true);
    expect(slack.deliveredTo(C)).toHaveLength(1);
    expect(pub.stats()).toMatchObject({ failed: 1, rateLimited: 1 }); // A's final, given up
    await expect(pub.settled()).resolves.toBeUndefined();
    await tick(60_000); // B's late answer changes nothing
    expect(slack.callsTo(A)).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('never throws or leaves unhandled rejections: sync-throwing send, rejecting non-Errors, throwing hooks', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let n = 0;
      const pub = new ProgressPublisher<Payload>({
        budget: false,
        send: (_ref, payload) => {
          n++;
          if (n === 1) throw new Error('sync boom');
          if (n === 2) return Promise.reject('a string');
          if (payload.v === 3) return Promise.reject(undefined);
          return Promise.resolve();
        },
        onError: () => {
          throw new Error('hook boom');
        },
        isPermanent: () => {
          throw new Error('classifier boom');
        },
        retryAfterMs: () => {
          throw new Error('classifier boom');
        },
      });
      expect(() => pub.publish(A, 1, { v: 1, final: true }, { final: true })).not.toThrow();
      expect(() => pub.publish(B, 3, { v: 3 })).not.toThrow();
      expect(() => pub.publish(A, Number.NaN, { v: 0 })).not.toThrow();
      await tick(60_000);
      await pub.close();
      await tick(10);
      expect(unhandled).toEqual([]);
      // A: sync throw, then delivered on retry; B: three rejections → given up
      expect(pub.stats()).toMatchObject({ sent: 1, failed: 1 });
      expect(n).toBe(5);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('idle bookkeeping is forgotten after forgetAfterMs', async () => {
    const slack = new FakeSlack();
    const pub = make(slack, { forgetAfterMs: 60_000 });
    pub.publish(A, 5, { v: 5, final: true }, { final: true });
    await tick(30_000);
    pub.publish(A, 6, { v: 6 }); // still remembered: after the final
    await tick(90_000);
    pub.publish(B, 1, { v: 1 }); // triggers the sweep
    pub.publish(A, 1, { v: 1 }); // A was forgotten: accepted as a new message
    await tick(1000);
    expect(slack.versionsTo(A)).toEqual([5, 1]);
    await pub.close();
  });
});

describe('NaivePublisher', () => {
  test('sends every publish immediately, in call order, and counts outcomes', async () => {
    const slack = new FakeSlack();
    slack.latency = () => 100;
    slack.fail = (c) => (c.payload.v === 3 ? rateLimited(1) : undefined);
    const errors: SendErrorInfo[] = [];
    const pub = new NaivePublisher<Payload>({
      send: slack.send,
      onError: (_r, _e, info) => errors.push(info),
    });
    for (let v = 1; v <= 5; v++) pub.publish(A, v, { v });
    pub.publish(A, 2, { v: 2 }); // not even ordered
    expect(slack.versionsTo(A)).toEqual([1, 2, 3, 4, 5, 2]);
    let settled = false;
    void pub.settled(A).then(() => {
      settled = true;
    });
    await tick(50);
    expect(settled).toBe(false);
    await tick(50);
    expect(settled).toBe(true);
    expect(pub.stats()).toMatchObject({ sent: 5, failed: 1, rateLimited: 1, dropped: 0 });
    expect(errors).toHaveLength(1);
    await pub.close();
    pub.publish(A, 9, { v: 9 });
    expect(slack.calls.length).toBe(6);
    expect(pub.stats().ignored).toBe(1);
  });
});
