/**
 * Deadlines of a waiting step, as pure decisions on plain data: which deadlines a suspension gets,
 * when the next reminder is due, who a reminder mentions, and where a quorum of approvals stands.
 * No clock is read here: every function is given `now`.
 */
import type { StepDeadlines } from '../policy/types.ts';

/** What happens when a deadline falls due. */
export type DeadlineKind = 'remind' | 'escalate' | 'timeout';

export interface PlannedDeadline {
  kind: DeadlineKind;
  dueAt: Date;
}

const at = (since: Date, ms: number) => new Date(since.getTime() + ms);

/**
 * The deadlines a step gets when it starts waiting at `since`: its first reminder (when it comes
 * before the timeout), the escalation (when it comes before the timeout) and the timeout.
 */
export function plannedDeadlines(rules: StepDeadlines, since: Date): PlannedDeadline[] {
  const planned: PlannedDeadline[] = [];
  const beforeTimeout = (ms: number) => rules.timeoutAfter === undefined || ms < rules.timeoutAfter;
  if (rules.remindEvery !== undefined && beforeTimeout(rules.remindEvery)) {
    planned.push({ kind: 'remind', dueAt: at(since, rules.remindEvery) });
  }
  if (
    rules.escalateAfter !== undefined &&
    rules.escalateTo !== undefined &&
    beforeTimeout(rules.escalateAfter)
  ) {
    planned.push({ kind: 'escalate', dueAt: at(since, rules.escalateAfter) });
  }
  if (rules.timeoutAfter !== undefined)
    planned.push({ kind: 'timeout', dueAt: at(since, rules.timeoutAfter) });
  return planned;
}

/**
 * The reminder after one that fired at `now`: the first multiple of `remindEvery` after `since`
 * that is later than `now` — so however late a reminder fired (Flowgate was down for several
 * intervals), the next comes at most one interval later, never several at once. Undefined when it
 * would come at or after the timeout.
 */
export function nextReminder(rules: StepDeadlines, since: Date, now: Date): Date | undefined {
  const every = rules.remindEvery;
  if (every === undefined) return undefined;
  const elapsed = now.getTime() - since.getTime();
  const slot = Math.max(1, Math.floor(elapsed / every) + 1);
  const offset = slot * every;
  if (rules.timeoutAfter !== undefined && offset >= rules.timeoutAfter) return undefined;
  return at(since, offset);
}

/** A deadline is late when it fell due before this process started (Flowgate was down) or long ago. */
export const LATE_AFTER_MS = 60_000;

export function isLate(dueAt: Date, now: Date, startedAt: Date): boolean {
  return dueAt.getTime() < startedAt.getTime() || now.getTime() - dueAt.getTime() > LATE_AFTER_MS;
}

// ---------------------------------------------------------------------------------------------
// Quorum

/** One person's answer to a yes/no step that needs several approvals. */
export interface Vote {
  userId: string;
  approve: boolean;
  at: Date;
}

export type QuorumState =
  | { state: 'open'; approvals: Vote[]; required: number }
  | { state: 'approved'; approvals: Vote[]; required: number }
  | { state: 'rejected'; rejection: Vote; approvals: Vote[]; required: number };

/**
 * Where a quorum stands after `votes` (oldest first): each person counts once (their first vote);
 * a rejection settles the step at once; the `required`-th different approval approves it.
 */
export function quorum(votes: readonly Vote[], required: number): QuorumState {
  const seen = new Set<string>();
  const approvals: Vote[] = [];
  for (const vote of votes) {
    if (seen.has(vote.userId)) continue;
    seen.add(vote.userId);
    if (!vote.approve) return { state: 'rejected', rejection: vote, approvals, required };
    approvals.push(vote);
    if (approvals.length >= required) return { state: 'approved', approvals, required };
  }
  return { state: 'open', approvals, required };
}

/**
 * Whom a reminder or an escalation mentions: the people and groups who may answer, less the people
 * who already did (their approval is recorded). Groups stay: their members cannot be told apart.
 */
export function stillToAnswer(
  who: { users: readonly string[]; groups: readonly string[] },
  answered: readonly string[],
): { users: string[]; groups: string[] } {
  return { users: who.users.filter((id) => !answered.includes(id)), groups: [...who.groups] };
}
