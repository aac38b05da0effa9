/**
 * MastraClient against a real in-process Mastra server (test/support/mastra/server.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MastraClient, type WorkflowEvent, type WorkflowEventStream } from '../../src/index.ts';
import { errorOf } from '../support/mastra/errors.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { createSlowResumeWorkflow, createTestWorkflows } from '../support/mastra/workflows.ts';

let server: MastraTestServer;
let client: MastraClient;

beforeAll(async () => {
  server = await startMastraServer();
  client = new MastraClient({ baseUrl: server.url, retryMinDelayMs: 1, retryMaxDelayMs: 5 });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
});

async function all(stream: Promise<WorkflowEventStream> | WorkflowEventStream): Promise<WorkflowEvent[]> {
  return (await stream).toArray();
}

function types(events: WorkflowEvent[]): string[] {
  return events.map((e) => (e.type === 'data' ? e.name : e.type));
}

/** A stable key of an event for comparing sequences. */
function key(e: WorkflowEvent): string {
  return JSON.stringify(e);
}

async function waitForStatus(workflowId: string, runId: string, statuses: string[]): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const s = await client.getWorkflow(workflowId).runById(runId, { fields: [] });
    if (statuses.includes(s.status)) return s.status;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`run ${runId} never reached ${statuses.join('/')}`);
}

const approval = {
  approved: true,
  priority: 'high',
  score: 9.5,
  comment: 'LGTM',
  dueDate: '2026-12-01',
  tags: ['finance'],
};

describe('workflows', () => {
  test('listWorkflows: every workflow keyed by registry key, schemas decoded', async () => {
    const list = await client.listWorkflows();
    expect(Object.keys(list)).toContain('approvalWorkflow');
    expect(list.approvalWorkflow?.name).toBe('approval-workflow');
    expect(list.approvalWorkflow?.inputSchema).toMatchObject({ type: 'object' });
    expect(list.inputFormWorkflow?.inputSchema).toMatchObject({
      properties: {
        count: { type: 'integer', minimum: 1, maximum: 10 },
        channel: { enum: ['email', 'slack', 'sms'] },
      },
    });
    const partial = await client.listWorkflows({ partial: true });
    expect(partial.approvalWorkflow?.inputSchema).toBeUndefined();
    expect(partial.approvalWorkflow?.name).toBe('approval-workflow');
  });

  test('details: by registry key or id; step schemas (resumeSchema bounds, enums, dates, arrays) decoded', async () => {
    const byKey = await client.getWorkflow('approvalWorkflow').details();
    const byId = await client.getWorkflow('approval-workflow').details();
    expect(byId).toEqual(byKey);
    expect(byKey.description).toBe('prepare -> approve (suspends) -> finalize');
    expect(byKey.steps.approve?.resumeSchema).toMatchObject({
      type: 'object',
      properties: {
        approved: { type: 'boolean' },
        priority: { type: 'string', enum: ['low', 'medium', 'high'] },
        score: { type: 'number', minimum: 0, maximum: 10 },
        comment: { type: 'string' },
        note: { type: 'string' },
        dueDate: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { enum: ['finance', 'legal', 'ops'] } },
      },
      required: ['approved', 'priority', 'score', 'comment', 'dueDate', 'tags'],
    });
    expect(byKey.steps.approve?.suspendSchema).toMatchObject({ properties: { reason: { type: 'string' } } });
    expect(byKey.outputSchema).toMatchObject({ type: 'object' });
  });

  test('details of a nested workflow: allSteps has the inner step with its own resumeSchema', async () => {
    const info = await client.getWorkflow('nestedWorkflow').details();
    expect(info.allSteps.inner?.isWorkflow).toBe(true);
    expect(info.allSteps['inner.inner-approve']?.resumeSchema).toMatchObject({
      properties: { ok: { type: 'boolean' } },
    });
  });

  test('unknown workflow and unregistered nested workflow → workflow_not_found', async () => {
    const e = await errorOf(client.getWorkflow('nope').details());
    expect(e.code).toBe('workflow_not_found');
    expect(e.status).toBe(404);
    expect(e.url).toBe(`${server.url}/api/workflows/nope`);
    expect((await errorOf(client.getWorkflow('inner').details())).code).toBe('workflow_not_found');
    expect((await errorOf(client.getWorkflow('nope').createRun())).code).toBe('workflow_not_found');
  });

  test('path parameters are URL-encoded', async () => {
    const e = await errorOf(client.getWorkflow('a/b?c').details());
    expect(e.code).toBe('workflow_not_found');
    expect(e.url).toBe(`${server.url}/api/workflows/a%2Fb%3Fc`);
    const wf = client.getWorkflow('simpleApprovalWorkflow');
    const run = await wf.createRun({ runId: 'odd id/with?chars&more' });
    expect(run.runId).toBe('odd id/with?chars&more');
    const state = await wf.runById('odd id/with?chars&more');
    expect(state.runId).toBe('odd id/with?chars&more');
    expect(state.status).toBe('pending');
  });

  test('listWorkflowRunCounts counts running and suspended runs per registry key', async () => {
    const own = await startMastraServer();
    const c = new MastraClient({ baseUrl: own.url });
    try {
      await c.getWorkflow('simpleApprovalWorkflow').run('counted').startAsync({ inputData: {} });
      const counts = await c.listWorkflowRunCounts();
      expect(counts.simpleApprovalWorkflow).toEqual({ running: 0, suspended: 1 });
      expect(counts.linearWorkflow).toEqual({ running: 0, suspended: 0 });
    } finally {
      await c.close();
      await own.close();
    }
  });
});

