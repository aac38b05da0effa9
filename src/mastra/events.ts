/**
 * Typed event streams of a run: `stream`, `resumeStream` (one response each) and `observe`
 * (de-duplicated, reconnecting). Iterate with `for await`; leaving the loop early aborts the HTTP
 * request. A `workflow-finish` with `workflowStatus: 'failed'` is an event, not an exception.
 *
 * Each network chunk is split and decoded at once into a batch that `next()` then hands out one by
 * one: one promise per event and no per-event async layers. Chunks are pulled only when the batch
 * is used up, so a slow consumer applies backpressure to the socket.
 */
import { sleep } from '../util/sleep.ts';
import { errorFromTransport, isMastraError, MastraError } from './errors.ts';
import type { RawRecord } from './records.ts';
import { parseRawRecord, RecordSplitter } from './records.ts';
import { toWorkflowEvent } from './schemas.ts';
import type { OpenStream } from './transport.ts';
import type { WorkflowEvent, WorkflowFinishEvent } from './types.ts';

/** Copies a `MastraError` adding the request it belongs to (parser errors do not know it). */
function withRequest(e: MastraError, url: string, method: string, recordsReceived: number): MastraError {
  if (e.url !== undefined) return e;
  return new MastraError(e.code, `${e.message} (in ${method} ${url})`, {
    status: e.status,
    serverMessage: e.serverMessage,
    url,
    method,
    cause: e.cause,
    issues: e.issues,
    suspendedSteps: e.suspendedSteps,
    runStatus: e.runStatus,
    position: e.position,
    snippet: e.snippet,
    recordsReceived: e.recordsReceived ?? recordsReceived,
  });
}

interface DecodedRecord {
  event: WorkflowEvent;
  /** The record's JSON text (observe anchors on it). */
  text: string;
  /** The wire `type` (for unknown events, their own type). */
  type: string | undefined;
}

type ReadResult =
  | { kind: 'records'; records: DecodedRecord[]; error?: MastraError }
  | { kind: 'end' }
  | { kind: 'dropped'; error: MastraError };

/**
 * Reads one response body chunk by chunk. A chunk's complete records are decoded together.
 * `dropped` = the connection failed or the body was cut inside a record; a malformed record is
 * returned as `error` after the records before it (retrying would not help).
 */
class BodyReader {
  readonly #open: OpenStream;
  readonly #signal: AbortSignal;
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #splitter = new RecordSplitter();
  readonly #raw: RawRecord[] = [];
  #received = 0;
  #finished = false;

  constructor(open: OpenStream, signal: AbortSignal) {
    this.#open = open;
    this.#signal = signal;
    this.#it = open.body[Symbol.asyncIterator]();
  }

  get url(): string {
    return this.#open.url;
  }

  get method(): string {
    return this.#open.method;
  }

