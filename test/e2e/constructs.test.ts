/**
 * Every construct of a Mastra workflow in the progress message, at each stage of a real run (before,
 * during, waiting for an answer, after): the real Bolt app, the Slack emulator and a real Mastra
 * server running the workflows of test/support/mastra/constructs.ts. Runs hold at chosen steps
 * (`holdAt`) so each stage is seen without depending on timing. One harness; the runs go concurrently.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALICE, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { createConstructWorkflows, holdAt } from '../support/mastra/constructs.ts';
import { startMastraServer } from '../support/mastra/server.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ mastra: await startMastraServer({ workflows: createConstructWorkflows() }) });
});
afterAll(async () => {
  const mastra = h?.mastra;
  await h?.close();
  await mastra?.close();
});

/** The message's step list as lines (em spaces indent what is inside a group or nested workflow). */
function lines(message: { blocks: string }): string[] {
  const blocks = JSON.parse(message.blocks) as { type: string; text?: { text: string } }[];
  return blocks[2]?.type === 'section' ? (blocks[2].text?.text.split('\n') ?? []) : [];
}
const line = (message: { blocks: string }, name: string) =>
  lines(message).find((l) => l.includes(`\`${name}\``)) ?? '';
const nested = /^\u2003\u2003/;

/** The first rendering Slack got for a run (its postMessage), before any event. */
async function firstRendering(runId: string): Promise<{ blocks: string }> {
  const post = await waitFor('the first rendering', () =>
    h.emulator.calls.find(
      (c) =>
        c.method === 'chat.postMessage' &&
        !c.params.thread_ts &&
        String(c.params.text).includes(`(run ${runId})`),
    ),
  );
  return { blocks: JSON.stringify(post.params.blocks) };
}

/** Starts a run (one start at a time: the harness tells runs apart by the order they were posted). */
let starting = Promise.resolve('');
function startRun(text: string): Promise<string> {
  const started = starting.then(() => h.startRun(text));
  starting = started.catch(() => '');
  return started;
}

async function answer(runId: string, step: string, data: unknown, seen: Set<string>): Promise<void> {
  const message = await h.message(runId);
  await h.click(message, 'flowgate_respond', { blockId: `flowgate_step:${step}` });
  const view = await h.answerForm(ALICE, runId).then(async (first) => {
    if (!seen.has(first.id)) return first;
    return waitFor('a new answer form', () =>
      h.emulator
        .openViews(ALICE)
        .find(
          (v) =>
            v.callback_id === 'flowgate_answer_form' &&
            !seen.has(v.id) &&
            JSON.stringify(v.blocks).includes(runId),
        ),
    );
  });
  seen.add(view.id);
  await h.submit(view.id, await h.formValues('asker', step, data));
}

