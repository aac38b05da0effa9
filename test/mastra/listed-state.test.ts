/**
 * A run's state read from a run list is the state the server answers for that run: for every kind
 * of run a real server holds (ended each way, waiting on one question or several, a `.foreach()`
 * asking per item, a loop asking again, an initial state, a sleep), `listedRunState` of the run's
 * list item equals `runById` — and runs with nested workflows, whose steps the list does not carry,
 * are left to `runById`.
 */
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { MastraClient } from '../../src/mastra/client.ts';
import { listedRunState } from '../../src/mastra/listed-state.ts';
import type { RunStatus } from '../../src/mastra/types.ts';
import { createConstructWorkflows } from '../support/mastra/constructs.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { createSuspensionWorkflows } from '../support/mastra/suspension-workflows.ts';
import { createTestWorkflows } from '../support/mastra/workflows.ts';

/** A step, then a minute asleep. */
function doze() {
  const n = z.object({ n: z.number() });
  const first = createStep({
    id: 'yawn',
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData }) => inputData,
  });
  return createWorkflow({ id: 'doze', inputSchema: n, outputSchema: n }).then(first).sleep(60_000).commit();
}

let server: MastraTestServer;
let client: MastraClient;
beforeAll(async () => {
  const { tour } = createConstructWorkflows();
  if (!tour) throw new Error('the tour workflow is missing');
  server = await startMastraServer({
    workflows: { ...createTestWorkflows(), ...createSuspensionWorkflows(), tour, dozeWorkflow: doze() },
  });
  client = new MastraClient({ baseUrl: server.url, retryMinDelayMs: 1, retryMaxDelayMs: 5 });
});
afterAll(async () => {
  await server?.close();
});

/** The run's item in its workflow's list of `status`. */
async function listed(workflowKey: string, runId: string, status: RunStatus) {
  const page = await client.getWorkflow(workflowKey).runs({ status, perPage: 100 });
  const item = page.runs.find((r) => r.runId === runId);
  if (!item) throw new Error(`${runId} is not listed as ${status}`);
  return item;
}

async function expectSameAsRunById(workflowKey: string, runId: string, status: RunStatus) {
  const item = await listed(workflowKey, runId, status);
  const byId = await client.getWorkflow(workflowKey).runById(runId);
  expect(byId.status).toBe(status);
  expect(listedRunState(item)).toEqual(byId);
}

describe('a run state read from a run list', () => {
  test('ended: success with outputs, failure with its error, canceled', async () => {
    const linear = await client.getWorkflow('linearWorkflow').createRun();
    await linear.startAsync({ inputData: { value: 4 } });
    await expectSameAsRunById('linearWorkflow', linear.runId, 'success');

    const failing = await client.getWorkflow('failingWorkflow').createRun();
    await failing.startAsync({ inputData: { message: 'listed' } });
    await expectSameAsRunById('failingWorkflow', failing.runId, 'failed');

    const approval = await client.getWorkflow('simpleApprovalWorkflow').createRun();
    await approval.startAsync({ inputData: { title: 'cancel me' } });
    await approval.cancel();
    await expectSameAsRunById('simpleApprovalWorkflow', approval.runId, 'canceled');
  });

  test('waiting on questions: one, two in parallel, one per .foreach() item, a loop asking again', async () => {
    const one = await client.getWorkflow('approvalWorkflow').createRun();
    await one.startAsync({ inputData: { requestId: 'L-1', amount: 70 } });
    await expectSameAsRunById('approvalWorkflow', one.runId, 'suspended');

    const two = await client.getWorkflow('parallelApprovalWorkflow').createRun();
    await two.startAsync({ inputData: { subject: 'both' } });
    await expectSameAsRunById('parallelApprovalWorkflow', two.runId, 'suspended');

    const items = await client.getWorkflow('reviewItemsWorkflow').createRun();
    await items.startAsync({ inputData: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    await expectSameAsRunById('reviewItemsWorkflow', items.runId, 'suspended');

    const loop = await client.getWorkflow('askLoopWorkflow').createRun();
    await loop.startAsync({ inputData: { turn: 1 } });
    await loop.resumeAsync({ resumeData: { answer: 'go on' } });
    await expectSameAsRunById('askLoopWorkflow', loop.runId, 'suspended');
    await loop.resumeAsync({ resumeData: { answer: 'stop' } });
    await expectSameAsRunById('askLoopWorkflow', loop.runId, 'success');
  });

  test('an initial state, and a run asleep', async () => {
    const state = await client.getWorkflow('teamStateWorkflow').createRun();
    await state.startAsync({ inputData: { title: 't' }, initialState: { team: 'ops', limit: 3 } });
    await expectSameAsRunById('teamStateWorkflow', state.runId, 'success');

    const sleeper = await client.getWorkflow('dozeWorkflow').createRun();
    await sleeper.start({ inputData: { n: 2 } });
    const item = await waitListed('dozeWorkflow', sleeper.runId, 'waiting');
    const byId = await client.getWorkflow('dozeWorkflow').runById(sleeper.runId);
    expect(byId.updatedAt).toEqual(item.updatedAt); // read in the same state: asleep for a minute
    expect(listedRunState(item)).toEqual(byId);
    await sleeper.cancel();
  });

  test('runs with nested workflows are left to runById', async () => {
    const nested = await client.getWorkflow('nestedWorkflow').createRun();
    await nested.startAsync({ inputData: { item: 'nested' } });
    expect(listedRunState(await listed('nestedWorkflow', nested.runId, 'suspended'))).toBeUndefined();

    const tour = await client.getWorkflow('tour').createRun();
    await tour.startAsync({ inputData: { n: 2 } });
    expect(listedRunState(await listed('tour', tour.runId, 'success'))).toBeUndefined();
  });

  test('an item that does not read as a run state gives nothing, not an exception', async () => {
    const run = await client.getWorkflow('linearWorkflow').createRun();
    await run.startAsync({ inputData: { value: 1 } });
    const item = await listed('linearWorkflow', run.runId, 'success');
    expect(listedRunState({ ...item, snapshot: { ...item.snapshot, context: { step: 'not a step' } } })).toBe(
      undefined,
    );
    const hostile = JSON.parse('{"input": 1, "__proto__": {"status": "success"}}') as Record<string, unknown>;
    const state = listedRunState({ ...item, snapshot: { ...item.snapshot, context: hostile } });
    expect(state?.status).toBe('success'); // read, with no step of that name
    expect(Object.keys(state?.steps ?? { missing: true })).toEqual([]);
    expect(Object.getPrototypeOf(state?.steps)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).status).toBeUndefined();
  });
});

async function waitListed(workflowKey: string, runId: string, status: RunStatus) {
  for (let i = 0; i < 200; i++) {
    const page = await client.getWorkflow(workflowKey).runs({ status, perPage: 100 });
    const item = page.runs.find((r) => r.runId === runId);
    if (item) return item;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${runId} never listed as ${status}`);
}
