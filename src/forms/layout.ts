/**
 * The layout of a form: which inputs a schema becomes, in which order, with which block ids.
 * Deterministic in (schema, maxBlocks) only, so a submission can be read back without any stored state.
 */

import { createHash } from 'node:crypto';
import type { JsonSchema } from '../mastra/types.ts';
import {
  type EnumValue,
  enumValues,
  hasComplexKeywords,
  hasDefault,
  isGroupObject,
  isRecord,
  requiredSet,
  unwrapNullable,
} from './schema.ts';
import { humanize, nameWords, SLACK_LIMITS, truncate, truncateStart } from './text.ts';

export type FieldKind =
  | 'text'
  | 'email'
  | 'url'
  | 'date'
  | 'datetime'
  | 'time'
  | 'number'
  | 'boolean'
  | 'select'
  | 'multiselect'
  | 'enumtext'
  | 'json';

export type FieldElement =
  | 'plain_text_input'
  | 'email_text_input'
  | 'url_text_input'
  | 'number_input'
  | 'static_select'
  | 'multi_static_select'
  | 'radio_buttons'
  | 'checkboxes'
  | 'datepicker'
  | 'timepicker'
  | 'datetimepicker';

/** One choice of a select, radio or checkbox input: `value` is what Slack sends back, `data` the schema value. */
export interface FieldOption {
  value: string;
  text: string;
  data: EnumValue;
}

/** One input block of a form and how its value maps to the typed data. */
export interface FormField {
  blockId: string;
  actionId: string;
  /** Property path from the top of the data; `[]` when the field holds the whole value. */
  path: readonly string[];
  label: string;
  kind: FieldKind;
  element: FieldElement;
  /** The property's schema with "or null" removed (see `nullable`). */
  schema: JsonSchema;
  nullable: boolean;
  /** Listed in the parent's `required` (always true for the top-level value). */
  required: boolean;
  hasDefault: boolean;
  /** Slack `optional` on the input block: the field may be left empty. */
  optional: boolean;
  /** Multiline plain_text_input (prose strings and JSON fields). */
  multiline: boolean;
  /** For `select`, `multiselect`, `boolean` and `enumtext` (which matches typed text against them). */
  options: FieldOption[];
  /** For `json` fields: what could not be expressed as a native input. */
  jsonReason?: string;
}

export interface LayoutLeaf {
  type: 'leaf';
  key: string | undefined;
  field: FormField;
}

export interface LayoutGroup {
  type: 'group';
  key: string | undefined;
  path: readonly string[];
  schema: JsonSchema;
  required: boolean;
  nullable: boolean;
  hasDefault: boolean;
  children: LayoutNode[];
}

export type LayoutNode = LayoutLeaf | LayoutGroup;

export interface Layout {
  root: LayoutNode;
  fields: FormField[];
}

export const DEFAULT_MAX_BLOCKS = 95;
export const ACTION_ID = 'value';
/** Block id of the field holding the whole value (non-object schemas, or a form degraded to one JSON field). */
export const ROOT_BLOCK_ID = 'form';

const RADIO_MAX = 5;
const CHECKBOX_MAX = SLACK_LIMITS.checkboxOptions;
const SELECT_MAX = SLACK_LIMITS.selectOptions;
const MULTILINE_MIN_LENGTH = 200;
const LABEL_SEGMENT_MAX = 300;
const PATH_SEPARATOR = ' › ';

/**
 * Property names (as words) that suggest prose, so a string without `maxLength` gets a multiline input.
 * `maxLength > 200` also makes a string multiline; any `maxLength ≤ 200` keeps it single-line.
 */
export const PROSE_WORDS: ReadonlySet<string> = new Set([
  'description',
  'comment',
  'comments',
  'reason',
  'note',
  'notes',
  'details',
  'message',
  'body',
  'summary',
  'explanation',
  'feedback',
  'justification',
  'rationale',
  'remarks',
  'instructions',
  'content',
  'prompt',
  'bio',
]);

