/**
 * Who requested a run started elsewhere: identity fails closed. A requester Slack cannot look up
 * now is "not yet known" (never "no requester"): stored so, looked up again from the store, and
 * nobody who might be them answers meanwhile. User ids are read in any case and as mentions,
 * e-mail addresses trimmed and lower-cased, and the policy's `requesters` limits which
 * `resourceId`s are Slack identities at all. Runs are started through the Mastra server's own API,
 * as another system would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type SlackEmulator, startSlackEmulator } from '../../src/emulator/index.ts';
import { MastraClient } from '../../src/mastra/client.ts';
import { parsePolicy } from '../../src/policy/load.ts';
import { snapshotFromRunState } from '../../src/runs/state.ts';
import { encodeSuspensionRef } from '../../src/slack/ids.ts';
import { startElsewhere as startRunElsewhere } from '../support/elsewhere.ts';
import { ALICE, BOB, CAROL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { yesNoGateWorkflow } from '../support/mastra/workflows.ts';

const FINANCE = 'C0EMU0002';
const ALICE_EMAIL = 'alice@emulator.slack.local';

let mastra: MastraTestServer;
let emulator: SlackEmulator;
let client: MastraClient;
let h: Harness;
let restricted: Harness;

beforeAll(async () => {
  mastra = await startMastraServer({
    storageUrl: ':memory:',
    workflows: {
      claimReport: yesNoGateWorkflow('claim-report', 'check'),
      lateReport: yesNoGateWorkflow('late-report', 'check'),
      namedReport: yesNoGateWorkflow('named-report', 'check'),
      restartReport: yesNoGateWorkflow('restart-report', 'check'),
      trustedReport: yesNoGateWorkflow('trusted-report', 'check'),
    },
  });
  emulator = await startSlackEmulator();
  client = new MastraClient({ baseUrl: mastra.url });
  h = await startHarness({
    mastra,
    emulator,
    policy: parsePolicy(
      `
admins: [${CAROL}]
workflows:
  claimReport:
    approvers: [${ALICE}, ${BOB}]
    channel: ${FINANCE}
  lateReport:
    approvers: [${ALICE}, ${BOB}]
    channel: ${FINANCE}
  namedReport:
    channel: ${FINANCE}
`,
      'requesters.yaml',
    ),
  });
  // Another deployment on the same workspace, trusting only e-mail addresses of one domain.
  restricted = await startHarness({
    mastra,
    emulator,
    policy: parsePolicy(
      `
admins: [${CAROL}]
requesters:
  userIds: false
  emailDomains: [example.com]
workflows:
  trustedReport:
    channel: ${FINANCE}
`,
      'restricted.yaml',
    ),
  });
});
/** Slack answers lookups again. */
function lookupsWork(): void {
  emulator.failCalls('users.lookupByEmail', { count: 0 });
  emulator.forceRateLimit('users.lookupByEmail', 0);
}
afterEach(() => lookupsWork());
afterAll(async () => {
  await restricted?.close();
  await h?.close();
  await client?.close();
  await emulator?.close();
  await mastra?.close();
});

const startElsewhere = (workflow: string, amount: number, resourceId: string) =>
  startRunElsewhere(mastra, workflow, { amount }, resourceId);

const posted = (runId: string, check: (blocks: string) => boolean = () => true) =>
  waitFor(`the message of ${runId}`, () => {
    const message = h.progressMessage(runId);
    return message && check(message.blocks) ? message : undefined;
  });

/** The value of the buttons of the run's waiting question, as Flowgate would render them. */
async function buttonValue(workflow: string, runId: string): Promise<string> {
  const state = await client.getWorkflow(workflow).runById(runId);
  const question = snapshotFromRunState(state).payload.workflowState.suspended[0];
  if (!question) throw new Error(`run ${runId} waits for nothing`);
  return encodeSuspensionRef(runId, question);
}

/** Ephemeral replies `user` got after the first `from`. */
const repliesSince = (user: string, from: number) => h.replies(user).slice(from);

/** DMs the bot sent `user`. */
const dmsTo = (user: string) => {
  const im = emulator.imWith(user);
  return im ? emulator.messages(im.id).map((m) => m.text) : [];
};

