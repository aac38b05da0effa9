/**
 * What every deadline action needs and checks first: its deps, and whether the step it was set
 * for still waits for the same question, unanswered (`dueQuestion`). Otherwise the deadline is
 * dropped, or looked at again shortly when an answer is on its way or the Mastra server cannot be
 * reached.
 */
import { resumeSchemaOf, type WorkflowCatalog } from '../../../catalog.ts';
import type { Deadline, Firing } from '../../../deadlines/types.ts';
import { isYesNoSchema } from '../../../forms/index.ts';
import type { Logger } from '../../../logger.ts';
import type { MastraClient } from '../../../mastra/client.ts';
import { isMastraError } from '../../../mastra/errors.ts';
import type { Suspension, WorkflowInfo } from '../../../mastra/types.ts';
import type { Answerers, AnswerersRequest, Policy, StepDeadlines } from '../../../policy/types.ts';
import { snapshotFromRunState } from '../../../runs/state.ts';
import { suspensionKey } from '../../../runs/suspensions.ts';
import type { DeadlineResult, ProgressMessage, Store } from '../../../store/index.ts';
import type { Outbox } from '../../io/outbox.ts';
import type { DueStep, Mentioned } from '../../render/deadline-notices.ts';
import type { Deadlines } from './deadlines.ts';

/** Answers a step as Flowgate (a timeout's `onTimeout.answer`): claimed and resumed like a person's answer. */
export type AnswerAs = (
  row: ProgressMessage,
  question: Suspension,
  data: unknown,
  note: string,
) => Promise<{ error?: string }>;

/** What the actions act with: built before them, nothing set later. */
export interface DeadlineActionDeps {
  store: Store;
  policy: Policy;
  client: MastraClient;
  catalog: WorkflowCatalog;
  /** Thread replies: each sent once, across failures, restarts and replicas. */
  outbox: Outbox;
  logger: Logger;
  /** The step's rules, whether the timeout's answer fits, the admins' notices. */
  deadlines: Deadlines;
  /** Renders the run's message again (after an escalation, a timeout). */
  refresh(runId: string): void;
  /**
   * Asks the questions in the DMs of whom `who` names but who cannot read the run's conversation
   * (src/slack/services/progress-messages.ts): the people an escalation adds are asked where they can answer.
   */
  askByDm(row: ProgressMessage, info: WorkflowInfo, questions: Suspension[], who: Answerers): Promise<void>;
  /** Answers a step as Flowgate (src/slack/usecases/answering.ts). */
  answerAs: AnswerAs;
}

/** The question a deadline fell due for, still waiting. */
export interface DueQuestion {
  row: ProgressMessage;
  workflow: WorkflowInfo;
  question: Suspension;
  rules: StepDeadlines;
  /** This firing of this deadline (a reminder fires again and again, each time due at another time): its reply is sent once by it. */
  replyKey: string;
  /** The step as the deadline's thread reply names it. */
  words: DueStep;
}

/** How long a deadline whose action failed (the Mastra server unreachable…) waits before it is tried again. */
const RETRY_AFTER_MS = 5_000;

/** Records what became of the deadline that fired. */
export function finish(
  store: Store,
  deadline: Deadline,
  firing: Firing,
  result: Omit<DeadlineResult, 'firedAt' | 'late'>,
): Promise<void> {
  return store.finishDeadline(deadline, { ...result, firedAt: firing.now, late: firing.late });
}

/** The deadline does not act (`outcome`: why), for good. */
export function drop(store: Store, deadline: Deadline, firing: Firing, outcome: string): Promise<void> {
  return finish(store, deadline, firing, { state: 'dropped', outcome });
}

/**
 * The question `deadline` was set for, when its step still waits for it, unanswered; otherwise the
 * deadline is dropped (or due again shortly) and this is undefined. Throws, once the deadline is due
 * again shortly, when the Mastra server cannot be reached.
 */
export async function dueQuestion(
  deps: DeadlineActionDeps,
  deadline: Deadline,
  firing: Firing,
): Promise<DueQuestion | undefined> {
  const { store, client, catalog } = deps;
  const row = await store.getProgressMessage(deadline.runId);
  if (!row || row.final) {
    await drop(store, deadline, firing, 'the run ended');
    return undefined;
  }
  const answer = await store.getAnswer(deadline.runId, deadline.suspensionKey);
  if (answer?.state === 'resumed') {
    await drop(store, deadline, firing, 'answered');
    return undefined;
  }
  const retry = { state: 'pending', next: new Date(firing.now.getTime() + RETRY_AFTER_MS) } as const;
  if (answer) {
    // An answer is on its way: looked at again shortly (it is dropped once the answer lands).
    await finish(store, deadline, firing, retry);
    return undefined;
  }
  let workflow: WorkflowInfo;
  let question: Suspension | undefined;
  try {
    workflow = await catalog.details(row.workflowKey);
    const state = await client.getWorkflow(row.workflowKey).runById(row.runId);
    const snapshot = snapshotFromRunState(state);
    question = snapshot.payload.workflowState.suspended.find(
      (s) => suspensionKey(s) === deadline.suspensionKey,
    );
  } catch (error) {
    if (isMastraError(error, 'run_not_found') || isMastraError(error, 'workflow_not_found')) {
      await drop(store, deadline, firing, 'the run is gone');
      return undefined;
    }
    // The server is unreachable: the deadline is tried again shortly, not lost.
    await finish(store, deadline, firing, retry);
    throw error;
  }
  if (!question) {
    await drop(store, deadline, firing, 'no longer waiting');
    return undefined;
  }
  return {
    row,
    workflow,
    question,
    rules: deps.deadlines.rulesFor(row, question.path),
    words: {
      question,
      workflowName: workflow.name,
      yesNo: isYesNoSchema(resumeSchemaOf(workflow, question.path) ?? {}) !== null,
      waitedMs: firing.now.getTime() - deadline.since.getTime(),
      late: firing.late,
    },
    replyKey: `${deadline.kind}:${row.runId}:${deadline.suspensionKey}:${deadline.dueAt.getTime()}`,
  };
}

/** Who may answer the step, as the policy says once it has waited since `deadline.since`. */
export function answerersRequest(
  row: ProgressMessage,
  path: string[],
  deadline: Deadline,
  firing: Firing,
): AnswerersRequest {
  return {
    workflowId: row.workflowId,
    workflowKey: row.workflowKey,
    stepPath: path,
    starterId: row.starterId,
    ...(row.requesterPending ? { starterPending: true } : {}),
    waiting: { since: deadline.since, now: firing.now },
  };
}

/** Who already approved the question (a step that needs several approvals): not reminded again. */
export async function votersOn(store: Store, deadline: Deadline): Promise<string[]> {
  return (await store.listVotes(deadline.runId))
    .filter((v) => v.suspensionKey === deadline.suspensionKey)
    .map((v) => v.userId);
}

/** Nobody left to mention: no reply is sent. */
export function nobody(who: Mentioned): boolean {
  return who.users.length === 0 && who.groups.length === 0;
}