/** `f:` + the path's segments, URI-encoded (dots too) and joined by "."; long ids end in `#` + a hash. */
export function blockIdFor(path: readonly string[]): string {
  if (path.length === 0) return ROOT_BLOCK_ID;
  const id = `f:${path.map((seg) => encodeURIComponent(seg).replace(/\./g, '%2E')).join('.')}`;
  if (id.length <= SLACK_LIMITS.blockId) return id;
  // '#' never appears in the short form (encodeURIComponent escapes it), so hashed ids cannot collide with it.
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 40);
  return `${id.slice(0, 200)}#${hash}`;
}

interface Draft {
  key: string | undefined;
  path: string[];
  labels: string[];
  schema: JsonSchema;
  nullable: boolean;
  required: boolean;
  hasDefault: boolean;
  children: Draft[] | null; // null for leaves
}

/** Computes the layout of `schema` within `maxBlocks` input blocks. */
export function computeLayout(schema: JsonSchema, maxBlocks: number = DEFAULT_MAX_BLOCKS): Layout {
  const requested = Number.isFinite(maxBlocks) ? Math.floor(maxBlocks) : DEFAULT_MAX_BLOCKS;
  const budget = Math.min(SLACK_LIMITS.modalBlocks, Math.max(1, requested));
  const { schema: rootSchema, nullable } = unwrapNullable(schema);
  const root = draft(undefined, [], [], rootSchema, nullable, true);
  degrade(root, budget);
  const fields: FormField[] = [];
  const node = finish(root, false, fields);
  return { root: node, fields };
}

function draft(
  key: string | undefined,
  path: string[],
  labels: string[],
  schema: JsonSchema,
  nullable: boolean,
  required: boolean,
): Draft {
  const node: Draft = {
    key,
    path,
    labels,
    schema,
    nullable,
    required,
    hasDefault: hasDefault(schema),
    children: null,
  };
  if (isGroupObject(schema)) {
    const req = requiredSet(schema);
    const props = schema.properties as Record<string, unknown>;
    node.children = Object.keys(props).map((k) => {
      const child = unwrapNullable(props[k]);
      const own =
        typeof child.schema.title === 'string' && child.schema.title.trim() !== ''
          ? child.schema.title
          : humanize(k);
      return draft(
        k,
        [...path, k],
        [...labels, truncate(own, LABEL_SEGMENT_MAX)],
        child.schema,
        child.nullable,
        req.has(k),
      );
    });
  }
  return node;
}

function count(node: Draft): number {
  if (node.children === null) return 1;
  let n = 0;
  for (const c of node.children) n += count(c);
  return n;
}

/**
 * Collapses nested objects into JSON fields until the form fits: if one group alone saves enough,
 * the smallest such group; otherwise the largest group, then look again. With no group left, the
 * whole value becomes one JSON field.
 */
function degrade(root: Draft, budget: number): void {
  let total = count(root);
  while (total > budget) {
    const candidates: { node: Draft; size: number }[] = [];
    const walk = (n: Draft, isRoot: boolean) => {
      if (n.children === null) return;
      if (!isRoot) {
        const size = count(n);
        if (size >= 2) candidates.push({ node: n, size });
      }
      for (const c of n.children) walk(c, false);
    };
    walk(root, true);
    if (candidates.length === 0) {
      root.children = null;
      return;
    }
    const excess = total - budget;
    let pick: { node: Draft; size: number } | undefined;
    for (const c of candidates) {
      if (c.size - 1 >= excess && (pick === undefined || c.size < pick.size)) pick = c;
    }
    if (pick === undefined) {
      for (const c of candidates) if (pick === undefined || c.size > pick.size) pick = c;
    }
    const chosen = pick!;
    chosen.node.children = null;
    total -= chosen.size - 1;
  }
}

function omittable(d: Draft): boolean {
  return !d.required || d.nullable || d.hasDefault;
}

