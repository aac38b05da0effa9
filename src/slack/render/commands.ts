/** Pure renderers of the answers to slash commands: help, the workflow list, recent runs. */
import type { KnownBlock } from '@slack/types';
import type { RunStatus } from '../../mastra/types.ts';
import { ACTION, encodeStartRef } from '../ids.ts';
import { code, mentionUser, safeText, slackDate, truncate } from '../mrkdwn.ts';
import { statusEmoji, statusLabel } from './progress.ts';

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
    `\`${c} list\` — the workflows you can start`,
    `\`${c} start <workflow> [inputs]\` — start a run; inputs as JSON (\`{"amount": 5}\`) or \`key=value\` pairs. With no inputs, a form opens when the workflow needs some.`,
    `\`${c} runs <workflow> [status]\` — recent runs (status: running, suspended, success, failed, canceled, …)`,
    `\`${c} status <run id>\` — where a run is now`,
    `\`${c} cancel <run id>\` — cancel a run you started`,
    `\`${c} help\` — this message`,
  ];
  const text = lines.join('\n');
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

export interface WorkflowListItem {
  /** Registry key. */
  key: string;
  /** The workflow's own id. */
  id: string;
  description?: string;
  stepCount?: number;
}

export function renderWorkflowList(items: WorkflowListItem[]): Reply {
  if (items.length === 0) {
    return { text: 'The Mastra server has no workflows yet.' };
  }
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*${items.length} workflow${items.length === 1 ? '' : 's'}*` },
    },
  ];
  const shown = items.slice(0, 45);
  for (const item of shown) {
    const description = item.description ? `\n${safeText(item.description, 400)}` : '';
    const steps =
      item.stepCount === undefined ? '' : ` · ${item.stepCount} step${item.stepCount === 1 ? '' : 's'}`;
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*${safeText(item.id, 150)}* ${code(item.key, 100)}${steps}${description}`, 3000),
      },
      accessory: {
        type: 'button',
        action_id: ACTION.start,
        text: { type: 'plain_text', text: 'Start' },
        value: encodeStartRef(item.key),
      },
    });
  }
  if (items.length > shown.length) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${items.length - shown.length} more.` }],
    });
  }
  return { text: `${items.length} workflows`, blocks };
}

export interface RunListItem {
  runId: string;
  status: RunStatus;
  starter: string | null;
  createdAt: Date;
  permalink?: string;
}

export function renderRunList(
  workflowName: string,
  items: RunListItem[],
  total: number,
  status?: string,
): Reply {
  const filter = status ? ` with status ${code(status, 30)}` : '';
  if (items.length === 0) {
    return { text: `No runs of ${safeText(workflowName, 150)}${filter} yet.` };
  }
  const lines = items.map((run) => {
    const who = run.starter ? mentionUser(run.starter) : 'outside Slack';
    const link = run.permalink ? ` · <${run.permalink}|progress>` : '';
    return `${statusEmoji(run.status)} ${code(run.runId, 60)} ${statusLabel(run.status).toLowerCase()} · ${who} · ${slackDate(run.createdAt)}${link}`;
  });
  const more = total > items.length ? `\nShowing the latest ${items.length} of ${total}.` : '';
  const text = truncate(
    `*Runs of ${safeText(workflowName, 150)}*${filter}\n${lines.join('\n')}${more}`,
    3000,
  );
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** One plain message (an error or a confirmation); `text` must already be safe mrkdwn. */
export function renderNotice(text: string): Reply {
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }] };
}
