/**
 * The version of a rendering (src/runs/version.ts): the same whichever way a replica learnt the run
 * (its event stream, or `runById`), newer as the run moves on, and the final above everything.
 * Real records of a Mastra server (fixtures/suspensions.json, from fixtures/capture-suspensions.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runStateSchema, toWorkflowEvent } from '../../src/mastra/schemas.ts';
import type { RunSnapshot, WorkflowEvent } from '../../src/mastra/types.ts';
import { initialSnapshot, reduceEvents, snapshotFromRunState } from '../../src/runs/state.ts';
import { compareVersions, type MessageVersion, messageVersion } from '../../src/runs/version.ts';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/suspensions.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

function events(name: string): WorkflowEvent[] {
  const records = structuredClone(fixture[name]) as unknown[];
  return records.map((value, index) => toWorkflowEvent({ value, index, byteOffset: 0, byteLength: 0 }));
}
const run = (name: string) => runStateSchema.parse(structuredClone(fixture[name]));
function streamed(name: string, at: Date): RunSnapshot {
  const snapshot = reduceEvents(events(name), undefined, at);
  if (!snapshot) throw new Error('no events');
  return snapshot;
}
const order = (a: MessageVersion, b: MessageVersion) => Math.sign(compareVersions(a, b));

describe('the version of a rendering', () => {
  test.each([
    ['sequentialStream', 'sequentialRun1'],
    ['loopStream', 'loopRun1'],
  ])('%s and %s (the same state, streamed and read back) have the same version', (stream, stored) => {
    // Received at different moments, by different replicas: only the server's times count.
    const fromStream = messageVersion(streamed(stream, new Date(1_900_000_000_000)), false);
    const fromRunById = messageVersion(snapshotFromRunState(run(stored)), false);
    const readLater = messageVersion(
      snapshotFromRunState(run(stored), streamed(stream, new Date(1_950_000_000_000))),
      false,
    );
    expect(fromStream.at).toBeGreaterThan(0);
    expect(fromRunById).toEqual(fromStream);
    expect(readLater).toEqual(fromStream);
  });

  test('a `.foreach()` waiting: the stored run is never older than the stream of the same state', () => {
    // The stream times the step's suspension by an earlier question than the stored run does (by a
    // millisecond): a rendering read back may pass one streamed, never the other way round.
    const fromStream = messageVersion(streamed('foreachStream', new Date(1_900_000_000_000)), false);
    const fromRunById = messageVersion(snapshotFromRunState(run('foreachRun1')), false);
    expect(order(fromRunById, fromStream)).toBeGreaterThanOrEqual(0);
    expect(fromRunById.at - fromStream.at).toBeLessThan(1000);
  });

  test('newer as the run moves on: asked, answered, asked again', () => {
    const posted = messageVersion(initialSnapshot('loop-1', [], new Date(1_900_000_000_000)), false);
    const asked = messageVersion(snapshotFromRunState(run('loopRun1')), false);
    const askedAgain = messageVersion(snapshotFromRunState(run('loopRun2')), false);
    expect(order(asked, posted)).toBe(1);
    expect(order(askedAgain, asked)).toBe(1);
    // A step ending as the next starts, in the same millisecond: one more transition, newer.
    const base = snapshotFromRunState(run('sequentialRun1'));
    const at = new Date(messageVersion(base, false).at);
    const steps = {
      ...base.payload.workflowState.steps,
      next: { id: 'next', status: 'running' as const, startedAt: at },
    };
    const moved: RunSnapshot = {
      ...base,
      payload: { ...base.payload, workflowState: { ...base.payload.workflowState, steps } },
    };
    expect(order(messageVersion(moved, false), messageVersion(base, false))).toBe(1);
  });

  test('what Flowgate adds orders renderings of one state; the final is above everything', () => {
    const state = snapshotFromRunState(run('loopRun2'));
    const bare = messageVersion(state, false);
    const answered = messageVersion(state, false, 3);
    expect(order(answered, bare)).toBe(1);
    expect(answered.at).toBe(bare.at);
    const final = messageVersion(initialSnapshot('loop-1'), true);
    expect(order(final, { final: 0, at: Number.MAX_SAFE_INTEGER, steps: 10 ** 9, marks: 10 ** 9 })).toBe(1);
    // Finals carry no run part: they differ only in what Flowgate adds.
    expect(messageVersion(state, true, 2)).toEqual({ final: 1, at: 0, steps: 0, marks: 2 });
    expect(order(messageVersion(state, true, 2), messageVersion(initialSnapshot('x'), true, 1))).toBe(1);
  });
});
