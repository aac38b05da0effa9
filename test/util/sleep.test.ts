import { describe, expect, test, vi } from 'vitest';
import { sleep } from '../../src/util/sleep.ts';
import { withTimeout } from '../../src/util/with-timeout.ts';

describe('sleep', () => {
  test('resolves to true once the time has passed, to false as soon as the signal aborts; never rejects', async () => {
    vi.useFakeTimers();
    try {
      const both = Promise.all([sleep(10), sleep(10, new AbortController().signal)]);
      await vi.advanceTimersByTimeAsync(10);
      expect(await both).toEqual([true, true]);
      const controller = new AbortController();
      const waiting = sleep(60_000, controller.signal);
      controller.abort(new Error('stop'));
      await expect(waiting).resolves.toBe(false);
      expect(vi.getTimerCount()).toBe(0);
      await expect(sleep(10, controller.signal)).resolves.toBe(false); // already aborted
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('withTimeout', () => {
  test('the work when it settles in time (its rejection too), else the late value; no timer left', async () => {
    vi.useFakeTimers();
    try {
      await expect(withTimeout(Promise.resolve('done'), 100, 'late')).resolves.toBe('done');
      await expect(withTimeout(Promise.reject(new Error('boom')), 100, 'late')).rejects.toThrow('boom');
      const slow = withTimeout(new Promise<string>(() => {}), 100, 'late');
      await vi.advanceTimersByTimeAsync(100);
      await expect(slow).resolves.toBe('late');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
