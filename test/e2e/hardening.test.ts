import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { parsePolicy } from '../../src/policy/load.ts';
import { handleOf } from '../../src/slack/ids.ts';
import {
  ALICE,
  BOB,
  CAROL,
  GENERAL,
  type Harness,
  LOCKED,
  startHarness,
  waitFor,
} from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { yesNoGateWorkflow } from '../support/mastra/workflows.ts';

/** Unknown fields are refused. */
const STRICT_INPUT = z.strictObject({ amount: z.number(), memo: z.string() });

const policy = parsePolicy(
  `
admins: [${CAROL}]
workflows:
  expenses:
    approvers: [${BOB}]
  solo:
    approvers: [${ALICE}]
  lax:
    allowSelfApproval: true
    approvers: [${ALICE}, ${BOB}]
`,
  'hardening-policy.yaml',
);

let mastra: MastraTestServer;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({
    workflows: {
      expenses: yesNoGateWorkflow('expenses', 'review', STRICT_INPUT),
      solo: yesNoGateWorkflow('solo', 'sign-off', STRICT_INPUT),
      lax: yesNoGateWorkflow('lax', 'ok', STRICT_INPUT),
    },
  });
  h = await startHarness({ mastra, policy });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
});

const succeeded = (runId: string) =>
  waitFor('the run to succeed', () => h.progressMessage(runId)?.text.includes('Succeeded') || undefined);

async function lastReply(user: string, before: number): Promise<string> {
  return waitFor('a reply', () => h.replies(user).slice(before).at(-1));
}

function buttonValue(message: { blocks: string }, actionId: string): string {
  const blocks = JSON.parse(message.blocks) as { elements?: { action_id?: string; value?: string }[] }[];
  const value = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId)?.value;
  if (!value) throw new Error(`no ${actionId} button`);
  return value;
}

describe('inputs whose keys would reach a prototype', () => {
  test('are refused by name, pollute nothing, and every later start and decision is as before', async () => {
    const hostile = [
      'start expenses __proto__.allowSelfApproval=true',
      'start expenses amount=1 memo=x __proto__.approvers=["U0EVIL"]',
      'start expenses amount=1 memo=x constructor.prototype.cancel=["U0EVIL"]',
      'start expenses amount=1 memo=x meta.prototype=1',
      'start expenses amount=1 memo={"__proto__":{"start":[]}}',
      'start expenses {"amount": 1, "memo": "x", "__proto__": {"allowSelfApproval": true}}',
      'start expenses {"amount": 1, "memo": "x", "nested": [{"constructor": {"prototype": {"x": 1}}}]}',
    ];
    const runsBefore = h.runIds().length;
    for (const text of hostile) {
      const before = h.replies(ALICE).length;
      await h.slash(text);
      const reply = await lastReply(ALICE, before);
      expect(reply, text).toMatch(/`(__proto__|constructor|prototype)` cannot be used as an input name/);
    }
    expect(h.runIds().length).toBe(runsBefore);
    const probe = {} as Record<string, unknown>;
    for (const key of ['allowSelfApproval', 'approvers', 'cancel', 'start', 'x'])
      expect(probe[key]).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);

    // A later start of a strict-schema workflow works, and the policy still holds: the starter
    // may not approve their own run, the approver may.
    const runId = await h.startRun('start expenses amount=12 memo="team lunch"');
    const message = await h.message(runId);
    const before = h.replies(ALICE).length;
    await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:review' });
    expect(await lastReply(ALICE, before)).toContain('does not allow approving your own run');
    await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:review', user: BOB });
    await succeeded(runId);
  });
});

