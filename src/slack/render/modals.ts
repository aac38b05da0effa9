/**
 * The modals Flowgate opens: the answer form of a suspended step, the start form (with its
 * initial-state section for a workflow that declares a state schema), the loading view shown while
 * a form is fetched, and the notice view that says why something could not be done. Pure: the
 * inputs come from the form engine (src/forms/), each view is fitted to Slack's limits (../text/fit.ts).
 */
import type { KnownBlock, View } from '@slack/types';
import { buildForm } from '../../forms/index.ts';
import type { JsonSchema, Suspension, WorkflowInfo } from '../../mastra/types.ts';
import { VIEW } from '../ids.ts';
import { fitView } from '../text/fit.ts';
import { code, safeText, stepName } from '../text/mrkdwn.ts';
import { itemText, payloadFields } from './questions.ts';

/** Blocks a modal keeps for context above the generated inputs. */
const FORM_RESERVED_BLOCKS = 5;
/** Blocks a form's inputs may take (read back with the same budget). */
export const FORM_MAX_BLOCKS = 100 - FORM_RESERVED_BLOCKS;
/** Blocks the start form gives the state section's fields at most. */
export const STATE_MAX_BLOCKS = 20;
/** The state section's own blocks above its fields (a divider and a heading). */
export const STATE_RESERVED_BLOCKS = 2;
/**
 * The block ids of the state section's fields: the form engine's id under this prefix, so they
 * never meet the input fields (read back by src/slack/usecases/start-state.ts).
 */
export const STATE_BLOCK_PREFIX = 'state:';

/** Blocks the start form gives the inputs: all of them, or what a state section leaves. */
export function startInputBlocks(hasState: boolean): number {
  return hasState ? FORM_MAX_BLOCKS - STATE_MAX_BLOCKS - STATE_RESERVED_BLOCKS : FORM_MAX_BLOCKS;
}

/** Shown at once when "Respond…" is clicked (the trigger expires in 3 s), until the form is ready. */
export function loadingView(): View {
  return fitView({
    type: 'modal',
    callback_id: VIEW.loading,
    title: { type: 'plain_text', text: 'Loading…' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: ':hourglass_flowing_sand: Loading the form…' } },
    ],
  });
}

/** A modal with one notice (`text` must already be safe mrkdwn) and a Close button. */
export function noticeView(title: string, text: string): View {
  return fitView({
    type: 'modal',
    callback_id: VIEW.loading,
    title: { type: 'plain_text', text: title },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  });
}

/** The answer form of a question: the step and run, its payload, then the inputs of its resume schema. */
export function answerFormView(
  info: WorkflowInfo,
  runId: string,
  suspension: Suspension,
  schema: JsonSchema,
): View {
  const form = buildForm(schema, { maxBlocks: FORM_MAX_BLOCKS });
  const fields = payloadFields(suspension.payload);
  const name = `${stepName(suspension.path, 200)}${itemText(suspension.forEachIndex, suspension.forEachTotal)}`;
  const blocks: View['blocks'] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${safeText(info.name, 150)}* › *${name}* is waiting for your answer.\nRun ${code(runId, 100)}`,
      },
    },
  ];
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push({ type: 'divider' });
  blocks.push(...form.blocks);
  return fitView({
    type: 'modal',
    callback_id: VIEW.answerForm,
    // The step's resume label names the question best; fitView keeps it within Slack's 24.
    title: {
      type: 'plain_text',
      text:
        suspension.resumeLabel ??
        (suspension.forEachIndex === undefined ? 'Respond' : `Respond · item ${suspension.forEachIndex + 1}`),
    },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  });
}

/**
 * The start form: the inputs, then — for a workflow with a state schema (`stateSchema`, one with
 * fields to fill in) — a section for its initial state, pre-filled with `initialState` when given.
 */
export function startFormView(info: WorkflowInfo, stateSchema?: JsonSchema, initialState?: unknown): View {
  const form = buildForm(info.inputSchema ?? {}, { maxBlocks: startInputBlocks(stateSchema !== undefined) });
  const state = stateSchema ? stateSection(stateSchema, initialState) : [];
  const intro = `Start *${safeText(info.name, 150)}*${info.description ? `\n${safeText(info.description, 1000)}` : ''}`;
  return fitView({
    type: 'modal',
    callback_id: VIEW.startForm,
    title: { type: 'plain_text', text: 'Start a run' },
    submit: { type: 'plain_text', text: 'Start' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: intro } }, ...form.blocks, ...state],
  });
}

/** The start form's state section: a heading, then one input per state field. */
export function stateSection(schema: JsonSchema, initial?: unknown): KnownBlock[] {
  const form = buildForm(schema, {
    maxBlocks: STATE_MAX_BLOCKS,
    ...(initial === undefined ? {} : { initial }),
  });
  const about = typeof schema.description === 'string' ? `\n${safeText(schema.description, 500)}` : '';
  return [
    { type: 'divider' },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Initial state*\nWhat the run starts with, besides its inputs.${about}`,
      },
    },
    ...form.blocks.map((block) => ({ ...block, block_id: `${STATE_BLOCK_PREFIX}${block.block_id ?? ''}` })),
  ];
}
