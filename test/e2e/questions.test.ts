/**
 * Each question decided on its own, end to end (the real Bolt app, the Slack emulator, a real Mastra
 * server): a loop's new question waits its own escalation window; a step inside a nested workflow
 * is decided, named and mentioned by its full path, with its buttons as they appear; its answer in
 * Slack is not taken for one outside it; a button value from another run's message is refused
 * for what it is; people who may answer but cannot read the run's conversation are asked by DM.
 */
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { parsePolicy } from '../../src/policy/load.ts';
import { encodeSuspensionRef } from '../../src/slack/ids.ts';
import { ALICE, BOB, CAROL, type Harness, ONCALL_GROUP, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

/** dountil(ask) until the answer is "stop": each turn asks a new question, labelled. */
function loopWorkflow(id: string): AnyWorkflow {
  const ask = createStep({
    id: 'ask',
    inputSchema: z.object({ turn: z.number(), last: z.string().optional() }),
    outputSchema: z.object({ turn: z.number(), last: z.string() }),
    suspendSchema: z.object({ question: z.string() }),
    resumeSchema: z.object({ answer: z.string() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData)
        return suspend({ question: `Question ${inputData.turn}` }, { resumeLabel: 'Answer this turn' });
      return { turn: inputData.turn + 1, last: resumeData.answer };
    },
  });
  return createWorkflow({
    id,
    inputSchema: z.object({ turn: z.number() }),
    outputSchema: z.object({ turn: z.number(), last: z.string() }),
  })
    .dountil(ask, async ({ inputData }) => inputData.last === 'stop')
    .commit() as unknown as AnyWorkflow;
}

/** prepare → gates (a nested workflow) whose `sign-off` asks yes or no. */
function nestedWorkflow(id: string): AnyWorkflow {
  const release = z.object({ version: z.string() });
  const signOff = createStep({
    id: 'sign-off',
    inputSchema: release,
    outputSchema: z.object({ version: z.string(), approved: z.boolean() }),
    suspendSchema: z.object({ version: z.string() }),
    resumeSchema: z.object({ approved: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ version: inputData.version });
      return { version: inputData.version, approved: resumeData.approved };
    },
  });
  const gates = createWorkflow({
    id: 'gates',
    inputSchema: release,
    outputSchema: z.object({ version: z.string(), approved: z.boolean() }),
  })
    .then(signOff)
    .commit();
  const prepare = createStep({
    id: 'prepare',
    inputSchema: release,
    outputSchema: release,
    execute: async ({ inputData }) => ({ version: inputData.version.trim() }),
  });
  return createWorkflow({
    id,
    inputSchema: release,
    outputSchema: z.object({ version: z.string(), approved: z.boolean() }),
  })
    .then(prepare)
    .then(gates)
    .commit() as unknown as AnyWorkflow;
}

const policy = parsePolicy(
  `
workflows:
  loopGate: { approvers: [${BOB}], escalateAfter: 1s, escalateTo: [${CAROL}] }
  byPath:
    approvers: [${CAROL}]
    steps:
      "gates.sign-off": { approvers: [${BOB}] }
  byStepId:
    approvers: [${CAROL}]
    steps:
      sign-off: { approvers: [${BOB}] }
  unseen: { approvers: [${ONCALL_GROUP}, ${CAROL}] }
  unseenLater: { approvers: [${BOB}], escalateAfter: 1s, escalateTo: [${CAROL}] }
`,
  'questions-policy.yaml',
);

/** While set, the Mastra server holds back its answer to a resume: the run goes on, Flowgate does not hear of it. */
let held: { release: () => void; done: Promise<void> } | undefined;
let mastra: MastraTestServer;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({
    workflows: {
      loopGate: loopWorkflow('loopGate'),
      byPath: nestedWorkflow('byPath'),
      byStepId: nestedWorkflow('byStepId'),
      unseen: nestedWorkflow('unseen'),
      unseenLater: nestedWorkflow('unseenLater'),
    },
    intercept: async (request, pass) => {
      const gate = held;
      if (!gate || !new URL(request.url).pathname.endsWith('/resume-stream')) return undefined;
      const reply = await pass();
      await gate.done;
      return reply;
    },
  });
  h = await startHarness({ policy, mastra });
});
afterAll(async () => {
  held?.release();
  await h?.close();
  await mastra?.close();
});

const thread = (message: { channel: string; ts: string }) =>
  h.emulator.thread(message.channel, message.ts).map((m) => m.text);
const blockId = (step: string) => `flowgate_step:${step}`;
async function stored(workflow: string, runId: string) {
  return (await h.mastraGet(`/api/workflows/${workflow}/runs/${runId}`)) as {
    status: string;
    steps: Record<string, { status: string; suspendedAt?: number; suspendPayload?: { question?: string } }>;
  };
}

