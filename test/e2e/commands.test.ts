import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALICE, BOB, GENERAL, type Harness, LOCKED, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function lastReply(user: string, before: number): Promise<string> {
  return waitFor('an ephemeral reply', () => {
    const replies = h.replies(user);
    return replies.length > before ? replies.at(-1) : undefined;
  });
}

async function command(text: string, user = ALICE, channel = GENERAL): Promise<string> {
  const before = h.replies(user).length;
  const result = await h.slash(text, { user, channel });
  expect(result.status).toBe(200);
  return lastReply(user, before);
}

async function finalMessage(runId: string, status: string) {
  return waitFor(`run ${runId} to show ${status}`, () => {
    const message = h.progressMessage(runId);
    return message?.text.includes(status) ? message : undefined;
  });
}

describe('slash commands', () => {
  test('empty and unknown commands get help; help is ephemeral', async () => {
    expect(await command('')).toContain('/flowgate start <workflow>');
    const unknown = await command('frobnicate');
    expect(unknown).toContain("I don't know `frobnicate`");
    expect(h.emulator.messages(GENERAL).some((m) => m.text.includes('frobnicate'))).toBe(false);
    // Help needs no lookup, so it comes in the acknowledgement itself: no second request.
    const ack = await h.slash('help');
    expect(ack.body).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(ack.body)).toContain('/flowgate start');
    expect(h.emulator.responseUrl(ack.responseUrl)?.uses).toEqual([]);
  });

  test('list shows every workflow with a Start button', async () => {
    const before = h.replies(ALICE).length;
    await h.slash('list');
    await lastReply(ALICE, before);
    const reply = h.emulator.ephemerals(ALICE).at(-1)!;
    const blocks = JSON.stringify(reply.blocks);
    expect(blocks).toContain('linearWorkflow');
    expect(blocks).toContain('approval-workflow');
    expect(blocks).toContain('flowgate_start');
  });

  test('start with JSON inputs posts a progress message that ends in success, then notifies', async () => {
    await h.slash('start linearWorkflow {"value": 2, "delayMs": 20}');
    const runId = await waitFor(
      'a run',
      async () => (await h.flowgate.store.listUnfinished()).at(-1)?.runId ?? h.runIds().at(-1),
    );
    const message = await finalMessage(runId, 'Succeeded');
    expect(message.blocks).toContain('`add-one` success');
    expect(message.blocks).toContain('`format` success');
    expect(message.blocks).toContain('result=6');
    expect(message.blocks).not.toContain('flowgate_cancel');
    const row = (await h.flowgate.store.getProgressMessage(runId))!;
    expect(row.starterId).toBe(ALICE);
    const thread = await waitFor('the thread reply', () =>
      h.emulator.thread(row.channel, row.ts).find((m) => m.ts !== row.ts),
    );
    expect(thread.text).toContain('succeeded');
    await waitFor('the DM', () => {
      const dm = h.emulator.imWith(ALICE);
      return (
        dm && h.emulator.messages(dm.id).some((m) => m.text.includes('Your run of linear-workflow succeeded'))
      );
    });
    // resourceId = the Slack user, so runs can be found per person.
    const state = await h.mastraGet(`/api/workflows/linearWorkflow/runs/${runId}`);
    expect(state.resourceId).toBe(ALICE);
  });

  test('key=value inputs are typed by the input schema', async () => {
    const before = h.runIds().length;
    await h.slash('start linear-workflow value=3 delayMs=0');
    const runId = await waitFor('a new run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const message = await finalMessage(runId, 'Succeeded');
    expect(message.blocks).toContain('result=8');
  });

  test('bad JSON gets the parser message and position; no run starts', async () => {
    const before = h.runIds().length;
    const reply = await command('start linearWorkflow {"value": 1,}');
    expect(reply).toMatch(/isn't valid JSON: .*position 12/);
    expect(h.runIds().length).toBe(before);
  });

  test('inputs that miss the schema are named; no run starts', async () => {
    const before = h.runIds().length;
    const reply = await command('start linearWorkflow value=abc');
    expect(reply).toContain('`value` must be a number');
    const reply2 = await command('start linearWorkflow {"delayMs": 1}');
    expect(reply2).toContain("Those inputs don't fit");
    expect(reply2).toContain('value');
    expect(h.runIds().length).toBe(before);
  });

  test('unknown workflow: did you mean, with the list', async () => {
    const reply = await command('start linearWorkflw');
    expect(reply).toContain('No workflow `linearWorkflw`');
    expect(reply).toContain('did you mean `linearWorkflow`?');
    expect(reply).toContain('approvalWorkflow');
  });

  test('a failing run shows the failing step and its error', async () => {
    const before = h.runIds().length;
    await h.slash('start failingWorkflow {"message": "<!channel> hi"}');
    const runId = await waitFor('a new run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const message = await finalMessage(runId, 'Failed');
    expect(message.blocks).toContain('at step `boom`');
    expect(message.blocks).not.toContain('<!channel>');
  });

  test('runs lists recent runs with who started them; status shows a run; bad status is explained', async () => {
    const runs = await command('runs linearWorkflow');
    expect(runs).toContain('Runs of linear-workflow');
    expect(runs).toContain(`<@${ALICE}>`);
    const success = await command('runs linearWorkflow success');
    expect(success).toContain('succeeded');
    expect(await command('runs linearWorkflow happy')).toContain('is not a run status');
    const runId = h.runIds()[0]!;
    const status = await command(`status ${runId}`);
    expect(status).toContain('Succeeded');
    expect(await command('status no-such-run')).toContain('No run `no-such-run`');
  });

  test('cancel: by the starter, shown on the message; others are refused; finished runs are not flipped', async () => {
    const before = h.runIds().length;
    await h.slash('start cancelAwareWorkflow {"durationMs": 20000}');
    const runId = await waitFor('a new run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    await waitFor('running', () => h.progressMessage(runId)?.text.includes('Running'));
    expect(await command(`cancel ${runId}`, BOB)).toContain('Only');
    expect(await command(`cancel ${runId}`)).toContain('Canceled run');
    const message = await finalMessage(runId, 'Canceled');
    expect(message.blocks).toContain(`Canceled by <@${ALICE}>`);
    const done = h.runIds()[0]!;
    expect(await command(`cancel ${done}`)).toContain('had already finished');
    const state = await h.mastraGet(`/api/workflows/linearWorkflow/runs/${done}`);
    expect(state.status).toBe('success');
  });

  test('a channel that refuses the bot: the progress goes to a DM, and the user is told', async () => {
    const reply = await command('start linearWorkflow {"value": 1}', ALICE, LOCKED);
    expect(reply).toContain("can't post in this channel");
    const dm = h.emulator.imWith(ALICE)!;
    await waitFor('a progress message in the DM', () =>
      h.emulator.messages(dm.id).some((m) => m.text.includes('linear-workflow: Succeeded')),
    );
  });

  test('a forged or stale signature gets 401 and runs nothing', async () => {
    await h.flowgate.progress.idle();
    // A run's message: posted in the channel, not in a thread (notices of earlier runs may still
    // be on their way to threads and DMs).
    const runMessages = () =>
      h.emulator
        .callsOf('chat.postMessage')
        .filter((c) => c.params.channel === GENERAL && !c.params.thread_ts);
    const before = runMessages().length;
    const runsBefore = (await h.mastraGet(`/api/workflows/linearWorkflow/runs`)).total;
    const { sendSlashCommand } = await import('../../src/emulator/index.ts');
    for (const forge of [{ wrongSecret: true }, { staleTimestamp: true }, { tamperedBody: true }]) {
      const result = await sendSlashCommand(h.emulator, {
        appUrl: h.appUrl,
        signingSecret: 'test-signing-secret',
        command: '/flowgate',
        text: 'start linearWorkflow {"value": 1}',
        userId: ALICE,
        channelId: GENERAL,
        forge,
      });
      expect(result.status).toBe(401);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(runMessages().length).toBe(before);
    const runsAfter = (await h.mastraGet(`/api/workflows/linearWorkflow/runs`)).total;
    expect(runsAfter).toBe(runsBefore);
  });
});
