/**
 * fast-check generators for the form engine: schema "specs" (what zod 4 would emit, draft-07) and,
 * for each spec, data valid against it in the canonical form the form can carry
 * (see `roundtrip` in properties.test.ts for the normalizations this avoids on purpose).
 */

import fc from 'fast-check';
import { z } from 'zod';
import type { JsonSchema } from '../../src/mastra/types.ts';
import { isReservedKey } from '../../src/util/safe-objects.ts';

/** draft-07 JSON Schema of a zod schema, without `$schema` (as found under `properties`). */
export function js(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-07' }) as JsonSchema;
  return rest;
}

const FORMATS = {
  email: js(z.email()),
  uri: js(z.url()),
  date: js(z.iso.date()),
  datetime: js(z.iso.datetime()),
  datetimeMs: js(z.iso.datetime({ precision: 3 })),
  datetimeLocal: js(z.iso.datetime({ local: true })),
  datetimeMinutes: js(z.iso.datetime({ precision: -1 })),
  zodTime: js(z.iso.time()),
  formatTime: { type: 'string', format: 'time' },
} satisfies Record<string, JsonSchema>;
type FormatName = keyof typeof FORMATS;

export type EnumValue = string | number;

export type LeafSpec =
  | { t: 'string'; minLength?: number; maxLength?: number }
  | { t: 'format'; format: FormatName }
  | { t: 'number'; int: boolean; min?: number; max?: number }
  | { t: 'boolean' }
  | { t: 'enum'; values: EnumValue[] }
  | { t: 'multi'; values: string[]; minItems?: number; maxItems?: number }
  | {
      t: 'list';
      item: 'string' | 'number' | 'integer';
      minItems?: number;
      maxItems?: number;
      maxLength?: number;
      unique?: boolean;
    }
  | { t: 'json'; kind: 'objects' | 'nullableStrings' | 'record' | 'union' | 'untagged' };

export interface PropSpec {
  key: string;
  spec: Spec;
  required: boolean;
  nullable: boolean;
  withDefault: boolean;
  title?: string;
  description?: string;
}

export interface ObjectSpec {
  t: 'object';
  props: PropSpec[];
  title?: string;
}

/** A discriminated union: each variant an object told apart by `tag` (zod's `z.discriminatedUnion`, or `z.union` → anyOf). */
export interface UnionSpec {
  t: 'union';
  tag: string;
  keyword: 'oneOf' | 'anyOf';
  variants: { values: string[]; props: PropSpec[] }[];
}

export type Spec = LeafSpec | ObjectSpec | UnionSpec;

// ---------------------------------------------------------------------------------------------
// Specs

/** Keys the data generator can use: not inherited from Object.prototype, which zod would read for absent keys. */
const keyArb = fc
  .oneof(
    { weight: 6, arbitrary: fc.string({ minLength: 0, maxLength: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('a.b', 'due_date', 'requestId', 'reason', 'f:x', '#', '%2E', 'x y'),
    },
    { weight: 1, arbitrary: fc.string({ minLength: 120, maxLength: 300 }) },
  )
  .filter((k) => !(k in Object.prototype));

const textArb = (max: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ minLength: max - 10, maxLength: max + 300 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: max - 10, maxLength: max + 10 }) },
  );

const stringSpec: fc.Arbitrary<LeafSpec> = fc
  .record({
    minLength: fc.option(fc.integer({ min: 1, max: 5 })),
    maxLength: fc.option(fc.integer({ min: 5, max: 5000 })),
  })
  .map(({ minLength, maxLength }) => ({
    t: 'string' as const,
    ...(minLength === null ? {} : { minLength }),
    ...(maxLength === null ? {} : { maxLength }),
  }));

const formatSpec: fc.Arbitrary<LeafSpec> = fc
  .constantFrom(...(Object.keys(FORMATS) as FormatName[]))
  .map((format) => ({ t: 'format' as const, format }));

