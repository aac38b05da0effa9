/** JSON Schema → Slack input blocks, pre-filled from typed data. */

import type * as slack from '@slack/types';
import type { JsonSchema } from '../mastra/types.ts';
import { SLACK_LIMITS } from '../slack/limits.ts';
import { isRecord } from '../util/is-record.ts';
import { truncate } from '../util/truncate.ts';
import {
  computeLayout,
  DEFAULT_MAX_BLOCKS,
  type FieldOption,
  type FormField,
  type LayoutNode,
} from './layout.ts';
import { safePattern } from './pattern.ts';
import { asSchema, type EnumValue, enumValues, unwrapNullable } from './schema.ts';
import { formatNumber, plain } from './text.ts';

export type InputBlock = slack.InputBlock;
type InputBlockElement = slack.InputBlockElement;
type PlainTextOption = slack.PlainTextOption;

export interface FormOptions {
  /** Typed data to pre-fill (e.g. a previous answer). Missing values fall back to the schema's `default`s. */
  initial?: unknown;
  /**
   * Most input blocks the form may use (default 95, leaving 5 of Slack's 100 for the caller's own
   * blocks). Pass the same value to `readSubmission`.
   */
  maxBlocks?: number;
}

export interface Form {
  /** One input block per field, in schema order. */
  blocks: InputBlock[];
  fields: FormField[];
}

/** How an enum's empty-string value is typed in a text field (a blank field means "no answer"). */
export const EMPTY_STRING_TEXT = '""';

/** Largest magnitude shown as a number_input bound; zod's ±(2^53−1) for `.int()` means "no bound". */
const MAX_BOUND = Number.MAX_SAFE_INTEGER;

export function buildForm(schema: JsonSchema, options: FormOptions = {}): Form {
  const layout = computeLayout(schema, options.maxBlocks ?? DEFAULT_MAX_BLOCKS);
  const initials = new Map<FormField, unknown>();
  resolveInitial(layout.root, options.initial, true, initials);
  return {
    blocks: layout.fields.map((field) => inputBlock(field, initials.get(field))),
    fields: layout.fields,
  };
}

/**
 * Walks the layout with the typed data, filling gaps from each level's `default`. Inside an optional
 * (or nullable) object that the data leaves out, defaults are not shown: a pre-filled default would
 * make the object look answered and bring it back on submission.
 */
function resolveInitial(
  node: LayoutNode,
  value: unknown,
  useDefaults: boolean,
  out: Map<FormField, unknown>,
): void {
  const schema = node.type === 'leaf' ? node.field.schema : node.schema;
  const v = value !== undefined ? value : useDefaults ? schema.default : undefined;
  if (node.type === 'leaf') {
    out.set(node.field, v);
    return;
  }
  if (node.type === 'union') {
    // The variant the data's tag selects; the other variants' fields stay empty.
    const chosen = isRecord(v)
      ? node.variants.find((variant) => variant.tagValues.some((t) => t === v[node.tag]))
      : undefined;
    out.set(node.selector, chosen === undefined ? undefined : (v as Record<string, unknown>)[node.tag]);
    for (const variant of node.variants) {
      const mine = variant === chosen;
      for (const child of variant.children) {
        const key = child.key as string;
        const own = mine && isRecord(v) && Object.hasOwn(v, key) ? v[key] : undefined;
        resolveInitial(child, own, mine && useDefaults, out);
      }
    }
    return;
  }
  const omittable = !node.required || node.nullable || node.hasDefault;
  const childDefaults = useDefaults && (isRecord(v) || !omittable);
  for (const child of node.children) {
    const key = child.key as string;
    resolveInitial(child, isRecord(v) && Object.hasOwn(v, key) ? v[key] : undefined, childDefaults, out);
  }
}

