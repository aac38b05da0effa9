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
  for (const method of ['chat.postMessage', 'views.open', 'views.update']) {
    h.emulator.failCalls(method, { count: 0 });
    h.emulator.forceRateLimit(method, 0);
  }
  h.emulator.forceRateLimit('chat.update', 0);
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

  test('ok: false, error: ratelimited answered with HTTP 200 is a 429: the edit, the thread reply and the DM wait and go again', async () => {
    const rateLimitedBefore = h.flowgate.publisher.stats().rateLimited;
    const runId = await h.startRun('start linearWorkflow {"value": 2}');
    const row = h.progressMessage(runId)!;
    const calls = h.emulator.calls.length;
    // Slack's answer without a Retry-After: Flowgate waits a second.
    h.emulator.forceRateLimit('chat.update', 2, 1, { status: 200 });
    h.emulator.forceRateLimit('chat.postMessage', 2, 1, { status: 200 });
    await h.message(runId, (m) => m.text.includes('Succeeded'));
    const posts = () => h.emulator.calls.slice(calls).filter((c) => c.method === 'chat.postMessage');
    const landed = (c: (typeof h.emulator.calls)[number]) => c.response.ok === true;
    const reply = await waitFor('the thread reply', () =>
      posts().find((c) => landed(c) && c.params.thread_ts === row.ts),
    );
    const dm = await waitFor('the DM', () =>
      posts().find((c) => landed(c) && String(c.params.text).startsWith('Your run of')),
    );
    // Both limited answers came back as 200s, and each call that met one went again after its wait.
    const limited = h.emulator.calls.slice(calls).filter((c) => c.rateLimited);
    expect(limited.map((c) => [c.method, c.status])).toEqual(
      expect.arrayContaining([
        ['chat.update', 200],
        ['chat.update', 200],
        ['chat.postMessage', 200],
        ['chat.postMessage', 200],
      ]),
    );
    expect(limited).toHaveLength(4);
    const firstLimitedPost = limited.find((c) => c.method === 'chat.postMessage')!;
    expect(Math.max(reply.time, dm.time) - firstLimitedPost.time).toBeGreaterThanOrEqual(1000);
    expect(posts().filter((c) => landed(c) && c.params.thread_ts === row.ts)).toHaveLength(1);
    expect(posts().filter((c) => landed(c) && String(c.params.text).startsWith('Your run of'))).toHaveLength(
      1,
    );
    // The publisher counted them as rate limits (not as failures), and the message is final.
    expect(h.flowgate.publisher.stats().rateLimited - rateLimitedBefore).toBe(2);
    expect(h.progressMessage(runId)!.text).toContain('Succeeded');
  });
});