describe('runs', () => {
  test('createRun with runId and resourceId; without runId a uuid; runById of the pending run', async () => {
    const wf = client.getWorkflow('linearWorkflow');
    const run = await wf.createRun({ runId: 'create-1', resourceId: 'user-1' });
    expect(run.runId).toBe('create-1');
    const state = await run.state();
    expect(state).toMatchObject({
      runId: 'create-1',
      resourceId: 'user-1',
      status: 'pending',
      workflowName: 'linear-workflow',
    });
    expect(state.createdAt).toBeInstanceOf(Date);
    expect(state.updatedAt).toBeInstanceOf(Date);
    const anon = await wf.createRun();
    expect(anon.runId).toMatch(/^[0-9a-f-]{36}$/);
    // Same runId again: idempotent.
    expect((await wf.createRun({ runId: 'create-1' })).runId).toBe('create-1');
  });

  test('runById of an unknown run → run_not_found', async () => {
    const e = await errorOf(client.getWorkflow('linearWorkflow').runById('does-not-exist'));
    expect(e.code).toBe('run_not_found');
    expect(e.serverMessage).toBe('Workflow run not found');
  });

  test('start (fire-and-forget) after createRun; the run completes', async () => {
    const wf = client.getWorkflow('linearWorkflow');
    const run = await wf.createRun({ runId: 'start-1' });
    expect(await run.start({ inputData: { value: 10 } })).toEqual({ message: 'Workflow run started' });
    expect(await waitForStatus('linearWorkflow', 'start-1', ['success'])).toBe('success');
    const state = await run.state({ fields: ['result'] });
    expect(state.result).toEqual({ text: 'result=22', value: 22 });
  });

  test('start of a run never created → run_not_found', async () => {
    const e = await errorOf(
      client
        .getWorkflow('linearWorkflow')
        .run('never-created')
        .start({ inputData: { value: 1 } }),
    );
    expect(e.code).toBe('run_not_found');
  });

  test('startAsync: the result with typed steps and Dates (no synthetic input step)', async () => {
    const r = await client
      .getWorkflow('linearWorkflow')
      .run('sa-1')
      .startAsync({ inputData: { value: 3 }, resourceId: 'user-9' });
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ text: 'result=8', value: 8 });
    expect(Object.keys(r.steps)).toEqual(['add-one', 'double', 'format']);
    expect(r.steps['add-one']?.startedAt).toBeInstanceOf(Date);
    expect(r.stepExecutionPath).toEqual(['add-one', 'double', 'format']);
  });

  test('startAsync with invalid inputData → invalid_input', async () => {
    const e = await errorOf(
      client
        .getWorkflow('inputFormWorkflow')
        .run('bad-input-1')
        .startAsync({ inputData: { title: 'x', count: 99, urgent: 'yes', channel: 'fax' } }),
    );
    expect(e.code).toBe('invalid_input');
    expect(e.status).toBe(400);
    expect(e.serverMessage).toMatch(/^Invalid input data/);
    expect(e.message).toMatch(/count/);
  });

  test('startAsync of a failing workflow resolves with status failed and the error', async () => {
    const r = await client
      .getWorkflow('failingWorkflow')
      .run('fail-1')
      .startAsync({ inputData: { message: 'hello' } });
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ message: 'Boom: HELLO' });
    expect(r.steps.boom?.status).toBe('failed');
  });

  test('startAsync suspends: suspended paths and payloads', async () => {
    const r = await client
      .getWorkflow('approvalWorkflow')
      .run('appr-sa-1')
      .startAsync({ inputData: { requestId: 'REQ-2', amount: 10 } });
    expect(r.status).toBe('suspended');
    expect(r.suspended).toEqual([['approve']]);
    expect(r.suspendPayload).toEqual({
      approve: { reason: 'Needs manager approval', requestId: 'REQ-2', amount: 10 },
    });
  });
});

