import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest } from '@slack/bolt';
import { afterEach, describe, expect, test } from 'vitest';
import { sendBlockAction, sendSlashCommand, signSlackRequest } from '../../src/emulator/index.ts';
import { ALICE, GENERAL, setup } from './helpers.ts';

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Captured {
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Array<{ close: () => void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A bare HTTP endpoint that records requests and answers with `reply`. */
async function fakeApp(reply: { status?: number; body?: string; contentType?: string } = {}) {
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(reply.status ?? 200, reply.contentType ? { 'content-type': reply.contentType } : {});
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => server.close() });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, captured };
}

describe('response_url', () => {
  test('ephemeral by default, in_channel on request; 5 uses, the 6th is refused', async () => {
    const { emulator } = await setup();
    const record = emulator.createResponseUrl({ userId: ALICE, channelId: GENERAL, source: 'command' });
    expect(record.url.startsWith(`${emulator.url}/response/`)).toBe(true);

    expect((await post(record.url, { text: 'just you' })).status).toBe(200);
    const inChannel = await post(record.url, { text: 'everyone', response_type: 'in_channel' });
    expect(await inChannel.json()).toEqual({ ok: true });
    for (let i = 0; i < 3; i++) expect((await post(record.url, { text: `more ${i}` })).status).toBe(200);
    const sixth = await post(record.url, { text: 'too many' });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toEqual({ ok: false, error: 'used_url' });

    expect(emulator.ephemerals(ALICE, GENERAL).map((e) => e.text)).toEqual([
      'just you',
      'more 0',
      'more 1',
      'more 2',
    ]);
    expect(emulator.messages(GENERAL).map((m) => m.text)).toEqual(['everyone']);
    expect(record.uses.map((u) => [u.response_type ?? null, u.status, u.error ?? null])).toEqual([
      [null, 200, null],
      ['in_channel', 200, null],
      [null, 200, null],
      [null, 200, null],
      [null, 200, null],
      [null, 404, 'used_url'],
    ]);
  });

  test('expires 30 minutes after it was issued', async () => {
    const { emulator, clock } = await setup();
    const record = emulator.createResponseUrl({ userId: ALICE, channelId: GENERAL, source: 'command' });
    clock.advance(30 * 60 * 1000);
    expect((await post(record.url, { text: 'just in time' })).status).toBe(200);
    clock.advance(1);
    const late = await post(record.url, { text: 'late' });
    expect(late.status).toBe(404);
    expect(await late.json()).toEqual({ ok: false, error: 'expired_url' });
  });

  test('replace_original / delete_original act on the message the interaction came from', async () => {
    const { client, emulator } = await setup();
    const posted = await client.chat.postMessage({ channel: GENERAL, text: 'original' });
    const app = await fakeApp();
    const click = await sendBlockAction(emulator, {
      appUrl: app.url,
      signingSecret: 's',
      userId: ALICE,
      channelId: GENERAL,
      messageTs: posted.ts ?? '',
      actionId: 'x',
      value: 'v',
    });
    const url = click.responseUrl ?? '';
    await post(url, { replace_original: true, text: 'replaced' });
    expect(emulator.message(GENERAL, posted.ts ?? '')?.text).toBe('replaced');
    const record = emulator.responseUrl(url);
    expect(record?.uses[0]).toMatchObject({ replace_original: true, text: 'replaced', ts: posted.ts });
    await post(url, { delete_original: true });
    expect(emulator.message(GENERAL, posted.ts ?? '')).toBeUndefined();
    expect(record?.uses[1]).toMatchObject({ delete_original: true, status: 200 });
  });

  test('invalid blocks are refused with 400', async () => {
    const { emulator } = await setup();
    const record = emulator.createResponseUrl({ userId: ALICE, channelId: GENERAL, source: 'command' });
    const res = await post(record.url, {
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }],
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ok: false, error: 'invalid_blocks' });
  });
});

describe('signed requests', () => {
  test('signSlackRequest matches Bolt’s verification', () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = 'token=x&command=%2Fflowgate';
    const signature = signSlackRequest('secret', ts, body);
    expect(signature).toMatch(/^v0=[0-9a-f]{64}$/);
    const headers = { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts };
    expect(isValidSlackRequest({ signingSecret: 'secret', body, headers })).toBe(true);
    expect(isValidSlackRequest({ signingSecret: 'other', body, headers })).toBe(false);
  });

  test('a slash command is a signed form body with every field Slack sends', async () => {
    const { emulator } = await setup();
    const app = await fakeApp({ status: 200, body: '{"text":"ok"}', contentType: 'application/json' });
    const res = await sendSlashCommand(emulator, {
      appUrl: app.url,
      signingSecret: 'secret',
      command: '/flowgate',
      text: 'run deploy',
      userId: ALICE,
      channelId: GENERAL,
    });
    expect(res).toMatchObject({ status: 200, body: { text: 'ok' } });
    const [request] = app.captured;
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const fields = Object.fromEntries(new URLSearchParams(request?.body ?? ''));
    expect(Object.keys(fields)).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    expect(fields.text).toBe('run deploy');
    const ts = String(request?.headers['x-slack-request-timestamp']);
    expect(request?.headers['x-slack-signature']).toBe(signSlackRequest('secret', ts, request?.body ?? ''));
    // The trigger_id it carried is one the emulator accepts for views.open.
    expect(emulator.store.triggers.get(fields.trigger_id ?? '')?.userId).toBe(ALICE);
    // A JSON ack with text is shown to the user like Slack does.
    expect(emulator.ephemerals(ALICE, GENERAL).map((e) => e.text)).toEqual(['ok']);
  });

  test('forging: wrong secret, stale timestamp, tampered body', async () => {
    const { emulator } = await setup();
    const app = await fakeApp();
    const base = {
      appUrl: app.url,
      signingSecret: 'secret',
      command: '/c',
      userId: ALICE,
      channelId: GENERAL,
    };
    await sendSlashCommand(emulator, { ...base, forge: { wrongSecret: true } });
    await sendSlashCommand(emulator, { ...base, forge: { staleTimestamp: true } });
    await sendSlashCommand(emulator, { ...base, forge: { tamperedBody: true } });
    const verdicts = app.captured.map((r) =>
      isValidSlackRequest({
        signingSecret: 'secret',
        body: r.body,
        headers: {
          'x-slack-signature': String(r.headers['x-slack-signature']),
          'x-slack-request-timestamp': Number(r.headers['x-slack-request-timestamp']),
        },
      }),
    );
    expect(verdicts).toEqual([false, false, false]);
    const staleTs = Number(app.captured[1]?.headers['x-slack-request-timestamp']);
    expect(Math.floor(Date.now() / 1000) - staleTs).toBeGreaterThanOrEqual(360);
    // The stale one is otherwise correctly signed.
    expect(app.captured[1]?.headers['x-slack-signature']).toBe(
      signSlackRequest('secret', staleTs, app.captured[1]?.body ?? ''),
    );
  });
});