describe('requesters Slack could not look up yet', () => {
  test('a lookup failing then recovering never lets the requester self-approve; then they are the starter', async () => {
    emulator.failCalls('users.lookupByEmail', { status: 503, count: Number.POSITIVE_INFINITY });
    const runId = await startElsewhere('claimReport', 40, ` Alice@Emulator.Slack.Local `);
    const message = await posted(runId, (b) => b.includes('not yet known'));
    expect(message.blocks).toContain('requested by Alice@Emulator.Slack.Local (not yet known in Slack)');
    expect(message.blocks).toContain('The requester of this run is not yet known in Slack');
    // Nobody may answer yet: no buttons, and a click made anyway (by the requester, an approver
    // or an admin) is refused on the server side.
    expect(message.blocks).not.toContain('flowgate_approve');
    const row = await h.flowgate.store.getProgressMessage(runId);
    expect(row).toMatchObject({ starterId: null, requesterPending: { lookup: ALICE_EMAIL } });
    const value = await buttonValue('claimReport', runId);
    for (const user of [ALICE, BOB, CAROL]) {
      const before = h.replies(user).length;
      await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:check', user, value });
      await waitFor(`${user} refused`, () =>
        repliesSince(user, before).some((t) => t.includes('requester of this run is not yet known')),
      );
    }
    // The requester's right to cancel waits for them to be known too.
    const beforeCancel = h.replies(ALICE).length;
    await h.click(message, 'flowgate_cancel', { blockId: 'flowgate_run', user: ALICE });
    await waitFor('cancel refused', () =>
      repliesSince(ALICE, beforeCancel).some((t) => t.includes('only admins may cancel')),
    );
    // `status` says so too, to the requester (known by the address Slack has for them).
    const beforeStatus = h.replies(ALICE).length;
    await h.slash(`status ${runId}`, { user: ALICE });
    await waitFor('status while pending', () =>
      repliesSince(ALICE, beforeStatus).some((t) => t.includes(runId)),
    );
    expect(JSON.stringify(emulator.ephemerals(ALICE).at(-1)?.blocks)).toContain('(not yet known in Slack)');
    // The admins are told once, in the thread; the approvers are not asked yet.
    const notice = await waitFor('the admins told', () =>
      emulator.thread(FINANCE, message.ts).find((m) => m.text.includes('could not tell who requested')),
    );
    expect(notice.text).toContain(`<@${CAROL}>`);
    expect(emulator.thread(FINANCE, message.ts).some((m) => m.text.includes(`<@${BOB}>`))).toBe(false);
    // Still pending after more checks: tried again, and failing again.
    const tries = emulator.callsOf('users.lookupByEmail').length;
    await waitFor('looked up again', () => emulator.callsOf('users.lookupByEmail').length > tries);
    expect((await h.flowgate.store.getProgressMessage(runId))?.starterId).toBeNull();
    expect((await h.flowgate.store.getProgressMessage(runId))?.requesterPending?.attempts).toBeGreaterThan(1);
    expect(emulator.callsOf('users.lookupByEmail').every((c) => c.params.email === ALICE_EMAIL)).toBe(true);
    lookupsWork();
    // Slack answers again: the requester is known, and is the starter everywhere.
    const known = await posted(runId, (b) => b.includes(`requested by <@${ALICE}>`));
    expect(known.blocks).toContain('flowgate_approve');
    expect(known.blocks).not.toContain('not yet known');
    expect((await h.flowgate.store.getProgressMessage(runId))?.requesterPending).toBeUndefined();
    await waitFor('the approvers are asked now', () =>
      emulator
        .thread(FINANCE, known.ts)
        .some((m) => m.text.includes(`<@${BOB}>`) && m.text.includes('waiting for your answer')),
    );
    expect(
      emulator.thread(FINANCE, known.ts).filter((m) => m.text.includes('could not tell who requested')),
    ).toHaveLength(1);
    const before = h.replies(ALICE).length;
    await h.click(known, 'flowgate_approve', { blockId: 'flowgate_step:check', user: ALICE });
    await waitFor('self-approval refused', () =>
      repliesSince(ALICE, before).some((t) => t.includes('does not allow approving your own run')),
    );
    await h.click(known, 'flowgate_cancel', { blockId: 'flowgate_run', user: ALICE });
    await posted(runId, (b) => b.includes('Canceled'));
    await waitFor('the requester hears at the end', () =>
      dmsTo(ALICE).some((t) => t.startsWith('Your run of claim-report canceled')),
    );
  });

  test('a run that ends while its requester is not yet known: they get the end DM once known', async () => {
    // Rate-limited this time (HTTP 429 with Retry-After), on every lookup until Slack recovers.
    emulator.forceRateLimit('users.lookupByEmail', 10_000, 1);
    const runId = await startElsewhere('lateReport', 41, 'bob@emulator.slack.local');
    await posted(runId, (b) => b.includes('not yet known'));
    // Answered outside Slack (Mastra's API) meanwhile: the run ends.
    const resumed = await fetch(`${mastra.url}/api/workflows/lateReport/resume-async?runId=${runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ step: 'check', resumeData: { approved: true } }),
    });
    expect(resumed.status).toBe(200);
    await waitFor('final', async () => (await h.flowgate.store.getProgressMessage(runId))?.notifiedAt);
    expect(dmsTo(BOB).some((t) => t.startsWith('Your run of late-report'))).toBe(false);
    lookupsWork();
    await waitFor('the requester hears once known', () =>
      dmsTo(BOB).some((t) => t.startsWith('Your run of late-report succeeded')),
    );
    expect((await h.flowgate.store.getProgressMessage(runId))?.starterId).toBe(BOB);
    await h.flowgate.elsewhere.checkNow();
    expect(dmsTo(BOB).filter((t) => t.startsWith('Your run of late-report'))).toHaveLength(1);
  });
});

describe('requesters not yet known across a restart', () => {
  test('the pending lookup is stored: a process started later on the same database resolves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-requesters-'));
    const policy = parsePolicy(
      `admins: [${CAROL}]\nworkflows:\n  restartReport:\n    approvers: [${ALICE}, ${BOB}]\n    channel: ${FINANCE}\n`,
      'restart.yaml',
    );
    const dbPath = join(dir, 'flowgate.db');
    try {
      emulator.failCalls('users.lookupByEmail', { status: 500, count: Number.POSITIVE_INFINITY });
      const first = await startHarness({ mastra, emulator, policy, dbPath });
      const runId = await startElsewhere('restartReport', 42, 'Carol@Emulator.Slack.Local');
      try {
        await waitFor('posted, its requester not yet known', async () =>
          (await first.flowgate.store.getProgressMessage(runId))?.ts ? true : undefined,
        );
        expect((await first.flowgate.store.getProgressMessage(runId))?.requesterPending).toBeDefined();
      } finally {
        await first.close();
      }
      lookupsWork();
      const second = await startHarness({ mastra, emulator, policy, dbPath });
      try {
        await waitFor('known after the restart', async () =>
          (await second.flowgate.store.getProgressMessage(runId))?.starterId === CAROL ? true : undefined,
        );
        await waitFor('the message shows them', () =>
          second.progressMessage(runId)?.blocks.includes(`requested by <@${CAROL}>`),
        );
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('requester ids as other systems write them', () => {
  test('lower-case and <@…> user ids are users; mixed-case addresses are looked up lower-cased', async () => {
    const lower = await startElsewhere('namedReport', 1, 'u0emu0002');
    const mention = await startElsewhere('namedReport', 2, ` <@${BOB}> `);
    const email = await startElsewhere('namedReport', 3, '  CAROL@Emulator.Slack.Local ');
    for (const runId of [lower, mention]) {
      expect((await posted(runId, (b) => b.includes('flowgate_respond'))).blocks).toContain(
        `requested by <@${BOB}>`,
      );
      expect((await h.flowgate.store.getProgressMessage(runId))?.starterId).toBe(BOB);
    }
    expect((await posted(email, (b) => b.includes('flowgate_respond'))).blocks).toContain(
      `requested by <@${CAROL}>`,
    );
    expect(emulator.callsOf('users.lookupByEmail').map((c) => c.params.email)).toContain(
      'carol@emulator.slack.local',
    );
    // The requester answers their own run (no approvers): the user the id names, in any form.
    const message = await posted(lower);
    await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:check', user: BOB });
    await posted(lower, (b) => b.includes('Succeeded'));
  });
});

describe('the policy restricts which requesters are Slack identities', () => {
  test('a user id or an address outside the allowed domains is text only: the run has no starter', async () => {
    const byId = await startElsewhere('trustedReport', 5, BOB);
    const byOtherDomain = await startElsewhere('trustedReport', 6, ALICE_EMAIL);
    const lookups = emulator.callsOf('users.lookupByEmail').length;
    const message = await waitFor('posted', () => {
      const m = restricted.progressMessage(byId);
      return m?.blocks.includes('flowgate_respond') ? m : undefined;
    });
    expect(message.blocks).toContain(`requested by ${BOB}`);
    expect(message.blocks).not.toContain(`<@${BOB}>`);
    expect((await restricted.flowgate.store.getProgressMessage(byId))?.starterId).toBeNull();
    const other = await waitFor('posted', () => {
      const m = restricted.progressMessage(byOtherDomain);
      return m?.blocks.includes('flowgate_respond') ? m : undefined;
    });
    expect(other.blocks).toContain(`requested by ${ALICE_EMAIL}`);
    expect((await restricted.flowgate.store.getProgressMessage(byOtherDomain))?.starterId).toBeNull();
    expect(emulator.callsOf('users.lookupByEmail').length).toBe(lookups); // never looked up
    // Answered under the "no starter" rules: the user the id names may not, an admin may.
    const before = restricted.replies(BOB).length;
    await restricted.click(message, 'flowgate_approve', { blockId: 'flowgate_step:check', user: BOB });
    await waitFor('refused', () =>
      restricted
        .replies(BOB)
        .slice(before)
        .some((t) => t.includes('only admins may answer')),
    );
    await restricted.click(message, 'flowgate_approve', { blockId: 'flowgate_step:check', user: CAROL });
    await waitFor('succeeded', () => restricted.progressMessage(byId)?.blocks.includes('Succeeded'));
    await restricted.flowgate.progress.idle();
    expect(dmsTo(BOB).some((t) => t.startsWith('Your run of trusted-report'))).toBe(false);
  });
});
