import { describe, expect, test } from 'vitest';
import { parseRecordsSync } from '../../src/mastra/records.ts';
import { runStateSchema, toWorkflowEvent } from '../../src/mastra/schemas.ts';
import type { RunSnapshot, WorkflowEvent } from '../../src/mastra/types.ts';
import {
  initialSnapshot,
  reduceEvents,
  reduceRun,
  snapshotFromRunState,
  stepIdsFromGraph,
} from '../../src/runs/state.ts';
import { own } from '../../src/util/safe-objects.ts';
import { loadFixture } from '../support/mastra/fixtures.ts';

const AT = new Date(1_800_000_000_000);

function events(fixture: string): WorkflowEvent[] {
  return parseRecordsSync(loadFixture(fixture).body).map(toWorkflowEvent);
}

function fold(list: WorkflowEvent[], start?: RunSnapshot): RunSnapshot {
  const snapshot = reduceEvents(list, start, AT);
  if (!snapshot) throw new Error('no events');
  return snapshot;
}

function runState(fixture: string) {
  return runStateSchema.parse(JSON.parse(loadFixture(fixture).text));
}

const state = (s: RunSnapshot) => s.payload.workflowState;

describe('reduceRun over captured streams', () => {
  test('a suspension: status, step states, the suspend payload and the exact resume path', () => {
    const s = fold(events('15'));
    expect(state(s).status).toBe('suspended');
    expect(state(s).steps.prepare?.status).toBe('success');
    expect(state(s).steps.approve).toMatchObject({
      status: 'suspended',
      suspendPayload: { requestId: 'REQ-1', amount: 1250 },
    });
    expect(state(s).suspended.map((q) => q.path)).toEqual([['approve']]);
    expect(s.payload.currentStep?.id).toBe('approve');
  });

  test('the resume stream carries the same run on to success with its result', () => {
    const s = fold(events('26'), fold(events('15')));
    expect(state(s).status).toBe('success');
    expect(state(s).suspended.map((q) => q.path)).toEqual([]);
    expect(state(s).steps.approve?.status).toBe('success');
    expect(state(s).result).toEqual({ requestId: 'REQ-1', decision: 'approved', comment: 'LGTM' });
  });

  test('nested suspension: the path comes from the parent record, the inner payload stays clean', () => {
    const s = fold(events('57'));
    expect(state(s).suspended.map((q) => q.path)).toEqual([['inner', 'inner-approve']]);
    expect(state(s).steps['inner.inner-approve']?.suspendPayload).toEqual({ ask: 'ok to ship widget?' });
    expect(state(s).steps.inner?.suspendPayload).toEqual({ ask: 'ok to ship widget?' });
  });

  test('a failing step: failed run, the step error as the run error', () => {
    const s = fold(events('41'));
    expect(state(s).status).toBe('failed');
    expect(state(s).steps.boom).toMatchObject({ status: 'failed', error: { message: 'Boom: HELLO' } });
    expect(state(s).error?.message).toBe('Boom: HELLO');
  });

  test('an execution error before any step (invalid input) fails with the server message', () => {
    const s = fold(events('44'));
    expect(state(s).status).toBe('failed');
    expect(state(s).error?.message).toMatch(/Invalid input data/);
  });

  test('canceled midway: the run is canceled and no step is left running', () => {
    const s = fold(events('56'));
    expect(state(s).status).toBe('canceled');
    expect(Object.values(state(s).steps).some((step) => step.status === 'running')).toBe(false);
  });

  test('writer output and foreach progress land on their steps', () => {
    const linear = fold(events('31'));
    expect(state(linear).steps['add-one']?.writerOutput).toEqual({ note: 'add-one started', at: 'start' });
    const foreach = fold(events('76'));
    expect(state(foreach).steps['square-item']?.progress).toEqual({ completed: 3, total: 3 });
    expect(state(foreach).result).toEqual([{ sq: 0 }, { sq: 1 }, { sq: 4 }]);
  });

  test('closeOnSuspend:false ends with "suspended" after the run went on: not believed', () => {
    const s = fold(events('75'));
    expect(state(s).status).not.toBe('suspended');
    expect(state(s).suspended.map((q) => q.path)).toEqual([]);
    expect(state(s).steps.finalize?.status).toBe('success');
  });

  test('a resumed parallel branch ending in "success" while another waits stays suspended', () => {
    const base = initialSnapshot('r', [], AT);
    const suspended = (id: string): WorkflowEvent => ({
      type: 'workflow-step-suspended',
      runId: 'r',
      from: 'WORKFLOW',
      payload: { id, stepName: id, status: 'suspended', startedAt: AT, suspendedAt: AT, suspendPayload: {} },
    });
    let s = fold([suspended('a'), suspended('b')], base);
    expect(state(s).suspended.map((q) => q.path)).toEqual([['a'], ['b']]);
    s = fold(
      [
        { type: 'workflow-start', runId: 'r', from: 'WORKFLOW', payload: { workflowId: 'w' } },
        {
          type: 'workflow-step-result',
          runId: 'r',
          from: 'WORKFLOW',
          payload: { id: 'a', stepName: 'a', status: 'success', endedAt: AT },
        },
        {
          type: 'workflow-finish',
          runId: 'r',
          from: 'WORKFLOW',
          payload: { workflowStatus: 'success', metadata: {} },
        },
      ],
      s,
    );
    expect(state(s).status).toBe('suspended');
    expect(state(s).suspended.map((q) => q.path)).toEqual([['b']]);
  });

  test('replaying events changes nothing: folding a stream twice equals folding it once', () => {
    for (const fixture of ['15', '31', '41', '56', '57', '76']) {
      const once = fold(events(fixture));
      const twice = fold(events(fixture), once);
      expect(state(twice)).toEqual(state(once));
    }
  });

  test('records that change nothing return the same snapshot (no re-render)', () => {
    const s = fold(events('15'));
    expect(reduceRun(s, { type: 'data', name: 'data-x', runId: 'r', from: 'WORKFLOW', data: {} }, AT)).toBe(
      s,
    );
    expect(reduceRun(s, { type: 'unknown', originalType: 'x', runId: 'r', record: {} }, AT)).toBe(s);
  });
});

