/**
 * The run tracker against a real Mastra server: it follows a run to its end whatever the stream
 * does (none at all, cut short, a server answering 503s for a while), stops at a suspension, notices
 * a run that vanished, and hands over to a newer follow of the same run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunSource, RunTracker } from '../../src/following/tracker.ts';
import { MastraClient } from '../../src/mastra/client.ts';
import { isMastraError } from '../../src/mastra/errors.ts';
import type { RunSnapshot, WorkflowEvent } from '../../src/mastra/types.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

let mastra: MastraTestServer;
let client: MastraClient;
/** Workflow runs whose runById answers 503 this many more times. */
const unavailable = new Map<string, number>();

beforeAll(async () => {
  mastra = await startMastraServer({
    intercept: (request) => {
      const runId = /\/runs\/([^/]+)$/.exec(new URL(request.url).pathname)?.[1];
      const left = runId ? unavailable.get(runId) : undefined;
      if (request.method !== 'GET' || !runId || !left) return undefined;
      unavailable.set(runId, left - 1);
      return Response.json({ error: 'Service Unavailable' }, { status: 503 });
    },
  });
  client = new MastraClient({ baseUrl: mastra.url, retries: 0 });
});
afterAll(async () => {
  await client?.close();
  await mastra?.close();
});

function sourceFor(workflowKey: string, runId: string): RunSource {
  const workflow = client.getWorkflow(workflowKey);
  return {
    fetch: (signal) => workflow.runById(runId, { signal }),
    observe: (signal) => workflow.run(runId).observe({ signal }),
    isGone: (error) => isMastraError(error, 'run_not_found'),
  };
}

function follow(
  tracker: RunTracker,
  workflowKey: string,
  runId: string,
  events?: AsyncIterable<WorkflowEvent>,
) {
  const snapshots: RunSnapshot[] = [];
  const done = tracker.follow({
    runId,
    source: sourceFor(workflowKey, runId),
    ...(events ? { events } : {}),
    onSnapshot: (snapshot) => snapshots.push(snapshot),
  });
  return { snapshots, done };
}

/** The first `count` events of a stream, then the connection "drops". */
async function* cutAfter(events: AsyncIterable<WorkflowEvent>, count: number): AsyncIterable<WorkflowEvent> {
  let seen = 0;
  for await (const event of events) {
    yield event;
    if (++seen === count) throw new Error('socket hang up');
  }
}

