/**
 * Runs started anywhere: started through the Mastra server's own HTTP API (as another system
 * would), then found, posted once in the workflow's channel, answered in Slack, and kept in step
 * when they are answered or canceled outside Slack.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { type SlackEmulator, startSlackEmulator } from '../../src/emulator/index.ts';
import { parsePolicy } from '../../src/policy/load.ts';
import { startElsewhere as startRunElsewhere } from '../support/elsewhere.ts';
import { ALICE, BOB, CAROL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

const FINANCE = 'C0EMU0002'; // public; the bot is not a member but may post (chat:write.public)
const LIVE = 'C0EMU0001'; // general: a channel of its own, so posts here are not slowed by the others
const PRIVATE = 'C0NOSUCH1'; // no such channel (a wrong ID in the policy)

/** amount → a `review` gate asking for { approved } → done. */
function expenseWorkflow(id: string, delayMs = 0) {
  const input = z.object({ amount: z.number() });
  const prepare = createStep({
    id: 'prepare',
    inputSchema: input,
    outputSchema: input,
    execute: async ({ inputData }) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return inputData;
    },
  });
  const review = createStep({
    id: 'review',
    inputSchema: input,
    outputSchema: z.object({ approved: z.boolean() }),
    suspendSchema: z.object({ amount: z.number() }),
    resumeSchema: z.object({ approved: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ amount: inputData.amount });
      return { approved: resumeData.approved };
    },
  });
  return createWorkflow({ id, inputSchema: input, outputSchema: z.object({ approved: z.boolean() }) })
    .then(prepare)
    .then(review)
    .commit();
}

const policy = parsePolicy(
  `
admins: [${CAROL}]
workflows:
  expenseReport:
    approvers: [${ALICE}, ${BOB}]
    channel: ${FINANCE}
  liveReport:
    channel: ${LIVE}
    announce: all
  hiddenReport:
    channel: ${PRIVATE}
`,
  'elsewhere-policy.yaml',
);

let mastra: MastraTestServer;
let emulator: SlackEmulator;
let dir: string;
let h: Harness;

