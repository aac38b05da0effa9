/**
 * The form engine: JSON Schema → Slack modal input blocks → typed data → validation errors. Pure.
 *
 * - `buildForm(schema, { initial, maxBlocks })` lays a schema out as input blocks (see README notes in
 *   layout.ts / build.ts for the mapping rules) pre-filled from typed data and `default`s.
 * - `readSubmission(schema, view.state.values, { maxBlocks })` recomputes the same layout, converts the
 *   state to typed data and validates it with zod 4 (`z.fromJSONSchema`, patterns matched by RE2); errors are keyed by block id,
 *   ready for `ack({ response_action: 'errors', errors })`.
 * - `stateFromInitial(form)` is the state Slack would send for an untouched form (tests, emulator).
 * - `isYesNoSchema(schema)` spots schemas answerable with one click.
 */

export {
  buildForm,
  type Form,
  type FormOptions,
  type InputBlock,
  jsonExample,
  numberBounds,
} from './build.ts';
export {
  ACTION_ID,
  blockIdFor,
  computeLayout,
  DEFAULT_MAX_BLOCKS,
  type FieldElement,
  type FieldKind,
  type FieldOption,
  type FormField,
  type Layout,
  type LayoutNode,
  type LayoutUnion,
  type LayoutVariant,
  PROSE_WORDS,
  ROOT_BLOCK_ID,
} from './layout.ts';
export { type EnumValue, unwrapNullable } from './schema.ts';
export { elementState, stateFromInitial } from './state.ts';
export {
  readSubmission,
  type SubmissionOptions,
  type SubmissionResult,
  type ViewStateValues,
} from './submission.ts';
export { humanize } from './text.ts';
export { checkValue, describeIssue } from './validate.ts';
export { isYesNoSchema, type YesNoShape } from './yesno.ts';