const numberSpec: fc.Arbitrary<LeafSpec> = fc
  .record({
    int: fc.boolean(),
    a: fc.option(fc.integer({ min: -1000, max: 1000 })),
    span: fc.option(fc.integer({ min: 0, max: 5000 })),
  })
  .map(({ int, a, span }) => ({
    t: 'number' as const,
    int,
    ...(a === null ? {} : { min: a }),
    ...(a !== null && span !== null ? { max: a + span } : {}),
  }));

const enumValuesArb = (min: number, max: number) =>
  fc.uniqueArray(
    fc.oneof(
      { weight: 5, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ minLength: 0, maxLength: 120 }) },
      { weight: 1, arbitrary: fc.integer({ min: -500, max: 500 }) },
    ),
    { minLength: min, maxLength: max, selector: (v) => String(v).trim() },
  );

const enumSpec: fc.Arbitrary<LeafSpec> = fc
  .oneof(enumValuesArb(1, 6), enumValuesArb(6, 12), enumValuesArb(95, 150))
  .map((values) => ({ t: 'enum' as const, values }));

const multiSpec: fc.Arbitrary<LeafSpec> = fc
  .record({
    values: fc.oneof(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 90 }), { minLength: 1, maxLength: 12 }),
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 90, maxLength: 130 }),
    ),
    minItems: fc.option(fc.integer({ min: 0, max: 2 })),
    maxItems: fc.option(fc.integer({ min: 2, max: 20 })),
  })
  .map(({ values, minItems, maxItems }) => ({
    t: 'multi' as const,
    values,
    ...(minItems === null || minItems > values.length ? {} : { minItems }),
    ...(maxItems === null ? {} : { maxItems }),
  }));

const listSpec: fc.Arbitrary<LeafSpec> = fc
  .record({
    item: fc.constantFrom('string' as const, 'number' as const, 'integer' as const),
    minItems: fc.option(fc.integer({ min: 0, max: 2 })),
    maxItems: fc.option(fc.integer({ min: 2, max: 8 })),
    maxLength: fc.option(fc.integer({ min: 3, max: 50 })),
    unique: fc.boolean(),
  })
  .map(({ item, minItems, maxItems, maxLength, unique }) => ({
    t: 'list' as const,
    item,
    ...(minItems === null ? {} : { minItems }),
    ...(maxItems === null ? {} : { maxItems }),
    ...(maxLength === null || item !== 'string' ? {} : { maxLength }),
    ...(unique ? { unique } : {}),
  }));

const jsonSpec: fc.Arbitrary<LeafSpec> = fc
  .constantFrom('objects', 'nullableStrings', 'record', 'union', 'untagged')
  .map((kind) => ({ t: 'json' as const, kind: kind as 'objects' }));

export const leafSpecArb: fc.Arbitrary<LeafSpec> = fc.oneof(
  stringSpec,
  formatSpec,
  numberSpec,
  fc.constant<LeafSpec>({ t: 'boolean' }),
  enumSpec,
  multiSpec,
  listSpec,
  jsonSpec,
);

