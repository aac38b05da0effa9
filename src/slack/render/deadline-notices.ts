/**
 * What deadlines and quorums say in Slack, outside the progress message (whose lines are
 * deadline-lines.ts): the thread replies of a reminder, an escalation and a timeout, what the run
 * records when a timeout cancels or answers it, the admins' notice when the policy cannot be
 * followed for a step, and what a vote tells the person who cast it. Pure.
 */
import { durationWords } from '../../deadlines/durations.ts';
import type { Suspension } from '../../mastra/types.ts';
import { stepText } from '../../runs/graph.ts';
import { mentionGroup, mentionUser, safeText, stepName } from '../text/mrkdwn.ts';
import { listWords } from './deadline-lines.ts';
import { howToAnswer } from './questions.ts';

/** Who answers and cancels when a deadline settles a step (shown as text, never a mention). */
export const FLOWGATE = 'Flowgate';

/** A waiting step a deadline fired for, as its thread reply names it. */
export interface DueStep {
  /** The question still waiting: its step's name, and its buttons' labels. */
  question: Pick<Suspension, 'path' | 'resumeLabel'>;
  workflowName: string;
  /** Its form is a yes or no: the reply names Approve and Reject too. */
  yesNo: boolean;
  /** How long it has waited, in ms, when the deadline fired. */
  waitedMs: number;
  /** The deadline fired after Flowgate was down (or long after it was due). */
  late: boolean;
}

/** People and groups to mention (user ids and user group ids). */
export interface Mentioned {
  users: readonly string[];
  groups: readonly string[];
}

/** At most this many people and groups are mentioned in one reply. */
const MAX_MENTIONS = 20;

function mentions(who: Mentioned): string {
  return [...who.users.map(mentionUser), ...who.groups.map(mentionGroup)].slice(0, MAX_MENTIONS).join(', ');
}

const step = (due: DueStep) =>
  `step *${stepName(due.question.path, 150)}* of ${safeText(due.workflowName, 150)}`;
const waited = (due: DueStep) => durationWords(due.waitedMs);
const buttons = (due: DueStep) => howToAnswer([due.question], due.yesNo);
const lateNote = (due: DueStep) => (due.late ? ' (late: Flowgate was not running when this was due)' : '');

/** The reminder in the run's thread, to whoever may answer and has not yet. */
export function reminderReply(due: DueStep, who: Mentioned): string {
  return `${mentions(who)}: reminder, ${step(due)} has waited ${waited(due)} for your answer. ${buttons(due)}${lateNote(due)}`;
}

/** The escalation in the run's thread, to the people and groups it adds (less who already answered). */
export function escalationReply(due: DueStep, to: Mentioned): string {
  return `${mentions(to)}: ${step(due)} has waited ${waited(due)} without an answer, so you may answer it now. ${buttons(due)}${lateNote(due)}`;
}

/** The thread reply when a step timed out and the run was canceled. */
export function timedOutReply(due: DueStep): string {
  return `:alarm_clock: ${step(due)} timed out after ${waited(due)} without an answer: the run was canceled.${lateNote(due)}`;
}

/** Who canceled the run, as the run records it, when its step timed out after `timeoutAfter` ms. */
export function canceledByTimeout(path: readonly string[], timeoutAfter: number): string {
  return `${FLOWGATE}: ${stepName(path, 100)} timed out after ${durationWords(timeoutAfter)}`;
}

/** The note of the answer Flowgate gives when a step times out (before the answer, in its summary). */
export function timeoutAnswerNote(timeoutAfter: number): string {
  return `no answer within ${durationWords(timeoutAfter)}`;
}

// ---------------------------------------------------------------------------------------------
// When the policy cannot be followed for a step

/**
 * The admins' notice in the run's thread: the policy (its file, when known) cannot be followed for
 * the step at `path`, for `problems` (each a sentence).
 */
export function policyProblemReply(
  policy: { admins: readonly string[]; source?: string | null | undefined },
  path: readonly string[],
  problems: readonly string[],
): string {
  const admins = policy.admins.map((id) => (id.startsWith('S') ? mentionGroup(id) : mentionUser(id)));
  const file = policy.source ? ` (${safeText(policy.source, 200)})` : '';
  return `${admins.length > 0 ? `${admins.slice(0, 20).join(', ')}: ` : ''}:warning: The policy${file} cannot be followed for step *${stepName(path, 150)}*: ${problems.map((p) => safeText(p, 600)).join(' ')}`;
}

/** Why the timeout's answer will not be given: it does not fit the step's form, for `problems`. */
export function unfitAnswerProblem(problems: readonly string[]): string {
  return `the policy's onTimeout answer does not fit the step's form (${problems.slice(0, 3).join('; ')}). Change onTimeout for this step in the policy.`;
}

/** The admins' problem when a step timed out and its answer was not given (`unfit`: why). */
export function unansweredTimeoutProblem(unfit: string): string {
  return `It timed out, but was not answered: ${unfit}`;
}

/** Why `required` is ignored for the step at `path`: its form is more than a yes or no. */
export function quorumIgnoredProblem(required: number, path: readonly string[]): string {
  return `The policy asks ${required} approvals of step ${stepText(path)}, but its form is more than a yes or no, so one answer settles it. Set required only on yes/no steps.`;
}

/** One line of the start-up refusal: step `stepKey` (dotted) of `workflowKey` is asked `required` approvals but is not yes/no. */
export function quorumStartupProblem(stepKey: string, workflowKey: string, required: number): string {
  return `step ${stepKey} of ${workflowKey}: the policy asks ${required} approvals (required: ${required}), but its form is more than a yes or no (required counts approvals of yes/no steps only). Remove required for it, or set it on its yes/no steps only.`;
}

// ---------------------------------------------------------------------------------------------
// Votes

/** The summary of a step a quorum settled: who rejected it, or who approved it. */
export function quorumSummary(settled: { rejectedBy: string } | { approvedBy: readonly string[] }): string {
  if ('rejectedBy' in settled) return `rejected by ${mentionUser(settled.rejectedBy)}`;
  return `approved by ${listWords(settled.approvedBy.map(mentionUser))}`;
}

/** What the person who approved is told while the step needs more approvals. */
export function approvalRecorded(vote: {
  /** They had approved before: their second approval changed nothing. */
  already: boolean;
  approvals: number;
  required: number;
  path: readonly string[];
}): string {
  return `${vote.already ? 'You had already approved (a person counts once)' : 'Your approval is recorded'}: ${vote.approvals} of ${vote.required} approvals for *${stepName(vote.path, 150)}*. The step goes on once ${vote.required} different people approve; one rejection rejects it.`;
}
