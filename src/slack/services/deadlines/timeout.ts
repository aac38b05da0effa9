/**
 * A timeout fell due: the step's `onTimeout` is carried out. `cancel` (the default) cancels the run,
 * records Flowgate as who canceled it and says so in the thread; `{ answer }` answers the step as
 * Flowgate, through the same checks and first-answer-wins claim as a person's answer — unless the
 * answer does not fit the step's form, when the admins are told instead.
 */
import type { Deadline, Firing } from '../../../deadlines/types.ts';
import { isMastraError } from '../../../mastra/errors.ts';
import {
  canceledByTimeout,
  timedOutReply,
  timeoutAnswerNote,
  unansweredTimeoutProblem,
} from '../../render/deadline-notices.ts';
import { replyInThread } from './deadlines.ts';
import { type DeadlineActionDeps, type DueQuestion, drop, dueQuestion, finish } from './due.ts';

export async function timeOut(deps: DeadlineActionDeps, deadline: Deadline, firing: Firing): Promise<void> {
  const due = await dueQuestion(deps, deadline, firing);
  if (!due) return;
  const onTimeout = due.rules.onTimeout ?? 'cancel';
  if (onTimeout === 'cancel') await cancel(deps, deadline, firing, due);
  else await answer(deps, deadline, firing, due, onTimeout.answer);
}

async function cancel(
  deps: DeadlineActionDeps,
  deadline: Deadline,
  firing: Firing,
  due: DueQuestion,
): Promise<void> {
  const { store, client } = deps;
  const { row, question, rules } = due;
  try {
    await client.getWorkflow(row.workflowKey).run(row.runId).cancel();
  } catch (error) {
    if (!isMastraError(error, 'already_finished')) throw error;
    await drop(store, deadline, firing, 'the run had already ended');
    return;
  }
  await finish(store, deadline, firing, { state: 'done', outcome: 'canceled' });
  await store.updateProgressMessage(row.runId, {
    canceledBy: canceledByTimeout(question.path, rules.timeoutAfter ?? 0),
  });
  deps.refresh(row.runId);
  await replyInThread(deps.outbox, row, due.replyKey, timedOutReply(due.words));
}

async function answer(
  deps: DeadlineActionDeps,
  deadline: Deadline,
  firing: Firing,
  due: DueQuestion,
  data: unknown,
): Promise<void> {
  const { store, deadlines } = deps;
  const { row, workflow, question, rules } = due;
  const unfit = deadlines.unfitAnswer(rules, workflow, question.path);
  if (unfit) {
    await drop(store, deadline, firing, `not answered: ${unfit}`);
    await deadlines.tellAdmins(row, `${due.replyKey}:unfit`, question.path, [
      unansweredTimeoutProblem(unfit),
    ]);
    return;
  }
  const result = await deps.answerAs(row, question, data, timeoutAnswerNote(rules.timeoutAfter ?? 0));
  await finish(store, deadline, firing, {
    state: result.error ? 'dropped' : 'done',
    outcome: result.error ? `not answered: ${result.error}` : 'answered',
  });
}
