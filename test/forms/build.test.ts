import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { buildForm, type Form, humanize, ROOT_BLOCK_ID, readSubmission } from '../../src/forms/index.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';
import { SLACK_LIMITS } from '../../src/slack/limits.ts';

/** A zod schema as Mastra sends it: draft-07 JSON Schema with `$schema`. */
function wire(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: 'draft-07' }) as JsonSchema;
}

function block(form: Form, blockId: string) {
  const b = form.blocks.find((x) => x.block_id === blockId);
  if (b === undefined)
    throw new Error(`no block ${blockId} in ${form.blocks.map((x) => x.block_id).join(', ')}`);
  return b;
}

function el(form: Form, blockId: string): Record<string, unknown> {
  return block(form, blockId).element as unknown as Record<string, unknown>;
}

describe('strings', () => {
  test('plain string → plain_text_input with length bounds', () => {
    const form = buildForm(wire(z.object({ name: z.string().min(2).max(50) })));
    expect(form.blocks).toEqual([
      {
        type: 'input',
        block_id: 'f:name',
        label: { type: 'plain_text', text: 'Name', emoji: true },
        optional: false,
        element: { type: 'plain_text_input', action_id: 'value', min_length: 2, max_length: 50 },
      },
    ]);
  });

  test('maxLength above 3000 is capped; a minLength above the cap is dropped', () => {
    const form = buildForm(wire(z.object({ a: z.string().max(10_000), b: z.string().min(4000) })));
    expect(el(form, 'f:a')).toMatchObject({ max_length: 3000, multiline: true });
    expect(el(form, 'f:b')).not.toHaveProperty('min_length');
  });

  test('multiline when maxLength > 200, or no maxLength and a prose name', () => {
    const form = buildForm(
      wire(
        z.object({
          title: z.string(),
          body: z.string().max(201),
          short: z.string().max(200),
          reason: z.string(),
          rejectionReason: z.string(),
          comment: z.string().max(80),
        }),
      ),
    );
    expect(el(form, 'f:title').multiline).toBeUndefined();
    expect(el(form, 'f:body').multiline).toBe(true);
    expect(el(form, 'f:short').multiline).toBeUndefined();
    expect(el(form, 'f:reason').multiline).toBe(true);
    expect(el(form, 'f:rejectionReason').multiline).toBe(true);
    expect(el(form, 'f:comment').multiline).toBeUndefined();
  });

  test('formats: email, url, date, date-time, time', () => {
    const form = buildForm(
      wire(
        z.object({
          email: z.email(),
          site: z.url(),
          day: z.iso.date(),
          at: z.iso.datetime(),
          time: z.iso.time(),
        }),
      ),
      {
        initial: {
          email: 'a@b.co',
          site: 'https://x.dev/',
          day: '2024-05-01',
          at: '2024-05-01T09:30:00Z',
          time: '14:05:59',
        },
      },
    );
    expect(el(form, 'f:email')).toEqual({
      type: 'email_text_input',
      action_id: 'value',
      initial_value: 'a@b.co',
    });
    expect(el(form, 'f:site')).toEqual({
      type: 'url_text_input',
      action_id: 'value',
      initial_value: 'https://x.dev/',
    });
    expect(el(form, 'f:day')).toEqual({ type: 'datepicker', action_id: 'value', initial_date: '2024-05-01' });
    expect(el(form, 'f:at')).toEqual({
      type: 'datetimepicker',
      action_id: 'value',
      initial_date_time: 1714555800,
    });
    expect(el(form, 'f:time')).toEqual({ type: 'timepicker', action_id: 'value', initial_time: '14:05' });
  });

  test('format: time (plain JSON Schema) → timepicker; datetime with an offset pre-fills the same instant', () => {
    const form = buildForm(
      {
        type: 'object',
        properties: { t: { type: 'string', format: 'time' }, at: { type: 'string', format: 'date-time' } },
      },
      { initial: { t: '08:15:00+02:00', at: '2024-05-01T11:30:00+02:00' } },
    );
    expect(el(form, 'f:t')).toEqual({ type: 'timepicker', action_id: 'value', initial_time: '08:15' });
    expect(el(form, 'f:at').initial_date_time).toBe(1714555800);
  });
});