describe('streams', () => {
  test('stream: typed events in order; writer output, custom data, dates', async () => {
    const run = await client.getWorkflow('linearWorkflow').createRun({ runId: 'lin-stream-1' });
    const stream = await run.stream({ inputData: { value: 1 } });
    const events: WorkflowEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(types(events)).toEqual([
      'workflow-start',
      'workflow-step-start',
      'workflow-step-output',
      'data-progress',
      'workflow-step-result',
      'workflow-step-start',
      'workflow-step-output',
      'workflow-step-result',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-finish',
    ]);
    expect(events[2]).toMatchObject({
      from: 'USER',
      payload: { stepName: 'add-one', output: { note: 'add-one started' } },
    });
    expect(events[3]).toMatchObject({
      type: 'data',
      name: 'data-progress',
      data: { step: 'add-one', pct: 50 },
    });
    const result = events[4]!;
    if (result.type !== 'workflow-step-result') throw new Error('expected step result');
    expect(result.payload.endedAt).toBeInstanceOf(Date);
    expect(stream.finish?.payload).toMatchObject({
      workflowStatus: 'success',
      finalWorkflowResult: { text: 'result=4', value: 4 },
    });
    expect(stream.recordsReceived).toBe(11);
  });

  test('a failing run streams a failed workflow-finish as data, not an exception', async () => {
    const events = await all(
      client
        .getWorkflow('failingWorkflow')
        .run('fail-stream-1')
        .stream({ inputData: { message: 'hello' } }),
    );
    const boom = events.find((e) => e.type === 'workflow-step-result' && e.payload.id === 'boom');
    expect(boom).toMatchObject({ payload: { status: 'failed', error: { message: 'Boom: HELLO' } } });
    expect(events.at(-1)).toMatchObject({ type: 'workflow-finish', payload: { workflowStatus: 'failed' } });
  });

  test('stream with invalid inputData: HTTP 200 + workflow-finish failed with the validation error', async () => {
    const events = await all(
      client
        .getWorkflow('linearWorkflow')
        .run('lin-bad-input')
        .stream({ inputData: { value: 'one' } }),
    );
    expect(types(events)).toEqual(['workflow-start', 'workflow-finish']);
    expect(events[1]).toMatchObject({
      payload: {
        workflowStatus: 'failed',
        metadata: { error: { code: 'WORKFLOW_SCHEMA_VALIDATION_FAILED' } },
      },
    });
  });

  test('stream of a run that already finished → already_finished with its status', async () => {
    const run = client.getWorkflow('failingWorkflow').run('fail-stream-2');
    await all(run.stream({ inputData: { message: 'x' } }));
    const e = await errorOf(run.stream({ inputData: { message: 'again' } }));
    expect(e.code).toBe('already_finished');
    expect(e.status).toBe(409);
    expect(e.runStatus).toBe('failed');
  });

  test('breaking out of the loop ends the stream; the run goes on and observe reads it back', async () => {
    const run = client.getWorkflow('linearWorkflow').run('lin-break-1');
    const stream = await run.stream({ inputData: { value: 1, delayMs: 50 } });
    const seen: WorkflowEvent[] = [];
    for await (const e of stream) {
      seen.push(e);
      if (seen.length === 2) break;
    }
    expect(seen).toHaveLength(2);
    expect(await waitForStatus('linearWorkflow', 'lin-break-1', ['success'])).toBe('success');
    const replay = await all(run.observe());
    expect(replay.slice(0, 2).map(key)).toEqual(seen.map(key));
    expect(replay.at(-1)).toMatchObject({ type: 'workflow-finish', payload: { workflowStatus: 'success' } });
    // The stream cannot be iterated again.
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/once/);
  });

  test('an aborted signal stops a stream with code aborted', async () => {
    const controller = new AbortController();
    const stream = await client
      .getWorkflow('cancelAwareWorkflow')
      .run('abort-stream-1')
      .stream({ inputData: { durationMs: 60_000 }, signal: controller.signal });
    const seen: string[] = [];
    const e = await errorOf(
      (async () => {
        for await (const ev of stream) {
          seen.push(ev.type);
          if (ev.type === 'workflow-step-start') controller.abort();
        }
      })(),
    );
    expect(e.code).toBe('aborted');
    expect(seen).toContain('workflow-step-start');
    await client.getWorkflow('cancelAwareWorkflow').run('abort-stream-1').cancel();
  });

  test('an already aborted signal rejects JSON calls and streams with aborted, sending nothing', async () => {
    const signal = AbortSignal.abort();
    expect((await errorOf(client.listWorkflows({ signal }))).code).toBe('aborted');
    expect(
      (
        await errorOf(
          client.getWorkflow('linearWorkflow').run('never-sent').stream({ inputData: {}, signal }),
        )
      ).code,
    ).toBe('aborted');
    expect((await errorOf(client.getWorkflow('linearWorkflow').runById('never-sent'))).code).toBe(
      'run_not_found',
    );
  });

  test('sleep and foreach: waiting and progress events', async () => {
    const events = await all(
      client
        .getWorkflow('sleepForeachWorkflow')
        .run('sf-1')
        .stream({ inputData: { n: 3 } }),
    );
    const waiting = events.find((e) => e.type === 'workflow-step-waiting');
    expect(waiting).toMatchObject({ payload: { status: 'waiting', id: expect.stringMatching(/^sleep_/) } });
    const progress = events.flatMap((e) => (e.type === 'workflow-step-progress' ? [e.payload] : []));
    expect(progress.map((p) => [p.completedCount, p.totalCount, p.iterationOutput])).toEqual([
      [1, 3, { sq: 0 }],
      [2, 3, { sq: 1 }],
      [3, 3, { sq: 4 }],
    ]);
    expect(events.at(-1)).toMatchObject({
      type: 'workflow-finish',
      payload: { workflowStatus: 'success', finalWorkflowResult: [{ sq: 0 }, { sq: 1 }, { sq: 4 }] },
    });
  });

  test('many-steps emits the requested number of writer events over its steps', async () => {
    const events = await all(
      client
        .getWorkflow('manyStepsWorkflow')
        .run('many-1')
        .stream({ inputData: { steps: 30, events: 60, durationMs: 30 } }),
    );
    const outputs = events.filter((e) => e.type === 'workflow-step-output');
    expect(outputs).toHaveLength(60);
    expect(events.filter((e) => e.type === 'workflow-step-result')).toHaveLength(30);
    expect(events.at(-1)).toMatchObject({
      payload: { workflowStatus: 'success', finalWorkflowResult: { emitted: 60 } },
    });
  });
});

