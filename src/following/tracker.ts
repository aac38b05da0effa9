/**
 * Follows runs so their state never goes stale: folds a live event stream (from start, resume or
 * observe) through the reducer, reconciles with the server's stored state whenever a stream ends,
 * and, while the run is still going (runs started elsewhere, dropped or cut streams, a restarted
 * Mastra server), observes it again when a stream is free or waits for the shared poll to see it
 * change (src/following/shared-following.ts). Live streams are bounded (src/following/stream-slots.ts): any number of runs
 * can be followed with a fixed number of sockets. One follower per run: a newer follow of the same
 * run (after a resume, say) takes over from the older one and carries its snapshot forward.
 */
import type { RunSnapshot, WorkflowEvent, WorkflowRunState } from '../mastra/types.ts';
import { TERMINAL_RUN_STATUSES } from '../mastra/types.ts';
import { reduceRun, snapshotFromRunState } from '../runs/state.ts';
import { sleep } from '../util/sleep.ts';
import type { KnownState } from './shared-following.ts';
import { type StreamHold, StreamSlots } from './stream-slots.ts';
import { Turns } from './turns.ts';

/** Where a run's state comes from: a port onto the workflow client. */
export interface RunSource {
  /** The server's stored state of the run (authoritative). */
  fetch(signal: AbortSignal): Promise<WorkflowRunState>;
  /** Live events of the run; may replay ones already seen and may end at once when there is nothing. */
  observe(signal: AbortSignal): Promise<AsyncIterable<WorkflowEvent>>;
  /** True for errors that mean the run is gone for good (e.g. 404 run not found). */
  isGone(error: unknown): boolean;
  /**
   * Resolves once the run may have changed since `since` was read (the shared poll): with the
   * run's state when the poll could tell it, otherwise with nothing (the state is read then).
   * Without it, the run's state is read again after a wait that doubles up to `maxPollIntervalMs`.
   */
  changed?(since: KnownState, signal: AbortSignal): Promise<WorkflowRunState | undefined>;
}

/** Why following stopped: the run ended, waits for an answer, vanished, or someone stopped us. */
export type FollowEnd = 'terminal' | 'suspended' | 'gone' | 'superseded' | 'stopped';

export interface FollowRequest {
  runId: string;
  source: RunSource;
  /** Starting point; defaults to what the tracker last saw of this run. */
  initial?: RunSnapshot;
  /** A stream already opened for this run (from `stream` or `resumeStream`, under `openStream`). */
  events?: AsyncIterable<WorkflowEvent>;
  /** Every new snapshot, in order. Called synchronously; must not throw. */
  onSnapshot(snapshot: RunSnapshot): void;
}

export interface FollowResult {
  end: FollowEnd;
  snapshot: RunSnapshot | undefined;
}

export interface TrackerOptions {
  /** First wait between polls of a run whose stream gave nothing; doubles up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Live streams held at once (the client's stream connections). Default 48. */
  streams?: number;
  /**
   * Reads of runs' state (`fetch`) under way at once, across all runs (default 8, half the connections for calls): thousands of
   * runs followed again at start-up queue here, not in the client, whose connections stay free
   * for the calls people wait on.
   */
  reads?: number;
  /** Every live stream is taken (once until half of them are free again). */
  onStreamsFull?(capacity: number): void;
  now?(): Date;
  onError?(runId: string, error: unknown): void;
}

interface Following {
  controller: AbortController;
  superseded: boolean;
  snapshot: RunSnapshot | undefined;
  done: Promise<FollowResult>;
}

export class RunTracker {
  readonly #following = new Map<string, Following>();
  readonly #last = new Map<string, RunSnapshot>();
  readonly #pollIntervalMs: number;
  readonly #maxPollIntervalMs: number;
  readonly #now: () => Date;
  readonly #onError: (runId: string, error: unknown) => void;
  /** Who holds the live streams (runs just started or resumed first). */
  readonly streams: StreamSlots;
  readonly #reads: Turns;

  constructor(options: TrackerOptions = {}) {
    const capacity = options.streams ?? 48;
    this.streams = new StreamSlots(capacity, { onFull: () => options.onStreamsFull?.(capacity) });
    this.#reads = new Turns(options.reads ?? 8);
    this.#pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.#maxPollIntervalMs = options.maxPollIntervalMs ?? 30_000;
    this.#now = options.now ?? (() => new Date());
    this.#onError = options.onError ?? (() => {});
  }

  /** Whether a follow of this run is under way. */
  isFollowing(runId: string): boolean {
    return this.#following.has(runId);
  }

