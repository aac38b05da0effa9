/**
 * The questions a run waits on, from what a real Mastra server sent for the workflows of
 * test/support/mastra/suspension-workflows.ts (captured by fixtures/capture-suspensions.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runStateSchema, toWorkflowEvent } from '../../src/mastra/schemas.ts';
import type { RunSnapshot, Suspension, WorkflowEvent } from '../../src/mastra/types.ts';
import { reduceEvents, snapshotFromRunState } from '../../src/runs/state.ts';
import {
  parseSuspensionKey,
  questionKey,
  suspensionKey,
  suspensionsOf,
  withStepEvent,
} from '../../src/runs/suspensions.ts';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/suspensions.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const AT = new Date(1_800_000_000_000);

/** A fixture's records as the client decodes them (a fresh copy: decoding revives in place). */
function events(name: string): WorkflowEvent[] {
  const records = structuredClone(fixture[name]) as unknown[];
  return records.map((value, index) => toWorkflowEvent({ value, index, byteOffset: 0, byteLength: 0 }));
}
function run(name: string) {
  return runStateSchema.parse(structuredClone(fixture[name]));
}
function fold(list: WorkflowEvent[], start?: RunSnapshot): RunSnapshot {
  const snapshot = reduceEvents(list, start, AT);
  if (!snapshot) throw new Error('no events');
  return snapshot;
}
const questions = (s: RunSnapshot) => s.payload.workflowState.suspended;
const brief = (list: Suspension[]) =>
  list.map((s) => ({ index: s.forEachIndex, payload: s.payload, asked: s.suspendedAt !== undefined }));

describe('a .foreach() whose iterations each suspend', () => {
  test('the stream names every suspended iteration; the one event it sends fills in the lowest', () => {
    const s = fold(events('foreachStream'));
    expect(s.payload.workflowState.status).toBe('suspended');
    expect(brief(questions(s))).toEqual([
      { index: 0, payload: { name: 'a' }, asked: true },
      { index: 1, payload: undefined, asked: false },
      { index: 2, payload: undefined, asked: false },
    ]);
  });

  test('runById gives each iteration its own payload, time and resume label', () => {
    const list = suspensionsOf(run('foreachRun1'));
    expect(list.map((s) => [s.path, s.forEachIndex, s.forEachTotal, s.payload, s.resumeLabel])).toEqual([
      [['review-item'], 0, 3, { name: 'a' }, 'Review a'],
      [['review-item'], 1, 3, { name: 'b' }, 'Review b'],
      [['review-item'], 2, 3, { name: 'c' }, 'Review c'],
    ]);
    expect(list.every((s) => s.suspendedAt instanceof Date)).toBe(true);
    // Three questions, three keys; the stream's key of the lowest iteration is the same question.
    expect(new Set(list.map(suspensionKey)).size).toBe(3);
    expect(suspensionKey(questions(fold(events('foreachStream')))[0]!)).toBe(suspensionKey(list[0]!));
  });

  test('answering one iteration leaves the others waiting, with their own payloads', () => {
    const before = snapshotFromRunState(run('foreachRun1'));
    const streamed = fold(events('foreachResume1'), before);
    expect(brief(questions(streamed))).toEqual([
      { index: 0, payload: { name: 'a' }, asked: true },
      { index: 2, payload: { name: 'c' }, asked: true },
    ]);
    const stored = snapshotFromRunState(run('foreachRun2'), streamed);
    expect(questions(stored).map((s) => [s.forEachIndex, s.resumeLabel])).toEqual([
      [0, 'Review a'],
      [2, 'Review c'],
    ]);
    // Each iteration keeps the moment it was asked: its key does not change when another is answered.
    expect(questions(stored).map(suspensionKey)).toEqual(
      suspensionsOf(run('foreachRun1'))
        .filter((s) => s.forEachIndex !== 1)
        .map(suspensionKey),
    );
    const after0 = fold(events('foreachResume0'), stored);
    expect(brief(questions(after0))).toEqual([{ index: 2, payload: { name: 'c' }, asked: true }]);
    const done = fold(events('foreachResume2'), after0);
    expect(questions(done)).toEqual([]);
    expect(done.payload.workflowState.status).toBe('success');
    expect(suspensionsOf(run('foreachRun3'))).toEqual([]);
  });
});

describe('a .foreach() one item at a time', () => {
  test('the next item is a new question once the one before is answered; stream and stored run agree', () => {
    const first = fold(events('sequentialStream'));
    expect(brief(questions(first))).toEqual([{ index: 0, payload: { name: 'a' }, asked: true }]);
    const stored1 = snapshotFromRunState(run('sequentialRun1'), first);
    expect(questions(stored1).map((s) => [s.forEachIndex, s.forEachTotal, s.resumeLabel])).toEqual([
      [0, 2, 'Review a'],
    ]);
    const next = fold(events('sequentialResume0'), stored1);
    expect(brief(questions(next))).toEqual([{ index: 1, payload: { name: 'b' }, asked: true }]);
    const stored2 = snapshotFromRunState(run('sequentialRun2'), next);
    expect(questions(stored2).map(suspensionKey)).toEqual(questions(next).map(suspensionKey));
    expect(questions(stored2)[0]?.resumeLabel).toBe('Review b');
  });
});

