/**
 * Calls to the Mastra server that people wait on never queue behind runs' event streams
 * (src/mastra/transport.ts): with room for a single stream, `status` and `cancel` still answer
 * while a long run streams; a run started beyond it takes the stream of the quietest at once (which
 * goes on being followed without one), and the budget being full is logged once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { ALICE, GENERAL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
const warnings: string[] = [];
beforeAll(async () => {
  h = await startHarness({
    mastraStreams: 1,
    logger: { ...silentLogger, warn: (message) => warnings.push(message) },
  });
});
afterAll(async () => {
  await h?.close();
});

async function command(text: string): Promise<string> {
  const before = h.replies(ALICE).length;
  const result = await h.slash(text, { user: ALICE, channel: GENERAL });
  expect(result.status).toBe(200);
  return waitFor('an ephemeral reply', () => {
    const replies = h.replies(ALICE);
    return replies.length > before ? replies.at(-1) : undefined;
  });
}

describe('connection budgets', () => {
  test('with the one stream held by a long run, status and cancel still answer, and another run starts at once', async () => {
    const done = await h.startRun('start linearWorkflow {"value": 2, "delayMs": 1}');
    await waitFor('success', () => h.progressMessage(done)?.text.includes('Succeeded'));

    const long = await h.startRun('start cancelAwareWorkflow {"durationMs": 60000}');
    await waitFor('running', () => h.progressMessage(long)?.text.includes('Running'));
    expect(await command(`status ${done}`)).toContain('Succeeded');

    // A second long run takes the only stream at once (the quiet one gives way and is followed by
    // the shared check): logged once, naming the setting.
    const second = await h.startRun('start cancelAwareWorkflow {"durationMs": 60000}');
    await waitFor('the warning', () => warnings.some((w) => w.includes('FLOWGATE_MASTRA_STREAMS')));
    expect(warnings.filter((w) => w.includes('FLOWGATE_MASTRA_STREAMS'))).toHaveLength(1);
    expect(warnings.find((w) => w.includes('FLOWGATE_MASTRA_STREAMS'))).toContain(
      'All 1 live event streams to the Mastra server are taken',
    );
    expect((await h.mastraGet(`/api/workflows/cancelAwareWorkflow/runs/${second}`)).status).toBe('running');
    expect(h.flowgate.tracker.streams.holds(second)).toBe(true);
    expect(await command(`status ${long}`)).toContain('Running');

    // Both are still followed: canceled, each message ends canceled.
    expect(await command(`cancel ${long}`)).toContain('Canceled run');
    await waitFor('canceled', () => h.progressMessage(long)?.text.includes('Canceled'));
    expect(await command(`cancel ${second}`)).toContain('Canceled run');
    await waitFor('canceled', () => h.progressMessage(second)?.text.includes('Canceled'));
  });
});
