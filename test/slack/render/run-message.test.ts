import { describe, expect, test } from 'vitest';
import { parseRecordsSync } from '../../../src/mastra/records.ts';
import { runStateSchema, toWorkflowEvent, workflowInfoSchema } from '../../../src/mastra/schemas.ts';
import type { RunSnapshot, StepSnapshot, WorkflowEvent } from '../../../src/mastra/types.ts';
import { treeOf } from '../../../src/runs/graph.ts';
import { initialSnapshot, reduceEvents, snapshotFromRunState } from '../../../src/runs/state.ts';
import { handleOf } from '../../../src/slack/ids.ts';
import { renderQuestionDm } from '../../../src/slack/render/questions.ts';
import { renderProgress } from '../../../src/slack/render/run-message.ts';
import { textLength } from '../../../src/slack/text/fit.ts';
import { stepName } from '../../../src/slack/text/mrkdwn.ts';
import { loadFixture } from '../../support/mastra/fixtures.ts';

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
      // Keyed by question: each item its own "who may answer" (how long it waited is its own).
      suspensions: {
        'review[0]': { answerers, yesNo: true },
        'review[1]': { answerers, yesNo: true },
        'review[2]': { answerers, yesNo: true },
      },
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
      r: handleOf('run-1'),
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

// ---------------------------------------------------------------------------------------------
// Every construct drawn from its real step graph and events (fixtures 110–121: the workflows of
// test/support/mastra/constructs.ts on a real server).

const graphOf = (fixture: string) =>
  workflowInfoSchema.parse(JSON.parse(loadFixture(fixture).text)).stepGraph;
const eventsOf = (fixture: string): WorkflowEvent[] =>
  parseRecordsSync(loadFixture(fixture).body).map(toWorkflowEvent);
const runStateOf = (fixture: string) => runStateSchema.parse(JSON.parse(loadFixture(fixture).text));
/** The step list's lines. */
const stepLines = (s: RunSnapshot): string[] => {
  const section = renderProgress({ ...base, snapshot: s }).blocks[2];
  return section?.type === 'section' && section.text ? section.text.text.split('\n') : [];
};
const EM = '\u2003\u2003';

