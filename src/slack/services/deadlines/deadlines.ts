/**
 * What Flowgate keeps about a waiting step's deadlines and approvals, and what it means: when a
 * step first waits, its deadlines are stored (`suspended`); how long a question has waited, for who
 * may answer it (`waitingOf`); what the progress message says about them (`viewOf`); the approvals
 * of a step that needs several (`required`, `vote`). What each deadline does when due is its action
 * (the other files of this folder, by kind: index.ts). Who may answer is always `answerersFor`,
 * given how long the step has waited.
 */
import { resumeSchemaOf, type WorkflowCatalog } from '../../../catalog.ts';
import { plannedDeadlines, quorum, type Vote } from '../../../deadlines/plan.ts';
import type { Deadline } from '../../../deadlines/types.ts';
import { isYesNoSchema } from '../../../forms/index.ts';
import type { RunSnapshot, Suspension, WorkflowInfo } from '../../../mastra/types.ts';
import { deadlineRulesFor, quorumRules } from '../../../policy/decide.ts';
import type { AnswerersRequest, Policy, StepDeadlines } from '../../../policy/types.ts';
import { parseSuspensionKey, questionKey, suspensionKey } from '../../../runs/suspensions.ts';
import type { ProgressMessage, Store } from '../../../store/index.ts';
import { emptyRecord, setOwn } from '../../../util/safe-objects.ts';
import type { Outbox } from '../../io/outbox.ts';
import type { SettledDeadlines, WaitingDeadlines } from '../../render/deadline-lines.ts';
import {
  approvalRecorded,
  policyProblemReply,
  quorumIgnoredProblem,
  quorumStartupProblem,
  quorumSummary,
  unfitAnswerProblem,
} from '../../render/deadline-notices.ts';

export interface DeadlinesDeps {
  store: Store;
  policy: Policy;
  /** Thread replies: each sent once, across failures, restarts and replicas. */
  outbox: Outbox;
  /** Checks an answer against a resume schema: the problems, empty when it fits. */
  problemsOf(schema: unknown, value: unknown): string[];
  now?: () => Date;
}

export class Deadlines {
  readonly #deps: DeadlinesDeps;
  readonly #now: () => Date;

  constructor(deps: DeadlinesDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** The policy's deadlines and approvals for this step of this run. */
  rulesFor(row: ProgressMessage, path: readonly string[]): StepDeadlines {
    return deadlineRulesFor(this.#deps.policy, row, path);
  }

  /**
   * Why `required` is ignored for this step (its form is more than yes/no), or undefined. Refused at
   * start-up already when the catalog was known; checked again here, for a workflow that changed.
   */
  quorumIgnored(row: ProgressMessage, info: WorkflowInfo, path: readonly string[]): string | undefined {
    const { required } = this.rulesFor(row, path);
    if (required <= 1) return undefined;
    if (isYesNoSchema(resumeSchemaOf(info, path) ?? {})) return undefined;
    return quorumIgnoredProblem(required, path);
  }

  /** Approvals needed for this step: `required` on yes/no steps, else 1. */
  required(row: ProgressMessage, info: WorkflowInfo, path: readonly string[]): number {
    return this.quorumIgnored(row, info, path) ? 1 : this.rulesFor(row, path).required;
  }

  /** Why the timeout's answer does not fit the step's form (and so will not be given), or undefined. */
  unfitAnswer(rules: StepDeadlines, info: WorkflowInfo, path: readonly string[]): string | undefined {
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
    const rules = this.rulesFor(row, path);
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
    const problems = [this.unfitAnswer(rules, info, path), this.quorumIgnored(row, info, path)].filter(
      (p): p is string => p !== undefined,
    );
    if (problems.length > 0) await this.tellAdmins(row, `policy:${row.runId}:${key}`, path, problems);
  }

  /** Tells the admins in the run's thread (once by `key`) that the policy cannot be followed for a step. */
  async tellAdmins(
    row: ProgressMessage,
    key: string,
    path: readonly string[],
    problems: string[],
  ): Promise<void> {
    await replyInThread(this.#deps.outbox, row, key, policyProblemReply(this.#deps.policy, path, problems));
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
   * One person's approval or rejection of a step that needs `required` approvals. Recorded with who
   * and when (the same person's second vote changes nothing). Settled when it is a rejection or the
   * `required`-th approval: the caller then claims and resumes with the answer as given (and renders
   * the run's message again, now with the vote).
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
      const rules = this.rulesFor(row, path);
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
        const unfit = this.unfitAnswer(rules, info, path);
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
        const q = quorum(mine, this.rulesFor(row, path).required);
        if (q.state === 'approved') entry.approvedBy = q.approvals.map((a) => a.userId);
        if (q.state === 'rejected') entry.rejectedBy = q.rejection.userId;
      }
      settled.push(entry);
    }
    return { waiting, settled, since };
  }
}

/** When the question keyed `key` started waiting, as its stored deadlines say. */
function sinceOf(deadlines: readonly Deadline[], key: string): Date | undefined {
  return deadlines.find((d) => d.suspensionKey === key)?.since;
}

/** A reply in the run's thread, once by `key` (src/slack/io/outbox.ts). */
export async function replyInThread(
  outbox: Outbox,
  row: ProgressMessage,
  key: string,
  text: string,
): Promise<void> {
  await outbox.send({ key, runId: row.runId, to: { channel: row.channel, threadTs: row.ts }, text });
}

function votesOf(votes: readonly (Vote & { suspensionKey: string })[], key: string): Vote[] {
  return votes.filter((v) => v.suspensionKey === key);
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
