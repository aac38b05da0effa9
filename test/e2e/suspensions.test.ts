/**
 * Every question answered exactly, through the real Bolt app, the Slack emulator and a real Mastra
 * server: a `.foreach()` whose iterations each ask, a loop that asks twice, resume labels on the
 * buttons and the form, and a workflow that needs an initial state (inline and in the form).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildForm, stateFromInitial } from '../../src/forms/index.ts';
import { MastraClient } from '../../src/mastra/client.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';
import { ALICE, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { createSuspensionWorkflows } from '../support/mastra/suspension-workflows.ts';

let h: Harness;
let mastra: MastraTestServer;
let client: MastraClient;
beforeAll(async () => {
  mastra = await startMastraServer({ workflows: createSuspensionWorkflows() });
  h = await startHarness({ mastra });
  client = new MastraClient({ baseUrl: mastra.url });
});
afterAll(async () => {
  await client?.close();
  await h?.close();
  await mastra?.close();
});

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { action_id?: string; value?: string; text?: { text: string } }[];
}
type Message = { blocks: string };

const blocksOf = (m: Message) => JSON.parse(m.blocks) as Block[];
/** The question's blocks: its heading and payload fields before its buttons, then the buttons. */
function question(m: Message, blockId: string): { text: string; buttons: Block['elements'] } | undefined {
  const blocks = blocksOf(m);
  const at = blocks.findIndex((b) => b.type === 'actions' && b.block_id === blockId);
  if (at === -1) return undefined;
  const start = blocks.slice(0, at).findLastIndex((b) => b.text?.text.includes(':raised_hand:'));
  return { text: JSON.stringify(blocks.slice(start, at)), buttons: blocks[at]!.elements };
}
function buttonValue(m: Message, blockId: string, actionId: string): string {
  const value = question(m, blockId)?.buttons?.find((e) => e.action_id === actionId)?.value;
  if (!value) throw new Error(`no ${actionId} in ${blockId}`);
  return value;
}
function answerLines(m: Message): string[] {
  return blocksOf(m)
    .filter((b) => b.type === 'context' && JSON.stringify(b).includes(':speech_balloon:'))
    .map((b) => JSON.stringify(b));
}
async function lastReply(before: number): Promise<string> {
  return waitFor('an ephemeral reply', () => {
    const replies = h.replies(ALICE);
    return replies.length > before ? replies.at(-1) : undefined;
  });
}
const succeeded = (runId: string) => h.message(runId, (m) => m.text.includes('Succeeded'));
const ITEM = (i: number) => `flowgate_step:review-item#${i}`;

