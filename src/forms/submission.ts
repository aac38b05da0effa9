/** Slack view state → typed data → validation errors keyed by block id. */

import type { ViewStateValue } from '@slack/bolt';
import type { JsonSchema } from '../mastra/types.ts';
import { findReservedKey, valueAt } from '../util/safe-objects.ts';
import { truncate } from '../util/truncate.ts';
import { EMPTY_STRING_TEXT } from './build.ts';
import {
  computeLayout,
  DEFAULT_MAX_BLOCKS,
  type FormField,
  type LayoutNode,
  ROOT_BLOCK_ID,
} from './layout.ts';
import { acceptsString, resolveUnions } from './schema.ts';
import { formatPath } from './text.ts';
import { checkValue, describeIssue, formatValues, type Issue, satisfies } from './validate.ts';

/** `view.state.values`: block id → action id → element state. */
export type ViewStateValues = Record<string, Record<string, ViewStateValue>>;

export type SubmissionResult = { ok: true; data: unknown } | { ok: false; errors: Record<string, string> };

export interface SubmissionOptions {
  /** The `maxBlocks` the form was built with (default 95). */
  maxBlocks?: number;
}

const MAX_ERROR_LENGTH = 500;

type Read = { kind: 'empty' } | { kind: 'value'; value: unknown } | { kind: 'error'; message: string };

/**
 * Reads a submitted form back into typed data and validates it against `schema`.
 * Conversion problems (bad JSON, a non-number) win over schema errors on the same block.
 * Schemas zod cannot read are not validated here (the workflow server still validates them).
 */
export function readSubmission(
  schema: JsonSchema,
  values: ViewStateValues,
  options: SubmissionOptions = {},
): SubmissionResult {
  const layout = computeLayout(schema, options.maxBlocks ?? DEFAULT_MAX_BLOCKS);
  const reads = new Map<FormField, Read>();
  const errors: Record<string, string> = {};
  for (const field of layout.fields) {
    const read = readField(field, stateOf(values, field));
    reads.set(field, read);
  }
  // Only the chosen variants' fields count: the others are neither read nor checked.
  const active: FormField[] = [];
  const assembled = assemble(layout.root, reads, active, errors);
  for (const field of active) {
    const read = reads.get(field);
    if (read?.kind === 'error') errors[field.blockId] = read.message;
  }
  // Null-prototype objects: zod reads absent keys like `toString` or `constructor` through the prototype.
  const data = withoutPrototypes(assembled.value);

  // Each discriminated union checked as the variant chosen, so issues land on that variant's fields.
  const result = checkValue(resolveUnions(schema, data) as JsonSchema, data);
  if (result === null) {
    return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, data: withPrototypes(data) };
  }
  if (result.ok && Object.keys(errors).length === 0) return { ok: true, data: withPrototypes(result.data) };
  if (!result.ok) {
    const messages = new Map<string, string[]>();
    for (const issue of relevantIssues(result.issues)) {
      const { blockId, message } = placeIssue(issue, active, data);
      if (errors[blockId] !== undefined) continue; // a conversion error already explains this field
      const list = messages.get(blockId) ?? [];
      if (!list.includes(message)) list.push(message);
      messages.set(blockId, list);
    }
    for (const [blockId, list] of messages) errors[blockId] = truncate(list.join('; '), MAX_ERROR_LENGTH);
  }
  return { ok: false, errors };
}

function stateOf(values: ViewStateValues, field: FormField): ViewStateValue | undefined {
  const block = values[field.blockId];
  if (block === undefined) return undefined;
  return block[field.actionId] ?? Object.values(block)[0];
}

function isBlank(text: string | null | undefined): text is null | undefined | '' {
  return text === null || text === undefined || text === '';
}