describe('a loop asking again: its new question waits its own escalation window', () => {
  test('the people escalated to on the first question may not answer the second before its own window has passed', async () => {
    const runId = await h.startRun('start loopGate {"turn": 1}', ALICE);
    const first = await h.message(runId, (m) => m.blocks.includes('Question 1'));
    // The first question waits past its window: Carol may answer it from now on.
    await waitFor('the first question escalated', () =>
      thread(first).some((t) => t.includes(`<@${CAROL}>`) && t.includes('you may answer it now')),
    );

    // Bob answers it; the loop asks again on the server while Flowgate has not yet heard of it.
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    held = { release, done };
    try {
      await h.click(first, 'flowgate_respond', { user: BOB, blockId: blockId('ask') });
      const form = await h.answerForm(BOB, runId);
      await h.submit(form.id, await h.formValues('loopGate', 'ask', { answer: 'go on' }), { user: BOB });
      const second = await waitFor('the second question on the server', async () => {
        const ask = (await stored('loopGate', runId)).steps.ask;
        return ask?.status === 'suspended' && ask.suspendPayload?.question === 'Question 2'
          ? ask.suspendedAt
          : undefined;
      });
      // Carol clicks the second question's button at once: it has not waited a second.
      const value = encodeSuspensionRef(runId, { path: ['ask'], suspendedAt: new Date(second) });
      await h.click(first, 'flowgate_respond', { user: CAROL, blockId: blockId('ask'), value });
      await waitFor('carol refused', () => h.replies(CAROL).some((t) => t.includes('not an approver')));
      expect(h.emulator.openViews(CAROL).some((v) => v.callback_id === 'flowgate_answer_form')).toBe(false);
    } finally {
      held = undefined;
      release();
    }
    // The message agrees: the second question is Bob's until its own window has passed.
    const asked = await h.message(
      runId,
      (m) => m.blocks.includes('Question 2') && m.blocks.includes('Escalates to'),
    );
    expect(asked.blocks).toContain(`Who may answer: <@${BOB}>`);
    expect(asked.blocks).not.toContain(`<@${BOB}>, <@${CAROL}>`);
    const escalated = await h.message(runId, (m) => m.blocks.includes(`<@${BOB}>, <@${CAROL}>`));
    await h.click(escalated, 'flowgate_respond', { user: CAROL, blockId: blockId('ask') });
    const form = await h.answerForm(CAROL, runId);
    await h.submit(form.id, await h.formValues('loopGate', 'ask', { answer: 'stop' }), { user: CAROL });
    const final = await h.message(runId, (m) => m.text.includes('Succeeded'));
    // Every mention named the button as it appeared: the step's resume label.
    const mentions = await waitFor('both mentions', () => {
      const found = thread(final).filter((t) => t.includes('is waiting for your answer'));
      return found.length === 2 && found;
    });
    for (const mention of mentions) expect(mention).toContain('Use *Answer this turn* on the message above');
  });
});

describe('a step inside a nested workflow', () => {
  test.each(['byPath', 'byStepId'])(
    '%s: the thread mentions its own approvers, names it as the step list does and its buttons as they appear; answered in Slack, not outside it',
    async (workflow) => {
      const runId = await h.startRun(`start ${workflow} {"version": "2.1"}`, ALICE);
      const message = await h.message(runId);
      expect(message.blocks).toContain(`Who may answer: <@${BOB}>`);
      const mention = await waitFor('the mention', () =>
        thread(message).find((t) => t.includes('is waiting for your answer')),
      );
      expect(mention).toContain(`<@${BOB}>`);
      expect(mention).not.toContain(`<@${CAROL}>`);
      expect(mention).toContain('*gates › sign-off*');
      expect(mention).toContain('Use *Approve* or *Reject* (or *Respond…*)');

      // The check on click is the same decision: Carol (the workflow's approvers) is refused.
      const block = blockId('gates.sign-off');
      await h.click(message, 'flowgate_approve', { user: CAROL, blockId: block });
      await waitFor('carol refused', () => h.replies(CAROL).some((t) => t.includes('not an approver')));
      expect((await stored(workflow, runId)).status).toBe('suspended');

      await h.click(message, 'flowgate_approve', { user: BOB, blockId: block });
      const final = await h.message(runId, (m) => m.text.includes('Succeeded'));
      expect(final.blocks).toContain(`answered by <@${BOB}>`);
      expect(final.blocks).not.toContain('answered outside Slack');
    },
  );
});

