/**
 * A batch of runs started elsewhere at once is announced at Slack's pace of posts (about one a
 * second per channel) without holding up the watcher: its checks — the shared following of every
 * run without a stream, answers given outside Slack — go on at their interval meanwhile, and each
 * run is still posted exactly once however many checks see it waiting its turn.
 */
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { type SlackEmulator, startSlackEmulator } from '../../src/emulator/index.ts';
import { parsePolicy } from '../../src/policy/load.ts';
import { startElsewhere } from '../support/elsewhere.ts';
import { type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

const CHANNEL = 'C0EMU0002';
const BATCH = 10;

/** A run that asks one question and waits. */
function batchWorkflow() {
  const input = z.object({ n: z.number() });
  const confirm = createStep({
    id: 'confirm',
    inputSchema: input,
    outputSchema: z.object({ ok: z.boolean() }),
    suspendSchema: input,
    resumeSchema: z.object({ ok: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) =>
      resumeData ? { ok: resumeData.ok } : suspend({ n: inputData.n }),
  });
  return createWorkflow({
    id: 'nightly-batch',
    inputSchema: input,
    outputSchema: z.object({ ok: z.boolean() }),
  })
    .then(confirm)
    .commit();
}

const lists: number[] = [];
let mastra: MastraTestServer;
let emulator: SlackEmulator;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({
    workflows: { nightlyBatch: batchWorkflow() },
    intercept: (request) => {
      if (new URL(request.url).pathname.endsWith('/runs')) lists.push(Date.now());
      return undefined;
    },
  });
  emulator = await startSlackEmulator(); // Slack's own pace: about one post a second per channel
  h = await startHarness({
    mastra,
    emulator,
    watchIntervalMs: 200,
    policy: parsePolicy(`workflows:\n  nightlyBatch:\n    channel: ${CHANNEL}\n`, 'p.yaml'),
  });
});
afterAll(async () => {
  await h?.close();
  await emulator?.close();
  await mastra?.close();
});

describe('a batch of runs started elsewhere', () => {
  test('is announced at Slack’s pace while the checks go on, each run posted once', async () => {
    const runIds = await Promise.all(
      Array.from({ length: BATCH }, (_, n) => startElsewhere(mastra, 'nightlyBatch', { n })),
    );
    const postedCount = () => runIds.filter((runId) => h.progressMessage(runId)).length;
    await waitFor('the first announced', () => postedCount() > 0);
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Still announcing (Slack takes a post a second here), and the watcher kept checking meanwhile.
    expect(postedCount()).toBeLessThan(BATCH);
    expect(lists.filter((at) => at >= from + 300 && at < from + 1500).length).toBeGreaterThanOrEqual(3);

    await waitFor('every run announced', () => postedCount() === BATCH, 30_000);
    await h.flowgate.elsewhere.checkNow();
    for (const runId of runIds)
      expect(emulator.messages(CHANNEL).filter((m) => m.text.includes(runId))).toHaveLength(1);
  });
});