describe('enums', () => {
  test('≤ 5 options → radio_buttons; 6–100 → static_select', () => {
    const six = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
    const form = buildForm(
      wire(z.object({ priority: z.enum(['low', 'medium', 'high']), letter: z.enum(six) })),
      {
        initial: { priority: 'medium', letter: 'f' },
      },
    );
    const opt = (v: string) => ({ text: { type: 'plain_text', text: v, emoji: true }, value: v });
    expect(el(form, 'f:priority')).toEqual({
      type: 'radio_buttons',
      action_id: 'value',
      options: [opt('low'), opt('medium'), opt('high')],
      initial_option: opt('medium'),
    });
    expect(el(form, 'f:letter')).toEqual({
      type: 'static_select',
      action_id: 'value',
      options: six.map(opt),
      initial_option: opt('f'),
    });
  });

  test('more than 100 options → a text field that lists the allowed values', () => {
    const values = Array.from({ length: 101 }, (_, i) => `v${i}`);
    const form = buildForm(wire(z.object({ code: z.enum(values as [string, ...string[]]) })), {
      initial: { code: 'v7' },
    });
    const e = el(form, 'f:code');
    expect(e.type).toBe('plain_text_input');
    expect(e.initial_value).toBe('v7');
    expect((e.placeholder as { text: string }).text).toBe('e.g. v0, v1, v2, v3, v4, … (96 more)');
    expect(block(form, 'f:code').hint?.text).toMatch(/^One of: v0, v1, .* v59, … \(41 more\)$/);
  });

  test('values longer than 75 characters: options use index values and truncated text', () => {
    const long = `${'x'.repeat(100)}!`;
    const form = buildForm(wire(z.object({ pick: z.enum(['short', long]) })), { initial: { pick: long } });
    const e = el(form, 'f:pick') as {
      options: { text: { text: string }; value: string }[];
      initial_option: unknown;
    };
    expect(e.options.map((o) => o.value)).toEqual(['0', '1']);
    expect(e.options[1]?.text.text).toBe(`${'x'.repeat(74)}…`);
    expect(e.initial_option).toEqual(e.options[1]);
  });

  test('numbers, booleans, literals and unions of literals are choices too', () => {
    const form = buildForm(
      wire(
        z.object({
          level: z.union([z.literal(1), z.literal(2), z.literal(3)]),
          kind: z.literal('fixed'),
          flag: z.enum({ On: 'on', Off: 'off' }),
        }),
      ),
      { initial: { level: 2 } },
    );
    const level = el(form, 'f:level') as {
      options: { text: { text: string }; value: string }[];
      initial_option: unknown;
    };
    expect(level.options.map((o) => [o.text.text, o.value])).toEqual([
      ['1', '0'],
      ['2', '1'],
      ['3', '2'],
    ]);
    expect(level.initial_option).toEqual(level.options[1]);
    expect(el(form, 'f:kind').type).toBe('radio_buttons');
    expect(el(form, 'f:flag').type).toBe('radio_buttons');
  });

  test('an empty or blank string value gets a visible option text', () => {
    const form = buildForm({ type: 'object', properties: { s: { type: 'string', enum: ['', ' ', 'a'] } } });
    const e = el(form, 'f:s') as { options: { text: { text: string }; value: string }[] };
    expect(e.options.map((o) => o.text.text)).toEqual(['""', '" "', 'a']);
    expect(e.options.map((o) => o.value)).toEqual(['0', '1', '2']);
  });
});

