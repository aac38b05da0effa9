/**
 * Lists of free values (one item per line) and discriminated unions (a choice of variant, then its
 * fields), with schemas made the way Mastra makes them from zod (`@mastra/core/schema`).
 */
import { standardSchemaToJSONSchema, toStandardSchema } from '@mastra/core/schema';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  buildForm,
  type Form,
  ROOT_BLOCK_ID,
  readSubmission,
  stateFromInitial,
} from '../../src/forms/index.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';
import { option, submit, text } from './helpers.ts';

/** The JSON Schema Mastra sends for a zod schema (the `json` of its superjson string: docs/mastra.md, Workflow details and schemas). */
function mastra(schema: z.ZodType): JsonSchema {
  return JSON.parse(JSON.stringify(standardSchemaToJSONSchema(toStandardSchema(schema)))) as JsonSchema;
}

function block(form: Form, id: string) {
  const b = form.blocks.find((x) => x.block_id === id);
  if (b === undefined) throw new Error(`no block ${id} in ${form.blocks.map((x) => x.block_id).join(', ')}`);
  return b;
}

function roundTrip(schema: JsonSchema, data: unknown): unknown {
  return readSubmission(schema, stateFromInitial(buildForm(schema, { initial: data })));
}

describe('lists of free strings: one item per line', () => {
  const schema = mastra(
    z.object({
      tags: z.array(z.string().max(10)).max(3).describe('Labels for the ticket'),
      emails: z.array(z.email()).min(1),
      codes: z.array(z.string().regex(/^[A-Z]{3}$/)).optional(),
    }),
  );

  test('a multiline text input with the rule and the limits in the hint', () => {
    const form = buildForm(schema);
    expect(form.fields.map((f) => [f.blockId, f.kind, f.optional])).toEqual([
      ['f:tags', 'list', true],
      ['f:emails', 'list', false],
      ['f:codes', 'list', true],
    ]);
    expect(block(form, 'f:tags')).toMatchObject({
      hint: { text: 'Labels for the ticket. One item per line, at most 3.' },
      element: { type: 'plain_text_input', multiline: true, placeholder: { text: 'One per line' } },
    });
    expect(block(form, 'f:emails').hint?.text).toBe('One item per line, at least 1.');
    expect(block(form, 'f:codes').hint?.text).toBe('One item per line.');
  });

  test('lines are trimmed and empty lines dropped', () => {
    expect(
      submit(schema, {
        'f:tags': text('  red \n\n\nblue\r\ngreen  \n  '),
        'f:emails': text('a@example.com'),
      }),
    ).toEqual({ ok: true, data: { tags: ['red', 'blue', 'green'], emails: ['a@example.com'] } });
  });

  test('a required list left empty is []; optional ones are left out', () => {
    const s = mastra(z.object({ tags: z.array(z.string()), more: z.array(z.string()).optional() }));
    expect(submit(s)).toEqual({ ok: true, data: { tags: [] } });
    expect(submit(s, { 'f:tags': text('\n  \n') })).toEqual({ ok: true, data: { tags: [] } });
  });

  test('list errors show the list as read', () => {
    expect(
      submit(schema, {
        'f:tags': text('a\nb\n c\nd'),
        'f:emails': text(' \n '),
      }),
    ).toEqual({
      ok: false,
      errors: {
        'f:tags': 'Read 4 items: a, b, c, d — at most 3 allowed',
        'f:emails': 'Read no items — at least 1 needed',
      },
    });
  });

  test('an error about one item names it', () => {
    expect(
      submit(schema, {
        'f:tags': text('short\nmuch too long here'),
        'f:emails': text('ok@example.com\nnot-an-email'),
        'f:codes': text('ABC\nabc'),
      }),
    ).toEqual({
      ok: false,
      errors: {
        'f:tags': 'Item 2 “much too long here”: Must be at most 10 characters',
        'f:emails': 'Item 2 “not-an-email”: Must be a valid email address',
        'f:codes': 'Item 2 “abc”: Must match the pattern /^[A-Z]{3}$/',
      },
    });
  });

  test('uniqueItems: a repeated item is named', () => {
    const s: JsonSchema = { type: 'array', items: { type: 'string' }, uniqueItems: true };
    const form = buildForm(s);
    expect(block(form, ROOT_BLOCK_ID).hint?.text).toBe('One item per line, no repeats.');
    expect(submit(s, { [ROOT_BLOCK_ID]: text('a\nb\na') })).toEqual({
      ok: false,
      errors: { [ROOT_BLOCK_ID]: 'Item 3 “a”: Repeats an earlier item' },
    });
  });

  test('a default or a previous answer is shown one per line and comes back unchanged', () => {
    const s = mastra(z.object({ tags: z.array(z.string()).default(['red', 'blue']) }));
    const form = buildForm(s);
    expect(block(form, 'f:tags').element).toMatchObject({ initial_value: 'red\nblue' });
    expect(readSubmission(s, stateFromInitial(form))).toEqual({ ok: true, data: { tags: ['red', 'blue'] } });
    const data = { tags: ['x, y', '“quoted”', '🙂 ok'], emails: ['a@b.co'] };
    expect(roundTrip(schema, data)).toEqual({ ok: true, data });
  });

  test('items one line cannot hold exactly are not shown, and the hint says why', () => {
    const s = mastra(z.object({ tags: z.array(z.string()) }));
    for (const tags of [['two\nlines'], [' padded'], ['']]) {
      const form = buildForm(s, { initial: { tags } });
      expect(block(form, 'f:tags').element).not.toHaveProperty('initial_value');
      expect(block(form, 'f:tags').hint?.text).toMatch(/cannot be shown one per line.*enter it again/);
    }
  });

  test('lists of numbers: one number per line, parsed; what is not a number is named', () => {
    const s = mastra(z.object({ scores: z.array(z.int().min(0)).max(4), weights: z.array(z.number()) }));
    const form = buildForm(s, { initial: { scores: [1, 2], weights: [0.5, 1e21, -3] } });
    expect(block(form, 'f:scores')).toMatchObject({
      hint: { text: 'One whole number per line, at most 4.' },
      element: { initial_value: '1\n2' },
    });
    expect(block(form, 'f:weights').element).toMatchObject({
      initial_value: '0.5\n1000000000000000000000\n-3',
    });
    expect(roundTrip(s, { scores: [1, 2], weights: [0.5, 1e21, -3] })).toEqual({
      ok: true,
      data: { scores: [1, 2], weights: [0.5, 1e21, -3] },
    });
    expect(submit(s, { 'f:scores': text('1\ntwo\n3\n0x10'), 'f:weights': text('1, 2\n.5\n+2e3') })).toEqual({
      ok: false,
      errors: {
        'f:scores': 'Not a number: item 2 “two”, item 4 “0x10” (one number per line)',
        'f:weights': 'Not a number: item 1 “1, 2” (one number per line)',
      },
    });
    expect(submit(s, { 'f:scores': text('1'), 'f:weights': text('.5\n+2e3') })).toEqual({
      ok: true,
      data: { scores: [1], weights: [0.5, 2000] },
    });
    expect(submit(s, { 'f:scores': text('1\n2.5\n-1') })).toEqual({
      ok: false,
      errors: { 'f:scores': 'Item 2 “2.5”: Must be a whole number; Item 3 “-1”: Must be at least 0' },
    });
  });

  test('lists of enums keep their checkboxes; lists of objects stay JSON', () => {
    const s = mastra(
      z.object({
        picks: z.array(z.enum(['a', 'b'])),
        rows: z.array(z.object({ n: z.number() })),
      }),
    );
    expect(buildForm(s).fields.map((f) => f.kind)).toEqual(['multiselect', 'json']);
  });
});

