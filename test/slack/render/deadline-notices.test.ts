import { describe, expect, test } from 'vitest';
import {
  approvalRecorded,
  canceledByTimeout,
  type DueStep,
  escalationReply,
  policyProblemReply,
  quorumIgnoredProblem,
  quorumStartupProblem,
  quorumSummary,
  reminderReply,
  timedOutReply,
  timeoutAnswerNote,
  unansweredTimeoutProblem,
  unfitAnswerProblem,
} from '../../../src/slack/render/deadline-notices.ts';

const H = 3_600_000;
const D = 24 * H;

const due = (over: Partial<DueStep> = {}): DueStep => ({
  question: { path: ['review', 'approve'] },
  workflowName: 'Deploy <!channel> & co',
  yesNo: false,
  waitedMs: 4 * H,
  late: false,
  ...over,
});

describe('what deadlines say in the run’s thread', () => {
  test('a reminder: who still has to answer, how long the step waited, how to answer', () => {
    expect(reminderReply(due(), { users: ['U0BOB'], groups: ['S0OPS'] })).toBe(
      '<@U0BOB>, <!subteam^S0OPS>: reminder, step *review › approve* of Deploy &lt;!channel&gt; &amp; co has waited 4 h for your answer. Use *Respond…* on the message above.',
    );
  });

  test('an escalation to the people it adds, on a yes/no step, late', () => {
    expect(
      escalationReply(due({ yesNo: true, late: true, waitedMs: D + 30 * 60_000 }), {
        users: ['U0CAROL'],
        groups: [],
      }),
    ).toBe(
      '<@U0CAROL>: step *review › approve* of Deploy &lt;!channel&gt; &amp; co has waited 1 day 30 min without an answer, so you may answer it now. Use *Approve* or *Reject* (or *Respond…*) on the message above. (late: Flowgate was not running when this was due)',
    );
  });

  test('at most twenty mentioned; the question’s own label names its button', () => {
    const users = Array.from({ length: 25 }, (_, i) => `U0P${i}`);
    const text = reminderReply(due({ question: { path: ['gate'], resumeLabel: 'Sign off' } }), {
      users,
      groups: ['S0OPS'],
    });
    expect(text.split(': reminder')[0]!.split(', ')).toEqual(users.slice(0, 20).map((id) => `<@${id}>`));
    expect(text).not.toContain('S0OPS');
    expect(text).toContain('Use *Sign off* on the message above.');
  });

  test('a timeout that canceled the run, and what the run records', () => {
    expect(timedOutReply(due({ waitedMs: 2 * D }))).toBe(
      ':alarm_clock: step *review › approve* of Deploy &lt;!channel&gt; &amp; co timed out after 2 days without an answer: the run was canceled.',
    );
    expect(timedOutReply(due({ late: true }))).toMatch(
      /the run was canceled\. \(late: Flowgate was not running when this was due\)$/,
    );
    expect(canceledByTimeout(['review', 'approve'], 3 * D)).toBe(
      'Flowgate: review › approve timed out after 3 days',
    );
    expect(timeoutAnswerNote(90_000)).toBe('no answer within 1 min 30 s');
  });
});

describe('when the policy cannot be followed for a step', () => {
  test('the admins are mentioned, the policy file named, outside text escaped', () => {
    expect(
      policyProblemReply(
        { admins: ['U0ADA', 'S0ADMINS'], source: 'policy<x>.yaml' },
        ['gate'],
        [unfitAnswerProblem(['a', 'b', 'c', 'd'])],
      ),
    ).toBe(
      "<@U0ADA>, <!subteam^S0ADMINS>: :warning: The policy (policy&lt;x&gt;.yaml) cannot be followed for step *gate*: the policy's onTimeout answer does not fit the step's form (a; b; c). Change onTimeout for this step in the policy.",
    );
    expect(policyProblemReply({ admins: [], source: null }, ['gate'], ['One.', 'Two <!here>.'])).toBe(
      ':warning: The policy cannot be followed for step *gate*: One. Two &lt;!here&gt;.',
    );
    expect(unansweredTimeoutProblem('why')).toBe('It timed out, but was not answered: why');
  });

  test('a quorum on a step that is more than yes or no', () => {
    expect(quorumIgnoredProblem(2, ['review', 'approve'])).toBe(
      'The policy asks 2 approvals of step review › approve, but its form is more than a yes or no, so one answer settles it. Set required only on yes/no steps.',
    );
    expect(quorumStartupProblem('review.approve', 'deploy', 3)).toBe(
      'step review.approve of deploy: the policy asks 3 approvals (required: 3), but its form is more than a yes or no (required counts approvals of yes/no steps only). Remove required for it, or set it on its yes/no steps only.',
    );
  });
});

describe('what a vote says', () => {
  test('a settled quorum’s summary', () => {
    expect(quorumSummary({ rejectedBy: 'U0BOB' })).toBe('rejected by <@U0BOB>');
    expect(quorumSummary({ approvedBy: ['U0BOB', 'U0CAROL', 'U0DAN'] })).toBe(
      'approved by <@U0BOB>, <@U0CAROL> and <@U0DAN>',
    );
  });

  test('an approval recorded, and one given twice', () => {
    expect(approvalRecorded({ already: false, approvals: 1, required: 2, path: ['gate'] })).toBe(
      'Your approval is recorded: 1 of 2 approvals for *gate*. The step goes on once 2 different people approve; one rejection rejects it.',
    );
    expect(approvalRecorded({ already: true, approvals: 1, required: 3, path: ['gate'] })).toMatch(
      /^You had already approved \(a person counts once\): 1 of 3 approvals for \*gate\*\./,
    );
  });
});