describe('a .foreach() whose iterations each wait for an answer', () => {
  test('each item its own question; answering one resumes only it; first answer wins per item', async () => {
    const runId = await h.startRun(
      'start reviewItemsWorkflow [{"name": "apple"}, {"name": "pear"}, {"name": "plum"}]',
    );
    const message = await h.message(runId, (m) => [0, 1, 2].every((i) => question(m, ITEM(i))));
    const names = ['apple', 'pear', 'plum'];
    for (const [i, name] of names.entries()) {
      const q = question(message, ITEM(i))!;
      // Its own payload, its own label on its Respond button, its own item number.
      expect(q.text).toContain(name);
      for (const other of names.filter((n) => n !== name)) expect(q.text).not.toContain(other);
      expect(q.text).toContain(`item ${i + 1} of 3`);
      expect(q.buttons?.map((b) => b.text?.text)).toEqual([`Review ${name}`, 'Approve', 'Reject']);
      expect(JSON.parse(q.buttons![0]!.value!)).toMatchObject({ i });
    }

    // Approving "pear" resumes that item only.
    await h.click(message, 'flowgate_approve', {
      blockId: ITEM(1),
      value: buttonValue(message, ITEM(1), 'flowgate_approve'),
    });
    const afterPear = await h.message(runId, (m) => !question(m, ITEM(1)) && answerLines(m).length === 1);
    expect(question(afterPear, ITEM(0))).toBeDefined();
    expect(question(afterPear, ITEM(2))).toBeDefined();
    expect(answerLines(afterPear)[0]).toContain(`*review-item* · item 2 answered by <@${ALICE}>`);
    const stored = (await client.getWorkflow('reviewItemsWorkflow').runById(runId)).steps?.['review-item'];
    const meta = stored?.suspendPayload?.__workflow_meta as { foreachOutput: { status: string }[] };
    expect(meta.foreachOutput.map((o) => o.status)).toEqual(['suspended', 'success', 'suspended']);

    // A second click on pear's (stale) button is told who answered; nothing else moves.
    const before = h.replies(ALICE).length;
    await h.click(message, 'flowgate_reject', {
      blockId: ITEM(1),
      value: buttonValue(message, ITEM(1), 'flowgate_reject'),
    });
    expect(await lastReply(before)).toContain(`<@${ALICE}> already answered item 2 of this step`);

    // "apple" through its form: titled by its label, recorded with its iteration.
    await h.click(afterPear, 'flowgate_respond', {
      blockId: ITEM(0),
      value: buttonValue(afterPear, ITEM(0), 'flowgate_respond'),
    });
    const view = await h.answerForm(ALICE, runId);
    expect(view.title?.text).toBe('Review apple');
    expect(JSON.stringify(view.blocks)).toContain('apple');
    expect(JSON.stringify(view.blocks)).not.toContain('plum');
    expect(await h.flowgate.store.getForm(view.id)).toMatchObject({
      stepPath: ['review-item'],
      forEachIndex: 0,
    });
    await h.submit(view.id, await h.formValues('reviewItemsWorkflow', 'review-item', { approved: false }));
    const afterApple = await h.message(runId, (m) => !question(m, ITEM(0)) && answerLines(m).length === 2);
    expect(question(afterApple, ITEM(2))).toBeDefined();
    expect((await h.mastraGet(`/api/workflows/reviewItemsWorkflow/runs/${runId}`)).status).toBe('suspended');

    // The last item ends the run, with every item's own answer.
    await h.click(afterApple, 'flowgate_approve', {
      blockId: ITEM(2),
      value: buttonValue(afterApple, ITEM(2), 'flowgate_approve'),
    });
    const final = await succeeded(runId);
    expect(answerLines(final).join('\n')).toMatch(
      /item 1 answered[\s\S]*item 2 answered[\s\S]*item 3 answered|item 2 answered[\s\S]*item 1 answered[\s\S]*item 3 answered/,
    );
    const result = (await client.getWorkflow('reviewItemsWorkflow').runById(runId)).result;
    expect(result).toEqual([
      { name: 'apple', approved: false },
      { name: 'pear', approved: true },
      { name: 'plum', approved: true },
    ]);
  });
});

describe('a loop that asks twice', () => {
  test('the second question is answerable, the first answer shows as history, and labels name both', async () => {
    const runId = await h.startRun('start askLoopWorkflow {"turn": 1}');
    // The label on the button: from the stored run, read once the stream has said the step waits.
    const first = await h.message(runId, (m) => {
      const q = question(m, 'flowgate_step:ask');
      return (
        q?.text.includes('Question 1') === true &&
        q.buttons?.[0]?.text?.text === 'Answer the question of this turn'
      );
    });
    await h.click(first, 'flowgate_respond', { blockId: 'flowgate_step:ask' });
    const view = await h.answerForm(ALICE, runId);
    // The label is the form's title, fitted to Slack's 24 characters.
    expect(String(view.title?.text).length).toBeLessThanOrEqual(24);
    expect(view.title?.text).toMatch(/^Answer the question/);
    await h.submit(view.id, await h.formValues('askLoopWorkflow', 'ask', { answer: 'go on' }));

    const second = await h.message(
      runId,
      (m) => question(m, 'flowgate_step:ask')?.text.includes('Question 2') === true,
    );
    // The answer to question 1 is history, not the answer to question 2.
    expect(answerLines(second)).toHaveLength(1);
    expect(answerLines(second)[0]).toContain(`earlier: *ask* answered by <@${ALICE}>`);
    expect(answerLines(second)[0]).toContain('go on');
    expect(question(second, 'flowgate_step:ask')?.text).not.toContain('go on');

    // Question 1's (stale) button names a question that was asked again: the person is told so.
    await h.click(first, 'flowgate_respond', {
      blockId: 'flowgate_step:ask',
      value: buttonValue(first, 'flowgate_step:ask', 'flowgate_respond'),
    });
    await waitFor('the refusal', () =>
      h.replies(ALICE).some((t) => t.includes('has asked again since that question was shown')),
    );

    await h.click(second, 'flowgate_respond', { blockId: 'flowgate_step:ask' });
    const again = await waitFor('the second form', () =>
      h.emulator
        .openViews(ALICE)
        .find(
          (v) =>
            v.id !== view.id &&
            v.callback_id === 'flowgate_answer_form' &&
            JSON.stringify(v.blocks).includes(runId),
        ),
    );
    await h.submit(again.id, await h.formValues('askLoopWorkflow', 'ask', { answer: 'stop' }));
    const final = await succeeded(runId);
    const lines = answerLines(final);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('earlier: *ask*');
    expect(lines[0]).toContain('go on');
    expect(lines[1]).not.toContain('earlier:');
    expect(lines[1]).toContain('stop');
    // Each question had its own first-answer-wins record.
    expect((await h.flowgate.store.listAnswers(runId)).map((a) => a.state)).toEqual(['resumed', 'resumed']);
  });
});

