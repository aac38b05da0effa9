/**
 * A Mastra server that misbehaves or goes away: people get a clear, actionable message where they
 * asked, nothing half-done is left behind, and the app keeps serving.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { ALICE, startHarness, waitFor } from '../support/flowgate.ts';
import { startMastraServer } from '../support/mastra/server.ts';

describe('when the Mastra server misbehaves', () => {
  test('a reply that is not JSON: the person is told Flowgate could not read it', async () => {
    const mastra = await startMastraServer({
      intercept: (request) =>
        new URL(request.url).pathname === '/api/workflows'
          ? new Response('<html>502 Bad Gateway</html>', {
              status: 200,
              headers: { 'content-type': 'text/html' },
            })
          : undefined,
    });
    const h = await startHarness({ mastra });
    try {
      const before = h.replies(ALICE).length;
      await h.slash('list');
      const reply = await waitFor('the reply', () => h.replies(ALICE).slice(before).at(-1));
      expect(reply).toContain('could not read');
      expect(reply).not.toContain('127.0.0.1');
    } finally {
      await h.close();
      await mastra.close();
    }
  });

  test('a server that went away: the form and status say so, the message stays as it was, and the app keeps serving', async () => {
    const mastra = await startMastraServer();
    const h = await startHarness({ mastra });
    try {
      const runId = await h.startRun('start simpleApprovalWorkflow {"title": "Before the outage"}');
      const message = await h.message(runId);
      await mastra.close();

      await h.click(message, 'flowgate_respond', { blockId: 'flowgate_step:simple-approve' });
      const notice = await waitFor('the notice in the modal', () =>
        h.emulator.openViews(ALICE).find((v) => JSON.stringify(v.blocks).includes('not reachable')),
      );
      expect(notice.title).toMatchObject({ text: 'Cannot answer' });

      const before = h.replies(ALICE).length;
      await h.slash(`status ${runId}`);
      expect(await waitFor('the status reply', () => h.replies(ALICE).slice(before).at(-1))).toContain(
        'not reachable',
      );
      // The run's message is left as it was, waiting, not marked as ended.
      expect(h.progressMessage(runId)?.blocks).toContain('flowgate_approve');
      expect((await h.flowgate.store.getProgressMessage(runId))?.final).toBe(false);
      const help = await h.slash('help');
      expect(JSON.stringify(help.body)).toContain('/flowgate start');
    } finally {
      await h.close();
    }
  });

  test('too slow to check an answer before Slack gives up: the modal says so, nothing is sent, the step stays free', async () => {
    let slow = false;
    const mastra = await startMastraServer({
      intercept: async (request) => {
        if (slow && request.method === 'GET' && /\/runs\/[^/]+$/.test(new URL(request.url).pathname))
          await sleep(4000);
        return undefined;
      },
    });
    const h = await startHarness({ mastra });
    try {
      const runId = await h.startRun('start simpleApprovalWorkflow {"title": "Slow server"}');
      const message = await h.message(runId);
      const respond = async () => {
        const before = h.emulator.callsOf('views.update').length;
        await h.click(message, 'flowgate_respond', { blockId: 'flowgate_step:simple-approve' });
        await waitFor('the form', () => h.emulator.callsOf('views.update').length > before);
        return waitFor('the form', () =>
          h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_answer_form'),
        );
      };
      const view = await respond();
      const values = await h.formValues('simpleApprovalWorkflow', 'simple-approve', { approved: true });

      slow = true;
      const late = await h.submit(view.id, values);
      expect(late.body).toMatchObject({ response_action: 'update' });
      expect(JSON.stringify(late.body)).toContain('took too long');
      // The late check finishes (about 4 s in) and lets go of its claim: the step is free again.
      await sleep(2000);
      await waitFor(
        'the claim withdrawn',
        async () => (await h.flowgate.store.listAnswers(runId)).length === 0,
      );
      slow = false;
      expect((await h.mastraGet(`/api/workflows/simpleApprovalWorkflow/runs/${runId}`)).status).toBe(
        'suspended',
      );

      const again = await respond();
      const accepted = await h.submit(again.id, values);
      expect(accepted.body).toBe('');
      await h.message(runId, (m) => m.text.includes('Succeeded'));
    } finally {
      await h.close();
      await mastra.close();
    }
  });
});
