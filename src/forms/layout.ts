/**
 * The layout of a form: which inputs a schema becomes, in which order, with which block ids.
 * Deterministic in (schema, maxBlocks) only, so a submission can be read back without any stored state.
 */

import { createHash } from 'node:crypto';
import type { JsonSchema } from '../mastra/types.ts';
import { SLACK_LIMITS } from '../slack/limits.ts';
import { isRecord } from '../util/is-record.ts';
import { truncate, truncateStart } from '../util/truncate.ts';
import { safePattern } from './pattern.ts';
import {
  discriminatedUnion,
  type EnumValue,
  enumValues,
  hasComplexKeywords,
  hasDefault,
  isGroupObject,
  listItemType,
  requiredSet,
  unwrapNullable,
} from './schema.ts';
import { humanize, nameWords } from './text.ts';

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
  | 'list'
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
  /** For `list` fields: the type of each line. */
  itemType?: 'string' | 'number' | 'integer';
  /**
   * The choice of variant of a discriminated union (its `path` ends with the tag property);
   * `variantFields`: some variant has fields besides the tag.
   */
  discriminator?: { variantFields: boolean };
  /** Inside a union's variant: when the field applies, e.g. "Kind is email" (its hint says so). */
  condition?: string;
  /** Inside a union's variant, and needed when that variant is chosen. */
  neededInVariant?: boolean;
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

/** One branch of a discriminated union: selected by any of `tagValues`, laid out as `children`. */
export interface LayoutVariant {
  tagValues: readonly EnumValue[];
  schema: JsonSchema;
  children: LayoutNode[];
}

/**
 * A discriminated union laid out in one modal: the choice of variant (`selector`, a select of the
 * tag values), then every variant's fields, all optional; only the chosen variant's are read.
 */
export interface LayoutUnion {
  type: 'union';
  key: string | undefined;
  path: readonly string[];
  schema: JsonSchema;
  required: boolean;
  nullable: boolean;
  hasDefault: boolean;
  tag: string;
  selector: FormField;
  variants: LayoutVariant[];
}

export type LayoutNode = LayoutLeaf | LayoutGroup | LayoutUnion;

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
  return blockIdForSegments(path.map(encodeSegment));
}

function encodeSegment(seg: string): string {
  return encodeURIComponent(seg).replace(/\./g, '%2E');
}

/**
 * A variant's marker in block ids: `@` + its index. `@` never appears in an encoded property name,
 * so `f:target.@1.name` cannot collide with the id of any property path.
 */
function variantSegment(index: number): string {
  return `@${index}`;
}

function blockIdForSegments(segments: readonly string[]): string {
  if (segments.length === 0) return ROOT_BLOCK_ID;
  const id = `f:${segments.join('.')}`;
  if (id.length <= SLACK_LIMITS.blockId) return id;
  // '#' never appears in the short form (encodeURIComponent escapes it), so hashed ids cannot collide with it.
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 40);
  return `${id.slice(0, 200)}#${hash}`;
}

interface Draft {
  key: string | undefined;
  path: string[];
  /** Block id segments: the path's, encoded, with a variant marker after each union. */
  ids: string[];
  labels: string[];
  schema: JsonSchema;
  nullable: boolean;
  required: boolean;
  hasDefault: boolean;
  children: Draft[] | null; // null for leaves and unions
  union: UnionDraft | null;
  discriminator: { variantFields: boolean } | null;
  /** Inside a union's variant: when the variant applies ("Kind is email"). */
  condition?: string;
  /** Inside a union's variant: required all the way from the variant down. */
  needed: boolean;
}

interface UnionDraft {
  tag: string;
  selector: Draft;
  variants: { tagValues: EnumValue[]; schema: JsonSchema; children: Draft[] }[];
}