describe('the step list drawn from the step graph', () => {
  const graph = graphOf('110');
  const tour = eventsOf('111');
  const start = () => initialSnapshot('tour-1', graph, new Date(0));
  const through = (id: string, type = 'workflow-step-start') =>
    reduceEvents(
      tour.slice(
        0,
        tour.findIndex((e) => e.type === type && (e as { payload: { id?: string } }).payload.id === id) + 1,
      ),
      start(),
    )!;
  const finished = () => snapshotFromRunState(runStateOf('112'), reduceEvents(tour, start()));

  test('nested workflow steps are listed under their parent from the start, indented', () => {
    const lines = stepLines(start());
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    expect(lines[at('`tour-inner` pending')]).not.toMatch(/^\u2003/);
    expect(lines[at('`tour-inner › in-a` pending')]).toMatch(new RegExp(`^${EM}:white_circle:`));
    expect(at('`tour-inner › in-a`')).toBe(at('`tour-inner`') + 1);
    expect(at('`tour-inner › in-b`')).toBeLessThan(at('`count`'));
  });

  test('parallel steps are grouped under one line saying they run side by side', () => {
    const lines = stepLines(through('par-a', 'workflow-step-result'));
    const group = lines.findIndex((l) => l.includes('*in parallel* · 2 steps side by side'));
    expect(group).toBeGreaterThan(-1);
    expect(lines[group]).toContain(':hourglass_flowing_sand:');
    expect(lines.slice(group + 1).find((l) => l.includes('`par-a`'))).toMatch(new RegExp(`^${EM}.*success`));
    expect(lines.find((l) => l.includes('`par-b`'))).toMatch(new RegExp(`^${EM}.*running`));
  });

  test('a branch not taken reads "not taken" as soon as the taken one starts', () => {
    const s = through('small-n');
    expect(s.payload.workflowState.status).toBe('running');
    const lines = stepLines(s);
    expect(lines.find((l) => l.includes('`big-n`'))).toContain('not taken');
    expect(lines.find((l) => l.includes('*branch*'))).toContain('1 of 2 paths taken');
  });

  test('maps are named for what they feed, never by their internal id', () => {
    const text = stepLines(finished()).join('\n');
    expect(text).toContain('`map → big-n + small-n input` success');
    expect(text).toContain('`map → tour-inner input` success');
    expect(text).not.toContain('mapping_');
  });

  test('a sleep shows its length before, and when it ends while it sleeps', () => {
    expect(stepLines(start()).join('\n')).toContain('`sleep` pending · for 30 ms');
    const waiting = tour.find((e) => e.type === 'workflow-step-waiting') as {
      payload: { id: string; startedAt: Date };
    };
    const line = stepLines(through(waiting.payload.id, 'workflow-step-waiting')).find((l) =>
      l.includes('`sleep`'),
    );
    const ends = Math.floor((waiting.payload.startedAt.getTime() + 30) / 1000);
    expect(line).toContain(`sleeping · for 30 ms · ends <!date^${ends}`);
    expect(stepLines(finished()).join('\n')).not.toContain('sleep_');
  });

  test('finished steps show their output summarised; a bail reads "finished early" with its payload after reconciliation', () => {
    const s = finished();
    expect(s.payload.workflowState.status).toBe('success');
    const message = renderProgress({ ...base, snapshot: s });
    expect(message.blocks[0]).toMatchObject({ text: { text: 'approval-workflow · Succeeded' } });
    const lines = stepLines(s);
    const bail = lines.findIndex((l) => l.includes('`bailer`'));
    expect(lines[bail]).toContain('finished early');
    expect(lines[bail + 1]).toContain('↳ reason: nothing left to do · n: 3');
    const small = lines.findIndex((l) => l.includes('`small-n` success'));
    expect(lines[small + 1]).toContain('↳ n: 1 · size: small');
    expect(lines.find((l) => l.includes('`count`'))).toContain('do-while loop, ran 2 times');
    expect(lines.find((l) => l.includes('`never-runs`'))).toContain('skipped');
  });

  test('a nested workflow whose step sleeps reads as waiting, not plainly running', () => {
    const napGraph = graphOf('121');
    const sleepId = (napGraph[0] as { serializedStepFlow: { id?: string }[] }).serializedStepFlow[1]!.id!;
    const at = new Date(1_800_000_000_000);
    const step = (type: WorkflowEvent['type'], id: string, status: string): WorkflowEvent =>
      ({
        type,
        runId: 'nap-1',
        from: 'WORKFLOW',
        payload: { id, stepName: id, status, startedAt: at },
      }) as WorkflowEvent;
    const s = reduceEvents(
      [
        { type: 'workflow-start', runId: 'nap-1', from: 'WORKFLOW', payload: { workflowId: 'napper' } },
        step('workflow-step-start', 'nap', 'running'),
        step('workflow-step-start', 'nap.lie-down', 'running'),
        {
          ...step('workflow-step-result', 'nap.lie-down', 'success'),
          payload: {
            id: 'nap.lie-down',
            stepName: 'nap.lie-down',
            status: 'success',
            startedAt: at,
            endedAt: at,
            output: {},
          },
        } as WorkflowEvent,
        step('workflow-step-waiting', `nap.${sleepId}`, 'waiting'),
      ],
      initialSnapshot('nap-1', napGraph, at),
    )!;
    const lines = stepLines(s);
    expect(lines.find((l) => l.includes('`nap`'))).toMatch(/:zzz: `nap` waiting/);
    expect(lines.find((l) => l.includes('`nap › sleep`'))).toContain('sleeping · for 1 min 0 s · ends');
  });

  test('a loop asking again: its iteration and the latest output, then how many times it ran', () => {
    const asked = snapshotFromRunState(
      runStateOf('115'),
      reduceEvents([...eventsOf('113'), ...eventsOf('114')], initialSnapshot('ask-1', [], new Date(0))),
    );
    const lines = stepLines(asked);
    expect(lines[0]).toContain('`ask` waiting for an answer');
    expect(lines[0]).toContain('do-until loop, iteration 2');
    expect(lines[1]).toContain('↳ latest output: turn: 2 · last: go');
    const done = snapshotFromRunState(runStateOf('117'), reduceEvents(eventsOf('116'), asked));
    expect(stepLines(done)[0]).toContain('do-until loop, ran 2 times');
    expect(stepLines(done)[1]).toContain('↳ turn: 3 · last: stop');
  });

  test('a foreach line counts its items: done and waiting', () => {
    const s = reduceEvents(
      eventsOf('118'),
      initialSnapshot('items-1', runStateOf('119').serializedStepGraph!),
    )!;
    const lines = stepLines(s);
    expect(lines.find((l) => l.includes('`check-item`'))).toContain('3 items · 3 done');
    expect(lines.find((l) => l.includes('`review-item`'))).toContain('3 items · 0 done · 3 waiting');
    expect(
      stepLines(snapshotFromRunState(runStateOf('119'))).find((l) => l.includes('`review-item`')),
    ).toContain('3 items · 0 done · 3 waiting');
  });

  test('a failure inside a nested workflow names the step by its full path', () => {
    const s = snapshot('failed', [
      { id: 'tour-inner', status: 'failed' },
      { id: 'tour-inner.in-b', status: 'failed', error: { message: 'nope' } },
    ]);
    const text = allText(renderProgress({ ...base, snapshot: { ...s, stepGraph: graph } }).blocks);
    expect(text).toContain(`Failed* at step ${stepName(['tour-inner', 'in-b'], 100, 'code')}`);
    expect(text).toContain('at step `tour-inner › in-b`');
  });

  test('a path reads the same everywhere: internal sleep and map ids read as what they are', () => {
    expect(stepName(['nap', 'sleep_0a42f4eb-562d-45b9-96db-7a1d2136d9f5'])).toBe('nap › sleep');
    expect(stepName(['mapping_tour_0'])).toBe('map');
    expect(stepName(['inner', 'in-a'], 100, 'code')).toBe('`inner › in-a`');
  });

  test('a 200-step run with nested groups still fits, with what needs attention and the frontier visible', () => {
    const big: unknown[] = [];
    for (let i = 0; i < 40; i++) {
      big.push({ type: 'step', step: { id: `s${i}-${'x'.repeat(40)}` } });
      big.push({
        type: 'parallel',
        steps: [0, 1].map((j) => ({ type: 'step', step: { id: `p${i}-${j}-${'y'.repeat(40)}` } })),
      });
      big.push({
        type: 'workflow',
        id: `w${i}`,
        serializedStepFlow: [0, 1].map((j) => ({ type: 'step', step: { id: `n${j}-${'z'.repeat(40)}` } })),
      });
    }
    const rows = treeOf(big);
    const ids = [...rows.keys];
    expect(ids.length).toBe(240); // 200 steps and the 40 nested workflows they are in
    const t0 = new Date(1_800_000_000_000);
    const steps: StepSnapshot[] = ids.map((id, i) => ({
      id,
      status: i < 120 ? 'success' : i === 120 ? 'running' : 'pending',
      startedAt: t0,
      ...(i < 120 ? { endedAt: t0, output: { text: 'o'.repeat(400), n: i } } : {}),
    }));
    steps[10] = { ...steps[10]!, status: 'failed', error: { message: 'broke' } };
    const message = renderProgress({ ...base, snapshot: { ...snapshot('running', steps), stepGraph: big } });
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(textLength(message.blocks)).toBeLessThanOrEqual(11_000);
    const text = allText(message.blocks);
    // The failed step (needs attention) and the running one (the frontier) are shown.
    expect(text).toContain(`${stepName(ids[10]!.split('.'), 80, 'code')} failed`);
    expect(text).toContain(`${stepName(ids[120]!.split('.'), 80, 'code')} running`);
    expect(text).toMatch(/…\d+ more steps/);
    for (const block of message.blocks) {
      if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    }
  });
});