function finish(d: Draft, ancestorOmittable: boolean, fields: FormField[]): LayoutNode {
  if (d.children !== null) {
    const inner = ancestorOmittable || omittable(d);
    return {
      type: 'group',
      key: d.key,
      path: d.path,
      schema: d.schema,
      required: d.required,
      nullable: d.nullable,
      hasDefault: d.hasDefault,
      children: d.children.map((c) => finish(c, inner, fields)),
    };
  }
  const field = makeField(d, ancestorOmittable);
  fields.push(field);
  return { type: 'leaf', key: d.key, field };
}

function label(d: Draft): string {
  if (d.labels.length === 0) {
    // A scalar input (the whole input is one value): named by the schema's title, else a short description.
    const { title, description } = d.schema;
    const name =
      typeof title === 'string' && title.trim() !== ''
        ? title
        : typeof description === 'string' && description.trim() !== '' && description.length <= 80
          ? description.trim()
          : 'Value';
    return truncate(name, SLACK_LIMITS.label);
  }
  return truncateStart(d.labels.join(PATH_SEPARATOR), SLACK_LIMITS.label);
}

function makeField(d: Draft, ancestorOmittable: boolean): FormField {
  const shape =
    d.children === null && isGroupObject(d.schema)
      ? jsonShape('nested object kept as JSON to fit the form')
      : classify(d);
  const emptyAllowed = ancestorOmittable || omittable(d);
  let optional = emptyAllowed;
  if (shape.kind === 'multiselect') {
    // An empty selection is a valid empty array unless minItems says otherwise.
    const minItems = typeof d.schema.minItems === 'number' ? d.schema.minItems : 0;
    optional = emptyAllowed || minItems < 1;
  }
  return {
    blockId: blockIdFor(d.path),
    actionId: ACTION_ID,
    path: d.path,
    label: label(d),
    kind: shape.kind,
    element: shape.element,
    schema: d.schema,
    nullable: d.nullable,
    required: d.required,
    hasDefault: d.hasDefault,
    optional,
    multiline: shape.multiline,
    options: shape.options,
    ...(shape.jsonReason === undefined ? {} : { jsonReason: shape.jsonReason }),
  };
}

interface Shape {
  kind: FieldKind;
  element: FieldElement;
  multiline: boolean;
  options: FieldOption[];
  jsonReason?: string;
}

function jsonShape(reason: string): Shape {
  return { kind: 'json', element: 'plain_text_input', multiline: true, options: [], jsonReason: reason };
}

const BOOLEAN_OPTIONS: FieldOption[] = [
  { value: 'true', text: 'Yes', data: true },
  { value: 'false', text: 'No', data: false },
];

const PATTERN_SAMPLES: readonly [FieldKind, readonly string[]][] = [
  [
    'datetime',
    [
      '2024-05-01T09:30:00Z',
      '2024-05-01T09:30:00.000Z',
      '2024-05-01T09:30:00',
      '2024-05-01T09:30Z',
      '2024-05-01T09:30',
    ],
  ],
  ['date', ['2024-05-01']],
  ['time', ['09:30', '09:30:00', '09:30:00Z']],
];
const PATTERN_MISSES = ['hello', 'x', '2024', ''];

/**
 * The picker for a string known only by its `pattern` (zod 4 writes `z.iso.time()`, local and
 * minute-precision datetimes without `format`): the first kind whose sample values the pattern
 * accepts while it rejects ordinary words.
 */
export function patternKind(pattern: string): 'date' | 'datetime' | 'time' | undefined {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return undefined;
  }
  if (PATTERN_MISSES.some((s) => re.test(s))) return undefined;
  for (const [kind, samples] of PATTERN_SAMPLES) {
    if (samples.some((s) => re.test(s))) return kind as 'date' | 'datetime' | 'time';
  }
  return undefined;
}