describe('snapshots from runById', () => {
  test('suspended run: the same view as the stream gave', () => {
    const s = snapshotFromRunState(runState('16'));
    expect(state(s).status).toBe('suspended');
    expect(state(s).suspended.map((q) => q.path)).toEqual([['approve']]);
    expect(state(s).steps.approve?.suspendPayload).toMatchObject({ reason: 'Needs manager approval' });
  });

  test('nested suspended run: the exact path from __workflow_meta, which is stripped from payloads', () => {
    const s = snapshotFromRunState(runState('58'));
    expect(state(s).suspended.map((q) => q.path)).toEqual([['inner', 'inner-approve']]);
    expect(JSON.stringify(state(s).steps)).not.toContain('__workflow_meta');
  });

  test('failed run keeps its error; pending steps of the graph that never ran become skipped', () => {
    const base = initialSnapshot(
      'fail-run-2',
      ['ok-step', 'boom', 'never'].map((id) => ({ type: 'step', step: { id } })),
      AT,
    );
    const s = snapshotFromRunState(runState('42'), base);
    expect(state(s).status).toBe('failed');
    expect(state(s).error?.message).toBe('Boom: HELLO');
    expect(state(s).steps.never?.status).toBe('skipped');
    expect(Object.keys(state(s).steps)).toEqual(['ok-step', 'boom', 'never']);
  });
});

describe('stepIdsFromGraph', () => {
  test('steps, nested workflows, foreach and parallel branches, in order; sleeps (ids per process) left out', () => {
    expect(
      stepIdsFromGraph([
        { type: 'step', step: { id: 'a' } },
        { type: 'sleep', id: 'sleep_1', duration: 5 },
        {
          type: 'parallel',
          steps: [
            { type: 'step', step: { id: 'b' } },
            { type: 'step', step: { id: 'c' } },
          ],
        },
        { type: 'foreach', step: { type: 'step', step: { id: 'd' } } },
        { type: 'workflow', id: 'inner', serializedStepFlow: [] },
      ]),
    ).toEqual(['a', 'b', 'c', 'd', 'inner']);
  });
});

describe('step ids that name Object.prototype members', () => {
  test('are ordinary steps: nothing inherited is taken for a step, nothing reaches a prototype', () => {
    const graph = ['constructor', '__proto__', 'toString'].map((id) => ({ type: 'step', step: { id } }));
    const start = initialSnapshot('run-x', graph, new Date(0));
    expect(Object.keys(start.payload.workflowState.steps)).toEqual(['constructor', '__proto__', 'toString']);
    const event: WorkflowEvent = {
      type: 'workflow-step-start',
      runId: 'run-x',
      from: 'WORKFLOW',
      payload: { id: '__proto__', stepName: '__proto__', status: 'running', startedAt: new Date(1) },
    } as WorkflowEvent;
    const steps = reduceRun(start, event, new Date(1))?.payload.workflowState.steps ?? {};
    expect(Object.hasOwn(steps, '__proto__')).toBe(true);
    expect(own(steps, '__proto__')?.status).toBe('running');
    expect(own(steps, 'constructor')?.status).toBe('pending');
    expect(Object.keys(Object.prototype)).toEqual([]);
    // Output for a step the run does not have is not given to something found on the prototype.
    const bare = initialSnapshot('run-y', [], new Date(0));
    const output = {
      type: 'workflow-step-output',
      runId: 'run-y',
      from: 'USER',
      payload: { stepName: 'hasOwnProperty', output: 1 },
    } as WorkflowEvent;
    expect(reduceRun(bare, output, new Date(1))?.payload.workflowState.steps).toEqual({});
  });
});
