import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { buildForm, ROOT_BLOCK_ID, readSubmission, stateFromInitial } from '../../src/forms/index.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';
import { option, submit, text } from './helpers.ts';

function wire(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: 'draft-07' }) as JsonSchema;
}

const options = (...values: string[]) => ({
  selected_options: values.map((value) => ({ text: { type: 'plain_text', text: value }, value })),
});

/** The resume schema of the reference approval workflow (docs/mastra.md, Workflow details and schemas). */
const approvalSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    approved: { type: 'boolean' },
    comment: { type: 'string' },
    priority: { type: 'string', enum: ['low', 'medium', 'high'] },
    score: { type: 'number' },
  },
  required: ['approved', 'comment', 'priority', 'score'],
  additionalProperties: false,
};

describe('typed data from the state', () => {
  test('the reference resume schema', () => {
    const result = submit(approvalSchema, {
      'f:approved': option('true'),
      'f:comment': text('LGTM'),
      'f:priority': option('high'),
      'f:score': text('4.5'),
    });
    expect(result).toEqual({
      ok: true,
      data: { approved: true, comment: 'LGTM', priority: 'high', score: 4.5 },
    });
  });

  test('every element type converts to its typed value', () => {
    const schema = wire(
      z.object({
        name: z.string(),
        email: z.email(),
        site: z.url(),
        count: z.number().int(),
        ratio: z.number(),
        ok: z.boolean(),
        level: z.enum(['a', 'b', 'c', 'd', 'e', 'f']),
        size: z.union([z.literal(1), z.literal(2)]),
        tags: z.array(z.enum(['x', 'y', 'z'])),
        day: z.iso.date(),
        at: z.iso.datetime(),
        time: z.iso.time(),
        items: z.array(z.object({ id: z.string() })),
      }),
    );
    const result = submit(schema, {
      'f:name': text('Ada'),
      'f:email': text('ada@example.com'),
      'f:site': text('https://example.com/x'),
      'f:count': text('7'),
      'f:ratio': text('-0.25'),
      'f:ok': option('false'),
      'f:level': option('e'),
      'f:size': option('1'),
      'f:tags': options('z', 'x', 'z'),
      'f:day': { selected_date: '2024-02-29' },
      'f:at': { selected_date_time: 1714555800 },
      'f:time': { selected_time: '09:05' },
      'f:items': text(' [{"id": "a"}] '),
    });
    expect(result).toEqual({
      ok: true,
      data: {
        name: 'Ada',
        email: 'ada@example.com',
        site: 'https://example.com/x',
        count: 7,
        ratio: -0.25,
        ok: false,
        level: 'e',
        size: 2,
        tags: ['x', 'z'], // schema order, no duplicates
        day: '2024-02-29',
        at: '2024-05-01T09:30:00Z',
        time: '09:05',
        items: [{ id: 'a' }],
      },
    });
  });

  test('date-times and times take the first spelling the schema accepts', () => {
    const schema = wire(
      z.object({
        ms: z.iso.datetime({ precision: 3 }),
        local: z.iso.datetime({ local: true }),
        minutes: z.iso.datetime({ precision: -1 }),
        offset: z.iso.datetime({ offset: true }),
      }),
    );
    const t = { type: 'string', format: 'time' };
    const at = { selected_date_time: 1714555800 };
    const result = submit(
      { ...schema, properties: { ...(schema.properties as object), t } },
      { 'f:ms': at, 'f:local': at, 'f:minutes': at, 'f:offset': at, 'f:t': { selected_time: '23:59' } },
    );
    expect(result).toEqual({
      ok: true,
      data: {
        ms: '2024-05-01T09:30:00.000Z',
        local: '2024-05-01T09:30:00Z',
        minutes: '2024-05-01T09:30Z',
        offset: '2024-05-01T09:30:00Z',
        t: '23:59:00Z',
      },
    });
  });

  test('empty optional fields are left out; a required nullable field left empty is null', () => {
    const schema = wire(
      z.object({
        note: z.string().optional(),
        count: z.number().optional(),
        pick: z.enum(['a', 'b']).optional(),
        when: z.iso.date().nullable(),
        tags: z.array(z.enum(['x', 'y'])),
        maybeTags: z.array(z.enum(['x', 'y'])).optional(),
      }),
    );
    expect(submit(schema)).toEqual({ ok: true, data: { when: null, tags: [] } });
    expect(submit(schema, { 'f:note': text('') })).toEqual({ ok: true, data: { when: null, tags: [] } });
  });

  test('defaults fill what was left empty (zod applies them)', () => {
    const schema = wire(
      z.object({ tags: z.array(z.string()).default([]), mode: z.string().default('fast') }),
    );
    expect(submit(schema, { 'f:mode': text(null) })).toEqual({ ok: true, data: { tags: [], mode: 'fast' } });
  });

  test('nested objects are rebuilt; an optional object with nothing entered is left out', () => {
    const schema = wire(
      z.object({
        to: z.object({ city: z.string(), zip: z.string().optional() }),
        billing: z.object({ city: z.string(), zip: z.string().optional() }).optional(),
        alt: z.object({ city: z.string() }).nullable(),
      }),
    );
    expect(submit(schema, { 'f:to.city': text('Oslo') })).toEqual({
      ok: true,
      data: { to: { city: 'Oslo' }, alt: null },
    });
    expect(
      submit(schema, {
        'f:to.city': text('Oslo'),
        'f:billing.city': text('Rome'),
        'f:alt.city': text('Nice'),
      }),
    ).toEqual({
      ok: true,
      data: { to: { city: 'Oslo' }, billing: { city: 'Rome' }, alt: { city: 'Nice' } },
    });
  });

  test('a bare top-level value', () => {
    expect(submit(wire(z.number().int()), { [ROOT_BLOCK_ID]: text('12') })).toEqual({ ok: true, data: 12 });
    expect(submit(wire(z.string().nullable()))).toEqual({ ok: true, data: null });
  });

  test('JSON fields accept bare text where a string is allowed', () => {
    const schema = wire(z.object({ v: z.union([z.string(), z.number()]) }));
    expect(submit(schema, { 'f:v': text('hello') })).toEqual({ ok: true, data: { v: 'hello' } });
    expect(submit(schema, { 'f:v': text('12') })).toEqual({ ok: true, data: { v: 12 } });
    expect(submit(schema, { 'f:v': text('"12"') })).toEqual({ ok: true, data: { v: '12' } });
  });

  test('enum typed as text: matched exactly, then trimmed, then as a number', () => {
    const values = Array.from({ length: 120 }, (_, i) => (i % 2 ? `v${i}` : i));
    const schema: JsonSchema = {
      type: 'object',
      properties: { c: { enum: ['', ...values] } },
      required: ['c'],
    };
    expect(submit(schema, { 'f:c': text(' v7 ') })).toEqual({ ok: true, data: { c: 'v7' } });
    expect(submit(schema, { 'f:c': text('8.0') })).toEqual({ ok: true, data: { c: 8 } });
    expect(submit(schema, { 'f:c': text('""') })).toEqual({ ok: true, data: { c: '' } });
  });

  test('a form degraded to JSON fields reads back the same way (same maxBlocks)', () => {
    const schema = wire(z.object({ a: z.object({ x: z.string(), y: z.number() }), b: z.string() }));
    const initial = { a: { x: 'hi', y: 2 }, b: 'b' };
    const result = submit(schema, {}, { initial, maxBlocks: 2 });
    expect(result).toEqual({ ok: true, data: initial });
    expect(buildForm(schema, { maxBlocks: 2 }).fields.map((f) => f.kind)).toEqual(['json', 'text']);
  });

  test('blocks missing from the state read as empty', () => {
    expect(readSubmission(wire(z.object({ a: z.string().optional() })), {})).toEqual({ ok: true, data: {} });
  });

  test('schemas zod cannot read are converted but not validated here', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: { n: { type: 'number' } },
      not: { required: ['forbidden'] },
    };
    expect(
      readSubmission(schema, {
        [ROOT_BLOCK_ID]: { value: { type: 'plain_text_input', value: '{"n": "x"}' } },
      }),
    ).toEqual({
      ok: true,
      data: { n: 'x' },
    });
  });
});