function inputBlock(field: FormField, initial: unknown): InputBlock {
  const text = initialText(field, initial);
  const fits = text === undefined || text.length <= initialTextMax(field);
  const block: InputBlock = {
    type: 'input',
    block_id: field.blockId,
    label: plain(field.label, SLACK_LIMITS.label),
    optional: field.optional,
    element: element(field, initial, fits ? text : undefined),
  };
  const note = !fits
    ? tooLongNote(field, initial, text.length)
    : unlistable(field, initial)
      ? 'The current list has items that cannot be shown one per line (empty, or with line breaks or spaces at the ends); enter it again.'
      : unsupportedPatternNote(field);
  const hint = hintText(field, note);
  if (hint !== '') block.hint = plain(hint, SLACK_LIMITS.hint);
  return block;
}

/**
 * Said up front when the field's own pattern (or its list items') is one Flowgate cannot check in
 * linear time: an answer here is refused (validate.ts), so people know before they type.
 */
function unsupportedPatternNote(field: FormField): string {
  const items = field.kind === 'list' && isRecord(field.schema.items) ? field.schema.items : undefined;
  const pattern = (items ?? field.schema).pattern;
  if (typeof pattern !== 'string') return '';
  const safe = safePattern(pattern);
  if (safe.ok) return '';
  return `Flowgate cannot check this field's pattern safely (${safe.reason}), so it refuses answers here: leave it empty if you may.`;
}

/** What a text input would be pre-filled with (undefined for other inputs, or when there is nothing). */
function initialText(field: FormField, initial: unknown): string | undefined {
  switch (field.kind) {
    case 'text':
    case 'email':
    case 'url':
      return typeof initial === 'string' && initial !== '' ? initial : undefined;
    case 'enumtext': {
      const match = matchOption(field.options, initial);
      if (match === undefined) return undefined;
      return match.data === '' ? EMPTY_STRING_TEXT : String(match.data);
    }
    case 'list':
      return listText(field, initial);
    case 'json':
      return initial === undefined ? undefined : stringifyJson(initial);
    default:
      return undefined;
  }
}

/**
 * A list as its input shows it: one item per line. Undefined for an empty list, and for items one
 * line cannot hold exactly (empty, with line breaks or spaces at either end, not of the item type):
 * `listItems` reads lines trimmed and drops empty ones, so those would not come back as they were.
 */
export function listText(field: FormField, initial: unknown): string | undefined {
  if (!Array.isArray(initial) || initial.length === 0) return undefined;
  const lines: string[] = [];
  for (const item of initial) {
    if (field.itemType === 'string') {
      if (typeof item !== 'string' || item === '' || item.trim() !== item || /[\r\n]/.test(item))
        return undefined;
      lines.push(item);
    } else {
      if (typeof item !== 'number' || !Number.isFinite(item)) return undefined;
      lines.push(formatNumber(item));
    }
  }
  return lines.join('\n');
}

/** True when `initial` is a list that one item per line cannot show (see `listText`). */
function unlistable(field: FormField, initial: unknown): boolean {
  return (
    field.kind === 'list' &&
    Array.isArray(initial) &&
    initial.length > 0 &&
    listText(field, initial) === undefined
  );
}

/** The longest pre-filled text the field's input takes: Slack's limit, or the schema's maxLength. */
function initialTextMax(field: FormField): number {
  const max = field.kind === 'text' ? lengthBounds(field.schema).max : undefined;
  return max ?? SLACK_LIMITS.textInputLength;
}

/**
 * Why a field is empty although there is a value to show. Left empty, a field is left out of the
 * submission, so the schema's own `default` applies (zod, and Mastra again) — only then does the
 * note promise it.
 */
function tooLongNote(field: FormField, initial: unknown, length: number): string {
  const own = field.schema.default;
  const isDefault = field.hasDefault && (initial === own || JSON.stringify(initial) === JSON.stringify(own));
  return isDefault
    ? `The default (${length} characters) is too long to show here; leave this empty to use it.`
    : `The current value (${length} characters) is too long to show here.`;
}