describe('a workflow that needs an initial state', () => {
  const runsOf = async () => (await client.getWorkflow('teamStateWorkflow').runs()).total;

  test('inline: state={…} after the inputs starts it; a missing or wrong state is refused before any run exists', async () => {
    const created = await runsOf();
    const posted = h.runIds().length;
    let before = h.replies(ALICE).length;
    await h.slash('start teamStateWorkflow {"title": "t"}');
    expect(await lastReply(before)).toMatch(/needs an initial state[\s\S]*`team`[\s\S]*state=\{…\}/);
    before = h.replies(ALICE).length;
    await h.slash('start teamStateWorkflow title=t state={"team": "ops", "limit": 99}');
    expect(await lastReply(before)).toMatch(/initial state doesn't fit[\s\S]*`limit`/);
    before = h.replies(ALICE).length;
    await h.slash('start teamStateWorkflow title=t state={"team": "ops"');
    expect(await lastReply(before)).toContain('unclosed');
    expect(h.runIds().length).toBe(posted);
    expect(await runsOf()).toBe(created);

    const runId = await h.startRun(
      'start teamStateWorkflow {"title": "t"} state={"team": "ops", "limit": 3}',
    );
    const final = await succeeded(runId);
    expect(final.blocks).toContain('ops');
    expect((await client.getWorkflow('teamStateWorkflow').runById(runId)).result).toEqual({
      title: 't',
      team: 'ops',
      limit: 3,
    });
  });

  test('the start form has a section of its own for the state; field errors there, nothing created', async () => {
    const created = await runsOf();
    await h.slash('start teamStateWorkflow');
    const view = await waitFor('the start form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_start_form'),
    );
    const ids = (view.blocks as unknown as Block[]).map((b) => b.block_id);
    expect(ids).toEqual(expect.arrayContaining(['f:title', 'state:f:team', 'state:f:limit']));
    expect(JSON.stringify(view.blocks)).toContain('Initial state');
    const info = await client.getWorkflow('teamStateWorkflow').details();
    const stateValues = (state: unknown) =>
      Object.fromEntries(
        Object.entries(
          stateFromInitial(buildForm(info.stateSchema as JsonSchema, { initial: state, maxBlocks: 20 })),
        ).map(([k, v]) => [`state:${k}`, v]),
      ) as Record<string, Record<string, unknown>>;
    const inputs = await h.formValues('teamStateWorkflow', undefined, { title: 'from the form' });

    const bad = await h.submit(view.id, { ...inputs, ...stateValues({ team: 'ops', limit: 0 }) });
    expect(bad.body).toMatchObject({ response_action: 'errors' });
    expect(Object.keys((bad.body as { errors: Record<string, string> }).errors)).toEqual(['state:f:limit']);
    expect(await runsOf()).toBe(created);

    const before = h.runIds().length;
    const good = await h.submit(view.id, { ...inputs, ...stateValues({ team: 'platform', limit: 2 }) });
    expect(good.body).toBe('');
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    await succeeded(runId);
    expect((await client.getWorkflow('teamStateWorkflow').runById(runId)).result).toEqual({
      title: 'from the form',
      team: 'platform',
      limit: 2,
    });
  });
});