describe('validation errors keyed by block id', () => {
  test('Required, bounds and choices', () => {
    const schema = wire(
      z.object({
        name: z.string().min(3),
        score: z.number().max(10),
        small: z.number().int().gt(0),
        tags: z.array(z.enum(['a', 'b', 'c'])).min(2),
        email: z.email(),
        site: z.url(),
      }),
    );
    const result = submit(schema, {
      'f:name': text('ab'),
      'f:score': text('11'),
      'f:small': text('0'),
      'f:tags': options('a'),
      'f:email': text('not-an-email'),
      'f:site': text('nope'),
    });
    expect(result).toEqual({
      ok: false,
      errors: {
        'f:name': 'Must be at least 3 characters',
        'f:score': 'Must be at most 10',
        'f:small': 'Must be greater than 0',
        'f:tags': 'Choose at least 2',
        'f:email': 'Must be a valid email address',
        'f:site': 'Must be a valid URL',
      },
    });
  });

  test('a required field left empty', () => {
    expect(submit(approvalSchema, { 'f:approved': option('true'), 'f:priority': option('low') })).toEqual({
      ok: false,
      errors: { 'f:comment': 'Required', 'f:score': 'Required' },
    });
  });

  test('a partly filled optional object asks for its required fields', () => {
    const schema = wire(z.object({ billing: z.object({ city: z.string(), zip: z.string() }).optional() }));
    expect(submit(schema, { 'f:billing.zip': text('0150') })).toEqual({
      ok: false,
      errors: { 'f:billing.city': 'Required' },
    });
  });

  test('invalid JSON', () => {
    const schema = wire(z.object({ items: z.array(z.object({ id: z.string() })) }));
    const result = submit(schema, { 'f:items': text('[{id: 1}]') });
    expect(result.ok).toBe(false);
    const message = (result as { errors: Record<string, string> }).errors['f:items'];
    expect(message).toMatch(/^Not valid JSON: .*position 2/);
  });

  test('errors inside a JSON field name the path', () => {
    const schema = wire(
      z.object({
        items: z.array(z.object({ name: z.string(), priority: z.enum(['low', 'medium', 'high']) })).min(1),
      }),
    );
    expect(submit(schema, { 'f:items': text('[{"priority": "urgent"}]') })).toEqual({
      ok: false,
      errors: { 'f:items': '[0].name: Required; [0].priority: Must be one of: low, medium, high' },
    });
    expect(submit(schema, { 'f:items': text('[]') })).toEqual({
      ok: false,
      errors: { 'f:items': 'Must have at least 1 item' },
    });
    expect(submit(schema, { 'f:items': text('[{"name": "a", "priority": "low", "x": 1}]') })).toEqual({
      ok: false,
      errors: { 'f:items': '[0]: Unknown field: x' },
    });
  });

  test('a whole form degraded to one JSON field reports paths inside it', () => {
    const schema = wire(z.object({ a: z.string(), b: z.number().max(1) }));
    expect(submit(schema, { [ROOT_BLOCK_ID]: text('{"b": 2}') }, { maxBlocks: 1 })).toEqual({
      ok: false,
      errors: { [ROOT_BLOCK_ID]: 'a: Required; b: Must be at most 1' },
    });
  });

  test('conversion errors win over schema errors for the same block', () => {
    const schema = wire(z.object({ n: z.number(), m: z.number().min(5) }));
    expect(submit(schema, { 'f:n': text('abc'), 'f:m': text('1') })).toEqual({
      ok: false,
      errors: { 'f:n': 'Must be a number', 'f:m': 'Must be at least 5' },
    });
  });

  test('an option that is not in the form', () => {
    expect(submit(approvalSchema, { 'f:priority': option('urgent') })).toMatchObject({
      ok: false,
      errors: { 'f:priority': 'Not one of the choices' },
    });
  });

  test('an enum typed as text that matches nothing', () => {
    const values = Array.from({ length: 101 }, (_, i) => `v${i}`);
    const schema = wire(z.object({ c: z.enum(values as [string, ...string[]]) }));
    expect(submit(schema, { 'f:c': text('nope') })).toEqual({
      ok: false,
      errors: {
        'f:c': `Must be one of: ${values.slice(0, 20).join(', ')}, … (81 more)`,
      },
    });
  });

  test('types, patterns, multiples and unions', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        code: { type: 'string', pattern: '^[A-Z]{3}$' },
        step: { type: 'number', multipleOf: 5 },
        whole: { type: 'integer' },
        either: { type: ['string', 'number'] },
        flag: { type: 'boolean' },
        list: { type: 'array', items: { type: 'boolean' } },
        len: { type: 'string', minLength: 2, maxLength: 2 },
      },
    };
    const result = submit(schema, {
      'f:code': text('abc'),
      'f:step': text('7'),
      'f:whole': text('1.5'),
      'f:either': text('true'),
      'f:list': text('{"a": 1}'),
      'f:len': text('abc'),
    });
    expect(result).toEqual({
      ok: false,
      errors: {
        'f:code': 'Must match the pattern /^[A-Z]{3}$/',
        'f:step': 'Must be a multiple of 5',
        'f:whole': 'Must be a whole number',
        'f:either': 'Must be text or a number',
        'f:list': 'Must be a list',
        'f:len': 'Must be at most 2 characters',
      },
    });
  });

  test('dates and times the schema rejects', () => {
    const schema = wire(z.object({ day: z.iso.date(), at: z.iso.datetime() }));
    expect(
      submit(schema, {
        'f:day': { selected_date: '2023-02-29' },
        'f:at': { selected_date_time: 1714555800 },
      }),
    ).toEqual({
      ok: false,
      errors: { 'f:day': 'Must be a date (YYYY-MM-DD)' },
    });
  });
});