describe('resume', () => {
  test('resumeStream of the approval step: events and a successful finish', async () => {
    const run = client.getWorkflow('approvalWorkflow').run('appr-1');
    const first = await all(run.stream({ inputData: { requestId: 'REQ-1', amount: 1250 } }));
    const suspended = first.find((e) => e.type === 'workflow-step-suspended');
    expect(suspended).toMatchObject({
      payload: {
        id: 'approve',
        suspendPayload: { reason: 'Needs manager approval', requestId: 'REQ-1', amount: 1250 },
      },
    });
    expect(first.at(-1)).toMatchObject({ payload: { workflowStatus: 'suspended' } });
    expect((await run.state({ fields: [] })).status).toBe('suspended');

    const resumed = await all(run.resumeStream({ step: 'approve', resumeData: approval }));
    const start = resumed.find((e) => e.type === 'workflow-step-start' && e.payload.id === 'approve');
    expect(start).toMatchObject({ payload: { resumePayload: approval } });
    if (start?.type === 'workflow-step-start') expect(start.payload.resumedAt).toBeInstanceOf(Date);
    expect(resumed.at(-1)).toMatchObject({
      payload: {
        workflowStatus: 'success',
        finalWorkflowResult: { requestId: 'REQ-1', decision: 'approved', comment: 'LGTM' },
      },
    });
  });

  test('invalid resume data → invalid_input; the run stays suspended; then resumeAsync succeeds', async () => {
    const run = client.getWorkflow('approvalWorkflow').run('appr-2');
    await run.startAsync({ inputData: { requestId: 'REQ-2', amount: 5 } });
    const e = await errorOf(
      run.resumeAsync({ step: 'approve', resumeData: { ...approval, score: 11, priority: 'urgent' } }),
    );
    expect(e.code).toBe('invalid_input');
    expect(e.serverMessage).toMatch(/^Invalid resume data/);
    expect((await run.state({ fields: [] })).status).toBe('suspended');
    const r = await run.resumeAsync({ step: 'approve', resumeData: approval });
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ requestId: 'REQ-2', decision: 'approved', comment: 'LGTM' });
  });

  test('resume of a step that is not suspended → not_suspended with the suspended steps', async () => {
    const run = client.getWorkflow('approvalWorkflow').run('appr-3');
    await run.startAsync({ inputData: { requestId: 'REQ-3', amount: 5 } });
    const e = await errorOf(run.resumeAsync({ step: 'prepare', resumeData: approval }));
    expect(e.code).toBe('not_suspended');
    expect(e.status).toBe(500);
    expect(e.suspendedSteps).toEqual([['approve']]);
  });

  test('resume of a finished run → not_suspended (not retried)', async () => {
    const run = client.getWorkflow('linearWorkflow').run('lin-done-1');
    await run.startAsync({ inputData: { value: 1 } });
    const e = await errorOf(run.resumeAsync({ resumeData: {} }));
    expect(e.code).toBe('not_suspended');
    expect(e.serverMessage).toBe('This workflow run was not suspended');
  });

  test('resume of an unknown run → run_not_found', async () => {
    const e = await errorOf(
      client.getWorkflow('approvalWorkflow').run('nope').resumeAsync({ step: 'approve' }),
    );
    expect(e.code).toBe('run_not_found');
  });

  test('resume (fire-and-forget) of a suspended run; the run completes', async () => {
    const run = client.getWorkflow('simpleApprovalWorkflow').run('simple-1');
    await run.startAsync({ inputData: { title: 'Ship it' } });
    expect(await run.resume({ step: 'simple-approve', resumeData: { approved: true } })).toEqual({
      message: 'Workflow run resumed',
    });
    expect(await waitForStatus('simpleApprovalWorkflow', 'simple-1', ['success'])).toBe('success');
    expect((await run.state({ fields: ['result'] })).result).toEqual({ approved: true });
  });

  test('nested workflow: suspended path reported, resumed with a StepPath array', async () => {
    const run = client.getWorkflow('nestedWorkflow').run('nest-1');
    const events = await all(run.stream({ inputData: { item: '  widget  ' } }));
    const suspended = events.filter((e) => e.type === 'workflow-step-suspended');
    expect(suspended.map((e) => (e.type === 'workflow-step-suspended' ? e.payload.id : ''))).toEqual([
      'inner.inner-approve',
      'inner',
    ]);
    const nestedState = await run.state({ fields: ['steps'] });
    expect(nestedState.steps?.['inner.inner-approve']?.status).toBe('suspended');
    const topOnly = await run.state({ fields: ['steps'], withNestedWorkflows: false });
    expect(Object.keys(topOnly.steps ?? {})).toEqual(['outer-prep', 'inner']);
    expect(topOnly.steps?.inner?.status).toBe('suspended');

    const r = await run.resumeAsync({ step: ['inner', 'inner-approve'], resumeData: { ok: true } });
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ item: 'widget', ok: true });
  });

  test('nested workflow: resumeStream with a StepPath array', async () => {
    const run = client.getWorkflow('nestedWorkflow').run('nest-2');
    const start = await run.startAsync({ inputData: { item: 'gadget' } });
    expect(start.suspended).toEqual([['inner', 'inner-approve']]);
    const events = await all(
      run.resumeStream({ step: ['inner', 'inner-approve'], resumeData: { ok: false } }),
    );
    expect(events.at(-1)).toMatchObject({
      payload: { workflowStatus: 'success', finalWorkflowResult: { item: 'gadget', ok: false } },
    });
  });

  test('parallel suspended steps: both reported; resume without a step → invalid_input listing them', async () => {
    const run = client.getWorkflow('parallelApprovalWorkflow').run('par-1');
    const r = await run.startAsync({ inputData: { subject: 'budget' } });
    expect(r.status).toBe('suspended');
    expect(r.suspended).toEqual([['approve-a'], ['approve-b']]);
    const e = await errorOf(run.resumeAsync({ resumeData: { approved: true } }));
    expect(e.code).toBe('invalid_input');
    expect(e.suspendedSteps).toEqual([['approve-a'], ['approve-b']]);
    const afterA = await run.resumeAsync({ step: 'approve-a', resumeData: { approved: true } });
    expect(afterA.status).toBe('suspended');
    expect(afterA.suspended).toEqual([['approve-b']]);
    const afterB = await run.resumeAsync({ step: 'approve-b', resumeData: { approved: false } });
    expect(afterB.status).toBe('success');
    expect(afterB.result).toEqual({ 'approve-a': { approved: true }, 'approve-b': { approved: false } });
  });
});