describe('numbers', () => {
  test('integer → whole numbers only, zod’s ±2^53−1 bounds omitted', () => {
    const form = buildForm(wire(z.object({ count: z.number().int() })), { initial: { count: 42 } });
    expect(el(form, 'f:count')).toEqual({
      type: 'number_input',
      action_id: 'value',
      is_decimal_allowed: false,
      initial_value: '42',
    });
  });

  test('number → decimals allowed, min/max as strings; exclusive bounds tightened for integers', () => {
    const form = buildForm(
      wire(
        z.object({
          score: z.number().min(0).max(10),
          n: z.number().int().gt(0).lt(100),
          x: z.number().gt(0.5),
        }),
      ),
    );
    expect(el(form, 'f:score')).toEqual({
      type: 'number_input',
      action_id: 'value',
      is_decimal_allowed: true,
      min_value: '0',
      max_value: '10',
    });
    expect(el(form, 'f:n')).toMatchObject({ min_value: '1', max_value: '99' });
    expect(el(form, 'f:x')).toMatchObject({ min_value: '0.5' });
  });

  test('very large or very small numbers are written without an exponent', () => {
    const form = buildForm(wire(z.object({ big: z.number(), tiny: z.number() })), {
      initial: { big: 1e21, tiny: 1.5e-7 },
    });
    expect(el(form, 'f:big').initial_value).toBe('1000000000000000000000');
    expect(el(form, 'f:tiny').initial_value).toBe('0.00000015');
  });

  test('initial values Slack would reject (out of range, fractional integer) are not pre-filled', () => {
    const form = buildForm(wire(z.object({ a: z.number().max(10), b: z.number().int() })), {
      initial: { a: 11, b: 1.5 },
    });
    expect(el(form, 'f:a')).not.toHaveProperty('initial_value');
    expect(el(form, 'f:b')).not.toHaveProperty('initial_value');
  });
});

describe('booleans', () => {
  const yes = { text: { type: 'plain_text', text: 'Yes', emoji: true }, value: 'true' };
  const no = { text: { type: 'plain_text', text: 'No', emoji: true }, value: 'false' };

  test('a Yes/No choice, required without default, pre-set from default or initial', () => {
    const form = buildForm(
      wire(z.object({ approved: z.boolean(), notify: z.boolean().default(true), urgent: z.boolean() })),
      {
        initial: { urgent: false },
      },
    );
    expect(block(form, 'f:approved')).toMatchObject({
      optional: false,
      element: { type: 'radio_buttons', action_id: 'value', options: [yes, no] },
    });
    expect(el(form, 'f:approved')).not.toHaveProperty('initial_option');
    expect(block(form, 'f:notify')).toMatchObject({ optional: true, element: { initial_option: yes } });
    expect(block(form, 'f:urgent')).toMatchObject({ optional: false, element: { initial_option: no } });
  });

  test('an optional boolean may be left unanswered', () => {
    const form = buildForm(wire(z.object({ cc: z.boolean().optional() })));
    expect(block(form, 'f:cc').optional).toBe(true);
  });
});

describe('lists of choices', () => {
  test('≤ 10 options → checkboxes; more → multi_static_select with max_selected_items', () => {
    const many = Array.from({ length: 12 }, (_, i) => `t${i}`) as [string, ...string[]];
    const form = buildForm(
      wire(
        z.object({
          tags: z.array(z.enum(['a', 'b', 'c'])).default([]),
          topics: z.array(z.enum(many)).min(1).max(3),
        }),
      ),
      { initial: { tags: ['c', 'a'], topics: ['t11'] } },
    );
    const opt = (v: string) => ({ text: { type: 'plain_text', text: v, emoji: true }, value: v });
    expect(block(form, 'f:tags')).toMatchObject({
      optional: true,
      element: { type: 'checkboxes', initial_options: [opt('a'), opt('c')] },
    });
    expect(block(form, 'f:topics')).toMatchObject({
      optional: false,
      element: { type: 'multi_static_select', max_selected_items: 3, initial_options: [opt('t11')] },
    });
  });

  test('a required list with no minimum may be left empty (meaning [])', () => {
    const form = buildForm(wire(z.object({ tags: z.array(z.enum(['a', 'b'])) })));
    expect(block(form, 'f:tags').optional).toBe(true);
  });

  test('more than 100 choices → a JSON field', () => {
    const values = Array.from({ length: 101 }, (_, i) => `v${i}`) as [string, ...string[]];
    const form = buildForm(wire(z.object({ picks: z.array(z.enum(values)) })));
    expect(form.fields[0]?.kind).toBe('json');
  });
});