beforeAll(async () => {
  mastra = await startMastraServer({
    storageUrl: ':memory:',
    workflows: {
      expenseReport: expenseWorkflow('expense-report'),
      liveReport: expenseWorkflow('live-report', 1500),
      quietReport: expenseWorkflow('quiet-report'),
      hiddenReport: expenseWorkflow('hidden-report'),
      restartReport: expenseWorkflow('restart-report'),
    },
  });
  emulator = await startSlackEmulator();
  dir = mkdtempSync(join(tmpdir(), 'flowgate-elsewhere-'));
  h = await startHarness({ mastra, emulator, policy, dbPath: join(dir, 'shared.db') });
});
afterAll(async () => {
  await h?.close();
  await emulator?.close();
  await mastra?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a run the way another system would: Mastra's HTTP API, no Slack anywhere. */
const startElsewhere = (workflow: string, amount: number, resourceId?: string) =>
  startRunElsewhere(mastra, workflow, { amount }, resourceId);

async function status(workflow: string, runId: string): Promise<string> {
  return String((await h.mastraGet(`/api/workflows/${workflow}/runs/${runId}`)).status);
}

/** Top-level messages in a channel that are progress messages of `runId`. */
function postsOf(runId: string, channel = FINANCE, slack = emulator) {
  return slack.messages(channel).filter((m) => m.text.includes(runId));
}

const posted = (runId: string, check: (blocks: string) => boolean = () => true) =>
  waitFor(`the message of ${runId}`, () => {
    const message = h.progressMessage(runId);
    return message && check(message.blocks) ? message : undefined;
  });

describe('runs started outside Slack', () => {
  test('suspended: posted once in the channel, the requester by ID may not self-approve, an approver answers, the requester is told', async () => {
    const runId = await startElsewhere('expenseReport', 120, ALICE);
    const message = await posted(runId, (b) => b.includes('flowgate_respond'));
    expect(message.channel).toBe(FINANCE);
    expect(message.blocks).toContain(`requested by <@${ALICE}>`);
    expect(message.blocks).toContain('started outside Slack');
    await waitFor('the approvers are mentioned', () =>
      emulator.thread(FINANCE, message.ts).some((m) => m.text.includes(`<@${BOB}>`)),
    );
    // The requester is the starter: self-approval is off.
    const before = h.replies(ALICE).length;
    await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:review' });
    await waitFor('refused', () =>
      h
        .replies(ALICE)
        .slice(before)
        .some((t) => t.includes('does not allow approving your own run')),
    );
    await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:review', user: BOB });
    await posted(runId, (b) => b.includes('Succeeded'));
    await waitFor('the requester is told', () =>
      emulator
        .callsOf('chat.postMessage')
        .some((c) => String(c.params.text).startsWith('Your run of expense-report')),
    );
    // Exactly one message, whatever the checks since.
    await h.flowgate.elsewhere.checkNow();
    expect(postsOf(runId)).toHaveLength(1);
    // `runs` lists it with its requester and link.
    const listed = h.replies(ALICE).length;
    await h.slash('runs expenseReport');
    const reply = await waitFor('the run list', () => h.replies(ALICE).slice(listed).at(-1));
    expect(reply).toContain(runId);
    expect(reply).toContain(`outside Slack, requested by <@${ALICE}>`);
  });

  test('requesters by e-mail are looked up; anything else is shown as text, escaped', async () => {
    const byEmail = await startElsewhere('expenseReport', 1, 'carol@emulator.slack.local');
    const byText = await startElsewhere('expenseReport', 2, 'billing-bot <!channel>');
    expect((await posted(byEmail)).blocks).toContain(`requested by <@${CAROL}>`);
    const text = (await posted(byText)).blocks;
    expect(text).toContain('requested by billing-bot &lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    expect(emulator.callsOf('users.lookupByEmail').length).toBeGreaterThan(0);
  });

  test('answered outside Slack: the buttons go away, the message says so, and a later click is told', async () => {
    const runId = await startElsewhere('expenseReport', 7, BOB);
    const message = await posted(runId, (b) => b.includes('flowgate_respond'));
    const resumed = await fetch(`${mastra.url}/api/workflows/expenseReport/resume-async?runId=${runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ step: 'review', resumeData: { approved: true } }),
    });
    expect(resumed.status).toBe(200);
    const after = await posted(runId, (b) => b.includes('Succeeded'));
    expect(after.blocks).not.toContain('flowgate_respond');
    expect(after.blocks).toContain('answered outside Slack');
    const before = h.replies(ALICE).length;
    await h.click(message, 'flowgate_approve', {
      blockId: 'flowgate_step:review',
      value: JSON.parse(message.blocks)
        .flatMap((b: { elements?: { action_id: string; value: string }[] }) => b.elements ?? [])
        .find((e: { action_id: string }) => e.action_id === 'flowgate_approve').value,
    });
    await waitFor('told', () =>
      h
        .replies(ALICE)
        .slice(before)
        .some((t) => /answered outside Slack|no longer takes answers/.test(t)),
    );
  });

  test('canceled outside Slack: the message ends canceled without anyone clicking', async () => {
    const runId = await startElsewhere('expenseReport', 8);
    await posted(runId, (b) => b.includes('flowgate_respond'));
    await fetch(`${mastra.url}/api/workflows/expenseReport/runs/${runId}/cancel`, { method: 'POST' });
    const final = await posted(runId, (b) => b.includes('Canceled'));
    expect(final.blocks).not.toContain('flowgate_respond');
  });

  test('announce: all posts a run as soon as it is seen, before it waits for anyone', async () => {
    const runId = await startElsewhere('liveReport', 3);
    const early = await posted(runId);
    expect(early.channel).toBe(LIVE);
    expect(await status('liveReport', runId)).toBe('running');
    expect(early.text).toMatch(/Running|Starting/);
    await posted(runId, (b) => b.includes('flowgate_respond'));
    expect(postsOf(runId, LIVE)).toHaveLength(1);
  });

  test('workflows without a channel, and channels the bot cannot post in, get nothing; the latter is reported', async () => {
    const quiet = await startElsewhere('quietReport', 4);
    const hidden = await startElsewhere('hiddenReport', 5);
    await waitFor(
      'both suspended',
      async () =>
        (await status('quietReport', quiet)) === 'suspended' &&
        (await status('hiddenReport', hidden)) === 'suspended',
    );
    await h.flowgate.elsewhere.checkNow();
    await h.flowgate.elsewhere.checkNow();
    expect(await h.flowgate.store.getProgressMessage(quiet)).toBeUndefined();
    expect(await h.flowgate.store.getProgressMessage(hidden)).toBeUndefined();
    expect(
      emulator.callsOf('chat.postMessage').filter((c) => String(c.params.text).includes(quiet)),
    ).toHaveLength(0);
    // A channel that refused the bot is not tried again on every check.
    const tries = emulator.callsOf('chat.postMessage').filter((c) => c.params.channel === PRIVATE).length;
    expect(tries).toBeGreaterThan(0);
    await h.flowgate.elsewhere.checkNow();
    expect(emulator.callsOf('chat.postMessage').filter((c) => c.params.channel === PRIVATE)).toHaveLength(
      tries,
    );
    const problems = await h.flowgate.elsewhere.checkChannels();
    expect(problems).toEqual([expect.stringContaining(`cannot post in channel ${PRIVATE}`)]);
    expect(problems[0]).toContain('hiddenReport');
  });

  test('found at start-up after a restart, ended-while-down shown final, and two processes on one database post once', async () => {
    // This deployment (its own database) would post these runs too: only the ones below watch now.
    await h.flowgate.elsewhere.stop();
    const dbPath = join(dir, 'restart.db');
    // A workspace of its own, so the channel's posting rate is not shared with the tests above.
    const slack = await startSlackEmulator();
    const restartPolicy = parsePolicy(
      `workflows:\n  restartReport:\n    channel: ${FINANCE}\n`,
      'restart.yaml',
    );
    const first = await startHarness({ mastra, emulator: slack, policy: restartPolicy, dbPath });
    const endsWhileDown = await startElsewhere('restartReport', 10);
    await waitFor(
      'posted by the first process',
      async () => (await first.flowgate.store.getProgressMessage(endsWhileDown))?.ts || undefined,
    );
    await first.close();
    // While nobody watches: one run suspends, the one with a message is answered elsewhere.
    const whileDown = await startElsewhere('restartReport', 11);
    await waitFor('suspended', async () => (await status('restartReport', whileDown)) === 'suspended');
    await fetch(`${mastra.url}/api/workflows/restartReport/resume-async?runId=${endsWhileDown}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ step: 'review', resumeData: { approved: false } }),
    });
    // Two processes come up on the same database at once.
    const [a, b] = await Promise.all([
      startHarness({ mastra, emulator: slack, policy: restartPolicy, dbPath }),
      startHarness({ mastra, emulator: slack, policy: restartPolicy, dbPath }),
    ]);
    try {
      await waitFor(
        'the run found at start-up',
        async () => (await a.flowgate.store.getProgressMessage(whileDown))?.ts || undefined,
      );
      await waitFor(
        'the run that ended while down shown final',
        async () => (await a.flowgate.store.getProgressMessage(endsWhileDown))?.final,
      );
      for (let i = 0; i < 3; i++)
        await Promise.all([a.flowgate.elsewhere.checkNow(), b.flowgate.elsewhere.checkNow()]);
      expect(postsOf(whileDown, FINANCE, slack)).toHaveLength(1);
      expect(postsOf(endsWhileDown, FINANCE, slack)).toHaveLength(1);
      const ended = slack.message(FINANCE, postsOf(endsWhileDown, FINANCE, slack)[0]!.ts);
      expect(ended?.text).toContain('Succeeded');
    } finally {
      await a.close();
      await b.close();
      await slack.close();
    }
  });
});