describe('a question asked by DM', () => {
  const answerers = { kind: 'approvers' as const, users: ['U2', 'U3'], groups: [], starterRefused: true };
  const question = {
    path: ['gates', 'sign-off'],
    suspendedAt: new Date(5),
    payload: { version: '<!channel> 2.0' },
    resumeLabel: 'Sign off',
  };

  test('the question as the message shows it, escaped, with the same buttons and a link to the run', () => {
    const dm = renderQuestionDm({
      workflowName: 'release <!here>',
      runId: 'run-1',
      permalink: 'https://example.slack.com/archives/C1/p1',
      questions: [{ question, info: { answerers, yesNo: true } }],
    });
    const text = allText(dm.blocks);
    expect(dm.text).toBe('release &lt;!here&gt; › gates › sign-off is waiting for your answer.');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('<https://example.slack.com/archives/C1/p1|View the run>');
    expect(text).toContain('Who may answer: <@U2>, <@U3>');
    const buttons = dm.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.map((e) => (e as { text: { text: string } }).text.text)).toEqual([
      'Sign off',
      'Approve',
      'Reject',
    ]);
    // The value a button carries on the run's message: a click in the DM answers that question.
    const message = renderProgress({
      ...base,
      snapshot: snapshot('suspended', [{ id: 'gates', status: 'suspended' }], { suspended: [question] }),
      suspensions: { 'gates.sign-off': { answerers, yesNo: true, askedByDm: ['U3'] } },
    });
    const onMessage = message.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect((buttons[0] as { value: string }).value).toBe((onMessage[0] as { value: string }).value);
    expect(allText(message.blocks)).toContain('Asked <@U3> by DM: they are not in this conversation.');
  });
});
