/**
 * Calls to the Mastra server that people wait on never queue behind runs' event streams
 * (src/mastra/transport.ts): with room for a single stream, `status` and `cancel` still answer
 * while a long run streams, and a run beyond the budget is logged as waiting.
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
  test('with the one stream connection held by a long run, status and cancel still answer', async () => {
    const done = await h.startRun('start linearWorkflow {"value": 2, "delayMs": 1}');
    await waitFor('success', () => h.progressMessage(done)?.text.includes('Succeeded'));

    const long = await h.startRun('start cancelAwareWorkflow {"durationMs": 60000}');
    await waitFor('running', () => h.progressMessage(long)?.text.includes('Running'));
    expect(await command(`status ${done}`)).toContain('Succeeded');

    // A second long run's stream waits for the connection: logged once, naming the setting.
    const waiting = await h.startRun('start cancelAwareWorkflow {"durationMs": 60000}');
    await waitFor('the warning', () => warnings.some((w) => w.includes('FLOWGATE_MASTRA_STREAMS')));
    expect(warnings.filter((w) => w.includes('FLOWGATE_MASTRA_STREAMS'))).toEqual([
      "Every one of the 1 connections for runs' event streams to the Mastra server is in use; further runs wait for one to end (raise FLOWGATE_MASTRA_STREAMS).",
    ]);
    expect((await h.mastraGet(`/api/workflows/cancelAwareWorkflow/runs/${waiting}`)).status).toBe('pending');

    expect(await command(`cancel ${long}`)).toContain('Canceled run');
    await waitFor('canceled', () => h.progressMessage(long)?.text.includes('Canceled'));
    // Its stream ended, so the waiting run gets the connection and starts.
    await waitFor('the waiting run running', () => h.progressMessage(waiting)?.text.includes('Running'));
    expect(await command(`cancel ${waiting}`)).toContain('Canceled run');
    await waitFor('canceled', () => h.progressMessage(waiting)?.text.includes('Canceled'));
  });
});