describe('cancel', () => {
  test('cancel a running run: the stream sees workflow-canceled; the stored status is canceled', async () => {
    const run = client.getWorkflow('cancelAwareWorkflow').run('cancel-1');
    const stream = await run.stream({ inputData: { durationMs: 60_000 } });
    const events: WorkflowEvent[] = [];
    for await (const e of stream) {
      events.push(e);
      if (e.type === 'workflow-step-output') {
        expect(await run.cancel()).toEqual({ message: 'Workflow run cancelled' });
      }
    }
    expect(types(events)).toContain('workflow-canceled');
    expect(events.at(-1)).toMatchObject({ type: 'workflow-finish', payload: { workflowStatus: 'canceled' } });
    expect((await run.state({ fields: [] })).status).toBe('canceled');
  });

  test('cancel of a finished run → already_finished; the stored status stays success', async () => {
    const run = client.getWorkflow('linearWorkflow').run('cancel-done-1');
    await run.startAsync({ inputData: { value: 1 } });
    const e = await errorOf(run.cancel());
    expect(e.code).toBe('already_finished');
    expect(e.runStatus).toBe('success');
    expect(e.message).toMatch(/already finished with status "success"/);
    const state = await run.state({ fields: ['result'] });
    expect(state.status).toBe('success');
    expect(state.result).toEqual({ text: 'result=4', value: 4 });
  });

  test('cancel of an unknown run → run_not_found', async () => {
    expect((await errorOf(client.getWorkflow('linearWorkflow').run('nope').cancel())).code).toBe(
      'run_not_found',
    );
  });
});

