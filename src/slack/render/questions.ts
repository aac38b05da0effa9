/**
 * The part of the progress message about questions: each suspension waiting for an answer (who may
 * answer, its payload, its buttons) and the answers given. Pure, like the rest of the message.
 */
import type { KnownBlock } from '@slack/types';
import type { Suspension } from '../../mastra/types.ts';
import type { Answerers } from '../../policy/types.ts';
import { parseSuspensionKey, questionKey, suspensionKey } from '../../runs/suspensions.ts';
import { own } from '../../util/safe-objects.ts';
import { truncate } from '../../util/truncate.ts';
import { ACTION, encodeSuspensionRef, stepBlockId } from '../ids.ts';
import { cutMrkdwn, fitMessage } from '../text/fit.ts';
import {
  code,
  inlineValue,
  mentionGroup,
  mentionUser,
  safeText,
  slackDate,
  stepName,
} from '../text/mrkdwn.ts';
import { listWords, settledLine, waitingLines } from './deadline-lines.ts';
import type { ProgressView, QuestionInfo } from './progress-view.ts';

/** Questions shown with their own buttons (3 blocks each at most). */
const MAX_SUSPENSIONS = 6;
/** Answer lines shown, latest last. */
const MAX_ANSWERS = 8;

/** The blocks of every question waiting for an answer: one per suspension, each `.foreach()` iteration its own. */
export function renderSuspensions(view: ProgressView): KnownBlock[] {
  const suspended = view.snapshot.payload.workflowState.suspended;
  const blocks: KnownBlock[] = [];
  for (const s of suspended.slice(0, MAX_SUSPENSIONS)) blocks.push(...renderSuspension(view, s));
  if (suspended.length > MAX_SUSPENSIONS) {
    const more = suspended.length - MAX_SUSPENSIONS;
    blocks.push(
      contextLine(
        `…and ${more} more ${more === 1 ? 'question' : 'questions'} waiting for an answer: each gets its buttons here once the ones above are answered.`,
      ),
    );
  }
  return blocks;
}

/**
 * The answers given so far, latest last. An answer to an earlier question of a step that asks
 * again (a loop), or that a later answer followed, is history: "earlier: …", never shown as the
 * answer to the question now waiting.
 */
export function renderAnswers(view: ProgressView): KnownBlock[] {
  const waiting = new Set(view.snapshot.payload.workflowState.suspended.map(questionKey));
  const entries = Object.entries(view.answers ?? {}).map(([key, answer]) => {
    const parsed = parseSuspensionKey(key);
    const path = parsed.step.split('.');
    return { key, answer, path, question: questionKey({ path, forEachIndex: parsed.forEachIndex }), parsed };
  });
  entries.sort((a, b) => a.answer.at.getTime() - b.answer.at.getTime());
  const latest = new Map<string, string>();
  for (const e of entries) latest.set(e.question, e.key);
  const current = new Set(view.snapshot.payload.workflowState.suspended.map(suspensionKey));
  const blocks: KnownBlock[] = [];
  // What deadlines and quorums did to steps that no longer wait (render/deadlines.ts).
  for (const settled of (view.settled ?? []).slice(-5)) {
    const line = settledLine(settled);
    if (line) blocks.push(contextLine(line));
  }
  for (const { key, answer, path, question, parsed } of entries.slice(-MAX_ANSWERS)) {
    const earlier = latest.get(question) !== key || (waiting.has(question) && !current.has(key));
    const who =
      answer.userId === null ? 'answered outside Slack' : `answered by ${mentionUser(answer.userId)}`;
    const summary = answer.summary ? `: ${safeText(answer.summary, 300)}` : '';
    blocks.push(
      contextLine(
        `:speech_balloon: ${earlier ? 'earlier: ' : ''}*${stepName(path, 100)}*${itemText(parsed.forEachIndex)} ${who} ${slackDate(answer.at)}${summary}`,
      ),
    );
  }
  return blocks;
}

/** " · item 2 of 3" for a `.foreach()` iteration (counted from 1, as people do). */
export function itemText(index: number | undefined, total?: number): string {
  if (index === undefined) return '';
  return ` · item ${index + 1}${total === undefined ? '' : ` of ${total}`}`;
}

function renderSuspension(view: ProgressView, s: Suspension): KnownBlock[] {
  return questionBlocks(view.snapshot.runId, s, own(view.suspensions ?? {}, questionKey(s)));
}

/**
 * One question: its heading, who may answer, deadlines, payload and buttons — in the progress
 * message, and the same in a DM to someone who cannot read the run's conversation.
 */
