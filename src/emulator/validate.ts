/**
 * Block Kit checks, reported the way Slack does: a message plus a JSON pointer
 * (`must be less than 3001 characters [json-pointer:/blocks/0/text/text]`).
 * Not a full schema: the limits of docs/slack.md plus basic structure (known types, input blocks only in modals).
 */

import { isRecord } from '../util/is-record.ts';
import type { EmulatorLimits } from './limits.ts';
import type { JsonObject } from './types.ts';

export type Surface = 'message' | 'modal';

export interface ValidationIssue {
  message: string;
  pointer: string;
}

export function formatIssue(issue: ValidationIssue): string {
  return `${issue.message} [json-pointer:${issue.pointer}]`;
}

export const KNOWN_BLOCK_TYPES: ReadonlySet<string> = new Set([
  'actions',
  'alert',
  'card',
  'carousel',
  'container',
  'context',
  'context_actions',
  'data_table',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'plan',
  'rich_text',
  'section',
  'table',
  'task_card',
  'video',
]);

const SELECTS = [
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
];

const ACTIONS_ELEMENTS: ReadonlySet<string> = new Set([
  'button',
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'timepicker',
  'overflow',
  'radio_buttons',
  'rich_text_input',
  'workflow_button',
  ...SELECTS,
]);

const ACCESSORY_ELEMENTS: ReadonlySet<string> = new Set([
  'button',
  'checkboxes',
  'datepicker',
  'timepicker',
  'image',
  'overflow',
  'radio_buttons',
  'workflow_button',
  ...SELECTS,
]);

export const INPUT_ELEMENTS: ReadonlySet<string> = new Set([
  'plain_text_input',
  'number_input',
  'email_text_input',
  'url_text_input',
  'checkboxes',
  'radio_buttons',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'rich_text_input',
  'file_input',
  ...SELECTS,
]);

const CONTEXT_ACTIONS_ELEMENTS: ReadonlySet<string> = new Set(['feedback_buttons', 'icon_button']);

/** What makes two options the same option: their value and their text. */
function optionKey(option: unknown): string {
  if (!isRecord(option)) return '';
  const text = isRecord(option.text) ? option.text : {};
  return JSON.stringify([option.value, text.type, text.text]);
}

class Checker {
  readonly issues: ValidationIssue[] = [];
  readonly limits: EmulatorLimits;
  readonly surface: Surface;

  constructor(limits: EmulatorLimits, surface: Surface) {
    this.limits = limits;
    this.surface = surface;
  }

  fail(message: string, pointer: string): false {
    this.issues.push({ message, pointer });
    return false;
  }

  /** A string field: optional unless `required`, length ≤ max. */
  string(obj: JsonObject, key: string, pointer: string, max: number, required = false): boolean {
    const value = obj[key];
    if (value === undefined || value === null) {
      return required ? this.fail(`missing required field: ${key}`, pointer) : true;
    }
    if (typeof value !== 'string') return this.fail('must be a string', `${pointer}/${key}`);
    if (required && value.length === 0)
      return this.fail('must be more than 0 characters', `${pointer}/${key}`);
    if (value.length > max) return this.fail(`must be less than ${max + 1} characters`, `${pointer}/${key}`);
    return true;
  }

  /** A composition text object (`{ type: 'plain_text' | 'mrkdwn', text }`). */
  text(value: unknown, pointer: string, max: number, plainOnly = false): boolean {
    if (!isRecord(value)) return this.fail('must provide an object', pointer);
    const type = value.type;
    if (type !== 'plain_text' && (plainOnly || type !== 'mrkdwn')) {
      return this.fail('must be a valid enum value', `${pointer}/type`);
    }
    const text = value.text;
    if (typeof text !== 'string') return this.fail('missing required field: text', pointer);
    if (text.length === 0) return this.fail('must be more than 0 characters', `${pointer}/text`);
    if (text.length > max) return this.fail(`must be less than ${max + 1} characters`, `${pointer}/text`);
    return true;
  }

  optionalText(obj: JsonObject, key: string, pointer: string, max: number, plainOnly = false): void {
    if (obj[key] !== undefined) this.text(obj[key], `${pointer}/${key}`, max, plainOnly);
  }

