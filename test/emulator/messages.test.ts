import { describe, expect, test } from 'vitest';
import type { EmulatorEvent } from '../../src/emulator/index.ts';
import {
  ALICE,
  BOB,
  CAROL,
  clientFor,
  GENERAL,
  LOCKED,
  PRIVATE,
  RANDOM,
  setup,
  slackError,
} from './helpers.ts';

describe('auth', () => {
  test('auth.test describes the bot', async () => {
    const { client, emulator } = await setup();
    const res = await client.auth.test();
    expect(res).toMatchObject({
      ok: true,
      team_id: emulator.workspace.teamId,
      user_id: emulator.workspace.botUserId,
      bot_id: emulator.workspace.botId,
      url: 'https://emulator.slack.local/',
    });
  });

  test('a wrong token is invalid_auth, a missing one not_authed', async () => {
    const { emulator } = await setup({ botToken: 'xoxb-right' });
    expect((await slackError(clientFor(emulator, 'xoxb-wrong').auth.test())).error).toBe('invalid_auth');
    expect((await slackError(clientFor(emulator, '').auth.test())).error).toBe('not_authed');
    expect((await clientFor(emulator, 'xoxb-right').auth.test()).ok).toBe(true);
  });

  test('the token may come in the form body; JSON bodies are accepted too', async () => {
    const { emulator } = await setup();
    const form = await fetch(`${emulator.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${emulator.botToken}`,
    });
    expect(await form.json()).toMatchObject({ ok: true });
    const json = await fetch(`${emulator.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        authorization: `Bearer ${emulator.botToken}`,
      },
      body: JSON.stringify({
        channel: GENERAL,
        text: 'json',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'from *json*' } }],
      }),
    });
    const body = (await json.json()) as {
      ok: boolean;
      message: { blocks: Array<{ text: { text: string } }> };
    };
    expect(body.ok).toBe(true);
    expect(body.message.blocks[0]?.text.text).toBe('from *json*');
  });

  test('unknown methods answer unknown_method', async () => {
    const { client } = await setup();
    const err = await slackError(client.apiCall('chat.teleport', { channel: GENERAL }));
    expect(err).toMatchObject({ error: 'unknown_method', req_method: 'chat.teleport' });
  });
});

describe('chat', () => {
  test('postMessage stores the message with a unique increasing ts and a bot message shape', async () => {
    const { client, emulator } = await setup();
    const a = await client.chat.postMessage({ channel: GENERAL, text: 'one' });
    const b = await client.chat.postMessage({ channel: GENERAL, text: 'two' });
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(a.ts).toBe('1790000000.000000');
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(a.message).toMatchObject({
      type: 'message',
      text: 'one',
      user: emulator.workspace.botUserId,
      bot_id: emulator.workspace.botId,
      ts: a.ts,
    });
    expect(emulator.messages(GENERAL).map((m) => m.text)).toEqual(['one', 'two']);
    const history = await client.conversations.history({ channel: GENERAL });
    expect(history.messages?.map((m) => m.text)).toEqual(['two', 'one']);
  });

  test('blocks get generated block_ids and come back from history', async () => {
    const { client } = await setup();
    const res = await client.chat.postMessage({
      channel: GENERAL,
      text: 'fallback',
      blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Go' } }] }],
    });
    const block = res.message?.blocks?.[0] as { block_id?: string; elements: Array<{ action_id?: string }> };
    expect(block.block_id).toMatch(/\w+/);
    expect(block.elements[0]?.action_id).toMatch(/\w+/);
  });

  test('threads: replies, reply_broadcast, replies listing and parent bookkeeping', async () => {
    const { client, emulator } = await setup({ rateLimits: false });
    const parent = await client.chat.postMessage({ channel: GENERAL, text: 'parent' });
    const r1 = await client.chat.postMessage({ channel: GENERAL, text: 'r1', thread_ts: parent.ts });
    const r2 = await client.chat.postMessage({
      channel: GENERAL,
      text: 'r2',
      thread_ts: parent.ts ?? '',
      reply_broadcast: true,
    });
    expect(r1.message?.thread_ts).toBe(parent.ts);
    const replies = await client.conversations.replies({ channel: GENERAL, ts: parent.ts ?? '' });
    expect(replies.messages?.map((m) => m.text)).toEqual(['parent', 'r1', 'r2']);
    expect(replies.messages?.[0]).toMatchObject({
      reply_count: 2,
      latest_reply: r2.ts,
      thread_ts: parent.ts,
    });
    // History shows top-level messages and the broadcast reply, newest first.
    const history = await client.conversations.history({ channel: GENERAL });
    expect(history.messages?.map((m) => m.text)).toEqual(['r2', 'parent']);
    expect(history.messages?.[0]?.subtype).toBe('thread_broadcast');
    expect(emulator.thread(GENERAL, parent.ts ?? '')).toHaveLength(3);
    const bad = await slackError(
      client.chat.postMessage({ channel: GENERAL, text: 'x', thread_ts: '1.000001' }),
    );
    expect(bad.error).toBe('invalid_thread_ts');
    expect((await slackError(client.conversations.replies({ channel: GENERAL, ts: '1.000001' }))).error).toBe(
      'thread_not_found',
    );
  });

  test('update changes text/blocks; unknown ts → message_not_found; others’ messages → cant_update_message', async () => {
    const { client, emulator } = await setup();
    const posted = await client.chat.postMessage({
      channel: GENERAL,
      text: 'v1',
      blocks: [{ type: 'section', text: { type: 'plain_text', text: 'v1' } }],
    });
    const updated = await client.chat.update({ channel: GENERAL, ts: posted.ts ?? '', text: 'v2' });
    expect(updated).toMatchObject({ ok: true, channel: GENERAL, ts: posted.ts, text: 'v2' });
    const stored = emulator.message(GENERAL, posted.ts ?? '');
    expect(stored?.text).toBe('v2');
    expect(stored?.blocks).toHaveLength(1); // omitted blocks are kept
    await client.chat.update({ channel: GENERAL, ts: posted.ts ?? '', text: 'v3', blocks: [] });
    expect(emulator.message(GENERAL, posted.ts ?? '')?.blocks).toBeUndefined();

    expect(
      (await slackError(client.chat.update({ channel: GENERAL, ts: '1.000001', text: 'x' }))).error,
    ).toBe('message_not_found');
    const human = emulator.postUserMessage(GENERAL, ALICE, 'mine');
    expect((await slackError(client.chat.update({ channel: GENERAL, ts: human.ts, text: 'x' }))).error).toBe(
      'cant_update_message',
    );
  });

  test('delete removes the message; a parent with replies leaves a tombstone', async () => {
    const { client, emulator } = await setup();
    const lone = await client.chat.postMessage({ channel: GENERAL, text: 'lone' });
    const del = await client.chat.delete({ channel: GENERAL, ts: lone.ts ?? '' });
    expect(del).toMatchObject({ ok: true, channel: GENERAL, ts: lone.ts });
    expect(emulator.message(GENERAL, lone.ts ?? '')).toBeUndefined();
    const parent = await client.chat.postMessage({ channel: GENERAL, text: 'parent' });
    await client.chat.postMessage({ channel: GENERAL, text: 'reply', thread_ts: parent.ts });
    await client.chat.delete({ channel: GENERAL, ts: parent.ts ?? '' });
    expect(emulator.message(GENERAL, parent.ts ?? '')?.subtype).toBe('tombstone');
    expect((await slackError(client.chat.delete({ channel: GENERAL, ts: lone.ts ?? '' }))).error).toBe(
      'message_not_found',
    );
  });

  test('postEphemeral is stored per user and needs the user in the channel', async () => {
    const { client, emulator } = await setup();
    emulator.addUser({ id: 'U0OUTSIDE', name: 'outsider' });
    const res = await client.chat.postEphemeral({ channel: GENERAL, user: ALICE, text: 'only you' });
    expect(res.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(emulator.ephemerals(ALICE, GENERAL).map((e) => e.text)).toEqual(['only you']);
    expect(emulator.ephemerals(BOB)).toEqual([]);
    expect(emulator.messages(GENERAL)).toEqual([]);
    expect(
      (await slackError(client.chat.postEphemeral({ channel: PRIVATE, user: CAROL, text: 'x' }))).error,
    ).toBe('user_not_in_channel');
    expect(
      (await slackError(client.chat.postEphemeral({ channel: GENERAL, user: 'U0OUTSIDE', text: 'x' }))).error,
    ).toBe('user_not_in_channel');
    expect(
      (await slackError(client.chat.postEphemeral({ channel: GENERAL, user: 'UNOPE', text: 'x' }))).error,
    ).toBe('user_not_found');
  });

  test('getPermalink returns archive links (with thread_ts for replies)', async () => {
    const { client } = await setup();
    const parent = await client.chat.postMessage({ channel: GENERAL, text: 'p' });
    const reply = await client.chat.postMessage({ channel: GENERAL, text: 'r', thread_ts: parent.ts });
    const p1 = await client.chat.getPermalink({ channel: GENERAL, message_ts: parent.ts ?? '' });
    expect(p1.permalink).toBe(
      `https://emulator.slack.local/archives/${GENERAL}/p${parent.ts?.replace('.', '')}`,
    );
    const p2 = await client.chat.getPermalink({ channel: GENERAL, message_ts: reply.ts ?? '' });
    expect(p2.permalink).toBe(
      `https://emulator.slack.local/archives/${GENERAL}/p${reply.ts?.replace('.', '')}?thread_ts=${parent.ts}&cid=${GENERAL}`,
    );
    expect((await slackError(client.chat.getPermalink({ channel: GENERAL, message_ts: '1.1' }))).error).toBe(
      'message_not_found',
    );
  });

  test('channel errors: unknown → channel_not_found; private without bot → channel_not_found; refusing → not_in_channel', async () => {
    const { client, emulator } = await setup();
    expect((await slackError(client.chat.postMessage({ channel: 'CNOPE', text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    // Public channel without the bot: allowed (chat:write.public) …
    expect((await client.chat.postMessage({ channel: RANDOM, text: 'public ok' })).ok).toBe(true);
    // … unless the channel refuses non-members.
    expect((await slackError(client.chat.postMessage({ channel: LOCKED, text: 'x' }))).error).toBe(
      'not_in_channel',
    );
    emulator.updateChannel(PRIVATE, { botIsMember: false });
    expect((await slackError(client.chat.postMessage({ channel: PRIVATE, text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    // Joining fixes not_in_channel.
    const joined = await client.conversations.join({ channel: LOCKED });
    expect(joined.channel).toMatchObject({ id: LOCKED, is_member: true });
    expect((await client.chat.postMessage({ channel: LOCKED, text: 'now ok' })).ok).toBe(true);
    const again = await client.conversations.join({ channel: LOCKED });
    expect(again.warning).toBe('already_in_channel');
  });

  test('no content → no_text', async () => {
    const { client } = await setup();
    expect((await slackError(client.chat.postMessage({ channel: GENERAL, text: '' }))).error).toBe('no_text');
  });
});

describe('conversations', () => {
  test('conversations.open creates one IM per user, then reports already_open; DMs work', async () => {
    const { client, emulator } = await setup();
    const first = await client.conversations.open({ users: ALICE });
    const id = first.channel?.id ?? '';
    expect(id).toMatch(/^D/);
    expect(first.already_open).toBeUndefined();
    const second = await client.conversations.open({ users: ALICE });
    expect(second).toMatchObject({ ok: true, no_op: true, already_open: true, channel: { id } });
    const full = await client.conversations.open({ users: ALICE, return_im: true });
    expect(full.channel).toMatchObject({ id, is_im: true, user: ALICE });
    const other = await client.conversations.open({ users: BOB });
    expect(other.channel?.id).not.toBe(id);

    await client.chat.postMessage({ channel: id, text: 'dm' });
    expect(emulator.imWith(ALICE)?.id).toBe(id);
    expect(emulator.messages(id).map((m) => m.text)).toEqual(['dm']);
    // Posting to a user id lands in the same DM.
    const viaUser = await client.chat.postMessage({ channel: ALICE, text: 'dm2' });
    expect(viaUser.channel).toBe(id);
    expect((await slackError(client.conversations.open({ users: 'UNOPE' }))).error).toBe('user_not_found');
    expect((await slackError(client.apiCall('conversations.open', {}))).error).toBe(
      'users_list_not_supplied',
    );
  });

  test('conversations.info reflects membership; history needs membership', async () => {
    const { client } = await setup();
    const info = await client.conversations.info({ channel: RANDOM, include_num_members: true });
    expect(info.channel).toMatchObject({ id: RANDOM, name: 'random', is_channel: true, is_member: false });
    expect(info.channel?.num_members).toBe(3);
    const priv = await client.conversations.info({ channel: PRIVATE });
    expect(priv.channel).toMatchObject({ is_private: true, is_group: true, is_member: true });
    expect((await slackError(client.conversations.history({ channel: RANDOM }))).error).toBe(
      'not_in_channel',
    );
  });

  test('conversations.members lists who is in a conversation, in pages; private ones only to a member', async () => {
    const { client, emulator } = await setup();
    const priv = await client.conversations.members({ channel: PRIVATE });
    expect(new Set(priv.members)).toEqual(new Set([ALICE, BOB, emulator.workspace.botUserId]));
    const first = await client.conversations.members({ channel: GENERAL, limit: 2 });
    expect(first.members).toHaveLength(2);
    const next = first.response_metadata?.next_cursor ?? '';
    expect(next).not.toBe('');
    const rest = await client.conversations.members({ channel: GENERAL, limit: 100, cursor: next });
    expect(rest.response_metadata?.next_cursor).toBe('');
    expect(new Set([...(first.members ?? []), ...(rest.members ?? [])])).toContain(CAROL);
    const dm = (await client.conversations.open({ users: ALICE })).channel?.id ?? '';
    expect(new Set((await client.conversations.members({ channel: dm })).members)).toEqual(
      new Set([ALICE, emulator.workspace.botUserId]),
    );
    emulator.store.updateChannel(PRIVATE, { botIsMember: false });
    expect((await slackError(client.conversations.members({ channel: PRIVATE }))).error).toBe(
      'channel_not_found',
    );
  });

  test('history paginates with cursors', async () => {
    const { client, clock } = await setup();
    for (let i = 0; i < 5; i++) {
      await client.chat.postMessage({ channel: GENERAL, text: `m${i}` });
      clock.advance(1000); // stay within chat.postMessage's 1/s per channel
    }
    const page1 = await client.conversations.history({ channel: GENERAL, limit: 2 });
    expect(page1.messages?.map((m) => m.text)).toEqual(['m4', 'm3']);
    expect(page1.has_more).toBe(true);
    const page2 = await client.conversations.history({
      channel: GENERAL,
      limit: 2,
      cursor: page1.response_metadata?.next_cursor ?? '',
    });
    expect(page2.messages?.map((m) => m.text)).toEqual(['m2', 'm1']);
    const oldest = await client.conversations.history({
      channel: GENERAL,
      oldest: page2.messages?.[0]?.ts ?? '',
    });
    expect(oldest.messages?.map((m) => m.text)).toEqual(['m4', 'm3']);
  });
});

describe('users', () => {
  test('users.info and usergroups.users.list', async () => {
    const { client } = await setup();
    const alice = await client.users.info({ user: ALICE });
    expect(alice.user).toMatchObject({ id: ALICE, name: 'alice', real_name: 'Alice Adams', is_bot: false });
    expect(alice.user?.profile?.email).toBe('alice@emulator.slack.local');
    expect((await slackError(client.users.info({ user: 'UNOPE' }))).error).toBe('user_not_found');
    const group = await client.usergroups.users.list({ usergroup: 'S0EMU0001' });
    expect(group.users).toEqual([ALICE, BOB]);
    expect((await slackError(client.usergroups.users.list({ usergroup: 'SNOPE' }))).error).toBe(
      'no_such_subteam',
    );
  });

  test('a custom workspace seed replaces users, groups and channels', async () => {
    const { client, emulator } = await setup({
      workspace: {
        teamId: 'T123',
        users: [{ id: 'U1', name: 'dora', realName: 'Dora D' }],
        userGroups: [{ id: 'S1', handle: 'devs', users: ['U1'] }],
        channels: [{ id: 'C1', name: 'dev', postRequiresMembership: true, botIsMember: false }],
      },
    });
    expect(emulator.workspace.teamId).toBe('T123');
    expect((await client.users.info({ user: 'U1' })).user?.name).toBe('dora');
    expect((await slackError(client.users.info({ user: ALICE }))).error).toBe('user_not_found');
    expect((await slackError(client.chat.postMessage({ channel: 'C1', text: 'x' }))).error).toBe(
      'not_in_channel',
    );
    expect((await client.usergroups.users.list({ usergroup: 'S1' })).users).toEqual(['U1']);
  });
});

describe('state inspection', () => {
  test('subscribers see calls and changes; the log records params, response and rate limiting', async () => {
    const { client, emulator } = await setup();
    const events: EmulatorEvent[] = [];
    const off = emulator.subscribe((e) => events.push(e));
    const res = await client.chat.postMessage({ channel: GENERAL, text: 'watched' });
    off();
    await client.chat.postMessage({ channel: GENERAL, text: 'unwatched' });
    expect(events.map((e) => e.type)).toEqual(['message_posted', 'call']);
    const [entry] = emulator.callsOf('chat.postMessage');
    expect(entry).toMatchObject({
      method: 'chat.postMessage',
      params: { channel: GENERAL, text: 'watched' },
      time: 1_790_000_000_000,
      status: 200,
      rateLimited: false,
      response: { ok: true, ts: res.ts },
    });
    expect(entry?.params).not.toHaveProperty('token');
  });
});