describe('refs from Slack are resolved against what Flowgate recorded', () => {
  test('a button value from another run, clicked on this run’s message, answers nothing', async () => {
    const strict = await h.startRun('start expenses amount=5 memo=strict');
    const lax = await h.startRun('start lax amount=5 memo=lax');
    const strictMessage = await h.message(strict);
    const laxMessage = await h.message(lax);
    // Alice may answer `lax` (self-approval on) but not `expenses`: she replays lax's button on
    // the expenses message.
    const before = h.replies(ALICE).length;
    await h.click(strictMessage, 'flowgate_approve', {
      blockId: 'flowgate_step:review',
      value: buttonValue(laxMessage, 'flowgate_approve'),
    });
    expect(await lastReply(ALICE, before)).toContain("That button belongs to another run's message");
    for (const [workflow, runId] of [
      ['expenses', strict],
      ['lax', lax],
    ] as const) {
      expect((await h.mastraGet(`/api/workflows/${workflow}/runs/${runId}`)).status).toBe('suspended');
    }
    // The same value on a message Flowgate never posted is refused outright.
    const stranger = h.emulator.postUserMessage(GENERAL, ALICE, 'not a progress message');
    const again = h.replies(ALICE).length;
    await h.click({ channel: GENERAL, ts: stranger.ts }, 'flowgate_approve', {
      value: buttonValue(laxMessage, 'flowgate_approve'),
    });
    expect(await lastReply(ALICE, again)).toMatch(/did not come with the details Flowgate needs/);
    expect((await h.mastraGet(`/api/workflows/lax/runs/${lax}`)).status).toBe('suspended');
    // Lax's own button still works for Alice.
    await h.click(laxMessage, 'flowgate_approve', { blockId: 'flowgate_step:ok' });
    await succeeded(lax);
  });

  test('a start form posts where it was opened, whatever its metadata says', async () => {
    await h.slash('start expenses', { channel: GENERAL });
    const view = await waitFor('the start form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_start_form'),
    );
    const record = h.emulator.viewRecord(view.id);
    if (!record) throw new Error('no view record');
    record.view.private_metadata = JSON.stringify({ w: 'lax', c: LOCKED });
    const before = h.runIds().length;
    const result = await h.submit(
      view.id,
      await h.formValues('expenses', undefined, { amount: 3, memo: 'form' }),
    );
    expect(result.body).toBe('');
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const row = await waitFor('the run recorded', () => h.flowgate.store.getProgressMessage(runId));
    expect(row).toMatchObject({ channel: GENERAL, workflowKey: 'expenses' });
  });

  test('a Start button for a workflow the server does not have is told so', async () => {
    const posted = h.emulator.postUserMessage(GENERAL, ALICE, 'a start button');
    const before = h.replies(ALICE).length;
    await h.click({ channel: GENERAL, ts: posted.ts }, 'flowgate_start', {
      value: JSON.stringify({ w: handleOf('no-such-workflow') }),
    });
    expect(await lastReply(ALICE, before)).toContain('not on the Mastra server any more');
  });
});

describe('a step nobody may answer', () => {
  test('says so plainly, offers no buttons, tells the starter and admins what to change, and refuses everyone', async () => {
    const runId = await h.startRun('start solo amount=9 memo=alone');
    const message = await h.message(runId, (m) => m.blocks.includes('is waiting for an answer'));
    expect(message.blocks).toContain('Who may answer: nobody.');
    expect(message.blocks).not.toContain('flowgate_respond');
    expect(message.blocks).not.toContain('an admin');
    const notice = await waitFor('the thread notice', () =>
      h.emulator.thread(message.channel, message.ts).find((m) => m.text.includes('nobody may answer it')),
    );
    expect(notice.text).toContain(`<@${ALICE}>`);
    expect(notice.text).toContain(`<@${CAROL}>`);
    expect(notice.text).toContain('allowSelfApproval');
    expect(notice.text).toContain('hardening-policy.yaml');
    // A click crafted anyway (by the starter, or an admin) gets the same reason.
    const value = JSON.stringify({
      h: handleOf(['sign-off']),
      t: (
        h.flowgate.tracker.current(runId)?.payload.workflowState.steps['sign-off']?.suspendedAt ?? new Date(0)
      ).getTime(),
    });
    for (const user of [ALICE, CAROL]) {
      const before = h.replies(user).length;
      await h.click(message, 'flowgate_approve', { user, value });
      expect(await lastReply(user, before)).toContain('The only approver of step sign-off');
    }
    expect((await h.mastraGet(`/api/workflows/solo/runs/${runId}`)).status).toBe('suspended');
  });
});
