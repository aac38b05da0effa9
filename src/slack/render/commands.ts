/**
 * Pure renderers of the answers to slash commands: help, the workflow list (a page at a time),
 * recent runs, notices. Each answer is fitted to Slack's limits (../fit.ts) before it is returned.
 */
import type { KnownBlock } from '@slack/types';
import type { RunStatus } from '../../mastra/types.ts';
import { ACTION, encodeStartRef } from '../ids.ts';
import { SLACK_LIMITS } from '../limits.ts';
import { fitLines, fitMessage, textLength } from '../text/fit.ts';
import { code, mentionUser, safeText, slackDate } from '../text/mrkdwn.ts';
import { statusEmoji, statusLabel } from './run-message.ts';

export interface Reply {
  text: string;
  blocks?: KnownBlock[];
}

/** The command list; `unknownVerb` (what the person typed) is named first when given. */
export function renderHelp(command: string, unknownVerb?: string): Reply {
  const c = safeText(command, 40);
  const lines = [
    unknownVerb
      ? `I don't know ${code(unknownVerb, 40)}. Here is what I can do:`
      : '*Flowgate* runs Mastra workflows from Slack.',
    '',
    `\`${c} list [page]\` — the workflows you can start, a page at a time`,
    `\`${c} start <workflow> [inputs]\` — start a run; inputs as JSON (\`{"amount": 5}\`) or \`key=value\` pairs. With no inputs, a form opens when the workflow needs some. A workflow with a state schema takes its initial state last, as \`state={"team": "ops"}\` (or in the form).`,
    `\`${c} runs <workflow> [status]\` — recent runs (status: running, suspended, success, failed, canceled, …)`,
    `\`${c} status <run id>\` — where a run is now`,
    `\`${c} cancel <run id>\` — cancel a run you started`,
    `\`${c} help\` — this message`,
  ];
  const text = lines.join('\n');
  return fitMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

export interface WorkflowListItem {
  /** Registry key. */
  key: string;
  /** The workflow's own id. */
  id: string;
  description?: string;
  stepCount?: number;
}

export interface ListOptions {
  /** 1-based page (default 1). */
  page?: number;
  /** The slash command, for the "next page" hint (default `/flowgate`). */
  command?: string;
}

/** Descriptions are trimmed to this many characters in the list. */
const DESCRIPTION_MAX = 300;

/**
 * The workflows, each with a Start button, as many per page as fit one message; a page that does
 * not show them all ends with how many more there are and the command for the next page.
 */
export function renderWorkflowList(items: WorkflowListItem[], options: ListOptions = {}): Reply {
  if (items.length === 0) return renderNotice('The Mastra server has no workflows yet.');
  const command = safeText(options.command ?? '/flowgate', 40);
  const blocks = items.map((item) => workflowBlock(item));
  const pages = listPages(blocks, items.length, command);
  const page = options.page ?? 1;
  const range = pages[page - 1];
  if (!range) {
    const last = pages.length;
    return renderNotice(
      `There is no page ${page}: the ${items.length} workflows fit on ${last} page${last === 1 ? '' : 's'}. Try \`${command} list${last === 1 ? '' : ` ${last}`}\`.`,
    );
  }
  const [start, end] = range;
  const shown: KnownBlock[] = [
    listHeader(items.length, page, pages.length, start, end),
    ...blocks.slice(start, end),
  ];
  if (end < items.length) shown.push(listFooter(items.length - end, page + 1, command));
  return fitMessage({ text: `${items.length} workflows`, blocks: shown });
}

function workflowBlock(item: WorkflowListItem): KnownBlock {
  const description = item.description ? `\n${safeText(item.description, DESCRIPTION_MAX)}` : '';
  const steps =
    item.stepCount === undefined ? '' : ` · ${item.stepCount} step${item.stepCount === 1 ? '' : 's'}`;
  const block: KnownBlock = {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: `*${safeText(item.id, 150)}* ${code(item.key, 100)}${steps}${description}`,
    },
    accessory: {
      type: 'button',
      action_id: ACTION.start,
      text: { type: 'plain_text', text: 'Start' },
      value: encodeStartRef(item.key),
    },
  };
  // Measured as it will be sent (a Start button whose value cannot be carried is left out).
  return fitMessage({ text: '', blocks: [block] }).blocks?.[0] ?? block;
}

