/** Helpers shared by the forms tests: a submission as Slack sends it after some edits. */
import {
  buildForm,
  type FormOptions,
  readSubmission,
  stateFromInitial,
  type ViewStateValues,
} from '../../src/forms/index.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';

/** The state Slack sends when the user changed some fields: `edits` replace whole element states. */
export function submit(
  schema: JsonSchema,
  edits: Record<string, Record<string, unknown>> = {},
  options: FormOptions = {},
): ReturnType<typeof readSubmission> {
  const form = buildForm(schema, options);
  const values = stateFromInitial(form);
  for (const [blockId, state] of Object.entries(edits)) {
    const current = values[blockId];
    if (current === undefined) throw new Error(`no block ${blockId}`);
    values[blockId] = { value: { ...current.value, ...state } as ViewStateValues[string][string] };
  }
  return readSubmission(
    schema,
    values,
    options.maxBlocks === undefined ? {} : { maxBlocks: options.maxBlocks },
  );
}

export const text = (value: string | null) => ({ value });
export const option = (value: string) => ({
  selected_option: { text: { type: 'plain_text', text: value }, value },
});
