/**
 * Waiting steps that don't get stuck: the use case behind reminders, escalation, timeouts and
 * quorums. When a step first waits, its deadlines are stored (`suspended`); the scheduler hands
 * each one back when due (`fire`), once, across restarts and processes; what the progress message
 * says about them is read here (`viewOf`); the approvals of a step that needs several are counted
 * here (`vote`). Who may answer is always `answerersFor`, given how long the step has waited.
 */
import { resumeSchemaOf, type WorkflowCatalog } from '../../../catalog.ts';
import { nextReminder, plannedDeadlines, quorum, stillToAnswer, type Vote } from '../../../deadlines/plan.ts';
import type { Deadline } from '../../../deadlines/types.ts';
import { isYesNoSchema } from '../../../forms/index.ts';
import type { Logger } from '../../../logger.ts';
import type { MastraClient } from '../../../mastra/client.ts';
import { isMastraError } from '../../../mastra/errors.ts';
import type { RunSnapshot, Suspension, WorkflowInfo } from '../../../mastra/types.ts';
import {
  type Answerers,
  type AnswerersRequest,
  answerersFor,
  deadlineRulesFor,
  type Policy,
  quorumRules,
  type StepDeadlines,
} from '../../../policy.ts';
import { snapshotFromRunState } from '../../../runs/state.ts';
import { parseSuspensionKey, questionKey, suspensionKey } from '../../../runs/suspensions.ts';
import type { ProgressMessage, Store } from '../../../store/index.ts';
import { emptyRecord, setOwn } from '../../../util/safe-objects.ts';
import type { SlackGateway } from '../../io/gateway.ts';
import type { Outbox } from '../../io/outbox.ts';
import type { SettledDeadlines, WaitingDeadlines } from '../../render/deadline-lines.ts';
import {
  approvalRecorded,
  canceledByTimeout,
  type DueStep,
  escalationReply,
  type Mentioned,
  policyProblemReply,
  quorumIgnoredProblem,
  quorumStartupProblem,
  quorumSummary,
  reminderReply,
  timedOutReply,
  timeoutAnswerNote,
  unansweredTimeoutProblem,
  unfitAnswerProblem,
} from '../../render/deadline-notices.ts';

/** What the timeout of a step does when it answers: claims and resumes like a person's answer. */
export type AnswerAs = (
  row: ProgressMessage,
  question: Suspension,
  data: unknown,
  note: string,
) => Promise<{ error?: string }>;

export interface DeadlinesDeps {
  store: Store;
  policy: Policy;
  client: MastraClient;
  catalog: WorkflowCatalog;
  gateway: SlackGateway;
  /** Thread replies: each sent once, across failures, restarts and replicas. */
  outbox: Outbox;
  logger: Logger;
  /** Renders the run's message again (after an escalation, a vote, a timeout). */
  refresh(runId: string): void;
  /**
   * Asks a question in the DMs of whom `who` names but who cannot read the run's conversation
   * (src/slack/services/progress-messages.ts): the people an escalation adds are asked where they can answer too.
   */
  askWhereTheyCanRead?(
    row: ProgressMessage,
    info: WorkflowInfo,
    question: Suspension,
    who: Answerers,
  ): Promise<void>;
  /** Answers a step as Flowgate (the timeout's `onTimeout.answer`). */
  answerAs: AnswerAs;
  /** Checks an answer against a resume schema: the problems, empty when it fits. */
  problemsOf(schema: unknown, value: unknown): string[];
  now?: () => Date;
}

/** How long a deadline whose action failed (the Mastra server unreachable…) waits before it is tried again. */
const RETRY_AFTER_MS = 5_000;

export class Deadlines {
  readonly #deps: DeadlinesDeps;
  readonly #now: () => Date;

  constructor(deps: DeadlinesDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  #rules(row: ProgressMessage, path: readonly string[]): StepDeadlines {
    return deadlineRulesFor(this.#deps.policy, row, path);
  }

  /**
   * Why `required` is ignored for this step (its form is more than yes/no), or undefined. Refused at
   * start-up already when the catalog was known; checked again here, for a workflow that changed.
   */
  quorumIgnored(row: ProgressMessage, info: WorkflowInfo, path: readonly string[]): string | undefined {
    const { required } = this.#rules(row, path);
    if (required <= 1) return undefined;
    if (isYesNoSchema(resumeSchemaOf(info, path) ?? {})) return undefined;
    return quorumIgnoredProblem(required, path);
  }

  /** Approvals needed for this step: `required` on yes/no steps, else 1. */
  required(row: ProgressMessage, info: WorkflowInfo, path: readonly string[]): number {
    return this.quorumIgnored(row, info, path) ? 1 : this.#rules(row, path).required;
  }

  /** Why the timeout's answer does not fit the step's form (and so will not be given), or undefined. */
  #unfitAnswer(rules: StepDeadlines, info: WorkflowInfo, path: readonly string[]): string | undefined {
    if (rules.onTimeout === undefined || rules.onTimeout === 'cancel') return undefined;
    const problems = this.#deps.problemsOf(resumeSchemaOf(info, path) ?? {}, rules.onTimeout.answer);
    if (problems.length === 0) return undefined;
    return unfitAnswerProblem(problems);
  }