function hintText(field: FormField, note: string): string {
  const parts: string[] = [];
  const description = field.schema.description;
  // Not repeated when it already names the field (a scalar input's label).
  if (typeof description === 'string' && description.trim() !== '' && description.trim() !== field.label)
    parts.push(description.trim());
  if (field.kind === 'enumtext')
    parts.push(
      `One of: ${listValues(
        field.options.map((o) => o.data),
        60,
      )}`,
    );
  if (field.neededInVariant === true && field.condition !== undefined)
    parts.push(`Required if ${field.condition}.`);
  if (field.discriminator?.variantFields === true)
    parts.push('Then fill in the fields marked “If …” for your choice.');
  if (field.kind === 'list') parts.push(listHint(field));
  if (field.kind === 'json') parts.push(unionHint(field.schema) ?? 'Enter JSON.');
  // The description reads as a sentence before what the form adds ("Labels. One item per line.").
  if (parts.length > 1 && !/[.!?:;…)]$/.test(parts[0] as string)) parts[0] = `${parts[0]}.`;
  const text = parts.join(' ');
  if (note === '') return text;
  // The note must survive the hint's limit: the rest gives way.
  const room = SLACK_LIMITS.hint - note.length - 1;
  return text === '' ? note : `${truncate(text, room)} ${note}`;
}

/** "One per line", with the list's limits: "One per line, at most 3, no repeats." */
function listHint(field: FormField): string {
  const s = field.schema;
  const min = typeof s.minItems === 'number' && s.minItems > 0 ? Math.ceil(s.minItems) : undefined;
  const max = typeof s.maxItems === 'number' ? Math.floor(s.maxItems) : undefined;
  const what =
    field.itemType === 'string'
      ? 'One item per line'
      : `One ${field.itemType === 'integer' ? 'whole number' : 'number'} per line`;
  const limits: string[] = [];
  if (min !== undefined && max !== undefined)
    limits.push(min === max ? `exactly ${min}` : `${min} to ${max}`);
  else if (min !== undefined) limits.push(`at least ${min}`);
  else if (max !== undefined) limits.push(`at most ${max}`);
  if (s.uniqueItems === true) limits.push('no repeats');
  return limits.length > 0 ? `${what}, ${limits.join(', ')}.` : `${what}.`;
}

/** For a JSON field holding a union: the shapes it takes, e.g. `Enter JSON, one of: "…" or 0.` */
function unionHint(schema: JsonSchema): string | undefined {
  const branches = Array.isArray(schema.anyOf)
    ? schema.anyOf
    : Array.isArray(schema.oneOf)
      ? schema.oneOf
      : undefined;
  if (branches === undefined || branches.length < 2) return undefined;
  const shown = branches.slice(0, 4).map((b) => jsonExample(b));
  const more = branches.length > shown.length ? ` (or ${branches.length - shown.length} more)` : '';
  return `Enter JSON, one of: ${shown.join(' or ')}${more}.`;
}

