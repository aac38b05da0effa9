/**
 * The progress message of one run: a pure function of the run's snapshot and what Flowgate knows
 * about it (who started it, who answered, who may answer). Everything from outside is escaped and
 * trimmed; many steps collapse into a summary line; then ../fit.ts fits the whole to Slack's limits
 * (suspend payload fields, then answer lines go first; the header and Cancel button stay).
 */
import type { KnownBlock } from '@slack/types';
import type { RunStatus, StepSnapshot, StepStatus } from '../../mastra/types.ts';
import { TERMINAL_RUN_STATUSES } from '../../mastra/types.ts';
import { projectRun, type RunRow, treeOf } from '../../runs/graph.ts';
import { truncate } from '../../util/truncate.ts';
import { ACTION } from '../ids.ts';
import { SLACK_LIMITS } from '../limits.ts';
import { type BlockPredicate, fitLines, fitMessage, textLength } from '../text/fit.ts';
import {
  blockValue,
  code,
  codeBlock,
  formatDuration,
  inlineValue,
  mentionUser,
  safeText,
  slackDate,
  stepName,
} from '../text/mrkdwn.ts';
import type { ProgressView } from './progress-view.ts';
import { contextLine, renderAnswers, renderSuspensions } from './questions.ts';

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
/** How many step outputs to show, tried in turn until the message fits. */
const OUTPUT_LEVELS = [12, 4, 0] as const;

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

  const rows = projectRun(treeOf(snapshot.stepGraph), snapshot);
  const stepsAt = blocks.length;
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: renderSteps(rows, 0) } });

  blocks.push(...renderSuspensions(view));

  blocks.push(...renderAnswers(view));

  if (status === 'success' && state.result !== undefined) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Result*\n${codeBlock(blockValue(state.result, 1500))}` },
    });
  }
  if (status === 'failed') {
    const failed = failedRow(rows);
    const message =
      state.error?.message ?? failed?.step?.error?.message ?? 'The run failed without an error message.';
    const where = failed ? ` at step ${stepName(failed.label, 100, 'code')}` : '';
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

  // Outputs are worth room but are not essential: as many as fit, the latest first.
  for (const outputs of OUTPUT_LEVELS) {
    const text = renderSteps(rows, outputs);
    const candidate = [...blocks];
    candidate[stepsAt] = { type: 'section', text: { type: 'mrkdwn', text } };
    if (
      outputs === 0 ||
      (text.length <= SLACK_LIMITS.sectionText &&
        candidate.length <= SLACK_LIMITS.messageBlocks &&
        textLength(candidate) <= SLACK_LIMITS.messageTextBudget)
    ) {
      blocks[stepsAt] = candidate[stepsAt]!;
      break;
    }
  }
  if (rows.length === 0) blocks.splice(stepsAt, 1);
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
        ? `${safeText(view.requester, 100)}${view.requesterPending ? ' (not yet known in Slack)' : ''}`
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
 * The step list: one line per row of the run's display tree (src/runs/graph.ts), children of
 * groups and nested workflows indented under them. Past `MAX_STEP_LINES`, the rows around the
 * run's frontier (the latest finished and the next pending ones) and every row that needs attention
 * stay, with the groups they belong to; each run of hidden rows collapses into one summary line
 * with its counts, in place. Up to `outputs` finished steps (the latest first; one that bailed or
 * asks again before them) show their output, summarised.
 */
function renderSteps(rows: readonly RunRow[], outputs: number): string {
  if (rows.length === 0) return '';
  const keep = new Set<number>();
  if (rows.length <= MAX_STEP_LINES) {
    for (let i = 0; i < rows.length; i++) keep.add(i);
  } else {
    rows.forEach((r, i) => {
      if (needsAttention(r) && keep.size < MAX_STEP_LINES) keep.add(i);
    });
    const frontier = rows.findLastIndex((r) => r.status !== 'pending' && r.status !== 'skipped');
    const half = Math.floor((MAX_STEP_LINES - keep.size) / 2);
    for (let i = Math.max(0, frontier - half + 1); i < rows.length && keep.size < MAX_STEP_LINES; i++)
      keep.add(i);
    // A row shown without the group or nested workflow it is in would read as a top-level step.
    for (const i of [...keep])
      for (let p = rows[i]!.parent; p !== -1 && !keep.has(p); p = rows[p]!.parent) keep.add(p);
  }
  const withOutput = outputRows(rows, keep, outputs);
  const lines: string[] = [];
  let hidden: RunRow[] = [];
  const flush = () => {
    if (hidden.length === 0) return;
    const counts = new Map<StepStatus, number>();
    for (const r of hidden) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([st, n]) => `${n} ${st}`).join(', ');
    lines.push(`${indent(hidden[0]!.depth)}…${hidden.length} more steps (${summary})`);
    hidden = [];
  };
  rows.forEach((row, i) => {
    if (keep.has(i)) {
      flush();
      lines.push(rowLine(row, withOutput.has(i)));
    } else hidden.push(row);
  });
  flush();
  return fitLines(lines, 3000, (n) => `…${n} more lines`);
}

/** The step that failed: the innermost failed row (a nested workflow fails with its step). */
function failedRow(rows: readonly RunRow[]): RunRow | undefined {
  let found = -1;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.status !== 'failed' || row.kind === 'parallel' || row.kind === 'branch') continue;
    if (found === -1 || row.parent === found || isWithin(rows, i, found)) found = i;
    else break;
  }
  return found === -1 ? undefined : rows[found];
}

function isWithin(rows: readonly RunRow[], i: number, ancestor: number): boolean {
  for (let p = rows[i]!.parent; p !== -1; p = rows[p]!.parent) if (p === ancestor) return true;
  return false;
}

function needsAttention(row: RunRow): boolean {
  return row.status !== 'success' && row.status !== 'skipped' && row.status !== 'pending';
}

/** The rows whose output is shown: bailed and asking-again ones first, then the latest finished. */
function outputRows(rows: readonly RunRow[], keep: ReadonlySet<number>, max: number): Set<number> {
  if (max <= 0) return new Set();
  const candidates: { i: number; rank: number; at: number }[] = [];
  rows.forEach((row, i) => {
    if (!keep.has(i) || !row.step || row.step.output === undefined) return;
    if (row.kind !== 'step' && row.kind !== 'workflow') return;
    const rank =
      row.status === 'bailed'
        ? 0
        : row.status === 'suspended' || row.status === 'running'
          ? 1
          : row.status === 'success'
            ? 2
            : -1;
    if (rank === -1) return;
    candidates.push({ i, rank, at: row.step.endedAt?.getTime() ?? row.step.suspendedAt?.getTime() ?? 0 });
  });
  candidates.sort((a, b) => a.rank - b.rank || b.at - a.at || b.i - a.i);
  return new Set(candidates.slice(0, max).map((c) => c.i));
}

function indent(depth: number): string {
  return '\u2003\u2003'.repeat(depth);
}

function rowLine(row: RunRow, showOutput: boolean): string {
  const pad = indent(row.depth);
  const emoji = row.notTaken ? ':heavy_minus_sign:' : STATUS_EMOJI[row.status];
  if (row.kind === 'parallel' || row.kind === 'branch') {
    const size = row.group?.size ?? 0;
    const what =
      row.kind === 'parallel'
        ? `*in parallel* · ${plural(size, 'step')} side by side`
        : `*branch* · ${row.group?.taken === undefined ? plural(size, 'path') : `${row.group.taken} of ${plural(size, 'path')} taken`}`;
    return `${pad}${emoji} ${what}${row.status === 'pending' ? '' : ` · ${row.status}`}`;
  }
  const step = row.step;
  let line = `${pad}${emoji} ${stepName(row.label, 80, 'code')} ${statusWord(row)}`;
  const duration = step ? stepDuration(step) : '';
  if (duration) line += ` · ${duration}`;
  line += details(row);
  const more = `\n${pad}      ↳ `;
  if (step?.writerOutput !== undefined && step.status === 'running') {
    line += `${more}${safeText(inlineValue(step.writerOutput, 120), 200)}`;
  }
  if (step?.status === 'failed' && step.error?.message) {
    line += `${more}${safeText(inlineValue(step.error.message, 150), 250)}`;
  }
  if (showOutput && step?.output !== undefined) {
    const latest = row.status === 'suspended' || row.status === 'running' ? 'latest output: ' : '';
    line += `${more}${latest}${safeText(summarize(step.output, 160), 250)}`;
  }
  return line;
}

function statusWord(row: RunRow): string {
  if (row.notTaken) return 'not taken';
  if (row.status === 'bailed') return 'finished early';
  if (row.kind === 'sleep' && row.status === 'waiting') return 'sleeping';
  if (row.status === 'suspended') return 'waiting for an answer';
  return row.status;
}

function details(row: RunRow): string {
  const parts: string[] = [];
  if (row.loop) {
    const kind = row.loop.loopType === 'dowhile' ? 'do-while loop' : 'do-until loop';
    const n = row.loop.iterations;
    const finished = row.status === 'success' || row.status === 'failed' || row.status === 'canceled';
    parts.push(
      n === undefined ? kind : finished ? `${kind}, ran ${plural(n, 'time')}` : `${kind}, iteration ${n}`,
    );
  }
  if (row.foreach) {
    const f = row.foreach;
    if (f.total !== undefined) parts.push(plural(f.total, 'item'));
    if (f.total !== undefined || f.done > 0) parts.push(`${f.done} done`);
    if (f.running > 0) parts.push(`${f.running} running`);
    if (f.waiting > 0) parts.push(`${f.waiting} waiting`);
    if (f.failed > 0) parts.push(`${f.failed} failed`);
    if (f.total === undefined && f.concurrency !== undefined) parts.push(`${f.concurrency} at a time`);
  } else if (row.step?.progress) {
    parts.push(`${row.step.progress.completed}/${row.step.progress.total}`);
  }
  if (row.sleep) {
    const { duration, until, computed } = row.sleep;
    const started = row.step?.startedAt;
    const ends =
      until ?? (started && duration !== undefined ? new Date(started.getTime() + duration) : undefined);
    if (row.status === 'pending' || row.status === 'skipped') {
      if (duration !== undefined) parts.push(`for ${formatDuration(duration)}`);
      else if (until) parts.push(`until ${slackDate(until)}`);
      else if (computed) parts.push('length set at run time');
    } else if (row.status === 'waiting' || row.status === 'running') {
      if (duration !== undefined) parts.push(`for ${formatDuration(duration)}`);
      if (ends) parts.push(`ends ${slackDate(ends)}`);
    } else if (duration !== undefined && !row.step?.endedAt) {
      parts.push(`for ${formatDuration(duration)}`);
    }
  }
  return parts.length > 0 ? ` · ${parts.join(' · ')}` : '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A value as people read it on one line: an object's first fields as `key: value`, an array's
 * length and first items, a string as it is; nested values compact. Not escaped.
 */
export function summarize(value: unknown, max = 160): string {
  if (typeof value !== 'object' || value === null) return inlineValue(value, max);
  if (Array.isArray(value)) {
    if (value.length === 0) return 'no items';
    const first = value.slice(0, 3).map((v) => inlineValue(v, 60));
    return truncate(
      `${plural(value.length, 'item')}: ${first.join(', ')}${value.length > 3 ? ', …' : ''}`,
      max,
    );
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return 'nothing';
  const parts = entries
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${inlineValue(v, typeof v === 'object' && v !== null ? 40 : 60)}`);
  if (entries.length > 4) parts.push(`+${entries.length - 4} more`);
  return truncate(parts.join(' · '), max);
}

function stepDuration(step: StepSnapshot): string {
  if (!step.startedAt) return '';
  const end = step.endedAt ?? step.suspendedAt;
  return end ? formatDuration(end.getTime() - step.startedAt.getTime()) : '';
}
