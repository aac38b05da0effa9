/**
 * The version of a progress message's rendering, the same in every replica that renders the same
 * state (pure): edits are ordered by it across processes, through a compare-and-set in the store
 * (`Store.claimEdit`), so no replica ever shows an older state of a run after a newer one.
 *
 * Compared field by field, in this order:
 * - `final`: 1 for the final rendering (the run is over and its follower saw it end): above every
 *   other, so nothing that is not final ever follows it. Finals carry no run part (`at`, `steps`
 *   are 0): the run does not move any more, they differ only in what Flowgate adds;
 * - `at`: the latest time of any step (started, suspended, resumed, ended), in ms. These times are
 *   the server's, and a streamed snapshot and a `runById` one of the same state carry the same
 *   (src/runs/state.ts), so two replicas agree whichever way they learnt the run (a `.foreach()`
 *   whose items wait: the stream times the step's suspension by its first question, the stored run
 *   by its last, so a rendering read back may pass a streamed one of the same state, never the
 *   other way round; test/runs/version.test.ts);
 * - `steps`: how many of those times the run's steps carry — the transitions at one instant (a step
 *   ending as the next starts, in the same millisecond) still order;
 * - `marks`: what Flowgate adds to the message that the run does not know (answers recorded,
 *   questions asked by DM, votes, escalations and timeouts that fired, a cancel, a requester
 *   looked up, a notice), counted: each is only ever added while the run stays where it is, so a
 *   rendering read later counts at least as many (src/slack/services/progress-messages.ts counts them).
 *
 * Equal versions with different content (a step's live output, a `.foreach()` item's progress, who
 * may answer once a question waited long enough) may both go: the one sent last shows.
 */
import type { RunSnapshot } from '../mastra/types.ts';

export interface MessageVersion {
  final: 0 | 1;
  at: number;
  steps: number;
  marks: number;
}

/** The version of a rendering of `snapshot` (`final`: the final one), with Flowgate's `marks` count. */
export function messageVersion(snapshot: RunSnapshot, final: boolean, marks = 0): MessageVersion {
  const count = Math.max(0, Math.floor(marks));
  if (final) return { final: 1, at: 0, steps: 0, marks: count };
  let at = 0;
  let steps = 0;
  for (const step of Object.values(snapshot.payload.workflowState.steps)) {
    for (const time of [step.startedAt, step.suspendedAt, step.resumedAt, step.endedAt]) {
      const value = time?.getTime();
      if (value === undefined || !Number.isFinite(value)) continue;
      steps++;
      if (value > at) at = value;
    }
  }
  return { final: 0, at, steps, marks: count };
}

/** Negative, 0 or positive as `a` is older than, the same as, or newer than `b`. */
export function compareVersions(a: MessageVersion, b: MessageVersion): number {
  return a.final - b.final || a.at - b.at || a.steps - b.steps || a.marks - b.marks;
}