describe('RunTracker', () => {
  test('a run started elsewhere (no stream): followed to success through observe and polling', async () => {
    const tracker = new RunTracker({ pollIntervalMs: 20 });
    const run = await client.getWorkflow('linearWorkflow').createRun();
    await run.start({ inputData: { value: 4, delayMs: 100 } });
    const { snapshots, done } = follow(tracker, 'linearWorkflow', run.runId);
    const result = await done;
    expect(result.end).toBe('terminal');
    expect(result.snapshot?.payload.workflowState.status).toBe('success');
    expect(result.snapshot?.payload.workflowState.result).toEqual({ text: 'result=10', value: 10 });
    expect(snapshots.at(-1)).toBe(result.snapshot);
  });

  test('a stream cut short: the rest comes from the server, and the states never go backwards', async () => {
    const errors: unknown[] = [];
    const tracker = new RunTracker({ pollIntervalMs: 20, onError: (_, error) => errors.push(error) });
    const run = await client.getWorkflow('linearWorkflow').createRun();
    const events = await run.stream({ inputData: { value: 1, delayMs: 150 } });
    const { snapshots, done } = follow(tracker, 'linearWorkflow', run.runId, cutAfter(events, 3));
    const result = await done;
    expect(errors.map((e) => (e as Error).message)).toContain('socket hang up');
    expect(result.end).toBe('terminal');
    expect(result.snapshot?.payload.workflowState.result).toEqual({ text: 'result=4', value: 4 });
    const order = ['pending', 'running', 'success'];
    const statuses = snapshots.map((s) => order.indexOf(s.payload.workflowState.status));
    expect(statuses).toEqual([...statuses].sort((a, b) => a - b));
    const steps = result.snapshot?.payload.workflowState.steps ?? {};
    expect(Object.values(steps).map((s) => s.status)).toEqual(['success', 'success', 'success']);
  });

  test('a server answering 503 for a while: retried with backoff until the end is known', async () => {
    const errors: unknown[] = [];
    const tracker = new RunTracker({ pollIntervalMs: 10, onError: (_, error) => errors.push(error) });
    const run = await client.getWorkflow('noopWorkflow').createRun();
    unavailable.set(run.runId, 3);
    const events = await run.stream({ inputData: {} });
    const { done } = follow(tracker, 'noopWorkflow', run.runId, events);
    const result = await done;
    expect(errors.filter((e) => isMastraError(e, 'unavailable'))).toHaveLength(3);
    expect(result.end).toBe('terminal');
    expect(result.snapshot?.payload.workflowState.status).toBe('success');
  });

  test('a suspension ends following with the exact path; a run that vanished ends as gone', async () => {
    const tracker = new RunTracker({ pollIntervalMs: 20 });
    const run = await client.getWorkflow('nestedWorkflow').createRun();
    const events = await run.stream({ inputData: { item: 'x' }, closeOnSuspend: true });
    const suspended = await follow(tracker, 'nestedWorkflow', run.runId, events).done;
    expect(suspended.end).toBe('suspended');
    expect(suspended.snapshot?.payload.workflowState.suspended.map((q) => q.path)).toEqual([
      ['inner', 'inner-approve'],
    ]);

    await client.getWorkflow('nestedWorkflow').deleteRun(run.runId);
    const gone = await follow(tracker, 'nestedWorkflow', run.runId).done;
    expect(gone.end).toBe('gone');
    // What was seen before is kept as the starting point.
    expect(gone.snapshot?.payload.workflowState.status).toBe('suspended');
  });

  test('a newer follow of the same run takes over; stop() lets go of the rest', async () => {
    const tracker = new RunTracker({ pollIntervalMs: 20 });
    const run = await client.getWorkflow('linearWorkflow').createRun();
    await run.start({ inputData: { value: 2, delayMs: 200 } });
    const first = follow(tracker, 'linearWorkflow', run.runId);
    const second = follow(tracker, 'linearWorkflow', run.runId);
    expect((await first.done).end).toBe('superseded');
    const result = await second.done;
    expect(result.end).toBe('terminal');
    expect(tracker.current(run.runId)?.payload.workflowState.status).toBe('success');

    const other = await client.getWorkflow('linearWorkflow').createRun();
    await other.start({ inputData: { value: 2, delayMs: 2000 } });
    const third = follow(tracker, 'linearWorkflow', other.runId);
    await tracker.stop();
    expect((await third.done).end).toBe('stopped');
  });

  test('stop() cuts a stream opened by stream() in the middle of a long, silent step', async () => {
    const tracker = new RunTracker({ pollIntervalMs: 20 });
    const workflow = client.getWorkflow('cancelAwareWorkflow');
    const run = await workflow.createRun();
    try {
      const events = await run.stream({ inputData: { durationMs: 20_000 } });
      const { snapshots, done } = follow(tracker, 'cancelAwareWorkflow', run.runId, events);
      await until(() => snapshots.at(-1)?.payload.workflowState.steps['long-step']?.status === 'running');
      const t0 = Date.now();
      await tracker.stop();
      expect(Date.now() - t0).toBeLessThan(5000); // not the 20 s the step takes
      expect((await done).end).toBe('stopped');
      // The run goes on on the server: a follow after a restart picks it up.
      expect((await workflow.runById(run.runId)).status).toBe('running');
    } finally {
      await workflow
        .run(run.runId)
        .cancel()
        .catch(() => {});
    }
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
