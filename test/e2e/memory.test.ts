/** Memory follows the runs that are not over: nothing of a run is kept once its message is final. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('memory', () => {
  test('runs that ended leave nothing in memory; a run waiting for an answer is still known', async () => {
    const waiting = await h.startRun('start simpleApprovalWorkflow {"title": "keep me"}');
    await h.message(waiting);
    const ended: string[] = [];
    for (let i = 0; i < 5; i++)
      ended.push(await h.startRun(`start linearWorkflow {"value": ${i}, "delayMs": 0}`));
    for (const runId of ended)
      await waitFor(`${runId} final`, async () => (await h.flowgate.store.getProgressMessage(runId))?.final);
    await waitFor(
      'the ended runs forgotten',
      () => h.flowgate.progress.size === 1 && h.flowgate.tracker.size === 1,
    );
    expect(h.flowgate.tracker.current(waiting)).toBeDefined();
    for (const runId of ended) expect(h.flowgate.tracker.current(runId)).toBeUndefined();
    // No stream held, nobody waiting for the shared check: the waiting run is followed by no one.
    expect(h.flowgate.tracker.streams.held).toBe(0);
    expect(h.flowgate.shared.size).toBe(0);
  });
});
