/**
 * A step whose resume schema has a backtracking-prone pattern, answered in its form through the Bolt
 * app, the emulator and the Mastra server: the longest answer Slack lets a person type is checked
 * without blocking anyone (a native RegExp would never finish), a pattern RE2 cannot express is
 * refused with a message that says so, and a good answer resumes the run.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ALICE, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { createPatternsWorkflow } from '../support/mastra/workflows.ts';

const WORKFLOW = 'patterns';
/** Slack's longest `plain_text_input` value. */
const LONGEST = 3000;

let mastra: MastraTestServer;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({ workflows: { [WORKFLOW]: createPatternsWorkflow() } });
  h = await startHarness({ mastra });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
});

const typed = (value: string) => ({ value: { type: 'plain_text_input', value } });

test('a backtracking-prone pattern in an answer form is checked in linear time', async () => {
  const before = h.runIds().length;
  await h.slash(`start ${WORKFLOW} {}`);
  const runId = await waitFor('the run', () => (h.runIds().length > before ? h.runIds().at(-1) : undefined));
  const message = await h.message(runId);
  const respond = (
    JSON.parse(message.blocks) as { type: string; block_id?: string; elements?: { action_id?: string }[] }[]
  ).find((b) => b.type === 'actions' && b.elements?.some((e) => e.action_id === 'flowgate_respond'));
  if (!respond?.block_id) throw new Error('no Respond button');
  await h.click(message, 'flowgate_respond', { blockId: respond.block_id });
  const view = await h.answerForm(ALICE, runId);
  const tagBlock = (view.blocks as { block_id?: string; hint?: { text: string } }[]).find(
    (b) => b.block_id === 'f:tag',
  );
  expect(tagBlock?.hint?.text).toBe(
    "Flowgate cannot check this field's pattern safely (it uses a backreference (`\\1`)), so it refuses " +
      'answers here: leave it empty if you may.',
  );
  const base = await h.formValues(WORKFLOW, 'check', undefined);

  // The answer that makes a backtracking engine try every split of 3,000 characters.
  const hostile = await h.submit(view.id, { ...base, 'f:code': typed(`${'a'.repeat(LONGEST - 1)}!`) });
  expect(hostile.body).toEqual({
    response_action: 'errors',
    errors: { 'f:code': 'Must match the pattern /^(a|aa)+$/' },
  });

  // A tag: its pattern needs a backreference, so Flowgate says it cannot check it.
  const tagged = await h.submit(view.id, {
    ...base,
    'f:code': typed('aaa'),
    'f:tag': typed('xx'),
  });
  expect(tagged.body).toEqual({
    response_action: 'errors',
    errors: {
      'f:tag':
        "Flowgate cannot check this answer safely: the workflow's pattern /^(\\w)\\1$/ cannot be matched in " +
        'linear time because it uses a backreference (`\\1`). Leave it empty if you may, or ask the ' +
        "workflow's owner to rewrite the pattern without backreferences or lookahead.",
    },
  });
  expect((await h.mastraGet(`/api/workflows/${WORKFLOW}/runs/${runId}`)).status).toBe('suspended');

  // The longest good answer resumes the run with exactly what was typed.
  const code = 'a'.repeat(LONGEST);
  const good = await h.submit(view.id, { ...base, 'f:code': typed(code) });
  expect(good.body).toBe('');
  const state = await waitFor('the run to succeed', async () => {
    const s = await h.mastraGet(`/api/workflows/${WORKFLOW}/runs/${runId}`);
    return s.status === 'success' ? s : undefined;
  });
  expect(state.result).toEqual({ code });
});