describe('observe', () => {
  test('after finish: everything from offset 0, the rest from an offset, nothing past the end', async () => {
    const run = client.getWorkflow('approvalWorkflow').run('obs-1');
    const first = await all(run.stream({ inputData: { requestId: 'R', amount: 1 } }));
    const second = await all(run.resumeStream({ step: 'approve', resumeData: approval }));
    const history = [...first, ...second];
    const replay = await all(run.observe());
    expect(replay.map(key)).toEqual(history.map(key));
    const fromSix = await run.observe({ offset: 6 });
    expect((await fromSix.toArray()).map(key)).toEqual(history.slice(6).map(key));
    expect(fromSix.recordsReceived).toBe(history.length);
    expect(await all(run.observe({ offset: 1000 }))).toEqual([]);
  });

  test('a run started with startAsync (never streamed) observes as empty', async () => {
    const run = client.getWorkflow('linearWorkflow').run('obs-empty');
    await run.startAsync({ inputData: { value: 1 } });
    expect(await all(run.observe())).toEqual([]);
  });

  test('observe of an unknown run → run_not_found from await observe()', async () => {
    expect((await errorOf(client.getWorkflow('linearWorkflow').run('nope').observe())).code).toBe(
      'run_not_found',
    );
  });

  test('observe of a live run (server replays the execution) delivers each event exactly once', async () => {
    const run = client.getWorkflow('linearWorkflow').run('obs-live-1');
    const stream = await run.stream({ inputData: { value: 1, delayMs: 60 } });
    const streamed: WorkflowEvent[] = [];
    const iterator = stream[Symbol.asyncIterator]();
    // Read into the run so the server has a history, then observe live from offset 0 and 2.
    while (streamed.length < 4) {
      const n = await iterator.next();
      if (n.done) throw new Error('ended early');
      streamed.push(n.value);
    }
    const [fromZero, fromTwo] = await Promise.all([all(run.observe()), all(run.observe({ offset: 2 }))]);
    for (;;) {
      const n = await iterator.next();
      if (n.done) break;
      streamed.push(n.value);
    }
    expect(streamed.at(-1)).toMatchObject({
      type: 'workflow-finish',
      payload: { workflowStatus: 'success' },
    });
    expect(fromZero.map(key)).toEqual(streamed.map(key));
    expect(fromTwo.map(key)).toEqual(streamed.slice(2).map(key));
  });

  test('continuing a broken stream with observe({ offset: recordsReceived }) yields the rest once', async () => {
    const run = client.getWorkflow('linearWorkflow').run('obs-live-2');
    const stream = await run.stream({ inputData: { value: 5, delayMs: 60 } });
    const seen: WorkflowEvent[] = [];
    for await (const e of stream) {
      seen.push(e);
      if (e.type === 'workflow-step-output') break;
    }
    const rest = await run.observe({ offset: stream.recordsReceived });
    for await (const e of rest) seen.push(e);
    expect(seen.at(-1)).toMatchObject({ type: 'workflow-finish', payload: { workflowStatus: 'success' } });
    const full = await all(run.observe());
    expect(seen.map(key)).toEqual(full.map(key));
  });

  test('observe of a resumed live run (second execution) delivers each event exactly once', async () => {
    const own = await startMastraServer({
      workflows: { ...createTestWorkflows(), slowResumeWorkflow: createSlowResumeWorkflow() },
    });
    const c = new MastraClient({ baseUrl: own.url });
    try {
      const run = c.getWorkflow('slowResumeWorkflow').run('obs-live-3');
      const first = await all(run.stream({ inputData: { label: 'x' } }));
      expect(first.at(-1)).toMatchObject({ payload: { workflowStatus: 'suspended' } });
      const resumed = await run.resumeStream({ step: 'gate', resumeData: { delayMs: 40 } });
      const second: WorkflowEvent[] = [];
      const iterator = resumed[Symbol.asyncIterator]();
      // Into the second execution (its start + the gate step's events), then observe it live.
      while (!second.some((e) => e.type === 'workflow-step-output')) {
        const n = await iterator.next();
        if (n.done) throw new Error('ended early');
        second.push(n.value);
      }
      const [fromZero, fromFirstEnd, fromMid] = await Promise.all([
        all(run.observe()),
        all(run.observe({ offset: first.length })),
        all(run.observe({ offset: first.length + 3 })),
      ]);
      for (;;) {
        const n = await iterator.next();
        if (n.done) break;
        second.push(n.value);
      }
      const history = [...first, ...second];
      expect(second.at(-1)).toMatchObject({ payload: { workflowStatus: 'success' } });
      expect(fromZero.map(key)).toEqual(history.map(key));
      expect(fromFirstEnd.map(key)).toEqual(history.slice(first.length).map(key));
      expect(fromMid.map(key)).toEqual(history.slice(first.length + 3).map(key));
    } finally {
      await c.close();
      await own.close();
    }
  });
});

