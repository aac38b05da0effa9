/**
 * Reading JSON Schema (draft-07, as zod 4's `z.toJSONSchema` writes it) for the form engine:
 * nullability, enums, and which keyword combinations a Slack input can express.
 */

import type { JsonSchema } from '../mastra/types.ts';
import { isRecord } from '../util/is-record.ts';

export type EnumValue = string | number | boolean;

/** Any value that is not a JSON Schema object (e.g. `true`) reads as the empty schema (anything). */
export function asSchema(value: unknown): JsonSchema {
  return isRecord(value) ? value : {};
}

export interface Unwrapped {
  schema: JsonSchema;
  nullable: boolean;
}

const ANNOTATIONS = ['title', 'description', 'default', 'examples'] as const;

/**
 * Separates "or null" from a schema: `type: ["string","null"]`, `anyOf/oneOf: [X, {type:"null"}]`
 * (zod's `.nullable()` on non-primitive types), and `null` inside `enum`.
 * Annotations on the wrapper (title, description, default) win over the branch's.
 */
export function unwrapNullable(input: unknown): Unwrapped {
  let schema = asSchema(input);
  let nullable = false;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (!Array.isArray(branches)) continue;
    const nonNull = branches.filter((b) => !isNullSchema(b));
    if (nonNull.length === branches.length || nonNull.length === 0) continue;
    nullable = true;
    const { [key]: _dropped, ...rest } = schema;
    if (nonNull.length === 1) {
      const branch = unwrapNullable(nonNull[0]);
      const merged: JsonSchema = { ...branch.schema };
      for (const [k, v] of Object.entries(rest)) {
        if ((ANNOTATIONS as readonly string[]).includes(k) || !(k in merged)) merged[k] = v;
      }
      schema = merged;
    } else {
      schema = { ...rest, [key]: nonNull };
    }
  }
  if (Array.isArray(schema.type) && schema.type.includes('null')) {
    const types = schema.type.filter((t) => t !== 'null');
    if (types.length > 0) {
      nullable = true;
      schema = { ...schema, type: types.length === 1 ? types[0] : types };
    }
  }
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) {
    const values = schema.enum.filter((v) => v !== null);
    if (values.length > 0) {
      nullable = true;
      schema = { ...schema, enum: values };
    }
  }
  return { schema, nullable };
}

function isNullSchema(value: unknown): boolean {
  if (!isRecord(value)) return false;
  if (value.type === 'null') return true;
  return 'const' in value && value.const === null;
}

/**
 * The allowed values when the schema is a closed set of primitives: `enum`, `const`, or an
 * `anyOf`/`oneOf` whose branches are all `const`/`enum` (zod's union of literals). Null otherwise.
 * Duplicates are dropped; order is kept.
 */
