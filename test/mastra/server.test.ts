import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

describe('test Mastra server', () => {
  let server: MastraTestServer;
  beforeAll(async () => {
    server = await startMastraServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  test('lists the test workflows over plain fetch, keyed by registry key', async () => {
    const res = await fetch(`${server.url}/api/workflows`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, { name: string }>;
    expect(Object.keys(body).sort()).toEqual(
      [
        'approvalWorkflow',
        'cancelAwareWorkflow',
        'failingWorkflow',
        'inputFormWorkflow',
        'linearWorkflow',
        'manyStepsWorkflow',
        'nestedWorkflow',
        'noopWorkflow',
        'parallelApprovalWorkflow',
        'simpleApprovalWorkflow',
        'sleepForeachWorkflow',
      ].sort(),
    );
    expect(body.linearWorkflow?.name).toBe('linear-workflow');
    expect(body.nestedWorkflow?.name).toBe('outer');
    const inner = await fetch(`${server.url}/api/workflows/inner`);
    expect(inner.status).toBe(404);
    await inner.body?.cancel();
  });

  test('runs a workflow to completion with start-async', async () => {
    const res = await fetch(`${server.url}/api/workflows/linear-workflow/start-async?runId=srv-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputData: { value: 3 } }),
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { status: string; result: unknown };
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ text: 'result=8', value: 8 });
  });

  test('two servers in one process are independent, and close() ends open streams', async () => {
    const other = await startMastraServer();
    try {
      const res = await fetch(`${other.url}/api/workflows/cancel-aware/stream?runId=long-1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputData: { durationMs: 60_000 } }),
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('workflow-start');
      const drained = (async () => {
        try {
          while (!(await reader.read()).done) {}
        } catch {
          // connection closed by the server: expected
        }
      })();
      await other.close();
      await drained;
      const own = await fetch(`${server.url}/api/workflows/cancel-aware/runs/long-1`);
      expect(own.status).toBe(404);
      await own.body?.cancel();
    } finally {
      await other.close();
    }
  });
});
