import { afterEach, describe, expect, test } from 'vitest';
import { ALICE, BOB, GENERAL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { startMastraServer } from '../support/mastra/server.ts';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}

/** Every rendering of a run's message Slack received, in order (postMessage, then each update that landed). */
function renderings(h: Harness, runId: string): string[] {
  const row = h.progressMessage(runId)!;
  return h.emulator.calls
    .filter(
      (c) =>
        (c.method === 'chat.update' && c.params.ts === row.ts && (c.response as { ok?: boolean }).ok) ||
        (c.method === 'chat.postMessage' && (c.response as { ts?: string }).ts === row.ts),
    )
    .map((c) => JSON.stringify(c.params.blocks));
}

/** Steps shown as succeeded, counting those collapsed into summary lines. */
function successCount(blocks: string): number {
  const shown = blocks.match(/white_check_mark/g)?.length ?? 0;
  const collapsed = [...blocks.matchAll(/(\d+) success[,)]/g)].reduce((n, m) => n + Number(m[1]), 0);
  return shown + collapsed;
}

describe('the progress message', () => {
  test('reaches its final state even when Slack answers chat.update with 429s', async () => {
    const h = await harness();
    h.emulator.forceRateLimit('chat.update', 3, 1);
    const runId = await h.startRun('start manyStepsWorkflow {"steps": 5, "events": 20, "durationMs": 500}');
    await waitFor('the final state', () => h.progressMessage(runId)?.text.includes('Succeeded'), 20_000);
    const limited = h.emulator.calls.filter((c) => c.method === 'chat.update' && c.rateLimited);
    expect(limited.length).toBe(3);
    expect(h.flowgate.publisher.stats().rateLimited).toBe(3);
    expect(h.progressMessage(runId)!.blocks).toContain('`step-30` success');
  });

  test('never goes backwards, and two runs in one channel do not interfere', async () => {
    const h = await harness({ updateIntervalMs: 100 });
    const a = await h.startRun('start manyStepsWorkflow {"steps": 8, "events": 40, "durationMs": 800}');
    const b = await h.startRun('start manyStepsWorkflow {"steps": 4, "events": 10, "durationMs": 600}', BOB);
    expect(a).not.toBe(b);
    await waitFor('both final', () =>
      [a, b].every((id) => h.progressMessage(id)?.text.includes('Succeeded')),
    );
    for (const runId of [a, b]) {
      const seen = renderings(h, runId);
      expect(seen.length).toBeGreaterThan(2);
      for (let i = 1; i < seen.length; i++) {
        expect(successCount(seen[i]!)).toBeGreaterThanOrEqual(successCount(seen[i - 1]!));
      }
      // Each message only ever shows its own run.
      for (const blocks of seen) expect(blocks).toContain(runId);
    }
    const rowA = (await h.flowgate.store.getProgressMessage(a))!;
    const rowB = (await h.flowgate.store.getProgressMessage(b))!;
    expect(rowA.ts).not.toBe(rowB.ts);
    expect(h.progressMessage(a)!.blocks).toContain('`step-30` success');
    expect(h.progressMessage(b)!.blocks).toContain('`step-30` success');
    expect(h.progressMessage(b)!.blocks).toContain(`<@${BOB}>`);
  });

  test('at most one update per interval per message: many events, few updates', async () => {
    const h = await harness({ updateIntervalMs: 1000 });
    const runId = await h.startRun(
      'start manyStepsWorkflow {"steps": 10, "events": 100, "durationMs": 2500}',
    );
    await waitFor('the final state', () => h.progressMessage(runId)?.text.includes('Succeeded'), 20_000);
    const updates = renderings(h, runId).length - 1;
    // 2.5 s of run at ≤ 1 update/s, plus the final: far fewer than the ~120 events.
    expect(updates).toBeLessThanOrEqual(6);
  });

  test('nothing lost on restart: a run followed by a stopped app is finished by the next one', async () => {
    const mastra = await startMastraServer();
    try {
      const first = await startHarness({ mastra });
      const dbPath = first.config.dbPath;
      const runId = await first.startRun('start simpleApprovalWorkflow {"title": "after restart"}');
      await waitFor('waiting', () => first.progressMessage(runId)?.blocks.includes('flowgate_approve'));
      const message = first.progressMessage(runId)!;
      // Stop Flowgate (not Mastra), keep its database, start again against the same Slack workspace.
      await first.flowgate.stop();
      const { createFlowgateApp } = await import('../../src/app.ts');
      const { silentLogger } = await import('../../src/logger.ts');
      const second = createFlowgateApp(
        { ...first.config, dbPath },
        { logger: silentLogger, host: '127.0.0.1', pollIntervalMs: 100 },
      );
      const { port } = await second.start();
      try {
        const { sendBlockAction } = await import('../../src/emulator/index.ts');
        const blockId = 'flowgate_step:simple-approve';
        await sendBlockAction(first.emulator, {
          appUrl: `http://127.0.0.1:${port}/slack/events`,
          signingSecret: 'test-signing-secret',
          actionId: 'flowgate_approve',
          blockId,
          userId: ALICE,
          channelId: GENERAL,
          messageTs: message.ts,
        });
        await waitFor('success after restart', () =>
          first.emulator.message(message.channel, message.ts)?.text.includes('Succeeded'),
        );
        // The message is recorded as final once its last rendering was delivered.
        await waitFor('recorded as final', async () => (await second.store.getProgressMessage(runId))?.final);
      } finally {
        await second.stop();
        await first.emulator.close();
      }
    } finally {
      await mastra.close();
    }
  });

  test('a run whose stream cannot be opened: the message ends as not started, the run is removed, the user is told', async () => {
    const mastra = await startMastraServer({
      intercept: (request) =>
        request.method === 'POST' && new URL(request.url).pathname.endsWith('/noopWorkflow/stream')
          ? Response.json({ error: 'Service Unavailable' }, { status: 503 })
          : undefined,
    });
    const h = await startHarness({ mastra });
    try {
      const runId = await h.startRun('start noopWorkflow');
      await waitFor(
        'the final record',
        async () => (await h.flowgate.store.getProgressMessage(runId))?.final,
      );
      const message = h.progressMessage(runId)!;
      expect(message.text).toContain('Failed');
      expect(message.blocks).toContain('The run did not start.');
      expect(message.blocks).not.toContain('flowgate_cancel');
      expect((await h.flowgate.store.getProgressMessage(runId))?.status).toBe('failed');
      await waitFor('the reason', () =>
        h.replies(ALICE).find((r) => r.includes('could not do that right now (HTTP 503)')),
      );
      const gone = await fetch(`${mastra.url}/api/workflows/noopWorkflow/runs/${runId}`);
      expect(gone.status).toBe(404);
      // Nothing keeps following it, and nobody is told it "finished".
      await h.flowgate.progress.idle();
      expect(h.emulator.callsOf('chat.postMessage').filter((c) => c.params.thread_ts)).toHaveLength(0);
    } finally {
      await h.close();
      await mastra.close();
    }
  });

  test('the reply to a start is lost but the run did start: it is followed to its end', async () => {
    const mastra = await startMastraServer({
      intercept: async (request, pass) => {
        if (request.method !== 'POST' || !new URL(request.url).pathname.endsWith('/noopWorkflow/stream'))
          return;
        await (await pass()).text(); // the run goes all the way; its reply never arrives
        return Response.json({ error: 'Bad Gateway' }, { status: 502 });
      },
    });
    const h = await startHarness({ mastra });
    try {
      const runId = await h.startRun('start noopWorkflow');
      await waitFor(
        'the final record',
        async () => (await h.flowgate.store.getProgressMessage(runId))?.final,
      );
      expect(h.progressMessage(runId)?.text).toContain('Succeeded');
      expect((await h.flowgate.store.getProgressMessage(runId))?.status).toBe('success');
      expect(h.replies(ALICE).filter((r) => r.includes('Mastra'))).toHaveLength(0);
    } finally {
      await h.close();
      await mastra.close();
    }
  });

  test('GET /healthz answers 200', async () => {
    const h = await harness();
    const response = await fetch(h.appUrl.replace('/slack/events', '/healthz'));
    expect(response.status).toBe(200);
  });
});