function propArb(spec: fc.Arbitrary<Spec>): fc.Arbitrary<PropSpec> {
  return fc
    .record({
      key: keyArb,
      spec,
      required: fc.boolean(),
      nullable: fc.oneof(
        { weight: 4, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      withDefault: fc.oneof(
        { weight: 4, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      title: fc.option(textArb(2000), { freq: 2 }),
      description: fc.option(textArb(2000), { freq: 2 }),
    })
    .map(({ title, description, ...p }) => ({
      ...p,
      ...(title === null ? {} : { title }),
      ...(description === null ? {} : { description }),
    }));
}

/** Specs for objects nested up to a few levels, with up to `maxProps` properties per object. */
export function objectSpecArb(maxProps = 6, maxDepth = 3): fc.Arbitrary<ObjectSpec> {
  const { object } = fc.letrec<{ spec: Spec; object: ObjectSpec; union: UnionSpec }>((tie) => ({
    spec: fc.oneof(
      { maxDepth, depthIdentifier: 'spec', withCrossShrink: true },
      { weight: 4, arbitrary: leafSpecArb },
      { weight: 1, arbitrary: tie('object') },
      { weight: 1, arbitrary: tie('union') },
    ),
    union: fc
      .record({
        tag: fc.oneof(fc.constantFrom('kind', 'type', 'a.b'), keyArb),
        keyword: fc.constantFrom('oneOf' as const, 'anyOf' as const),
        variants: fc.uniqueArray(
          fc.record({
            values: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), {
              minLength: 1,
              maxLength: 2,
            }),
            // Shared names across variants, so equal paths in different variants are exercised.
            props: fc.uniqueArray(propArb(tie('spec')), {
              maxLength: Math.min(maxProps, 3),
              selector: (p) => p.key,
            }),
          }),
          { minLength: 2, maxLength: 4, selector: (v) => v.values[0] },
        ),
      })
      .map(({ tag, keyword, variants }) => {
        // Tag values told apart across variants; no property named like the tag.
        const seen = new Set<string>();
        const kept = variants
          .map((v) => ({
            values: v.values.filter((x) => {
              if (seen.has(x)) return false;
              seen.add(x);
              return true;
            }),
            props: v.props.filter((p) => p.key !== tag),
          }))
          .filter((v) => v.values.length > 0);
        return { t: 'union' as const, tag, keyword, variants: kept };
      })
      .filter((u) => u.variants.length >= 2),
    object: fc
      .record({
        props: fc.uniqueArray(propArb(tie('spec')), { maxLength: maxProps, selector: (p) => p.key }),
        title: fc.option(textArb(200), { freq: 4 }),
      })
      .map(({ props, title }) => ({ t: 'object' as const, props, ...(title === null ? {} : { title }) })),
  }));
  return object;
}

/** A top-level spec: usually an object, sometimes a bare value. */
export const rootSpecArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 5, arbitrary: objectSpecArb() },
  { weight: 1, arbitrary: leafSpecArb },
);

/** Wide and deep objects that force the form to degrade. */
export const bigSpecArb: fc.Arbitrary<ObjectSpec> = fc.oneof(
  objectSpecArb(150, 1),
  fc.array(objectSpecArb(30, 2), { minLength: 2, maxLength: 8 }).map((objects) => ({
    t: 'object' as const,
    props: objects.map((spec, i) => ({
      key: `group${i}`,
      spec,
      required: i % 2 === 0,
      nullable: false,
      withDefault: false,
    })),
  })),
  fc.integer({ min: 4, max: 14 }).map((depth) => {
    let spec: ObjectSpec = {
      t: 'object',
      props: [{ key: 'leaf', spec: { t: 'boolean' }, required: true, nullable: false, withDefault: false }],
    };
    for (let i = 0; i < depth; i++) {
      spec = {
        t: 'object',
        props: [
          {
            key: `level${i}`.repeat(6),
            spec,
            required: true,
            nullable: false,
            withDefault: false,
            title: `Level ${i} `.repeat(40),
          },
          {
            key: `n${i}`,
            spec: { t: 'number', int: true },
            required: false,
            nullable: false,
            withDefault: false,
          },
        ],
      };
    }
    return spec;
  }),
);

// ---------------------------------------------------------------------------------------------
// Spec → JSON Schema

const SAFE = Number.MAX_SAFE_INTEGER;