  /** Drops what is kept of a run that is over (unless a follow of it is under way again). */
  forget(runId: string): void {
    if (!this.#following.has(runId)) this.#last.delete(runId);
  }

  /** Runs this tracker keeps anything of (tests: memory follows the runs that are not over). */
  get size(): number {
    return new Set([...this.#following.keys(), ...this.#last.keys()]).size;
  }

  /** The latest snapshot seen of a run, if any. */
  current(runId: string): RunSnapshot | undefined {
    return this.#following.get(runId)?.snapshot ?? this.#last.get(runId);
  }

  /**
   * Opens a stream of a run someone is watching now (`stream`, `resumeStream`) under a hold taken
   * first — cutting the quietest other stream when all are taken — so it never waits for a
   * connection. Hand the events to `follow`; the hold goes when they are read to the end. When
   * `open` fails, the hold is given back and the error thrown.
   */
  async openStream<T>(runId: string, open: () => Promise<T>): Promise<T> {
    const hold = this.streams.take(runId);
    try {
      return await open();
    } catch (error) {
      hold.release();
      throw error;
    }
  }

  /** Starts following; resolves when the run ends, suspends, vanishes, or the follow is superseded. */
  follow(request: FollowRequest): Promise<FollowResult> {
    const previous = this.#following.get(request.runId);
    if (previous) {
      previous.superseded = true;
      previous.controller.abort();
    }
    const controller = new AbortController();
    const entry: Following = {
      controller,
      superseded: false,
      snapshot: request.initial ?? previous?.snapshot ?? this.#last.get(request.runId),
      done: Promise.resolve({ end: 'stopped', snapshot: undefined }),
    };
    this.#following.set(request.runId, entry);
    entry.done = this.#run(request, entry).finally(() => {
      if (this.#following.get(request.runId) === entry) {
        this.#following.delete(request.runId);
        if (entry.snapshot) this.#last.set(request.runId, entry.snapshot);
      }
    });
    return entry.done;
  }

  /** Stops following one run (or all), waiting for the followers to let go. */
  async stop(runId?: string): Promise<void> {
    const entries = runId ? [this.#following.get(runId)] : [...this.#following.values()];
    for (const entry of entries) entry?.controller.abort();
    await Promise.all(entries.map((entry) => entry?.done));
  }

  async #run(request: FollowRequest, entry: Following): Promise<FollowResult> {
    const { signal } = entry.controller;
    const { runId, source } = request;
    const ended = (end: FollowEnd): FollowResult => ({
      end: signal.aborted ? (entry.superseded ? 'superseded' : 'stopped') : end,
      snapshot: entry.snapshot,
    });
    const emit = (next: RunSnapshot) => {
      if (next === entry.snapshot || signal.aborted) return;
      entry.snapshot = next;
      request.onSnapshot(next);
    };
    /** Reads a stream under `hold` until it ends, is cut, or the follow stops; then lets the hold go. */
    const consume = async (events: AsyncIterable<WorkflowEvent>, hold: StreamHold): Promise<number> => {
      let count = 0;
      try {
        for await (const event of untilAborted(events, AbortSignal.any([signal, hold.signal]))) {
          count++;
          hold.touch();
          emit(reduceRun(entry.snapshot, event, this.#now()));
        }
        return count;
      } finally {
        hold.release();
      }
    };

    if (request.events) {
      try {
        await consume(request.events, this.streams.adopt(runId) ?? this.streams.take(runId));
      } catch (error) {
        if (signal.aborted) return ended('stopped');
        this.#onError(runId, error);
      }
    }

    let delay = this.#pollIntervalMs;
    let observed: string | undefined;
    /** The run's state as the shared poll told it: no need to read it. */
    let told: WorkflowRunState | undefined;
    while (!signal.aborted) {
      let state: WorkflowRunState | undefined;
      try {
        state = told ?? (await this.#reads.run(() => source.fetch(signal), signal));
        told = undefined;
      } catch (error) {
        if (signal.aborted) break;
        if (source.isGone(error)) return ended('gone');
        this.#onError(runId, error);
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.#maxPollIntervalMs);
        continue;
      }
      if (signal.aborted) break;
      const streamed = entry.snapshot?.payload.workflowState.status;
      if (state.status === 'pending' && streamed && TERMINAL_RUN_STATUSES.has(streamed)) {
        // The run failed before it began (e.g. its input was rejected): storage keeps it `pending`
        // forever, the stream knew better.
        return ended('terminal');
      }
      emit(snapshotFromRunState(state, entry.snapshot));
      if (TERMINAL_RUN_STATUSES.has(state.status)) return ended('terminal');
      if (state.status === 'suspended') return ended('suspended');

      // Observed live while a stream is free, once per state of the run (a stream cut, or one that
      // only replays what happened, is not opened again until the run changes); otherwise the
      // shared poll tells when to read the state again.
      let seen = 0;
      const observing = `${state.status} ${state.updatedAt.getTime()}`;
      const hold = observing === observed ? undefined : this.streams.tryTake(runId);
      observed = observing;
      if (hold) {
        try {
          seen = await consume(await source.observe(signal), hold);
        } catch (error) {
          hold.release();
          if (signal.aborted) break;
          this.#onError(runId, error);
        }
      }
      if (signal.aborted) break;
      if (seen > 0) {
        delay = this.#pollIntervalMs;
        continue; // read the server's state at once (an ending is reconciled with it)
      }
      if (source.changed) {
        // Only the status and times wait with the follower, not the whole state.
        const known: KnownState = {
          status: state.status,
          updatedAt: state.updatedAt,
          createdAt: state.createdAt,
        };
        state = undefined;
        told = await source.changed(known, signal);
      } else {
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.#maxPollIntervalMs);
      }
    }
    return ended('stopped');
  }
}

/**
 * The events of `events` until `signal` aborts. An abort ends the iteration at once, even while
 * an event is awaited (a stream opened by `stream()` or `resumeStream()` carries no signal of
 * ours, and a step may be silent for long), and closes the stream, which cuts its HTTP request.
 */
async function* untilAborted<T>(events: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  if (signal.aborted) return;
  const iterator = events[Symbol.asyncIterator]();
  let onAbort: () => void = () => {};
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  let finished = false;
  try {
    for (;;) {
      const next = iterator.next();
      const result = await Promise.race([next, aborted]);
      if (result === 'aborted') {
        next.catch(() => {}); // settles once the stream is closed below
        return;
      }
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
      if (signal.aborted) return;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Not awaited: an async generator busy in `next()` would only return after it.
    if (!finished)
      void Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => {});
  }
}