describe('discriminated unions: a choice of variant, then its fields', () => {
  const target = z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('email'), address: z.email(), name: z.string().optional() }),
    z.object({
      kind: z.literal('slack'),
      channel: z.string(),
      name: z.string(),
      urgent: z.boolean().optional(),
    }),
  ]);
  const schema = mastra(z.object({ target, note: z.string().optional() }));

  test('zod’s discriminatedUnion arrives as oneOf of objects with a const tag', () => {
    const wire = (schema.properties as Record<string, JsonSchema>).target as JsonSchema;
    expect(wire.oneOf).toHaveLength(2);
    expect(wire).toMatchObject({
      oneOf: [
        { properties: { kind: { type: 'string', const: 'email' } } },
        { properties: { kind: { type: 'string', const: 'slack' } } },
      ],
    });
  });

  test('the tag is a choice; each variant’s fields follow, labelled by the choice, all optional', () => {
    const form = buildForm(schema);
    expect(form.fields.map((f) => [f.blockId, f.label, f.optional])).toEqual([
      ['f:target.kind', 'Target › Kind', false],
      ['f:target.@0.address', 'Target › If kind is email › Address', true],
      ['f:target.@0.name', 'Target › If kind is email › Name', true],
      ['f:target.@1.channel', 'Target › If kind is slack › Channel', true],
      ['f:target.@1.name', 'Target › If kind is slack › Name', true],
      ['f:target.@1.urgent', 'Target › If kind is slack › Urgent', true],
      ['f:note', 'Note', true],
    ]);
    expect(block(form, 'f:target.kind')).toMatchObject({
      hint: { text: 'Then fill in the fields marked “If …” for your choice.' },
      element: {
        type: 'radio_buttons',
        options: [
          { text: { text: 'email' }, value: 'email' },
          { text: { text: 'slack' }, value: 'slack' },
        ],
      },
    });
    expect(block(form, 'f:target.@0.address').hint?.text).toBe('Required if kind is email.');
    expect(block(form, 'f:target.@0.name').hint).toBeUndefined();
  });

  test('only the chosen variant’s fields are read; the others are ignored', () => {
    expect(
      submit(schema, {
        'f:target.kind': option('slack'),
        'f:target.@0.address': text('not even an email'),
        'f:target.@0.name': text('Ignored'),
        'f:target.@1.channel': text('#ops'),
        'f:target.@1.name': text('Ops'),
        'f:target.@1.urgent': option('true'),
      }),
    ).toEqual({ ok: true, data: { target: { kind: 'slack', channel: '#ops', name: 'Ops', urgent: true } } });
  });

  test('errors point at the chosen variant’s fields', () => {
    expect(submit(schema, { 'f:target.kind': option('email'), 'f:target.@1.name': text('x') })).toEqual({
      ok: false,
      errors: { 'f:target.@0.address': 'Required' },
    });
    expect(submit(schema, { 'f:target.kind': option('email'), 'f:target.@0.address': text('nope') })).toEqual(
      { ok: false, errors: { 'f:target.@0.address': 'Must be a valid email address' } },
    );
    // Same property name in both variants: the error is on the chosen one's block.
    expect(submit(schema, { 'f:target.kind': option('slack'), 'f:target.@1.channel': text('#c') })).toEqual({
      ok: false,
      errors: { 'f:target.@1.name': 'Required' },
    });
  });

  test('no choice: "Required" on the choice; fields filled without a choice are not dropped silently', () => {
    expect(submit(schema)).toEqual({ ok: false, errors: { 'f:target.kind': 'Required' } });
    const optional = mastra(z.object({ target: target.optional() }));
    expect(submit(optional)).toEqual({ ok: true, data: {} });
    expect(submit(optional, { 'f:target.@1.channel': text('#ops') })).toEqual({
      ok: false,
      errors: { 'f:target.kind': 'Choose one for the fields you filled in' },
    });
    const nullable = mastra(z.object({ target: target.nullable() }));
    expect(buildForm(nullable).fields[0]).toMatchObject({ blockId: 'f:target.kind', optional: true });
    expect(submit(nullable)).toEqual({ ok: true, data: { target: null } });
  });

  test('pre-filled from a previous answer or a default, and back unchanged', () => {
    const data = { target: { kind: 'slack', channel: '#ops', name: 'Ops' }, note: 'n' };
    const form = buildForm(schema, { initial: data });
    expect(block(form, 'f:target.kind').element).toMatchObject({ initial_option: { value: 'slack' } });
    expect(block(form, 'f:target.@1.channel').element).toMatchObject({ initial_value: '#ops' });
    expect(block(form, 'f:target.@0.name').element).not.toHaveProperty('initial_value');
    expect(roundTrip(schema, data)).toEqual({ ok: true, data });

    const withDefault = mastra(z.object({ target: target.default({ kind: 'email', address: 'a@b.co' }) }));
    const d = buildForm(withDefault);
    expect(block(d, 'f:target.kind').element).toMatchObject({ initial_option: { value: 'email' } });
    expect(block(d, 'f:target.@0.address').element).toMatchObject({ initial_value: 'a@b.co' });
  });

  test('z.union of objects tagged with z.literal (anyOf) works the same, at the top level too', () => {
    const s = mastra(
      z.union([
        z.object({ type: z.literal('refund'), amount: z.number().positive() }),
        z.object({ type: z.literal('replace'), sku: z.string() }),
        z.object({ type: z.literal('none') }),
      ]),
    );
    expect(s.anyOf).toHaveLength(3);
    const form = buildForm(s);
    expect(form.fields.map((f) => [f.blockId, f.label])).toEqual([
      ['f:type', 'Type'],
      ['f:@0.amount', 'If type is refund › Amount'],
      ['f:@1.sku', 'If type is replace › Sku'],
    ]);
    expect(submit(s, { 'f:type': option('none') })).toEqual({ ok: true, data: { type: 'none' } });
    expect(submit(s, { 'f:type': option('refund'), 'f:@0.amount': text('-5') })).toEqual({
      ok: false,
      errors: { 'f:@0.amount': 'Must be greater than 0' },
    });
    expect(roundTrip(s, { type: 'refund', amount: 12.5 })).toEqual({
      ok: true,
      data: { type: 'refund', amount: 12.5 },
    });
  });

  test('a variant selected by several tag values, and a union nested inside a variant', () => {
    const s = mastra(
      z.object({
        action: z.discriminatedUnion('op', [
          z.object({ op: z.literal(['add', 'remove']), item: z.string() }),
          z.object({
            op: z.literal('move'),
            to: z.discriminatedUnion('where', [
              z.object({ where: z.literal('shelf'), shelf: z.int() }),
              z.object({ where: z.literal('bin') }),
            ]),
          }),
        ]),
      }),
    );
    const form = buildForm(s);
    expect(form.fields.map((f) => [f.blockId, f.label])).toEqual([
      ['f:action.op', 'Action › Op'],
      ['f:action.@0.item', 'Action › If op is add or remove › Item'],
      ['f:action.@1.to.where', 'Action › If op is move › To › Where'],
      ['f:action.@1.to.@0.shelf', 'Action › If op is move › To › If where is shelf › Shelf'],
    ]);
    expect(block(form, 'f:action.op').element).toMatchObject({
      options: [{ value: 'add' }, { value: 'remove' }, { value: 'move' }],
    });
    expect(submit(s, { 'f:action.op': option('remove'), 'f:action.@0.item': text('x') })).toEqual({
      ok: true,
      data: { action: { op: 'remove', item: 'x' } },
    });
    expect(submit(s, { 'f:action.op': option('move'), 'f:action.@1.to.where': option('shelf') })).toEqual({
      ok: false,
      errors: { 'f:action.@1.to.@0.shelf': 'Required' },
    });
    expect(submit(s, { 'f:action.op': option('move') })).toEqual({
      ok: false,
      errors: { 'f:action.@1.to.where': 'Required' },
    });
    const data = { action: { op: 'move', to: { where: 'shelf', shelf: 3 } } };
    expect(roundTrip(s, data)).toEqual({ ok: true, data });
  });

  test('variants with nothing but their tag: just the choice, no hint about fields', () => {
    const s = mastra(
      z.object({
        mode: z.discriminatedUnion('m', [
          z.object({ m: z.literal('on') }),
          z.object({ m: z.literal('off') }),
        ]),
      }),
    );
    const form = buildForm(s);
    expect(form.fields.map((f) => f.blockId)).toEqual(['f:mode.m']);
    expect(block(form, 'f:mode.m').hint).toBeUndefined();
    expect(submit(s, { 'f:mode.m': option('off') })).toEqual({ ok: true, data: { mode: { m: 'off' } } });
  });

  test('unions that are not discriminated stay JSON, with their shapes in the hint', () => {
    const s = mastra(z.object({ v: z.union([z.object({ a: z.string() }), z.object({ b: z.int() })]) }));
    const form = buildForm(s);
    expect(form.fields[0]).toMatchObject({ kind: 'json' });
    expect(block(form, 'f:v').hint?.text).toBe('Enter JSON, one of: {"a": "…"} or {"b": 0}.');
  });

  test('too big for the form: the union becomes one JSON field, still checked as the variant chosen', () => {
    const s = mastra(z.object({ target, note: z.string().optional() }));
    const form = buildForm(s, { maxBlocks: 2 });
    expect(form.fields.map((f) => [f.blockId, f.kind])).toEqual([
      ['f:target', 'json'],
      ['f:note', 'text'],
    ]);
    expect(submit(s, { 'f:target': text('{"kind": "email", "address": "nope"}') }, { maxBlocks: 2 })).toEqual(
      { ok: false, errors: { 'f:target': 'address: Must be a valid email address' } },
    );
    expect(
      submit(s, { 'f:target': text('{"kind": "slack", "channel": "#c", "name": "C"}') }, { maxBlocks: 2 }),
    ).toEqual({ ok: true, data: { target: { kind: 'slack', channel: '#c', name: 'C' } } });
  });

  test('a list inside a variant', () => {
    const s = mastra(
      z.discriminatedUnion('mode', [
        z.object({ mode: z.literal('some'), names: z.array(z.string()).min(1).max(2) }),
        z.object({ mode: z.literal('all') }),
      ]),
    );
    expect(submit(s, { 'f:mode': option('some'), 'f:@0.names': text('a\nb\nc') })).toEqual({
      ok: false,
      errors: { 'f:@0.names': 'Read 3 items: a, b, c — at most 2 allowed' },
    });
    expect(submit(s, { 'f:mode': option('some'), 'f:@0.names': text('a\nb') })).toEqual({
      ok: true,
      data: { mode: 'some', names: ['a', 'b'] },
    });
  });
});
