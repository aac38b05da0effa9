import { describe, expect, test } from 'vitest';
import { PerPersonLimit } from '../../../src/slack/usecases/per-person-limit.ts';

describe('PerPersonLimit', () => {
  test('a burst at once, then one per interval, per person; people with a full bucket are forgotten', () => {
    let now = 0;
    const limit = new PerPersonLimit({ burst: 3, refillMs: 1000, now: () => now });
    expect([limit.take('U1'), limit.take('U1'), limit.take('U1')]).toEqual([0, 0, 0]);
    expect(limit.take('U1')).toBe(1000);
    expect(limit.take('U2')).toBe(0);
    now = 400;
    expect(limit.take('U1')).toBe(600);
    now = 1000;
    expect(limit.take('U1')).toBe(0);
    expect(limit.take('U1')).toBe(1000);
    now = 10_000;
    limit.take('U3');
    expect(limit.size).toBe(1);
  });
});
