/**
 * Lists and discriminated unions in real forms: a start form with a list of watchers, then an
 * answer form with a list of labels and a choice of route, through the Bolt app, the emulator and
 * the Mastra server. A bad list is refused with what was read; the good answer resumes the run with
 * exactly the typed values.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ALICE, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { createFormsWorkflow } from '../support/mastra/workflows.ts';

const WORKFLOW = 'formsListsUnions';

let mastra: MastraTestServer;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({ workflows: { [WORKFLOW]: createFormsWorkflow() } });
  h = await startHarness({ mastra });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
});

type Values = Record<string, Record<string, unknown>>;
const typed = (value: string) => ({ value: { type: 'plain_text_input', value } });
const chosen = (type: 'radio_buttons' | 'static_select', value: string) => ({
  value: { type, selected_option: { text: { type: 'plain_text', text: value, emoji: true }, value } },
});

interface Block {
  type: string;
  block_id?: string;
  hint?: { text: string };
  element?: { type: string; multiline?: boolean; options?: { value: string }[] };
  elements?: { action_id?: string }[];
}

function inputBlock(view: { blocks: unknown[] }, blockId: string): Block {
  const block = (view.blocks as Block[]).find((b) => b.type === 'input' && b.block_id === blockId);
  if (!block) throw new Error(`no input ${blockId}`);
  return block;
}

test('a list in the start form, then a list and a discriminated union in the answer form', async () => {
  // Start form: the watchers are a list, one per line.
  await h.slash(`start ${WORKFLOW}`);
  const startView = await waitFor('the start form', () =>
    h.emulator.openViews(ALICE).find((v) => v.callback_id === 'flowgate_start_form'),
  );
  expect(inputBlock(startView, 'f:watchers')).toMatchObject({
    hint: { text: 'One item per line, at most 3.' },
    element: { type: 'plain_text_input', multiline: true },
  });
  const startBase = await h.formValues(WORKFLOW, undefined, undefined);
  const startValues = (watchers: string): Values => ({
    ...startBase,
    'f:title': typed('Printer on fire'),
    'f:watchers': typed(watchers),
  });
  const refused = await h.submit(startView.id, startValues('ann\nbob\ncid\ndee'));
  expect(refused.body).toEqual({
    response_action: 'errors',
    errors: { 'f:watchers': 'Read 4 items: ann, bob, cid, dee — at most 3 allowed' },
  });
  const before = h.runIds().length;
  const started = await h.submit(startView.id, startValues('  ann \n\nbob\n'));
  expect(started.body).toBe('');
  const runId = await waitFor('the run', () => (h.runIds().length > before ? h.runIds().at(-1) : undefined));

  // The step waits; its form has a list and a choice of route with each route's fields.
  const message = await h.message(runId);
  const respond = (JSON.parse(message.blocks) as Block[]).find(
    (b) => b.type === 'actions' && b.elements?.some((e) => e.action_id === 'flowgate_respond'),
  );
  if (!respond?.block_id) throw new Error('no Respond button');
  await h.click(message, 'flowgate_respond', { blockId: respond.block_id });
  const view = await h.answerForm(ALICE, runId);
  expect(inputBlock(view, 'f:labels')).toMatchObject({
    hint: { text: 'Labels for the ticket. One item per line, 1 to 3.' },
    element: { type: 'plain_text_input', multiline: true },
  });
  expect(inputBlock(view, 'f:route.kind').element).toMatchObject({
    type: 'radio_buttons',
    options: [{ value: 'email' }, { value: 'pager' }],
  });
  for (const id of ['f:route.@0.address', 'f:route.@1.team', 'f:route.@1.urgent']) inputBlock(view, id);

  const base = await h.formValues(WORKFLOW, 'triage', undefined);
  const answer = (labels: string, team: string): Values => ({
    ...base,
    'f:labels': typed(labels),
    'f:route.kind': chosen('radio_buttons', 'pager'),
    'f:route.@0.address': typed('not an address: ignored, pager was chosen'),
    'f:route.@1.team': typed(team),
    'f:route.@1.urgent': chosen('radio_buttons', 'true'),
  });

  // A bad list and a missing field of the chosen route: field errors, nothing resumed.
  const bad = await h.submit(view.id, answer('printer\nhardware\nfloor-3\nurgent-now-please', ''));
  expect(bad.body).toEqual({
    response_action: 'errors',
    errors: {
      'f:labels': 'Read 4 items: printer, hardware, floor-3, urgent-now-please — at most 3 allowed',
      'f:route.@1.team': 'Required',
    },
  });
  expect((await h.mastraGet(`/api/workflows/${WORKFLOW}/runs/${runId}`)).status).toBe('suspended');

  // The good answer resumes the run with exactly the typed values.
  const good = await h.submit(view.id, answer(' printer \n\nhardware\n', 'it-ops'));
  expect(good.body).toBe('');
  const state = await waitFor('the run to succeed', async () => {
    const s = await h.mastraGet(`/api/workflows/${WORKFLOW}/runs/${runId}`);
    return s.status === 'success' ? s : undefined;
  });
  expect(state.result).toEqual({
    title: 'Printer on fire',
    watchers: ['ann', 'bob'],
    answer: { labels: ['printer', 'hardware'], route: { kind: 'pager', team: 'it-ops', urgent: true } },
  });
  await waitFor('the message to say so', () => h.progressMessage(runId)?.text.includes('Succeeded'));
});