/** The input element; `text` is the already-checked pre-filled text of text inputs. */
function element(field: FormField, initial: unknown, text: string | undefined): InputBlockElement {
  const action_id = field.actionId;
  const s = field.schema;
  switch (field.kind) {
    case 'text': {
      const el: slack.PlainTextInput = { type: 'plain_text_input', action_id };
      if (field.multiline) el.multiline = true;
      const { min, max } = lengthBounds(s);
      if (min !== undefined) el.min_length = min;
      if (max !== undefined) el.max_length = max;
      if (text !== undefined) el.initial_value = text;
      return el;
    }
    case 'email':
    case 'url': {
      const el: slack.EmailInput | slack.URLInput =
        field.kind === 'email'
          ? { type: 'email_text_input', action_id }
          : { type: 'url_text_input', action_id };
      if (text !== undefined) el.initial_value = text;
      return el;
    }
    case 'number': {
      const integer = s.type === 'integer';
      const el: slack.NumberInput = { type: 'number_input', action_id, is_decimal_allowed: !integer };
      const { min, max } = numberBounds(s, integer);
      if (min !== undefined) el.min_value = formatNumber(min);
      if (max !== undefined) el.max_value = formatNumber(max);
      if (
        typeof initial === 'number' &&
        Number.isFinite(initial) &&
        (!integer || Number.isInteger(initial)) &&
        (min === undefined || initial >= min) &&
        (max === undefined || initial <= max)
      ) {
        el.initial_value = formatNumber(initial);
      }
      return el;
    }
    case 'boolean':
    case 'select': {
      const options = field.options.map(toOption);
      const match = matchOption(field.options, initial);
      if (field.element === 'radio_buttons') {
        const el: slack.RadioButtons = { type: 'radio_buttons', action_id, options };
        if (match !== undefined) el.initial_option = toOption(match);
        return el;
      }
      const el: slack.StaticSelect = { type: 'static_select', action_id, options };
      if (match !== undefined) el.initial_option = toOption(match);
      return el;
    }
    case 'multiselect': {
      const options = field.options.map(toOption);
      const chosen = Array.isArray(initial)
        ? field.options.filter((o) => initial.some((v) => sameValue(v, o.data))).map(toOption)
        : [];
      if (field.element === 'checkboxes') {
        const el: slack.Checkboxes = { type: 'checkboxes', action_id, options };
        if (chosen.length > 0) el.initial_options = chosen;
        return el;
      }
      const el: slack.MultiStaticSelect = { type: 'multi_static_select', action_id, options };
      if (chosen.length > 0) el.initial_options = chosen;
      const maxItems = s.maxItems;
      if (typeof maxItems === 'number' && maxItems >= 1 && maxItems < options.length) {
        el.max_selected_items = Math.floor(maxItems);
      }
      return el;
    }
    case 'enumtext': {
      const el: slack.PlainTextInput = { type: 'plain_text_input', action_id };
      el.placeholder = plain(
        `e.g. ${listValues(
          field.options.map((o) => o.data),
          5,
        )}`,
        SLACK_LIMITS.placeholder,
      );
      if (text !== undefined) el.initial_value = text;
      return el;
    }
    case 'date': {
      const el: slack.Datepicker = { type: 'datepicker', action_id };
      if (
        typeof initial === 'string' &&
        /^\d{4}-\d{2}-\d{2}$/.test(initial) &&
        !Number.isNaN(Date.parse(initial))
      ) {
        el.initial_date = initial;
      }
      return el;
    }
    case 'datetime': {
      const el: slack.DateTimepicker = { type: 'datetimepicker', action_id };
      if (typeof initial === 'string') {
        const ms = Date.parse(initial);
        if (Number.isFinite(ms) && ms >= 0 && ms < 1e13) el.initial_date_time = Math.floor(ms / 1000);
      }
      return el;
    }
    case 'time': {
      const el: slack.Timepicker = { type: 'timepicker', action_id };
      const m = typeof initial === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)/.exec(initial) : null;
      if (m) el.initial_time = `${m[1]}:${m[2]}`;
      return el;
    }
    case 'list': {
      const el: slack.PlainTextInput = { type: 'plain_text_input', action_id, multiline: true };
      el.placeholder = plain('One per line', SLACK_LIMITS.placeholder);
      if (text !== undefined) el.initial_value = text;
      return el;
    }
    case 'json': {
      const el: slack.PlainTextInput = { type: 'plain_text_input', action_id, multiline: true };
      el.placeholder = plain(jsonExample(s), SLACK_LIMITS.placeholder);
      if (text !== undefined) el.initial_value = text;
      return el;
    }
  }
}

function toOption(o: FieldOption): PlainTextOption {
  return { text: plain(o.text), value: o.value };
}

function sameValue(a: unknown, b: EnumValue): boolean {
  return a === b;
}

function matchOption(options: readonly FieldOption[], value: unknown): FieldOption | undefined {
  return options.find((o) => sameValue(value, o.data));
}

