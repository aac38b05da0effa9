/** Validation with zod 4's `z.fromJSONSchema`, and zod issues as short human messages. */

import { z } from 'zod';
import type { JsonSchema } from '../mastra/types.ts';

export type Validator = z.ZodType;
export type Issue = z.core.$ZodIssue;

const compiled = new WeakMap<object, Validator | null>();

/**
 * The zod schema for a JSON Schema, or null when zod cannot read it (e.g. `if`/`then`, external `$ref`).
 * Uses a private registry so titles and ids do not accumulate in zod's global registry.
 */
export function compileSchema(schema: JsonSchema): Validator | null {
  const hit = compiled.get(schema);
  if (hit !== undefined) return hit;
  let v: Validator | null;
  try {
    v = z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema, {
      registry: z.registry(),
      defaultTarget: 'draft-7',
    });
  } catch {
    v = null;
  }
  compiled.set(schema, v);
  return v;
}

/** True when `value` satisfies `schema` (or when the schema cannot be checked). */
export function satisfies(schema: JsonSchema, value: unknown): boolean {
  const v = compileSchema(schema);
  return v === null || v.safeParse(value).success;
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
        return `Must match the pattern ${pattern.length > 200 ? `${pattern.slice(0, 199)}…` : pattern}`;
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
