/**
 * What Flowgate says about a run outside its progress message: the thread replies (who may answer
 * a step, that nobody may, that the requester is not yet known, who answered, how the run ended),
 * the DMs (the end of a run to its starter, questions closed in people's DMs), the notes told to
 * one person (an answer not accepted, a run canceled, progress moved to their DMs), and the notices
 * the progress message carries when it cannot follow its run. Pure: plain data in, safe mrkdwn out.
 */
import type { RunStatus, Suspension } from '../../mastra/types.ts';
import type { Answerers } from '../../policy/types.ts';
import { truncate } from '../../util/truncate.ts';
import { code, inlineValue, mentionGroup, mentionUser, safeText, stepName } from '../text/mrkdwn.ts';
import { howToAnswer, itemText, whoMayAnswer } from './questions.ts';
import { statusLabel } from './run-message.ts';

/** Notices the progress message shows when it cannot follow its run (`ProgressView['notice']`). */
export const RUN_NOTICES = {
  /** The run's stream could not be opened: the run never started. */
  notStarted: 'Flowgate could not start this run on the Mastra server. Whoever started it was told why.',
  /** The error shown for a run that never started. */
  notStartedError: 'The run did not start.',
  /** The Mastra server no longer knows the run. */
  gone: 'The Mastra server no longer knows this run, so this message will not change any more.',
} as const;

/** A person (`U…`) or a user group (`S…`) mentioned. */
function mention(id: string): string {
  return id.startsWith('S') ? mentionGroup(id) : mentionUser(id);
}

/** "step *review* (items 1, 3) of Expense approval": a step, the `.foreach()` items asked, its workflow. */
function stepWords(
  workflowName: string,
  path: readonly string[],
  forEachIndexes: readonly number[] = [],
): string {
  const items = forEachIndexes.map((i) => i + 1);
  const which =
    items.length === 0
      ? ''
      : ` (${items.length === 1 ? 'item' : 'items'} ${items.slice(0, 20).join(', ')}${items.length > 20 ? ` and ${items.length - 20} more` : ''})`;
  return `step *${stepName(path, 150)}*${which} of ${safeText(workflowName, 150)}`;
}

/**
 * The thread reply mentioning who may answer the questions of one step (`questions`, with their
 * resume labels, so the buttons are named as the message shows them).
 */
export function askReply(args: {
  workflowName: string;
  questions: readonly Suspension[];
  answerers: Answerers;
  yesNo: boolean;
}): string {
  const { questions } = args;
  const step = stepWords(args.workflowName, questions[0]?.path ?? [], forEachIndexes(questions));
  return `${whoMayAnswer(args.answerers)}: ${step} is waiting for your answer. ${howToAnswer(questions, args.yesNo)}`;
}

/**
 * The thread reply when the policy leaves nobody to answer a step: to its starter and the admins,
 * with what to change (`nobody`: the policy's reason; `policySource`: the policy file, if any).
 */
export function nobodyMayAnswerReply(args: {
  workflowName: string;
  questions: readonly Suspension[];
  nobody: string;
  starterId: string | null;
  admins: readonly string[];
  policySource: string | null | undefined;
}): string {
  const { starterId } = args;
  const step = stepWords(args.workflowName, args.questions[0]?.path ?? [], forEachIndexes(args.questions));
  const people = [
    ...(starterId ? [mentionUser(starterId)] : []),
    ...args.admins.filter((id) => id !== starterId).map(mention),
  ].slice(0, 20);
  const file = args.policySource ? ` (${safeText(args.policySource, 200)})` : ' (set FLOWGATE_POLICY)';
  return `${people.length > 0 ? `${people.join(', ')}: ` : ''}:warning: ${step} is waiting, but nobody may answer it. ${safeText(args.nobody, 600)} An admin can change the policy file${file} and restart Flowgate; the step can then be answered from this message.`;
}

/**
 * The thread reply to the admins when a step waits for the run's requester to be known
 * (`requester`: as the run named them; `pending`: the policy's reason).
 */
