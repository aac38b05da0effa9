import { describe, expect, test } from 'vitest';
import { clientFor, setup, slackError } from './helpers.ts';

/** Connects like Slack's SDK does and collects what the emulator sends. */
async function connect(url: string): Promise<{ socket: WebSocket; received: Record<string, unknown>[] }> {
  const socket = new WebSocket(url);
  const received: Record<string, unknown>[] = [];
  socket.addEventListener('message', (event) => received.push(JSON.parse(String(event.data))));
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  return { socket, received };
}

async function until<T>(check: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

describe('Socket Mode', () => {
  test('only the app token opens a connection, and it is good for nothing else', async () => {
    const { emulator, client } = await setup();
    const app = clientFor(emulator, emulator.appToken);
    expect((await slackError(client.apps.connections.open())).error).toBe('not_allowed_token_type');
    expect((await slackError(app.auth.test())).error).toBe('not_allowed_token_type');
    expect((await slackError(clientFor(emulator, 'xapp-forged').apps.connections.open())).error).toBe(
      'invalid_auth',
    );
    const opened = await app.apps.connections.open();
    expect(opened.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket-mode\?ticket=/);
  });

  test('hello on connect; an envelope resolves to the payload of its ack', async () => {
    const { emulator } = await setup();
    const { url } = await clientFor(emulator, emulator.appToken).apps.connections.open();
    const { socket, received } = await connect(String(url));
    const hello = await until(() => received.find((m) => m.type === 'hello'));
    expect(hello.connection_info).toEqual({ app_id: emulator.workspace.appId });
    expect(emulator.socketMode.connections).toBe(1);

    const acked = emulator.socketMode.send('slash_commands', { command: '/flowgate', text: 'help' });
    const envelope = await until(() => received.find((m) => m.type === 'slash_commands'));
    expect(envelope).toMatchObject({ payload: { text: 'help' }, accepts_response_payload: true });
    socket.send(JSON.stringify({ envelope_id: envelope.envelope_id, payload: { text: 'Usage' } }));
    await expect(acked).resolves.toEqual({ text: 'Usage' });
    socket.close();
    await until(() => (emulator.socketMode.connections === 0 ? true : undefined));
  });

  test('no connection, or no ack in time, is an error', async () => {
    const { emulator } = await setup();
    await expect(emulator.socketMode.send('interactive', {})).rejects.toThrow(/No app is connected/);
    const { url } = await clientFor(emulator, emulator.appToken).apps.connections.open();
    const { socket } = await connect(String(url));
    await expect(emulator.socketMode.send('interactive', {}, 50)).rejects.toThrow(/did not acknowledge/);
    socket.close();
  });
});