function listHeader(total: number, page: number, pages: number, start: number, end: number): KnownBlock {
  const count = `*${total} workflow${total === 1 ? '' : 's'}*`;
  const text = pages > 1 ? `${count} · page ${page} of ${pages} (${start + 1}–${end})` : count;
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function listFooter(left: number, nextPage: number, command: string): KnownBlock {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `… and ${left} more: \`${command} list ${nextPage}\`` }],
  };
}

/**
 * Page boundaries `[start, end)`, filled greedily: each page takes as many workflows as fit one
 * message next to the largest header and footer a page can have.
 */
function listPages(blocks: readonly KnownBlock[], total: number, command: string): [number, number][] {
  const big = 10 ** String(total).length;
  const reserved = [listHeader(total, big, big, big, big), listFooter(big, big, command)];
  const budget = SLACK_LIMITS.messageTextBudget - textLength(reserved);
  const perPage = SLACK_LIMITS.messageBlocks - reserved.length;
  const pages: [number, number][] = [];
  let start = 0;
  while (start < blocks.length) {
    let end = start;
    let size = 0;
    while (end < blocks.length && end - start < perPage) {
      const next = size + textLength(blocks[end]);
      if (next > budget && end > start) break;
      size = next;
      end++;
    }
    pages.push([start, end]);
    start = end;
  }
  return pages;
}

export interface RunListItem {
  runId: string;
  status: RunStatus;
  starter: string | null;
  /** Who asked for a run started elsewhere, when it is no Slack user (its `resourceId`). */
  requester?: string;
  /** Started outside Slack (not from a slash command or a form). */
  elsewhere?: boolean;
  createdAt: Date;
  permalink?: string;
}

export function renderRunList(
  workflowName: string,
  items: RunListItem[],
  total: number,
  status?: string,
  /** Runs among the latest that the reader may not see: counted, never shown. */
  hidden = 0,
): Reply {
  const filter = status ? ` with status ${code(status, 30)}` : '';
  const notShown =
    hidden > 0
      ? `\nNot shown: ${hidden} of the latest, which you may not see (in a conversation you are not in, or the policy limits who may see them).`
      : '';
  if (items.length === 0) {
    return renderNotice(
      hidden > 0
        ? `No runs of ${safeText(workflowName, 150)}${filter} that you may see.${notShown}`
        : `No runs of ${safeText(workflowName, 150)}${filter} yet.`,
    );
  }
  const lines = items.map((run) => {
    const requester = run.starter
      ? mentionUser(run.starter)
      : run.requester
        ? safeText(run.requester, 80)
        : undefined;
    const who = run.elsewhere
      ? requester
        ? `outside Slack, requested by ${requester}`
        : 'outside Slack'
      : (requester ?? 'outside Slack');
    const link = run.permalink ? ` · <${run.permalink}|progress>` : '';
    return `${statusEmoji(run.status)} ${code(run.runId, 60)} ${statusLabel(run.status).toLowerCase()} · ${who} · ${slackDate(run.createdAt)}${link}`;
  });
  const title = `*Runs of ${safeText(workflowName, 150)}*${filter}`;
  const more = `${total > items.length + hidden ? `\nShowing the latest ${items.length + hidden} of ${total}.` : ''}${notShown}`;
  const room = SLACK_LIMITS.sectionText - title.length - more.length - 1;
  const body = fitLines(lines, room, (n) => `…and ${n} more not shown.`);
  const text = `${title}\n${body}${more}`;
  return fitMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

/** One plain message (an error or a confirmation); `text` must already be safe mrkdwn. */
export function renderNotice(text: string): Reply {
  return fitMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}
