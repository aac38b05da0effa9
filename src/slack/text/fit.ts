/**
 * How every payload Flowgate sends to Slack fits Slack's limits (docs/slack.md), decided in
 * one place. Renderers build their blocks freely, then pass them through `fitMessage` or `fitView`:
 *
 * - every text is cut to its field's limit without splitting a surrogate pair, an mrkdwn entity
 *   (`&amp;`), a `<…>` mention or link, and without leaving a code span or fence open;
 * - ids (`block_id`, `action_id`, `callback_id`) stay ≤ 255, block ids unique within the message or
 *   view (a short hash tells apart ids that would collide once cut);
 * - what cannot be cut without breaking it (a button's `value`, an option's `value`, an input's
 *   `initial_value`) is left out instead — a button without its value could not work;
 * - a message stays within 50 blocks and the undocumented ~12k total (`msg_blocks_too_long`): the
 *   caller's expendable blocks go first, then long texts shrink, then trailing blocks go;
 * - a modal stays within 100 blocks and 250 kB; a modal that cannot carry its `private_metadata`
 *   becomes a notice saying so.
 *
 * Pure functions: the same input always fits the same way, and fitting what fits changes nothing.
 */
import { createHash } from 'node:crypto';
import type { KnownBlock, ModalView } from '@slack/types';
import { truncate as cutPlain } from '../../util/truncate.ts';
import { SLACK_LIMITS } from '../limits.ts';
import { cutMrkdwn } from './mrkdwn.ts';

const L = SLACK_LIMITS;

type Json = Record<string, unknown>;
export type BlockPredicate = (block: KnownBlock) => boolean;

export interface MessageContent {
  text: string;
  blocks?: KnownBlock[];
}

export interface FitMessageOptions {
  /**
   * Blocks that may go when the message is too big, most expendable first: all blocks matching the
   * first predicate go (from the last one up) before any matching the second.
   */
  drop?: readonly BlockPredicate[];
  /** Blocks to keep to the end (e.g. the header, a Cancel button) when trailing blocks must go. */
  keep?: BlockPredicate;
  /** Total characters of all the blocks' strings (default `SLACK_LIMITS.messageTextBudget`). */
  budget?: number;
}

export interface FitViewOptions {
  /** Non-input blocks that may go when the view is too big, most expendable first. */
  drop?: readonly BlockPredicate[];
  /** Serialized bytes (default `SLACK_LIMITS.viewBytesBudget`). */
  budget?: number;
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** Characters of all the strings in a block tree: what Flowgate counts against `messageTextBudget`. */
export function textLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += textLength(v);
    return n;
  }
  if (value !== null && typeof value === 'object') {
    let n = 0;
    for (const v of Object.values(value)) n += textLength(v);
    return n;
  }
  return 0;
}

/** UTF-8 bytes of a view as sent (what `view_too_large` measures). */
function viewSize(view: unknown): number {
  return Buffer.byteLength(JSON.stringify(view));
}

// ---------------------------------------------------------------------------------------------
// Text and ids

export { cutMrkdwn };

/**
 * As many whole lines as fit in `max` characters (joined by "\n"), then `more(n)` for the `n` lines
 * left out. A first line too long to fit whole is cut.
 */
export function fitLines(lines: readonly string[], max: number, more: (left: number) => string): string {
  const all = lines.join('\n');
  if (all.length <= max) return all;
  const reserve = more(lines.length).length + 1;
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    const next = size + (kept.length > 0 ? 1 : 0) + line.length;
    if (next + reserve > max) break;
    kept.push(line);
    size = next;
  }
  if (kept.length === 0) {
    // Not even the first line fits whole: cut it, and still say how many more there are.
    if (lines.length === 1 || max - reserve < 20) return cutMrkdwn(lines[0] ?? '', max);
    return `${cutMrkdwn(lines[0] ?? '', max - reserve)}\n${more(lines.length - 1)}`;
  }
  return `${kept.join('\n')}\n${more(lines.length - kept.length)}`;
}

/** A short, stable digest of `text` for ids. */
function shortHash(text: string, length = 12): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, length);
}