/** Computes the layout of `schema` within `maxBlocks` input blocks. */
export function computeLayout(schema: JsonSchema, maxBlocks: number = DEFAULT_MAX_BLOCKS): Layout {
  const requested = Number.isFinite(maxBlocks) ? Math.floor(maxBlocks) : DEFAULT_MAX_BLOCKS;
  const budget = Math.min(SLACK_LIMITS.modalBlocks, Math.max(1, requested));
  const { schema: rootSchema, nullable } = unwrapNullable(schema);
  const root = draft(undefined, [], [], [], rootSchema, nullable, true);
  degrade(root, budget);
  const fields: FormField[] = [];
  const node = finish(root, false, fields);
  return { root: node, fields };
}

function ownLabel(key: string, schema: JsonSchema): string {
  const title = schema.title;
  return truncate(
    typeof title === 'string' && title.trim() !== '' ? title : humanize(key),
    LABEL_SEGMENT_MAX,
  );
}

function draft(
  key: string | undefined,
  path: string[],
  ids: string[],
  labels: string[],
  schema: JsonSchema,
  nullable: boolean,
  required: boolean,
): Draft {
  const node: Draft = {
    key,
    path,
    ids,
    labels,
    schema,
    nullable,
    required,
    hasDefault: hasDefault(schema),
    children: null,
    union: null,
    discriminator: null,
    needed: false,
  };
  if (isGroupObject(schema)) {
    node.children = properties(schema, path, ids, labels);
    return node;
  }
  const union = discriminatedUnion(schema);
  if (union === null) return node;
  const tagName = ownLabel(union.tag, union.tagSchema);
  // "Kind" as a word in a sentence ("If kind is email"), unless the schema gave it a title.
  const tagWord =
    typeof union.tagSchema.title === 'string' && union.tagSchema.title.trim() !== ''
      ? tagName
      : tagName.charAt(0).toLowerCase() + tagName.slice(1);
  const allValues = union.variants.flatMap((v) => v.tagValues);
  const description = union.tagSchema.description ?? schema.description;
  const selector: Draft = {
    ...draft(
      union.tag,
      [...path, union.tag],
      [...ids, encodeSegment(union.tag)],
      [...labels, tagName],
      { enum: allValues, ...(typeof description === 'string' ? { description } : {}) },
      false,
      true,
    ),
    discriminator: {
      variantFields: union.variants.some((v) => Object.keys(v.schema.properties as object).length > 1),
    },
  };
  node.union = {
    tag: union.tag,
    selector,
    variants: union.variants.map((variant, i) => {
      const values = variant.tagValues
        .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
        .join(' or ');
      const condition = truncate(`${tagWord} is ${values}`, LABEL_SEGMENT_MAX);
      const children = properties(
        variant.schema,
        path,
        [...ids, variantSegment(i)],
        [...labels, `If ${condition}`],
        union.tag,
      );
      for (const c of children) markCondition(c, condition, true);
      return { tagValues: variant.tagValues, schema: variant.schema, children };
    }),
  };
  return node;
}

/** Drafts of an object's properties (all but `skip`, a union's tag). */
function properties(
  schema: JsonSchema,
  path: string[],
  ids: string[],
  labels: string[],
  skip?: string,
): Draft[] {
  const req = requiredSet(schema);
  const props = schema.properties as Record<string, unknown>;
  return Object.keys(props)
    .filter((k) => k !== skip)
    .map((k) => {
      const child = unwrapNullable(props[k]);
      return draft(
        k,
        [...path, k],
        [...ids, encodeSegment(k)],
        [...labels, ownLabel(k, child.schema)],
        child.schema,
        child.nullable,
        req.has(k),
      );
    });
}

/** Marks a variant's subtree with its condition; nested unions' variants keep their own. */
function markCondition(d: Draft, condition: string, parentNeeded: boolean): void {
  if (d.condition !== undefined) return;
  d.condition = condition;
  d.needed = parentNeeded && !omittable(d);
  for (const c of d.children ?? []) markCondition(c, condition, d.needed);
  if (d.union !== null) markCondition(d.union.selector, condition, d.needed);
}

