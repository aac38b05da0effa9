/**
 * A run's initial state (a workflow's `stateSchema`): whether a workflow takes one, and the start
 * form's section for it read back — the form engine's fields for the state schema under block ids
 * of their own (`state:` + the engine's id, drawn by src/slack/render/modals.ts), so they never
 * meet the input fields. Pure.
 */
import { readSubmission, type SubmissionResult, type ViewStateValues } from '../../forms/index.ts';
import type { JsonSchema, WorkflowInfo } from '../../mastra/types.ts';
import { emptyRecord, setOwn } from '../../util/safe-objects.ts';
import { STATE_BLOCK_PREFIX as PREFIX, STATE_MAX_BLOCKS } from '../render/modals.ts';

/** The workflow's state schema when it has fields to fill in; undefined for none (or an empty one). */
export function stateSchemaOf(info: WorkflowInfo): JsonSchema | undefined {
  const schema = info.stateSchema;
  if (!schema || typeof schema !== 'object') return undefined;
  const properties = schema.properties;
  if (!properties || typeof properties !== 'object' || Object.keys(properties).length === 0) return undefined;
  return schema;
}

/** True when the workflow cannot start without an initial state. */
export function needsState(schema: JsonSchema | undefined): boolean {
  return Array.isArray(schema?.required) && schema.required.length > 0;
}

/** The state section of a submitted start form, typed and validated; errors keyed by the section's block ids. */
export function readStateSection(schema: JsonSchema, values: ViewStateValues): SubmissionResult {
  // Keyed by block ids from the submission: a record without a prototype.
  const section = emptyRecord<ViewStateValues[string]>();
  for (const [blockId, value] of Object.entries(values)) {
    if (blockId.startsWith(PREFIX)) setOwn(section, blockId.slice(PREFIX.length), value);
  }
  const result = readSubmission(schema, section, { maxBlocks: STATE_MAX_BLOCKS });
  if (result.ok) return result;
  const errors = emptyRecord<string>();
  for (const [blockId, message] of Object.entries(result.errors))
    setOwn(errors, `${PREFIX}${blockId}`, message);
  return { ok: false, errors };
}