describe('refusals say why', () => {
  test("a button value from another run's message is refused as such; nothing resumes", async () => {
    const runA = await h.startRun('start byPath {"version": "1.0"}', ALICE);
    const runB = await h.startRun('start byPath {"version": "1.1"}', ALICE);
    const [a, b] = [await h.message(runA), await h.message(runB)];
    const value = (JSON.parse(a.blocks) as { block_id?: string; elements?: { value?: string }[] }[]).find(
      (block) => block.block_id === blockId('gates.sign-off'),
    )?.elements?.[0]?.value;
    expect(value).toBeDefined();
    await h.click(b, 'flowgate_approve', { user: BOB, blockId: blockId('gates.sign-off'), value: value! });
    const reply = await waitFor('bob told', () => h.replies(BOB).at(-1));
    expect(reply).toContain("That button belongs to another run's message");
    expect(reply).not.toContain('asked again');
    expect((await stored('byPath', runA)).status).toBe('suspended');
    expect((await stored('byPath', runB)).status).toBe('suspended');
    expect(await h.flowgate.store.listAnswers(runA)).toEqual([]);
    expect(await h.flowgate.store.listAnswers(runB)).toEqual([]);
  });
});

describe('people who may answer but cannot read the conversation', () => {
  const PRIVATE = 'C0EMU0003'; // ops-private: Alice and Bob (and the bot), not Carol
  /** What the bot posted in `user`'s DMs, as the emulator holds it (top-level messages). */
  const dms = (user: string) => {
    const im = h.emulator.imWith(user);
    return im ? h.emulator.messages(im.id).map((m) => ({ ...m, channel: im.id })) : [];
  };
  const buttonValueOf = (m: { blocks?: unknown }, actionId: string): string => {
    const blocks = JSON.parse(JSON.stringify(m.blocks ?? [])) as {
      elements?: { action_id?: string; value?: string }[];
    }[];
    const value = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId)?.value;
    if (!value) throw new Error(`no ${actionId}`);
    return value;
  };
  /** The DMs asking `user` a question of `runId` (as first posted: found by the run in their buttons' message or text). */
  const asked = (user: string, runId: string) =>
    dms(user).filter((m) => {
      const posted = h.emulator
        .callsOf('chat.postMessage')
        .find((c) => c.response.ts === m.ts && c.response.channel === m.channel);
      return (
        String(posted?.params.text).includes('is waiting for your answer') &&
        JSON.stringify(posted?.params.blocks ?? '').includes(runId)
      );
    });

  test('a run started in a DM with the app: each approver (a group member by member, not the starter) is asked in their own DMs, once, and answers there', async () => {
    const client = new WebClient(h.emulator.botToken, {
      slackApiUrl: h.emulator.apiUrl,
      logLevel: LogLevel.ERROR,
    });
    const im = (await client.conversations.open({ users: ALICE })).channel?.id;
    expect(im).toMatch(/^D/);
    const before = h.runIds().length;
    await h.slash('start unseen {"version": "3.0"}', { user: ALICE, channel: im! });
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const message = await h.message(runId, (m) => m.blocks.includes('by DM'));
    expect(message.channel).toBe(im);
    expect(message.blocks).toMatch(
      /Asked <@U0EMU000[23]> and <@U0EMU000[23]> by DM: they are not in this conversation/,
    );
    const [bob] = await waitFor('bob asked', () => asked(BOB, runId).length === 1 && asked(BOB, runId));
    expect(asked(CAROL, runId)).toHaveLength(1);
    expect(asked(ALICE, runId)).toHaveLength(0); // the starter may not answer: not asked
    const carolValue = buttonValueOf(asked(CAROL, runId)[0]!, 'flowgate_approve');
    // The question as the message shows it, a link to the run, the same buttons.
    const blocks = JSON.stringify(bob!.blocks);
    expect(blocks).toContain('gates › sign-off');
    expect(blocks).toContain('3.0');
    expect(blocks).toContain('View the run');
    for (const action of ['flowgate_respond', 'flowgate_approve', 'flowgate_reject'])
      expect(blocks).toContain(action);

    // Asked once per question and person: following the run again asks nobody again.
    h.flowgate.progress.follow(runId);
    await h.flowgate.progress.idle();
    expect(asked(BOB, runId)).toHaveLength(1);
    expect(asked(CAROL, runId)).toHaveLength(1);

    // An answer from the DM goes through the same checks and claim as one on the message.
    await h.click({ channel: bob!.channel, ts: bob!.ts }, 'flowgate_approve', {
      user: BOB,
      blockId: blockId('gates.sign-off'),
    });
    const final = await h.message(runId, (m) => m.text.includes('Succeeded'));
    expect(final.blocks).toContain(`answered by <@${BOB}>`);
    expect((await h.flowgate.store.listAnswers(runId)).map((a) => [a.userId, a.state])).toEqual([
      [BOB, 'resumed'],
    ]);
    // Carol's DM now says who answered, without buttons; a click from a stale client is told so.
    const carol = asked(CAROL, runId)[0]!;
    await waitFor('carol’s DM updated', () => {
      const now = h.emulator.message(carol.channel, carol.ts);
      return (
        now?.text.includes(`<@${BOB}> answered`) && !JSON.stringify(now.blocks).includes('flowgate_approve')
      );
    });
    await h.click({ channel: carol.channel, ts: carol.ts }, 'flowgate_approve', {
      user: CAROL,
      blockId: blockId('gates.sign-off'),
      value: carolValue,
    });
    await waitFor('carol told', () => h.replies(CAROL).some((t) => t.includes(`<@${BOB}> already answered`)));
    expect(asked(BOB, runId)).toHaveLength(1);
    expect(asked(CAROL, runId)).toHaveLength(1);
  });

  test('a private channel: only the approvers who are not in it are asked by DM; their form answers the run', async () => {
    const before = h.runIds().length;
    await h.slash('start unseen {"version": "3.1"}', { user: ALICE, channel: PRIVATE });
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const message = await h.message(runId, (m) => m.blocks.includes('by DM'));
    expect(message.channel).toBe(PRIVATE);
    expect(message.blocks).toContain(`Asked <@${CAROL}> by DM: they are not in this conversation`);
    const [carol] = await waitFor(
      'carol asked',
      () => asked(CAROL, runId).length === 1 && asked(CAROL, runId),
    );
    expect(asked(BOB, runId)).toHaveLength(0); // Bob reads the channel
    await h.click({ channel: carol!.channel, ts: carol!.ts }, 'flowgate_respond', {
      user: CAROL,
      blockId: blockId('gates.sign-off'),
    });
    const form = await h.answerForm(CAROL, runId);
    await h.submit(form.id, await h.formValues('unseen', 'gates.sign-off', { approved: false }), {
      user: CAROL,
    });
    const final = await h.message(runId, (m) => m.text.includes('Succeeded'));
    expect(final.blocks).toContain(`answered by <@${CAROL}>`);
  });

  test('a run that ends with its question unanswered (canceled): the question in people’s DMs loses its buttons', async () => {
    const before = h.runIds().length;
    await h.slash('start unseen {"version": "3.4"}', { user: ALICE, channel: PRIVATE });
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const [carol] = await waitFor(
      'carol asked',
      () => asked(CAROL, runId).length === 1 && asked(CAROL, runId),
    );
    expect(JSON.stringify(carol!.blocks)).toContain('flowgate_respond');
    await h.slash(`cancel ${runId}`, { user: ALICE, channel: PRIVATE });
    await h.message(runId, (m) => m.text.includes('Canceled'));
    const closed = await waitFor('the DM closed', () => {
      const now = h.emulator.messages(carol!.channel).find((m) => m.ts === carol!.ts);
      return now?.text.includes('nothing is left to answer') ? now : undefined;
    });
    expect(JSON.stringify(closed.blocks)).not.toContain('flowgate_respond');
    expect(closed.text).toContain(`canceled by <@${ALICE}>`);
  });

  test('a public channel: anyone may open its message, so nobody is asked by DM', async () => {
    h.emulator.addChannel({ id: 'C0QPUBLIC1', name: 'releases', members: [ALICE] });
    const before = h.runIds().length;
    await h.slash('start unseen {"version": "3.3"}', { user: ALICE, channel: 'C0QPUBLIC1' });
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const message = await h.message(runId);
    await waitFor('the mention', () => thread(message).some((t) => t.includes('is waiting for your answer')));
    await h.flowgate.progress.idle();
    expect(asked(BOB, runId)).toHaveLength(0);
    expect(asked(CAROL, runId)).toHaveLength(0);
    expect(h.progressMessage(runId)?.blocks).not.toContain('by DM');
  });

  test('an escalation to someone who cannot read the conversation asks them by DM then, not before', async () => {
    const before = h.runIds().length;
    await h.slash('start unseenLater {"version": "3.2"}', { user: ALICE, channel: PRIVATE });
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const message = await h.message(runId, (m) => m.blocks.includes('Escalates to'));
    expect(message.blocks).not.toContain('by DM');
    expect(asked(CAROL, runId)).toHaveLength(0);
    const escalated = await h.message(runId, (m) => m.blocks.includes(`Asked <@${CAROL}> by DM`));
    expect(escalated.blocks).toContain(`Who may answer: <@${BOB}>, <@${CAROL}>`);
    const [carol] = await waitFor(
      'carol asked',
      () => asked(CAROL, runId).length === 1 && asked(CAROL, runId),
    );
    await h.click({ channel: carol!.channel, ts: carol!.ts }, 'flowgate_reject', {
      user: CAROL,
      blockId: blockId('gates.sign-off'),
    });
    const final = await h.message(runId, (m) => m.text.includes('Succeeded'));
    expect(final.blocks).toContain(`answered by <@${CAROL}>`);
    expect(asked(BOB, runId)).toHaveLength(0);
  });
});
