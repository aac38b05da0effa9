/**
 * The sandbox's newer demos, run end to end through its own server as the page drives it (the
 * page's requests, the page's own reading of a modal's pre-filled values): every access request
 * its own question under its own label, a hotfix that needs both approvers, an incident triage
 * with a required initial state, a loop, a list and a choice of variants; and the built-in policy
 * that gives them their deadlines and quorum.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deadlineRulesFor } from '../../src/policy/decide.ts';
import type { Policy } from '../../src/policy/types.ts';
import { initialRaw, viewState } from '../../src/sandbox/page/modal.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox.ts';
import { ACCESS_REQUESTS } from '../../src/sandbox/workflows.ts';
import { SANDBOX_CHANNELS, SANDBOX_USERS, sandboxPolicy } from '../../src/sandbox/workspace.ts';
import { waitFor } from '../support/flowgate.ts';

const { requester: REY, approver1: AVERY, approver2: BLAKE, admin: ADA } = SANDBOX_USERS;
const CHANNEL = SANDBOX_CHANNELS.deploys;

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ env: { PORT: '0' } });
}, 30_000);
afterAll(async () => {
  await sandbox?.stop();
});

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  label?: { text: string };
  element?: { type: string };
  elements?: { action_id?: string; text?: { text: string } }[];
}
interface Message {
  ts: string;
  text: string;
  blocks?: Block[];
}
interface View {
  id: string;
  title?: { text: string };
  blocks: Block[];
}

async function post(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, sandbox.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const command = (user: string, text: string) => post('/api/command', { user, channel: CHANNEL, text });
const textOf = (m: Message) => JSON.stringify(m.blocks ?? []);
const header = (m: Message) => m.blocks?.find((b) => b.type === 'header')?.text?.text ?? '';

/** The newest progress message of `workflowId` that passes `check`. */
function progress(workflowId: string, check: (m: Message) => boolean): Promise<Message> {
  return waitFor(`${workflowId}'s progress message`, () =>
    (sandbox.emulator.messages(CHANNEL) as Message[])
      .filter((m) => header(m).startsWith(`${workflowId} ·`))
      .findLast(check),
  );
}

/** The buttons' texts of a question's actions block. */
function buttons(m: Message, blockId: string): string[] | undefined {
  return m.blocks
    ?.find((b) => b.type === 'actions' && b.block_id === blockId)
    ?.elements?.map((e) => e.text?.text ?? '');
}

function click(user: string, m: Message, blockId: string, actionId: string) {
  return post('/api/action', { user, channel: CHANNEL, ts: m.ts, actionId, blockId });
}

/** What Flowgate last told `user` only (an ephemeral message), once there are more than `before`. */
function replyTo(user: string, before: number): Promise<string> {
  return waitFor('an ephemeral reply', () => {
    const replies = sandbox.emulator.ephemerals(user);
    return replies.length > before ? (replies.at(-1)?.text ?? '') : undefined;
  });
}

/** The modal Flowgate opened for `user` once it has its inputs (not the loading one). */
function openView(user: string, title: string): Promise<View> {
  return waitFor(`the "${title}" modal`, () =>
    (sandbox.emulator.openViews(user) as unknown as View[]).find(
      (v) => v.title?.text === title && v.blocks.some((b) => b.type === 'input'),
    ),
  );
}

/** Submits a modal as the page does: every input as pre-filled, but those named in `raw` by label. */
function submit(user: string, view: View, raw: Record<string, unknown> = {}) {
  const values = viewState(view, (block: Block) => {
    const label = block.label?.text ?? '';
    return label in raw ? raw[label] : initialRaw(block.element);
  });
  return post('/api/submit', { user, viewId: view.id, values });
}

describe('the sandbox policy', () => {
  test('loads, and gives the demos their deadlines and quorum', () => {
    const policy: Policy = sandboxPolicy();
    expect(policy.admins).toEqual([ADA]);
    const hotfix = { workflowKey: 'hotfixRollout', workflowId: 'hotfix-rollout' };
    expect(deadlineRulesFor(policy, hotfix, ['sign-off'])).toMatchObject({
      required: 2,
      remindEvery: 60_000,
      escalateAfter: 300_000,
      escalateTo: [ADA],
      timeoutAfter: 600_000,
      onTimeout: 'cancel',
    });
    const access = { workflowKey: 'accessReview', workflowId: 'access-review' };
    expect(deadlineRulesFor(policy, access, ['review-access'])).toMatchObject({
      required: 1,
      timeoutAfter: 600_000,
      onTimeout: { answer: { approved: false } },
    });
    // The others keep the plain rules of "*": no deadline, one approval.
    expect(
      deadlineRulesFor(policy, { workflowKey: 'releaseTrain', workflowId: 'release-train' }, ['gate']),
    ).toEqual({ required: 1 });
  });
});