export function requesterPendingReply(args: {
  workflowName: string;
  path: readonly string[];
  requester: string | undefined;
  pending: string;
  admins: readonly string[];
}): string {
  const admins = args.admins.map(mention).slice(0, 20);
  const who = args.requester ? ` (${safeText(args.requester, 100)})` : '';
  const step = stepWords(args.workflowName, args.path);
  return `${admins.length > 0 ? `${admins.join(', ')}: ` : ''}:warning: ${step} is waiting, but Slack could not tell who requested this run${who} yet. ${safeText(args.pending, 600)} Flowgate keeps looking them up and mentions who may answer once it knows; an admin may cancel the run meanwhile.`;
}

function forEachIndexes(questions: readonly Suspension[]): number[] {
  return questions.map((q) => q.forEachIndex).filter((i): i is number => i !== undefined);
}

/** An answer in a few words, as recorded and shown (plain text, escaped where shown): "note: value". */
export function answerSummary(resumeData: unknown, note?: string): string {
  return truncate(`${note ? `${note}: ` : ''}${inlineValue(resumeData, 280)}`, 280);
}

/** The question answered: "*review › approve* · item 2". */
function questionName(path: readonly string[], forEachIndex: number | undefined): string {
  return `*${stepName(path, 150)}*${itemText(forEachIndex)}`;
}

/**
 * Who answered a question, in its thread and instead of the question in people's DMs
 * (`userId`: who answered, or Flowgate's own id for an answer given on timeout).
 */
export function answeredReply(args: {
  userId: string;
  path: readonly string[];
  forEachIndex: number | undefined;
  summary: string;
}): string {
  return `${mentionUser(args.userId)} answered ${questionName(args.path, args.forEachIndex)}: ${safeText(args.summary, 300)}`;
}

/** To the person whose answer the run did not take (`reason`: safe mrkdwn, src/slack/render/failures.ts). */
export function answerNotAcceptedNote(args: {
  path: readonly string[];
  forEachIndex: number | undefined;
  reason: string;
}): string {
  return `Your answer to ${questionName(args.path, args.forEachIndex)} was not accepted: ${args.reason}`;
}

/** How a run ended (`canceledBy`: who canceled it in Slack; `error`: why it failed). */
export interface RunEnd {
  workflowName: string;
  /** As recorded (a run status). */
  status: string;
  canceledBy?: string | undefined;
  error?: string | undefined;
}

function endWords({ workflowName, status, canceledBy, error }: RunEnd) {
  const outcome = `${safeText(workflowName, 150)} ${statusLabel(status as RunStatus).toLowerCase()}`;
  const detail = status === 'failed' && error ? `: ${safeText(error, 300)}` : '';
  const by = status === 'canceled' && canceledBy ? ` (canceled by ${mentionUser(canceledBy)})` : '';
  return { outcome, by, detail };
}

/** The thread reply at the end of a run. */
export function runEndedReply(end: RunEnd): string {
  const { outcome, by, detail } = endWords(end);
  return `Run ${outcome}${by}${detail}.`;
}

/** What the questions a run asked in people's DMs say once it ended with nobody answering them. */
export function runEndedInDms(end: Omit<RunEnd, 'error'>): string {
  const { outcome, by } = endWords(end);
  return `Run ${outcome}${by}: nothing is left to answer here.`;
}

/** The starter's DM at the end of their run, with a link to its message when there is one. */
export function runEndedDm(end: RunEnd & { permalink?: string | undefined }): string {
  const { outcome, by, detail } = endWords(end);
  const link = end.permalink ? ` <${end.permalink}|View the run>` : '';
  return `Your run of ${outcome}${by}${detail}.${link}`;
}

/** To whoever canceled a run. */
export function canceledNote(runId: string, workflowId: string): string {
  return `Canceled run ${code(runId, 100)} of ${safeText(workflowId, 150)}.`;
}

/** To the starter, when the run's progress message went to their DMs as the channel refused it. */
export function progressInDmsNote(workflowKey: string): string {
  return `I can't post in this channel, so the progress of ${code(workflowKey, 100)} is in your DMs. Invite me to the channel to post here.`;
}
