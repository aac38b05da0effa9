/**
 * What each kind of deadline does when it falls due, one module per kind; the scheduler
 * (src/deadlines/scheduler.ts) calls the action of a claimed deadline's kind from this table.
 *
 * - remind.ts: mentions who may answer and has not yet; stores the next reminder.
 * - escalate.ts: the people it adds may answer: the message again, DMs, mentions.
 * - timeout.ts: cancels the run, or answers the step as Flowgate.
 * - due.ts: what every action checks first (the step still waits for the same question, unanswered).
 * - deadlines.ts: what is kept about a waiting step's deadlines and votes, and what the message says of them.
 *
 * Their words are src/slack/render/deadline-notices.ts.
 */
import type { DeadlineActions } from '../../../deadlines/types.ts';
import type { DeadlineActionDeps } from './due.ts';
import { escalate } from './escalate.ts';
import { remind } from './remind.ts';
import { timeOut } from './timeout.ts';

export type { DeadlineActionDeps } from './due.ts';

/** The action of each kind of deadline, over `deps`. */
export function deadlineActions(deps: DeadlineActionDeps): DeadlineActions {
  return {
    remind: (deadline, firing) => remind(deps, deadline, firing),
    escalate: (deadline, firing) => escalate(deps, deadline, firing),
    timeout: (deadline, firing) => timeOut(deps, deadline, firing),
  };
}
