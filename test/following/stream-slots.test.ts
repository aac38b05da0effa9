import { describe, expect, test } from 'vitest';
import { SharedFollowing } from '../../src/following/shared-following.ts';
import { StreamSlots } from '../../src/following/stream-slots.ts';
import type { RunStatus, WorkflowRunSummary } from '../../src/mastra/types.ts';

describe('StreamSlots', () => {
  test('a run someone watches always gets a stream: the quietest holder is cut when all are taken', () => {
    let now = 0;
    const slots = new StreamSlots(2, { now: () => now });
    const a = slots.take('a');
    now = 10;
    const b = slots.take('b');
    b.touch();
    now = 20;
    a.touch(); // a spoke last: b is now the quietest
    now = 30;
    const c = slots.take('c');
    expect(b.signal.aborted).toBe(true);
    expect(a.signal.aborted).toBe(false);
    expect(c.signal.aborted).toBe(false);
    expect(slots.held).toBe(2);
    expect(slots.cut).toBe(1);
    b.release(); // a cut hold given back later frees nothing of anyone else's
    expect(slots.held).toBe(2);
  });

  test('a stream still opening (nothing carried yet: its run may not have started) is never cut', () => {
    const slots = new StreamSlots(1);
    const opening = slots.take('a');
    const next = slots.take('b');
    expect(opening.signal.aborted).toBe(false);
    expect(slots.held).toBe(2); // over the budget for a moment: b waits for a connection
    opening.touch(); // a's run has started: its stream gives way at once
    expect(opening.signal.aborted).toBe(true);
    expect(next.signal.aborted).toBe(false);
    expect(slots.held).toBe(1);
  });

  test('a run merely followed gets a stream only when one is free, and never cuts another', () => {
    const slots = new StreamSlots(1);
    const a = slots.take('a');
    expect(slots.tryTake('b')).toBeUndefined();
    expect(a.signal.aborted).toBe(false);
    a.release();
    expect(slots.tryTake('b')).toBeDefined();
    expect(slots.held).toBe(1);
  });

  test('the follow adopts the hold its stream was opened under, once', () => {
    const slots = new StreamSlots(4);
    const hold = slots.take('a');
    expect(slots.adopt('a')).toBe(hold);
    expect(slots.adopt('a')).toBeUndefined();
    expect(slots.adopt('b')).toBeUndefined();
    hold.release();
    expect(slots.holds('a')).toBe(false);
  });
});

function summary(runId: string, status: RunStatus, updatedAt: number): WorkflowRunSummary {
  return {
    workflowName: 'w',
    runId,
    resourceId: null,
    createdAt: new Date(0),
    updatedAt: new Date(updatedAt),
    status,
    snapshot: {},
  };
}

describe('SharedFollowing', () => {
  test('wakes only the followers whose run changed, with its state from the list; runs gone from their list are looked for elsewhere', async () => {
    let now = 1000;
    const shared = new SharedFollowing(() => now);
    const signal = new AbortController().signal;
    const woken = new Map<string, string | undefined>();
    const wait = (runId: string, status: RunStatus, at: number) =>
      void shared
        .changed('w', runId, { status, updatedAt: new Date(at), createdAt: new Date(at - 1) }, signal)
        .then((state) => woken.set(runId, state?.status));
    wait('same', 'waiting', 5);
    wait('later', 'waiting', 5);
    wait('other-status', 'waiting', 5);
    wait('ended', 'waiting', 5);
    wait('gone', 'waiting', 3);
    wait('running', 'running', 5); // its status is not listed this time
    expect(shared.wanted()).toEqual(new Map([['w', new Set(['waiting', 'running'])]]));
    now = 2000;
    // As the watcher keeps each page: the state only of runs whose follower waits to see them changed.
    const slim = (runs: WorkflowRunSummary[]) => runs.map((run) => shared.slim('w', run));
    const waiting = slim([
      summary('same', 'waiting', 5),
      summary('later', 'waiting', 9),
      summary('running', 'waiting', 9),
    ]);
    expect(waiting.map((run) => run.state?.status)).toEqual([undefined, 'waiting', 'waiting']);
    expect(waiting.every((run) => !('snapshot' in run))).toBe(true);
    const vanished = shared.listed(
      'w',
      new Map([
        ['waiting', waiting],
        ['suspended', slim([summary('other-status', 'suspended', 9)])],
      ]),
      1500,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(Object.fromEntries(woken)).toEqual({ later: 'waiting', 'other-status': 'suspended' });
    // Those gone from their list wait until they are looked for: the oldest's creation bounds the search.
    expect(vanished.map((v) => [v.runId, v.createdAt.getTime()]).sort()).toEqual([
      ['ended', 4],
      ['gone', 2],
    ]);
    shared.settle('w', vanished, [slim([summary('ended', 'success', 12)])], 1500);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken.get('ended')).toBe('success'); // its state from the list: nothing to read
    expect(woken.has('gone')).toBe(true);
    expect(woken.get('gone')).toBeUndefined(); // not found: its follower reads it
    expect(shared.size).toBe(2);
  });

  test('lists fetched before a follower began to wait say nothing to it; an abort ends the wait', async () => {
    let now = 1000;
    const shared = new SharedFollowing(() => now);
    const controller = new AbortController();
    let woken = false;
    void shared
      .changed(
        'w',
        'r',
        { status: 'waiting', updatedAt: new Date(5), createdAt: new Date(1) },
        controller.signal,
      )
      .then(() => {
        woken = true;
      });
    now = 2000;
    shared.listed('w', new Map([['waiting', []]]), 900);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe(false);
    controller.abort();
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe(true);
    expect(shared.size).toBe(0);
  });
});
