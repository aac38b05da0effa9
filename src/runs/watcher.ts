/**
 * Finds runs Flowgate did not start. Every interval it asks the Mastra server, for each workflow it
 * is told to watch, which runs are suspended now (and, for workflows announced as soon as a run is
 * seen, which are running or waiting). The cost of a check grows with the runs that are live, never
 * with the history: finished runs are not read (`GET /workflows/:id/runs?status=…`, paged).
 *
 * It knows nothing of Slack: what to do with a run is the caller's (`onRun`, `onChecked`).
 */
import type { MastraClient } from '../mastra/client.ts';
import type { RunStatus, WorkflowRunSummary } from '../mastra/types.ts';

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
  /** A run of a target found on this check (awaited one at a time per workflow). */
  onRun(target: WatchTarget, run: WorkflowRunSummary): Promise<void>;
  /** After a workflow's check: the ids of its runs that are suspended now. */
  onChecked(workflowKey: string, suspended: ReadonlySet<string>): Promise<void>;
  /** Other work due on every check, alongside the workflows' (its errors go to `onError`). */
  onCheck?(): Promise<void>;
  onError(error: unknown, workflowKey?: string): void;
}

const PER_PAGE = 100;
const LIVE: readonly RunStatus[] = ['running', 'waiting'];

export class RunWatcher {
  readonly #options: WatcherOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #controller = new AbortController();
  #stopped = true;

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
    await this.#running?.catch(() => {});
  }

  /** One check of every target now (tests, benchmarks). */
  async checkNow(): Promise<void> {
    const signal = this.#controller.signal;
    const extra = this.#options.onCheck?.().catch((error) => this.#options.onError(error));
    const targets = await this.#options.targets();
    await Promise.all([...targets.map((target) => this.#check(target, signal)), extra]);
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      const started = Date.now();
      this.#running = this.checkNow()
        .catch((error) => this.#options.onError(error))
        .finally(() => {
          this.#running = undefined;
          this.#schedule(Math.max(0, this.#options.intervalMs - (Date.now() - started)));
        });
    }, delay);
  }

  async #check(target: WatchTarget, signal: AbortSignal): Promise<void> {
    try {
      const suspended = await this.#runs(target.workflowKey, 'suspended', signal);
      const live = target.announce === 'all' ? await this.#live(target.workflowKey, signal) : [];
      if (signal.aborted) return;
      if (target.announce !== 'none') {
        for (const run of [...suspended, ...live]) {
          if (signal.aborted) return;
          await this.#options
            .onRun(target, run)
            .catch((error) => this.#options.onError(error, target.workflowKey));
        }
      }
      await this.#options.onChecked(target.workflowKey, new Set(suspended.map((r) => r.runId)));
    } catch (error) {
      if (!signal.aborted) this.#options.onError(error, target.workflowKey);
    }
  }

  async #live(workflowKey: string, signal: AbortSignal): Promise<WorkflowRunSummary[]> {
    const lists = await Promise.all(LIVE.map((status) => this.#runs(workflowKey, status, signal)));
    return lists.flat();
  }

  /** Every run of `workflowKey` with `status`, page by page. */
  async #runs(workflowKey: string, status: RunStatus, signal: AbortSignal): Promise<WorkflowRunSummary[]> {
    const workflow = this.#options.client.getWorkflow(workflowKey);
    const runs: WorkflowRunSummary[] = [];
    for (let page = 0; ; page++) {
      const result = await workflow.runs({ status, page, perPage: PER_PAGE, signal });
      runs.push(...result.runs);
      if (result.runs.length < PER_PAGE || runs.length >= result.total) return runs;
    }
  }
}