  array(obj: JsonObject, key: string, pointer: string, min: number, max: number): unknown[] | undefined {
    const value = obj[key];
    if (value === undefined) {
      if (min > 0) this.fail(`missing required field: ${key}`, pointer);
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.fail('must be an array', `${pointer}/${key}`);
      return undefined;
    }
    if (value.length < min)
      this.fail(`must have at least ${min} item${min === 1 ? '' : 's'}`, `${pointer}/${key}`);
    if (value.length > max) this.fail(`no more than ${max} items allowed`, `${pointer}/${key}`);
    return value;
  }

  blocks(blocks: unknown, pointer: string, maxBlocks: number): void {
    if (!Array.isArray(blocks)) {
      this.fail('must be an array', pointer);
      return;
    }
    if (blocks.length > maxBlocks) {
      this.fail(`no more than ${maxBlocks} items allowed`, pointer);
      return;
    }
    // Slack refuses a message or view whose blocks share a block_id (invalid_blocks / invalid_arguments).
    const seen = new Set<string>();
    blocks.forEach((block, i) => {
      this.block(block, `${pointer}/${i}`);
      if (!isRecord(block) || typeof block.block_id !== 'string') return;
      if (seen.has(block.block_id)) this.fail('must be unique', `${pointer}/${i}/block_id`);
      seen.add(block.block_id);
    });
  }

  block(block: unknown, p: string): void {
    const L = this.limits;
    if (!isRecord(block)) {
      this.fail('must provide an object', p);
      return;
    }
    const type = block.type;
    if (typeof type !== 'string') {
      this.fail('missing required field: type', p);
      return;
    }
    if (!KNOWN_BLOCK_TYPES.has(type)) {
      this.fail(`unsupported type: ${type}`, `${p}/type`);
      return;
    }
    this.string(block, 'block_id', p, L.blockId);
    switch (type) {
      case 'section': {
        if (block.text === undefined && block.fields === undefined && block.expand === undefined) {
          this.fail('must provide either text or fields', p);
        }
        if (block.text !== undefined) this.text(block.text, `${p}/text`, L.sectionText);
        const fields = this.array(block, 'fields', p, 0, L.sectionFields);
        fields?.forEach((field, i) => {
          this.text(field, `${p}/fields/${i}`, L.sectionFieldText);
        });
        if (block.accessory !== undefined)
          this.element(block.accessory, `${p}/accessory`, ACCESSORY_ELEMENTS);
        break;
      }
      case 'header':
        if (block.text === undefined) this.fail('missing required field: text', p);
        else this.text(block.text, `${p}/text`, L.headerText, true);
        break;
      case 'context': {
        const elements = this.array(block, 'elements', p, 1, L.contextElements);
        elements?.forEach((el, i) => {
          const ep = `${p}/elements/${i}`;
          if (isRecord(el) && el.type === 'image') this.image(el, ep);
          else this.text(el, ep, L.sectionText);
        });
        break;
      }
      case 'actions': {
        const elements = this.array(block, 'elements', p, 1, L.actionsElements);
        elements?.forEach((el, i) => {
          this.element(el, `${p}/elements/${i}`, ACTIONS_ELEMENTS);
        });
        break;
      }
      case 'context_actions': {
        const elements = this.array(block, 'elements', p, 1, 5);
        elements?.forEach((el, i) => {
          this.element(el, `${p}/elements/${i}`, CONTEXT_ACTIONS_ELEMENTS);
        });
        break;
      }
      case 'input':
        if (this.surface === 'message') {
          this.fail('input blocks are only allowed in modals and home tabs', `${p}/type`);
          break;
        }
        if (block.label === undefined) this.fail('missing required field: label', p);
        else this.text(block.label, `${p}/label`, L.inputLabel, true);
        this.optionalText(block, 'hint', p, L.inputHint, true);
        if (block.element === undefined) this.fail('missing required field: element', p);
        else this.element(block.element, `${p}/element`, INPUT_ELEMENTS);
        break;
      case 'markdown':
        this.string(block, 'text', p, L.markdownText, true);
        break;
      case 'image':
        this.image(block, p);
        this.optionalText(block, 'title', p, L.altText, true);
        break;
      case 'rich_text':
        this.array(block, 'elements', p, 0, Number.POSITIVE_INFINITY);
        if (block.elements === undefined) this.fail('missing required field: elements', p);
        break;
      default:
        break;
    }
  }