/** One element's state as a typed value. */
export function readField(field: FormField, state: ViewStateValue | undefined): Read {
  switch (field.kind) {
    case 'text':
    case 'email':
    case 'url': {
      const v = state?.value;
      return isBlank(v) ? { kind: 'empty' } : { kind: 'value', value: v };
    }
    case 'enumtext': {
      const v = state?.value;
      if (isBlank(v)) return { kind: 'empty' };
      const exact = field.options.find((o) => o.data === v);
      if (exact !== undefined) return { kind: 'value', value: exact.data };
      const t = v.trim();
      if (t === '') return { kind: 'empty' };
      const match =
        (t === EMPTY_STRING_TEXT ? field.options.find((o) => o.data === '') : undefined) ??
        field.options.find((o) => String(o.data) === t) ??
        field.options.find((o) => typeof o.data === 'number' && t !== '' && Number(t) === o.data);
      return { kind: 'value', value: match === undefined ? v : match.data };
    }
    case 'number': {
      const v = state?.value;
      if (isBlank(v) || v.trim() === '') return { kind: 'empty' };
      const n = Number(v.trim());
      return Number.isFinite(n)
        ? { kind: 'value', value: n }
        : { kind: 'error', message: 'Must be a number' };
    }
    case 'boolean':
    case 'select': {
      const chosen = state?.selected_option;
      if (chosen === null || chosen === undefined) return { kind: 'empty' };
      const option = field.options.find((o) => o.value === chosen.value);
      return option === undefined
        ? { kind: 'error', message: 'Not one of the choices' }
        : { kind: 'value', value: option.data };
    }
    case 'multiselect': {
      const chosen = state?.selected_options ?? [];
      if (chosen.length === 0) return { kind: 'empty' };
      const picked = new Set<string>(chosen.map((o) => o.value));
      if ([...picked].some((v) => !field.options.some((o) => o.value === v))) {
        return { kind: 'error', message: 'Not one of the choices' };
      }
      // In the schema's order, without duplicates (as Slack shows them).
      return { kind: 'value', value: field.options.filter((o) => picked.has(o.value)).map((o) => o.data) };
    }
    case 'date': {
      const v = state?.selected_date;
      return isBlank(v) ? { kind: 'empty' } : { kind: 'value', value: v };
    }
    case 'time': {
      const v = state?.selected_time;
      if (isBlank(v)) return { kind: 'empty' };
      return {
        kind: 'value',
        value: firstSatisfying(field.schema, [v, `${v}:00`, `${v}:00Z`, `${v}:00.000Z`, `${v}:00+00:00`]),
      };
    }
    case 'datetime': {
      const v = state?.selected_date_time;
      if (v === null || v === undefined) return { kind: 'empty' };
      const date = new Date(Number(v) * 1000);
      if (Number.isNaN(date.getTime())) return { kind: 'error', message: 'Must be a date and time' };
      const iso = date.toISOString(); // 2024-05-01T09:30:00.000Z
      const [sec, min] = [iso.slice(0, 19), iso.slice(0, 16)];
      const spellings = [`${sec}Z`, iso, sec, `${min}Z`, min, `${sec}+00:00`];
      return { kind: 'value', value: firstSatisfying(field.schema, spellings) };
    }
    case 'list': {
      const v = state?.value;
      if (isBlank(v)) return { kind: 'empty' };
      const items = listItems(v);
      if (items.length === 0) return { kind: 'empty' };
      if (field.itemType === 'string') return { kind: 'value', value: items };
      const numbers = items.map((item) => (DECIMAL.test(item) ? Number(item) : Number.NaN));
      const bad = items.flatMap((item, i) => (Number.isFinite(numbers[i]) ? [] : [itemName(i, item)]));
      if (bad.length > 0) {
        return {
          kind: 'error',
          message: `Not a number: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''} (one number per line)`,
        };
      }
      return { kind: 'value', value: numbers };
    }
    case 'json': {
      const v = state?.value;
      if (isBlank(v) || v.trim() === '') return { kind: 'empty' };
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch (e) {
        // Bare text is accepted where a string is allowed (e.g. a string|number union).
        if (acceptsString(field.schema)) return { kind: 'value', value: v };
        return { kind: 'error', message: `Not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
      }
      const reserved = findReservedKey(parsed);
      if (reserved) {
        return {
          kind: 'error',
          message: `\`${String(reserved.at(-1))}\` cannot be used as a key: it is reserved`,
        };
      }
      return { kind: 'value', value: parsed };
    }
  }
}