describe('nested objects', () => {
  test('fields labelled by path, titles and descriptions used, block ids from the path', () => {
    const schema = wire(
      z.object({
        address: z
          .object({
            city: z.string().describe('Where you live'),
            zipCode: z.string().meta({ title: 'ZIP' }),
            geo: z.object({ lat: z.number(), lng: z.number() }),
          })
          .meta({ title: 'Home address' }),
      }),
    );
    const form = buildForm(schema);
    expect(form.blocks.map((b) => [b.block_id, b.label.text, b.hint?.text])).toEqual([
      ['f:address.city', 'Home address › City', 'Where you live'],
      ['f:address.zipCode', 'Home address › ZIP', undefined],
      ['f:address.geo.lat', 'Home address › Geo › Lat', undefined],
      ['f:address.geo.lng', 'Home address › Geo › Lng', undefined],
    ]);
    expect(form.fields.map((f) => f.path)).toEqual([
      ['address', 'city'],
      ['address', 'zipCode'],
      ['address', 'geo', 'lat'],
      ['address', 'geo', 'lng'],
    ]);
  });

  test('fields inside an optional or nullable object are optional', () => {
    const form = buildForm(
      wire(
        z.object({
          a: z.object({ x: z.string() }).optional(),
          b: z.object({ y: z.string() }).nullable(),
          c: z.object({ z: z.string() }),
        }),
      ),
    );
    expect(form.blocks.map((b) => [b.block_id, b.optional])).toEqual([
      ['f:a.x', true],
      ['f:b.y', true],
      ['f:c.z', false],
    ]);
  });

  test('defaults inside an optional object are shown only when the object is in the initial data', () => {
    const schema = wire(z.object({ opts: z.object({ mode: z.string().default('fast') }).optional() }));
    expect(el(buildForm(schema), 'f:opts.mode')).not.toHaveProperty('initial_value');
    expect(el(buildForm(schema, { initial: { opts: {} } }), 'f:opts.mode').initial_value).toBe('fast');
    const required = wire(z.object({ opts: z.object({ mode: z.string().default('fast') }) }));
    expect(el(buildForm(required), 'f:opts.mode').initial_value).toBe('fast');
  });

  test('an object default pre-fills its fields', () => {
    const schema = wire(
      z.object({ opts: z.object({ mode: z.string(), level: z.number() }).default({ mode: 'a', level: 2 }) }),
    );
    const form = buildForm(schema);
    expect(el(form, 'f:opts.mode').initial_value).toBe('a');
    expect(el(form, 'f:opts.level').initial_value).toBe('2');
  });
});

