/**
 * Socket Mode, the development setup behind a firewall: the same app connects out to Slack (here
 * the emulator, found through SLACK_API_URL) and gets commands and interactions as envelopes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALICE, type Harness, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ socketMode: true });
});
afterAll(async () => {
  await h?.close();
});

describe('Socket Mode', () => {
  test('connects through SLACK_API_URL with the app token, not the bot token', () => {
    const opens = h.emulator.callsOf('apps.connections.open');
    expect(opens.length).toBeGreaterThan(0);
    expect(opens.every((c) => c.response.ok === true)).toBe(true);
    expect(h.emulator.socketMode.connections).toBe(1);
    expect(h.appUrl).toBe('');
  });

  test('a command is acknowledged over the socket and answered', async () => {
    const before = h.replies(ALICE).length;
    const help = await h.slash('help');
    expect(help.status).toBe(200);
    const reply = await waitFor('the help', () => h.replies(ALICE).slice(before).at(-1));
    expect(reply).toContain('/flowgate start');
  });

  test('start → Respond → field errors → valid answer → the run succeeds, all over the socket', async () => {
    const runId = await h.startRun('start approvalWorkflow {"requestId": "REQ-S", "amount": 20}');
    const message = await h.message(runId);
    await h.click(message, 'flowgate_respond', { blockId: 'flowgate_step:approve' });
    const view = await waitFor('the form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_answer_form'),
    );
    const answer = {
      approved: true,
      priority: 'low',
      score: 3,
      comment: 'ok',
      dueDate: '2026-12-01',
      tags: ['ops'],
    };
    const values = await h.formValues('approvalWorkflow', 'approve', answer);

    const bad = await h.submit(view.id, {
      ...values,
      'f:score': { value: { type: 'number_input', value: '11' } },
    });
    expect(bad.body).toMatchObject({ response_action: 'errors' });
    expect(h.emulator.view(view.id)).toBeDefined();

    const good = await h.submit(view.id, values);
    expect(good.body).toBe('');
    const final = await h.message(runId, (m) => m.text.includes('Succeeded'));
    expect(final.blocks).toContain(`answered by <@${ALICE}>`);
  });
});
