import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MastraClient } from '../../src/mastra/client.ts';
import { snapshotFromRunState } from '../../src/runs/state.ts';
import { CLAIM_LEASE_MS } from '../../src/store/index.ts';
import { ALICE, BOB, CAROL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
let client: MastraClient;
beforeAll(async () => {
  h = await startHarness();
  client = new MastraClient({ baseUrl: h.mastra.url });
});
afterAll(async () => {
  await client?.close();
  await h?.close();
});

/** The value a button carried when the message was rendered (a stale client still sends it). */
function buttonValue(message: { blocks: string }, blockId: string, actionId: string): string {
  const blocks = JSON.parse(message.blocks) as {
    block_id?: string;
    elements?: { action_id?: string; value?: string }[];
  }[];
  const value = blocks
    .find((b) => b.block_id === blockId)
    ?.elements?.find((e) => e.action_id === actionId)?.value;
  if (!value) throw new Error(`no ${actionId} in ${blockId}`);
  return value;
}

function respondBlock(message: { blocks: string }, step: string): string {
  const blocks = JSON.parse(message.blocks) as { block_id?: string; type: string }[];
  const block = blocks.find((b) => b.type === 'actions' && b.block_id === `flowgate_step:${step}`);
  if (!block?.block_id) throw new Error(`no buttons for ${step}`);
  return block.block_id;
}

const goodAnswer = {
  approved: true,
  priority: 'high',
  score: 9.5,
  comment: 'LGTM <!channel>',
  dueDate: '2026-12-01',
  tags: ['finance', 'ops'],
};

describe('answering a suspended step in a modal', () => {
  test('suspend → Respond → loading + form → invalid → field errors → valid → run completes', async () => {
    const runId = await h.startRun('start approvalWorkflow {"requestId": "REQ-1", "amount": 1250}');
    const message = await h.message(runId);
    expect(message.text).toContain('Waiting for an answer');
    expect(message.blocks).toContain('Needs manager approval');
    expect(message.blocks).toContain(`Who may answer: <@${ALICE}>`);
    // The approver is told in the thread.
    await waitFor('the mention in the thread', () =>
      h.emulator
        .thread(message.channel, message.ts)
        .some((m) => m.text.includes(`<@${ALICE}>`) && m.text.includes('approve')),
    );

    const opensBefore = h.emulator.callsOf('views.open').length;
    const click = await h.click(message, 'flowgate_respond', { blockId: respondBlock(message, 'approve') });
    expect(click.status).toBe(200);
    const view = await waitFor('the form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_answer_form'),
    );
    expect(h.emulator.callsOf('views.open').length).toBe(opensBefore + 1);
    expect(h.emulator.callsOf('views.update').length).toBeGreaterThan(0);
    const viewText = JSON.stringify(view.blocks);
    expect(viewText).toContain('Needs manager approval');
    for (const type of ['number_input', 'datepicker', 'radio_buttons', 'checkboxes'])
      expect(viewText).toContain(type);

    const badValues = await h.formValues('approvalWorkflow', 'approve', goodAnswer);
    badValues['f:score'] = { value: { type: 'number_input', value: '11' } };
    const bad = await h.submit(view.id, badValues);
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ response_action: 'errors' });
    expect(JSON.stringify(bad.body)).toMatch(/at most 10/i);
    expect(h.emulator.view(view.id)).toBeDefined();
    const state = await h.mastraGet(`/api/workflows/approvalWorkflow/runs/${runId}`);
    expect(state.status).toBe('suspended');

    const good = await h.submit(view.id, await h.formValues('approvalWorkflow', 'approve', goodAnswer));
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
    const final = await waitFor('success', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Succeeded') ? m : undefined;
    });
    expect(final.blocks).toContain(`answered by <@${ALICE}>`);
    expect(final.blocks).not.toContain('<!channel>');
    expect(final.blocks).toContain('approved');
    await waitFor('the answer in the thread', () =>
      h.emulator
        .thread(final.channel, final.ts)
        .some((m) => m.text.includes(`<@${ALICE}> answered *approve*`)),
    );
  });

  test('someone not allowed: the click gets an ephemeral refusal and opens nothing', async () => {
    const runId = await h.startRun('start approvalWorkflow {"requestId": "REQ-2", "amount": 5}');
    const message = await h.message(runId);
    const opensBefore = h.emulator.callsOf('views.open').length;
    await h.click(message, 'flowgate_respond', { user: BOB, blockId: respondBlock(message, 'approve') });
    await waitFor('the refusal', () =>
      h.replies(BOB).some((t) => t.includes('Only the person who started this run')),
    );
    expect(h.emulator.callsOf('views.open').length).toBe(opensBefore);
  });

  test('a forged submission from someone not allowed changes nothing', async () => {
    const runId = await h.startRun('start approvalWorkflow {"requestId": "REQ-3", "amount": 5}');
    const message = await h.message(runId);
    await h.click(message, 'flowgate_respond', { blockId: respondBlock(message, 'approve') });
    const view = await h.answerForm(ALICE, runId);
    // Carol replays Alice's modal as her own submission: Flowgate opened it for Alice only.
    const forged = await h.submit(view.id, await h.formValues('approvalWorkflow', 'approve', goodAnswer), {
      user: CAROL,
    });
    expect(JSON.stringify(forged.body)).toContain('no record of opening this form for you');
    const state = await h.mastraGet(`/api/workflows/approvalWorkflow/runs/${runId}`);
    expect(state.status).toBe('suspended');
  });

  test('one-click approve on a yes/no step, and a second answer is told who answered first', async () => {
    const runId = await h.startRun('start simpleApprovalWorkflow {"title": "Ship it?"}');
    const message = await h.message(runId);
    expect(message.blocks).toContain('flowgate_approve');
    expect(message.blocks).toContain('flowgate_reject');
    const blockId = respondBlock(message, 'simple-approve');
    await h.click(message, 'flowgate_approve', { blockId });
    const final = await waitFor('success', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Succeeded') ? m : undefined;
    });
    expect(final.blocks).toContain('{\\"approved\\":true}');
    await h.click(message, 'flowgate_reject', {
      blockId,
      value: buttonValue(message, blockId, 'flowgate_reject'),
    });
    await waitFor('told who answered', () =>
      h.replies(ALICE).some((t) => t.includes(`<@${ALICE}> already answered this step`)),
    );
  });

  test('a claim stranded by a stopped process does not block the step for ever', async () => {
    const runId = await h.startRun('start simpleApprovalWorkflow {"title": "Stranded?"}');
    const message = await h.message(runId);
    const state = snapshotFromRunState(await client.getWorkflow('simpleApprovalWorkflow').runById(runId));
    const suspendedAt = state.payload.workflowState.steps['simple-approve']?.suspendedAt?.getTime();
    // Bob's answer was claimed by a process that stopped before it could resume the run.
    const key = `simple-approve#${suspendedAt}`;
    await h.flowgate.store.claimAnswer(runId, key, BOB, new Date(Date.now() - CLAIM_LEASE_MS - 1000));
    await h.click(message, 'flowgate_approve', { blockId: respondBlock(message, 'simple-approve') });
    await h.message(runId, (m) => m.text.includes('Succeeded'));
    expect(await h.flowgate.store.getAnswer(runId, key)).toMatchObject({ userId: ALICE, state: 'resumed' });
  });

  test('nested suspension: the exact path is resumed', async () => {
    const runId = await h.startRun('start nestedWorkflow {"item": "  widget  "}');
    const message = await h.message(runId);
    expect(message.blocks).toContain('ok to ship widget?');
    const blockId = respondBlock(message, 'inner.inner-approve');
    await h.click(message, 'flowgate_respond', { blockId });
    const view = await h.answerForm(ALICE, runId);
    expect(view.private_metadata ?? '').toBe('');
    expect(await h.flowgate.store.getForm(view.id)).toMatchObject({
      kind: 'answer',
      runId,
      stepPath: ['inner', 'inner-approve'],
    });
    await h.submit(view.id, await h.formValues('nestedWorkflow', 'inner.inner-approve', { ok: true }));
    const final = await waitFor('success', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Succeeded') ? m : undefined;
    });
    expect(final.blocks).toContain('{\\"ok\\":true}');
  });

  test('parallel suspensions each get their own button and can be answered one by one', async () => {
    const runId = await h.startRun('start parallelApprovalWorkflow {"subject": "budget"}');
    const message = await waitFor('two suspended steps', () => {
      const m = h.progressMessage(runId);
      return m?.blocks.includes('flowgate_step:approve-a') && m.blocks.includes('flowgate_step:approve-b')
        ? m
        : undefined;
    });
    await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:approve-a' });
    await waitFor('a answered', () => {
      const m = h.progressMessage(runId);
      return (
        m && !m.blocks.includes('flowgate_step:approve-a') && m.blocks.includes('flowgate_step:approve-b')
      );
    });
    await h.click(message, 'flowgate_reject', { blockId: 'flowgate_step:approve-b' });
    await waitFor('success', () => h.progressMessage(runId)?.text.includes('Succeeded'));
  });

  test('answering a canceled run is told so, and nothing resumes', async () => {
    const runId = await h.startRun('start simpleApprovalWorkflow {"title": "x"}');
    const message = await h.message(runId);
    const before = h.replies(ALICE).length;
    await h.slash(`cancel ${runId}`);
    await waitFor('canceled', () => h.progressMessage(runId)?.text.includes('Canceled'));
    await waitFor('cancel reply', () => h.replies(ALICE).length > before);
    const blockId = respondBlock(message, 'simple-approve');
    await h.click(message, 'flowgate_approve', {
      blockId,
      value: buttonValue(message, blockId, 'flowgate_approve'),
    });
    await waitFor('told the run is canceled', () =>
      h.replies(ALICE).some((t) => t.includes('This run is canceled')),
    );
    const state = await h.mastraGet(`/api/workflows/simpleApprovalWorkflow/runs/${runId}`);
    expect(state.status).toBe('canceled');
  });
});
