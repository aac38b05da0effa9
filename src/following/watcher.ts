/**
 * Lists runs on the Mastra server, once per interval, for two uses: finding runs Flowgate did not
 * start (for each workflow it is told to watch, which runs are suspended now and, for workflows
 * announced as soon as a run is seen, which are running or waiting), and the shared poll of every
 * run followed without a live stream (src/following/shared-following.ts: the statuses its runs were last read in).
 * Each workflow's list of a status is read once per check, whoever needs it. The cost of a check
 * grows with the runs that are live and those that changed, never with the history: finished runs
 * are read only to find runs that just left their list, from the oldest such run's creation on and
 * a bounded number of pages (`GET /workflows/:id/runs?status=…&fromDate=…`, paged, the pages
 * after the first read side by side).
 *
 * It knows nothing of Slack: what to do with a run is the caller's (`onRun`, `onChecked`).
 */
import type { MastraClient } from '../mastra/client.ts';
import { type RunStatus, TERMINAL_RUN_STATUSES, type WorkflowRunSummary } from '../mastra/types.ts';
import { type ListedRun, type SharedFollowing, slimRun, type Vanished } from './shared-following.ts';
import { Turns } from './turns.ts';

export interface WatchTarget {
  workflowKey: string;
  /** Which runs to hand to `onRun`: suspended ones, live ones (`all`), or none (only `onChecked`). */
  announce: 'suspended' | 'all' | 'none';
}

export interface WatcherOptions {
  client: MastraClient;
  intervalMs: number;
  /** The workflows to check this time. */
  targets(): Promise<WatchTarget[]>;
  /**
   * A run of a target found on this check (awaited one at a time per workflow). Resolves true when
   * the run is dealt with for good: it is not handed over again while it stays listed.
   */
  onRun(target: WatchTarget, run: ListedRun): Promise<boolean>;
  /** After a workflow's check: the ids of its runs that are suspended now. */
  onChecked(workflowKey: string, suspended: ReadonlySet<string>): Promise<void>;
  /** Other work due on every check, alongside the workflows' (its errors go to `onError`). */
  onCheck?(): Promise<void>;
  onError(error: unknown, workflowKey?: string): void;
  /** Runs followed without a live stream: their lists are read on every check too. */
  shared?: SharedFollowing;
  /** Told how long each scheduled check took, in ms (metrics). */
  onCycle?(ms: number): void;
}

interface AnnounceLane {
  queue: { target: WatchTarget; run: ListedRun }[];
  queued: Set<string>;
  busy: boolean;
  /** Resolves when the queue is empty (or the watcher stopped). */
  drained: Promise<void>;
}

const PER_PAGE = 100;
/** List requests under way at once, over every list of a check (the client's connections are shared with every other call). */
const PAGES_AT_ONCE = 4;
const LIVE: readonly RunStatus[] = ['running', 'waiting'];
/** Where a run that left its list may be now. */
const ELSEWHERE: readonly RunStatus[] = [
  ...TERMINAL_RUN_STATUSES,
  'suspended',
  'running',
  'waiting',
  'paused',
];

export class RunWatcher {
  readonly #options: WatcherOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #controller = new AbortController();
  #stopped = true;
  /** Per workflow, runs `onRun` dealt with for good, while they stay listed. */
  readonly #handled = new Map<string, Set<string>>();
  readonly #pages = new Turns(PAGES_AT_ONCE);
  /** Per workflow, the runs waiting to be handed to `onRun`. */
  readonly #lanes = new Map<string, AnnounceLane>();

  constructor(options: WatcherOptions) {
    this.#options = options;
  }

