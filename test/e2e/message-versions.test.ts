/**
 * Message versions across processes: two Flowgate apps on one database in one Slack workspace, and
 * one app restarted on its database. Every edit of a progress message carries the version of the
 * run's state it shows and goes out only if the store's compare-and-set finds it newer than what any
 * process claimed or showed (src/slack/io/edit-guard.ts): a process that holds an older rendering never
 * sends it over a newer one — the final least of all — and none sends an edit that changes nothing.
 */
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { MastraClient } from '../../src/mastra/client.ts';
import { snapshotFromRunState } from '../../src/runs/state.ts';
import { encodeSuspensionRef } from '../../src/slack/ids.ts';
import { type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { yesNoStep } from '../support/mastra/workflows.ts';

/** A gate the test opens: a step waits on it. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open: () => open(), opened };
}

let holding = gate();

/** `holdGate`: a step that runs until the test lets it go, then a yes/no question (Approve / Reject). */
function holdGateWorkflow() {
  const input = z.object({ amount: z.number() });
  const hold = createStep({
    id: 'hold',
    inputSchema: input,
    outputSchema: input,
    execute: async ({ inputData }) => {
      await holding.opened;
      return inputData;
    },
  });
  return createWorkflow({
    id: 'holdGate',
    inputSchema: input,
    outputSchema: z.object({ approved: z.boolean() }),
  })
    .then(hold)
    .then(yesNoStep('ask', input))
    .commit();
}

/** `hold`: one step that runs until the test lets it go. */
function holdWorkflow() {
  const value = z.object({ n: z.number() });
  const hold = createStep({
    id: 'hold',
    inputSchema: value,
    outputSchema: value,
    execute: async ({ inputData }) => {
      await holding.opened;
      return inputData;
    },
  });
  return createWorkflow({ id: 'hold', inputSchema: value, outputSchema: value }).then(hold).commit();
}

let mastra: MastraTestServer;
let client: MastraClient;
beforeAll(async () => {
  mastra = await startMastraServer({
    workflows: { holdGateWorkflow: holdGateWorkflow(), holdWorkflow: holdWorkflow() },
  });
  client = new MastraClient({ baseUrl: mastra.url });
});
afterAll(async () => {
  await client?.close();
  await mastra?.close();
});

describe('message versions across processes', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    a = await startHarness({ mastra });
    // A second app on the same database, in the same workspace (another replica).
    b = await startHarness({ mastra, emulator: a.emulator, dbPath: a.config.dbPath });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  test('a process holding an older rendering never sends it over the final another one delivered', async () => {
    holding = gate();
    const { emulator } = a;
    const runId = await b.startRun('start holdGateWorkflow {"amount": 12}');
    await b.message(runId, (m) => m.text.includes('Running'));
    await b.flowgate.publisher.settled();

    // B follows the run to its question, but Slack answers B's edit with a 429 (Retry-After 6 s):
    // B holds the run waiting for an answer, with its buttons, to send again later.
    emulator.forceRateLimit('chat.update', 1, 6);
    holding.open();
    await waitFor('B rate-limited', () => b.flowgate.publisher.stats().rateLimited > 0);
    await waitFor('the run waits, followed by nobody', async () => {
      const row = await b.flowgate.store.getProgressMessage(runId);
      return row?.status === 'suspended' && row.owner === undefined;
    });

    // The answer reaches A (its Approve button, as B rendered it): A resumes the run, follows it to
    // its end and delivers the final.
    const state = await client.getWorkflow('holdGateWorkflow').runById(runId);
    const question = snapshotFromRunState(state).payload.workflowState.suspended[0]!;
    const message = a.progressMessage(runId)!;
    await a.click(message, 'flowgate_approve', {
      blockId: 'flowgate_step:ask',
      value: encodeSuspensionRef(runId, question),
    });
    await waitFor('recorded as final', async () => (await a.flowgate.store.getProgressMessage(runId))?.final);
    const final = a.progressMessage(runId)!;
    expect(final.text).toContain('Succeeded');
    expect(final.blocks).not.toContain('flowgate_approve');

    // B's Retry-After is over: it tries what it holds again. It must not go over the final.
    await b.flowgate.publisher.settled();
    expect(b.flowgate.publisher.stats().stale).toBe(1);
    const after = a.progressMessage(runId)!;
    expect(after.text).toContain('Succeeded');
    expect(after.blocks).not.toContain('flowgate_approve');
    expect(after.blocks).toBe(final.blocks);
  });
});

describe('message versions across a restart', () => {
  test('a restarted process sends no edit that changes nothing, then the run’s real changes', async () => {
    holding = gate();
    const first = await startHarness({ mastra });
    const { emulator } = first;
    let second: Harness | undefined;
    try {
      const runId = await first.startRun('start holdWorkflow {"n": 7}');
      const running = await first.message(runId, (m) => m.text.includes('Running'));
      await first.flowgate.publisher.settled();
      // Stop Flowgate (not Mastra, not Slack) mid-step, and start it again on its database.
      await first.flowgate.stop();
      const editsBefore = emulator.callsOf('chat.update').filter((c) => c.params.ts === running.ts).length;
      second = await startHarness({ mastra, emulator, dbPath: first.config.dbPath });
      const again = second;
      // It follows the run again and renders it as it is: what the message already shows.
      await waitFor('the run rendered again', () => {
        const stats = again.flowgate.publisher.stats();
        return stats.sent + stats.unchanged + stats.stale > 0;
      });
      await again.flowgate.publisher.settled();
      expect(emulator.callsOf('chat.update').filter((c) => c.params.ts === running.ts).length).toBe(
        editsBefore,
      );
      expect(emulator.store.unchangedUpdates.filter((u) => u.ts === running.ts)).toEqual([]);
      expect(again.flowgate.publisher.stats().sent).toBe(0);
      expect(again.flowgate.publisher.stats().unchanged).toBeGreaterThan(0);
      // The run's real changes still go out.
      holding.open();
      await waitFor(
        'recorded as final',
        async () => (await again.flowgate.store.getProgressMessage(runId))?.final,
      );
      expect(again.progressMessage(runId)?.text).toContain('Succeeded');
      expect(emulator.store.unchangedUpdates.filter((u) => u.ts === running.ts)).toEqual([]);
    } finally {
      await second?.close();
      await emulator.close();
    }
  });
});
