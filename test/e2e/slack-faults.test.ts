/**
 * Slack's Web API failing (HTTP 5xx, from the emulator): the person waiting is told within seconds
 * in plain words, nothing is left half-done (no Mastra run, no stored row, no ghost message), and
 * the app keeps serving once Slack is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ALICE, GENERAL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  for (const method of ['chat.postMessage', 'views.open', 'views.update'])
    h.emulator.failCalls(method, { count: 0 });
});

/** Slack's answer to Flowgate, later than the policies allow a person to wait (interactive: 5 s). */
const A_FEW_SECONDS = 6000;

async function runsOf(workflow: string): Promise<number> {
  return Number((await h.mastraGet(`/api/workflows/${workflow}/runs`)).total);
}

function nextReply(user: string): () => Promise<string> {
  const before = h.replies(user).length;
  return () => waitFor('a reply', () => h.replies(user).slice(before).at(-1));
}

describe("when Slack's Web API fails", () => {
  test('chat.postMessage answers 500 at start: told within seconds, nothing half-done, then it works again', async () => {
    const runs = await runsOf('linearWorkflow');
    const messages = h.emulator.messages(GENERAL).length;
    const unfinished = (await h.flowgate.store.listUnfinished()).length;
    const posts = h.emulator.callsOf('chat.postMessage').length;
    h.emulator.failCalls('chat.postMessage', { count: Number.POSITIVE_INFINITY });

    const reply = nextReply(ALICE);
    const t0 = Date.now();
    await h.slash('start linearWorkflow {"value": 1}');
    const text = await reply();
    expect(Date.now() - t0).toBeLessThan(A_FEW_SECONDS);
    expect(text).toBe(
      'Slack could not post the progress message (HTTP 500), so the run was not started. Try again in a minute.',
    );
    expect(text).not.toContain(h.emulator.botToken);
    // A few attempts, then no more.
    const attempts = h.emulator.callsOf('chat.postMessage').slice(posts);
    expect(attempts.map((c) => c.status)).toEqual([500, 500, 500]);
    expect(await runsOf('linearWorkflow')).toBe(runs); // the created run was removed
    expect(await h.flowgate.store.listUnfinished()).toHaveLength(unfinished);
    expect(h.emulator.messages(GENERAL)).toHaveLength(messages);

    h.emulator.failCalls('chat.postMessage', { count: 0 });
    const runId = await h.startRun('start linearWorkflow {"value": 1}');
    await h.message(runId, (m) => m.text.includes('Succeeded'));
  });

  test('a start form submitted while Slack cannot post: the person is told where the form was opened', async () => {
    const runs = await runsOf('inputFormWorkflow');
    await h.slash('start inputFormWorkflow');
    const view = await waitFor('the start form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_start_form'),
    );
    const values = await h.formValues('inputFormWorkflow', undefined, {
      title: 'Deploy',
      count: 1,
      urgent: false,
      channel: 'slack',
    });
    h.emulator.failCalls('chat.postMessage', { count: Number.POSITIVE_INFINITY }); // the DM fails too
    const before = h.emulator.ephemerals(ALICE, GENERAL).length;
    const accepted = await h.submit(view.id, values);
    expect(accepted.body).toBe('');
    const note = await waitFor(
      'the note',
      () => h.emulator.ephemerals(ALICE, GENERAL).slice(before).at(-1),
      A_FEW_SECONDS * 2, // the progress message, then the DM: each a few seconds at most
    );
    expect(note.text).toContain('Slack could not post the progress message (HTTP 500)');
    expect(await runsOf('inputFormWorkflow')).toBe(runs);
  });

  test('the answer form cannot be opened or filled in: the person is told, not left with a spinner', async () => {
    const runId = await h.startRun('start simpleApprovalWorkflow {"title": "Slack is down"}');
    const message = await h.message(runId);
    const respond = () => h.click(message, 'flowgate_respond', { blockId: 'flowgate_step:simple-approve' });

    h.emulator.failCalls('views.open', { status: 503, count: Number.POSITIVE_INFINITY });
    let reply = nextReply(ALICE);
    await respond();
    expect(await reply()).toBe('Slack could not do that right now (HTTP 503). Try again in a minute.');

    h.emulator.failCalls('views.open', { count: 0 });
    h.emulator.failCalls('views.update', { count: Number.POSITIVE_INFINITY });
    reply = nextReply(ALICE);
    const t0 = Date.now();
    await respond();
    expect(await reply()).toBe('Slack could not do that right now (HTTP 500). Try again in a minute.');
    expect(Date.now() - t0).toBeLessThan(A_FEW_SECONDS * 2); // the form, then the notice in it

    h.emulator.failCalls('views.update', { count: 0 });
    await respond();
    await waitFor('the form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_answer_form'),
    );
  });
});