  image(el: JsonObject, p: string): void {
    if (el.image_url === undefined && el.slack_file === undefined) {
      this.fail('missing required field: image_url', p);
    } else {
      this.string(el, 'image_url', p, this.limits.url);
    }
    this.string(el, 'alt_text', p, this.limits.altText, true);
  }

  element(el: unknown, p: string, allowed: ReadonlySet<string>): void {
    const L = this.limits;
    if (!isRecord(el)) {
      this.fail('must provide an object', p);
      return;
    }
    const type = el.type;
    if (typeof type !== 'string') {
      this.fail('missing required field: type', p);
      return;
    }
    if (!allowed.has(type)) {
      this.fail(`unsupported type: ${type}`, `${p}/type`);
      return;
    }
    if (type === 'image') {
      this.image(el, p);
      return;
    }
    this.string(el, 'action_id', p, L.actionId);
    this.optionalText(el, 'placeholder', p, L.placeholder, true);
    if (el.confirm !== undefined) this.confirm(el.confirm, `${p}/confirm`);
    switch (type) {
      case 'button':
        if (el.text === undefined) this.fail('missing required field: text', p);
        else this.text(el.text, `${p}/text`, L.buttonText, true);
        this.string(el, 'value', p, L.buttonValue);
        this.string(el, 'url', p, L.url);
        if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
          this.fail('must be a valid enum value', `${p}/style`);
        }
        break;
      case 'workflow_button':
        if (el.text === undefined) this.fail('missing required field: text', p);
        else this.text(el.text, `${p}/text`, L.buttonText, true);
        break;
      case 'checkboxes':
      case 'radio_buttons':
        this.options(el, p, L.choiceOptions, false);
        this.initialOptions(el, p, false);
        break;
      case 'overflow':
        this.options(el, p, L.overflowOptions, true);
        break;
      case 'static_select':
      case 'multi_static_select':
        if (el.options === undefined && el.option_groups === undefined) {
          this.fail('missing required field: options', p);
        }
        if (el.options !== undefined) this.options(el, p, L.selectOptions, true);
        if (el.option_groups !== undefined) {
          const groups = this.array(el, 'option_groups', p, 1, L.selectOptions);
          groups?.forEach((group, i) => {
            const gp = `${p}/option_groups/${i}`;
            if (!isRecord(group)) this.fail('must provide an object', gp);
            else {
              this.optionalText(group, 'label', gp, L.optionText, true);
              this.options(group, gp, L.selectOptions, true);
            }
          });
        }
        this.initialOptions(el, p, true);
        if (el.max_selected_items !== undefined) {
          const n = el.max_selected_items;
          if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
            this.fail('must be at least 1', `${p}/max_selected_items`);
          }
        }
        break;
      case 'plain_text_input':
        for (const key of ['min_length', 'max_length']) {
          const n = el[key];
          if (n === undefined) continue;
          if (typeof n !== 'number' || n < 0 || n > L.plainTextInputLength) {
            this.fail(`must be between 0 and ${L.plainTextInputLength}`, `${p}/${key}`);
          }
        }
        this.string(el, 'initial_value', p, L.plainTextInputLength);
        break;
      case 'number_input':
      case 'email_text_input':
      case 'url_text_input':
        this.string(el, 'initial_value', p, L.plainTextInputLength);
        break;
      default:
        break;
    }
  }

  /** A confirmation dialog: title, text and button limits. */
  confirm(value: unknown, p: string): void {
    const L = this.limits;
    if (!isRecord(value)) {
      this.fail('must provide an object', p);
      return;
    }
    if (value.title === undefined) this.fail('missing required field: title', p);
    else this.text(value.title, `${p}/title`, L.confirmTitle, true);
    if (value.text === undefined) this.fail('missing required field: text', p);
    else this.text(value.text, `${p}/text`, L.confirmText);
    this.optionalText(value, 'confirm', p, L.confirmButton, true);
    this.optionalText(value, 'deny', p, L.confirmButton, true);
  }

  /**
   * `initial_option` / `initial_options`: option objects within the option limits that exactly
   * match options of the element (Slack refuses an initial option it does not offer).
   */
  initialOptions(el: JsonObject, p: string, plainOnly: boolean): void {
    const offered = [
      ...(Array.isArray(el.options) ? el.options : []),
      ...(Array.isArray(el.option_groups)
        ? el.option_groups.flatMap((g) => (isRecord(g) && Array.isArray(g.options) ? g.options : []))
        : []),
    ].map(optionKey);
    const check = (option: unknown, op: string) => {
      if (!isRecord(option)) {
        this.fail('must provide an object', op);
        return;
      }
      if (option.text === undefined) this.fail('missing required field: text', op);
      else this.text(option.text, `${op}/text`, this.limits.optionText, plainOnly);
      this.string(option, 'value', op, this.limits.optionValue, true);
      if (!offered.includes(optionKey(option))) this.fail('must match one of the options', op);
    };
    if (el.initial_option !== undefined) check(el.initial_option, `${p}/initial_option`);
    if (el.initial_options !== undefined) {
      const max = offered.length;
      const initial = this.array(el, 'initial_options', p, 0, max);
      initial?.forEach((option, i) => {
        check(option, `${p}/initial_options/${i}`);
      });
    }
  }

  options(el: JsonObject, p: string, max: number, plainOnly: boolean): void {
    const options = this.array(el, 'options', p, 1, max);
    options?.forEach((option, i) => {
      const op = `${p}/options/${i}`;
      if (!isRecord(option)) {
        this.fail('must provide an object', op);
        return;
      }
      if (option.text === undefined) this.fail('missing required field: text', op);
      else this.text(option.text, `${op}/text`, this.limits.optionText, plainOnly);
      this.string(option, 'value', op, this.limits.optionValue);
      this.optionalText(option, 'description', op, this.limits.optionText, plainOnly);
    });
  }
}