/** The items of a list input: one per line, trimmed, empty lines dropped. */
export function listItems(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

const ITEM_SHOWN_MAX = 40;

/** A number as people write it on a line: `12`, `-3.5`, `.5`, `1e21` (not hex, not `Infinity`). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `item 2 “abc”`, for messages about one item of a list. */
function itemName(index: number, item: unknown): string {
  const text = typeof item === 'string' ? item : (JSON.stringify(item) ?? String(item));
  return `item ${index + 1} “${truncate(text, ITEM_SHOWN_MAX)}”`;
}

/** The first spelling of a date/time value that the field's schema accepts (else the first). */
function firstSatisfying(schema: JsonSchema, candidates: readonly string[]): string {
  return candidates.find((c) => satisfies(schema, c)) ?? (candidates[0] as string);
}

/** The value of a field left empty, when its parent object is present. */
function emptyValue(field: FormField): unknown {
  if (!field.required) return undefined;
  if (field.kind === 'multiselect' || field.kind === 'list') return [];
  if (field.nullable && !field.hasDefault) return null;
  return undefined;
}

interface Assembled {
  value: unknown;
  /** Something was entered in this subtree. */
  provided: boolean;
}

/**
 * Rebuilds nested objects; an optional (or nullable, or defaulted) object with nothing entered is
 * left out. A union takes the chosen variant's fields (and its tag); `active` collects the fields
 * that were read, `errors` a missing choice of variant.
 */
function assemble(
  node: LayoutNode,
  reads: Map<FormField, Read>,
  active: FormField[],
  errors: Record<string, string>,
): Assembled {
  if (node.type === 'leaf') {
    active.push(node.field);
    const read = reads.get(node.field) ?? { kind: 'empty' };
    if (read.kind === 'value') return { value: read.value, provided: true };
    return {
      value: read.kind === 'empty' ? emptyValue(node.field) : undefined,
      provided: read.kind === 'error',
    };
  }
  let parts: { key: string; value: unknown; provided: boolean }[];
  let provided: boolean;
  if (node.type === 'union') {
    active.push(node.selector);
    const read = reads.get(node.selector) ?? { kind: 'empty' };
    const chosen =
      read.kind === 'value'
        ? node.variants.find((v) => v.tagValues.some((t) => t === read.value))
        : undefined;
    if (chosen === undefined) {
      const ignored: FormField[] = [];
      const filled = node.variants.some((v) =>
        v.children.some((c) => assemble(c, reads, ignored, {}).provided),
      );
      if (read.kind === 'empty' && filled)
        errors[node.selector.blockId] = 'Choose one for the fields you filled in';
      if (read.kind !== 'empty' || filled) return { value: undefined, provided: true };
      return emptyObject(node);
    }
    parts = [
      { key: node.tag, value: read.kind === 'value' ? read.value : undefined, provided: true },
      ...chosen.children.map((child) => ({
        key: child.key as string,
        ...assemble(child, reads, active, errors),
      })),
    ];
    provided = true;
  } else {
    parts = node.children.map((child) => ({
      key: child.key as string,
      ...assemble(child, reads, active, errors),
    }));
    provided = parts.some((p) => p.provided);
    if (!provided && (!node.required || node.nullable || node.hasDefault)) return emptyObject(node);
  }
  const out: Record<string, unknown> = Object.create(null);
  for (const p of parts) {
    if (p.value !== undefined)
      Object.defineProperty(out, p.key, {
        value: p.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return { value: out, provided };
}

/** An object (or union) with nothing entered: left out, or `null` when required and nullable. */
function emptyObject(node: { required: boolean; nullable: boolean; hasDefault: boolean }): Assembled {
  if (!node.required || node.nullable || node.hasDefault) {
    return { value: node.required && node.nullable && !node.hasDefault ? null : undefined, provided: false };
  }
  return { value: undefined, provided: false };
}

/** Drops the pattern issue that zod adds next to a format issue for the same value (email, date…). */
function relevantIssues(issues: readonly Issue[]): Issue[] {
  return issues.filter((issue) => {
    if (issue.code !== 'invalid_format' || issue.format !== 'regex') return true;
    return !issues.some(
      (o) =>
        o !== issue && o.code === 'invalid_format' && o.format !== 'regex' && samePath(o.path, issue.path),
    );
  });
}

function samePath(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** The field an issue belongs to: the deepest field whose path starts the issue's path. */
function placeIssue(
  issue: Issue,
  fields: readonly FormField[],
  data: unknown,
): { blockId: string; message: string } {
  const path = issue.path;
  let best: FormField | undefined;
  for (const f of fields) {
    if (f.path.length <= path.length && f.path.every((seg, i) => seg === path[i])) {
      if (best === undefined || f.path.length > best.path.length) best = f;
    }
  }
  if (best?.kind === 'list') return { blockId: best.blockId, message: listMessage(issue, best, data) };
  const message = describeIssue(issue, valueAt(data, path), best?.kind === 'multiselect');
  if (best !== undefined) {
    const rest = path.slice(best.path.length);
    const where = best.kind === 'json' && rest.length > 0 ? `${formatPath(rest.map(pathSegment))}: ` : '';
    return { blockId: best.blockId, message: `${where}${message}` };
  }
  // An issue about a whole union (e.g. required, nothing chosen): shown on the choice of variant.
  const selector = fields.find((f) => f.discriminator !== undefined && samePath(f.path.slice(0, -1), path));
  if (selector !== undefined) return { blockId: selector.blockId, message };
  // An issue about a whole object: shown on its first field.
  const inside = fields.find((f) => path.every((seg, i) => f.path[i] === seg)) ?? fields[0];
  if (inside === undefined) return { blockId: ROOT_BLOCK_ID, message };
  const where = path.length > 0 ? `${formatPath(path.map(pathSegment))}: ` : '';
  return { blockId: inside.blockId, message: `${where}${message}` };
}

/**
 * An issue in a list input, with what was read: "Read 3 items: a, b, c — at most 2 allowed", or
 * about one item: "Item 2 “x”: Must be at most 5 characters".
 */
function listMessage(issue: Issue, field: FormField, data: unknown): string {
  const rest = issue.path.slice(field.path.length);
  const list = valueAt(data, field.path);
  if (rest.length > 0 && typeof rest[0] === 'number') {
    const index = rest[0];
    const item = Array.isArray(list) ? list[index] : undefined;
    const name = itemName(index, item);
    const what =
      issue.code === 'custom' && /unique/i.test(issue.message)
        ? 'Repeats an earlier item'
        : describeIssue(issue, valueAt(data, issue.path));
    return `${name.charAt(0).toUpperCase()}${name.slice(1)}: ${what}`;
  }
  if ((issue.code === 'too_big' || issue.code === 'too_small') && Array.isArray(list)) {
    const limit = issue.code === 'too_big' ? issue.maximum : issue.minimum;
    const bound = issue.exact === true ? 'exactly' : issue.code === 'too_big' ? 'at most' : 'at least';
    const read =
      list.length === 0
        ? 'Read no items'
        : `Read ${list.length} item${list.length === 1 ? '' : 's'}: ${formatValues(
            list.map((v) => (typeof v === 'string' ? truncate(v, ITEM_SHOWN_MAX) : v)),
            10,
          )}`;
    return `${read} — ${bound} ${limit} ${issue.code === 'too_big' ? 'allowed' : 'needed'}`;
  }
  return describeIssue(issue, list);
}

function pathSegment(seg: PropertyKey): string | number {
  return typeof seg === 'number' ? seg : String(seg);
}

function mapObjects(value: unknown, make: () => Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((v) => mapObjects(v, make));
  if (value === null || typeof value !== 'object') return value;
  const out = make();
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, {
      value: mapObjects(v, make),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function withoutPrototypes(value: unknown): unknown {
  return mapObjects(value, () => Object.create(null));
}

function withPrototypes(value: unknown): unknown {
  return mapObjects(value, () => ({}));
}
