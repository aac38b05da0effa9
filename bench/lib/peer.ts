/**
 * The outside world of a benchmark, in a process of its own: the Mastra server, the Slack emulator,
 * and the load generator sending signed requests. The Flowgate app under test runs in the parent
 * process, so the latency measured is Flowgate's own, not shared with the harness's event loop.
 *
 * Protocol (IPC): the peer sends `{ type: 'ready', mastraUrl, slackApiUrl, botToken }`; the parent
 * answers `{ type: 'app', appUrl }` (acknowledged with `ok`), then sends `{ type: 'round', kind, concurrency, … }` messages and
 * gets `{ type: 'latencies', values }` back; `{ type: 'stop' }` ends the peer.
 */
import { Agent } from 'node:http';
import { sendBlockAction, sendSlashCommand, startSlackEmulator } from '../../src/emulator/index.ts';
import { startMastraServer } from '../../test/support/mastra/server.ts';

type Message =
  | { type: 'app'; appUrl: string; signingSecret: string }
  | {
      type: 'round';
      kind: 'command' | 'click';
      /** Reuse connections (as an HTTP client with keep-alive would) instead of one per request. */
      keepAlive?: boolean;
      concurrency: number;
      text?: string;
      message?: { channel: string; ts: string };
      value?: string;
    }
  | { type: 'stop' };

const ALICE = 'U0EMU0001';
const GENERAL = 'C0EMU0001';

const mastra = await startMastraServer();
const emulator = await startSlackEmulator({ rateLimits: false });
let app: { appUrl: string; signingSecret: string } | undefined;
const keepAlive = new Agent({ keepAlive: true, maxSockets: 512 });

function send(message: unknown): void {
  process.send?.(message);
}

async function request(m: Extract<Message, { type: 'round' }>): Promise<number> {
  if (!app) throw new Error('no app yet');
  const signed = { ...app, ...(m.keepAlive ? { agent: keepAlive } : {}) };
  const t0 = performance.now();
  const response =
    m.kind === 'command'
      ? await sendSlashCommand(emulator, {
          ...signed,
          command: '/flowgate',
          text: m.text ?? 'help',
          userId: ALICE,
          channelId: GENERAL,
        })
      : await sendBlockAction(emulator, {
          ...signed,
          actionId: 'flowgate_cancel',
          blockId: 'flowgate_run',
          value: m.value ?? '',
          userId: ALICE,
          channelId: m.message?.channel ?? GENERAL,
          messageTs: m.message?.ts ?? '',
        });
  const elapsed = performance.now() - t0;
  if (response.status !== 200) throw new Error(`ack failed: ${response.status}`);
  return elapsed;
}

process.on('message', async (m: Message) => {
  try {
    if (m.type === 'app') {
      app = { appUrl: m.appUrl, signingSecret: m.signingSecret };
      send({ type: 'ok' });
    } else if (m.type === 'round') {
      const values = await Promise.all(Array.from({ length: m.concurrency }, () => request(m)));
      send({ type: 'latencies', values });
    } else if (m.type === 'stop') {
      keepAlive.destroy();
      await emulator.close();
      await mastra.close();
      process.exit(0);
    }
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});

send({ type: 'ready', mastraUrl: mastra.url, slackApiUrl: emulator.apiUrl, botToken: emulator.botToken });
