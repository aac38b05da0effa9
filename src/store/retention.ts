/**
 * Retention: what Flowgate keeps of a finished run (its message row, answers, deadlines, votes,
 * questions asked by DM, once-only marks) is forgotten once the run has been over for the
 * retention period. One pass per period across every process sharing the database: the pass is
 * claimed with a once-only mark named for the period, so only the first replica to get there
 * prunes; within a pass, runs are forgotten in batches, each batch one atomic step.
 */
import type { Logger } from '../logger.ts';
import type { Store } from './types.ts';

export interface RetentionOptions {
  store: Store;
  logger: Logger;
  /** How long a finished run is kept, ms. */
  retentionMs: number;
  /** How often a pass is due, ms (default one hour). */
  everyMs?: number;
  /** Runs forgotten per batch (default 500); a pass stops after `maxBatches` (default 100). */
  batch?: number;
  maxBatches?: number;
  now?: () => number;
}

const HOUR_MS = 60 * 60_000;

export class Retention {
  readonly #options: Required<Omit<RetentionOptions, 'now'>> & { now: () => number };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(options: RetentionOptions) {
    this.#options = {
      everyMs: HOUR_MS,
      batch: 500,
      maxBatches: 100,
      now: Date.now,
      ...options,
    };
  }

  /** A pass now (when this period's pass is not taken yet), then one every period. */
  start(): void {
    if (this.#timer) return;
    const tick = () => {
      void this.runOnce().catch((error: unknown) =>
        this.#options.logger.warn('pruning finished runs failed', error),
      );
    };
    tick();
    this.#timer = setInterval(tick, this.#options.everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /**
   * This period's pass, if no process has taken it yet: resolves to how many runs were forgotten
   * (0 when another process took the pass).
   */
  runOnce(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const { store, logger, retentionMs, everyMs, batch, maxBatches, now } = this.#options;
    const at = now();
    if (!(await store.markOnce(`retention:${Math.floor(at / everyMs)}`, new Date(at)))) return 0;
    const before = new Date(at - retentionMs);
    let forgotten = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await store.pruneFinished(before, batch);
      forgotten += n;
      if (n < batch) break;
    }
    if (forgotten > 0) logger.info(`forgot ${forgotten} runs that ended before ${before.toISOString()}`);
    return forgotten;
  }
}
