/**
 * Steps that don't get stuck (README), end to end with durations of a few seconds: the real Bolt
 * app, the Slack emulator and a real Mastra server. Reminders, escalation, timeouts (cancel and
 * answer), a person and the deadline at the same moment, quorums, and a restart in between.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { StartupError } from '../../src/app.ts';
import { parsePolicy } from '../../src/policy/load.ts';
import { ALICE, BOB, CAROL, GENERAL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

/** A one-step workflow whose `gate` asks for a yes/no ({ approved, comment? }) or, `rich`, a score too. */
function gateWorkflow(id: string, rich = false): AnyWorkflow {
  const input = z.object({ title: z.string().default('Request') });
  const resume = rich
    ? z.object({ approved: z.boolean(), score: z.number() })
    : z.object({ approved: z.boolean(), comment: z.string().optional() });
  const gate = createStep({
    id: 'gate',
    inputSchema: input,
    outputSchema: z.object({ approved: z.boolean(), comment: z.string().optional() }),
    suspendSchema: z.object({ title: z.string() }),
    resumeSchema: resume,
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ title: inputData.title });
      const comment = 'comment' in resumeData ? resumeData.comment : undefined;
      return { approved: resumeData.approved, ...(comment === undefined ? {} : { comment }) };
    },
  });
  return createWorkflow({
    id,
    inputSchema: input,
    outputSchema: z.object({ approved: z.boolean(), comment: z.string().optional() }),
  })
    .then(gate)
    .commit() as unknown as AnyWorkflow;
}

const KEYS = [
  'remindGate',
  'escalateGate',
  'cancelGate',
  'answerGate',
  'raceGate',
  'quorumGate',
  'unfitGate',
  'restartGate',
] as const;

const policyText = `
admins: [${CAROL}]
workflows:
  remindGate: { approvers: [${BOB}], remindEvery: 1s }
  escalateGate: { approvers: [${BOB}], escalateAfter: 3s, escalateTo: [${CAROL}] }
  cancelGate: { approvers: [${BOB}], timeoutAfter: 1s, channel: ${GENERAL} }
  answerGate:
    approvers: [${BOB}]
    timeoutAfter: 1s
    onTimeout: { answer: { approved: false, comment: "No answer in time" } }
  raceGate: { approvers: [${BOB}], timeoutAfter: 1s, onTimeout: { answer: { approved: false } } }
  quorumGate: { approvers: [${BOB}, ${CAROL}], required: 2 }
  unfitGate: { approvers: [${BOB}], timeoutAfter: 1s, onTimeout: { answer: { approved: "yes" } } }
  restartGate: { approvers: [${BOB}], timeoutAfter: 2s }
`;
const policy = parsePolicy(policyText, 'deadlines-policy.yaml');

let mastra: MastraTestServer;
let h: Harness;
let dir: string;
beforeAll(async () => {
  const workflows = Object.fromEntries(KEYS.map((key) => [key, gateWorkflow(key)]));
  mastra = await startMastraServer({ workflows: { ...workflows, richGate: gateWorkflow('richGate', true) } });
  dir = mkdtempSync(join(tmpdir(), 'flowgate-deadlines-'));
  h = await startHarness({ policy, admins: [CAROL], mastra, dbPath: join(dir, 'shared.db') });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
  rmSync(dir, { recursive: true, force: true });
});

const thread = (message: { channel: string; ts: string }) => h.emulator.thread(message.channel, message.ts);
const succeeded = (runId: string) => h.message(runId, (m) => m.text.includes('Succeeded'));
async function output(workflow: string, runId: string) {
  const state = await h.mastraGet(`/api/workflows/${workflow}/runs/${runId}`);
  return { status: state.status, result: state.result as Record<string, unknown> | undefined };
}

