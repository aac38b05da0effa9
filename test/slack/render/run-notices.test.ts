import { describe, expect, test } from 'vitest';
import type { Answerers } from '../../../src/policy/types.ts';
import {
  answeredReply,
  answerNotAcceptedNote,
  answerSummary,
  askReply,
  canceledNote,
  nobodyMayAnswerReply,
  progressInDmsNote,
  requesterPendingReply,
  runEndedDm,
  runEndedInDms,
  runEndedReply,
} from '../../../src/slack/render/run-notices.ts';

const approvers: Answerers = {
  kind: 'approvers',
  users: ['U0AVERY'],
  groups: ['S0APPROVE'],
  starterRefused: false,
};

describe('who may answer, in the thread', () => {
  test('mentions who may answer and names the buttons the message shows', () => {
    const text = askReply({
      workflowName: 'Expense approval',
      questions: [{ path: ['review', 'approve'] }],
      answerers: approvers,
      yesNo: true,
    });
    expect(text).toBe(
      '<@U0AVERY>, <!subteam^S0APPROVE>: step *review › approve* of Expense approval is waiting for your answer. Use *Approve* or *Reject* (or *Respond…*) on the message above.',
    );
  });

  test('the `.foreach()` items asked in one mention, with their resume labels', () => {
    const questions = [1, 3].map((i) => ({ path: ['grant'], forEachIndex: i, resumeLabel: `Review ${i}` }));
    const text = askReply({ workflowName: 'Access', questions, answerers: approvers, yesNo: false });
    expect(text).toBe(
      '<@U0AVERY>, <!subteam^S0APPROVE>: step *grant* (items 2, 4) of Access is waiting for your answer. Use *Review 1* or *Review 3* on the message above.',
    );
  });

  test('nobody may answer: the starter and the admins are told what to change', () => {
    const args = {
      workflowName: 'Payroll',
      questions: [{ path: ['sign'], forEachIndex: 0 }],
      nobody: 'No approvers are configured.',
      starterId: 'U0REY',
      admins: ['U0REY', 'U0ADA', 'S0ADMINS'],
    };
    expect(nobodyMayAnswerReply({ ...args, policySource: 'policy.yaml' })).toBe(
      '<@U0REY>, <@U0ADA>, <!subteam^S0ADMINS>: :warning: step *sign* (item 1) of Payroll is waiting, but nobody may answer it. No approvers are configured. An admin can change the policy file (policy.yaml) and restart Flowgate; the step can then be answered from this message.',
    );
    expect(nobodyMayAnswerReply({ ...args, starterId: null, admins: [], policySource: null })).toBe(
      ':warning: step *sign* (item 1) of Payroll is waiting, but nobody may answer it. No approvers are configured. An admin can change the policy file (set FLOWGATE_POLICY) and restart Flowgate; the step can then be answered from this message.',
    );
  });

  test('a requester not yet known: the admins are told, the requester escaped', () => {
    const text = requesterPendingReply({
      workflowName: 'Expense approval',
      path: ['approve'],
      requester: 'dana@example.com <!here>',
      pending: 'The requester is being looked up.',
      admins: ['U0ADA'],
    });
    expect(text).toBe(
      '<@U0ADA>: :warning: step *approve* of Expense approval is waiting, but Slack could not tell who requested this run (dana@example.com &lt;!here&gt;) yet. The requester is being looked up. Flowgate keeps looking them up and mentions who may answer once it knows; an admin may cancel the run meanwhile.',
    );
  });
});

describe('answers', () => {
  test('the summary of an answer: the note first, the value inline', () => {
    expect(answerSummary({ approved: true })).toBe('{"approved":true}');
    expect(answerSummary({ approved: false }, 'No answer in time')).toBe(
      'No answer in time: {"approved":false}',
    );
    expect(answerSummary('x'.repeat(1000)).length).toBeLessThanOrEqual(280);
  });

  test('who answered, and the answer not accepted', () => {
    const question = { path: ['grant'], forEachIndex: 2 };
    expect(answeredReply({ userId: 'U0AVERY', ...question, summary: '<b>yes</b>' })).toBe(
      '<@U0AVERY> answered *grant* · item 3: &lt;b&gt;yes&lt;/b&gt;',
    );
    expect(answerNotAcceptedNote({ path: ['grant'], forEachIndex: undefined, reason: 'It was late.' })).toBe(
      'Your answer to *grant* was not accepted: It was late.',
    );
  });
});

describe('the end of a run', () => {
  const end = { workflowName: 'Deploy', canceledBy: 'U0ADA', error: 'disk full' };

  test('in its thread: how it ended, why it failed, who canceled it', () => {
    expect(runEndedReply({ ...end, status: 'success' })).toBe('Run Deploy succeeded.');
    expect(runEndedReply({ ...end, status: 'failed' })).toBe('Run Deploy failed: disk full.');
    expect(runEndedReply({ ...end, status: 'canceled' })).toBe('Run Deploy canceled (canceled by <@U0ADA>).');
  });

  test('in the DMs that asked its questions, and to its starter', () => {
    expect(runEndedInDms({ ...end, status: 'canceled' })).toBe(
      'Run Deploy canceled (canceled by <@U0ADA>): nothing is left to answer here.',
    );
    expect(runEndedDm({ ...end, status: 'failed', permalink: 'https://example.slack.com/p1' })).toBe(
      'Your run of Deploy failed: disk full. <https://example.slack.com/p1|View the run>',
    );
    expect(runEndedDm({ ...end, status: 'bailed' })).toBe('Your run of Deploy finished early.');
  });
});

test('notes to one person', () => {
  expect(canceledNote('run-1', 'deploy')).toBe('Canceled run `run-1` of deploy.');
  expect(progressInDmsNote('deploy')).toBe(
    "I can't post in this channel, so the progress of `deploy` is in your DMs. Invite me to the channel to post here.",
  );
});