function count(node: Draft): number {
  if (node.union !== null) {
    let n = 1;
    for (const v of node.union.variants) for (const c of v.children) n += count(c);
    return n;
  }
  if (node.children === null) return 1;
  let n = 0;
  for (const c of node.children) n += count(c);
  return n;
}

function inner(node: Draft): Draft[] {
  if (node.union !== null) return node.union.variants.flatMap((v) => v.children);
  return node.children ?? [];
}

/**
 * Collapses nested objects (and unions) into JSON fields until the form fits: if one alone saves
 * enough, the smallest such; otherwise the largest, then look again. With none left, the whole
 * value becomes one JSON field.
 */
function degrade(root: Draft, budget: number): void {
  let total = count(root);
  while (total > budget) {
    const candidates: { node: Draft; size: number }[] = [];
    const walk = (n: Draft, isRoot: boolean) => {
      if (n.children === null && n.union === null) return;
      if (!isRoot) {
        const size = count(n);
        if (size >= 2) candidates.push({ node: n, size });
      }
      for (const c of inner(n)) walk(c, false);
    };
    walk(root, true);
    if (candidates.length === 0) {
      root.children = null;
      root.union = null;
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
    chosen.node.union = null;
    total -= chosen.size - 1;
  }
}

function omittable(d: Draft): boolean {
  return !d.required || d.nullable || d.hasDefault;
}

function finish(d: Draft, ancestorOmittable: boolean, fields: FormField[]): LayoutNode {
  const innerOmittable = ancestorOmittable || omittable(d);
  if (d.union !== null) {
    const selector = makeField(d.union.selector, innerOmittable);
    fields.push(selector);
    return {
      type: 'union',
      key: d.key,
      path: d.path,
      schema: d.schema,
      required: d.required,
      nullable: d.nullable,
      hasDefault: d.hasDefault,
      tag: d.union.tag,
      selector,
      // Every variant's fields may be left empty: only the chosen variant's are read and checked.
      variants: d.union.variants.map((v) => ({
        tagValues: v.tagValues,
        schema: v.schema,
        children: v.children.map((c) => finish(c, true, fields)),
      })),
    };
  }
  if (d.children !== null) {
    return {
      type: 'group',
      key: d.key,
      path: d.path,
      schema: d.schema,
      required: d.required,
      nullable: d.nullable,
      hasDefault: d.hasDefault,
      children: d.children.map((c) => finish(c, innerOmittable, fields)),
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
  if (shape.kind === 'multiselect' || shape.kind === 'list') {
    // An empty selection or list is a valid empty array unless minItems says otherwise.
    const minItems = typeof d.schema.minItems === 'number' ? d.schema.minItems : 0;
    optional = emptyAllowed || minItems < 1;
  }
  return {
    blockId: blockIdForSegments(d.ids),
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
    ...(shape.itemType === undefined ? {} : { itemType: shape.itemType }),
    ...(d.discriminator === null ? {} : { discriminator: d.discriminator }),
    ...(d.condition === undefined ? {} : { condition: d.condition }),
    ...(d.needed ? { neededInVariant: true } : {}),
  };
}

interface Shape {
  kind: FieldKind;
  element: FieldElement;
  multiline: boolean;
  options: FieldOption[];
  jsonReason?: string;
  itemType?: 'string' | 'number' | 'integer';
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
  const re = safePattern(pattern);
  if (!re.ok) return undefined;
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
  if (hasComplexKeywords(s)) {
    if (discriminatedUnion(s) !== null)
      return jsonShape('union of tagged objects kept as JSON to fit the form');
    return jsonShape(
      s.anyOf !== undefined || s.oneOf !== undefined ? 'union' : 'reference or composed schema',
    );
  }
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
  const itemType = listItemType(s);
  if (itemType !== null) {
    return { kind: 'list', element: 'plain_text_input', multiline: true, options: [], itemType };
  }
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
