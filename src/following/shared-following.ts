/**
 * The shared, cheap way to follow every run that has no live stream (src/following/stream-slots.ts). Rather
 * than each follower asking the server about its run every few seconds, the watcher lists each
 * workflow's runs by status once per check (src/following/watcher.ts) and hands the lists here; only the
 * followers of runs whose state changed since they last read it — another status, a later
 * `updatedAt`, or no longer listed (ended, or gone) — are woken, to read their run's state once.
 * So a check costs the pages of the lists plus one read per run that changed, not one per run.
 */
import type { RunStatus, WorkflowRunSummary } from '../mastra/types.ts';

/** What a follower last read of its run. */
export interface KnownState {
  status: RunStatus;
  updatedAt: Date;
}

interface Waiter {
  known: KnownState;
  /** When the follower started waiting: lists fetched before this say nothing new. */
  since: number;
  wake(): void;
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

  /** Resolves once the run may have changed since `known` (or when `signal` aborts). */
  changed(workflowKey: string, runId: string, known: KnownState, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      let runs = this.#waiting.get(workflowKey);
      if (!runs) {
        runs = new Map();
        this.#waiting.set(workflowKey, runs);
      }
      runs.get(runId)?.wake(); // one follower per run: an older wait ends
      const waiter: Waiter = {
        known,
        since: this.#now(),
        wake: () => {
          signal.removeEventListener('abort', waiter.wake);
          const current = this.#waiting.get(workflowKey);
          if (current?.get(runId) === waiter) {
            current.delete(runId);
            if (current.size === 0) this.#waiting.delete(workflowKey);
          }
          resolve();
        },
      };
      runs.set(runId, waiter);
      signal.addEventListener('abort', waiter.wake, { once: true });
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

  /**
   * The runs of `workflowKey` in each status listed, complete, as fetched from `fetchedAt` on (a
   * `Date.now()` time): wakes the followers whose run changed. A follower whose status was not
   * listed, or who began waiting after the lists were fetched, waits for the next check.
   */
  listed(
    workflowKey: string,
    lists: ReadonlyMap<RunStatus, readonly WorkflowRunSummary[]>,
    fetchedAt: number,
  ): void {
    const runs = this.#waiting.get(workflowKey);
    if (!runs) return;
    const seen = new Map<string, WorkflowRunSummary>();
    for (const list of lists.values()) for (const run of list) seen.set(run.runId, run);
    for (const [runId, waiter] of [...runs]) {
      if (waiter.since > fetchedAt || !lists.has(waiter.known.status)) continue;
      const run = seen.get(runId);
      if (
        !run ||
        run.status !== waiter.known.status ||
        run.updatedAt.getTime() > waiter.known.updatedAt.getTime()
      )
        waiter.wake();
    }
  }
}
