import { ErrorCode, type WebAPIHTTPError } from '@slack/web-api';
import { describe, expect, test } from 'vitest';
import { GENERAL, setup, slackError } from './helpers.ts';

async function httpError(promise: Promise<unknown>): Promise<WebAPIHTTPError> {
  try {
    await promise;
  } catch (e) {
    const err = e as WebAPIHTTPError;
    if (err.code === ErrorCode.HTTPError) return err;
    throw e;
  }
  throw new Error('expected an HTTP error');
}

describe('failing Web API methods', () => {
  test('the next N calls of a method answer an HTTP status and do nothing; then it works again', async () => {
    const { client, emulator } = await setup();
    emulator.failCalls('chat.postMessage', { count: 2 });
    for (let i = 0; i < 2; i++)
      expect(
        (await httpError(client.chat.postMessage({ channel: GENERAL, text: `lost ${i}` }))).statusCode,
      ).toBe(500);
    expect((await client.auth.test()).ok).toBe(true); // other methods are not affected
    expect(emulator.messages(GENERAL)).toEqual([]);
    expect(emulator.callsOf('chat.postMessage').map((c) => c.status)).toEqual([500, 500]);
    const posted = await client.chat.postMessage({ channel: GENERAL, text: 'delivered' });
    expect(emulator.message(GENERAL, posted.ts ?? '')?.text).toBe('delivered');
  });

  test('any 4xx/5xx status, until cleared; a status that is not an error is refused', async () => {
    const { client, emulator } = await setup();
    emulator.failCalls('chat.postEphemeral', { status: 503, count: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i++) {
      const call = client.chat.postEphemeral({ channel: GENERAL, user: 'U0EMU0001', text: 'hi' });
      expect((await httpError(call)).statusCode).toBe(503);
    }
    emulator.failCalls('chat.postEphemeral', { count: 0 });
    expect((await client.chat.postEphemeral({ channel: GENERAL, user: 'U0EMU0001', text: 'hi' })).ok).toBe(
      true,
    );
    expect(() => emulator.failCalls('chat.update', { status: 200 })).toThrow(RangeError);
  });

  test('scripted answers for the calls a filter picks, in order: an HTTP error, ok:false, an answer lost after the call took effect', async () => {
    const { client, emulator } = await setup({ rateLimits: false });
    emulator.scriptCalls(
      'chat.postMessage',
      [{ status: 429, retryAfter: 2 }, { error: 'ratelimited' }, 'lost'],
      (params) => params.text === 'scripted',
    );
    expect((await client.chat.postMessage({ channel: GENERAL, text: 'other' })).ok).toBe(true);
    const limited = await client.chat.postMessage({ channel: GENERAL, text: 'scripted' }).catch((e) => e);
    expect(limited).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 2 });
    expect(await slackError(client.chat.postMessage({ channel: GENERAL, text: 'scripted' }))).toMatchObject({
      error: 'ratelimited',
    });
    expect(emulator.messages(GENERAL).map((m) => m.text)).toEqual(['other']);
    const lost = await client.chat.postMessage({ channel: GENERAL, text: 'scripted' }).catch((e) => e);
    expect(lost).toMatchObject({ code: ErrorCode.RequestError });
    expect(emulator.messages(GENERAL).map((m) => m.text)).toEqual(['other', 'scripted']);
    expect(emulator.callsOf('chat.postMessage').map((c) => [c.status, c.lost === true])).toEqual([
      [200, false],
      [429, false],
      [200, false],
      [200, true],
    ]);
    expect((await client.chat.postMessage({ channel: GENERAL, text: 'scripted' })).ok).toBe(true);
    emulator.scriptCalls('chat.postMessage', [{ error: 'fatal_error' }]);
    emulator.clearScripts();
    expect((await client.chat.postMessage({ channel: GENERAL, text: 'cleared' })).ok).toBe(true);
    expect(() => emulator.scriptCalls('chat.update', [{ status: 200 }])).toThrow(RangeError);
  });

  test('message metadata: kept as posted, returned by history and replies only with include_all_metadata', async () => {
    const { client, emulator } = await setup({ rateLimits: false });
    const metadata = { event_type: 'flowgate_notice', event_payload: { key: 'final:run-1' } };
    const parent = await client.chat.postMessage({ channel: GENERAL, text: 'parent' });
    const reply = await client.chat.postMessage({
      channel: GENERAL,
      thread_ts: parent.ts!,
      text: 'r',
      metadata,
    });
    expect(emulator.message(GENERAL, reply.ts!)?.metadata).toEqual(metadata);
    const without = await client.conversations.replies({ channel: GENERAL, ts: parent.ts! });
    expect(without.messages?.some((m) => m.metadata)).toBe(false);
    const replies = await client.conversations.replies({
      channel: GENERAL,
      ts: parent.ts!,
      include_all_metadata: true,
    });
    expect(replies.messages?.find((m) => m.ts === reply.ts)?.metadata).toEqual(metadata);
    await client.chat.postMessage({ channel: GENERAL, text: 'top', metadata });
    const history = await client.conversations.history({ channel: GENERAL, include_all_metadata: true });
    expect(history.messages?.[0]?.metadata).toEqual(metadata);
    expect(
      (await client.conversations.history({ channel: GENERAL })).messages?.[0]?.metadata,
    ).toBeUndefined();
    expect(
      await slackError(
        client.chat.postMessage({
          channel: GENERAL,
          text: 'bad',
          metadata: { event_type: 'not a name!', event_payload: {} },
        }),
      ),
    ).toMatchObject({ error: 'invalid_metadata_format' });
  });
});