/**
 * An id within `max` characters: unchanged when it fits, else its start, `~` and a hash of the whole
 * id (so two long ids that share their first `max` characters stay apart).
 */
export function fitId(id: string, max: number = L.blockId): string {
  if (id.length <= max) return id;
  const hash = shortHash(id);
  return `${cutCodeUnits(id, max - hash.length - 1)}~${hash}`;
}

/** The first `n` code units of `text`, never ending in the first half of a surrogate pair. */
function cutCodeUnits(text: string, n: number): string {
  if (text.length <= n) return text;
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** Block ids ≤ 255 and unique, in place: a repeated id gets `~` and a hash of the id and its count. */
function uniqueBlockIds(blocks: Json[]): void {
  const taken = new Set<string>();
  for (const block of blocks) {
    const raw = block.block_id;
    if (typeof raw !== 'string') continue;
    if (raw === '') {
      delete block.block_id;
      continue;
    }
    let id = fitId(raw);
    for (let n = 2; taken.has(id); n++) {
      const hash = shortHash(`${raw}#${n}`);
      id = `${cutCodeUnits(raw, L.blockId - hash.length - 1)}~${hash}`;
    }
    taken.add(id);
    block.block_id = id;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

/** `message` within every limit of a Slack message (see the module comment for how). */
export function fitMessage<M extends MessageContent>(message: M, options: FitMessageOptions = {}): M {
  const out: M = { ...message, text: cutMrkdwn(message.text, L.messageText) };
  if (message.blocks === undefined) return out;
  const budget = options.budget ?? L.messageTextBudget;
  const blocks = fitBlocks(message.blocks, 'message');
  const over = () => blocks.length > L.messageBlocks || textLength(blocks) > budget;
  dropExpendable(blocks, options.drop ?? [], over);
  dropTrailing(blocks, options.keep, () => blocks.length > L.messageBlocks);
  shrinkTexts(blocks, () => textLength(blocks) - budget);
  dropTrailing(blocks, options.keep, over);
  out.blocks = blocks;
  return out;
}

/** Each block within its own limits, with unique ids; blocks left with nothing to show are dropped. */
function fitBlocks(blocks: readonly unknown[], surface: 'message' | 'modal'): KnownBlock[] {
  const out: Json[] = [];
  for (const block of blocks) {
    const fitted = fitBlock(block, surface);
    if (fitted) out.push(fitted);
  }
  uniqueBlockIds(out);
  return out as unknown as KnownBlock[];
}

/** Removes blocks matching each predicate in turn (the last one first) while `over()`; in place. */
function dropExpendable(blocks: KnownBlock[], drop: readonly BlockPredicate[], over: () => boolean): void {
  for (const expendable of drop) {
    while (over()) {
      const index = blocks.findLastIndex(expendable);
      if (index === -1) break;
      blocks.splice(index, 1);
    }
  }
}

/** Removes the last block not to be kept (or, with all kept, the last block) while `over()`; in place. */
function dropTrailing(blocks: KnownBlock[], keep: BlockPredicate | undefined, over: () => boolean): void {
  while (over() && blocks.length > 0) {
    const index = keep ? blocks.findLastIndex((b) => !keep(b)) : -1;
    blocks.splice(index === -1 ? blocks.length - 1 : index, 1);
  }
}

/** Texts that may be shortened to save room, with the floor below which they are not cut. */
const SHRINK_FLOOR = 150;

/** Cuts the longest texts (section, field, context, markdown) until `excess()` is ≤ 0 or none is long. */
function shrinkTexts(blocks: readonly KnownBlock[], excess: () => number): void {
  for (let guard = 0; guard < 10_000 && excess() > 0; guard++) {
    let longest: { holder: Json; key: string; mrkdwn: boolean; length: number } | undefined;
    for (const holder of textHolders(blocks as unknown as Json[])) {
      const text = holder.holder[holder.key];
      if (typeof text !== 'string' || text.length <= SHRINK_FLOOR) continue;
      if (!longest || text.length > longest.length) longest = { ...holder, length: text.length };
    }
    if (!longest) return;
    const target = Math.max(SHRINK_FLOOR, longest.length - excess());
    const text = longest.holder[longest.key] as string;
    longest.holder[longest.key] = longest.mrkdwn ? cutMrkdwn(text, target) : cutPlain(text, target);
  }
}

/** The shrinkable texts of blocks: section text and fields, context texts, markdown blocks. */
function* textHolders(blocks: readonly Json[]): Generator<{ holder: Json; key: string; mrkdwn: boolean }> {
  const textObject = function* (value: unknown) {
    if (isJson(value) && typeof value.text === 'string')
      yield { holder: value, key: 'text', mrkdwn: value.type === 'mrkdwn' };
  };
  for (const block of blocks) {
    if (block.type === 'section') {
      yield* textObject(block.text);
      if (Array.isArray(block.fields)) for (const f of block.fields) yield* textObject(f);
    } else if (block.type === 'context' && Array.isArray(block.elements)) {
      for (const el of block.elements) yield* textObject(el);
    } else if (block.type === 'markdown' && typeof block.text === 'string') {
      yield { holder: block, key: 'text', mrkdwn: true };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks and elements

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A text object cut to `max` (mrkdwn-aware for mrkdwn); undefined when it is not a text object. */
function fitText(value: unknown, max: number): Json | undefined {
  if (!isJson(value) || typeof value.text !== 'string') return undefined;
  const text = value.type === 'mrkdwn' ? cutMrkdwn(value.text, max) : cutPlain(value.text, max);
  return text === value.text ? value : { ...value, text };
}

function fitBlock(input: unknown, surface: 'message' | 'modal'): Json | undefined {
  if (!isJson(input)) return undefined;
  const block: Json = { ...input };
  switch (block.type) {
    case 'header': {
      const text = fitText(block.text, L.headerText);
      if (!text || text.text === '') return undefined;
      block.text = text;
      return block;
    }
    case 'section': {
      if (block.text !== undefined) {
        const text = fitText(block.text, L.sectionText);
        if (text) block.text = text;
        else delete block.text;
      }
      if (Array.isArray(block.fields)) {
        const fields = block.fields
          .slice(0, L.sectionFields)
          .map((f) => fitText(f, L.sectionFieldText))
          .filter((f): f is Json => f !== undefined);
        if (fields.length > 0) block.fields = fields;
        else delete block.fields;
      }
      if (block.accessory !== undefined) {
        const accessory = fitElement(block.accessory);
        if (accessory) block.accessory = accessory;
        else delete block.accessory;
      }
      if (block.text === undefined && block.fields === undefined) return undefined;
      return block;
    }
    case 'context': {
      if (!Array.isArray(block.elements)) return undefined;
      const elements = block.elements
        .slice(0, L.contextElements)
        .map((el) => (isJson(el) && el.type === 'image' ? el : fitText(el, L.contextText)))
        .filter((el): el is Json => el !== undefined);
      if (elements.length === 0) return undefined;
      block.elements = elements;
      return block;
    }
    case 'actions': {
      if (!Array.isArray(block.elements)) return undefined;
      const elements = block.elements
        .map(fitElement)
        .filter((el): el is Json => el !== undefined)
        .slice(0, L.actionsElements);
      if (elements.length === 0) return undefined;
      block.elements = elements;
      return block;
    }
    case 'input': {
      if (surface === 'message') return undefined;
      const label = fitText(block.label, L.label);
      if (label) block.label = label;
      if (block.hint !== undefined) {
        const hint = fitText(block.hint, L.hint);
        if (hint) block.hint = hint;
        else delete block.hint;
      }
      const element = fitElement(block.element);
      if (!element) return undefined;
      block.element = element;
      return block;
    }
    case 'markdown':
      if (typeof block.text === 'string') block.text = cutMrkdwn(block.text, L.markdownText);
      return block;
    default:
      return block;
  }
}

const TEXT_INPUTS: ReadonlySet<string> = new Set([
  'plain_text_input',
  'number_input',
  'email_text_input',
  'url_text_input',
]);

function optionLimit(type: unknown): number {
  if (type === 'radio_buttons' || type === 'checkboxes') return L.radioOptions;
  if (type === 'overflow') return L.overflowOptions;
  return L.selectOptions;
}

/** An element within its limits, or undefined when it cannot work within them (e.g. a value too long). */
function fitElement(input: unknown): Json | undefined {
  if (!isJson(input)) return undefined;
  const el: Json = { ...input };
  if (typeof el.action_id === 'string') el.action_id = fitId(el.action_id, L.actionId);
  if (el.placeholder !== undefined) {
    const placeholder = fitText(el.placeholder, L.placeholder);
    if (placeholder) el.placeholder = placeholder;
    else delete el.placeholder;
  }
  if (el.confirm !== undefined) {
    const confirm = fitConfirm(el.confirm);
    if (confirm) el.confirm = confirm;
    else delete el.confirm;
  }
  if (el.type === 'button' || el.type === 'workflow_button') {
    const text = fitText(el.text, L.buttonText);
    if (!text) return undefined;
    el.text = text;
    if (typeof el.value === 'string' && el.value.length > L.buttonValue) return undefined;
    if (typeof el.url === 'string' && el.url.length > L.url) return undefined;
    return el;
  }
  if (TEXT_INPUTS.has(el.type as string)) {
    if (typeof el.initial_value === 'string' && el.initial_value.length > L.textInputLength)
      delete el.initial_value;
    for (const key of ['min_length', 'max_length'] as const) {
      if (typeof el[key] === 'number') el[key] = Math.min(Math.max(0, el[key] as number), L.textInputLength);
    }
    return el;
  }
  if (Array.isArray(el.options) || Array.isArray(el.option_groups)) fitOptions(el);
  return el;
}

function fitConfirm(value: unknown): Json | undefined {
  if (!isJson(value)) return undefined;
  const confirm: Json = { ...value };
  const title = fitText(confirm.title, L.confirmTitle);
  const text = fitText(confirm.text, L.confirmText);
  if (!title || !text) return undefined;
  confirm.title = title;
  confirm.text = text;
  for (const key of ['confirm', 'deny'] as const) {
    if (confirm[key] === undefined) continue;
    const button = fitText(confirm[key], L.confirmButton);
    if (button) confirm[key] = button;
    else delete confirm[key];
  }
  return confirm;
}

/**
 * Options (and option groups) within their limits: texts cut, options whose value does not fit left
 * out, at most as many as the element takes; `initial_option(s)` kept only when they are still among
 * the options (and then exactly as the options show them).
 */
function fitOptions(el: Json): void {
  const max = optionLimit(el.type);
  const fitList = (list: unknown): Json[] =>
    (Array.isArray(list) ? list : [])
      .map(fitOption)
      .filter((o): o is Json => o !== undefined)
      .slice(0, max);
  const byValue = new Map<string, Json>();
  if (Array.isArray(el.options)) {
    el.options = fitList(el.options);
    for (const o of el.options as Json[]) byValue.set(o.value as string, o);
  }
  if (Array.isArray(el.option_groups)) {
    el.option_groups = el.option_groups.slice(0, L.selectOptions).flatMap((group) => {
      if (!isJson(group)) return [];
      const options = fitList(group.options);
      for (const o of options) byValue.set(o.value as string, o);
      const label = fitText(group.label, L.optionText);
      return options.length > 0 ? [{ ...group, ...(label ? { label } : {}), options }] : [];
    });
  }
  const known = (o: unknown) => (isJson(o) && typeof o.value === 'string' ? byValue.get(o.value) : undefined);
  if (el.initial_option !== undefined) {
    const match = known(el.initial_option);
    if (match) el.initial_option = match;
    else delete el.initial_option;
  }
  if (Array.isArray(el.initial_options)) {
    const matches = el.initial_options.map(known).filter((o): o is Json => o !== undefined);
    if (matches.length > 0) el.initial_options = matches;
    else delete el.initial_options;
  }
}

function fitOption(value: unknown): Json | undefined {
  if (!isJson(value) || typeof value.value !== 'string' || value.value.length > L.optionValue) return;
  const text = fitText(value.text, L.optionText);
  if (!text) return undefined;
  const option: Json = { ...value, text };
  if (option.description !== undefined) {
    const description = fitText(option.description, L.optionDescription);
    if (description) option.description = description;
    else delete option.description;
  }
  return option;
}

// ---------------------------------------------------------------------------------------------
// Modals

/**
 * `view` within every limit of a Slack modal. Input blocks are never dropped or renamed (a form's
 * submission is read back by block id); presentational text shrinks when the view is too large.
 * A view whose `private_metadata` cannot be carried, or that stays too large, becomes a notice
 * that says so: Slack never gets a view it would refuse.
 */
export function fitView(view: ModalView, options: FitViewOptions = {}): ModalView {
  const metadata = view.private_metadata;
  if (typeof metadata === 'string' && metadata.length > L.privateMetadata) {
    return unfittableView(
      `This form needs to carry ${metadata.length} characters of reference, and Slack allows ${L.privateMetadata}. Tell whoever runs Flowgate.`,
    );
  }
  const out: Json = { ...view };
  for (const key of ['title', 'submit', 'close'] as const) {
    if (out[key] === undefined) continue;
    const text = fitText(out[key], key === 'title' ? L.modalTitle : L.modalButton);
    if (text) out[key] = text;
  }
  if (typeof out.callback_id === 'string') out.callback_id = fitId(out.callback_id, L.callbackId);
  if (typeof out.external_id === 'string') out.external_id = fitId(out.external_id, L.externalId);
  const blocks = fitBlocks(Array.isArray(view.blocks) ? view.blocks : [], 'modal');
  out.blocks = blocks;
  const isInput = (b: KnownBlock) => b.type === 'input';
  const expendable = [...(options.drop ?? []), () => true].map((p) => (b: KnownBlock) => !isInput(b) && p(b));
  dropExpendable(blocks, expendable, () => blocks.length > L.modalBlocks);
  dropTrailing(blocks, undefined, () => blocks.length > L.modalBlocks);
  const budget = options.budget ?? L.viewBytesBudget;
  const tooBig = () => viewSize(out) > budget;
  if (tooBig()) shrinkView(blocks as unknown as Json[], tooBig);
  if (tooBig()) dropExpendable(blocks, expendable, tooBig);
  if (tooBig())
    return unfittableView('This form is too large for Slack to show. Tell whoever runs Flowgate.');
  return out as unknown as ModalView;
}

/** Steps that make a too-large view smaller, mildest first: shorter hints and labels, then defaults out. */
function shrinkView(blocks: Json[], tooBig: () => boolean): void {
  for (const cap of [500, 150, 50]) {
    for (const text of viewTexts(blocks)) {
      const value = text.holder[text.key];
      if (typeof value === 'string' && value.length > cap)
        text.holder[text.key] = text.mrkdwn ? cutMrkdwn(value, cap) : cutPlain(value, cap);
    }
    if (!tooBig()) return;
  }
  const withInitial = blocks
    .map((b) => b.element)
    .filter((el): el is Json => isJson(el) && typeof el.initial_value === 'string')
    .sort((a, b) => (b.initial_value as string).length - (a.initial_value as string).length);
  for (const el of withInitial) {
    delete el.initial_value;
    if (!tooBig()) return;
  }
}

function* viewTexts(blocks: readonly Json[]): Generator<{ holder: Json; key: string; mrkdwn: boolean }> {
  yield* textHolders(blocks);
  const plainText = function* (value: unknown) {
    if (isJson(value) && typeof value.text === 'string')
      yield { holder: value, key: 'text', mrkdwn: value.type === 'mrkdwn' };
  };
  for (const block of blocks) {
    if (block.type !== 'input') continue;
    yield* plainText(block.label);
    yield* plainText(block.hint);
    if (isJson(block.element)) {
      yield* plainText(block.element.placeholder);
      const options = block.element.options;
      if (Array.isArray(options)) for (const o of options) if (isJson(o)) yield* plainText(o.description);
    }
  }
}

/** A plain modal saying why the real one could not be shown. */
function unfittableView(text: string): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Cannot open' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: cutMrkdwn(text, L.sectionText) } }],
  };
}
