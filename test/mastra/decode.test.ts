/**
 * Decoding of real server replies (fixtures captured from a reference server): every stream record
 * becomes a typed event, JSON replies validate, errors classify by message.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { errorFromResponse, isMastraError, type MastraErrorCode } from '../../src/mastra/errors.ts';
import { parseRecordsSync, type StreamRecord } from '../../src/mastra/records.ts';
import {
  decodeEventFast,
  runStateSchema,
  runsSchema,
  toWorkflowEvent,
  toWorkflowEventZod,
  validateReply,
  workflowInfoSchema,
  workflowResultSchema,
} from '../../src/mastra/schemas.ts';
import type { WorkflowEvent } from '../../src/mastra/types.ts';
import { fixtureNames, loadFixture } from '../support/mastra/fixtures.ts';

function events(name: string): WorkflowEvent[] {
  return parseRecordsSync(loadFixture(name).body).map(toWorkflowEvent);
}

function reply<T>(schema: Parameters<typeof validateReply<T>>[0], name: string): T {
  const f = loadFixture(name);
  return validateReply(schema, JSON.parse(f.text), {
    url: 'http://x',
    method: 'GET',
    status: f.status,
    bodyText: f.text,
  });
}

function rec(value: unknown, index = 0, byteOffset = 0): StreamRecord {
  return { value, index, byteOffset, byteLength: 0 };
}

describe('stream records → typed events', () => {
  const streamFixtures = fixtureNames().filter((n) => loadFixture(n).isStream);

  test('fixtures include the stream captures', () => {
    expect(streamFixtures.length).toBeGreaterThanOrEqual(20);
  });

  test.each(streamFixtures)('%s: every record is a known, typed event', (name) => {
    const evs = events(name);
    for (const e of evs) {
      expect(e.type).not.toBe('unknown');
      if (e.type !== 'unknown') expect(typeof e.runId).toBe('string');
      if (
        e.type === 'workflow-step-start' ||
        e.type === 'workflow-step-result' ||
        e.type === 'workflow-step-suspended' ||
        e.type === 'workflow-step-waiting'
      ) {
        if (e.payload.startedAt !== undefined) expect(e.payload.startedAt).toBeInstanceOf(Date);
        if (e.payload.endedAt !== undefined) expect(e.payload.endedAt).toBeInstanceOf(Date);
        expect(typeof e.payload.stepName).toBe('string');
      }
    }
  });

  test('linear stream: step output from USER, data-progress as a DataEvent, epoch dates revived', () => {
    const evs = events('31');
    expect(evs.map((e) => e.type)).toEqual([
      'workflow-start',
      'workflow-step-start',
      'workflow-step-output',
      'data',
      'workflow-step-result',
      'workflow-step-start',
    ]);
    const output = evs[2]!;
    expect(output).toMatchObject({ from: 'USER', payload: { stepName: 'add-one', output: { at: 'start' } } });
    expect(evs[3]).toEqual({
      type: 'data',
      name: 'data-progress',
      runId: 'lin-run-1',
      from: 'WORKFLOW',
      data: { step: 'add-one', pct: 50 },
    });
    const result = evs[4]!;
    if (result.type !== 'workflow-step-result') throw new Error('expected step result');
    expect(result.payload.startedAt).toEqual(new Date(1795642109469));
    expect(result.payload.endedAt).toEqual(new Date(1795642110272));
  });

  test('a failed workflow-finish is data; plain-Error metadata gets its message from errorMessage', () => {
    const failed = events('41').at(-1)!;
    expect(failed).toMatchObject({
      type: 'workflow-finish',
      payload: { workflowStatus: 'failed', metadata: {} },
    });
    const notSuspended = events('68').at(-1)!;
    if (notSuspended.type !== 'workflow-finish') throw new Error('expected finish');
    expect(notSuspended.payload.metadata.error?.message).toBe('This workflow run was not suspended');
    const invalid = events('44').at(-1)!;
    if (invalid.type !== 'workflow-finish') throw new Error('expected finish');
    expect(invalid.payload.metadata.error).toMatchObject({
      code: 'WORKFLOW_SCHEMA_VALIDATION_FAILED',
      message: expect.stringContaining('Invalid input data'),
    });
  });

  test('sleep/foreach: waiting and progress events', () => {
    const evs = events('76');
    const waiting = evs.find((e) => e.type === 'workflow-step-waiting');
    expect(waiting).toMatchObject({ payload: { status: 'waiting', id: expect.stringMatching(/^sleep_/) } });
    const progress = evs.filter((e) => e.type === 'workflow-step-progress');
    expect(
      progress.map((p) => (p.type === 'workflow-step-progress' ? p.payload.completedCount : -1)),
    ).toEqual([1, 2, 3]);
  });

  test('unknown record types pass through as UnknownEvent', () => {
    const e = toWorkflowEvent(rec({ type: 'agent-thing', runId: 'r', extra: 1 }));
    expect(e).toEqual({
      type: 'unknown',
      originalType: 'agent-thing',
      runId: 'r',
      record: { type: 'agent-thing', runId: 'r', extra: 1 },
    });
    expect(toWorkflowEvent(rec({ no: 'type' }))).toMatchObject({ type: 'unknown', originalType: undefined });
  });

  test('unknown extra fields of known events are kept', () => {
    const e = toWorkflowEvent(
      rec({
        type: 'workflow-start',
        runId: 'r',
        from: 'WORKFLOW',
        payload: { workflowId: 'w', future: 1 },
        top: true,
      }),
    );
    expect(e).toMatchObject({ type: 'workflow-start', top: true, payload: { workflowId: 'w', future: 1 } });
  });

  test('a known type with a malformed shape, or a non-object record, is a protocol error with its position', () => {
    const bad = rec(
      {
        type: 'workflow-step-result',
        runId: 'r',
        from: 'WORKFLOW',
        payload: { id: 'a', status: 'exploded' },
      },
      7,
      1234,
    );
    let err: unknown;
    try {
      toWorkflowEvent(bad);
    } catch (e) {
      err = e;
    }
    expect(isMastraError(err, 'protocol')).toBe(true);
    if (!isMastraError(err)) return;
    expect(err.position).toEqual({ record: 7, byte: 1234 });
    expect(err.message).toContain('payload.status');
    expect(() => toWorkflowEvent(rec([1, 2]))).toThrow(/must be a JSON object/);
  });
});

describe('JSON replies', () => {
  test('runById: dates revived, steps typed, resourceId kept', () => {
    const state = reply(runStateSchema, '16');
    expect(state.createdAt).toEqual(new Date('2026-11-25T21:27:53.244Z'));
    expect(state.status).toBe('suspended');
    expect(state.steps?.approve?.status).toBe('suspended');
    expect(state.steps?.approve?.suspendedAt).toBeInstanceOf(Date);
    expect(state.suspendedPaths).toEqual({ approve: [1] });
    expect(reply(runStateSchema, '42').resourceId).toBeNull();
  });

  test('start-async result: synthetic steps.input dropped, nested suspended paths kept', () => {
    const r = reply(workflowResultSchema, '70');
    expect(Object.keys(r.steps)).toEqual(['outer-prep', 'inner']);
    expect(r.suspended).toEqual([['inner', 'inner-approve']]);
    expect(r.input).toEqual({ item: 'z' });
    const failed = reply(workflowResultSchema, '40');
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ message: 'Boom: HELLO', name: 'Error' });
  });

  test('runs: status comes from the snapshot; dates revived', () => {
    const page = reply(runsSchema, '77');
    expect(page.total).toBe(page.runs.length);
    for (const r of page.runs) {
      expect(r.status).toBe(r.snapshot.status);
      expect(r.createdAt).toBeInstanceOf(Date);
    }
  });

  test('details: every *Schema decoded from superjson, allSteps of nested workflows too', () => {
    const info = reply(workflowInfoSchema, '03');
    expect(info.inputSchema).toMatchObject({ type: 'object', properties: { requestId: { type: 'string' } } });
    expect(info.steps.approve?.resumeSchema).toMatchObject({
      type: 'object',
      properties: { priority: { enum: ['low', 'medium', 'high'] } },
    });
    const nested = reply(workflowInfoSchema, '06');
    expect(nested.allSteps['inner.inner-approve']?.resumeSchema).toMatchObject({ type: 'object' });
    for (const s of [...Object.values(nested.steps), ...Object.values(nested.allSteps)]) {
      for (const k of ['inputSchema', 'outputSchema', 'resumeSchema', 'suspendSchema'] as const) {
        if (s[k] !== undefined) expect(typeof s[k]).toBe('object');
      }
    }
  });

  test('a reply that does not match is a protocol error, not a crash', () => {
    expect(() =>
      validateReply(
        runStateSchema,
        { runId: 'x' },
        { url: 'http://x/y', method: 'GET', status: 200, bodyText: '{"runId":"x"}' },
      ),
    ).toThrow(expect.objectContaining({ code: 'protocol', snippet: '{"runId":"x"}' }));
  });
});

describe('error classification of real error replies', () => {
  const expected: Record<string, MastraErrorCode> = {
    '05': 'workflow_not_found',
    '10': 'workflow_not_found',
    '11': 'invalid_input',
    '12': 'invalid_input',
    '14': 'run_not_found',
    '18': 'invalid_input',
    '19': 'not_suspended',
    '20': 'not_suspended',
    '21': 'invalid_input',
    '22': 'run_not_found',
    '30': 'invalid_input',
    '38': 'invalid_input',
    '43': 'already_finished',
    '45': 'invalid_input',
    '47': 'run_not_found',
    '53': 'run_not_found',
    '65': 'not_suspended',
    '66': 'not_suspended',
    '71': 'not_suspended',
    '85': 'invalid_input',
    '86': 'invalid_input',
    '88': 'workflow_not_found',
    '93': 'run_not_found',
    '94': 'http',
    '98': 'run_not_found',
  };

  function classify(n: string) {
    const f = loadFixture(n);
    let body: unknown;
    try {
      body = JSON.parse(f.text);
    } catch {
      body = undefined;
    }
    return errorFromResponse({
      status: f.status,
      url: 'http://127.0.0.1:1/api/x',
      method: 'POST',
      bodyText: f.text,
      body,
    });
  }

  test.each(Object.entries(expected))('fixture %s → %s', (n, code) => {
    const e = classify(n);
    expect(e.code).toBe(code);
    expect(e.url).toBe('http://127.0.0.1:1/api/x');
    expect(e.message).toContain('http://127.0.0.1:1/api/x');
  });

  test('details: issues, suspended steps, run status', () => {
    expect(classify('11').issues).toEqual([
      { field: 'resourceId', message: 'Invalid input: expected string, received number' },
    ]);
    expect(classify('19').suspendedSteps).toEqual([['approve']]);
    expect(classify('43').runStatus).toBe('failed');
    expect(classify('45').serverMessage).toMatch(/^Invalid input data/);
  });

  test('classification by message, not status alone', () => {
    const multi = errorFromResponse({
      status: 500,
      url: 'u',
      method: 'POST',
      bodyText: '',
      body: {
        error:
          'Multiple suspended steps found: [approve-a], [inner, inner-approve]. Please specify which step to resume using the "step" parameter.',
      },
    });
    expect(multi.code).toBe('invalid_input');
    expect(multi.suspendedSteps).toEqual([['approve-a'], ['inner', 'inner-approve']]);
    const claimed = errorFromResponse({
      status: 409,
      url: 'u',
      method: 'POST',
      bodyText: '',
      body: {
        error:
          'This suspended workflow run was already resumed by another caller. Workflow "w" run "r" moved…',
      },
    });
    expect(claimed.code).toBe('already_resumed');
    const generic500 = errorFromResponse({
      status: 500,
      url: 'u',
      method: 'GET',
      bodyText: '',
      body: { error: 'db down' },
    });
    expect(generic500.code).toBe('unavailable');
    const many = errorFromResponse({
      status: 500,
      url: 'u',
      method: 'POST',
      bodyText: '',
      body: {
        error: 'This workflow step "x" was not suspended. Available suspended steps: [approve-a, approve-b]',
      },
    });
    expect(many.suspendedSteps).toEqual([['approve-a'], ['approve-b']]);
  });
});

describe('fast event decoder agrees with the zod schemas', () => {
  const values = fixtureNames()
    .filter((n) => loadFixture(n).isStream)
    .flatMap((n) => parseRecordsSync(loadFixture(n).body).map((r) => r.value));

  function zodOutcome(v: unknown): { ok: true; event: WorkflowEvent } | { ok: false } {
    try {
      return { ok: true, event: toWorkflowEventZod(rec(v)) };
    } catch {
      return { ok: false };
    }
  }

  test('every fixture record takes the fast path and decodes exactly as zod does', () => {
    expect(values.length).toBeGreaterThan(100);
    for (const v of values) {
      const fast = decodeEventFast(structuredClone(v));
      expect(fast).toBeDefined();
      expect(fast).toEqual(toWorkflowEventZod(rec(structuredClone(v))));
    }
  });

  test('property: on mutated records, the fast path never accepts what zod rejects, nor decodes differently', () => {
    const paths = (v: unknown, prefix: string[] = []): string[][] => {
      if (typeof v !== 'object' || v === null) return [prefix];
      return [prefix, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...prefix, k]))];
    };
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(),
        fc.oneof(
          fc.jsonValue(),
          fc.constant(undefined),
          fc.constantFrom('running', 'bogus', 1795642077627, 'not-a-date', ''),
        ),
        (vi, pi, replacement) => {
          const base = values[vi % values.length]!;
          const all = paths(base).filter((p) => p.length > 0);
          const path = all[pi % all.length]!;
          const mutate = () => {
            const copy = structuredClone(base) as Record<string, unknown>;
            let o = copy;
            for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
            if (replacement === undefined) delete o[path.at(-1)!];
            else o[path.at(-1)!] = structuredClone(replacement);
            return copy;
          };
          const fast = decodeEventFast(mutate());
          if (fast === undefined) return;
          const z = zodOutcome(mutate());
          expect(z.ok).toBe(true);
          if (z.ok) expect(fast).toEqual(z.event);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('a loop count beyond the safe integers is left to zod, which drops it (both paths agree)', () => {
    const record = (iterationCount: number) => ({
      type: 'workflow-step-start',
      runId: 'r',
      from: 'WORKFLOW',
      payload: { id: 'ask', status: 'running', startedAt: 1795642077627, metadata: { iterationCount } },
    });
    expect(decodeEventFast(record(2 ** 53))).toBeUndefined();
    const z = zodOutcome(record(2 ** 53));
    expect(z.ok && z.event.type === 'workflow-step-start' && z.event.payload.metadata).toEqual({});
    const safe = zodOutcome(record(2 ** 53 - 1));
    expect(safe.ok).toBe(true);
    if (safe.ok) expect(decodeEventFast(record(2 ** 53 - 1))).toEqual(safe.event);
  });

  test('records the fast path does not vouch for still decode (or fail) through zod', () => {
    const isoDates = {
      type: 'workflow-step-result',
      runId: 'r',
      from: 'WORKFLOW',
      payload: { id: 's', status: 'success', startedAt: 'not a date' },
    };
    expect(() => toWorkflowEvent(rec(isoDates))).toThrow(/Invalid date/);
  });
});
