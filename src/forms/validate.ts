/** Validation with zod 4's `z.fromJSONSchema`, and zod issues as short human messages. */

import { z } from 'zod';
import type { JsonSchema } from '../mastra/types.ts';
import { isRecord } from '../util/is-record.ts';
import { truncate } from '../util/truncate.ts';
import { type SafePattern, safePattern } from './pattern.ts';

export type Validator = z.ZodType;
export type Issue = z.core.$ZodIssue;

/** A value checked against a schema: zod's parse, or its issues (regex issues name the schema's own pattern). */
export type Checked = { ok: true; data: unknown } | { ok: false; issues: Issue[] };

const compiled = new WeakMap<object, Validator | null>();
const patternsOf = new WeakMap<object, readonly string[]>();

/**
 * The zod schema for a JSON Schema, or null when zod cannot read it (e.g. `if`/`then`, external `$ref`).
 * Uses a private registry so titles and ids do not accumulate in zod's global registry.
 * zod runs every `pattern` with a native, backtracking RegExp: give it only schemas whose patterns
 * `withLiteralPatterns` has replaced (`checkValue` does).
 */
function compileZod(schema: JsonSchema): Validator | null {
  try {
    return z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema, {
      registry: z.registry(),
      defaultTarget: 'draft-7',
    });
  } catch {
    return null;
  }
}

/**
 * `value` checked against `schema`, or null when zod cannot read the schema. Every `pattern` (and
 * `patternProperties` key) is matched by RE2 (`pattern.ts`), in time linear in the answer: zod
 * itself sees each pattern replaced by the list of this value's strings that RE2 says match it, so
 * its native RegExp only ever compares literal strings. A pattern RE2 cannot express matches
 * nothing, and its issue says why (`describeIssue`).
 */
export function checkValue(schema: JsonSchema, value: unknown): Checked | null {
  const patterns = schemaPatterns(schema);
  if (patterns.length === 0) {
    let v = compiled.get(schema);
    if (v === undefined) {
      v = compileZod(schema);
      compiled.set(schema, v);
    }
    return v === null ? null : parse(v, value, new Map());
  }
  const strings = [...stringsIn(value)];
  const replacements = new Map<string, string>();
  const originals = new Map<string, SafePattern>();
  patterns.forEach((pattern, index) => {
    const safe = safePattern(pattern);
    const source = literalSource(index, safe.ok ? strings.filter((s) => safe.test(s)) : []);
    replacements.set(pattern, source);
    originals.set(`/${source}/`, safe);
  });
  const v = compileZod(withLiteralPatterns(schema, replacements) as JsonSchema);
  return v === null ? null : parse(v, value, originals);
}

function parse(v: Validator, value: unknown, originals: ReadonlyMap<string, SafePattern>): Checked {
  const result = v.safeParse(value);
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, issues: result.error.issues.map((issue) => restorePattern(issue, originals)) };
}

/** A regex issue about a replaced pattern, made about the schema's pattern again (nested ones too). */
function restorePattern(issue: Issue, originals: ReadonlyMap<string, SafePattern>): Issue {
  if (originals.size === 0) return issue;
  if (issue.code === 'invalid_format' && issue.format === 'regex' && typeof issue.pattern === 'string') {
    const safe = originals.get(issue.pattern);
    if (safe === undefined) return issue;
    if (safe.ok) return { ...issue, pattern: `/${safe.pattern}/` };
    const { path, input } = issue;
    return { code: 'custom', path, input, message: unsupportedPatternMessage(safe.pattern, safe.reason) };
  }
  if (issue.code === 'invalid_union')
    return { ...issue, errors: issue.errors.map((b) => b.map((i) => restorePattern(i, originals))) } as Issue;
  if (issue.code === 'invalid_key' || issue.code === 'invalid_element')
    return { ...issue, issues: issue.issues.map((i) => restorePattern(i, originals)) };
  return issue;
}

function shown(pattern: string): string {
  return truncate(pattern, 200);
}

/** Why an answer that must match a pattern RE2 cannot express is refused, and what to do. */
export function unsupportedPatternMessage(pattern: string, reason: string): string {
  return (
    `Flowgate cannot check this answer safely: the workflow's pattern /${shown(pattern)}/ cannot be ` +
    `matched in linear time because ${reason}. Leave it empty if you may, or ask the workflow's ` +
    'owner to rewrite the pattern without backreferences or lookahead.'
  );
}