export function enumValues(schema: JsonSchema): EnumValue[] | null {
  let raw: unknown[] | null = null;
  if (Array.isArray(schema.enum)) raw = schema.enum;
  else if ('const' in schema && schema.const !== undefined) raw = [schema.const];
  else {
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = schema[key];
      if (!Array.isArray(branches) || branches.length === 0) continue;
      const all: unknown[] = [];
      for (const branch of branches) {
        if (!isRecord(branch)) return null;
        if (Array.isArray(branch.enum)) all.push(...branch.enum);
        else if ('const' in branch && branch.const !== undefined) all.push(branch.const);
        else return null;
      }
      raw = all;
    }
  }
  if (raw === null) return null;
  const out: EnumValue[] = [];
  const seen = new Set<string>();
  for (const v of raw) {
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
      return null;
    }
    const key = `${typeof v}:${String(v)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

/** Keywords that make a schema more than one plain type: such a schema becomes a JSON field. */
const COMPLEX_KEYWORDS = ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else'] as const;

export function hasComplexKeywords(schema: JsonSchema): boolean {
  return COMPLEX_KEYWORDS.some((k) => schema[k] !== undefined);
}

/**
 * An object whose declared properties can be laid out as separate inputs: `type: "object"` with
 * `properties`, no schema for extra keys (zod's `.strict()`/default, or `.loose()` = `{}`),
 * no `patternProperties`, no composition.
 */
export function isGroupObject(schema: JsonSchema): boolean {
  if (schema.type !== 'object' || !isRecord(schema.properties)) return false;
  if (hasComplexKeywords(schema) || schema.patternProperties !== undefined) return false;
  if (schema.propertyNames !== undefined && !isRecord(schema.propertyNames)) return false;
  const extra = schema.additionalProperties;
  if (extra === undefined || extra === true || extra === false) return true;
  return isRecord(extra) && Object.keys(extra).length === 0;
}

export function requiredSet(schema: JsonSchema): Set<string> {
  return new Set(Array.isArray(schema.required) ? schema.required.filter((k) => typeof k === 'string') : []);
}

export function hasDefault(schema: JsonSchema): boolean {
  return schema.default !== undefined;
}

/** True when some string could satisfy the schema's type (used to accept bare text in JSON fields). */
export function acceptsString(schema: JsonSchema): boolean {
  const { schema: s } = unwrapNullable(schema);
  const values = enumValues(s);
  if (values !== null) return values.some((v) => typeof v === 'string');
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = s[key];
    if (Array.isArray(branches)) return branches.some((b) => acceptsString(asSchema(b)));
  }
  if (s.type === undefined) return s.$ref === undefined;
  if (Array.isArray(s.type)) return s.type.includes('string');
  return s.type === 'string';
}

/** One branch of a discriminated union: the object schema and the tag values that select it. */
export interface Variant {
  tagValues: EnumValue[];
  schema: JsonSchema;
}

/** A `oneOf`/`anyOf` of objects told apart by one property (zod's `z.discriminatedUnion`, or a union of tagged objects). */
export interface Discriminated {
  /** The tag property: required in every branch, a `const` or `enum` there, with no value shared by two branches. */
  tag: string;
  /** The tag's own schema in the first branch (for its title and description). */
  tagSchema: JsonSchema;
  variants: Variant[];
}

const OTHER_COMPOSITION = ['$ref', 'allOf', 'not', 'if', 'then', 'else'] as const;

/**
 * The discriminated union a schema (with "or null" already removed) is, or null. The tag is the
 * first property of the first branch that qualifies.
 */
export function discriminatedUnion(schema: JsonSchema): Discriminated | null {
  const keys = (['oneOf', 'anyOf'] as const).filter((k) => schema[k] !== undefined);
  if (keys.length !== 1) return null;
  if (OTHER_COMPOSITION.some((k) => schema[k] !== undefined)) return null;
  if (schema.type !== undefined && schema.type !== 'object') return null;
  if (schema.properties !== undefined || schema.required !== undefined) return null;
  const branches = schema[keys[0] as 'oneOf'];
  if (!Array.isArray(branches) || branches.length < 2) return null;
  if (!branches.every((b) => isRecord(b) && isGroupObject(b))) return null;
  const objects = branches as JsonSchema[];
  const first = objects[0] as JsonSchema;
  for (const tag of Object.keys(first.properties as Record<string, unknown>)) {
    const variants: Variant[] = [];
    const seen = new Set<string>();
    let tagSchema: JsonSchema | undefined;
    for (const branch of objects) {
      const props = branch.properties as Record<string, unknown>;
      if (!Object.hasOwn(props, tag) || !requiredSet(branch).has(tag)) break;
      const own = unwrapNullable(props[tag]);
      const values = own.nullable ? null : enumValues(own.schema);
      if (values === null || values.length === 0) break;
      const keys = values.map((v) => `${typeof v}:${String(v)}`);
      if (keys.some((k) => seen.has(k))) break;
      for (const k of keys) seen.add(k);
      tagSchema ??= own.schema;
      variants.push({ tagValues: values, schema: branch });
    }
    if (variants.length === objects.length && tagSchema !== undefined) return { tag, tagSchema, variants };
  }
  return null;
}

/** The variant a value selects by its tag, if any. */
export function variantFor(union: Discriminated, value: unknown): Variant | undefined {
  if (!isRecord(value) || !Object.hasOwn(value, union.tag)) return undefined;
  const tag = value[union.tag];
  return union.variants.find((v) => v.tagValues.some((t) => t === tag));
}

/** What a list input holds: `items` of plain strings or numbers (no enum, no composition). */
export function listItemType(schema: JsonSchema): 'string' | 'number' | 'integer' | null {
  if (schema.type !== 'array' || !isRecord(schema.items)) return null;
  if (schema.prefixItems !== undefined || schema.contains !== undefined) return null;
  const items = schema.items;
  if (hasComplexKeywords(items) || items.enum !== undefined || items.const !== undefined) return null;
  return items.type === 'string' || items.type === 'number' || items.type === 'integer' ? items.type : null;
}

/**
 * `schema` with each discriminated union replaced by the variant `data` selects, recursively
 * through object properties, so validation reports issues at the chosen variant's fields instead
 * of one "matches no branch" issue. Returns `schema` itself when nothing was replaced.
 */
export function resolveUnions(schema: unknown, data: unknown): unknown {
  if (!isRecord(schema) || data === undefined || data === null || typeof data !== 'object') return schema;
  const { schema: inner, nullable } = unwrapNullable(schema);
  const wrap = (s: JsonSchema): JsonSchema => (nullable ? { anyOf: [s, { type: 'null' }] } : s);
  const union = discriminatedUnion(inner);
  if (union !== null) {
    const variant = variantFor(union, data);
    if (variant === undefined) return schema;
    const resolved = resolveUnions(variant.schema, data) as JsonSchema;
    // The union's other keys stay (e.g. `definitions` its variants refer to); its annotations win.
    const { oneOf: _o, anyOf: _a, ...rest } = inner;
    const annotations: JsonSchema = {};
    for (const k of ANNOTATIONS) if (inner[k] !== undefined) annotations[k] = inner[k];
    return wrap({ ...rest, ...resolved, ...annotations });
  }
  if (!isRecord(inner.properties) || !isRecord(data)) return schema;
  const props = inner.properties;
  let changed = false;
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    const r = Object.hasOwn(data, k) ? resolveUnions(v, data[k]) : v;
    if (r !== v) changed = true;
    Object.defineProperty(properties, k, { value: r, enumerable: true, writable: true, configurable: true });
  }
  return changed ? wrap({ ...inner, properties }) : schema;
}
