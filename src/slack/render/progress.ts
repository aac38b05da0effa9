/**
 * The progress message of one run: a pure function of the run's snapshot and what Flowgate knows
 * about it (who started it, who answered, who may answer). Everything from outside is escaped and
 * trimmed; many steps collapse into a summary line; then ../fit.ts fits the whole to Slack's limits
 * (suspend payload fields, then answer lines go first; the header and Cancel button stay).
 */
import type { KnownBlock } from '@slack/types';
import type { RunSnapshot, RunStatus, StepSnapshot, StepStatus } from '../../mastra/types.ts';
import { TERMINAL_RUN_STATUSES } from '../../mastra/types.ts';
import { own } from '../../own.ts';
import type { Answerers } from '../../policy.ts';
import { type BlockPredicate, cutMrkdwn, fitLines, fitMessage } from '../fit.ts';
import { ACTION, encodeSuspensionRef, stepBlockId } from '../ids.ts';
import {
  blockValue,
  code,
  codeBlock,
  formatDuration,
  inlineValue,
  mentionGroup,
  mentionUser,
  safeName,
  safeText,
  slackDate,
  truncate,
} from '../mrkdwn.ts';

export interface AnswerRecord {
  /** Who answered in Slack; `null` when the step was answered outside Slack (Mastra's API, Studio). */
  userId: string | null;
  at: Date;
  summary: string;
}

export interface ProgressView {
  workflow: { key: string; name: string };
  snapshot: RunSnapshot;
  starterId: string | null;
  /** `elsewhere`: a run Flowgate did not start; its starter is then shown as the requester. */
  origin?: 'slack' | 'elsewhere';
  /** The requester of a run started elsewhere when it is no Slack user (shown as text). */
  requester?: string;
  startedAt: Date;
  canceledBy?: string;
  /** Answers given in Slack, keyed by step path joined with ".". */
  answers?: Record<string, AnswerRecord>;
  /** For each suspended step (path joined with "."): who may answer, and whether it is a plain yes/no. */
  suspensions?: Record<string, { answerers: Answerers; yesNo: boolean }>;
  /** Set when the message cannot follow the run any more (e.g. the Mastra server is unreachable). */
  notice?: string;
}

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

const STATUS_EMOJI: Record<StepStatus, string> = {
  pending: ':white_circle:',
  running: ':hourglass_flowing_sand:',
  waiting: ':zzz:',
  suspended: ':raised_hand:',
  success: ':white_check_mark:',
  failed: ':x:',
  canceled: ':no_entry_sign:',
  bailed: ':leftwards_arrow_with_hook:',
  tripwire: ':octagonal_sign:',
  paused: ':double_vertical_bar:',
  skipped: ':fast_forward:',
};

const STATUS_LABEL: Record<RunStatus, string> = {
  pending: 'Starting',
  running: 'Running',
  waiting: 'Waiting',
  suspended: 'Waiting for an answer',
  success: 'Succeeded',
  failed: 'Failed',
  canceled: 'Canceled',
  bailed: 'Finished early',
  tripwire: 'Stopped by a tripwire',
  paused: 'Paused',
  skipped: 'Skipped',
};

/** Steps listed one per line before the rest collapse into a summary line. */
const MAX_STEP_LINES = 25;
/** Suspended steps shown with their own buttons (5 blocks each at most). */
const MAX_SUSPENSIONS = 6;

/** What goes first when the message is too big for Slack: suspend payload fields, then answer lines. */
const EXPENDABLE: readonly BlockPredicate[] = [
  (b) => b.type === 'section' && 'fields' in b && b.fields !== undefined,
  (b) => b.type === 'context' && JSON.stringify(b).includes(':speech_balloon:'),
];
/** What stays to the end: the header and the Cancel button. */
const ESSENTIAL: BlockPredicate = (b) =>
  b.type === 'header' || (b.type === 'actions' && b.block_id === 'flowgate_run');

