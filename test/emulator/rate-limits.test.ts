import { ErrorCode, type WebAPIRateLimitedError } from '@slack/web-api';
import { describe, expect, test } from 'vitest';
import { RateLimiter } from '../../src/emulator/index.ts';
import { ALICE, fakeClock, GENERAL, PRIVATE, setup } from './helpers.ts';

async function rateLimited(promise: Promise<unknown>): Promise<WebAPIRateLimitedError> {
  try {
    await promise;
  } catch (e) {
    const err = e as WebAPIRateLimitedError;
    if (err.code === ErrorCode.RateLimitedError) return err;
    throw e;
  }
  throw new Error('expected a 429');
}

describe('rate limits over HTTP', () => {
  test('chat.update: 50 per minute, then 429 with Retry-After until the window slides', async () => {
    const { client, emulator, clock } = await setup();
    const posted = await client.chat.postMessage({ channel: GENERAL, text: 'progress' });
    const update = (text: string) => client.chat.update({ channel: GENERAL, ts: posted.ts ?? '', text });
    for (let i = 0; i < 50; i++) {
      await update(`step ${i}`);
      clock.advance(100); // 50 calls spread over 5 s
    }
    const err = await rateLimited(update('one too many'));
    // The first call of the window was at t=0; we are at t=5 s → 55 s to wait.
    expect(err.retryAfter).toBe(55);
    const log = emulator.callsOf('chat.update').at(-1);
    expect(log).toMatchObject({
      status: 429,
      rateLimited: true,
      retryAfter: 55,
      response: { error: 'ratelimited' },
    });
    expect(emulator.message(GENERAL, posted.ts ?? '')?.text).toBe('step 49');

    clock.advance(54_999);
    expect((await rateLimited(update('still early'))).retryAfter).toBe(1);
    clock.advance(1);
    expect((await update('after the window')).ok).toBe(true);
  });

  test('the raw 429 carries Retry-After and {ok:false,error:"ratelimited"}', async () => {
    const { emulator } = await setup();
    emulator.forceRateLimit('auth.test', 1, 7);
    const res = await fetch(`${emulator.apiUrl}auth.test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.botToken}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
  });

  test('a forced limit may answer HTTP 200 {ok:false,error:"ratelimited"} without Retry-After, and does nothing', async () => {
    const { emulator } = await setup();
    emulator.forceRateLimit('chat.postMessage', 1, 1, { status: 200 });
    const post = () =>
      fetch(`${emulator.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${emulator.botToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: GENERAL, text: 'hello' }),
      });
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect(emulator.callsOf('chat.postMessage').at(-1)).toMatchObject({ status: 200, rateLimited: true });
    expect(emulator.messages(GENERAL)).toEqual([]);
    expect((await (await post()).json()).ok).toBe(true);
  });

  test('chat.postMessage: ~1/s per channel with a burst of 3; other channels have their own budget', async () => {
    const { client, clock } = await setup();
    for (let i = 0; i < 3; i++) await client.chat.postMessage({ channel: GENERAL, text: `burst ${i}` });
    const err = await rateLimited(client.chat.postMessage({ channel: GENERAL, text: 'too fast' }));
    expect(err.retryAfter).toBe(1);
    expect((await client.chat.postMessage({ channel: PRIVATE, text: 'other channel' })).ok).toBe(true);
    clock.advance(1000);
    expect((await client.chat.postMessage({ channel: GENERAL, text: 'one more' })).ok).toBe(true);
    await rateLimited(client.chat.postMessage({ channel: GENERAL, text: 'again too fast' }));
  });

  test('forced 429s hit the next N calls only', async () => {
    const { client, emulator } = await setup();
    emulator.forceRateLimit('users.info', 2, 30);
    expect((await rateLimited(client.users.info({ user: ALICE }))).retryAfter).toBe(30);
    expect((await rateLimited(client.users.info({ user: ALICE }))).retryAfter).toBe(30);
    expect((await client.users.info({ user: ALICE })).ok).toBe(true);
  });

  test('limits are adjustable at runtime and can be switched off', async () => {
    const { client, emulator } = await setup();
    emulator.setRateLimit('users.info', { perMinute: 2 });
    await client.users.info({ user: ALICE });
    await client.users.info({ user: ALICE });
    await rateLimited(client.users.info({ user: ALICE }));
    emulator.setRateLimitsEnabled(false);
    expect((await client.users.info({ user: ALICE })).ok).toBe(true);
    emulator.setRateLimitsEnabled(true);
    emulator.setRateLimit('users.info', false);
    for (let i = 0; i < 5; i++) expect((await client.users.info({ user: ALICE })).ok).toBe(true);
  });

  test('rateLimits: false disables every limit', async () => {
    const { client } = await setup({ rateLimits: false });
    for (let i = 0; i < 10; i++)
      expect((await client.chat.postMessage({ channel: GENERAL, text: `${i}` })).ok).toBe(true);
  });

  test('default tiers: postEphemeral 100/min, views.open 100/min, conversations.open 50/min', async () => {
    const { client, emulator } = await setup();
    for (let i = 0; i < 100; i++)
      await client.chat.postEphemeral({ channel: GENERAL, user: ALICE, text: `${i}` });
    await rateLimited(client.chat.postEphemeral({ channel: GENERAL, user: ALICE, text: 'x' }));
    for (let i = 0; i < 50; i++) await client.conversations.open({ users: ALICE });
    await rateLimited(client.conversations.open({ users: ALICE }));
    expect(emulator.rateLimiter.get('views.open')).toEqual({ perMinute: 100 });
    expect(emulator.rateLimiter.get('views.update')).toEqual({ perMinute: 100 });
    expect(emulator.rateLimiter.get('users.info')).toEqual({ perMinute: 100 });
  });
});

describe('RateLimiter', () => {
  test('token bucket refills at perSecond; several rules must all pass', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(clock.now, {
      'chat.postMessage': [{ perSecond: 1, burst: 2, scope: 'channel' }, { perMinute: 3 }],
    });
    expect(limiter.check('chat.postMessage', 'C1').limited).toBe(false);
    expect(limiter.check('chat.postMessage', 'C1').limited).toBe(false);
    expect(limiter.check('chat.postMessage', 'C1')).toEqual({
      limited: true,
      retryAfter: 1,
      forced: false,
      status: 429,
    });
    clock.advance(500);
    expect(limiter.check('chat.postMessage', 'C1').limited).toBe(true);
    clock.advance(500);
    expect(limiter.check('chat.postMessage', 'C1').limited).toBe(false);
    // Workspace-wide: 3 per minute across channels.
    const decision = limiter.check('chat.postMessage', 'C2');
    expect(decision).toEqual({ limited: true, retryAfter: 59, forced: false, status: 429 });
  });
});