function lengthBounds(s: JsonSchema): { min?: number; max?: number } {
  const cap = SLACK_LIMITS.textInputLength;
  let min =
    typeof s.minLength === 'number' && s.minLength >= 1 && s.minLength <= cap
      ? Math.ceil(s.minLength)
      : undefined;
  const max =
    typeof s.maxLength === 'number' && s.maxLength >= 1 ? Math.min(Math.floor(s.maxLength), cap) : undefined;
  if (min !== undefined && max !== undefined && min > max) min = undefined;
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

/** Inclusive bounds Slack can show; exclusive bounds are tightened for integers and kept as-is for decimals. */
export function numberBounds(s: JsonSchema, integer: boolean): { min?: number; max?: number } {
  let min: number | undefined;
  let max: number | undefined;
  if (typeof s.minimum === 'number') min = integer ? Math.ceil(s.minimum) : s.minimum;
  if (typeof s.exclusiveMinimum === 'number') {
    const ex = integer ? Math.floor(s.exclusiveMinimum) + 1 : s.exclusiveMinimum;
    min = min === undefined ? ex : Math.max(min, ex);
  }
  if (typeof s.maximum === 'number') max = integer ? Math.floor(s.maximum) : s.maximum;
  if (typeof s.exclusiveMaximum === 'number') {
    const ex = integer ? Math.ceil(s.exclusiveMaximum) - 1 : s.exclusiveMaximum;
    max = max === undefined ? ex : Math.min(max, ex);
  }
  if (min !== undefined && !(Math.abs(min) < MAX_BOUND)) min = undefined;
  if (max !== undefined && !(Math.abs(max) < MAX_BOUND)) max = undefined;
  if (min !== undefined && max !== undefined && min > max) return {};
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

/** Pretty JSON when it fits Slack's 3000-character text input, compact otherwise. */
export function stringifyJson(value: unknown): string | undefined {
  let pretty: string | undefined;
  try {
    pretty = JSON.stringify(value, null, 2);
  } catch {
    return undefined;
  }
  if (pretty === undefined || pretty.length <= SLACK_LIMITS.textInputLength) return pretty;
  return JSON.stringify(value);
}

function listValues(values: readonly EnumValue[], max: number): string {
  const shown = values.slice(0, max).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  const rest = values.length - shown.length;
  return rest > 0 ? `${shown.join(', ')}, … (${rest} more)` : shown.join(', ');
}

/** A short picture of the expected JSON, e.g. `{"street": "…", "zip": 0}` or `[{"name": "…"}, …]`. */
export function jsonExample(schema: unknown, depth = 0): string {
  const { schema: s } = unwrapNullable(schema);
  const values = enumValues(s);
  if (values !== null && values.length > 0) return JSON.stringify(values[0]);
  if (depth > 2) return '…';
  switch (s.type) {
    case 'string':
      return '"…"';
    case 'number':
    case 'integer':
      return '0';
    case 'boolean':
      return 'true';
    case 'null':
      return 'null';
    case 'array': {
      if (Array.isArray(s.items)) return `[${s.items.map((i) => jsonExample(i, depth + 1)).join(', ')}]`;
      return isRecord(s.items) ? `[${jsonExample(s.items, depth + 1)}, …]` : '[…]';
    }
    case 'object': {
      const props = isRecord(s.properties) ? Object.keys(s.properties) : [];
      if (props.length > 0) {
        const shown = props
          .slice(0, 4)
          .map(
            (k) =>
              `${JSON.stringify(k)}: ${jsonExample(asSchema((s.properties as Record<string, unknown>)[k]), depth + 1)}`,
          );
        return truncate(`{${shown.join(', ')}${props.length > 4 ? ', …' : ''}}`, SLACK_LIMITS.placeholder);
      }
      if (isRecord(s.additionalProperties))
        return `{"key": ${jsonExample(s.additionalProperties, depth + 1)}}`;
      return '{…}';
    }
    default:
      return 'JSON value';
  }
}
