import { describe, expect, test } from 'vitest';
import { durationWords, parseDuration } from '../../src/deadlines/durations.ts';
import { isLate, nextReminder, plannedDeadlines, quorum, stillToAnswer } from '../../src/deadlines/plan.ts';
import type { StepDeadlines } from '../../src/policy/types.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const t0 = new Date('2026-12-01T09:00:00Z');
const plus = (ms: number) => new Date(t0.getTime() + ms);

describe('durations', () => {
  test('units s, m, h, d, and combinations', () => {
    expect(parseDuration('90s')).toBe(90 * S);
    expect(parseDuration('30m')).toBe(30 * M);
    expect(parseDuration('4h')).toBe(4 * H);
    expect(parseDuration('2d')).toBe(2 * D);
    expect(parseDuration('1h30m')).toBe(90 * M);
    expect(parseDuration(' 1d 12h ')).toBe(36 * H);
    expect(parseDuration('1s')).toBe(S);
  });

  test('anything else is refused: no unit, unknown units, below a second, fractions, negatives', () => {
    for (const text of ['', '90', '4 hours', '1w', '0s', '500ms', '1.5h', '-1h', 'h', '4h and', 'abc']) {
      expect(parseDuration(text), text).toBeUndefined();
    }
  });

  test('in words: the two largest units', () => {
    expect(durationWords(3 * D)).toBe('3 days');
    expect(durationWords(D)).toBe('1 day');
    expect(durationWords(4 * H)).toBe('4 h');
    expect(durationWords(90 * M)).toBe('1 h 30 min');
    expect(durationWords(90 * S)).toBe('1 min 30 s');
    expect(durationWords(D + H + M)).toBe('1 day 1 h');
    expect(durationWords(2 * S)).toBe('2 s');
  });
});

describe('which deadlines a waiting step gets', () => {
  const rules: StepDeadlines = {
    required: 1,
    remindEvery: 4 * H,
    escalateAfter: D,
    escalateTo: ['U0HEAD'],
    timeoutAfter: 3 * D,
    onTimeout: 'cancel',
  };

  test('first reminder, escalation and timeout, counted from when it started waiting', () => {
    expect(plannedDeadlines(rules, t0)).toEqual([
      { kind: 'remind', dueAt: plus(4 * H) },
      { kind: 'escalate', dueAt: plus(D) },
      { kind: 'timeout', dueAt: plus(3 * D) },
    ]);
  });

  test('nothing at or after the timeout; no escalation without people to escalate to; none without rules', () => {
    expect(
      plannedDeadlines({ required: 1, remindEvery: 3 * D, timeoutAfter: 3 * D, onTimeout: 'cancel' }, t0),
    ).toEqual([{ kind: 'timeout', dueAt: plus(3 * D) }]);
    expect(plannedDeadlines({ required: 1, escalateAfter: H }, t0)).toEqual([]);
    expect(plannedDeadlines({ required: 2 }, t0)).toEqual([]);
  });

  test('the next reminder: one interval on; after a long outage, the next slot (never several at once)', () => {
    expect(nextReminder(rules, t0, plus(4 * H))).toEqual(plus(8 * H));
    expect(nextReminder(rules, t0, plus(4 * H + 5 * S))).toEqual(plus(8 * H));
    // Down for 13 hours: the late reminder fires once, the next one at 16 h.
    expect(nextReminder(rules, t0, plus(13 * H))).toEqual(plus(16 * H));
    // None at or after the timeout.
    expect(nextReminder(rules, t0, plus(68 * H))).toBeUndefined();
    expect(nextReminder({ required: 1 }, t0, plus(H))).toBeUndefined();
    expect(nextReminder({ required: 1, remindEvery: H }, t0, plus(100 * D))).toEqual(plus(100 * D + H));
  });

  test('late: due before this process started, or more than a minute ago', () => {
    const started = plus(10 * M);
    expect(isLate(plus(5 * M), plus(10 * M), started)).toBe(true);
    expect(isLate(plus(11 * M), plus(11 * M + 300), started)).toBe(false);
    expect(isLate(plus(11 * M), plus(13 * M), started)).toBe(true);
  });
});

describe('quorum', () => {
  const vote = (userId: string, approve: boolean, minute: number) => ({
    userId,
    approve,
    at: plus(minute * M),
  });

  test('the Nth different approval approves; the same person twice counts once', () => {
    expect(quorum([vote('U1', true, 1)], 2)).toMatchObject({
      state: 'open',
      approvals: [vote('U1', true, 1)],
    });
    expect(quorum([vote('U1', true, 1), vote('U1', true, 2)], 2)).toMatchObject({
      state: 'open',
      approvals: [vote('U1', true, 1)],
    });
    expect(quorum([vote('U1', true, 1), vote('U1', true, 2), vote('U2', true, 3)], 2)).toMatchObject({
      state: 'approved',
      approvals: [vote('U1', true, 1), vote('U2', true, 3)],
    });
  });

  test('one rejection settles at once; a person who approved cannot take it back by rejecting', () => {
    expect(quorum([vote('U1', true, 1), vote('U2', false, 2)], 3)).toMatchObject({
      state: 'rejected',
      rejection: vote('U2', false, 2),
    });
    expect(quorum([vote('U1', true, 1), vote('U1', false, 2)], 2)).toMatchObject({ state: 'open' });
  });

  test('reminders mention who may answer and has not', () => {
    expect(stillToAnswer({ users: ['U1', 'U2', 'U3'], groups: ['S1'] }, ['U2'])).toEqual({
      users: ['U1', 'U3'],
      groups: ['S1'],
    });
  });
});