describe('the demos, end to end', () => {
  test('accessReview: every request its own question, label and answer; then the summary', async () => {
    await command(REY, '/flowgate start accessReview {}');
    const names = ACCESS_REQUESTS.payments.map((r) => r.name);
    const item = (i: number) => `flowgate_step:review-access#${i}`;
    const asking = await progress('access-review', (m) => names.every((_, i) => buttons(m, item(i))));
    expect(header(asking)).toBe('access-review · Waiting for an answer');
    const tree = textOf(asking);
    expect(tree).toContain('*in parallel*');
    expect(tree).toContain('3 items · 0 done · 3 waiting');
    expect(tree).toContain('times out'); // the policy's deadline, as what happens next
    for (const [i, name] of names.entries())
      expect(buttons(asking, item(i))).toEqual([`Review ${name}'s access`, 'Approve', 'Reject']);

    // The requester may not review their own run.
    const before = sandbox.emulator.ephemerals(REY).length;
    await click(REY, asking, item(0), 'flowgate_approve');
    expect(await replyTo(REY, before)).toContain('You started this run');

    // Avery keeps Dana's access with one click; Blake revokes Eli's in its own form.
    await click(AVERY, asking, item(0), 'flowgate_approve');
    await progress('access-review', (m) => !buttons(m, item(0)) && buttons(m, item(1)) !== undefined);
    await click(BLAKE, asking, item(1), 'flowgate_respond');
    const form = await openView(BLAKE, "Review Eli's access");
    expect(JSON.stringify(form.blocks)).toContain('read access to refunds');
    expect(JSON.stringify(form.blocks)).not.toContain('Farah');
    const approved = form.blocks.find((b) => b.type === 'input' && b.element?.type !== 'plain_text_input');
    const label = approved?.label?.text ?? '';
    expect(
      await submit(BLAKE, form, { [label]: 'false', Comment: 'Support does not need refunds' }),
    ).toMatchObject({
      ok: true,
    });
    const left = await progress('access-review', (m) => !buttons(m, item(1)));
    expect(buttons(left, item(2))).toBeDefined();
    await click(AVERY, left, item(2), 'flowgate_approve');

    const done = await progress('access-review', (m) => header(m).endsWith('Succeeded'));
    expect(textOf(done)).toContain('2 kept, 1 revoked of 3 requests');
    expect(textOf(done)).toContain('Support does not need refunds');
  });

  test('hotfixRollout: one approval of two keeps it waiting; the second rolls it out', async () => {
    await command(REY, '/flowgate start hotfixRollout {}');
    const gate = 'flowgate_step:sign-off';
    const asking = await progress('hotfix-rollout', (m) => buttons(m, gate) !== undefined);
    expect(buttons(asking, gate)).toEqual(['Sign off the hotfix', 'Approve', 'Reject']);
    expect(textOf(asking)).toContain('0 of 2 approvals');
    expect(textOf(asking)).toMatch(/Reminds who may answer every 1 min · escalates to <@U0SBADMIN1>/);
    expect(textOf(asking)).toContain('the run will be canceled');

    await click(AVERY, asking, gate, 'flowgate_approve');
    const once = await progress('hotfix-rollout', (m) => textOf(m).includes('1 of 2 approvals'));
    expect(header(once)).toBe('hotfix-rollout · Waiting for an answer');
    // The same person twice is still one approval.
    const before = sandbox.emulator.ephemerals(AVERY).length;
    await click(AVERY, once, gate, 'flowgate_approve');
    expect(await replyTo(AVERY, before)).toMatch(/already/);

    await click(BLAKE, once, gate, 'flowgate_approve');
    const done = await progress('hotfix-rollout', (m) => header(m).endsWith('Succeeded'));
    expect(textOf(done)).toContain('api@2.4.1 is live in production');
  });

  test('incidentTriage: needs its initial state; a branch, a loop until "done", a list and a variant', async () => {
    const before = sandbox.emulator.ephemerals(REY).length;
    await command(REY, '/flowgate start incidentTriage {}');
    expect(await replyTo(REY, before)).toContain('needs an initial state');

    await command(REY, '/flowgate start incidentTriage {} state={"oncall": "Avery"}');
    const step = 'flowgate_step:post-update';
    const first = await progress('incident-triage', (m) => buttons(m, step) !== undefined);
    expect(textOf(first)).toMatch(/`file-ticket` not taken/);
    expect(buttons(first, step)).toEqual(['Post update 1']);

    // Two turns of the loop: an update (the form's default), then "done".
    await click(AVERY, first, step, 'flowgate_respond');
    await submit(AVERY, await openView(AVERY, 'Post update 1'));
    const second = await progress('incident-triage', (m) => buttons(m, step)?.[0] === 'Post update 2');
    expect(textOf(second)).toContain('iteration 2');
    await click(AVERY, second, step, 'flowgate_respond');
    await submit(AVERY, await openView(AVERY, 'Post update 2'), { Update: 'done' });

    // Closing it: a list of strings (one a line) and a choice of variants, its default kept.
    const close = 'flowgate_step:resolve';
    const resolving = await progress('incident-triage', (m) => buttons(m, close) !== undefined);
    await click(BLAKE, resolving, close, 'flowgate_respond');
    const form = await openView(BLAKE, 'Close the incident');
    expect(await submit(BLAKE, form, { Affected: 'checkout\nsearch' })).toMatchObject({
      ok: true,
    });
    const done = await progress('incident-triage', (m) => header(m).endsWith('Succeeded'));
    expect(textOf(done)).toContain('rolled back to 2.3.9; affected: checkout, search');

    // A sev3 takes the other path and finishes early.
    await command(REY, '/flowgate start incidentTriage {"severity": "sev3"} state={"oncall": "Blake"}');
    const early = await progress(
      'incident-triage',
      (m) => textOf(m).includes('filed as a ticket for Blake') && header(m).endsWith('Succeeded'),
    );
    expect(textOf(early)).toMatch(/`open-incident` not taken/);
    expect(textOf(early)).toMatch(/`route` finished early/);
    expect(textOf(early)).toMatch(/`post-update` skipped/);
  });
});