  /**
   * A step has just started waiting (first seen): its deadlines are stored, once. When the policy
   * cannot be followed for it (an answer that does not fit, a quorum on a richer form), the admins
   * are told in the thread.
   */
  async suspended(row: ProgressMessage, info: WorkflowInfo, question: Suspension): Promise<void> {
    const { path } = question;
    const rules = this.#rules(row, path);
    const since = question.suspendedAt ?? this.#now();
    const key = suspensionKey(question);
    const planned = plannedDeadlines(rules, since);
    if (planned.length > 0) {
      await this.#deps.store.scheduleDeadlines(
        planned.map((p) => ({
          runId: row.runId,
          suspensionKey: key,
          stepPath: path.join('.'),
          kind: p.kind,
          since,
          dueAt: p.dueAt,
          state: 'pending' as const,
        })),
      );
    }
    const problems = [this.#unfitAnswer(rules, info, path), this.quorumIgnored(row, info, path)].filter(
      (p): p is string => p !== undefined,
    );
    if (problems.length > 0) await this.#tellAdmins(row, `policy:${row.runId}:${key}`, path, problems);
  }

  async #tellAdmins(
    row: ProgressMessage,
    key: string,
    path: readonly string[],
    problems: string[],
  ): Promise<void> {
    await this.#reply(row, key, policyProblemReply(this.#deps.policy, path, problems));
  }

  /**
   * How long this question has waited, for `answerersFor`: counted from when it (not an earlier
   * question of its step: a loop asking again, another `.foreach()` item) started waiting, as its
   * deadlines were stored; undefined when it has none.
   */
  async waitingOf(
    runId: string,
    question: Pick<Suspension, 'path' | 'forEachIndex' | 'suspendedAt'>,
  ): Promise<AnswerersRequest['waiting']> {
    const since = sinceOf(await this.#deps.store.listDeadlines(runId), suspensionKey(question));
    return since ? { since, now: this.#now() } : undefined;
  }

  /**
   * A deadline fell due and this process claimed it. It acts only while the step still waits for
   * the same question, unanswered; otherwise it is dropped.
   */
  async fire(deadline: Deadline, info: { late: boolean; now: Date }): Promise<void> {
    const { store, client, catalog } = this.#deps;
    const drop = (outcome: string) =>
      store.finishDeadline(deadline, { state: 'dropped', firedAt: info.now, late: info.late, outcome });
    const row = await store.getProgressMessage(deadline.runId);
    if (!row || row.final) return drop('the run ended');
    const answer = await store.getAnswer(deadline.runId, deadline.suspensionKey);
    if (answer?.state === 'resumed') return drop('answered');
    if (answer) {
      // An answer is on its way: looked at again shortly (it is dropped once the answer lands).
      return store.finishDeadline(deadline, {
        state: 'pending',
        firedAt: info.now,
        late: info.late,
        next: new Date(info.now.getTime() + RETRY_AFTER_MS),
      });
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
      if (isMastraError(error, 'run_not_found') || isMastraError(error, 'workflow_not_found'))
        return drop('the run is gone');
      // The server is unreachable: the deadline is tried again shortly, not lost.
      await store.finishDeadline(deadline, {
        state: 'pending',
        firedAt: info.now,
        late: info.late,
        next: new Date(info.now.getTime() + RETRY_AFTER_MS),
      });
      throw error;
    }
    if (!question) return drop('no longer waiting');
    const { path } = question;
    const rules = this.#rules(row, path);
    // This firing of this deadline (a reminder fires again and again: each time due at another time).
    const firing = `${deadline.kind}:${row.runId}:${deadline.suspensionKey}:${deadline.dueAt.getTime()}`;
    const waiting = { since: deadline.since, now: info.now };
    const due: DueStep = {
      question,
      workflowName: workflow.name,
      yesNo: isYesNoSchema(resumeSchemaOf(workflow, path) ?? {}) !== null,
      waitedMs: info.now.getTime() - deadline.since.getTime(),
      late: info.late,
    };
    const voted = (await store.listVotes(row.runId))
      .filter((v) => v.suspensionKey === deadline.suspensionKey)
      .map((v) => v.userId);

    if (deadline.kind === 'remind') {
      const who = answerersFor(this.#deps.policy, { ...request(row, path), waiting });
      const next = nextReminder(rules, deadline.since, info.now);
      await store.finishDeadline(deadline, {
        state: next ? 'pending' : 'done',
        firedAt: info.now,
        late: info.late,
        ...(next ? { next } : {}),
      });
      if (who.nobody !== undefined || who.pending !== undefined) return;
      const mentioned = stillToAnswer(who, voted);
      if (nobody(mentioned)) return;
      await this.#reply(row, firing, reminderReply(due, mentioned));
      return;
    }

    if (deadline.kind === 'escalate') {
      await store.finishDeadline(deadline, {
        state: 'done',
        firedAt: info.now,
        late: info.late,
        outcome: 'escalated',
      });
      const who = answerersFor(this.#deps.policy, { ...request(row, path), waiting });
      const to = who.escalated?.to ?? [];
      this.#deps.refresh(row.runId);
      if (who.nobody === undefined)
        await this.#deps.askWhereTheyCanRead?.(row, workflow, question, who).catch((error) =>
          this.#deps.logger.warn(`run ${row.runId}: could not ask by DM after the escalation`, error, {
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
      await this.#reply(row, firing, escalationReply(due, mentioned));
      return;
    }

    // timeout
    const onTimeout = rules.onTimeout ?? 'cancel';
    if (onTimeout === 'cancel') {
      try {
        await client.getWorkflow(row.workflowKey).run(row.runId).cancel();
      } catch (error) {
        if (!isMastraError(error, 'already_finished')) throw error;
        return drop('the run had already ended');
      }
      await store.finishDeadline(deadline, {
        state: 'done',
        firedAt: info.now,
        late: info.late,
        outcome: 'canceled',
      });
      await store.updateProgressMessage(row.runId, {
        canceledBy: canceledByTimeout(path, rules.timeoutAfter ?? 0),
      });
      this.#deps.refresh(row.runId);
      await this.#reply(row, firing, timedOutReply(due));
      return;
    }
    const unfit = this.#unfitAnswer(rules, workflow, path);
    if (unfit) {
      await drop(`not answered: ${unfit}`);
      await this.#tellAdmins(row, `${firing}:unfit`, path, [unansweredTimeoutProblem(unfit)]);
      return;
    }
    const note = timeoutAnswerNote(rules.timeoutAfter ?? 0);
    const result = await this.#deps.answerAs(row, question, onTimeout.answer, note);
    await store.finishDeadline(deadline, {
      state: result.error ? 'dropped' : 'done',
      firedAt: info.now,
      late: info.late,
      outcome: result.error ? `not answered: ${result.error}` : 'answered',
    });
  }

  /** A reply in the run's thread, once by `key` (src/slack/io/outbox.ts). */
  async #reply(row: ProgressMessage, key: string, text: string): Promise<void> {
    await this.#deps.outbox.send({
      key,
      runId: row.runId,
      to: { channel: row.channel, threadTs: row.ts },
      text,
    });
  }

  /**
   * One person's approval or rejection of a step that needs `required` approvals. Recorded with who
   * and when (the same person's second vote changes nothing). Settled when it is a rejection or the
   * `required`-th approval: the caller then claims and resumes with the answer as given.
   */
  async vote(
    row: ProgressMessage,
    question: Suspension,
    userId: string,
    approve: boolean,
    required: number,
  ): Promise<{ settled: true; summary: string } | { settled: false; message: string }> {
    const { path } = question;
    const key = suspensionKey(question);
    const at = this.#now();
    const votes = await this.#deps.store.recordVote(row.runId, key, { userId, approve, at });
    const state = quorum(votes, required);
    this.#deps.refresh(row.runId);
    if (state.state === 'rejected')
      return { settled: true, summary: quorumSummary({ rejectedBy: state.rejection.userId }) };
    if (state.state === 'approved')
      return { settled: true, summary: quorumSummary({ approvedBy: state.approvals.map((a) => a.userId) }) };
    const mine = votes.find((v) => v.userId === userId);
    const already = mine !== undefined && mine.at.getTime() !== at.getTime();
    return {
      settled: false,
      message: approvalRecorded({ already, approvals: state.approvals.length, required, path }),
    };
  }

  /**
   * What the progress message says about deadlines and approvals, for the run's current snapshot:
   * `waiting` by question (`questionKey`), `since` (when each question started waiting) by
   * `suspensionKey`.
   */
  async viewOf(
    row: ProgressMessage,
    info: WorkflowInfo,
    snapshot: RunSnapshot,
  ): Promise<{
    waiting: Record<string, WaitingDeadlines>;
    settled: SettledDeadlines[];
    since: Record<string, Date>;
  }> {
    const { store } = this.#deps;
    const waiting = emptyRecord<WaitingDeadlines>();
    const since = emptyRecord<Date>();
    const settled: SettledDeadlines[] = [];
    const [deadlines, votes] = await Promise.all([
      store.listDeadlines(row.runId),
      store.listVotes(row.runId),
    ]);
    const state = snapshot.payload.workflowState;
    const open = new Set<string>();
    for (const question of state.suspended) {
      const { path } = question;
      const key = suspensionKey(question);
      open.add(key);
      const mine = deadlines.filter((d) => d.suspensionKey === key);
      const rules = this.#rules(row, path);
      const view: WaitingDeadlines = {};
      const from = sinceOf(mine, key);
      if (from) setOwn(since, key, from);
      if (rules.remindEvery !== undefined && mine.some((d) => d.kind === 'remind'))
        view.remindEvery = rules.remindEvery;
      const escalation = mine.find((d) => d.kind === 'escalate');
      if (escalation && rules.escalateTo) {
        view.escalation = { at: escalation.dueAt, to: rules.escalateTo, done: escalation.state === 'done' };
      }
      const timeout = mine.find((d) => d.kind === 'timeout');
      if (timeout && rules.onTimeout) {
        const unfit = this.#unfitAnswer(rules, info, path);
        view.timeout = { at: timeout.dueAt, onTimeout: rules.onTimeout, ...(unfit ? { unfit } : {}) };
      }
      const ignored = this.quorumIgnored(row, info, path);
      if (ignored) view.quorumIgnored = ignored;
      else if (rules.required > 1) {
        const q = quorum(votesOf(votes, key), rules.required);
        view.quorum = { required: rules.required, approvals: q.approvals };
      }
      setOwn(waiting, questionKey(question), view);
    }
    const keys = new Set([...deadlines.map((d) => d.suspensionKey), ...votes.map((v) => v.suspensionKey)]);
    for (const key of keys) {
      if (open.has(key)) continue;
      const path = parseSuspensionKey(key).step.split('.');
      const entry: SettledDeadlines = { step: path };
      const escalated = deadlines.find(
        (d) => d.suspensionKey === key && d.kind === 'escalate' && d.state === 'done',
      );
      if (escalated)
        entry.escalated = {
          after: escalated.dueAt.getTime() - escalated.since.getTime(),
          late: escalated.late === true,
        };
      const timedOut = deadlines.find(
        (d) => d.suspensionKey === key && d.kind === 'timeout' && d.state === 'done',
      );
      if (timedOut) {
        entry.timedOut = {
          after: timedOut.dueAt.getTime() - timedOut.since.getTime(),
          outcome: timedOut.outcome === 'canceled' ? 'canceled' : 'answered',
          late: timedOut.late === true,
        };
      }
      const mine = votesOf(votes, key);
      if (mine.length > 0) {
        const q = quorum(mine, this.#rules(row, path).required);
        if (q.state === 'approved') entry.approvedBy = q.approvals.map((a) => a.userId);
        if (q.state === 'rejected') entry.rejectedBy = q.rejection.userId;
      }
      settled.push(entry);
    }
    return { waiting, settled, since };
  }
}

function request(row: ProgressMessage, path: string[]): AnswerersRequest {
  return {
    workflowId: row.workflowId,
    workflowKey: row.workflowKey,
    stepPath: path,
    starterId: row.starterId,
    ...(row.requesterPending ? { starterPending: true } : {}),
  };
}

/** When the question keyed `key` started waiting, as its stored deadlines say. */
function sinceOf(deadlines: readonly Deadline[], key: string): Date | undefined {
  return deadlines.find((d) => d.suspensionKey === key)?.since;
}

function votesOf(votes: readonly (Vote & { suspensionKey: string })[], key: string): Vote[] {
  return votes.filter((v) => v.suspensionKey === key);
}

/** Nobody to mention: the reply is not sent. */
function nobody(who: Mentioned): boolean {
  return who.users.length === 0 && who.groups.length === 0;
}

/**
 * Start-up check: every step the policy asks several approvals of must be a yes/no step. Read
 * from the Mastra server's catalog (every workflow's resume schemas); one line per offending step.
 * Empty when no entry asks for more than one approval (the server is then not asked).
 */
export async function quorumProblems(policy: Policy, catalog: WorkflowCatalog): Promise<string[]> {
  if (quorumRules(policy).length === 0) return [];
  const problems: string[] = [];
  for (const entry of await catalog.list()) {
    const info = await catalog.details(entry.key);
    const ref = { workflowKey: entry.key, workflowId: entry.id };
    for (const [key, step] of Object.entries(info.allSteps ?? {})) {
      if (!step?.resumeSchema) continue;
      const path = key.split('.');
      const { required } = deadlineRulesFor(policy, ref, path);
      if (required > 1 && !isYesNoSchema(step.resumeSchema)) {
        problems.push(quorumStartupProblem(key, entry.key, required));
      }
    }
  }
  return problems;
}
