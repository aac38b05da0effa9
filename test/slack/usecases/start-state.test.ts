import { expect, test } from 'vitest';
import { buildForm, stateFromInitial, type ViewStateValues } from '../../../src/forms/index.ts';
import type { JsonSchema } from '../../../src/mastra/types.ts';
import { readStateSection } from '../../../src/slack/usecases/start-state.ts';

const schema: JsonSchema = {
  type: 'object',
  properties: { team: { type: 'string', default: 'ops' } },
  required: ['team'],
};

/** The start form's state section as Slack submits it: the form's block ids under `state:`. */
function submitted(): ViewStateValues {
  const values: ViewStateValues = {};
  for (const [blockId, state] of Object.entries(stateFromInitial(buildForm(schema)))) {
    values[`state:${blockId}`] = state;
  }
  return values;
}

test('block ids of a submitted state section never reach a prototype', () => {
  const plain = readStateSection(schema, submitted());
  expect(plain).toEqual({ ok: true, data: { team: 'ops' } });
  // A forged submission whose only "field" is an object named `__proto__` holding the team's state:
  // nothing may be read through it.
  const [[blockId, state]] = Object.entries(submitted()) as [[string, ViewStateValues[string]]];
  const inner = {
    [blockId.slice('state:'.length)]: JSON.parse(JSON.stringify(state).replace('"ops"', '"evil"')),
  };
  const hostile = JSON.parse(`{"state:__proto__": ${JSON.stringify(inner)}}`) as ViewStateValues;
  expect(Object.hasOwn(hostile, 'state:__proto__')).toBe(true);
  expect(JSON.stringify(readStateSection(schema, hostile))).not.toContain('evil');
});