describe('run listing', () => {
  test('runs: filters by status and resourceId, pages, dates, total', async () => {
    const own = await startMastraServer();
    const c = new MastraClient({ baseUrl: own.url });
    try {
      const wf = c.getWorkflow('linearWorkflow');
      await wf.run('l-1').startAsync({ inputData: { value: 1 } });
      await wf.createRun({ runId: 'l-2', resourceId: 'user-7' });
      await wf.run('l-2').startAsync({ inputData: { value: 2 } });
      await wf
        .run('l-3')
        .startAsync({ inputData: { value: 'bad' } })
        .catch(() => {});
      const failing = c.getWorkflow('failingWorkflow');
      await failing.run('f-1').startAsync({ inputData: { message: 'x' } });

      const allRuns = await wf.runs();
      expect(allRuns.total).toBe(3);
      expect(allRuns.runs.map((r) => r.runId)).toEqual(['l-3', 'l-2', 'l-1']);
      expect(allRuns.runs[0]?.createdAt).toBeInstanceOf(Date);
      expect(allRuns.runs.map((r) => r.status)).toEqual(['pending', 'success', 'success']);

      const success = await wf.runs({ status: 'success' });
      expect(success.runs.map((r) => r.runId).sort()).toEqual(['l-1', 'l-2']);
      const byResource = await wf.runs({ resourceId: 'user-7' });
      expect(byResource.runs.map((r) => [r.runId, r.resourceId])).toEqual([['l-2', 'user-7']]);
      const page1 = await wf.runs({ page: 1, perPage: 2 });
      expect(page1.runs.map((r) => r.runId)).toEqual(['l-1']);
      expect(page1.total).toBe(3);

      const l2 = allRuns.runs[1]!;
      const from = await wf.runs({ fromDate: l2.createdAt });
      expect(from.runs.map((r) => r.runId)).toEqual(['l-3', 'l-2']);
      const to = await wf.runs({ toDate: l2.createdAt.toISOString() });
      expect(to.runs.map((r) => r.runId)).toEqual(['l-2', 'l-1']);
      expect((await failing.runs({ status: 'failed' })).runs.map((r) => r.runId)).toEqual(['f-1']);

      const e = await errorOf(wf.runs({ perPage: 0 }));
      expect(e.code).toBe('invalid_input');
      expect((await errorOf(c.getWorkflow('nope').runs())).code).toBe('workflow_not_found');
    } finally {
      await c.close();
      await own.close();
    }
  });

  test('runById fields: only the requested ones; [] gives metadata and status only', async () => {
    const wf = client.getWorkflow('linearWorkflow');
    await wf.run('fields-1').startAsync({ inputData: { value: 1 } });
    const full = await wf.runById('fields-1');
    expect(full.steps).toBeDefined();
    expect(full.serializedStepGraph).toBeDefined();
    expect(full.result).toEqual({ text: 'result=4', value: 4 });
    const onlyResult = await wf.runById('fields-1', { fields: ['result'] });
    expect(onlyResult.result).toEqual({ text: 'result=4', value: 4 });
    expect(onlyResult.steps).toBeUndefined();
    const resultAndSteps = await wf.runById('fields-1', { fields: ['result', 'steps'] });
    expect(Object.keys(resultAndSteps.steps ?? {})).toEqual(['add-one', 'double', 'format']);
    const none = await wf.runById('fields-1', { fields: [] });
    expect(Object.keys(none).sort()).toEqual([
      'createdAt',
      'resourceId',
      'runId',
      'status',
      'updatedAt',
      'workflowName',
    ]);
    expect(none.status).toBe('success');
    expect(none.createdAt).toBeInstanceOf(Date);
  });

  test('deleteRun removes the run', async () => {
    const wf = client.getWorkflow('linearWorkflow');
    await wf.createRun({ runId: 'del-1' });
    expect(await wf.deleteRun('del-1')).toEqual({ message: 'Workflow run deleted' });
    expect((await errorOf(wf.runById('del-1'))).code).toBe('run_not_found');
  });
});