/** Checks a message's `blocks`. */
export function validateMessageBlocks(blocks: unknown, limits: EmulatorLimits): ValidationIssue[] {
  const checker = new Checker(limits, 'message');
  checker.blocks(blocks, '/blocks', limits.messageBlocks);
  return checker.issues;
}

/** Checks a modal view object (pointers under `/view`). */
export function validateView(view: unknown, limits: EmulatorLimits): ValidationIssue[] {
  const checker = new Checker(limits, 'modal');
  const p = '/view';
  if (!isRecord(view)) {
    checker.fail('must provide an object', p);
    return checker.issues;
  }
  if (view.type !== 'modal') {
    checker.fail(
      view.type === undefined ? 'missing required field: type' : 'must be a valid enum value',
      `${p}/type`,
    );
  }
  if (view.title === undefined) checker.fail('missing required field: title', p);
  else checker.text(view.title, `${p}/title`, limits.modalTitle, true);
  checker.optionalText(view, 'submit', p, limits.modalButton, true);
  checker.optionalText(view, 'close', p, limits.modalButton, true);
  checker.string(view, 'private_metadata', p, limits.privateMetadata);
  checker.string(view, 'callback_id', p, limits.callbackId);
  checker.string(view, 'external_id', p, limits.externalId);
  if (view.blocks === undefined) checker.fail('missing required field: blocks', p);
  else checker.blocks(view.blocks, `${p}/blocks`, limits.modalBlocks);
  const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isRecord(b) && b.type === 'input');
  if (hasInput && view.submit === undefined) {
    checker.fail('submit is required when an input block is within the blocks array', `${p}/submit`);
  }
  return checker.issues;
}

/** Total length of every `text` string inside the blocks (what `msg_blocks_too_long` seems to measure). */
export function blocksTextLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + blocksTextLength(item), 0);
  if (!isRecord(value)) return 0;
  let total = 0;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'text' && typeof child === 'string') total += child.length;
    else total += blocksTextLength(child);
  }
  return total;
}
