/**
 * No edit that changes nothing: a run Flowgate follows by polling the Mastra server (a run started
 * elsewhere, in a long silent step) is rendered on every poll, and its message is edited only when
 * what Slack would show changes.
 */
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { parsePolicy } from '../../src/policy/load.ts';
import { startElsewhere } from '../support/elsewhere.ts';
import { GENERAL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

const SILENT_MS = 3000;

/** One step that says nothing for `SILENT_MS`, then answers. */
function silentWorkflow() {
  const value = z.object({ n: z.number() });
  const think = createStep({
    id: 'think',
    inputSchema: value,
    outputSchema: z.object({ doubled: z.number() }),
    execute: async ({ inputData }) => {
      await new Promise((resolve) => setTimeout(resolve, SILENT_MS));
      return { doubled: inputData.n * 2 };
    },
  });
  return createWorkflow({ id: 'silent', inputSchema: value, outputSchema: z.object({ doubled: z.number() }) })
    .then(think)
    .commit();
}

let mastra: MastraTestServer;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({ workflows: { silentWorkflow: silentWorkflow() } });
  h = await startHarness({
    mastra,
    policy: parsePolicy(
      `workflows:\n  silentWorkflow:\n    channel: ${GENERAL}\n    announce: all\n`,
      'p.yaml',
    ),
  });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
});

describe('no edit that changes nothing', () => {
  test('a run followed by polling through a silent step: its message is edited only when it changes', async () => {
    const runId = await startElsewhere(mastra, 'silentWorkflow', { n: 21 });
    const message = await waitFor('the run posted and ended', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Succeeded') ? m : undefined;
    });
    expect(message.blocks).toContain('doubled');
    const edits = h.emulator.callsOf('chat.update').filter((c) => c.params.ts === message.ts);
    expect(edits.length).toBeGreaterThan(0);
    expect(h.emulator.store.unchangedUpdates.filter((u) => u.ts === message.ts)).toEqual([]);
    expect(h.flowgate.publisher.stats().unchanged).toBeGreaterThan(0);
  });
});