/** True when `value` satisfies `schema` (or when the schema cannot be checked). */
export function satisfies(schema: JsonSchema, value: unknown): boolean {
  const checked = checkValue(schema, value);
  return checked === null || checked.ok;
}

/** Keywords whose value is a schema or a list of schemas (as zod's `fromJSONSchema` reads them). */
const SCHEMA_KEYWORDS = new Set([
  'items',
  'prefixItems',
  'additionalItems',
  'additionalProperties',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'allOf',
  'anyOf',
  'oneOf',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
]);
/** Keywords whose value maps names to schemas (`patternProperties`' names are patterns). */
const SCHEMA_MAP_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  'dependentSchemas',
  'dependencies',
  '$defs',
  'definitions',
]);

/** Every distinct pattern of the schema: `pattern` values and `patternProperties` names. */
function schemaPatterns(schema: JsonSchema): readonly string[] {
  const hit = patternsOf.get(schema);
  if (hit !== undefined) return hit;
  const found = new Set<string>();
  const walk = (s: unknown): void => {
    if (Array.isArray(s)) {
      for (const item of s) walk(item);
      return;
    }
    if (!isRecord(s)) return;
    if (typeof s.pattern === 'string') found.add(s.pattern);
    if (isRecord(s.patternProperties)) for (const key of Object.keys(s.patternProperties)) found.add(key);
    for (const [key, sub] of Object.entries(s)) {
      if (SCHEMA_KEYWORDS.has(key)) walk(sub);
      else if (SCHEMA_MAP_KEYWORDS.has(key) && isRecord(sub))
        for (const inner of Object.values(sub)) walk(inner);
    }
  };
  walk(schema);
  const patterns = [...found];
  patternsOf.set(schema, patterns);
  return patterns;
}

/** A copy of the schema with each pattern (value or `patternProperties` name) replaced. */
function withLiteralPatterns(schema: unknown, replacements: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => withLiteralPatterns(s, replacements));
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, sub] of Object.entries(schema)) {
    let value = sub;
    if (key === 'pattern' && typeof sub === 'string') value = replacements.get(sub) ?? sub;
    else if (SCHEMA_KEYWORDS.has(key)) value = withLiteralPatterns(sub, replacements);
    else if (SCHEMA_MAP_KEYWORDS.has(key) && isRecord(sub)) {
      const map: Record<string, unknown> = Object.create(null);
      for (const [name, inner] of Object.entries(sub)) {
        const renamed = key === 'patternProperties' ? (replacements.get(name) ?? name) : name;
        map[renamed] = withLiteralPatterns(inner, replacements);
      }
      value = map;
    }
    out[key] = value;
  }
  return out;
}

/** Every string of a JSON value, and every object key, at any depth. */
function stringsIn(value: unknown, found = new Set<string>(), seen = new Set<object>()): Set<string> {
  if (typeof value === 'string') found.add(value);
  else if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    if (Array.isArray(value)) for (const item of value) stringsIn(item, found, seen);
    else
      for (const key of Object.keys(value)) {
        found.add(key);
        stringsIn((value as Record<string, unknown>)[key], found, seen);
      }
  }
  return found;
}

/**
 * A native pattern that matches exactly `strings`, whole: an anchored list of literals (every
 * character but ASCII letters and digits written `\uXXXX`), which cannot backtrack beyond one
 * literal at a time. The first, impossible alternative carries `index`, so two patterns matching
 * the same strings stay apart.
 */
function literalSource(index: number, strings: readonly string[]): string {
  const escaped = strings.map((s) => {
    let out = '';
    for (let k = 0; k < s.length; k++) {
      const unit = s.charCodeAt(k);
      const plain = (unit >= 48 && unit <= 57) || (unit >= 65 && unit <= 90) || (unit >= 97 && unit <= 122);
      out += plain ? s[k] : `\\u${unit.toString(16).padStart(4, '0')}`;
    }
    return out;
  });
  return `^(?:[^\\s\\S]${index}${escaped.map((e) => `|${e}`).join('')})$`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
  bigint: 'a whole number',
  date: 'a date',
};

