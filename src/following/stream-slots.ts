/**
 * Who holds the live event streams to the Mastra server: at most `capacity` at once (the stream
 * budget, the size of the client's stream connection pool). Streams go to the runs people are most
 * likely watching:
 *
 * - a run just started or resumed takes one at once (`take`); when all are taken, the stream that
 *   has been quiet longest is cut (its run is then followed by the shared poll, src/following/shared-following.ts);
 * - a run merely followed (re-followed after a restart, found changed by the shared poll) takes one
 *   only when one is free (`tryTake`), and never cuts another.
 *
 * A stream is taken before it is opened, so the connection pool never has a run waiting behind it.
 * Holds are keyed by run: the follow of a run adopts the hold its stream was opened under.
 */

/** A run's right to one live stream. */
export interface StreamHold {
  readonly runId: string;
  /** Aborted when the hold is cut for a run more likely watched: stop reading and close the stream. */
  readonly signal: AbortSignal;
  /** Something arrived on the stream: the run is not quiet. */
  touch(): void;
  /** The stream is closed: its place goes to the next run that needs one. Idempotent. */
  release(): void;
}

interface Holder extends StreamHold {
  lastActivity: number;
  /** Something arrived on the stream: its run has started on the server. */
  started: boolean;
  controller: AbortController;
  adopted: boolean;
}

export class StreamSlots {
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #holders = new Map<string, Holder>();
  #cut = 0;
  /** Every stream was taken at some point since the holds last fell to half the capacity. */
  #full = false;
  readonly #onFull: () => void;

  /** `onFull`: every stream is taken, once until the holds fall back to half of them. */
  constructor(capacity: number, options: { now?: () => number; onFull?: () => void } = {}) {
    this.#capacity = Math.max(1, Math.floor(capacity));
    this.#now = options.now ?? (() => performance.now());
    this.#onFull = options.onFull ?? (() => {});
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Streams held now. */
  get held(): number {
    return this.#holders.size;
  }

  /**
   * Streams that have carried something (their runs started): never more than the capacity. Held
   * streams beyond it are still opening, waiting in the client's pool for a connection.
   */
  get streaming(): number {
    let n = 0;
    for (const holder of this.#holders.values()) if (holder.started) n++;
    return n;
  }

  /** Streams cut so far for runs more likely watched (benchmarks, tests). */
  get cut(): number {
    return this.#cut;
  }

  /** Whether `runId` holds a stream now. */
  holds(runId: string): boolean {
    return this.#holders.has(runId);
  }

  /**
   * A stream for a run someone is watching now (just started or resumed): always granted, cutting
   * the quietest holder's stream when every one is taken. While every holder is still opening its
   * stream (more starts at once than streams), none is cut yet: the new stream waits in the
   * client's pool for a connection until the first of them has started and can be cut.
   */
  take(runId: string): StreamHold {
    this.#holders.get(runId)?.controller.abort(); // an older stream of the same run gives way
    this.#holders.delete(runId);
    if (this.#holders.size >= this.#capacity) this.#noticeFull();
    this.#shrink(this.#capacity - 1);
    return this.#hold(runId);
  }

  /**
   * Cuts the quietest streams until at most `size` are held. Only a stream that has carried
   * something: one still opening may not have started its run on the server yet, and a stream cut
   * then can leave the run never started (it is cut once it has, see `touch`).
   */
  #shrink(size: number): void {
    while (this.#holders.size > size) {
      let quietest: Holder | undefined;
      for (const holder of this.#holders.values())
        if (holder.started && (!quietest || holder.lastActivity < quietest.lastActivity)) quietest = holder;
      if (!quietest) return;
      this.#holders.delete(quietest.runId);
      this.#cut++;
      quietest.controller.abort();
    }
  }

  /** A stream for a run merely followed: only when one is free (or it holds one already, unadopted). */
  tryTake(runId: string): StreamHold | undefined {
    const held = this.#holders.get(runId);
    if (held) return held.adopted ? undefined : this.adopt(runId);
    if (this.#holders.size < this.#capacity) return this.#hold(runId);
    this.#noticeFull();
    return undefined;
  }

  #noticeFull(): void {
    if (this.#full) return;
    this.#full = true;
    this.#onFull();
  }

  /** The hold a stream of `runId` was opened under, for the follow that reads it (once). */
  adopt(runId: string): StreamHold | undefined {
    const held = this.#holders.get(runId);
    if (!held || held.adopted) return undefined;
    held.adopted = true;
    return held;
  }

  #hold(runId: string): Holder {
    const controller = new AbortController();
    const holder: Holder = {
      runId,
      signal: controller.signal,
      controller,
      lastActivity: this.#now(),
      started: false,
      adopted: false,
      touch: () => {
        holder.lastActivity = this.#now();
        if (holder.started) return;
        holder.started = true;
        // More streams were opened at once than the budget: back within it now that one can go.
        this.#shrink(this.#capacity);
      },
      release: () => {
        if (this.#holders.get(runId) === holder) this.#holders.delete(runId);
        if (this.#holders.size <= this.#capacity / 2) this.#full = false;
      },
    };
    this.#holders.set(runId, holder);
    return holder;
  }
}
