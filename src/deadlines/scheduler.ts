/**
 * One loop for every deadline of every waiting step. The deadlines are rows in the store (indexed by
 * due time), not timers: each tick asks the store for the few that are due, claims each one with a
 * conditional update (so with several processes on one database each deadline fires once), and
 * hands it to the action of its kind. Idle cost is one indexed query per tick, whatever the number
 * of waiting steps; no timer per step, no call to the Mastra server until a deadline is due. What
 * fell due while Flowgate was down is due at the first tick, and marked late.
 *
 * It knows nothing of Slack or Mastra: what each kind of deadline does is the caller's (`actions`).
 */
import { own } from '../util/safe-objects.ts';
import { isLate } from './plan.ts';
import type { Deadline, DeadlineActions, DeadlineQueue, Firing } from './types.ts';

export interface SchedulerOptions {
  queue: DeadlineQueue;
  /** How often the store is asked for what is due (the worst delay of a deadline). Default 250 ms. */
  intervalMs?: number;
  /** At most this many deadlines are claimed per query (more are fetched at once when it was full). */
  batch?: number;
  /** At most this many actions run at once; more due deadlines wait for the next tick. Default 200. */
  maxInFlight?: number;
  /** What each kind of deadline does once claimed (src/slack/services/deadlines/index.ts). */
  actions: DeadlineActions;
  /** Told of each deadline as its action starts (metrics); must not throw. */
  onFire?(deadline: Deadline, firing: Firing): void;
  onError(error: unknown, deadline?: Deadline): void;
  /** The clock (tests pass a fake one). */
  now?: () => Date;
}

export class DeadlineScheduler {
  readonly #options: SchedulerOptions;
  readonly #now: () => Date;
  readonly #intervalMs: number;
  readonly #batch: number;
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<Promise<void>>();
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
    this.#maxInFlight = options.maxInFlight ?? 200;
    this.#startedAt = this.#now();
  }

  /** Fires what is due now (including what fell due while stopped), then checks every interval. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#startedAt = this.#now();
    this.#schedule(0);
  }

  /** No more ticks; waits for the one in progress and the actions it started. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stops += 1;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * One tick now: every deadline due at this moment is claimed and its action started; resolves,
   * once those actions are done, to how many fired (tests and benchmarks).
   */
  async tick(): Promise<number> {
    const started = await this.#claimDue();
    await Promise.all(started);
    return started.length;
  }

  /**
   * Claims what is due (batch after batch) and starts each action without waiting for it: an action
   * slowed by Slack's or Mastra's limits holds back no other deadline. A claimed deadline is not
   * due for anyone else while its action runs. At most `maxInFlight` actions run at once.
   */
  async #claimDue(): Promise<Promise<void>[]> {
    const started: Promise<void>[] = [];
    const stops = this.#stops;
    for (;;) {
      const room = this.#maxInFlight - this.#inFlight.size;
      if (room <= 0) return started;
      const now = this.#now();
      const due = await this.#options.queue.dueDeadlines(now, Math.min(this.#batch, room));
      const claimed = await Promise.all(due.map((d) => this.#options.queue.claimDeadline(d, now)));
      due.forEach((deadline, i) => {
        if (!claimed[i]) return;
        const action = this.#fire(deadline, { late: isLate(deadline.dueAt, now, this.#startedAt), now })
          .catch((error) => this.#options.onError(error, deadline))
          .finally(() => this.#inFlight.delete(action));
        this.#inFlight.add(action);
        started.push(action);
      });
      if (due.length < Math.min(this.#batch, room) || this.#stops !== stops) return started;
    }
  }

  /** The action of the deadline's kind. */
  async #fire(deadline: Deadline, firing: Firing): Promise<void> {
    const act = own(this.#options.actions, deadline.kind);
    if (!act) throw new Error(`no action for a deadline of kind ${deadline.kind}`);
    this.#options.onFire?.(deadline, firing);
    await act(deadline, firing);
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#claimDue()
        .then(() => undefined)
        .catch((error) => this.#options.onError(error))
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.#intervalMs);
        });
    }, delay);
  }
}
