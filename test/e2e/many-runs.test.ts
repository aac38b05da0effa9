/**
 * More runs than live streams: with a stream budget of 4, runs started from Slack and elsewhere
 * all reach their end; commands and clicks are answered while every stream is taken; while nothing
 * changes, runs without a stream cost no request of their own (the shared poll lists them), nor
 * when they end (the lists tell their final state); and the streams carrying runs never exceed
 * the budget.
 */
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { type SlackEmulator, startSlackEmulator } from '../../src/emulator/index.ts';
import { parsePolicy } from '../../src/policy/load.ts';
import { startElsewhere } from '../support/elsewhere.ts';
import { ALICE, BOB, GENERAL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { createTestWorkflows } from '../support/mastra/workflows.ts';

const STREAMS = 4;
const NAP_MS = 10_000;
const FROM_SLACK = 9;
const ELSEWHERE = 4;

/** A step, a long sleep, a step: a run that waits for a while without saying anything. */
function napWorkflow() {
  const value = z.object({ n: z.number() });
  const before = createStep({
    id: 'lie-down',
    inputSchema: value,
    outputSchema: value,
    execute: async ({ inputData }) => inputData,
  });
  const after = createStep({
    id: 'get-up',
    inputSchema: value,
    outputSchema: z.object({ rested: z.number() }),
    execute: async ({ inputData }) => ({ rested: inputData.n }),
  });
  return createWorkflow({ id: 'nap', inputSchema: value, outputSchema: z.object({ rested: z.number() }) })
    .then(before)
    .sleep(NAP_MS)
    .then(after)
    .commit();
}

/** Requests the Mastra server answered, by kind. */
const requests: { at: number; kind: 'run' | 'list' | 'observe' | 'other'; path: string }[] = [];
function kindOf(method: string, path: string) {
  if (/\/runs\/[^/]+$/.test(path) && method === 'GET') return 'run' as const;
  if (path.endsWith('/runs')) return 'list' as const;
  if (path.endsWith('/observe')) return 'observe' as const;
  return 'other' as const;
}

let mastra: MastraTestServer;
let emulator: SlackEmulator;
let h: Harness;
let most = 0;
let sampler: NodeJS.Timeout;
beforeAll(async () => {
  mastra = await startMastraServer({
    workflows: { ...createTestWorkflows(), napWorkflow: napWorkflow() },
    intercept: (request) => {
      const path = new URL(request.url).pathname;
      requests.push({ at: Date.now(), kind: kindOf(request.method, path), path });
      return undefined;
    },
  });
  // Posts are not what this is about: Slack's one post per second per channel would only slow it.
  emulator = await startSlackEmulator({ rateLimits: { 'chat.postMessage': false, 'chat.update': false } });
  h = await startHarness({
    mastra,
    emulator,
    mastraStreams: STREAMS,
    policy: parsePolicy(`workflows:\n  napWorkflow:\n    channel: ${GENERAL}\n    announce: all\n`, 'p.yaml'),
  });
  sampler = setInterval(() => {
    most = Math.max(most, h.flowgate.tracker.streams.streaming);
  }, 5);
});
afterAll(async () => {
  clearInterval(sampler);
  await h?.close();
  await emulator?.close();
  await mastra?.close();
});

function finalOf(runId: string) {
  const m = h.progressMessage(runId);
  return m?.text.includes('Succeeded') ? m : undefined;
}

describe('more runs than live streams', () => {
  test('every run ends, commands and clicks are answered meanwhile, and waiting runs cost no request each', async () => {
    const napping: string[] = [];
    // Started all at once: more streams opening together than the budget.
    const earlier = new Set(h.runIds());
    await Promise.all(Array.from({ length: FROM_SLACK }, (_, n) => h.slash(`start napWorkflow {"n": ${n}}`)));
    napping.push(
      ...(await waitFor('every start posted', () => {
        const fresh = h.runIds().filter((runId) => !earlier.has(runId));
        return fresh.length === FROM_SLACK ? fresh : undefined;
      })),
    );
    for (let n = 0; n < ELSEWHERE; n++)
      napping.push(await startElsewhere(mastra, 'napWorkflow', { n: 100 + n }));
    // Every one shown asleep: those started elsewhere are posted by the watcher.
    await waitFor(
      'every run posted and asleep',
      () =>
        napping.every((runId) => {
          const text = h.progressMessage(runId)?.text ?? '';
          return text.includes('Waiting') || text.includes('Sleeping');
        }),
      NAP_MS - 4000,
    );
    expect(h.flowgate.tracker.streams.cut).toBeGreaterThan(0); // streams went to the newest runs

    // Every stream is taken: a command and a click still get their answers.
    expect(h.flowgate.tracker.streams.held).toBe(STREAMS);
    const before = h.replies(BOB).length;
    await h.slash('runs napWorkflow', { user: BOB });
    const listed = await waitFor('the runs listed', () => h.replies(BOB).slice(before).at(-1));
    expect(listed).toContain('Runs of nap');
    const approval = await h.startRun('start simpleApprovalWorkflow {"title": "While busy?"}', ALICE);
    const message = await h.message(approval);
    const blockId = JSON.parse(message.blocks).find(
      (b: { type: string; block_id?: string }) =>
        b.type === 'actions' && b.block_id?.includes('simple-approve'),
    ).block_id;
    await h.click(message, 'flowgate_approve', { blockId });
    await h.message(approval, (m) => m.text.includes('Succeeded'));

    // Nothing changes for a while: once every run is either streamed or left to the shared check,
    // the runs are followed by the lists alone.
    const { shared, tracker } = h.flowgate;
    await waitFor('every run streamed or waiting for the shared check', () =>
      napping.every((runId) => tracker.streams.holds(runId) || shared.waits(runId)),
    );
    const quietFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const quiet = requests.filter((r) => r.at >= quietFrom && r.at < quietFrom + 1200);
    expect(napping.filter((runId) => finalOf(runId))).toEqual([]); // they all still slept
    expect(quiet.filter((r) => napping.some((runId) => r.path.includes(runId)))).toEqual([]);
    expect(quiet.filter((r) => r.kind === 'list').length).toBeGreaterThan(0);

    // Every nap ends, each shown final.
    for (const runId of napping) await waitFor(`run ${runId} final`, () => finalOf(runId));
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(STREAMS);
    // Runs are read one by one only when they change: a handful of reads each, not one per poll.
    const reads = requests.filter((r) => r.kind === 'run' && napping.some((runId) => r.path.endsWith(runId)));
    expect(reads.length / napping.length).toBeLessThanOrEqual(4);
    // Their ends are not read one by one either: a run followed by the lists is found, ended, in the
    // list of its new status, which tells its state. Only streamed runs read theirs (at most one each).
    const endReads = reads.filter((r) => r.at >= quietFrom + 1200);
    expect(napping.length - STREAMS).toBeGreaterThan(STREAMS);
    expect(endReads.length).toBeLessThanOrEqual(STREAMS);
  });
});