describe('reminders and escalation', () => {
  test('reminders: in the thread, at most one per interval, only people who may answer, none once answered', async () => {
    const runId = await h.startRun('start remindGate {"title": "Ship it?"}', ALICE);
    const message = await h.message(runId, (m) => m.blocks.includes('Reminds who may answer every 1 s'));
    const reminders = () => thread(message).filter((m) => m.text.includes('reminder'));
    await waitFor('two reminders', () => reminders().length >= 2);
    const [since] = (await h.flowgate.store.listDeadlines(runId)).map((d) => d.since.getTime());
    for (const reminder of reminders()) {
      expect(reminder.text).toContain(`<@${BOB}>`);
      expect(reminder.text).not.toContain(`<@${ALICE}>`); // the starter may not answer: not mentioned
    }
    // The k-th reminder comes k intervals after the step started waiting, not sooner.
    reminders().forEach((reminder, k) => {
      expect(Number(reminder.ts) * 1000).toBeGreaterThanOrEqual(since! + (k + 1) * 1000 - 5);
    });
    await h.click(message, 'flowgate_approve', { user: BOB, blockId: 'flowgate_step:gate' });
    await succeeded(runId);
    const count = reminders().length;
    // The reminder due after the answer is dropped without a word.
    await waitFor('the reminder dropped', async () =>
      (await h.flowgate.store.listDeadlines(runId)).some((d) => d.kind === 'remind' && d.state === 'dropped'),
    );
    expect(reminders().length).toBe(count);
  });

  test('escalation: the people escalated to may answer once the step has waited, and are mentioned', async () => {
    const runId = await h.startRun('start escalateGate {"title": "Ship it?"}', ALICE);
    const message = await h.message(runId, (m) => m.blocks.includes('Escalates to'));
    expect(message.blocks).toContain(`Who may answer: <@${BOB}>`);
    expect(message.blocks).toContain(`Escalates to <@${CAROL}> <!date^`);
    // Carol may not answer yet: the same decision as the text.
    await h.click(message, 'flowgate_approve', { user: CAROL, blockId: 'flowgate_step:gate' });
    await waitFor('carol refused', () => h.replies(CAROL).some((t) => t.includes('not an approver')));
    await waitFor('the escalation in the thread', () =>
      thread(message).some((m) => m.text.includes(`<@${CAROL}>`) && m.text.includes('you may answer it now')),
    );
    const escalated = await h.message(runId, (m) => m.blocks.includes(`<@${BOB}>, <@${CAROL}>`));
    expect(escalated.blocks).toContain(`Escalated to <@${CAROL}>`);
    await h.click(escalated, 'flowgate_approve', { user: CAROL, blockId: 'flowgate_step:gate' });
    const final = await succeeded(runId);
    expect(final.blocks).toContain(`answered by <@${CAROL}>`);
    expect(final.blocks).toContain('Escalated after 3 s');
  });
});

