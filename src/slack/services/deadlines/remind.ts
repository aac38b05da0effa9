/**
 * A reminder fell due: the people who may answer (as the policy says after this long) and have not
 * approved yet are mentioned in the run's thread; the next reminder is stored, unless it would come
 * at or after the timeout.
 */
import { nextReminder, stillToAnswer } from '../../../deadlines/plan.ts';
import type { Deadline, Firing } from '../../../deadlines/types.ts';
import { answerersFor } from '../../../policy/decide.ts';
import { reminderReply } from '../../render/deadline-notices.ts';
import { replyInThread } from './deadlines.ts';
import { answerersRequest, type DeadlineActionDeps, dueQuestion, finish, nobody, votersOn } from './due.ts';

export async function remind(deps: DeadlineActionDeps, deadline: Deadline, firing: Firing): Promise<void> {
  const due = await dueQuestion(deps, deadline, firing);
  if (!due) return;
  const { store, policy } = deps;
  const { row, question, rules } = due;
  const voted = await votersOn(store, deadline);
  const who = answerersFor(policy, answerersRequest(row, question.path, deadline, firing));
  const next = nextReminder(rules, deadline.since, firing.now);
  await finish(store, deadline, firing, { state: next ? 'pending' : 'done', ...(next ? { next } : {}) });
  if (who.nobody !== undefined || who.pending !== undefined) return;
  const mentioned = stillToAnswer(who, voted);
  if (nobody(mentioned)) return;
  await replyInThread(deps.outbox, row, due.replyKey, reminderReply(due.words, mentioned));
}