export function statusLabel(status: RunStatus): string {
  return STATUS_LABEL[status];
}

export function statusEmoji(status: StepStatus): string {
  return STATUS_EMOJI[status];
}

export function renderProgress(view: ProgressView): RenderedMessage {
  const { snapshot, workflow } = view;
  const state = snapshot.payload.workflowState;
  const status = state.status;
  const blocks: KnownBlock[] = [];

  blocks.push({
    type: 'header',
    text: {
      type: 'plain_text',
      text: truncate(`${workflow.name} · ${STATUS_LABEL[status]}`, 150),
      emoji: true,
    },
  });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: runContext(view) }] });

  const stepText = renderSteps(Object.values(state.steps));
  if (stepText) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: stepText } });

  const suspended = state.suspended;
  for (const path of suspended.slice(0, MAX_SUSPENSIONS)) blocks.push(...renderSuspension(view, path));
  if (suspended.length > MAX_SUSPENSIONS) {
    blocks.push(contextLine(`…and ${suspended.length - MAX_SUSPENSIONS} more steps waiting for an answer.`));
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

  if (status === 'success' && state.result !== undefined) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Result*\n${codeBlock(blockValue(state.result, 1500))}` },
    });
  }
  if (status === 'failed') {
    const failed = Object.values(state.steps).find((s) => s.status === 'failed');
    const message =
      state.error?.message ?? failed?.error?.message ?? 'The run failed without an error message.';
    const where = failed ? ` at step ${code(failed.id, 100)}` : '';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `:x: *Failed*${where}\n${codeBlock(truncate(message, 1500))}` },
    });
  }
  if (status === 'canceled') {
    blocks.push(
      contextLine(view.canceledBy ? `Canceled by ${mentionUser(view.canceledBy)}.` : 'The run was canceled.'),
    );
  }
  if (view.notice) blocks.push(contextLine(`:warning: ${safeText(view.notice, 500)}`));

  if (!TERMINAL_RUN_STATUSES.has(status)) {
    blocks.push({
      type: 'actions',
      block_id: 'flowgate_run',
      elements: [
        {
          type: 'button',
          action_id: ACTION.cancel,
          text: { type: 'plain_text', text: 'Cancel run' },
          style: 'danger',
          value: 'run',
          confirm: {
            title: { type: 'plain_text', text: 'Cancel this run?' },
            text: {
              type: 'mrkdwn',
              text: `${safeText(workflow.name, 100)} will stop after its current step.`,
            },
            confirm: { type: 'plain_text', text: 'Cancel run' },
            deny: { type: 'plain_text', text: 'Keep running' },
            style: 'danger',
          },
        },
      ],
    });
  }

  return fitMessage({ text: fallbackText(view), blocks }, { drop: EXPENDABLE, keep: ESSENTIAL });
}

/** The answer to `status`: the progress message without its buttons, with a link to the message. */
export function renderStatus(view: ProgressView, permalink?: string): RenderedMessage {
  const message = renderProgress(view);
  const blocks = message.blocks.filter((b) => b.type !== 'actions');
  if (permalink) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `<${permalink}|Open the progress message>` }],
    });
  }
  return fitMessage({ text: message.text, blocks }, { drop: EXPENDABLE });
}

function runContext(view: ProgressView): string {
  const parts = [`Run ${code(view.snapshot.runId, 80)}`];
  if (view.origin === 'elsewhere') {
    const requester = view.starterId
      ? mentionUser(view.starterId)
      : view.requester
        ? safeText(view.requester, 100)
        : undefined;
    parts.push(requester ? `started outside Slack · requested by ${requester}` : 'started outside Slack');
  } else {
    parts.push(view.starterId ? `started by ${mentionUser(view.starterId)}` : 'started outside Slack');
  }
  parts.push(slackDate(view.startedAt));
  return parts.join(' · ');
}

function fallbackText(view: ProgressView): string {
  const status = STATUS_LABEL[view.snapshot.payload.workflowState.status];
  return safeText(`${view.workflow.name}: ${status} (run ${view.snapshot.runId})`, 300);
}

/**
 * One line per step. Past `MAX_STEP_LINES`, the lines around the run's frontier (the latest finished
 * and the next pending steps) and every step that needs attention stay; each run of hidden steps
 * collapses into one summary line with its counts, in place.
 */
function renderSteps(steps: StepSnapshot[]): string {
  if (steps.length === 0) return '';
  const keep = new Set<number>();
  if (steps.length <= MAX_STEP_LINES) {
    for (let i = 0; i < steps.length; i++) keep.add(i);
  } else {
    steps.forEach((s, i) => {
      if (
        s.status !== 'success' &&
        s.status !== 'skipped' &&
        s.status !== 'pending' &&
        keep.size < MAX_STEP_LINES
      )
        keep.add(i);
    });
    const frontier = steps.findLastIndex((s) => s.status !== 'pending');
    const half = Math.floor((MAX_STEP_LINES - keep.size) / 2);
    for (let i = Math.max(0, frontier - half + 1); i < steps.length && keep.size < MAX_STEP_LINES; i++)
      keep.add(i);
  }
  const lines: string[] = [];
  let hidden: StepSnapshot[] = [];
  const flush = () => {
    if (hidden.length === 0) return;
    const counts = new Map<StepStatus, number>();
    for (const s of hidden) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
    lines.push(`…${hidden.length} more steps (${[...counts].map(([st, n]) => `${n} ${st}`).join(', ')})`);
    hidden = [];
  };
  steps.forEach((step, i) => {
    if (keep.has(i)) {
      flush();
      lines.push(stepLine(step));
    } else hidden.push(step);
  });
  flush();
  return fitLines(lines, 3000, (n) => `…${n} more lines`);
}

function stepLine(step: StepSnapshot): string {
  let line = `${STATUS_EMOJI[step.status]} ${code(displayStepName(step.id), 80)} ${step.status}`;
  const duration = stepDuration(step);
  if (duration) line += ` · ${duration}`;
  if (step.progress) line += ` · ${step.progress.completed}/${step.progress.total}`;
  if (step.writerOutput !== undefined && step.status === 'running') {
    line += `\n      ↳ ${safeText(inlineValue(step.writerOutput, 120), 200)}`;
  }
  if (step.status === 'failed' && step.error?.message) {
    line += `\n      ↳ ${safeText(inlineValue(step.error.message, 150), 250)}`;
  }
  return line;
}

function displayStepName(id: string): string {
  return id.startsWith('sleep_') ? 'sleep' : id.replace(/\./g, ' › ');
}

function stepDuration(step: StepSnapshot): string {
  if (!step.startedAt) return '';
  const end = step.endedAt ?? step.suspendedAt;
  return end ? formatDuration(end.getTime() - step.startedAt.getTime()) : '';
}

function renderSuspension(view: ProgressView, path: string[]): KnownBlock[] {
  const key = path.join('.');
  const step = own(view.snapshot.payload.workflowState.steps, key);
  const info = own(view.suspensions, key);
  const blocks: KnownBlock[] = [];
  const lines = [`:raised_hand: *${safeName(path.join(' › '), 150)}* is waiting for an answer.`];
  if (info) lines.push(`Who may answer: ${whoMayAnswer(info.answerers)}`);
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
        confirm: confirmDialog('Approve?', `Approve ${safeName(path.join(' › '), 100)}?`, 'Approve'),
      },
      {
        type: 'button',
        action_id: ACTION.reject,
        text: { type: 'plain_text', text: 'Reject' },
        style: 'danger',
        value,
        confirm: confirmDialog('Reject?', `Reject ${safeName(path.join(' › '), 100)}?`, 'Reject'),
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
