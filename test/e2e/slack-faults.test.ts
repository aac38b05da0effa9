/**
 * Slack's Web API failing (HTTP 5xx, from the emulator): the person waiting is told within seconds
 * in plain words, nothing is left half-done (no Mastra run, no stored row, no ghost message), and
 * the app keeps serving once Slack is back. Thread replies and DMs go out once, whatever Slack
 * answers (src/slack/io/outbox.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { JsonObject } from '../../src/emulator/index.ts';
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
  h.emulator.clearScripts();
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

describe('thread replies and DMs, whatever Slack answers', () => {
  /** The end of a run in its thread (`Run linear-workflow succeeded.`), by what Flowgate sends. */
  const endInThread = (params: JsonObject) =>
    typeof params.thread_ts === 'string' && String(params.text).startsWith('Run linear-workflow');
  const endDm = (params: JsonObject) => String(params.text).startsWith('Your run of linear-workflow');
  const repliesOf = (message: { channel: string; ts: string }, start: string) =>
    h.emulator
      .thread(message.channel, message.ts)
      .slice(1)
      .filter((m) => m.text.startsWith(start));
  /**
   * Picks the calls of runs started from now on (their thread, or a DM linking to their message):
   * a notice of an earlier test's run still on its way is left alone.
   */
  const ofNewRuns = () => {
    const earlier = new Set(h.emulator.messages(GENERAL).map((m) => `p${m.ts.replace('.', '')}`));
    return (params: JsonObject) => {
      const thread = params.thread_ts;
      if (typeof thread === 'string') return !earlier.has(`p${thread.replace('.', '')}`);
      const link = /\/(p\d+)/.exec(String(params.text))?.[1];
      return link !== undefined && !earlier.has(link);
    };
  };
  /** A DM that links to `message` (the run's message). */
  const linksTo =
    (message: { ts: string }) =>
    (m: { text: string }): boolean =>
      m.text.includes(`/p${message.ts.replace('.', '')}`);
  const dmsOf = (user: string, start: string) => {
    const dm = h.emulator.imWith(user);
    return dm ? h.emulator.messages(dm.id).filter((m) => m.text.startsWith(start)) : [];
  };

  test('the end of a run in its thread: sent after a 429 and then ok:false ratelimited', async () => {
    const fresh = ofNewRuns();
    h.emulator.scriptCalls(
      'chat.postMessage',
      [{ status: 429, retryAfter: 1 }, { error: 'ratelimited' }],
      (p) => endInThread(p) && fresh(p),
    );
    const runId = await h.startRun('start linearWorkflow {"value": 1}');
    const message = await h.message(runId, (m) => m.text.includes('Succeeded'));
    const replies = await waitFor('the end of the run in its thread', () => {
      const found = repliesOf(message, 'Run linear-workflow');
      return found.length > 0 ? found : undefined;
    });
    expect(replies.map((m) => m.text)).toEqual(['Run linear-workflow succeeded.']);
    // Three attempts: the 429, the ok:false, then the one Slack took.
    const attempts = h.emulator
      .callsOf('chat.postMessage')
      .filter((c) => endInThread(c.params) && c.params.thread_ts === message.ts);
    expect(attempts.map((c) => c.response.error ?? 'ok')).toEqual(['ratelimited', 'ratelimited', 'ok']);
    // Marked sent once Slack's answer is in (just after the reply shows).
    const notice = await waitFor('the reply marked sent', async () => {
      const found = await h.flowgate.store.getNotice(`final:${runId}`);
      return found?.state === 'sent' ? found : undefined;
    });
    expect(notice.attempts).toBe(3);
    await waitFor(
      'its DM too',
      async () => (await h.flowgate.store.getNotice(`end-dm:${runId}`))?.state === 'sent',
    );
  });

  test('an answer lost after Slack posted the reply and the DM: each is in Slack once, not posted again', async () => {
    const fresh = ofNewRuns();
    h.emulator.scriptCalls('chat.postMessage', ['lost'], (p) => endInThread(p) && fresh(p));
    h.emulator.scriptCalls('chat.postMessage', ['lost'], (p) => endDm(p) && fresh(p));
    const runId = await h.startRun('start linearWorkflow {"value": 2}');
    const message = await h.message(runId, (m) => m.text.includes('Succeeded'));
    // Until Slack has both and nothing is left to try.
    await waitFor('both notices in Slack, none left to try', async () => {
      const notices = await Promise.all([
        h.flowgate.store.getNotice(`final:${runId}`),
        h.flowgate.store.getNotice(`end-dm:${runId}`),
      ]);
      return (
        repliesOf(message, 'Run linear-workflow').length > 0 &&
        dmsOf(ALICE, 'Your run of linear-workflow').some(linksTo(message)) &&
        notices.every((n) => n?.state !== 'pending')
      );
    });
    await h.flowgate.progress.idle();
    expect(repliesOf(message, 'Run linear-workflow')).toHaveLength(1);
    expect(dmsOf(ALICE, 'Your run of linear-workflow').filter(linksTo(message))).toHaveLength(1);
    // Each was posted once, its answer lost, then found by its key rather than posted again.
    for (const match of [endInThread, endDm]) {
      const posts = h.emulator.callsOf('chat.postMessage').filter((c) => match(c.params) && fresh(c.params));
      expect(posts.filter((c) => c.lost)).toHaveLength(1);
    }
    const looked = [
      ...h.emulator.callsOf('conversations.replies'),
      ...h.emulator.callsOf('conversations.history'),
    ].filter((c) => c.params.include_all_metadata);
    expect(looked.length).toBeGreaterThanOrEqual(2);
    expect(await h.flowgate.store.getNotice(`final:${runId}`)).toMatchObject({
      state: 'sent',
      posted: { channel: message.channel, ts: repliesOf(message, 'Run linear-workflow')[0]!.ts },
    });
  });
});
