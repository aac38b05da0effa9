import type { KnownBlock, View } from '@slack/types';
import { describe, expect, test } from 'vitest';
import { buildForm, stateFromInitial, type ViewStateValues } from '../../../src/forms/index.ts';
import type { JsonSchema, Suspension, WorkflowInfo } from '../../../src/mastra/types.ts';
import { VIEW } from '../../../src/slack/ids.ts';
import {
  answerFormView,
  FORM_MAX_BLOCKS,
  loadingView,
  noticeView,
  STATE_BLOCK_PREFIX,
  startFormView,
  startInputBlocks,
  stateSection,
} from '../../../src/slack/render/modals.ts';
import { readStateSection, stateSchemaOf } from '../../../src/slack/usecases/start-state.ts';

function info(overrides: Partial<WorkflowInfo> = {}): WorkflowInfo {
  return { name: 'Expense approval', steps: {}, allSteps: {}, stepGraph: [], ...overrides };
}

const approval: JsonSchema = {
  type: 'object',
  properties: { approved: { type: 'boolean' }, comment: { type: 'string' } },
  required: ['approved'],
};

/** The text of a section block (its mrkdwn), or undefined. */
function sectionText(block: View['blocks'][number] | undefined): string | undefined {
  const known = block as KnownBlock | undefined;
  return known?.type === 'section' ? known.text?.text : undefined;
}

function inputs(view: View): View['blocks'] {
  return view.blocks.filter((b) => b.type === 'input');
}

describe('loading and notice views', () => {
  test('the loading view says the form is on its way, with no buttons', () => {
    const view = loadingView();
    expect(view).toMatchObject({ type: 'modal', callback_id: VIEW.loading, title: { text: 'Loading…' } });
    expect(view.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: ':hourglass_flowing_sand: Loading the form…' } },
    ]);
    expect(view.type === 'modal' && view.submit).toBeFalsy();
  });

  test('a notice view shows its title and text, and only closes', () => {
    const view = noticeView('Cannot answer', 'That step is no longer waiting for an answer.');
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: VIEW.loading,
      title: { type: 'plain_text', text: 'Cannot answer' },
      close: { type: 'plain_text', text: 'Close' },
    });
    expect(view.type === 'modal' && view.submit).toBeFalsy();
    expect(sectionText(view.blocks[0])).toBe('That step is no longer waiting for an answer.');
  });

  test('a title past Slack’s 24 characters is cut to fit', () => {
    const view = noticeView('A title far longer than any modal title may be', 'text');
    expect(view.type === 'modal' && [...view.title.text].length).toBeLessThanOrEqual(24);
  });
});

describe('the answer form', () => {
  const question: Suspension = {
    path: ['review', 'approve'],
    suspendedAt: new Date('2026-12-07T10:00:00Z'),
    payload: { amountDue: 120, vendor: 'ACME' },
  };

  test('names the workflow, the step and the run, shows the payload, then the inputs', () => {
    const view = answerFormView(info(), 'run-1', question, approval);
    expect(view).toMatchObject({
      callback_id: VIEW.answerForm,
      title: { text: 'Respond' },
      submit: { text: 'Submit' },
      close: { text: 'Cancel' },
    });
    const [intro, payload, divider, ...rest] = view.blocks;
    expect(sectionText(intro)).toBe(
      '*Expense approval* › *review › approve* is waiting for your answer.\nRun `run-1`',
    );
    expect(payload).toEqual({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Amount due*\n120' },
        { type: 'mrkdwn', text: '*Vendor*\nACME' },
      ],
    });
    expect(divider).toEqual({ type: 'divider' });
    expect(rest).toEqual(buildForm(approval).blocks);
  });

  test('a question with no payload has no payload section', () => {
    const view = answerFormView(info(), 'run-1', { ...question, payload: undefined }, approval);
    expect(view.blocks.map((b) => b.type)).toEqual(['section', 'divider', 'input', 'input']);
  });

  test('titled by the resume label, else by the `.foreach()` item it answers', () => {
    const labelled = answerFormView(info(), 'r', { ...question, resumeLabel: 'Review access' }, approval);
    expect(labelled.type === 'modal' && labelled.title.text).toBe('Review access');
    const item = { ...question, forEachIndex: 1, forEachTotal: 3 };
    const view = answerFormView(info(), 'r', item, approval);
    expect(view.type === 'modal' && view.title.text).toBe('Respond · item 2');
    expect(sectionText(view.blocks[0])).toContain('*review › approve · item 2 of 3*');
  });

  test('names from outside are escaped', () => {
    const view = answerFormView(info({ name: '<!channel> & co' }), 'r', question, approval);
    expect(sectionText(view.blocks[0])).toContain('*&lt;!channel&gt; &amp; co*');
  });
});