  async read(): Promise<ReadResult> {
    if (this.#finished) return { kind: 'end' };
    for (;;) {
      let chunk: IteratorResult<Uint8Array>;
      try {
        chunk = await this.#it.next();
      } catch (e) {
        this.close();
        const err = errorFromTransport(e, {
          url: this.#open.url,
          method: this.#open.method,
          signal: this.#signal,
          recordsReceived: this.#received,
        });
        if (err.code === 'aborted') throw err;
        return { kind: 'dropped', error: err };
      }
      if (chunk.done) {
        this.close();
        try {
          this.#splitter.end();
        } catch (e) {
          return {
            kind: 'dropped',
            error: withRequest(e as MastraError, this.#open.url, this.#open.method, this.#received),
          };
        }
        return { kind: 'end' };
      }
      const raw = this.#raw;
      this.#splitter.push(chunk.value, raw);
      if (raw.length === 0) continue;
      const records: DecodedRecord[] = new Array(raw.length);
      let n = 0;
      let error: MastraError | undefined;
      for (let i = 0; i < raw.length; i++) {
        const r = raw[i]!;
        try {
          const event = toWorkflowEvent(parseRawRecord(r));
          records[n++] = {
            event,
            text: r.text,
            type:
              event.type === 'unknown' ? event.originalType : event.type === 'data' ? event.name : event.type,
          };
          this.#received++;
        } catch (e) {
          error = isMastraError(e)
            ? withRequest(e, this.#open.url, this.#open.method, this.#received)
            : new MastraError('protocol', String(e), { cause: e });
          this.close();
          break;
        }
      }
      raw.length = 0;
      records.length = n;
      return error === undefined ? { kind: 'records', records } : { kind: 'records', records, error };
    }
  }

  /** Destroys the body: aborts the request if it had not ended. */
  close(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#open.body.destroy();
  }
}

/** Events ready to hand out, with the stream offset reached after each. */
export interface EventBatch {
  events: WorkflowEvent[];
  offsets: number[];
  /** Thrown once these events have been handed out. */
  error?: MastraError;
}

/** Where a `WorkflowEventStream` gets its events from. `null` = the end. */
export interface EventSource {
  pull(): Promise<EventBatch | null>;
  close(): void;
}

export interface EventStreamInit {
  runId: string;
  /** Aborts the request(s); also fired by `cancel()`. */
  controller: AbortController;
  /** Removes listeners tying a caller's signal to `controller`. */
  cleanup?: () => void;
}

/**
 * A run's events. Iterable once. `recordsReceived` is the offset an `observe({ offset })` would
 * continue from, counting the events handed out so far.
 */
export class WorkflowEventStream implements AsyncIterable<WorkflowEvent>, AsyncIterator<WorkflowEvent> {
  readonly runId: string;
  readonly #controller: AbortController;
  readonly #cleanup: (() => void) | undefined;
  readonly #source: EventSource;
  #queue: WorkflowEvent[] = [];
  #offsets: number[] = [];
  #pos = 0;
  #pendingError: MastraError | undefined;
  #done = false;
  #closed = false;
  #iterated = false;
  #offset: number;
  #finish: WorkflowFinishEvent | undefined;

  constructor(init: EventStreamInit, source: EventSource, initialOffset = 0) {
    this.runId = init.runId;
    this.#controller = init.controller;
    this.#cleanup = init.cleanup;
    this.#source = source;
    this.#offset = initialOffset;
  }

  /** Records consumed so far (the server history offset to `observe` from). */
  get recordsReceived(): number {
    return this.#offset;
  }

  /** The last `workflow-finish` event handed out, once the stream has delivered it. */
  get finish(): WorkflowFinishEvent | undefined {
    return this.#finish;
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#done = true;
    this.#source.close();
    this.#cleanup?.();
  }

  async next(): Promise<IteratorResult<WorkflowEvent, undefined>> {
    while (this.#pos >= this.#queue.length) {
      if (this.#pendingError !== undefined) {
        const e = this.#pendingError;
        this.#pendingError = undefined;
        this.#shutdown();
        throw e;
      }
      if (this.#done) return { done: true, value: undefined };
      let batch: EventBatch | null;
      try {
        batch = await this.#source.pull();
      } catch (e) {
        this.#shutdown();
        throw e;
      }
      if (batch === null) {
        this.#shutdown();
        return { done: true, value: undefined };
      }
      this.#queue = batch.events;
      this.#offsets = batch.offsets;
      this.#pos = 0;
      if (batch.error !== undefined) this.#pendingError = batch.error;
    }
    const event = this.#queue[this.#pos]!;
    this.#offset = this.#offsets[this.#pos]!;
    this.#pos++;
    if (event.type === 'workflow-finish') this.#finish = event;
    return { done: false, value: event };
  }

  /** Called when a `for await` loop is left early: aborts the request. */
  async return(): Promise<IteratorResult<WorkflowEvent, undefined>> {
    this.#queue = [];
    this.#pendingError = undefined;
    this.#shutdown();
    return { done: true, value: undefined };
  }

  /** Stops the stream and aborts the HTTP request; a pending `next()` rejects with `aborted`. */
  cancel(reason?: unknown): void {
    this.#controller.abort(reason);
    void this.return();
  }

  [Symbol.asyncIterator](): AsyncIterator<WorkflowEvent, undefined> {
    if (this.#iterated) throw new Error('A WorkflowEventStream can only be iterated once');
    this.#iterated = true;
    return this;
  }

  /** Reads the whole stream into an array. */
  async toArray(): Promise<WorkflowEvent[]> {
    const out: WorkflowEvent[] = [];
    for await (const e of this) out.push(e);
    return out;
  }
}

/**
 * `stream` / `resumeStream`: one response. It must end with `workflow-finish`; a connection that
 * drops, or a body that ends before it, is an error (`unavailable` / `protocol`) carrying
 * `recordsReceived` (what an `observe({ offset })` would continue from, if this was a fresh run).
 */
export function singleResponseSource(open: OpenStream, signal: AbortSignal): EventSource {
  const reader = new BodyReader(open, signal);
  let count = 0;
  let sawFinish = false;
  return {
    async pull() {
      for (;;) {
        const r = await reader.read();
        if (r.kind === 'dropped') throw withRequest(r.error, open.url, open.method, count);
        if (r.kind === 'end') {
          if (sawFinish) return null;
          throw new MastraError(
            'protocol',
            `Stream ended after ${count} records without a workflow-finish record (${open.method} ${open.url})`,
            { url: open.url, method: open.method, recordsReceived: count },
          );
        }
        const events = new Array<WorkflowEvent>(r.records.length);
        const offsets = new Array<number>(r.records.length);
        for (let i = 0; i < r.records.length; i++) {
          const rec = r.records[i]!;
          events[i] = rec.event;
          offsets[i] = ++count;
          if (rec.type === 'workflow-finish') sawFinish = true;
        }
        if (r.error !== undefined) return { events, offsets, error: r.error };
        if (events.length > 0) return { events, offsets };
      }
    },
    close() {
      reader.close();
    },
  };
}

export interface ObserveOptions {
  /** Server history offset to start from (records already consumed). */
  offset: number;
  /** Reconnect attempts in a row without receiving a new record. */
  maxReconnects: number;
  /** Delay before the first reconnect, doubled each time (capped at 2 s). */
  reconnectDelayMs: number;
  /** Opens `observe?offset=n`. */
  open: (offset: number, signal: AbortSignal) => Promise<OpenStream>;
  signal: AbortSignal;
}

/**
 * `observe`: every record once, across reconnects.
 *
 * The server answers `history[offset..]` from its cache, then, if the run is still executing in
 * that process, a live tail that first **replays the current execution from its `workflow-start`**
 * (docs/mastra.md, Observe and reconnecting). So the body is `H[offset..L-1] ++ H[S..]` where S is the index of the current
 * execution's `workflow-start`. We track `consumed` (records of H accepted, = the offset to
 * reconnect from), `execStart` (S, when seen) and the type of the last accepted record:
 *
 * - a `workflow-start` that does not follow a `workflow-finish` cannot be a new execution in the
 *   history (each execution ends with its finish), so it is the live replay: replay record k is
 *   H[S+k]; records with S+k < consumed are skipped;
 * - a `workflow-start` after a `workflow-finish` (or at index 0) starts a new execution: S = its index;
 * - if S was never seen (the caller started at an offset past it), replay records are skipped up
 *   to and including one whose text equals the last record accepted.
 *
 * Limitations: a `workflow-start` as the very first record of an `offset > 0` call is taken as
 * new (there is nothing to compare it with); with S unknown, a record identical to the anchor
 * earlier in the replay makes it match early (duplicates), and an anchor that never matches drops
 * the replay part.
 *
 * A dropped connection (reset, premature close, body cut mid-record) reconnects from `consumed`,
 * up to `maxReconnects` times in a row without progress. A clean end of body ends the stream.
 */
export function observeSource(opts: ObserveOptions): EventSource {
  const { signal } = opts;
  let consumed = opts.offset;
  let execStart: number | undefined;
  let lastType: string | undefined;
  let lastText: string | undefined;
  let failures = 0;
  let reader: BodyReader | undefined;
  let consumedAtConnect = consumed;
  let phase: 'history' | 'replay' | 'anchor' = 'history';
  let replayPos = 0;
  let closed = false;

  async function backoff(url: string, method: string): Promise<void> {
    if (!(await sleep(Math.min(opts.reconnectDelayMs * 2 ** failures, 2_000), signal)))
      throw errorFromTransport(signal.reason, { url, method, signal });
    failures++;
  }

  /** The dedupe state machine: true when the record is new and must be delivered. */
  function accept(rec: DecodedRecord): boolean {
    const type = rec.type;
    if (phase === 'history') {
      if (
        type === 'workflow-start' &&
        consumed > 0 &&
        lastType !== undefined &&
        lastType !== 'workflow-finish'
      ) {
        if (execStart !== undefined) {
          phase = 'replay';
          replayPos = execStart;
        } else {
          phase = 'anchor';
        }
      } else {
        if (type === 'workflow-start') execStart = consumed;
        return true;
      }
    }
    if (phase === 'replay') {
      if (replayPos < consumed) {
        replayPos++;
        return false;
      }
      if (type === 'workflow-start') execStart = consumed;
      replayPos++;
      return true;
    }
    // anchor
    if (rec.text === lastText) {
      phase = 'replay';
      replayPos = consumed;
    }
    return false;
  }

  return {
    async pull() {
      for (;;) {
        if (closed) return null;
        if (reader === undefined) {
          let open: OpenStream;
          try {
            open = await opts.open(consumed, signal);
          } catch (e) {
            if (isMastraError(e, 'unavailable') && failures < opts.maxReconnects) {
              await backoff(e.url ?? '', e.method ?? 'POST');
              continue;
            }
            throw e;
          }
          reader = new BodyReader(open, signal);
          consumedAtConnect = consumed;
          phase = 'history';
          replayPos = 0;
        }
        const r = await reader.read();
        if (r.kind === 'records') {
          const events: WorkflowEvent[] = [];
          const offsets: number[] = [];
          for (const rec of r.records) {
            if (!accept(rec)) continue;
            consumed++;
            lastType = rec.type;
            lastText = rec.text;
            events.push(rec.event);
            offsets.push(consumed);
          }
          if (r.error !== undefined) return { events, offsets, error: r.error };
          if (events.length > 0) return { events, offsets };
          continue;
        }
        const url = reader.url;
        const method = reader.method;
        reader = undefined;
        if (r.kind === 'end') return null;
        if (consumed > consumedAtConnect) failures = 0;
        if (failures >= opts.maxReconnects) throw withRequest(r.error, url, method, consumed);
        await backoff(url, method);
      }
    },
    close() {
      closed = true;
      reader?.close();
    },
  };
}
