/**
 * One loop for every deadline of every waiting step. The deadlines are rows in the store (indexed by
 * due time), not timers: each tick asks the store for the few that are due, claims each one with a
 * conditional update (so with several processes on one database each deadline fires once), and
 * hands it to `onDue`. Idle cost is one indexed query per tick, whatever the number of waiting
 * steps; no timer per step, no call to the Mastra server until a deadline is due. What fell due
 * while Flowgate was down is due at the first tick, and marked late.
 *
 * It knows nothing of Slack or Mastra: what a deadline does is the caller's.
 */
import { isLate } from './plan.ts';
import type { Deadline, DeadlineQueue } from './types.ts';

export interface SchedulerOptions {
  queue: DeadlineQueue;
  /** How often the store is asked for what is due (the worst delay of a deadline). Default 250 ms. */
  intervalMs?: number;
  /** At most this many deadlines are claimed per query (more are fetched at once when it was full). */
  batch?: number;
  /** Acts on a claimed deadline; `late` when it fell due while Flowgate was down (or long ago). */
  onDue(deadline: Deadline, info: { late: boolean; now: Date }): Promise<void>;
  onError(error: unknown, deadline?: Deadline): void;
  /** The clock (tests pass a fake one). */
  now?: () => Date;
}

export class DeadlineScheduler {
  readonly #options: SchedulerOptions;
  readonly #now: () => Date;
  readonly #intervalMs: number;
  readonly #batch: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** Bumped by `stop()`: a tick in progress then stops after its batch. */
  #stops = 0;
  #startedAt: Date;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#intervalMs = options.intervalMs ?? 250;
    this.#batch = options.batch ?? 100;
    this.#startedAt = this.#now();
  }

  /** Fires what is due now (including what fell due while stopped), then checks every interval. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#startedAt = this.#now();
    this.#schedule(0);
  }

  /** No more ticks; waits for the one in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stops += 1;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** One tick now: every deadline due at this moment is claimed and acted on. Resolves to how many fired. */
  async tick(): Promise<number> {
    let fired = 0;
    const stops = this.#stops;
    for (;;) {
      const now = this.#now();
      const due = await this.#options.queue.dueDeadlines(now, this.#batch);
      // Each deadline of the batch on its own: one slow action does not hold the others back.
      await Promise.all(
        due.map(async (deadline) => {
          if (!(await this.#options.queue.claimDeadline(deadline, now))) return;
          fired += 1;
          try {
            await this.#options.onDue(deadline, { late: isLate(deadline.dueAt, now, this.#startedAt), now });
          } catch (error) {
            this.#options.onError(error, deadline);
          }
        }),
      );
      if (due.length < this.#batch || this.#stops !== stops) return fired;
    }
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tick()
        .then(() => undefined)
        .catch((error) => this.#options.onError(error))
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.#intervalMs);
        });
    }, delay);
  }
}
