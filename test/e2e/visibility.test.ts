/**
 * Who may see a run: `runs` and `status` show a run only to the members of the conversation its
 * message is in, its starter or requester, the people who may answer it and admins — or whom the
 * policy's `view` names — and looking runs up costs each person a bounded amount.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parsePolicy } from '../../src/policy/load.ts';
import { startElsewhere as startRunElsewhere } from '../support/elsewhere.ts';
import { ALICE, BOB, CAROL, GENERAL, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

const PRIVATE = 'C0EMU0003'; // ops-private: Alice and Bob (and the bot), not Carol
const DANA = 'U0VIS0004'; // an admin, in no conversation at all

const policy = parsePolicy(
  `
admins: [${DANA}]
workflows:
  approvalWorkflow:
    approvers: [${BOB}]
  linearWorkflow:
    view: [channel]
  noopWorkflow:
    view: [everyone]
`,
  'visibility-policy.yaml',
);

let mastra: MastraTestServer;
let h: Harness;
/** `GET …/runs/:runId` requests the Mastra server answered (the lookups `status` makes). */
let runLookups = 0;

beforeAll(async () => {
  mastra = await startMastraServer({
    intercept: (request) => {
      if (request.method === 'GET' && /\/runs\/[^/]+$/.test(new URL(request.url).pathname)) runLookups++;
      return undefined;
    },
  });
  h = await startHarness({ mastra, policy });
  h.emulator.store.addUser({
    id: DANA,
    name: 'dana',
    realName: 'Dana Admin',
    email: 'dana@emulator.slack.local',
  });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
});

async function command(text: string, user: string, channel = GENERAL): Promise<string> {
  const before = h.replies(user).length;
  await h.slash(text, { user, channel });
  return waitFor(`a reply to ${user}`, () => {
    const replies = h.replies(user);
    return replies.length > before ? replies.at(-1) : undefined;
  });
}

/** Starts a run from `channel` and waits until it has ended. */
async function finishedRun(workflow: string, inputs: string, user: string, channel: string): Promise<string> {
  const before = h.runIds().length;
  await h.slash(`start ${workflow} ${inputs}`, { user, channel });
  const runId = await waitFor('a new run', () =>
    h.runIds().length > before ? h.runIds().at(-1) : undefined,
  );
  await waitFor(`${runId} to finish`, async () => (await h.flowgate.store.getProgressMessage(runId))?.final);
  return runId;
}

const startElsewhere = (workflow: string, inputData: unknown, resourceId: string) =>
  startRunElsewhere(mastra, workflow, inputData, resourceId);

describe('who may see a run', () => {
  test('a run in a private channel: its members see it; anyone else is refused its status and does not find it in runs', async () => {
    const runId = await finishedRun('linearWorkflow', '{"value": 41, "delayMs": 0}', ALICE, PRIVATE);
    // Bob is in the channel: he sees the run.
    expect(await command(`status ${runId}`, BOB)).toContain('Succeeded');
    expect(await command('runs linearWorkflow', BOB)).toContain(runId);
    // Carol is not: refused, and the list does not name the run (it counts it).
    const refused = await command(`status ${runId}`, CAROL);
    expect(refused).toContain('may not see this run');
    expect(refused).not.toContain('Succeeded');
    const list = await command('runs linearWorkflow', CAROL);
    expect(list).not.toContain(runId);
    expect(list).toContain('Not shown: 1 of the latest, which you may not see');
  });

  test('a run started in a DM with the app: only its starter, its answerers and admins see it', async () => {
    const dm = h.emulator.store.openIm(ALICE).channel.id;
    const runId = await finishedRun('linearWorkflow', '{"value": 1, "delayMs": 0}', ALICE, dm);
    expect(await command(`status ${runId}`, ALICE)).toContain('Succeeded');
    expect(await command(`status ${runId}`, BOB)).toContain('may not see this run');
    expect(await command('runs linearWorkflow', BOB)).not.toContain(runId);
    expect(await command(`status ${runId}`, DANA)).toContain('Succeeded');
  });

  test('a run started elsewhere with an e-mail requester: shown to that person and the approvers, never the address to anyone else', async () => {
    const email = 'carol@emulator.slack.local';
    const runId = await startElsewhere('approvalWorkflow', { requestId: 'r-70', amount: 70 }, email);
    await waitFor('the run to exist', async () => (await command(`status ${runId}`, CAROL)).includes(runId));
    expect(await command('runs approvalWorkflow', CAROL)).toContain(email);
    // Bob answers approvalWorkflow's steps: he may see it.
    expect(await command(`status ${runId}`, BOB)).toContain(runId);
    // Alice is neither the requester nor an approver, and the run has no message anywhere.
    const refused = await command(`status ${runId}`, ALICE);
    expect(refused).toContain('may not see this run');
    expect(refused).not.toContain(email);
    expect(await command('runs approvalWorkflow', ALICE)).not.toContain(email);
  });

  test('view: [everyone] opens a workflow’s runs to every member', async () => {
    const runId = await finishedRun('noopWorkflow', '{}', ALICE, PRIVATE);
    expect(await command(`status ${runId}`, CAROL)).toContain(runId);
    expect(await command('runs noopWorkflow', CAROL)).toContain(runId);
  });

  test('looking up runs Flowgate has no record of is limited per person, with a clear message', async () => {
    const before = runLookups;
    const replies: string[] = [];
    for (let i = 0; i < 12; i++) replies.push(await command(`status no-such-run-${i}`, CAROL));
    const limited = replies.filter((r) => r.includes('looked up runs often'));
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(replies[0]).toContain('No run `no-such-run-0`');
    // Each looked-up id asks each workflow once; the refused ones ask nothing.
    const workflows = Object.keys(await h.mastraGet('/api/workflows')).length;
    expect(runLookups - before).toBeLessThanOrEqual((12 - limited.length) * workflows);
    // Someone else is not limited by Carol's requests.
    expect(await command('status no-such-run-x', BOB)).toContain('No run');
  });
});