describe('normalizations (what the round trip does not keep)', () => {
  function roundTrip(schema: JsonSchema, initial: unknown) {
    return readSubmission(schema, stateFromInitial(buildForm(schema, { initial })));
  }

  test('empty optional strings, empty optional lists and nulls in optional fields come back absent', () => {
    const schema = wire(
      z.object({
        s: z.string().optional(),
        l: z.array(z.enum(['a'])).optional(),
        n: z.number().nullable().optional(),
      }),
    );
    expect(roundTrip(schema, { s: '', l: [], n: null })).toEqual({ ok: true, data: {} });
  });

  test('an optional object with nothing in it comes back absent', () => {
    const schema = wire(z.object({ o: z.object({ a: z.string().optional() }).optional() }));
    expect(roundTrip(schema, { o: {} })).toEqual({ ok: true, data: {} });
  });

  test('multi-selects come back in schema order without duplicates', () => {
    const schema = wire(z.object({ l: z.array(z.enum(['a', 'b', 'c'])) }));
    expect(roundTrip(schema, { l: ['c', 'a', 'c'] })).toEqual({ ok: true, data: { l: ['a', 'c'] } });
  });

  test('date-times come back in UTC, whole seconds; times as HH:MM', () => {
    const schema = {
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' }, t: js(z.iso.time()) },
    };
    expect(roundTrip(schema, { at: '2024-05-01T11:30:15.250+02:00', t: '10:30:15' })).toEqual({
      ok: true,
      data: { at: '2024-05-01T09:30:15Z', t: '10:30' },
    });
  });

  test('-0 comes back as 0', () => {
    const result = roundTrip(wire(z.object({ n: z.number() })), { n: -0 });
    expect(Object.is((result as { data: { n: number } }).data.n, 0)).toBe(true);
  });
});

