/**
 * The baseline Flowgate's publisher (src/slack/io/publisher.ts) is measured against: every progress
 * update sent at once. Benchmarks give it to the app through its `publisher` option.
 */

import { isPermanentSlackError, slackRetryAfterMs } from '../../src/slack/errors.ts';
import {
  type CloseOptions,
  EMPTY_STATS,
  type MessageRef,
  type Publisher,
  type PublisherOptions,
  type PublisherStats,
  type SendErrorInfo,
} from '../../src/slack/io/publisher.ts';
import { withTimeout } from '../../src/util/with-timeout.ts';

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

  posted(_ref: MessageRef, _payload: P): Promise<void> {
    return Promise.resolve();
  }

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
    return withTimeout(this.settled(), Math.max(0, withinMs), undefined);
  }

  stats(): PublisherStats {
    return { ...this.counters };
  }
}