function classify(d: Draft): Shape {
  const s = d.schema;
  const values = enumValues(s);
  if (values !== null) {
    if (values.length === 0) return jsonShape('enum with no values');
    const options = enumOptions(values);
    if (values.length <= RADIO_MAX)
      return { kind: 'select', element: 'radio_buttons', multiline: false, options };
    if (values.length <= SELECT_MAX)
      return { kind: 'select', element: 'static_select', multiline: false, options };
    return { kind: 'enumtext', element: 'plain_text_input', multiline: false, options };
  }
  if (hasComplexKeywords(s)) return jsonShape('union, reference or composed schema');
  switch (s.type) {
    case 'string':
      return stringShape(d);
    case 'number':
    case 'integer':
      return { kind: 'number', element: 'number_input', multiline: false, options: [] };
    case 'boolean':
      return {
        kind: 'boolean',
        element: 'radio_buttons',
        multiline: false,
        options: BOOLEAN_OPTIONS,
      };
    case 'array':
      return arrayShape(s);
    case 'object':
      return jsonShape(isRecord(s.properties) ? 'object with a map of extra keys' : 'object with free keys');
    default:
      return jsonShape(s.type === undefined ? 'any value' : 'value of several types');
  }
}

function stringShape(d: Draft): Shape {
  const s = d.schema;
  const format = typeof s.format === 'string' ? s.format : undefined;
  const one = (kind: FieldKind, element: FieldElement): Shape => ({
    kind,
    element,
    multiline: false,
    options: [],
  });
  switch (format) {
    case 'email':
      return one('email', 'email_text_input');
    case 'uri':
    case 'url':
    case 'iri':
      return one('url', 'url_text_input');
    case 'date':
      return one('date', 'datepicker');
    case 'date-time':
      return one('datetime', 'datetimepicker');
    case 'time':
      return one('time', 'timepicker');
  }
  if (format === undefined && typeof s.pattern === 'string') {
    const kind = patternKind(s.pattern);
    if (kind === 'date') return one('date', 'datepicker');
    if (kind === 'datetime') return one('datetime', 'datetimepicker');
    if (kind === 'time') return one('time', 'timepicker');
  }
  const maxLength = typeof s.maxLength === 'number' ? s.maxLength : undefined;
  const words = d.key === undefined ? [] : nameWords(d.key);
  const prose = words.some((w) => PROSE_WORDS.has(w));
  const multiline = maxLength === undefined ? prose : maxLength > MULTILINE_MIN_LENGTH;
  return { kind: 'text', element: 'plain_text_input', multiline, options: [] };
}

function arrayShape(s: JsonSchema): Shape {
  if (!isRecord(s.items) || s.prefixItems !== undefined || s.contains !== undefined) {
    return jsonShape('list of free values');
  }
  const items = unwrapNullable(s.items);
  const values = items.nullable ? null : enumValues(items.schema);
  if (values === null) return jsonShape('list of free values');
  if (values.length === 0 || values.length > SELECT_MAX) return jsonShape('list with too many choices');
  const options = enumOptions(values);
  return {
    kind: 'multiselect',
    element: values.length <= CHECKBOX_MAX ? 'checkboxes' : 'multi_static_select',
    multiline: false,
    options,
  };
}

/**
 * Options for enum values. Values are the strings themselves when every value is a string of
 * 1–75 characters; otherwise (long strings, numbers, booleans) the index into the enum.
 */
export function enumOptions(values: readonly EnumValue[]): FieldOption[] {
  const raw = values.every(
    (v) => typeof v === 'string' && v.length >= 1 && v.length <= SLACK_LIMITS.optionValue,
  );
  return values.map((v, i) => ({ value: raw ? (v as string) : String(i), text: optionText(v), data: v }));
}

function optionText(v: EnumValue): string {
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  const s = String(v);
  return truncate(s.trim() === '' ? JSON.stringify(s) : s, SLACK_LIMITS.optionText);
}
