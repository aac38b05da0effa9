import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DeadlineScheduler } from '../../src/deadlines/scheduler.ts';
import type { DeadlineAction, DeadlineActions } from '../../src/deadlines/types.ts';
import { type Deadline, openStore, type Store } from '../../src/store/index.ts';

const t0 = new Date('2026-12-01T09:00:00.000Z');
const plus = (ms: number) => new Date(t0.getTime() + ms);
const deadline = (runId: string, dueInMs: number, kind: Deadline['kind'] = 'timeout'): Deadline => ({
  runId,
  suspensionKey: `gate#${t0.getTime()}`,
  stepPath: 'gate',
  kind,
  since: t0,
  dueAt: plus(dueInMs),
  state: 'pending',
});

let dir: string;
let stores: Store[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowgate-scheduler-'));
  stores = [];
});
afterEach(async () => {
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
});
const open = () => {
  const store = openStore(join(dir, 'db.sqlite'));
  stores.push(store);
  return store;
};

/** The same action for every kind of deadline. */
const everyKind = (action: DeadlineAction): DeadlineActions => ({
  remind: action,
  escalate: action,
  timeout: action,
});

/** A scheduler on a fake clock; what fired is recorded (kind, run, late). */
function scheduler(store: Store, clock: { now: Date }, options: { batch?: number; fail?: string } = {}) {
  const fired: { runId: string; kind: string; late: boolean }[] = [];
  const errors: unknown[] = [];
  const s = new DeadlineScheduler({
    queue: store,
    now: () => clock.now,
    ...(options.batch ? { batch: options.batch } : {}),
    actions: everyKind(async (d, info) => {
      if (d.runId === options.fail) throw new Error('boom');
      fired.push({ runId: d.runId, kind: d.kind, late: info.late });
      await store.finishDeadline(d, { state: 'done', firedAt: info.now, late: info.late });
    }),
    onError: (error) => errors.push(error),
  });
  return { s, fired, errors };
}

describe('the deadline scheduler (fake clock, real store)', () => {
  test('nothing before it is due; each due deadline once, soonest first', async () => {
    const store = open();
    await store.scheduleDeadlines([deadline('a', 2000), deadline('b', 1000), deadline('c', 5000)]);
    const clock = { now: plus(0) };
    const { s, fired } = scheduler(store, clock);
    expect(await s.tick()).toBe(0);
    clock.now = plus(2000);
    expect(await s.tick()).toBe(2);
    expect(fired.map((f) => f.runId).sort()).toEqual(['a', 'b']);
    expect(await s.tick()).toBe(0);
    clock.now = plus(10_000);
    expect(await s.tick()).toBe(1);
    expect(fired.map((f) => f.runId)).toContain('c');
  });

  test('more than one batch due at once: all fire in the same tick', async () => {
    const store = open();
    await store.scheduleDeadlines(Array.from({ length: 25 }, (_, i) => deadline(`r${i}`, 1000)));
    const clock = { now: plus(1000) };
    const { s, fired } = scheduler(store, clock, { batch: 10 });
    expect(await s.tick()).toBe(25);
    expect(new Set(fired.map((f) => f.runId)).size).toBe(25);
  });

  test('two processes on one database: each deadline fires once', async () => {
    const a = open();
    const b = open();
    await a.scheduleDeadlines(Array.from({ length: 40 }, (_, i) => deadline(`r${i}`, 1000)));
    const clock = { now: plus(1000) };
    const first = scheduler(a, clock, { batch: 7 });
    const second = scheduler(b, clock, { batch: 7 });
    await Promise.all([first.s.tick(), second.s.tick(), first.s.tick(), second.s.tick()]);
    const all = [...first.fired, ...second.fired].map((f) => f.runId);
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
  });

  test('what fell due while stopped fires at start, marked late; what falls due later is not', async () => {
    const store = open();
    await store.scheduleDeadlines([deadline('missed', 1000), deadline('later', 5000)]);
    const clock = { now: plus(3000) }; // started two seconds after the first was due
    const { s, fired } = scheduler(store, clock);
    s.start();
    await s.stop();
    await s.tick();
    clock.now = plus(5100);
    await s.tick();
    expect(fired).toEqual([
      { runId: 'missed', kind: 'timeout', late: true },
      { runId: 'later', kind: 'timeout', late: false },
    ]);
  });

  test('each deadline goes to the action of its kind, once', async () => {
    const store = open();
    await store.scheduleDeadlines([
      deadline('a', 1000, 'remind'),
      deadline('b', 1000, 'escalate'),
      deadline('c', 1000, 'timeout'),
    ]);
    const called: string[] = [];
    const told: string[] = [];
    const action =
      (name: string): DeadlineAction =>
      async (d, firing) => {
        called.push(`${name} ${d.runId}`);
        await store.finishDeadline(d, { state: 'done', firedAt: firing.now, late: firing.late });
      };
    const s = new DeadlineScheduler({
      queue: store,
      now: () => plus(1000),
      actions: { remind: action('remind'), escalate: action('escalate'), timeout: action('timeout') },
      onFire: (d) => told.push(d.kind),
      onError: (error) => {
        throw error;
      },
    });
    expect(await s.tick()).toBe(3);
    expect(await s.tick()).toBe(0);
    expect(called.sort()).toEqual(['escalate b', 'remind a', 'timeout c']);
    expect(told.sort()).toEqual(['escalate', 'remind', 'timeout']);
  });

  test('an action that fails is reported; the others still fire', async () => {
    const store = open();
    await store.scheduleDeadlines([deadline('bad', 1000), deadline('good', 1000)]);
    const clock = { now: plus(1000) };
    const { s, fired, errors } = scheduler(store, clock, { fail: 'bad' });
    await s.tick();
    expect(fired.map((f) => f.runId)).toEqual(['good']);
    expect(errors).toHaveLength(1);
  });
});