function js(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = wire(schema);
  return rest;
}

describe('property names that objects inherit', () => {
  test('optional "toString" and "constructor" properties left empty are simply absent', () => {
    const schema = wire(
      z.object({ toString: z.object({ a: z.string() }).optional(), constructor: z.string().optional() }),
    );
    const result = submit(schema);
    expect(result).toEqual({ ok: true, data: {} });
    expect(Object.getPrototypeOf((result as { data: object }).data)).toBe(Object.prototype);
  });

  test('a JSON value with a key that would reach a prototype is a field error, and pollutes nothing', () => {
    for (const json of ['{"__proto__": {"polluted": true}}', '[{"a": {"constructor": {"prototype": 1}}}]']) {
      const result = submit({ type: 'object', properties: { v: {} } }, { 'f:v': text(json) });
      expect(result, json).toMatchObject({
        ok: false,
        errors: { 'f:v': expect.stringMatching(/cannot be used as a key: it is reserved/) },
      });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('values of type "any" come back as ordinary objects', () => {
    const result = submit({ type: 'object', properties: { v: {} } }, { 'f:v': text('{"a": {"b": 1}}') });
    expect(result).toEqual({ ok: true, data: { v: { a: { b: 1 } } } });
    const v = (result as { data: { v: { a: object } } }).data.v;
    expect(Object.getPrototypeOf(v.a)).toBe(Object.prototype);
  });
});
