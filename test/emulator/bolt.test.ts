import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import { afterEach, describe, expect, test } from 'vitest';
import {
  type SlackEmulator,
  sendBlockAction,
  sendSlashCommand,
  sendViewBlockAction,
  sendViewSubmission,
} from '../../src/emulator/index.ts';
import { ALICE, GENERAL, setup, silentSlackLogger } from './helpers.ts';

const SIGNING_SECRET = 'emulator-signing-secret';

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

/** A real Bolt app (HTTP receiver on 127.0.0.1:0) wired to the emulator. */
async function startApp(emulator: SlackEmulator, configure: (app: App) => void): Promise<string> {
  const app = new App({
    signingSecret: SIGNING_SECRET,
    token: emulator.botToken,
    botId: emulator.workspace.botId,
    botUserId: emulator.workspace.botUserId,
    clientOptions: { slackApiUrl: emulator.apiUrl, retryConfig: { retries: 0 } },
    // Hold each HTTP response until the listener is done, so a test can check state right after.
    processBeforeResponse: true,
    logger: silentSlackLogger,
  });
  configure(app);
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  apps.push(app);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
}

describe('a Bolt app driven by the emulator', () => {
  test('slash command → respond + postMessage → button → views.open → view_submission errors → close', async () => {
    const { emulator } = await setup();
    const seen: { command?: Record<string, unknown>; actionBody?: Record<string, unknown> } = {};
    const appUrl = await startApp(emulator, (app) => {
      app.command('/flowgate', async ({ ack, respond, client, command }) => {
        seen.command = { ...command };
        await ack();
        await respond({ response_type: 'ephemeral', text: `Starting ${command.text}…` });
        await client.chat.postMessage({
          channel: command.channel_id,
          text: 'Run needs approval',
          blocks: [
            {
              type: 'section',
              block_id: 'summary',
              text: { type: 'mrkdwn', text: '*deploy* needs approval' },
            },
            {
              type: 'actions',
              block_id: 'decide',
              elements: [
                {
                  type: 'button',
                  action_id: 'approve',
                  value: 'run-1',
                  text: { type: 'plain_text', text: 'Approve' },
                },
              ],
            },
          ],
        });
      });
      app.action('approve', async ({ ack, body, client, respond }) => {
        await ack();
        seen.actionBody = body as unknown as Record<string, unknown>;
        const triggerId = (body as { trigger_id: string }).trigger_id;
        await client.views.open({
          trigger_id: triggerId,
          view: {
            type: 'modal',
            callback_id: 'approve_modal',
            private_metadata: JSON.stringify({ runId: 'run-1' }),
            title: { type: 'plain_text', text: 'Approve run' },
            submit: { type: 'plain_text', text: 'Approve' },
            blocks: [
              {
                type: 'input',
                block_id: 'reason_block',
                label: { type: 'plain_text', text: 'Reason' },
                element: { type: 'plain_text_input', action_id: 'reason' },
              },
              {
                type: 'actions',
                block_id: 'more',
                elements: [
                  { type: 'button', action_id: 'details', text: { type: 'plain_text', text: 'Details' } },
                ],
              },
            ],
          },
        });
        await respond({ replace_original: true, text: 'Approval in progress' });
      });
      app.action('details', async ({ ack, body, client }) => {
        await ack();
        await client.views.push({
          trigger_id: (body as { trigger_id: string }).trigger_id,
          view: {
            type: 'modal',
            title: { type: 'plain_text', text: 'Details' },
            blocks: [{ type: 'divider' }],
          },
        });
      });
      app.view('approve_modal', async ({ ack, view, client }) => {
        const reason = view.state.values.reason_block?.reason?.value ?? '';
        if (reason.trim() === '') {
          await ack({ response_action: 'errors', errors: { reason_block: 'Please give a reason' } });
          return;
        }
        await ack();
        const meta = JSON.parse(view.private_metadata) as { runId: string };
        await client.chat.postMessage({ channel: GENERAL, text: `Approved ${meta.runId}: ${reason}` });
      });
    });

    // 1. Slash command: the app acks, responds (ephemeral) through the response_url and posts a message.
    const cmd = await sendSlashCommand(emulator, {
      appUrl,
      signingSecret: SIGNING_SECRET,
      command: '/flowgate',
      text: 'deploy',
      userId: ALICE,
      channelId: GENERAL,
    });
    expect(cmd.status).toBe(200);
    expect(seen.command).toMatchObject({
      command: '/flowgate',
      text: 'deploy',
      user_id: ALICE,
      user_name: 'alice',
      channel_id: GENERAL,
      channel_name: 'general',
      team_id: emulator.workspace.teamId,
      team_domain: 'emulator',
      api_app_id: emulator.workspace.appId,
      is_enterprise_install: 'false',
      response_url: cmd.responseUrl,
      trigger_id: cmd.triggerId,
    });
    expect(emulator.ephemerals(ALICE, GENERAL).map((e) => e.text)).toEqual(['Starting deploy…']);
    expect(emulator.responseUrl(cmd.responseUrl)?.uses).toHaveLength(1);
    const [runMessage] = emulator.messages(GENERAL);
    expect(runMessage?.text).toBe('Run needs approval');

    // 2. Button click on that message: the app opens a modal with the click's trigger_id.
    const click = await sendBlockAction(emulator, {
      appUrl,
      signingSecret: SIGNING_SECRET,
      userId: ALICE,
      channelId: GENERAL,
      messageTs: runMessage?.ts ?? '',
      actionId: 'approve',
    });
    expect(click.status).toBe(200);
    expect(seen.actionBody).toMatchObject({
      type: 'block_actions',
      user: { id: ALICE, username: 'alice' },
      container: { type: 'message', message_ts: runMessage?.ts, channel_id: GENERAL, is_ephemeral: false },
      channel: { id: GENERAL, name: 'general' },
      message: { ts: runMessage?.ts, text: 'Run needs approval' },
      response_url: click.responseUrl,
      actions: [{ type: 'button', action_id: 'approve', block_id: 'decide', value: 'run-1' }],
    });
    const [modal] = emulator.openViews(ALICE);
    expect(modal).toMatchObject({ callback_id: 'approve_modal', private_metadata: '{"runId":"run-1"}' });
    expect(emulator.message(GENERAL, runMessage?.ts ?? '')?.text).toBe('Approval in progress');

    // 3. A button inside the modal pushes a second view (trigger from the view container).
    const inModal = await sendViewBlockAction(emulator, {
      appUrl,
      signingSecret: SIGNING_SECRET,
      viewId: modal?.id ?? '',
      actionId: 'details',
    });
    expect(inModal.status).toBe(200);
    expect(inModal.payload).toMatchObject({ container: { type: 'view', view_id: modal?.id } });
    expect(emulator.openViews(ALICE).map((v) => v.title)).toEqual([
      { type: 'plain_text', text: 'Approve run' },
      { type: 'plain_text', text: 'Details' },
    ]);
    const details = emulator.openViews(ALICE)[1];
    emulator.closeView(details?.id ?? '');

    // 4. Submitting without a reason: the app answers response_action "errors", the modal stays open.
    const invalid = await sendViewSubmission(emulator, {
      appUrl,
      signingSecret: SIGNING_SECRET,
      viewId: modal?.id ?? '',
      values: { reason_block: { reason: '  ' } },
    });
    expect(invalid.status).toBe(200);
    expect(invalid.body).toEqual({
      response_action: 'errors',
      errors: { reason_block: 'Please give a reason' },
    });
    expect(invalid.payload).toMatchObject({
      type: 'view_submission',
      view: {
        id: modal?.id,
        callback_id: 'approve_modal',
        hash: modal?.hash,
        state: { values: { reason_block: { reason: { type: 'plain_text_input', value: '  ' } } } },
      },
    });
    expect(emulator.viewRecord(modal?.id ?? '')).toMatchObject({
      open: true,
      errors: { reason_block: 'Please give a reason' },
    });

    // 5. A valid submission: empty ack closes the modal; the app posts the result.
    const valid = await sendViewSubmission(emulator, {
      appUrl,
      signingSecret: SIGNING_SECRET,
      viewId: modal?.id ?? '',
      values: { reason_block: { reason: 'looks good' } },
    });
    expect(valid.status).toBe(200);
    expect(valid.body).toBe('');
    expect(emulator.openViews(ALICE)).toEqual([]);
    expect(emulator.messages(GENERAL).at(-1)?.text).toBe('Approved run-1: looks good');
  });

  test('a slash command answered in the ack body shows up as Slack would show it', async () => {
    const { emulator } = await setup();
    const appUrl = await startApp(emulator, (app) => {
      app.command('/flowgate', async ({ ack }) => {
        await ack({ response_type: 'in_channel', text: 'Visible to all' });
      });
    });
    const res = await sendSlashCommand(emulator, {
      appUrl,
      signingSecret: SIGNING_SECRET,
      command: '/flowgate',
      userId: ALICE,
      channelId: GENERAL,
    });
    expect(res.body).toEqual({ response_type: 'in_channel', text: 'Visible to all' });
    expect(emulator.messages(GENERAL).map((m) => m.text)).toEqual(['Visible to all']);
  });

  test('forged requests are rejected with 401 and never reach the listener', async () => {
    const { emulator } = await setup();
    let handled = 0;
    const appUrl = await startApp(emulator, (app) => {
      app.command('/flowgate', async ({ ack }) => {
        handled += 1;
        await ack();
      });
    });
    const base = {
      appUrl,
      signingSecret: SIGNING_SECRET,
      command: '/flowgate',
      userId: ALICE,
      channelId: GENERAL,
    };
    expect((await sendSlashCommand(emulator, { ...base, forge: { wrongSecret: true } })).status).toBe(401);
    expect((await sendSlashCommand(emulator, { ...base, forge: { staleTimestamp: true } })).status).toBe(401);
    expect((await sendSlashCommand(emulator, { ...base, forge: { tamperedBody: true } })).status).toBe(401);
    expect(handled).toBe(0);
    expect((await sendSlashCommand(emulator, base)).status).toBe(200);
    expect(handled).toBe(1);
  });
});