  /** Checks at once, then every interval (a check never overlaps the previous one). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#controller = new AbortController();
    this.#schedule(0);
  }

  /** Stops checking; an ongoing check is aborted. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#controller.abort();
    await Promise.all([
      this.#running?.catch(() => {}),
      ...[...this.#lanes.values()].map((lane) => lane.drained),
    ]);
  }

  /**
   * One check of every target, and of every run followed by the shared poll, now, resolving once
   * the runs it found are announced too (tests, benchmarks).
   */
  async checkNow(): Promise<void> {
    await this.#checkAll();
    await Promise.all([...this.#lanes.values()].map((lane) => lane.drained));
  }

  async #checkAll(): Promise<void> {
    const signal = this.#controller.signal;
    const extra = this.#options.onCheck?.().catch((error) => this.#options.onError(error));
    const targets = new Map((await this.#options.targets()).map((t) => [t.workflowKey, t]));
    const polled = this.#options.shared?.wanted() ?? new Map<string, Set<RunStatus>>();
    const keys = new Set([...targets.keys(), ...polled.keys()]);
    for (const key of this.#handled.keys()) if (!targets.has(key)) this.#handled.delete(key);
    for (const [key, lane] of this.#lanes)
      if (!targets.has(key)) {
        for (const { run } of lane.queue.splice(0)) lane.queued.delete(run.runId);
      }
    await Promise.all([
      ...[...keys].map((key) => this.#check(key, targets.get(key), polled.get(key), signal)),
      extra,
    ]);
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      const started = Date.now();
      const timed = performance.now();
      this.#running = this.#checkAll()
        .catch((error) => this.#options.onError(error))
        .finally(() => {
          this.#running = undefined;
          this.#options.onCycle?.(performance.now() - timed);
          this.#schedule(Math.max(0, this.#options.intervalMs - (Date.now() - started)));
        });
    }, delay);
  }

  async #check(
    workflowKey: string,
    target: WatchTarget | undefined,
    polled: ReadonlySet<RunStatus> | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      const statuses = new Set<RunStatus>(polled);
      if (target) statuses.add('suspended');
      if (target?.announce === 'all') for (const status of LIVE) statuses.add(status);
      const fetchedAt = Date.now();
      const lists = new Map<RunStatus, ListedRun[]>();
      await Promise.all(
        [...statuses].map(async (status) => lists.set(status, await this.#runs(workflowKey, status, signal))),
      );
      if (signal.aborted) return;
      const { shared } = this.#options;
      const vanished = shared?.listed(workflowKey, lists, fetchedAt) ?? [];
      if (shared && vanished.length > 0)
        await this.#settle(shared, workflowKey, vanished, lists, fetchedAt, signal);
      if (!target) return;
      const suspended = lists.get('suspended') ?? [];
      if (target.announce !== 'none') {
        const live = target.announce === 'all' ? LIVE.flatMap((status) => lists.get(status) ?? []) : [];
        this.#announce(target, [...suspended, ...live], signal);
      }
      await this.#options.onChecked(workflowKey, new Set(suspended.map((r) => r.runId)));
    } catch (error) {
      if (!signal.aborted) this.#options.onError(error, workflowKey);
    }
  }

  /**
   * Hands each listed run to `onRun`, but not those it dealt with on an earlier check nor those
   * waiting their turn: one at a time per workflow, in the background, so that a batch of
   * thousands to announce (at Slack's pace of posts) never holds up the checks.
   */
  #announce(target: WatchTarget, runs: ListedRun[], signal: AbortSignal): void {
    const key = target.workflowKey;
    const listed = new Set(runs.map((run) => run.runId));
    const handled = new Set([...(this.#handled.get(key) ?? [])].filter((runId) => listed.has(runId)));
    this.#handled.set(key, handled); // runs no longer listed are forgotten
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { queue: [], queued: new Set(), busy: false, drained: Promise.resolve() };
      this.#lanes.set(key, lane);
    }
    for (const run of runs) {
      if (handled.has(run.runId) || lane.queued.has(run.runId)) continue;
      lane.queued.add(run.runId);
      lane.queue.push({ target, run });
    }
    if (!lane.busy) lane.drained = this.#drain(key, lane, signal);
  }

  async #drain(key: string, lane: AnnounceLane, signal: AbortSignal): Promise<void> {
    lane.busy = true;
    try {
      for (let next = lane.queue.shift(); next && !signal.aborted; next = lane.queue.shift()) {
        const { target, run } = next;
        const done = await this.#options.onRun(target, run).catch((error) => {
          this.#options.onError(error, key);
          return false;
        });
        lane.queued.delete(run.runId);
        if (done) this.#handled.get(key)?.add(run.runId);
      }
    } finally {
      lane.busy = false;
      if (signal.aborted) this.#lanes.delete(key);
    }
  }

  #slim(workflowKey: string, run: WorkflowRunSummary): ListedRun {
    const { shared } = this.#options;
    return shared ? shared.slim(workflowKey, run) : slimRun(run);
  }

  /**
   * Looks for runs that left the list of their status in the lists of the statuses not read this
   * check, created since the oldest of them, a bounded number of pages each (room for them all,
   * and two pages more for runs created since); then wakes their followers (with each run's state
   * where found). Whatever happens, each is woken: one not found reads its state itself.
   */
  async #settle(
    shared: SharedFollowing,
    workflowKey: string,
    vanished: readonly Vanished[],
    listed: ReadonlyMap<RunStatus, readonly ListedRun[]>,
    fetchedAt: number,
    signal: AbortSignal,
  ): Promise<void> {
    const found: ListedRun[][] = [];
    try {
      const fromDate = new Date(Math.min(...vanished.map((v) => v.createdAt.getTime())));
      const pages = Math.ceil(vanished.length / PER_PAGE) + 2;
      await Promise.all(
        ELSEWHERE.filter((status) => !listed.has(status)).map(async (status) =>
          found.push(await this.#runs(workflowKey, status, signal, { fromDate, pages })),
        ),
      );
    } catch (error) {
      if (!signal.aborted) this.#options.onError(error, workflowKey);
    } finally {
      shared.settle(workflowKey, vanished, found, fetchedAt);
    }
  }

  /**
   * Every run of `workflowKey` with `status` (created since `fromDate`, at most `pages` pages): the
   * first page, then the others side by side (see `#pages`).
   */
  async #runs(
    workflowKey: string,
    status: RunStatus,
    signal: AbortSignal,
    within: { fromDate?: Date; pages?: number } = {},
  ): Promise<ListedRun[]> {
    const workflow = this.#options.client.getWorkflow(workflowKey);
    const { fromDate } = within;
    const page = async (n: number) => {
      const listed = await this.#pages.run(
        () =>
          workflow.runs({ status, page: n, perPage: PER_PAGE, signal, ...(fromDate ? { fromDate } : {}) }),
        signal,
      );
      // Kept slim as each page arrives: the snapshots go while they are young (cheap to collect).
      return { total: listed.total, runs: listed.runs.map((run) => this.#slim(workflowKey, run)) };
    };
    const first = await page(0);
    if (first.runs.length < PER_PAGE) return first.runs;
    const count = Math.min(Math.ceil(first.total / PER_PAGE), within.pages ?? Number.POSITIVE_INFINITY);
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => page(i + 1)));
    // A run started meanwhile pushes the others a place down the pages (newest first): the last
    // may be missed this time. Its follower then reads its state once; it is found on the next check.
    return [first, ...rest].flatMap((result) => result.runs);
  }
}