function leafSchema(spec: LeafSpec): JsonSchema {
  switch (spec.t) {
    case 'string':
      return {
        type: 'string',
        ...(spec.minLength === undefined ? {} : { minLength: spec.minLength }),
        ...(spec.maxLength === undefined ? {} : { maxLength: spec.maxLength }),
      };
    case 'format':
      return { ...FORMATS[spec.format] };
    case 'number':
      if (spec.int) {
        return { type: 'integer', minimum: spec.min ?? -SAFE, maximum: spec.max ?? SAFE };
      }
      return {
        type: 'number',
        ...(spec.min === undefined ? {} : { minimum: spec.min }),
        ...(spec.max === undefined ? {} : { maximum: spec.max }),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'enum': {
      const allStrings = spec.values.every((v) => typeof v === 'string');
      const allNumbers = spec.values.every((v) => typeof v === 'number');
      return {
        ...(allStrings ? { type: 'string' } : allNumbers ? { type: 'number' } : {}),
        enum: spec.values,
      };
    }
    case 'multi':
      return {
        type: 'array',
        items: { type: 'string', enum: spec.values },
        ...(spec.minItems === undefined ? {} : { minItems: spec.minItems }),
        ...(spec.maxItems === undefined ? {} : { maxItems: spec.maxItems }),
      };
    case 'list': {
      const item: JsonSchema =
        spec.item === 'string'
          ? { type: 'string', ...(spec.maxLength === undefined ? {} : { maxLength: spec.maxLength }) }
          : spec.item === 'integer'
            ? { type: 'integer', minimum: -SAFE, maximum: SAFE }
            : { type: 'number' };
      return {
        type: 'array',
        items: item,
        ...(spec.minItems === undefined ? {} : { minItems: spec.minItems }),
        ...(spec.maxItems === undefined ? {} : { maxItems: spec.maxItems }),
        ...(spec.unique ? { uniqueItems: true } : {}),
      };
    }
    case 'json':
      switch (spec.kind) {
        case 'objects':
          return js(z.array(z.object({ name: z.string(), n: z.int() })));
        case 'nullableStrings':
          return js(z.array(z.string().nullable()));
        case 'untagged':
          return js(z.union([z.object({ a: z.string() }), z.object({ b: z.int() })]));
        case 'record':
          return js(z.record(z.string(), z.int()));
        case 'union':
          return js(z.union([z.string(), z.number()]));
      }
  }
}

/** A valid default for a leaf, or undefined when the generator gives that spec none. */
export function defaultFor(spec: Spec): unknown {
  switch (spec.t) {
    case 'boolean':
      return true;
    case 'enum':
      return spec.values[0];
    case 'multi':
    case 'list':
      return spec.minItems === undefined || spec.minItems === 0 ? [] : undefined;
    case 'string':
      return (spec.minLength ?? 0) <= 4 && (spec.maxLength ?? 10) >= 4 ? 'dflt' : undefined;
    case 'number':
      return spec.min ?? 0;
    default:
      return undefined;
  }
}

function nullableSchema(schema: JsonSchema): JsonSchema {
  if (
    typeof schema.type === 'string' &&
    schema.enum === undefined &&
    schema.type !== 'object' &&
    schema.type !== 'array'
  ) {
    return { ...schema, type: [schema.type, 'null'] };
  }
  return { anyOf: [schema, { type: 'null' }] };
}

export function toSchema(spec: Spec): JsonSchema {
  if (spec.t === 'union') {
    return {
      [spec.keyword]: spec.variants.map((v) => {
        const tag: JsonSchema =
          v.values.length === 1 ? { type: 'string', const: v.values[0] } : { type: 'string', enum: v.values };
        const rest = objectSchema({ t: 'object', props: v.props });
        const properties: Record<string, unknown> = {};
        Object.defineProperty(properties, spec.tag, {
          value: tag,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        for (const [k, s] of Object.entries(rest.properties as Record<string, unknown>))
          Object.defineProperty(properties, k, {
            value: s,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        return {
          type: 'object',
          properties,
          required: [spec.tag, ...((rest.required as string[] | undefined) ?? [])],
          additionalProperties: false,
        };
      }),
    };
  }
  if (spec.t !== 'object') return leafSchema(spec);
  return objectSchema(spec);
}

function objectSchema(spec: ObjectSpec): JsonSchema {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const p of spec.props) {
    let s = toSchema(p.spec);
    if (p.nullable) s = nullableSchema(s);
    const dflt = p.withDefault ? defaultFor(p.spec) : undefined;
    if (dflt !== undefined) s = { default: dflt, ...s };
    if (p.title !== undefined) s = { ...s, title: p.title };
    if (p.description !== undefined) s = { ...s, description: p.description };
    Object.defineProperty(properties, p.key, {
      value: s,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    if (p.required) required.push(p.key);
  }
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    ...(spec.title === undefined ? {} : { title: spec.title }),
  };
}

export function rootSchema(spec: Spec): JsonSchema {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...toSchema(spec) };
}

// ---------------------------------------------------------------------------------------------
// Valid data, in the form's canonical form

const lower = (min: number, max: number) => fc.stringMatching(new RegExp(`^[a-z0-9]{${min},${max}}$`));
const two = (n: number) => String(n).padStart(2, '0');

function formatData(format: FormatName): fc.Arbitrary<string> {
  switch (format) {
    case 'email':
      return fc.tuple(lower(1, 10), fc.stringMatching(/^[a-z]{1,10}$/)).map(([a, b]) => `${a}@${b}.com`);
    case 'uri':
      return fc
        .tuple(fc.stringMatching(/^[a-z]{1,10}$/), lower(0, 10))
        .map(([h, p]) => `https://${h}.example.com/${p}`);
    case 'date':
      return fc
        .date({
          min: new Date('1900-01-01T00:00:00Z'),
          max: new Date('2200-12-31T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString().slice(0, 10));
    case 'datetime':
    case 'datetimeLocal':
    case 'datetimeMs':
    case 'datetimeMinutes':
      // Slack's datetimepicker carries whole seconds; ten-digit unix times.
      return fc.integer({ min: 1_000_000_080, max: 9_999_999_999 }).map((s) => {
        const seconds = format === 'datetimeMinutes' ? s - (s % 60) : s;
        const iso = new Date(seconds * 1000).toISOString();
        if (format === 'datetimeMs') return iso;
        if (format === 'datetimeMinutes') return `${iso.slice(0, 16)}Z`;
        return `${iso.slice(0, 19)}Z`;
      });
    case 'zodTime':
      return fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m]) => `${two(h)}:${two(m)}`);
    case 'formatTime':
      return fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m]) => `${two(h)}:${two(m)}:00Z`);
  }
}

function leafData(spec: LeafSpec): fc.Arbitrary<unknown> {
  switch (spec.t) {
    case 'string': {
      const min = spec.minLength ?? 1;
      const max = Math.max(min, Math.min(spec.maxLength ?? 30, 40));
      return fc.string({ minLength: min, maxLength: max });
    }
    case 'format':
      return formatData(spec.format);
    case 'number':
      if (spec.int) {
        return spec.min === undefined
          ? fc.maxSafeInteger()
          : fc.integer({ min: spec.min, max: spec.max ?? spec.min + 100_000 });
      }
      return fc
        .double({ min: spec.min ?? -1e12, max: spec.max ?? 1e12, noNaN: true, noDefaultInfinity: true })
        .filter((n) => !Object.is(n, -0));
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.values);
    case 'multi':
      return fc.subarray(spec.values, {
        minLength: spec.minItems ?? 0,
        maxLength: Math.min(spec.values.length, spec.maxItems ?? spec.values.length),
      });
    case 'list': {
      const item: fc.Arbitrary<unknown> =
        spec.item === 'string'
          ? // What one line carries back exactly: non-empty, no line breaks, no spaces at the ends.
            fc
              .string({ minLength: 1, maxLength: spec.maxLength ?? 30 })
              .filter((x) => x.trim() === x && x !== '' && !/[\r\n]/.test(x))
          : spec.item === 'integer'
            ? fc.maxSafeInteger()
            : fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0));
      const min = spec.minItems ?? 0;
      const max = spec.maxItems ?? 6;
      return spec.unique
        ? fc.uniqueArray(item, { minLength: min, maxLength: max })
        : fc.array(item, { minLength: min, maxLength: max });
    }
    case 'json':
      switch (spec.kind) {
        case 'objects':
          return fc.array(fc.record({ name: fc.string(), n: fc.integer() }), { maxLength: 3 });
        case 'nullableStrings':
          return fc.array(fc.option(fc.string(), { nil: null }), { maxLength: 4 });
        case 'untagged':
          return fc.oneof(fc.record({ a: fc.string() }), fc.record({ b: fc.integer() }));
        case 'record':
          return fc.dictionary(
            fc.string().filter((k) => !isReservedKey(k)), // refused in forms: see submission tests
            fc.integer(),
            { maxKeys: 3 },
          );
        case 'union':
          return fc.oneof(fc.string(), fc.integer());
      }
  }
}