describe('JSON fields for what inputs cannot express', () => {
  const cases: [string, z.ZodType, string, string][] = [
    [
      'array of objects',
      z.array(z.object({ name: z.string(), qty: z.number() })),
      '[{"name": "…", "qty": 0}, …]',
      'Enter JSON.',
    ],
    ['array of nullable strings', z.array(z.string().nullable()), '["…", …]', 'Enter JSON.'],
    ['union', z.union([z.string(), z.number()]), 'JSON value', 'Enter JSON.'],
    ['record', z.record(z.string(), z.number()), '{"key": 0}', 'Enter JSON.'],
    [
      'union of objects without a tag',
      z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
      'JSON value',
      'Enter JSON, one of: {"a": "…"} or {"b": 0}.',
    ],
    [
      'union of objects whose tags overlap',
      z.union([
        z.object({ kind: z.enum(['a', 'b']), x: z.string() }),
        z.object({ kind: z.enum(['b', 'c']), y: z.string() }),
      ]),
      'JSON value',
      'Enter JSON, one of: {"kind": "a", "x": "…"} or {"kind": "b", "y": "…"}.',
    ],
    ['object with catchall', z.object({ a: z.string() }).catchall(z.number()), '{"a": "…"}', 'Enter JSON.'],
    ['tuple', z.tuple([z.string(), z.number()]), '["…", 0]', 'Enter JSON.'],
  ];
  test.each(cases)('%s → multiline JSON text', (_name, zod, placeholder, hint) => {
    const form = buildForm(wire(z.object({ value: zod })), { initial: undefined });
    expect(form.fields[0]).toMatchObject({ kind: 'json', path: ['value'] });
    expect(block(form, 'f:value')).toMatchObject({
      hint: { text: hint },
      element: { type: 'plain_text_input', multiline: true, placeholder: { text: placeholder } },
    });
  });

  test('$ref → JSON field, pre-filled with pretty JSON', () => {
    const schema: JsonSchema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { Item: { type: 'object', properties: { id: { type: 'string' } } } },
      type: 'object',
      properties: { item: { $ref: '#/definitions/Item' } },
    };
    const form = buildForm(schema, { initial: { item: { id: 'x' } } });
    expect(el(form, 'f:item').initial_value).toBe('{\n  "id": "x"\n}');
  });

  test('JSON longer than Slack’s 3000 characters when pretty is pre-filled compact', () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ n: i }));
    const form = buildForm(wire(z.object({ items: z.array(z.object({ n: z.number() })) })), {
      initial: { items },
    });
    expect(el(form, 'f:items').initial_value).toBe(JSON.stringify(items));
  });

  test('a default too long for its input is left out, and the hint says leaving it empty keeps it', () => {
    const long = 'x'.repeat(5000);
    const items = Array.from({ length: 1000 }, (_, i) => ({ n: i }));
    const schema = wire(
      z.object({
        note: z.string().default(long).describe('What to say'),
        items: z.array(z.object({ n: z.number() })).default(items),
        short: z.string().max(3).default('four'),
      }),
    );
    const form = buildForm(schema);
    for (const id of ['f:note', 'f:items', 'f:short']) {
      expect(el(form, id)).not.toHaveProperty('initial_value');
      expect(block(form, id).optional).toBe(true);
    }
    expect(block(form, 'f:note').hint?.text).toBe(
      'What to say The default (5000 characters) is too long to show here; leave this empty to use it.',
    );
    expect(block(form, 'f:items').hint?.text).toContain(
      `The default (${JSON.stringify(items).length} characters) is too long`,
    );
    expect(block(form, 'f:short').hint?.text).toContain('The default (4 characters) is too long');
    // Left empty, the field is left out and the schema's default applies.
    const result = readSubmission(schema, { 'f:note': {}, 'f:items': {}, 'f:short': {} });
    expect(result).toMatchObject({ ok: true, data: { note: long, items, short: 'four' } });
  });

  test('a long description gives way in the hint; the note about a value too long stays whole', () => {
    const schema = wire(z.object({ note: z.string().describe('d'.repeat(3000)) }));
    const hint = block(buildForm(schema, { initial: { note: 'v'.repeat(3001) } }), 'f:note').hint!.text;
    expect(hint.length).toBeLessThanOrEqual(SLACK_LIMITS.hint);
    expect(hint).toMatch(/d… The current value \(3001 characters\) is too long to show here\.$/);
    // Exactly at the limit, it is shown.
    expect(
      el(buildForm(schema, { initial: { note: 'v'.repeat(3000) } }), 'f:note').initial_value,
    ).toHaveLength(3000);
  });

  test('nullable wrappers are not unions: anyOf [X, null] maps like X', () => {
    const form = buildForm(
      wire(z.object({ level: z.enum(['a', 'b']).nullable(), n: z.number().nullable() })),
    );
    expect(el(form, 'f:level').type).toBe('radio_buttons');
    expect(el(form, 'f:n').type).toBe('number_input');
    expect(form.blocks.every((b) => b.optional)).toBe(true);
  });
});

describe('top level', () => {
  test('a bare string schema is one field holding the whole value', () => {
    const form = buildForm(wire(z.string().max(20)), { initial: 'hi' });
    expect(form.blocks).toEqual([
      {
        type: 'input',
        block_id: ROOT_BLOCK_ID,
        label: { type: 'plain_text', text: 'Value', emoji: true },
        optional: false,
        element: { type: 'plain_text_input', action_id: 'value', max_length: 20, initial_value: 'hi' },
      },
    ]);
    expect(form.fields[0]?.path).toEqual([]);
  });

  test('a bare number with a title', () => {
    const form = buildForm(wire(z.number().meta({ title: 'Amount' })), { initial: 3 });
    expect(block(form, ROOT_BLOCK_ID)).toMatchObject({
      label: { text: 'Amount' },
      element: { initial_value: '3' },
    });
  });

  test('a bare value without a title is named by its short description', () => {
    const form = buildForm(wire(z.string().describe('Path of the file to check')));
    expect(block(form, ROOT_BLOCK_ID)).toMatchObject({ label: { text: 'Path of the file to check' } });
    const long = buildForm(wire(z.string().describe('x'.repeat(200))));
    expect(block(long, ROOT_BLOCK_ID)).toMatchObject({ label: { text: 'Value' } });
  });

  test('an object without properties, or an empty schema, is a JSON field', () => {
    expect(buildForm({ type: 'object' }).fields[0]).toMatchObject({ kind: 'json', blockId: ROOT_BLOCK_ID });
    expect(buildForm({}).fields[0]).toMatchObject({ kind: 'json', blockId: ROOT_BLOCK_ID });
  });

  test('an object with no properties gives no blocks', () => {
    expect(buildForm(wire(z.object({}))).blocks).toEqual([]);
  });
});