export function questionBlocks(runId: string, s: Suspension, info: QuestionInfo | undefined): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  const name = `${stepName(s.path, 150)}${itemText(s.forEachIndex, s.forEachTotal)}`;
  const lines = [`:raised_hand: *${name}* is waiting for an answer.`];
  if (info) lines.push(`Who may answer: ${whoMayAnswer(info.answerers)}`);
  if (info?.askedByDm && info.askedByDm.length > 0) {
    const names = listWords(info.askedByDm.slice(0, 20).map(mentionUser));
    lines.push(`Asked ${names} by DM: they are not in this conversation.`);
  }
  // Deadlines and approvals so far (render/deadlines.ts).
  if (info?.deadlines) lines.push(...waitingLines(info.deadlines));
  if (!s.suspendedAt) lines.push('_Loading this question…_');
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } });
  const fields = payloadFields(s.payload);
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  // Not yet known when it was asked: no buttons that could only be refused as another question.
  if (!s.suspendedAt) return blocks;
  const value = encodeSuspensionRef(runId, s);
  const elements: Extract<KnownBlock, { type: 'actions' }>['elements'] = [
    {
      type: 'button',
      action_id: ACTION.respond,
      text: { type: 'plain_text', text: respondLabel(s) },
      style: 'primary',
      value,
    },
  ];
  if (info?.yesNo) {
    const plain = `${stepName(s.path, 100)}${itemText(s.forEachIndex)}`;
    elements.push(
      {
        type: 'button',
        action_id: ACTION.approve,
        text: { type: 'plain_text', text: APPROVE },
        value,
        confirm: confirmDialog('Approve?', `Approve ${plain}?`, 'Approve'),
      },
      {
        type: 'button',
        action_id: ACTION.reject,
        text: { type: 'plain_text', text: REJECT },
        style: 'danger',
        value,
        confirm: confirmDialog('Reject?', `Reject ${plain}?`, 'Reject'),
      },
    );
  }
  // Nobody may answer (yet): no buttons that could only be refused.
  if (!info?.answerers.nobody && !info?.answerers.pending)
    blocks.push({ type: 'actions', block_id: stepBlockId(s), elements });
  return blocks;
}

/**
 * A question asked in the DMs of someone who may answer it but cannot read the conversation the
 * run's message is in: the question as the message shows it, the same buttons (a click here is
 * taken as on the run's message), and a link to the run.
 */
export function renderQuestionDm(args: {
  workflowName: string;
  runId: string;
  permalink?: string;
  questions: readonly { question: Suspension; info: QuestionInfo }[];
}): { text: string; blocks: KnownBlock[] } {
  const { workflowName, runId, permalink } = args;
  const shown = args.questions.slice(0, MAX_SUSPENSIONS);
  const first = shown[0]?.question;
  const step = first ? stepName(first.path, 150) : 'a step';
  const link = permalink ? ` <${permalink}|View the run>` : '';
  const intro = `*${safeText(workflowName, 150)}* is waiting for your answer (run ${code(runId, 100)}). You are not in the conversation its message is in, so Flowgate asks you here; your answer counts as on the message.${link}`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: cutMrkdwn(intro, 3000) } }];
  for (const { question, info } of shown) blocks.push(...questionBlocks(runId, question, info));
  if (args.questions.length > shown.length) {
    const more = args.questions.length - shown.length;
    blocks.push(
      contextLine(
        `…and ${more} more ${more === 1 ? 'question' : 'questions'}: answer them on the run's message.`,
      ),
    );
  }
  return fitMessage({
    text: `${safeText(workflowName, 150)} › ${step} is waiting for your answer.`,
    blocks,
  });
}

const APPROVE = 'Approve';
const REJECT = 'Reject';

/** The text of a question's Respond button: its step's resume label, else "Respond…". */
export function respondLabel(s: Pick<Suspension, 'resumeLabel'>): string {
  return s.resumeLabel ?? 'Respond…';
}

/**
 * Where to answer, naming the buttons as the message shows them (the thread's mentions, reminders
 * and escalations): "Use *Approve* or *Reject* (or *Review Dana's access*) on the message above."
 */
export function howToAnswer(questions: readonly Pick<Suspension, 'resumeLabel'>[], yesNo: boolean): string {
  const labels = [...new Set(questions.map(respondLabel))];
  const named = labels.slice(0, 3).map((label) => `*${safeText(label, 75)}*`);
  const respond = `${named.join(' or ')}${labels.length > 3 ? ` (or another item's button)` : ''}`;
  return yesNo
    ? `Use *${APPROVE}* or *${REJECT}* (or ${respond}) on the message above.`
    : `Use ${respond} on the message above.`;
}

/** "Who may answer" as mentions — or, when the policy leaves nobody, that plain fact and why. */
export function whoMayAnswer(answerers: Answerers): string {
  if (answerers.pending !== undefined) return `nobody yet. ${safeText(answerers.pending, 600)}`;
  if (answerers.nobody !== undefined) return `nobody. ${safeText(answerers.nobody, 600)}`;
  const names = [...answerers.users.map(mentionUser), ...answerers.groups.map(mentionGroup)];
  const more = names.length > 20 ? ` and ${names.length - 20} more` : '';
  return names.slice(0, 20).join(', ') + more;
}

function confirmDialog(title: string, text: string, confirm: string) {
  return {
    title: { type: 'plain_text' as const, text: title },
    text: { type: 'mrkdwn' as const, text },
    confirm: { type: 'plain_text' as const, text: confirm },
    deny: { type: 'plain_text' as const, text: 'Not yet' },
  };
}

/** A suspend payload as readable fields (at most 10, each trimmed). */
export function payloadFields(payload: unknown): { type: 'mrkdwn'; text: string }[] {
  if (payload === undefined || payload === null) return [];
  const entries: [string, unknown][] =
    typeof payload === 'object' && !Array.isArray(payload)
      ? Object.entries(payload as Record<string, unknown>)
      : [['Value', payload]];
  const fields = entries.slice(0, 10).map(([key, value]) => ({
    type: 'mrkdwn' as const,
    text: `*${safeText(humanize(key), 100)}*\n${safeText(inlineValue(value, 300), 500)}`,
  }));
  if (entries.length > 10) {
    fields[9] = { type: 'mrkdwn', text: `*…*\n${entries.length - 9} more fields` };
  }
  return fields;
}

function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
}

/** A context block of one mrkdwn line, cut to Slack's limit. */
export function contextLine(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: cutMrkdwn(text, 3000) }] };
}