const ABSENT = Symbol('absent');

function propData(p: PropSpec): fc.Arbitrary<unknown> {
  const value = dataArb(p.spec);
  const hasDefault = p.withDefault && defaultFor(p.spec) !== undefined;
  // A non-empty answer, for optional properties: leaving a field empty means "absent".
  const isList = p.spec.t === 'multi' || p.spec.t === 'list';
  const provided = isList ? value.filter((v) => (v as unknown[]).length > 0) : value;
  // An empty selection reads back as [] even where null is allowed, so null is not generated for lists.
  if (p.required && !hasDefault) return p.nullable && !isList ? fc.option(value, { nil: null }) : value;
  return fc.option(provided, { nil: ABSENT });
}

export function dataArb(spec: Spec): fc.Arbitrary<unknown> {
  if (spec.t === 'union') {
    return fc
      .integer({ min: 0, max: spec.variants.length - 1 })
      .chain((i) => {
        const v = spec.variants[i]!;
        return fc.tuple(fc.constantFrom(...v.values), dataArb({ t: 'object', props: v.props }));
      })
      .map(([tag, rest]) => {
        const out: Record<string, unknown> = {};
        Object.defineProperty(out, spec.tag, {
          value: tag,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        for (const [k, x] of Object.entries(rest as Record<string, unknown>))
          Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
        return out;
      });
  }
  if (spec.t !== 'object') return leafData(spec);
  return fc.tuple(...spec.props.map(propData)).map((values) => {
    const out: Record<string, unknown> = {};
    spec.props.forEach((p, i) => {
      if (values[i] !== ABSENT) {
        Object.defineProperty(out, p.key, {
          value: values[i],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    });
    return out;
  });
}

/** Something entered: not absent, not null, not an empty selection. */
function provided(spec: Spec, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (spec.t === 'multi' || spec.t === 'list') return (value as unknown[]).length > 0;
  if (spec.t !== 'object') return true; // a union's tag is always an answer
  return spec.props.some((p) => provided(p.spec, (value as Record<string, unknown>)[p.key]));
}

/**
 * Canonical data: every optional, nullable or defaulted object that is present holds at least one
 * answer (an object with nothing entered reads back as absent).
 */
export function isCanonical(spec: Spec, value: unknown): boolean {
  if (spec.t === 'union' && value !== null && value !== undefined) {
    const tag = (value as Record<string, unknown>)[spec.tag];
    const variant = spec.variants.find((v) => v.values.includes(tag as string));
    return variant !== undefined && isCanonical({ t: 'object', props: variant.props }, value);
  }
  if (spec.t !== 'object' || value === null || value === undefined) return true;
  const obj = value as Record<string, unknown>;
  return spec.props.every((p) => {
    if (!Object.hasOwn(obj, p.key)) return true;
    const v = obj[p.key];
    if (p.spec.t === 'object' && v !== null && (!p.required || p.nullable) && !provided(p.spec, v))
      return false;
    return isCanonical(p.spec, v);
  });
}

export const specWithData = (specArb: fc.Arbitrary<Spec>) =>
  specArb
    .chain((spec) => dataArb(spec).map((data) => ({ spec, data })))
    .filter(({ spec, data }) => isCanonical(spec, data));
