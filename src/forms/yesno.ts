/** Recognises resume schemas that can be answered with one click (Approve / Reject). */

import type { JsonSchema } from '../mastra/types.ts';
import { enumValues, hasComplexKeywords, isGroupObject, requiredSet, unwrapNullable } from './schema.ts';

export interface YesNoShape {
  /** The boolean property (true = yes / approve). */
  booleanField: string;
  /** An optional plain string property for a comment, if the schema has one. */
  commentField?: string;
}

/**
 * `{ <boolean> }` or `{ <boolean>, <optional string> }`, and nothing else: the boolean may be required
 * or not; the string must be optional (or have a default), plain (no enum, format or pattern) and
 * allow the empty answer (no minLength). Returns null for any other schema.
 */
export function isYesNoSchema(schema: JsonSchema): YesNoShape | null {
  const { schema: s, nullable } = unwrapNullable(schema);
  if (nullable || !isGroupObject(s)) return null;
  const props = s.properties as Record<string, unknown>;
  const keys = Object.keys(props);
  if (keys.length < 1 || keys.length > 2) return null;
  const required = requiredSet(s);
  let booleanField: string | undefined;
  let commentField: string | undefined;
  for (const key of keys) {
    const p = unwrapNullable(props[key]);
    if (hasComplexKeywords(p.schema)) return null;
    if (
      p.schema.type === 'boolean' &&
      !p.nullable &&
      enumValues(p.schema) === null &&
      booleanField === undefined
    ) {
      booleanField = key;
      continue;
    }
    const optional = !required.has(key) || p.schema.default !== undefined || p.nullable;
    const plainString =
      p.schema.type === 'string' &&
      enumValues(p.schema) === null &&
      p.schema.format === undefined &&
      p.schema.pattern === undefined &&
      !(typeof p.schema.minLength === 'number' && p.schema.minLength > 0);
    if (plainString && optional && commentField === undefined) {
      commentField = key;
      continue;
    }
    return null;
  }
  if (booleanField === undefined) return null;
  return commentField === undefined ? { booleanField } : { booleanField, commentField };
}
