/**
 * The part of the progress message about questions: each suspension waiting for an answer (who may
 * answer, its payload, its buttons) and the answers given. Pure, like the rest of the message.
 */
import type { KnownBlock } from '@slack/types';
import { own } from '../../own.ts';
import type { Answerers } from '../../policy.ts';
import { cutMrkdwn } from '../fit.ts';
import { ACTION, encodeSuspensionRef, stepBlockId } from '../ids.ts';
import {
  code,
  inlineValue,
  mentionGroup,
  mentionUser,
  safeText,
  slackDate,
  stepName,
  truncate,
} from '../mrkdwn.ts';
import { settledLine, waitingLines } from './deadlines.ts';
import type { ProgressView } from './progress.ts';

/** Suspended steps shown with their own buttons (5 blocks each at most). */
const MAX_SUSPENSIONS = 6;

/** The blocks of every suspension waiting for an answer. */
export function renderSuspensions(view: ProgressView): KnownBlock[] {
  const suspended = view.snapshot.payload.workflowState.suspended;
  const blocks: KnownBlock[] = [];
  for (const path of suspended.slice(0, MAX_SUSPENSIONS)) blocks.push(...renderSuspension(view, path));
  if (suspended.length > MAX_SUSPENSIONS) {
    blocks.push(contextLine(`…and ${suspended.length - MAX_SUSPENSIONS} more steps waiting for an answer.`));
  }
  return blocks;
}

/** The answers given so far, latest last. */
export function renderAnswers(view: ProgressView): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  // What deadlines and quorums did to steps that no longer wait (render/deadlines.ts).
  for (const settled of (view.settled ?? []).slice(-5)) {
    const line = settledLine(settled);
    if (line) blocks.push(contextLine(line));
  }
  for (const [key, answer] of Object.entries(view.answers ?? {}).slice(-5)) {
    blocks.push(
      contextLine(
        answer.userId === null
          ? `:speech_balloon: ${code(key, 80)} answered outside Slack ${slackDate(answer.at)}${answer.summary ? `: ${safeText(answer.summary, 300)}` : ''}`
          : `:speech_balloon: ${code(key, 80)} answered by ${mentionUser(answer.userId)} ${slackDate(answer.at)}: ${safeText(answer.summary, 300)}`,
      ),
    );
  }
  return blocks;
}

function renderSuspension(view: ProgressView, path: string[]): KnownBlock[] {
  const key = path.join('.');
  const step = own(view.snapshot.payload.workflowState.steps, key);
  const info = own(view.suspensions, key);
  const blocks: KnownBlock[] = [];
  const lines = [`:raised_hand: *${stepName(path, 150)}* is waiting for an answer.`];
  if (info) lines.push(`Who may answer: ${whoMayAnswer(info.answerers)}`);
  // Deadlines and approvals so far (render/deadlines.ts).
  if (info?.deadlines) lines.push(...waitingLines(info.deadlines));
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } });
  const fields = payloadFields(step?.suspendPayload);
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  const value = encodeSuspensionRef(path, step?.suspendedAt);
  const elements: Extract<KnownBlock, { type: 'actions' }>['elements'] = [
    {
      type: 'button',
      action_id: ACTION.respond,
      text: { type: 'plain_text', text: 'Respond…' },
      style: 'primary',
      value,
    },
  ];
  if (info?.yesNo) {
    elements.push(
      {
        type: 'button',
        action_id: ACTION.approve,
        text: { type: 'plain_text', text: 'Approve' },
        value,
        confirm: confirmDialog('Approve?', `Approve ${stepName(path, 100)}?`, 'Approve'),
      },
      {
        type: 'button',
        action_id: ACTION.reject,
        text: { type: 'plain_text', text: 'Reject' },
        style: 'danger',
        value,
        confirm: confirmDialog('Reject?', `Reject ${stepName(path, 100)}?`, 'Reject'),
      },
    );
  }
  // Nobody may answer: no buttons that could only be refused.
  if (!info?.answerers.nobody) blocks.push({ type: 'actions', block_id: stepBlockId(path), elements });
  return blocks;
}

/** "Who may answer" as mentions — or, when the policy leaves nobody, that plain fact and why. */
export function whoMayAnswer(answerers: Answerers): string {
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

function contextLine(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: cutMrkdwn(text, 3000) }] };
}