describe('the start form', () => {
  const state: JsonSchema = {
    type: 'object',
    description: 'Who is on call.',
    properties: { oncall: { type: 'string' } },
    required: ['oncall'],
  };

  test('introduces the workflow, then its inputs; no state section without a state schema', () => {
    const view = startFormView(info({ description: 'Files an expense.', inputSchema: approval }));
    expect(view).toMatchObject({
      callback_id: VIEW.startForm,
      title: { text: 'Start a run' },
      submit: { text: 'Start' },
      close: { text: 'Cancel' },
    });
    expect(sectionText(view.blocks[0])).toBe('Start *Expense approval*\nFiles an expense.');
    expect(view.blocks.slice(1)).toEqual(buildForm(approval).blocks);
  });

  test('a state schema adds its section after the inputs, pre-filled with the initial state', () => {
    const workflow = info({ inputSchema: approval, stateSchema: state });
    const view = startFormView(workflow, stateSchemaOf(workflow), { oncall: 'Avery' });
    const section = view.blocks.slice(1 + buildForm(approval).blocks.length);
    expect(section).toEqual(stateSection(state, { oncall: 'Avery' }));
    expect(section[0]).toEqual({ type: 'divider' });
    expect(sectionText(section[1])).toBe(
      '*Initial state*\nWhat the run starts with, besides its inputs.\nWho is on call.',
    );
    const field = section[2];
    expect(field?.block_id?.startsWith(STATE_BLOCK_PREFIX)).toBe(true);
    expect(JSON.stringify(field)).toContain('"initial_value":"Avery"');
  });

  test('the state section is read back as the start form draws it', () => {
    const values: ViewStateValues = {};
    const form = buildForm(state, { initial: { oncall: 'Blake' } });
    for (const [blockId, value] of Object.entries(stateFromInitial(form))) {
      values[`${STATE_BLOCK_PREFIX}${blockId}`] = value;
    }
    const drawn = stateSection(state)
      .slice(2)
      .map((b) => b.block_id);
    expect(drawn).toEqual(Object.keys(values));
    expect(readStateSection(state, values)).toEqual({ ok: true, data: { oncall: 'Blake' } });
  });

  test('the inputs leave room for the state section: the form stays within a modal’s blocks', () => {
    const many: JsonSchema = {
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 120 }, (_, i) => [`field${i}`, { type: 'string' }]),
      ),
    };
    const without = startFormView(info({ inputSchema: many }));
    expect(inputs(without).length).toBeLessThanOrEqual(startInputBlocks(false));
    expect(startInputBlocks(false)).toBe(FORM_MAX_BLOCKS);
    const workflow = info({ inputSchema: many, stateSchema: state });
    const withState = startFormView(workflow, stateSchemaOf(workflow));
    expect(startInputBlocks(true)).toBeLessThan(FORM_MAX_BLOCKS);
    expect(withState.blocks.length).toBeLessThanOrEqual(100);
    const stateFields = withState.blocks.filter((b) => b.block_id?.startsWith(STATE_BLOCK_PREFIX));
    expect(stateFields).toHaveLength(1);
    expect(inputs(withState).length - stateFields.length).toBeLessThanOrEqual(startInputBlocks(true));
  });
});
