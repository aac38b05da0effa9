import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { isYesNoSchema } from '../../src/forms/index.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';

function wire(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: 'draft-07' }) as JsonSchema;
}

describe('isYesNoSchema', () => {
  test('a single boolean', () => {
    expect(isYesNoSchema(wire(z.object({ approved: z.boolean() })))).toEqual({ booleanField: 'approved' });
    expect(isYesNoSchema(wire(z.object({ ok: z.boolean().default(false) })))).toEqual({ booleanField: 'ok' });
  });

  test('a boolean and an optional comment, in either order', () => {
    expect(isYesNoSchema(wire(z.object({ approved: z.boolean(), comment: z.string().optional() })))).toEqual({
      booleanField: 'approved',
      commentField: 'comment',
    });
    expect(isYesNoSchema(wire(z.object({ note: z.string().max(500).optional(), go: z.boolean() })))).toEqual({
      booleanField: 'go',
      commentField: 'note',
    });
    expect(isYesNoSchema(wire(z.object({ go: z.boolean(), why: z.string().default('') })))).toEqual({
      booleanField: 'go',
      commentField: 'why',
    });
    expect(isYesNoSchema(wire(z.object({ go: z.boolean(), why: z.string().nullable() })))).toEqual({
      booleanField: 'go',
      commentField: 'why',
    });
  });

  test('anything else needs a form', () => {
    const no: z.ZodType[] = [
      z.object({}),
      z.object({ comment: z.string().optional() }),
      z.object({ approved: z.boolean(), comment: z.string() }), // the comment is required
      z.object({ approved: z.boolean(), comment: z.string().min(3).optional() }),
      z.object({ approved: z.boolean(), level: z.enum(['a', 'b']).optional() }),
      z.object({ approved: z.boolean(), email: z.email().optional() }),
      z.object({ a: z.boolean(), b: z.boolean() }),
      z.object({ approved: z.boolean(), comment: z.string().optional(), extra: z.number().optional() }),
      z.object({ approved: z.boolean().nullable() }),
      z.object({ approved: z.literal(true) }),
      z.object({ approved: z.boolean() }).nullable(),
      z.boolean(),
      z.object({ approved: z.boolean() }).catchall(z.string()),
    ];
    for (const schema of no) expect(isYesNoSchema(wire(schema))).toBeNull();
  });

  test('the reference resume schema is not yes/no (it has more fields)', () => {
    expect(
      isYesNoSchema({
        type: 'object',
        properties: { approved: { type: 'boolean' }, comment: { type: 'string' }, score: { type: 'number' } },
        required: ['approved'],
      }),
    ).toBeNull();
  });
});
