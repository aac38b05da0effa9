import { ErrorCode, type WebAPIHTTPError } from '@slack/web-api';
import { describe, expect, test } from 'vitest';
import { GENERAL, setup } from './helpers.ts';

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
});
