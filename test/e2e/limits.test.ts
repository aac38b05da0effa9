/**
 * Large but legal workflows meet Slack's limits end to end: the emulator refuses what Slack refuses
 * (block limits, `msg_blocks_too_long`, duplicate block ids, over-long initial values), so each
 * test passes only if Flowgate degrades instead of sending what Slack would reject.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALICE, type Harness, startHarness, waitFor } from '../support/flowgate.ts';

const RANDOM = 'C0EMU0002';

import {
  CATALOG_SIZE,
  createLargeWorkflows,
  LONG_DEFAULT,
  LONG_STEP_ID,
  PARALLEL_STEP_IDS,
} from '../support/mastra/large.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

let mastra: MastraTestServer;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({ workflows: createLargeWorkflows() });
  h = await startHarness({ mastra });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
});

type Block = { type: string; block_id?: string; text?: { text: string }; elements?: Element[] } & Record<
  string,
  unknown
>;
type Element = { action_id?: string; value?: string; text?: { text: string } };

/** The blocks of the newest ephemeral reply to `text`. */
async function reply(text: string): Promise<{ text: string; blocks: Block[] }> {
  const before = h.emulator.ephemerals(ALICE).length;
  const result = await h.slash(text);
  expect(result.status).toBe(200);
  const message = await waitFor(`the reply to ${text}`, () => {
    const all = h.emulator.ephemerals(ALICE);
    return all.length > before ? all.at(-1) : undefined;
  });
  return { text: message.text, blocks: (message.blocks ?? []) as Block[] };
}

/** Every Slack call that carried a message or a view and was refused (other than rate limits, retried). */
function refusedCalls() {
  return h.emulator.calls.filter((c) => {
    const response = c.response as { ok?: boolean; error?: string };
    return (
      ['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'views.open', 'views.update'].includes(
        c.method,
      ) &&
      response.ok === false &&
      response.error !== 'ratelimited'
    );
  });
}

describe("Slack's limits, whatever the workflows contain", () => {
  test('a catalog too large for one message: list pages, and the pages show every workflow once', async () => {
    const total = Object.keys(createLargeWorkflows()).length;
    const first = await reply('list');
    const firstText = JSON.stringify(first.blocks);
    expect(firstText).toMatch(new RegExp(`\\*${total} workflows\\* · page 1 of \\d`));
    const seen: string[] = [];
    let page = 1;
    let current = first;
    for (;;) {
      const text = JSON.stringify(current.blocks);
      seen.push(...[...text.matchAll(/`(catalog\d\d|longDefault|longIds)`/g)].map((m) => m[1]!));
      const next = new RegExp(`… and (\\d+) more: \`/flowgate list ${page + 1}\``).exec(text);
      if (!next) break;
      expect(Number(next[1])).toBe(total - seen.length);
      page++;
      current = await reply(`list ${page}`);
    }
    expect(page).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(total);
    expect(seen).toHaveLength(total);
    expect(seen.filter((k) => k.startsWith('catalog'))).toHaveLength(CATALOG_SIZE);
    // Descriptions are trimmed, every workflow keeps its Start button.
    expect(firstText).toContain('…');
    expect(firstText.match(/flowgate_start/g)?.length).toBe(first.blocks.length - 2);

    expect((await reply(`list ${page + 1}`)).text).toContain(`There is no page ${page + 1}`);
    const bad = await h.slash('list two');
    expect(JSON.stringify(bad.body)).toContain('takes an optional page number, e.g. `/flowgate list 2`');
    expect(refusedCalls()).toEqual([]);
  });

  test('a default longer than a text input holds: the form opens without it, and an empty field keeps it', async () => {
    await h.slash('start longDefault');
    const view = await waitFor('the start form', () =>
      h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_start_form'),
    );
    const note = (view.blocks as Block[]).find((b) => b.block_id === 'f:note')!;
    expect(note.element).not.toHaveProperty('initial_value');
    expect(JSON.stringify(note.hint)).toContain(
      `The default (${LONG_DEFAULT.length} characters) is too long to show here; leave this empty to use it.`,
    );

    const before = h.runIds().length;
    const submitted = await h.submit(view.id, await h.formValues('longDefault', undefined, { title: 'Hi' }));
    expect(submitted.status).toBe(200);
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const done = await h.message(runId, (m) => m.text.includes('Succeeded'));
    expect(done.blocks).toContain(`\\"noteLength\\": ${LONG_DEFAULT.length}`);
    expect(refusedCalls()).toEqual([]);
  });

  test('step ids too long for Slack ids and parallel steps sharing a long prefix: the message keeps updating', async () => {
    // In a channel of its own: Slack allows about one post per second per channel, and this run's
    // thread replies would otherwise queue behind the other tests'.
    const before = h.runIds().length;
    await h.slash('start longIds', { channel: RANDOM });
    const runId = await waitFor('the run', () =>
      h.runIds().length > before ? h.runIds().at(-1) : undefined,
    );
    const waiting = await h.message(
      runId,
      (m) => m.text.includes('Waiting for an answer') && m.blocks.split('flowgate_approve').length - 1 === 2,
    );
    const blocks = JSON.parse(waiting.blocks) as Block[];
    const ids = blocks.flatMap((b) => (b.block_id ? [b.block_id] : []));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(255);
    // The long step is listed (its name cut in the middle), the parallel steps tell apart by their end.
    expect(waiting.blocks).toContain(`\`${LONG_STEP_ID.slice(0, 20)}`);
    for (const step of PARALLEL_STEP_IDS)
      expect(waiting.blocks).toContain(`${step.slice(-20)}* is waiting for an answer`);

    // Answer each parallel step with its own Approve button: found by the step the payload names.
    const approveBlockFor = (message: { blocks: string }, branch: string) => {
      const list = JSON.parse(message.blocks) as Block[];
      const at = list.findIndex((b) => JSON.stringify(b.fields ?? '').includes(`*Step*\\n${branch}`));
      const actions = list.slice(at).find((b) => b.type === 'actions');
      expect(actions?.elements?.some((e) => e.action_id === 'flowgate_approve')).toBe(true);
      return actions!.block_id!;
    };
    await h.click(waiting, 'flowgate_approve', { blockId: approveBlockFor(waiting, 'a') });
    const answered = await h.message(
      runId,
      (m) => m.blocks.split('flowgate_approve').length - 1 === 1 && m.blocks.includes('answered by'),
    );
    // The other branch still waits, with its own buttons.
    approveBlockFor(answered, 'b');
    const row = (await h.flowgate.store.getProgressMessage(runId))!;
    const updates = h.emulator.calls.filter((c) => c.method === 'chat.update' && c.params.ts === row.ts);
    expect(updates.length).toBeGreaterThan(1);
    expect(refusedCalls()).toEqual([]);
  });
});
