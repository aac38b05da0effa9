/**
 * The progress message of one run: a pure function of the run's snapshot and what Flowgate knows
 * about it (who started it, who answered, who may answer). Everything from outside is escaped and
 * trimmed; many steps collapse into a summary line; then ../fit.ts fits the whole to Slack's limits
 * (suspend payload fields, then answer lines go first; the header and Cancel button stay).
 */
import type { KnownBlock } from '@slack/types';
import type { RunSnapshot, RunStatus, StepSnapshot, StepStatus } from '../../mastra/types.ts';
import { TERMINAL_RUN_STATUSES } from '../../mastra/types.ts';
import type { Answerers } from '../../policy.ts';
import { type BlockPredicate, cutMrkdwn, fitLines, fitMessage } from '../fit.ts';
import { ACTION } from '../ids.ts';
import {
  blockValue,
  code,
  codeBlock,
  formatDuration,
  inlineValue,
  mentionUser,
  safeText,
  slackDate,
  truncate,
} from '../mrkdwn.ts';
import { renderAnswers, renderSuspensions } from './suspensions.ts';

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
  /** Answers, keyed by the question answered (`suspensionKey` of src/runs/suspensions.ts). */
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

  blocks.push(...renderSuspensions(view));

  blocks.push(...renderAnswers(view));

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

function contextLine(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: cutMrkdwn(text, 3000) }] };
}
