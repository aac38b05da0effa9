/**
 * Payloads Slack would never send, but a forger or a stale client might: each gets a clear answer,
 * starts or resumes nothing, and leaves the app serving the next request.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sendSignedRequest } from '../../src/emulator/index.ts';
import { ALICE, GENERAL, type Harness, SIGNING_SECRET, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const MALFORMED = /did not come with the details Flowgate needs/;

/** A modal of Flowgate's own kind, opened with whatever `private_metadata` a forger chose. */
async function forgedView(callbackId: string, privateMetadata: string): Promise<string> {
  const client = new WebClient(h.emulator.botToken, {
    slackApiUrl: h.emulator.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
  const opened = await client.views.open({
    trigger_id: h.emulator.issueTriggerId(ALICE),
    view: {
      type: 'modal',
      callback_id: callbackId,
      private_metadata: privateMetadata,
      title: { type: 'plain_text', text: 'Forged' },
      submit: { type: 'plain_text', text: 'Send' },
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'forged' } }],
    },
  });
  return opened.view?.id as string;
}

describe('malformed and forged payloads', () => {
  test('a button whose value is not Flowgate’s gets an ephemeral explanation for each action', async () => {
    const before = h.replies(ALICE).length;
    const posted = h.emulator.postUserMessage(GENERAL, ALICE, 'a message with a forged button');
    const runsBefore = h.runIds().length;
    for (const actionId of ['flowgate_cancel', 'flowgate_respond', 'flowgate_approve', 'flowgate_start']) {
      const result = await h.click({ channel: GENERAL, ts: posted.ts }, actionId, {
        value: '{"not": "ours"',
      });
      expect(result.status).toBe(200);
    }
    const replies = await waitFor('four explanations', () => {
      const fresh = h.replies(ALICE).slice(before);
      return fresh.length >= 4 ? fresh : undefined;
    });
    for (const reply of replies) expect(reply).toMatch(MALFORMED);
    expect(h.runIds().length).toBe(runsBefore);
    expect(h.emulator.callsOf('views.open').filter((c) => c.params.trigger_id)).toHaveLength(0);
  });

  test('a form Flowgate never opened is answered in the modal and changes nothing, whatever its metadata', async () => {
    const runsBefore = h.runIds().length;
    for (const callbackId of ['flowgate_answer_form', 'flowgate_start_form']) {
      for (const metadata of [
        'garbage',
        JSON.stringify({ w: 'approvalWorkflow', c: GENERAL, r: 'x', s: ['approve'] }),
      ]) {
        const viewId = await forgedView(callbackId, metadata);
        const result = await h.submit(viewId, {});
        expect(result.status).toBe(200);
        expect(result.body).toMatchObject({ response_action: 'update' });
        expect(JSON.stringify(result.body)).toContain('no record of opening this form for you');
      }
    }
    expect(h.runIds().length).toBe(runsBefore);
  });

  test('a body that is not a Slack payload is refused, and the next request is served', async () => {
    const garbage = await sendSignedRequest({
      appUrl: h.appUrl,
      signingSecret: SIGNING_SECRET,
      body: 'payload=%7Bnot-json',
    });
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    expect(garbage.status).toBeLessThan(500);
    const help = await h.slash('help');
    expect(JSON.stringify(help.body)).toContain('/flowgate start');
  });
});
