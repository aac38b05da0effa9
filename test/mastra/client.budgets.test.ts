/**
 * Connection budgets of the Mastra client (src/mastra/transport.ts): event streams and every other
 * call use separate pools, every other call has one overall deadline, and a full budget is told
 * once. Against the real in-process Mastra server (streams held open by a gated workflow) and a
 * raw server (test/support/mastra/raw-server.ts) that answers only when the test says so.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import type { BudgetExhausted } from '../../src/mastra/index.ts';
import { MastraClient, type WorkflowEventStream } from '../../src/mastra/index.ts';
import { errorOf } from '../support/mastra/errors.ts';
import { startRawServer } from '../support/mastra/raw-server.ts';
import { startMastraServer } from '../support/mastra/server.ts';
import { heldWorkflow } from '../support/mastra/workflows.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('separate budgets for streams and control calls', () => {
  test('with the stream budget full, control calls answer and a further stream waits its turn', async () => {
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const server = await startMastraServer({ workflows: { held: heldWorkflow(() => gate) } });
    cleanups.push(() => server.close());
    const client = new MastraClient({ baseUrl: server.url, streamConnections: 2, connections: 2 });
    cleanups.push(() => client.close());
    const wf = client.getWorkflow('held');
    const runs = await Promise.all([1, 2, 3].map((n) => wf.createRun({ runId: `held-${n}` })));
    const [r1, r2, r3] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];

    // Two streams hold both stream connections until the gate opens.
    const s1 = await r1.stream({ inputData: { n: 1 } });
    const s2 = await r2.stream({ inputData: { n: 2 } });
    let thirdOpened = false;
    const s3 = r3.stream({ inputData: { n: 3 } }).then((s) => {
      thirdOpened = true;
      return s;
    });

    // Every kind of control call still answers.
    expect(Object.keys(await client.listWorkflows({ partial: true }))).toEqual(['held']);
    expect((await wf.runById('held-1', { fields: [] })).status).toBe('running');
    expect((await wf.runs()).total).toBe(3);
    // The third stream never reached the server: its run has not started.
    expect((await r3.state({ fields: [] })).status).toBe('pending');
    expect(thirdOpened).toBe(false);

    open();
    const finished = async (s: WorkflowEventStream | Promise<WorkflowEventStream>) =>
      (await (await s).toArray()).at(-1)?.type;
    expect(await Promise.all([finished(s1), finished(s2), finished(s3)])).toEqual([
      'workflow-finish',
      'workflow-finish',
      'workflow-finish',
    ]);
    expect((await r3.state({ fields: [] })).status).toBe('success');
  });

  test('a full budget is told once, naming the budget and its size', async () => {
    const held: ServerResponse[] = [];
    const server = await startRawServer((_req, res) => {
      held.push(res);
    });
    cleanups.push(() => server.close());
    const notices: BudgetExhausted[] = [];
    const client = new MastraClient({
      baseUrl: server.url,
      connections: 1,
      streamConnections: 1,
      retries: 0,
      onExhausted: (info) => notices.push(info),
    });
    cleanups.push(() => client.close());
    const wf = client.getWorkflow('w');

    const first = wf.runById('r0');
    expect(notices).toEqual([]);
    const waiting = [1, 2, 3, 4].map((n) => wf.runById(`r${n}`));
    expect(notices).toEqual([{ budget: 'control', connections: 1, queued: 1 }]);
    const streams = [1, 2, 3].map((n) => wf.run(`s${n}`).observe());
    expect(notices).toEqual([
      { budget: 'control', connections: 1, queued: 1 },
      { budget: 'streams', connections: 1, queued: 1 },
    ]);

    // Answer everything (each answer frees the connection for the next waiting request).
    const state = {
      runId: 'r',
      workflowName: 'w',
      status: 'running',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    const all = Promise.allSettled([first, ...waiting, ...streams]);
    let answered = 0;
    while (answered < 8) {
      const res = held[answered];
      if (res === undefined) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      if (res.req.url?.includes('/observe')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(state));
      }
      answered++;
    }
    const settled = await all;
    expect(settled.slice(0, 5).map((s) => s.status)).toEqual(Array(5).fill('fulfilled'));
    expect(notices).toHaveLength(2);
  });
});

describe('overall deadline of control calls', () => {
  test('a server that never answers: a typed `unavailable` within the deadline, retries included', async () => {
    const server = await startRawServer(() => {});
    cleanups.push(() => server.close());
    const client = new MastraClient({
      baseUrl: server.url,
      deadlineMs: 50,
      retries: 3,
      retryMinDelayMs: 1,
      retryMaxDelayMs: 2,
    });
    cleanups.push(() => client.close());
    const wf = client.getWorkflow('w');
    const e = await errorOf(wf.runById('r1'));
    expect(e.code).toBe('unavailable');
    expect(e.message).toContain('within 50 ms');
    const started = await errorOf(wf.run('r1').start({ inputData: {} }));
    expect(started.code).toBe('unavailable');
    // A caller's own abort stays `aborted`.
    const controller = new AbortController();
    const aborted = wf.runById('r2', { signal: controller.signal, deadlineMs: 60_000 });
    controller.abort();
    expect((await errorOf(aborted)).code).toBe('aborted');
  });

  test('a call waiting for a connection of a full budget fails at the deadline too', async () => {
    const server = await startRawServer(() => {});
    const client = new MastraClient({ baseUrl: server.url, connections: 1, retries: 0 });
    cleanups.push(() => client.close());
    cleanups.push(() => server.close()); // first: ends the request that holds the connection
    const wf = client.getWorkflow('w');
    const busy = errorOf(wf.runById('r1', { deadlineMs: 60_000 }));
    const e = await errorOf(wf.runById('r2', { deadlineMs: 20 }));
    expect(e.code).toBe('unavailable');
    expect(server.requests.map((r) => r.url)).toEqual(['/api/workflows/w/runs/r1']);
    await server.close();
    expect((await busy).code).toBe('unavailable');
  });
});
