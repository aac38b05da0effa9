import { describe, expect, test } from 'vitest';
import type { RunSnapshot, StepSnapshot } from '../../src/mastra/types.ts';
import { textLength } from '../../src/slack/fit.ts';
import { handleOf } from '../../src/slack/ids.ts';
import { renderProgress } from '../../src/slack/render/progress.ts';

function snapshot(
  status: RunSnapshot['payload']['workflowState']['status'],
  steps: StepSnapshot[],
  extra: Partial<RunSnapshot['payload']['workflowState']> = {},
): RunSnapshot {
  return {
    runId: 'run-1',
    eventTimestamp: new Date(1_800_000_000_000),
    payload: {
      currentStep: null,
      workflowState: {
        status,
        steps: Object.fromEntries(steps.map((s) => [s.id, s])),
        suspended: [],
        ...extra,
      },
    },
  };
}

const base = {
  workflow: { key: 'approvalWorkflow', name: 'approval-workflow' },
  starterId: 'U123',
  startedAt: new Date(1_800_000_000_000),
};

function allText(blocks: unknown): string {
  return JSON.stringify(blocks);
}

describe('renderProgress', () => {
  test('header, starter, step states with durations, and a Cancel button while running', () => {
    const t0 = new Date(1_800_000_000_000);
    const message = renderProgress({
      ...base,
      snapshot: snapshot('running', [
        { id: 'prepare', status: 'success', startedAt: t0, endedAt: new Date(t0.getTime() + 1500) },
        { id: 'approve', status: 'running', startedAt: t0, writerOutput: { note: 'halfway' } },
        { id: 'finalize', status: 'pending' },
      ]),
    });
    const text = allText(message.blocks);
    expect(message.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: 'approval-workflow · Running' },
    });
    expect(text).toContain('<@U123>');
    expect(text).toContain('`prepare` success · 1.5 s');
    expect(text).toContain('halfway');
    expect(text).toContain('`finalize` pending');
    expect(text).toContain('flowgate_cancel');
    expect(message.text).toContain('Running');
  });

  test('text from outside is escaped: a workflow output cannot ping the channel', () => {
    const message = renderProgress({
      ...base,
      snapshot: snapshot('success', [{ id: 'a', status: 'success' }], {
        result: { msg: '<!channel> & <@U999>' },
      }),
    });
    const text = allText(message.blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<@U999>');
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;@U999&gt;');
    expect(text).not.toContain('flowgate_cancel');
  });

  test('failure names the failing step and its error', () => {
    const message = renderProgress({
      ...base,
      snapshot: snapshot('failed', [{ id: 'boom', status: 'failed', error: { message: 'Boom: <HELLO>' } }], {
        error: { message: 'Boom: <HELLO>' },
      }),
    });
    const text = allText(message.blocks);
    expect(text).toContain('Failed* at step `boom`');
    expect(text).toContain('Boom: &lt;HELLO&gt;');
  });

  test('a canceled run says who canceled it', () => {
    const message = renderProgress({ ...base, canceledBy: 'U777', snapshot: snapshot('canceled', []) });
    expect(allText(message.blocks)).toContain('Canceled by <@U777>');
  });

  test('200 steps with long outputs stay within 50 blocks and the text budget, with a summary line', () => {
    const steps: StepSnapshot[] = Array.from({ length: 200 }, (_, i) => ({
      id: `step-${i}-${'x'.repeat(60)}`,
      status: i < 100 ? 'success' : i === 100 ? 'running' : 'pending',
      writerOutput: 'y'.repeat(500),
    }));
    const message = renderProgress({ ...base, snapshot: snapshot('running', steps) });
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(textLength(message.blocks)).toBeLessThanOrEqual(11_000);
    expect(allText(message.blocks)).toMatch(/…\d+ more steps \(\d+ success\)/);
    expect(allText(message.blocks)).toMatch(/…\d+ more steps \(\d+ pending\)/);
    expect(allText(message.blocks)).toContain('`step-100-');
    for (const block of message.blocks) {
      if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    }
  });

  test('a suspended step shows its question, who may answer, and Respond / Approve / Reject when yes/no', () => {
    const message = renderProgress({
      ...base,
      snapshot: snapshot(
        'suspended',
        [{ id: 'approve', status: 'suspended', suspendPayload: { reason: 'Needs <b>', amount: 1250 } }],
        {
          suspended: [
            { path: ['approve'], suspendedAt: new Date(1), payload: { reason: 'Needs <b>', amount: 1250 } },
          ],
        },
      ),
      suspensions: {
        approve: {
          answerers: { kind: 'approvers', users: ['U3'], groups: ['S9'], starterRefused: false },
          yesNo: true,
        },
      },
    });
    const text = allText(message.blocks);
    expect(text).toContain('Who may answer: <@U3>, <!subteam^S9>');
    expect(text).toContain('Needs &lt;b&gt;');
    expect(text).toContain('flowgate_respond');
    expect(text).toContain('flowgate_approve');
    expect(text).toContain('flowgate_reject');
  });

  test('several suspended steps each get their own buttons, nested paths kept exactly', () => {
    const message = renderProgress({
      ...base,
      snapshot: snapshot(
        'suspended',
        [
          { id: 'a', status: 'suspended' },
          { id: 'inner.inner-approve', status: 'suspended' },
        ],
        {
          suspended: [
            { path: ['a'], suspendedAt: new Date(1) },
            { path: ['inner', 'inner-approve'], suspendedAt: new Date(2) },
          ],
        },
      ),
    });
    const actions = message.blocks.filter(
      (b) => b.type === 'actions' && b.block_id?.startsWith('flowgate_step:'),
    );
    expect(actions.map((b) => b.block_id)).toEqual(['flowgate_step:a', 'flowgate_step:inner.inner-approve']);
    const values = actions.map((b) =>
      b.type === 'actions' ? JSON.parse((b.elements[0] as { value: string }).value) : null,
    );
    // Each button names its own suspension by a short handle of the exact path.
    expect(values.map((v) => v.h)).toEqual([handleOf(['a']), handleOf(['inner', 'inner-approve'])]);
  });
});

