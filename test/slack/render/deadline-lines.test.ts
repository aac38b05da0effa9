import { describe, expect, test } from 'vitest';
import { settledLine, waitingLines } from '../../../src/slack/render/deadline-lines.ts';

const H = 3_600_000;
const at = new Date('2026-12-03T09:00:00Z');
const seconds = Math.floor(at.getTime() / 1000);

describe('what the progress message says about deadlines', () => {
  test('a waiting step: what happens next, in the viewer’s timezone', () => {
    const lines = waitingLines({
      remindEvery: 4 * H,
      escalation: { at, to: ['S0HEADOPS', 'U0ONCALL'], done: false },
      timeout: { at, onTimeout: 'cancel' },
    });
    expect(lines).toEqual([
      `:alarm_clock: Reminds who may answer every 4 h · escalates to <!subteam^S0HEADOPS> and <@U0ONCALL> <!date^${seconds}^{date_short_pretty} {time}|2026-12-03 09:00 UTC> · times out <!date^${seconds}^{date_short_pretty} {time}|2026-12-03 09:00 UTC>: the run will be canceled`,
    ]);
  });

  test('an automatic answer, one that does not fit, and approvals so far', () => {
    const lines = waitingLines({
      timeout: {
        at,
        onTimeout: { answer: { approved: false, comment: '<!channel>' } },
        unfit: 'it lacks `score`',
      },
      quorum: { required: 2, approvals: [{ userId: 'U0ALICE', at }] },
    });
    expect(lines[0]).toMatch(/^:ballot_box_with_check: 1 of 2 approvals \(<@U0ALICE> <!date\^/);
    expect(lines[1]).toContain('Times out <!date^');
    expect(lines[1]).toContain('answered for you with');
    expect(lines[1]).not.toContain('<!channel>');
    expect(lines[2]).toContain('It will not be answered automatically when it times out');
    expect(waitingLines({})).toEqual([]);
  });

  test('what happened', () => {
    expect(
      settledLine({
        step: ['approve'],
        escalated: { after: 24 * H, late: false },
        timedOut: { after: 72 * H, outcome: 'canceled', late: true },
      }),
    ).toBe(
      ':alarm_clock: *approve*: Escalated after 1 day · Timed out after 3 days: canceled (late: Flowgate was not running when it was due)',
    );
    expect(settledLine({ step: ['a'], approvedBy: ['U0A', 'U0B'] })).toBe(
      ':alarm_clock: *a*: Approved by <@U0A> and <@U0B>',
    );
    expect(settledLine({ step: ['a'], rejectedBy: 'U0C' })).toContain('Rejected by <@U0C>');
    expect(settledLine({ step: ['a'] })).toBeUndefined();
  });
});
