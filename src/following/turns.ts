/**
 * A small queue of turns: at most `limit` pieces of work at once, the others waiting their turn,
 * first come first served; a wait whose signal aborts leaves the queue. It keeps background work
 * (reading runs' state, listing runs) to its share of the Mastra client's connections, so the calls
 * people wait on always find one free.
 */
/** At most `limit` pieces of work at once; the others wait their turn, first come first served. */
export class Turns {
  #free: number;
  readonly #queue: Array<{ go(): void; dropped: boolean }> = [];

  constructor(limit: number) {
    this.#free = Math.max(1, limit);
  }

  async run<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw new Error('stopped');
    if (this.#free > 0) this.#free--;
    else await this.#wait(signal);
    try {
      return await work();
    } finally {
      let next = this.#queue.shift();
      while (next?.dropped) next = this.#queue.shift();
      if (next) next.go();
      else this.#free++;
    }
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        turn.dropped = true; // skipped when its turn comes
        reject(new Error('stopped'));
      };
      const turn = {
        dropped: false,
        go: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#queue.push(turn);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
