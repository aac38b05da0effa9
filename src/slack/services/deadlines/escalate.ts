/**
 * An escalation fell due: the people it adds may answer from now on (the policy says so once the
 * step has waited this long), so the message is rendered again, they are asked by DM where they
 * cannot read the run's conversation, and mentioned in its thread (less who already approved).
 */
import { stillToAnswer } from '../../../deadlines/plan.ts';
import type { Deadline, Firing } from '../../../deadlines/types.ts';
import { answerersFor } from '../../../policy/decide.ts';
import { escalationReply } from '../../render/deadline-notices.ts';
import { replyInThread } from './deadlines.ts';
import { answerersRequest, type DeadlineActionDeps, dueQuestion, finish, nobody, votersOn } from './due.ts';

export async function escalate(deps: DeadlineActionDeps, deadline: Deadline, firing: Firing): Promise<void> {
  const due = await dueQuestion(deps, deadline, firing);
  if (!due) return;
  const { store, policy, logger } = deps;
  const { row, workflow, question } = due;
  const voted = await votersOn(store, deadline);
  await finish(store, deadline, firing, { state: 'done', outcome: 'escalated' });
  const who = answerersFor(policy, answerersRequest(row, question.path, deadline, firing));
  const to = who.escalated?.to ?? [];
  deps.refresh(row.runId);
  if (who.nobody === undefined)
    await deps.askByDm(row, workflow, [question], who).catch((error) =>
      logger.warn(`run ${row.runId}: could not ask by DM after the escalation`, error, {
        runId: row.runId,
        workflow: row.workflowKey,
        channel: row.channel,
      }),
    );
  const mentioned = stillToAnswer(
    { users: to.filter((id) => !id.startsWith('S')), groups: to.filter((id) => id.startsWith('S')) },
    voted,
  );
  if (nobody(mentioned)) return;
  await replyInThread(deps.outbox, row, due.replyKey, escalationReply(due.words, mentioned));
}