describe('timeouts', () => {
  test('cancel, for a run started outside Slack: the run is canceled and the message says it timed out', async () => {
    const api = `${mastra.url}/api/workflows/cancelGate`;
    const { runId } = (await (await fetch(`${api}/create-run`, { method: 'POST' })).json()) as {
      runId: string;
    };
    await fetch(`${api}/start?runId=${runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputData: { title: 'Ship it?' } }),
    });
    await h.message(runId);
    const final = await h.message(runId, (m) => m.text.includes('Canceled'));
    expect(final.blocks).toContain('timed out after 1 s');
    expect(final.blocks).toContain('Timed out after 1 s: canceled');
    expect((await output('cancelGate', runId)).status).toBe('canceled');
    await waitFor('the thread says so', () =>
      thread(final).some((m) => m.text.includes('timed out after') && m.text.includes('canceled')),
    );
  });

  test('answer: resumed with the policy’s answer, recorded as answered by Flowgate', async () => {
    const runId = await h.startRun('start answerGate {"title": "Ship it?"}', ALICE);
    await h.message(runId);
    const final = await succeeded(runId);
    expect(final.blocks).toContain('answered by Flowgate');
    expect(final.blocks).toContain('no answer within 1 s');
    expect((await output('answerGate', runId)).result).toEqual({
      approved: false,
      comment: 'No answer in time',
    });
    await waitFor('the answer in the thread', () =>
      thread(final).some((m) => m.text.startsWith('Flowgate answered *gate*')),
    );
  });

  test('an answer that does not fit the form is not given: the message says why, the admins are told', async () => {
    const runId = await h.startRun('start unfitGate {"title": "Ship it?"}', ALICE);
    const message = await h.message(runId, (m) => m.blocks.includes('will not be answered automatically'));
    await waitFor('the admins told', () =>
      thread(message).some(
        (m) => m.text.includes(`<@${CAROL}>`) && m.text.includes('onTimeout answer does not fit'),
      ),
    );
    await waitFor('the timeout passed without an answer', async () =>
      (await h.flowgate.store.listDeadlines(runId)).some(
        (d) => d.kind === 'timeout' && d.state === 'dropped',
      ),
    );
    expect((await output('unfitGate', runId)).status).toBe('suspended');
    expect(await h.flowgate.store.listAnswers(runId)).toEqual([]);
  });

  test('a person and the deadline at the same moment: exactly one resume', async () => {
    await h.flowgate.scheduler.stop(); // this test fires the deadline itself, together with the click
    try {
      const runId = await h.startRun('start raceGate {"title": "Ship it?"}', ALICE);
      const message = await h.message(runId);
      await waitFor('the timeout due', async () =>
        (await h.flowgate.store.dueDeadlines(new Date(), 10)).some((d) => d.runId === runId),
      );
      await Promise.all([
        h.click(message, 'flowgate_approve', { user: BOB, blockId: 'flowgate_step:gate' }),
        h.flowgate.scheduler.tick(),
      ]);
      const final = await succeeded(runId);
      const answers = await h.flowgate.store.listAnswers(runId);
      expect(answers).toHaveLength(1);
      const winner = answers[0]!.userId;
      expect([BOB, 'Flowgate']).toContain(winner);
      expect((await output('raceGate', runId)).result).toEqual({ approved: winner === BOB });
      await waitFor('one answer in the thread', () =>
        thread(final).some((m) => m.text.includes('answered *gate*')),
      );
      expect(thread(final).filter((m) => m.text.includes('answered *gate*'))).toHaveLength(1);
      if (winner === 'Flowgate')
        await waitFor('bob told', () => h.replies(BOB).some((t) => t.includes('already answered')));
    } finally {
      h.flowgate.scheduler.start();
    }
  });
});

describe('quorum: required approvals of different people', () => {
  test('the same person twice counts once; the second person’s approval resumes', async () => {
    const runId = await h.startRun('start quorumGate {"title": "Ship it?"}', ALICE);
    const message = await h.message(runId, (m) => m.blocks.includes('0 of 2 approvals'));
    await h.click(message, 'flowgate_approve', { user: BOB, blockId: 'flowgate_step:gate' });
    await waitFor('bob told', () =>
      h.replies(BOB).some((t) => t.includes('Your approval is recorded: 1 of 2')),
    );
    await h.message(runId, (m) => m.blocks.includes('1 of 2 approvals'));
    await h.click(message, 'flowgate_approve', { user: BOB, blockId: 'flowgate_step:gate' });
    await waitFor('bob told again', () => h.replies(BOB).some((t) => t.includes('You had already approved')));
    expect((await output('quorumGate', runId)).status).toBe('suspended');
    await h.click(message, 'flowgate_approve', { user: CAROL, blockId: 'flowgate_step:gate' });
    const final = await succeeded(runId);
    expect(final.blocks).toContain(`Approved by <@${BOB}> and <@${CAROL}>`);
    expect((await output('quorumGate', runId)).result).toEqual({ approved: true });
    const votes = await h.flowgate.store.listVotes(runId);
    expect(votes.map((v) => [v.userId, v.approve])).toEqual([
      [BOB, true],
      [CAROL, true],
    ]);
  });

  test('one rejection settles the step at once', async () => {
    const runId = await h.startRun('start quorumGate {"title": "Ship it?"}', ALICE);
    const message = await h.message(runId);
    await h.click(message, 'flowgate_reject', { user: CAROL, blockId: 'flowgate_step:gate' });
    const final = await succeeded(runId);
    expect(final.blocks).toContain(`Rejected by <@${CAROL}>`);
    expect((await output('quorumGate', runId)).result).toEqual({ approved: false });
  });

  test('required above 1 on a step with a richer form: Flowgate refuses to start, saying which step', async () => {
    const bad = parsePolicy('workflows:\n  richGate: { required: 2 }\n', 'bad.yaml');
    const attempt = startHarness({ policy: bad, mastra, emulator: h.emulator });
    await expect(attempt).rejects.toThrow(StartupError);
    await expect(attempt).rejects.toThrow(/step gate of richGate: the policy asks 2 approvals/);
  });
});

describe('deadlines are stored', () => {
  test('a restart between the suspension and the deadline: it fires on start, once, marked late', async () => {
    const runId = await h.startRun('start restartGate {"title": "Ship it?"}', ALICE);
    const message = await h.message(runId);
    const [timeout] = await h.flowgate.store.listDeadlines(runId);
    await h.flowgate.stop();
    await waitFor('the deadline passed while stopped', () => Date.now() > timeout!.dueAt.getTime() + 200);
    // Two processes on the same database: each deadline fires once.
    const [first, second] = await Promise.all([
      startHarness({ policy, admins: [CAROL], mastra, emulator: h.emulator, dbPath: h.config.dbPath }),
      startHarness({ policy, admins: [CAROL], mastra, emulator: h.emulator, dbPath: h.config.dbPath }),
    ]);
    try {
      h = first;
      const final = await h.message(runId, (m) => m.text.includes('Canceled'));
      expect(final.blocks).toContain('(late: Flowgate was not running when it was due)');
      // The deadline's own note, once (the end of the run, told in the thread too, names it as well).
      const note = (m: { text: string }) =>
        m.text.startsWith(':alarm_clock:') && m.text.includes('timed out');
      await waitFor('the thread says so', () => thread(message).some(note));
      expect(thread(message).filter(note)).toHaveLength(1);
      expect((await first.flowgate.store.listDeadlines(runId))[0]).toMatchObject({
        state: 'done',
        late: true,
      });
    } finally {
      await second.close();
    }
  });
});