const FORMAT_WORDS: Record<string, string> = {
  email: 'a valid email address',
  url: 'a valid URL',
  uuid: 'a valid UUID',
  guid: 'a valid GUID',
  datetime: 'a date and time (ISO 8601, e.g. 2024-05-01T09:30:00Z)',
  date: 'a date (YYYY-MM-DD)',
  time: 'a time (HH:MM)',
  duration: 'an ISO 8601 duration',
  ipv4: 'a valid IPv4 address',
  ipv6: 'a valid IPv6 address',
  hostname: 'a valid hostname',
  base64: 'base64 text',
};

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

export function formatValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function formatValues(values: readonly unknown[], max = 20): string {
  const shown = values.slice(0, max).map(formatValue);
  return values.length > max ? `${shown.join(', ')}, … (${values.length - max} more)` : shown.join(', ');
}

/**
 * A human message for one zod issue. `value` is the data at the issue's path (undefined reads as "Required").
 * `choice` phrases list-length limits for multi-selects ("Choose at least 2").
 */
export function describeIssue(issue: Issue, value: unknown, choice = false): string {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'Required';
      return `Must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      if (value === undefined) return 'Required';
      if (issue.values.length === 1) return `Must be ${formatValue(issue.values[0])}`;
      return `Must be one of: ${formatValues(issue.values)}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = small ? issue.minimum : issue.maximum;
      const exact = issue.exact === true;
      const inclusive = issue.inclusive !== false;
      switch (issue.origin) {
        case 'string':
          return `Must be ${exact ? 'exactly' : small ? 'at least' : 'at most'} ${plural(limit, 'character')}`;
        case 'array':
        case 'set':
          if (choice) return `Choose ${exact ? 'exactly' : small ? 'at least' : 'at most'} ${limit}`;
          return `Must have ${exact ? 'exactly' : small ? 'at least' : 'at most'} ${plural(limit, 'item')}`;
        case 'object':
          return `Must have ${small ? 'at least' : 'at most'} ${plural(limit, 'field')}`;
        default:
          if (exact) return `Must be ${limit}`;
          if (small) return inclusive ? `Must be at least ${limit}` : `Must be greater than ${limit}`;
          return inclusive ? `Must be at most ${limit}` : `Must be less than ${limit}`;
      }
    }
    case 'invalid_format': {
      if (issue.format === 'regex') {
        const pattern = 'pattern' in issue && typeof issue.pattern === 'string' ? issue.pattern : '';
        return `Must match the pattern ${shown(pattern)}`;
      }
      if (issue.format === 'starts_with' && 'prefix' in issue)
        return `Must start with "${String(issue.prefix)}"`;
      if (issue.format === 'ends_with' && 'suffix' in issue) return `Must end with "${String(issue.suffix)}"`;
      if (issue.format === 'includes' && 'includes' in issue)
        return `Must contain "${String(issue.includes)}"`;
      return `Must be ${FORMAT_WORDS[issue.format] ?? `a valid ${issue.format}`}`;
    }
    case 'not_multiple_of':
      return `Must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `Unknown field${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return describeUnion(issue, value);
    default:
      return issue.message;
  }
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion, value: unknown): string {
  if (value === undefined) return 'Required';
  const branches = issue.errors;
  if (branches.length === 0) return issue.message;
  const simple = branches.every(
    (b) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0,
  );
  if (simple) {
    const words = branches.map((b) => {
      const first = b[0] as z.core.$ZodIssueInvalidType;
      return TYPE_WORDS[first.expected] ?? first.expected;
    });
    return `Must be ${[...new Set(words)].join(' or ')}`;
  }
  let best = branches[0]!;
  for (const b of branches) if (b.length < best.length) best = b;
  const first = best[0];
  if (first === undefined) return issue.message;
  let inner: unknown = value;
  for (const seg of first.path)
    inner =
      inner !== null && typeof inner === 'object' ? (inner as Record<PropertyKey, unknown>)[seg] : undefined;
  const where = first.path.length > 0 ? `${first.path.map(String).join('.')}: ` : '';
  return `${where}${describeIssue(first, inner)}`;
}