describe('a loop that asks again', () => {
  test('the second question is a new suspension, not the first one answered', () => {
    const first = fold(events('loopStream'));
    const [q1] = questions(first);
    expect(q1).toMatchObject({ path: ['ask'], payload: { question: 'Question 1' } });
    const second = fold(events('loopResume1'), snapshotFromRunState(run('loopRun1'), first));
    const [q2] = questions(second);
    expect(questions(second)).toHaveLength(1);
    expect(q2).toMatchObject({ path: ['ask'], payload: { question: 'Question 2' } });
    expect(suspensionKey(q2!)).not.toBe(suspensionKey(q1!));
    expect(questionKey(q2!)).toBe(questionKey(q1!));
    // The stored run says the same, with the label the step suspended with.
    const [stored] = suspensionsOf(run('loopRun2'));
    expect(suspensionKey(stored!)).toBe(suspensionKey(q2!));
    expect(stored!.resumeLabel).toBe('Answer the question of this turn');
    // The step's resume fields still describe the earlier answer; the question does not carry it.
    expect(second.payload.workflowState.steps.ask?.resumePayload).toEqual({ answer: 'go' });
    expect(q2).not.toHaveProperty('resumePayload');
  });

  test('a resumed (re)start keeps no stale question of the step; a fresh start clears its iterations too', () => {
    const list: Suspension[] = [
      { path: ['ask'], suspendedAt: new Date(1) },
      { path: ['each'], forEachIndex: 0, suspendedAt: new Date(1) },
      { path: ['each'], forEachIndex: 1, suspendedAt: new Date(1) },
    ];
    expect(
      withStepEvent(list, { id: 'ask', stepName: 'ask', status: 'running', resumedAt: new Date(2) }),
    ).toEqual(list.slice(1));
    expect(
      withStepEvent(list, { id: 'each', stepName: 'each', status: 'running', resumedAt: new Date(2) }),
    ).toBe(list);
    expect(withStepEvent(list, { id: 'each', stepName: 'each', status: 'running' })).toEqual(
      list.slice(0, 1),
    );
  });
});

describe('suspension keys', () => {
  test('path, iteration and moment, read back; older keys and odd text still read', () => {
    const key = suspensionKey({
      path: ['inner', 'inner-approve'],
      forEachIndex: 4,
      suspendedAt: new Date(1234),
    });
    expect(key).toBe('inner.inner-approve[4]#1234');
    expect(parseSuspensionKey(key)).toEqual({
      step: 'inner.inner-approve',
      forEachIndex: 4,
      suspendedAt: 1234,
    });
    expect(parseSuspensionKey('approve#99')).toEqual({ step: 'approve', suspendedAt: 99 });
    expect(parseSuspensionKey('approve#')).toEqual({ step: 'approve', suspendedAt: null });
    expect(parseSuspensionKey('no key at all')).toEqual({ step: 'no key at all', suspendedAt: null });
  });
});

describe('a step inside a nested workflow', () => {
  // What a real Mastra server streams (test/support/mastra/fixtures/57-stream-nested-suspends.http):
  // the inner step's own events (`id: "inner.inner-approve"`) before its parent's.
  const record = (type: string, payload: Record<string, unknown>) =>
    toWorkflowEvent({
      value: { type, runId: 'nest-1', from: 'WORKFLOW', payload },
      index: 0,
      byteOffset: 0,
      byteLength: 0,
    });
  const inner = { stepName: 'inner.inner-approve', id: 'inner.inner-approve', startedAt: 4 };
  const stream = [
    record('workflow-start', { workflowId: 'outer' }),
    record('workflow-step-start', { stepName: 'inner', id: 'inner', startedAt: 3, status: 'running' }),
    record('workflow-step-start', { ...inner, status: 'running' }),
    record('workflow-step-suspended', {
      ...inner,
      status: 'suspended',
      suspendPayload: { ask: 'ok?' },
      suspendedAt: 5,
    }),
  ];

  test("its question has the step's full path from the inner step's own event on, never one joined name", () => {
    expect(questions(fold(stream)).map((s) => s.path)).toEqual([['inner', 'inner-approve']]);
    const parent = record('workflow-step-suspended', {
      stepName: 'inner',
      id: 'inner',
      startedAt: 3,
      status: 'suspended',
      suspendPayload: { ask: 'ok?', __workflow_meta: { runId: 'nest-1', path: ['inner-approve'] } },
      suspendedAt: 5,
    });
    const both = questions(fold([...stream, parent]));
    expect(both.map((s) => [s.path, s.payload])).toEqual([[['inner', 'inner-approve'], { ask: 'ok?' }]]);
  });

  test('a step whose id has a dot but no step of the run before it keeps its id whole', () => {
    const list = withStepEvent(
      [],
      { id: 'deploy.prod', stepName: 'deploy.prod', status: 'suspended', suspendedAt: AT },
      {
        build: { id: 'build', status: 'success' },
      },
    );
    expect(list.map((s) => s.path)).toEqual([['deploy.prod']]);
  });
});
