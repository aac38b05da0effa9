/**
 * The outbox of thread replies and DMs (src/slack/io/outbox.ts) over its real parts: a SQLite store,
 * the gateway, and the Slack emulator answering as Slack does (and as it fails).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type SlackEmulator, startSlackEmulator } from '../../../src/emulator/index.ts';
import type { Logger } from '../../../src/logger.ts';
import { SlackGateway } from '../../../src/slack/io/gateway.ts';
import { type NewNotice, Outbox, type OutboxOptions } from '../../../src/slack/io/outbox.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { ALICE, BOB, GENERAL } from '../../support/flowgate.ts';

let emulator: SlackEmulator;
let gateway: SlackGateway;
let dir: string;
let store: Store;
let parent: string;
const warnings: string[] = [];
const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };

beforeAll(async () => {
  emulator = await startSlackEmulator({ rateLimits: false });
  gateway = new SlackGateway({ token: emulator.botToken, slackApiUrl: emulator.apiUrl });
  dir = mkdtempSync(join(tmpdir(), 'flowgate-outbox-'));
  store = openStore(join(dir, 'flowgate.db'));
  await store.ready();
  parent = (await gateway.postInChannel(GENERAL, { text: 'a run' }, 'interactive')).ts;
});
afterAll(async () => {
  gateway?.close();
  await store?.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  emulator.clearScripts();
  warnings.length = 0;
});

let n = 0;
const reply = (text: string): NewNotice => ({
  key: `test:run-${++n}`,
  runId: `run-${n}`,
  to: { channel: GENERAL, threadTs: parent },
  text,
});
const outbox = (over: Partial<OutboxOptions> = {}) =>
  new Outbox({
    store,
    gateway,
    logger,
    owner: `replica-${++n}`,
    backoffMs: 1,
    maxBackoffMs: 1,
    retryWithinMs: 0, // each attempt by hand here: `tick`
    ...over,
  });
const inThread = (text: string) => emulator.thread(GENERAL, parent).filter((m) => m.text === text);

describe('the outbox', () => {
  test('each notice once: written twice, sent by two replicas at once, it is in Slack once, with its key in the metadata', async () => {
    const notice = reply('once, from two replicas');
    const [a, b] = [outbox(), outbox()];
    await Promise.all([a.send(notice), b.send(notice), a.send({ ...notice, text: 'another text' })]);
    await Promise.all([a.tick(), b.tick()]);
    const posted = inThread('once, from two replicas');
    expect(posted).toHaveLength(1);
    expect(posted[0]!.metadata).toEqual({
      event_type: 'flowgate_notice',
      event_payload: { key: notice.key },
    });
    expect(inThread('another text')).toHaveLength(0);
    expect(await store.getNotice(notice.key)).toMatchObject({
      state: 'sent',
      attempts: 1,
      posted: { channel: GENERAL, ts: posted[0]!.ts },
    });
  });

  test('a permanent error is given up at once, with a warning; a notice never posted is given up after the bounded time', async () => {
    const nowhere: NewNotice = { ...reply('nowhere'), to: { channel: 'C0NOWHERE', threadTs: parent } };
    await outbox().send(nowhere);
    expect(await store.getNotice(nowhere.key)).toMatchObject({
      state: 'given_up',
      error: 'channel_not_found',
    });
    expect(warnings.some((w) => w.includes(nowhere.key) && w.includes('given up'))).toBe(true);

    let now = new Date('2026-12-07T10:00:00Z');
    const clocked = outbox({ now: () => now, giveUpAfterMs: 60_000 });
    const late = reply('too late');
    emulator.scriptCalls(
      'chat.postMessage',
      [{ status: 500 }, { status: 500 }],
      (p) => p.text === 'too late',
    );
    await clocked.send(late);
    expect(await store.getNotice(late.key)).toMatchObject({
      state: 'pending',
      unsure: true,
      error: 'HTTP 500',
    });
    now = new Date(now.getTime() + 60_000);
    await clocked.tick();
    expect(await store.getNotice(late.key)).toMatchObject({ state: 'given_up', attempts: 2 });
    expect(inThread('too late')).toHaveLength(0);
    expect(warnings.some((w) => w.includes(late.key))).toBe(true);
  });

  test('an answer lost after it took effect: the next attempt finds the notice by its key and does not post again', async () => {
    const box = outbox();
    const notice = reply('lost answer');
    emulator.scriptCalls('chat.postMessage', ['lost'], (p) => p.text === 'lost answer');
    await box.send(notice);
    expect(await store.getNotice(notice.key)).toMatchObject({ state: 'pending', unsure: true });
    expect(inThread('lost answer')).toHaveLength(1); // Slack has it; Flowgate does not know
    await box.tick();
    expect(inThread('lost answer')).toHaveLength(1);
    expect(await store.getNotice(notice.key)).toMatchObject({
      state: 'sent',
      posted: { channel: GENERAL, ts: inThread('lost answer')[0]!.ts },
    });
    const looked = emulator.callsOf('conversations.replies').at(-1);
    expect(looked?.params.include_all_metadata).toBeTruthy();
  });

  test('a 429, then ok:false ratelimited: not posted, not unsure, tried again after the Retry-After', async () => {
    let now = new Date('2026-12-07T11:00:00Z');
    const box = outbox({ now: () => now });
    const notice = reply('rate limited');
    emulator.scriptCalls(
      'chat.postMessage',
      [{ status: 429, retryAfter: 30 }, { error: 'ratelimited' }],
      (p) => p.text === 'rate limited',
    );
    await box.send(notice);
    expect(await store.getNotice(notice.key)).toMatchObject({
      state: 'pending',
      unsure: false,
      nextAt: new Date(now.getTime() + 30_000),
    });
    await box.tick(); // not due yet
    expect(emulator.callsOf('chat.postMessage').filter((c) => c.params.text === 'rate limited')).toHaveLength(
      1,
    );
    now = new Date(now.getTime() + 30_000);
    await box.tick();
    expect(await store.getNotice(notice.key)).toMatchObject({ state: 'pending', error: 'rate limited' });
    now = new Date(now.getTime() + 1000);
    await box.tick();
    expect(inThread('rate limited')).toHaveLength(1);
    // No look before posting: Slack said it did nothing.
    expect(await store.getNotice(notice.key)).toMatchObject({ state: 'sent', attempts: 3 });
  });

  test('a DM that asks questions is recorded as asked where Slack posted it, then the run is told', async () => {
    const asked: string[] = [];
    const box = outbox({ onAsked: (runId) => asked.push(runId) });
    const lost = outbox();
    const notice: NewNotice = {
      key: 'dm:run-q:approve#1:U0B',
      runId: 'run-q',
      to: { userId: BOB },
      text: 'A question for you',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'A question for you' } }],
      asks: ['approve#1', 'approve#2'],
    };
    emulator.scriptCalls('chat.postMessage', ['lost'], (p) => p.text === 'A question for you');
    await lost.send(notice);
    expect(await store.listQuestionDms('run-q')).toEqual([]);
    await box.tick();
    const im = emulator.imWith(BOB)!;
    const dms = emulator.messages(im.id).filter((m) => m.text === 'A question for you');
    expect(dms).toHaveLength(1);
    expect(
      (await store.listQuestionDms('run-q')).map((d) => [d.suspensionKey, d.userId, d.channel, d.ts]),
    ).toEqual([
      ['approve#1', BOB, im.id, dms[0]!.ts],
      ['approve#2', BOB, im.id, dms[0]!.ts],
    ]);
    expect(asked).toEqual(['run-q']);
    expect(emulator.messages(emulator.imWith(ALICE)?.id ?? 'none')).toEqual([]);
  });

  test('a notice no longer wanted when it is tried again (a question answered meanwhile) is dropped, quietly', async () => {
    const box = outbox({ wanted: async (notice) => notice.text !== 'answered meanwhile' });
    const notice = reply('answered meanwhile');
    emulator.scriptCalls('chat.postMessage', [{ status: 503 }], (p) => p.text === 'answered meanwhile');
    await box.send(notice);
    await box.tick();
    expect(inThread('answered meanwhile')).toHaveLength(0);
    expect(await store.getNotice(notice.key)).toMatchObject({ state: 'given_up', error: 'no longer needed' });
    expect(warnings.filter((w) => w.includes(notice.key))).toEqual([]);
  });

  test('a lost answer in a busy thread: the notice is found on a later page of replies', async () => {
    const busy = (await gateway.postInChannel(GENERAL, { text: 'a busy run' }, 'interactive')).ts;
    const box = outbox();
    const notice: NewNotice = { ...reply('in a busy thread'), to: { channel: GENERAL, threadTs: busy } };
    await box.add(notice); // written before the thread filled up
    for (let i = 0; i < 250; i++) emulator.postUserMessage(GENERAL, ALICE, `chatter ${i}`, busy);
    emulator.scriptCalls('chat.postMessage', ['lost'], (p) => p.text === 'in a busy thread');
    await box.tick();
    await box.tick();
    const posted = emulator.thread(GENERAL, busy).filter((m) => m.text === 'in a busy thread');
    expect(posted).toHaveLength(1);
    expect(await store.getNotice(notice.key)).toMatchObject({ state: 'sent', posted: { ts: posted[0]!.ts } });
  });
});