describe('questions: foreach iterations, loops asking again, resume labels', () => {
  const answerers = { kind: 'starter' as const, users: ['U123'], groups: [], starterRefused: false };

  test('each suspended iteration its own block, payload and label; an unknown moment gets no buttons yet', () => {
    const message = renderProgress({
      ...base,
      snapshot: snapshot('suspended', [{ id: 'review', status: 'suspended' }], {
        suspended: [
          {
            path: ['review'],
            forEachIndex: 0,
            forEachTotal: 3,
            suspendedAt: new Date(5),
            payload: { name: 'apple' },
            resumeLabel: 'Review apple',
          },
          {
            path: ['review'],
            forEachIndex: 2,
            forEachTotal: 3,
            suspendedAt: new Date(6),
            payload: { name: 'plum' },
          },
          { path: ['review'], forEachIndex: 1, forEachTotal: 3 },
        ],
      }),
      suspensions: { review: { answerers, yesNo: true } },
      answers: { 'review[1]#4': { userId: 'U123', at: new Date(7), summary: '{"approved":true}' } },
    });
    const actions = message.blocks.filter(
      (b) => b.type === 'actions' && b.block_id?.startsWith('flowgate_step'),
    );
    expect(actions.map((b) => b.block_id)).toEqual(['flowgate_step:review#0', 'flowgate_step:review#2']);
    const first = actions[0]!.type === 'actions' ? actions[0]!.elements : [];
    expect(first.map((e) => (e as { text: { text: string } }).text.text)).toEqual([
      'Review apple',
      'Approve',
      'Reject',
    ]);
    expect(JSON.parse((first[0] as { value: string }).value)).toEqual({
      h: handleOf(['review']),
      i: 0,
      t: 5,
    });
    const text = allText(message.blocks);
    expect(text).toContain('*review · item 1 of 3* is waiting');
    expect(text).toContain('*review · item 2 of 3* is waiting');
    expect(text).toContain('Loading this question');
    expect(text).toContain('*review* · item 2 answered by <@U123>');
  });

  test('a step asking again: the earlier answer is history, not the answer to the new question', () => {
    const message = renderProgress({
      ...base,
      snapshot: snapshot('suspended', [{ id: 'ask', status: 'suspended' }], {
        suspended: [{ path: ['ask'], suspendedAt: new Date(20), payload: { question: 'Question 2' } }],
      }),
      suspensions: { ask: { answerers, yesNo: false } },
      answers: { 'ask#10': { userId: 'U123', at: new Date(11), summary: 'go on' } },
    });
    const text = allText(message.blocks);
    expect(text).toContain(':speech_balloon: earlier: *ask* answered by <@U123>');
    expect(text).not.toContain(':speech_balloon: *ask*');
  });
});
