import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parsePolicy } from '../../src/policy/load.ts';
import { ALICE, BOB, CAROL, type Harness, ONCALL_GROUP, startHarness, waitFor } from '../support/flowgate.ts';

// alice and bob are in the on-call group; carol is not.
const policy = parsePolicy(
  `
admins: [${CAROL}]
workflows:
  approvalWorkflow:
    approvers: [${ONCALL_GROUP}]
  simpleApprovalWorkflow:
    approvers: [${BOB}, ${CAROL}]
  inputFormWorkflow:
    start: [${ALICE}]
`,
  'policy.yaml',
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy, admins: [CAROL] });
});
afterAll(async () => {
  await h?.close();
});

async function openForm(message: { channel: string; ts: string }, step: string, user: string, runId: string) {
  await h.click(message, 'flowgate_respond', { blockId: `flowgate_step:${step}`, user });
  return h.answerForm(user, runId);
}

describe('who may answer, per the policy', () => {
  test('approvers via a user group are mentioned and may answer; the starter may not approve their own run', async () => {
    const runId = await h.startRun('start approvalWorkflow {"requestId": "P-1", "amount": 3}', ALICE);
    const message = await h.message(runId);
    expect(message.blocks).toContain(`Who may answer: <!subteam^${ONCALL_GROUP}>`);
    await waitFor('the group is mentioned in the thread', () =>
      h.emulator
        .thread(message.channel, message.ts)
        .some((m) => m.text.includes(`<!subteam^${ONCALL_GROUP}>`)),
    );
    // Alice is in the group but started the run.
    await h.click(message, 'flowgate_respond', { blockId: 'flowgate_step:approve', user: ALICE });
    await waitFor('self-approval refused', () =>
      h.replies(ALICE).some((t) => t.includes('does not allow approving your own run')),
    );
    // Carol is an admin but not an approver.
    await h.click(message, 'flowgate_respond', { blockId: 'flowgate_step:approve', user: CAROL });
    await waitFor('carol refused', () =>
      h.replies(CAROL).some((t) => t.includes('You are not an approver for step approve')),
    );
    // Bob is in the group.
    const view = await openForm(message, 'approve', BOB, runId);
    const answer = {
      approved: false,
      priority: 'low',
      score: 1,
      comment: 'no',
      dueDate: '2026-12-24',
      tags: [],
    };
    const result = await h.submit(view.id, await h.formValues('approvalWorkflow', 'approve', answer), {
      user: BOB,
    });
    expect(result.body).toBe('');
    const final = await waitFor('success', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Succeeded') ? m : undefined;
    });
    expect(final.blocks).toContain(`answered by <@${BOB}>`);
    expect(final.blocks).toContain('rejected');
  });

  test('two people answering at once: exactly one resume, the other is told who answered first', async () => {
    const runId = await h.startRun('start simpleApprovalWorkflow {"title": "race"}', ALICE);
    const message = await h.message(runId);
    const [bobView, carolView] = [
      await openForm(message, 'simple-approve', BOB, runId),
      await openForm(message, 'simple-approve', CAROL, runId),
    ];
    const resumesBefore = (await h.mastraGet(`/api/workflows/simpleApprovalWorkflow/runs/${runId}`)).status;
    expect(resumesBefore).toBe('suspended');
    const [bob, carol] = await Promise.all([
      h.submit(
        bobView.id,
        await h.formValues('simpleApprovalWorkflow', 'simple-approve', { approved: true }),
        {
          user: BOB,
        },
      ),
      h.submit(
        carolView.id,
        await h.formValues('simpleApprovalWorkflow', 'simple-approve', { approved: false }),
        {
          user: CAROL,
        },
      ),
    ]);
    const bodies = [JSON.stringify(bob.body), JSON.stringify(carol.body)];
    const winners = bodies.filter((b) => b === '""');
    expect(winners).toHaveLength(1);
    const loser = bodies.find((b) => b !== '""')!;
    expect(loser).toMatch(/already answered this step/);
    const final = await waitFor('success', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Succeeded') ? m : undefined;
    });
    const winner = bob.body === '' ? BOB : CAROL;
    expect(final.blocks).toContain(`answered by <@${winner}>`);
    const state = await h.mastraGet(`/api/workflows/simpleApprovalWorkflow/runs/${runId}`);
    expect((state.result as { approved: boolean }).approved).toBe(winner === BOB);
  });

  test('cancel button: refused for others, allowed for an admin, and the message says who', async () => {
    const runId = await h.startRun('start cancelAwareWorkflow {"durationMs": 20000}', ALICE);
    const message = await waitFor('running', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Running') ? m : undefined;
    });
    await h.click(message, 'flowgate_cancel', { user: BOB, blockId: 'flowgate_run' });
    await waitFor('bob refused', () => h.replies(BOB).some((t) => t.includes('cancel')));
    expect((await h.mastraGet(`/api/workflows/cancelAwareWorkflow/runs/${runId}`)).status).toBe('running');
    await h.click(message, 'flowgate_cancel', { user: CAROL, blockId: 'flowgate_run' });
    const final = await waitFor('canceled', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Canceled') ? m : undefined;
    });
    expect(final.blocks).toContain(`Canceled by <@${CAROL}>`);
  });

  test('who may start: others are refused; the allowed person gets a form, field errors, then a run', async () => {
    const refused = h.replies(BOB).length;
    await h.slash('start inputFormWorkflow', { user: BOB });
    await waitFor('bob may not start', () => h.replies(BOB).length > refused);
    expect(h.replies(BOB).at(-1)).toMatch(/may not start|not allowed/i);

    const opens = h.emulator.callsOf('views.open').length;
    await h.slash('start inputFormWorkflow', { user: ALICE });
    const view = await waitFor('the start form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_start_form'),
    );
    expect(h.emulator.callsOf('views.open').length).toBe(opens + 1);
    const good = { title: 'Deploy', count: 3, urgent: true, channel: 'slack' };
    const bad = await h.formValues('inputFormWorkflow', undefined, good);
    bad['f:count'] = { value: { type: 'number_input', value: '42' } };
    const rejected = await h.submit(view.id, bad);
    expect(rejected.body).toMatchObject({
      response_action: 'errors',
      errors: { 'f:count': expect.stringMatching(/at most 10/i) },
    });
    const before = h.runIds().length;
    const accepted = await h.submit(view.id, await h.formValues('inputFormWorkflow', undefined, good));
    expect(accepted.body).toBe('');
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const final = await waitFor('success', () => {
      const m = h.progressMessage(runId);
      return m?.text.includes('Succeeded') ? m : undefined;
    });
    expect(final.blocks).toContain('Deploy x3 via slack (urgent)');
  });
});
