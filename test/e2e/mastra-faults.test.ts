/**
 * A Mastra server that misbehaves or goes away: people get a clear, actionable message where they
 * asked, nothing half-done is left behind, and the app keeps serving.
 */
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
      expect(h.flowgate.store.getProgressMessage(runId)?.final).toBe(false);
      const help = await h.slash('help');
      expect(JSON.stringify(help.body)).toContain('/flowgate start');
    } finally {
      await h.close();
    }
  });
});