describe('labels, hints and ids', () => {
  test('property names made readable', () => {
    expect(humanize('requestId')).toBe('Request id');
    expect(humanize('due_date')).toBe('Due date');
    expect(humanize('URLPath')).toBe('Url path');
    expect(humanize('already readable')).toBe('Already readable');
    expect(humanize('__')).toBe('__');
    expect(humanize('')).toBe('Value');
  });

  test('long titles and descriptions are trimmed to Slack’s limits', () => {
    const form = buildForm({
      type: 'object',
      properties: { a: { type: 'string', title: 't'.repeat(5000), description: 'd'.repeat(5000) } },
    });
    const b = block(form, 'f:a');
    expect(b.label.text.length).toBeLessThanOrEqual(SLACK_LIMITS.label);
    expect(b.label.text.endsWith('…')).toBe(true);
    expect(b.hint?.text.length).toBe(SLACK_LIMITS.hint);
  });

  test('block ids are unique for keys with dots and escapes, stable, and hashed when long', () => {
    const long = 'k'.repeat(300);
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        'a.b': { type: 'string' },
        a: { type: 'object', properties: { b: { type: 'string' } } },
        '%2E': { type: 'string' },
        '.': { type: 'string' },
        [long]: { type: 'string' },
        [`${long}x`]: { type: 'string' },
      },
    };
    const ids = buildForm(schema).blocks.map((b) => b.block_id as string);
    expect(ids.slice(0, 4)).toEqual(['f:a%2Eb', 'f:a.b', 'f:%252E', 'f:%2E']);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(255);
    expect(ids[4]).toMatch(/^f:k+#[0-9a-f]{40}$/);
    expect(buildForm(schema).blocks.map((b) => b.block_id)).toEqual(ids);
  });
});

describe('block budget', () => {
  function wide(n: number, prefix = 'f'): Record<string, z.ZodType> {
    return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, z.string()]));
  }

  test('a nested object that does not fit becomes one JSON field (the smallest that suffices)', () => {
    // 60 + 30 + 20 = 110 fields for 95 blocks: collapsing either object would do; the smaller one goes.
    const schema = wire(
      z.object({ ...wide(60), big: z.object(wide(30, 'b')), mid: z.object(wide(20, 'm')) }),
    );
    const form = buildForm(schema);
    expect(form.blocks).toHaveLength(91);
    expect(form.fields.find((f) => f.blockId === 'f:mid')).toMatchObject({ kind: 'json', label: 'Mid' });
    expect(form.fields.filter((f) => f.path[0] === 'big')).toHaveLength(30);
  });

  test('when no single object is enough, the largest goes first, then the next', () => {
    // 90 + 20 + 8 = 118: collapsing `big` leaves 99, still too many, so `small` goes too.
    const schema = wire(
      z.object({ ...wide(90), big: z.object(wide(20, 'b')), small: z.object(wide(8, 's')) }),
    );
    const form = buildForm(schema);
    expect(form.blocks).toHaveLength(92);
    expect(form.fields.filter((f) => f.kind === 'json').map((f) => f.blockId)).toEqual(['f:big', 'f:small']);
  });

  test('the caller’s maxBlocks is respected', () => {
    const schema = wire(z.object({ a: z.object(wide(5)), b: z.object(wide(5)), c: z.string() }));
    expect(buildForm(schema).blocks).toHaveLength(11);
    const form = buildForm(schema, { maxBlocks: 7 });
    expect(form.blocks.map((b) => b.block_id)).toEqual([
      'f:a',
      'f:b.f0',
      'f:b.f1',
      'f:b.f2',
      'f:b.f3',
      'f:b.f4',
      'f:c',
    ]);
  });

  test('too many top-level fields → a single JSON field for the whole value', () => {
    const form = buildForm(wire(z.object(wide(120))), { initial: { f0: 'x' } });
    expect(form.blocks).toHaveLength(1);
    expect(form.fields[0]).toMatchObject({ kind: 'json', path: [], blockId: ROOT_BLOCK_ID });
    expect(el(form, ROOT_BLOCK_ID).initial_value).toBe('{\n  "f0": "x"\n}');
  });
});