describe.concurrent('every construct in the progress message', () => {
  test('parallel, map, branch, sleep, nested workflow, loop and bail: before, during and after', async () => {
    const parB = holdAt('par-b');
    const inB = holdAt('in-b');
    const runId = await startRun('start tour {"n": 1}');

    // Before: the whole graph, nested steps under their workflow, maps and sleeps named.
    const before = await firstRendering(runId);
    expect(line(before, 'first')).toContain('pending');
    expect(lines(before).find((l) => l.includes('*in parallel*'))).toContain('2 steps side by side');
    expect(line(before, 'par-a')).toMatch(nested);
    expect(line(before, 'map → big-n + small-n input')).toContain('pending');
    expect(line(before, 'sleep')).toContain('pending · for 30 ms');
    expect(line(before, 'tour-inner › in-a')).toMatch(nested);
    expect(line(before, 'count')).toContain('do-while loop');
    expect(before.blocks).not.toContain('mapping_');

    // During: one parallel step done, the other running, side by side.
    await parB.reached;
    const parallel = await h.message(
      runId,
      (m) => line(m, 'par-a').includes('success') && line(m, 'par-b').includes('running'),
    );
    expect(lines(parallel).find((l) => l.includes('*in parallel*'))).toContain('running');
    expect(line(parallel, 'big-n')).toContain('pending');
    parB.release();

    // During: the branch decided (the one not taken says so while the run goes on), the sleep slept,
    // the nested workflow running with its first step done.
    await inB.reached;
    const inner = await h.message(runId, (m) => line(m, 'tour-inner › in-b').includes('running'));
    expect(inner.text).toContain('Running');
    expect(line(inner, 'big-n')).toContain('not taken');
    expect(line(inner, 'small-n')).toContain('success');
    expect(line(inner, 'sleep')).toContain('success');
    expect(line(inner, 'tour-inner')).toContain('running');
    expect(line(inner, 'tour-inner › in-a')).toContain('success');
    inB.release();

    // After: the loop's iterations, the bail with its payload (kept over the stored "success"),
    // outputs, and the step after the bail skipped.
    const after = await h.message(runId, (m) => m.text.includes('Succeeded'));
    // The last rendering is the one after reconciliation with the stored run.
    await waitFor(
      'the final rendering',
      async () => (await h.flowgate.store.getProgressMessage(runId))?.final,
    );
    const final = h.progressMessage(runId)!;
    expect(line(final, 'count')).toContain('do-while loop, ran 2 times');
    const all = lines(final);
    const bail = all.findIndex((l) => l.includes('`bailer`'));
    expect(all[bail]).toContain('finished early');
    expect(all[bail + 1]).toContain('reason: nothing left to do · n: 3');
    expect(line(final, 'never-runs')).toContain('skipped');
    expect(final.blocks).not.toContain('mapping_');
    expect(after.text).toContain('Succeeded');
  });

  test('a loop that asks on every iteration: its iteration, the latest output, then how many times it ran', async () => {
    const seen = new Set<string>();
    const runId = await startRun('start asker {"turn": 1}');
    const first = await h.message(runId, (m) => m.blocks.includes('flowgate_respond'));
    expect(line(first, 'ask')).toContain('waiting for an answer');
    expect(line(first, 'ask')).toContain('do-until loop, iteration 1');

    await answer(runId, 'ask', { answer: 'go' }, seen);
    const second = await h.message(
      runId,
      (m) => line(m, 'ask').includes('iteration 2') && m.blocks.includes('flowgate_respond'),
    );
    const all = lines(second);
    expect(all[all.findIndex((l) => l.includes('`ask`')) + 1]).toContain('latest output: turn: 2 · last: go');

    await answer(runId, 'ask', { answer: 'stop' }, seen);
    const done = await h.message(runId, (m) => m.text.includes('Succeeded'));
    expect(line(done, 'ask')).toContain('do-until loop, ran 2 times');
    expect(lines(done)[1]).toContain('turn: 3 · last: stop');
  });

  test('foreach: items counted as they are done, then each iteration waiting for an answer', async () => {
    const held = holdAt('check-item:b');
    const runId = await startRun('start items [{"name": "a"}, {"name": "b"}, {"name": "c"}]');
    const before = await firstRendering(runId);
    expect(line(before, 'check-item')).toContain('pending · 1 at a time');
    expect(line(before, 'review-item')).toContain('pending · 3 at a time');

    await held.reached;
    const during = await h.message(runId, (m) => line(m, 'check-item').includes('1 done'));
    expect(line(during, 'check-item')).toMatch(/running .*3 items · 1 done/);
    held.release();

    const waiting = await h.message(
      runId,
      (m) => m.text.includes('Waiting for an answer') && line(m, 'review-item').includes('3 waiting'),
    );
    expect(waiting.text).toContain('Waiting for an answer');
    expect(line(waiting, 'check-item')).toContain('3 items · 3 done');
    expect(line(waiting, 'review-item')).toContain('waiting for an answer');
    expect(line(waiting, 'review-item')).toContain('3 items · 0 done · 3 waiting');

    await h.click(waiting, 'flowgate_cancel', { blockId: 'flowgate_run' });
    const canceled = await h.message(runId, (m) => m.text.includes('Canceled'));
    expect(line(canceled, 'review-item')).toContain('canceled');
  });

  test('a nested workflow that sleeps reads as waiting, its sleep with its length and end', async () => {
    const runId = await startRun('start napper {}');
    const before = await firstRendering(runId);
    expect(line(before, 'nap › sleep')).toMatch(nested);
    expect(line(before, 'nap › sleep')).toContain('pending · for 1 min 0 s');

    const sleeping = await h.message(runId, (m) => line(m, 'nap › sleep').includes('sleeping'));
    expect(line(sleeping, 'nap')).toContain(':zzz: `nap` waiting');
    expect(line(sleeping, 'nap › sleep')).toMatch(/sleeping · for 1 min 0 s · ends <!date\^\d+/);
    expect(line(sleeping, 'nap › lie-down')).toContain('success');
    expect(line(sleeping, 'after-nap')).toContain('pending');

    await h.click(sleeping, 'flowgate_cancel', { blockId: 'flowgate_run' });
    const canceled = await h.message(runId, (m) => m.text.includes('Canceled'));
    expect(line(canceled, 'nap')).toContain('canceled');
    expect(line(canceled, 'after-nap')).toContain('skipped');
  });
});
