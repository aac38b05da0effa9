/**
 * The shared, cheap way to follow every run that has no live stream (src/following/stream-slots.ts). Rather
 * than each follower asking the server about its run every few seconds, the watcher lists each
 * workflow's runs by status once per check (src/following/watcher.ts) and hands the lists here; only the
 * followers of runs whose state changed since they last read it — another status, a later
 * `updatedAt`, or no longer listed (ended, or gone) — are woken, to read their run's state once.
 * So a check costs the pages of the lists plus, for each run that changed, its state: taken from
 * the list that shows it now (src/mastra/listed-state.ts) — a run that left its list is looked for
 * in the lists of the other statuses, from its creation on (`vanished`, `settle`) — and read
 * one by one only where a list cannot tell it (nested workflows, a run not found in a few pages).
 */
import { listedRunState } from '../mastra/listed-state.ts';
import type { RunStatus, WorkflowRunState, WorkflowRunSummary } from '../mastra/types.ts';

/** What a follower last read of its run. */
export interface KnownState {
  status: RunStatus;
  updatedAt: Date;
  createdAt: Date;
}

/**
 * A run as a list shows it: what every check needs and, only for a run whose follower waits to see
 * it changed, its state (src/mastra/listed-state.ts). The rest of the stored snapshot each item
 * carries is dropped as each page arrives: a check keeps a few fields per run, not whole states.
 */
export interface ListedRun {
  runId: string;
  status: RunStatus;
  resourceId: string | null;
  createdAt: Date;
  updatedAt: Date;
  state?: WorkflowRunState;
}

/** A run that left the list of the status it was last read in. */
export interface Vanished {
  runId: string;
  createdAt: Date;
}

interface Waiter {
  known: KnownState;
  /** When the follower started waiting: lists fetched before this say nothing new. */
  since: number;
  /** Wakes the follower, with the run's state when a list told it. */
  wake(state?: WorkflowRunState): void;
}

export class SharedFollowing {
  readonly #waiting = new Map<string, Map<string, Waiter>>();
  readonly #now: () => number;

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  /** Runs waiting for a change now. */
  get size(): number {
    let size = 0;
    for (const runs of this.#waiting.values()) size += runs.size;
    return size;
  }

  /** Whether the follower of `runId` waits for a change now. */
  waits(runId: string): boolean {
    for (const runs of this.#waiting.values()) if (runs.has(runId)) return true;
    return false;
  }

  /**
   * Resolves once the run may have changed since `known` (or when `signal` aborts): with its state
   * when a list told it, otherwise with nothing (read the run). Only the status and times of
   * `known` are kept.
   */
  changed(
    workflowKey: string,
    runId: string,
    known: KnownState,
    signal: AbortSignal,
  ): Promise<WorkflowRunState | undefined> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(undefined);
      let runs = this.#waiting.get(workflowKey);
      if (!runs) {
        runs = new Map();
        this.#waiting.set(workflowKey, runs);
      }
      runs.get(runId)?.wake(); // one follower per run: an older wait ends
      const onAbort = () => waiter.wake();
      const waiter: Waiter = {
        known: { status: known.status, updatedAt: known.updatedAt, createdAt: known.createdAt },
        since: this.#now(),
        wake: (state) => {
          signal.removeEventListener('abort', onAbort);
          const current = this.#waiting.get(workflowKey);
          if (current?.get(runId) === waiter) {
            current.delete(runId);
            if (current.size === 0) this.#waiting.delete(workflowKey);
          }
          resolve(state);
        },
      };
      runs.set(runId, waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** What to list on the next check: for each workflow with runs waiting, the statuses they were last read in. */
  wanted(): Map<string, Set<RunStatus>> {
    const wanted = new Map<string, Set<RunStatus>>();
    for (const [workflowKey, runs] of this.#waiting) {
      const statuses = new Set<RunStatus>();
      for (const waiter of runs.values()) statuses.add(waiter.known.status);
      wanted.set(workflowKey, statuses);
    }
    return wanted;
  }

  /** `run` as a check keeps it: its state only when its follower waits to see it changed. */
  slim(workflowKey: string, run: WorkflowRunSummary): ListedRun {
    const waiter = this.#waiting.get(workflowKey)?.get(run.runId);
    return slimRun(run, waiter && isNewer(run, waiter.known) ? listedRunState(run) : undefined);
  }

  /**
   * The runs of `workflowKey` in each status listed, complete, as fetched from `fetchedAt` on (a
   * `Date.now()` time): wakes the followers whose run is listed changed, with its state. Returns
   * the runs that left the list of their status, still waiting: look for them in the other lists,
   * then `settle` them. A follower whose status was not listed, or who began waiting after the
   * lists were fetched, waits for the next check.
   */
  listed(
    workflowKey: string,
    lists: ReadonlyMap<RunStatus, readonly ListedRun[]>,
    fetchedAt: number,
  ): Vanished[] {
    const runs = this.#waiting.get(workflowKey);
    if (!runs) return [];
    const seen = new Map<string, ListedRun>();
    for (const list of lists.values()) for (const run of list) seen.set(run.runId, run);
    const vanished: Vanished[] = [];
    for (const [runId, waiter] of [...runs]) {
      if (waiter.since > fetchedAt || !lists.has(waiter.known.status)) continue;
      const run = seen.get(runId);
      if (!run) vanished.push({ runId, createdAt: waiter.known.createdAt });
      else if (isNewer(run, waiter.known)) waiter.wake(run.state);
    }
    return vanished;
  }

  /**
   * Wakes the followers of runs that `listed` found gone from their list: with the run's state
   * where `lists` (other statuses, fetched since) show it, otherwise to read it themselves.
   */
  settle(
    workflowKey: string,
    vanished: readonly Vanished[],
    lists: Iterable<readonly ListedRun[]>,
    fetchedAt: number,
  ): void {
    const runs = this.#waiting.get(workflowKey);
    if (!runs) return;
    const seen = new Map<string, ListedRun>();
    for (const list of lists) for (const run of list) seen.set(run.runId, run);
    for (const { runId } of vanished) {
      const waiter = runs.get(runId);
      if (!waiter || waiter.since > fetchedAt) continue;
      const run = seen.get(runId);
      waiter.wake(run && isNewer(run, waiter.known) ? run.state : undefined);
    }
  }
}

/** A listed run without its stored snapshot: a few fields, and `state` when given. */
export function slimRun(run: WorkflowRunSummary, state?: WorkflowRunState): ListedRun {
  const { runId, status, resourceId, createdAt, updatedAt } = run;
  return { runId, status, resourceId, createdAt, updatedAt, ...(state ? { state } : {}) };
}

/** Whether a listed run is not in the state a follower last read. */
function isNewer(run: Pick<ListedRun, 'status' | 'updatedAt'>, known: KnownState): boolean {
  return run.status !== known.status || run.updatedAt.getTime() > known.updatedAt.getTime();
}
