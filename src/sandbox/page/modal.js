/**
 * Modals: a view → nodes (title, blocks, every input element Flowgate's forms use, labels, hints,
 * "(optional)", field errors, close and submit), and the inputs' values → Slack's
 * `view.state.values` (pure); plus reading those values back from the page's controls (browser).
 *
 * A control's value ("raw") is a string (text, number, email, URL, a single choice, a date
 * `YYYY-MM-DD`, a time `HH:MM`, a local date-time `YYYY-MM-DDTHH:MM`), a list of strings (multiple
 * choices), or null for nothing chosen.
 */
import { isObject, renderBlocks, selectOptions, textObject } from './blocks.js';
import { h } from './dom.js';
import { plainText } from './mrkdwn.js';

/** The key of one input's remembered value: block id and action id. */
export function valueKey(blockId, actionId) {
  return `${blockId}\u0000${actionId}`;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

/** Epoch seconds → `YYYY-MM-DDTHH:MM` in the viewer's zone (what a datetime-local control shows). */
export function localDateTime(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** What an element shows before anyone touches it. */
export function initialRaw(element) {
  switch (element.type) {
    case 'plain_text_input':
    case 'number_input':
    case 'email_text_input':
    case 'url_text_input':
      return typeof element.initial_value === 'string' ? element.initial_value : '';
    case 'static_select':
    case 'radio_buttons':
      return isObject(element.initial_option) ? String(element.initial_option.value) : null;
    case 'multi_static_select':
    case 'checkboxes':
      return Array.isArray(element.initial_options)
        ? element.initial_options.map((o) => String(o?.value))
        : [];
    case 'users_select':
      return typeof element.initial_user === 'string' ? element.initial_user : null;
    case 'multi_users_select':
      return Array.isArray(element.initial_users) ? element.initial_users.map(String) : [];
    case 'conversations_select':
      return typeof element.initial_conversation === 'string' ? element.initial_conversation : null;
    case 'multi_conversations_select':
      return Array.isArray(element.initial_conversations) ? element.initial_conversations.map(String) : [];
    case 'channels_select':
      return typeof element.initial_channel === 'string' ? element.initial_channel : null;
    case 'multi_channels_select':
      return Array.isArray(element.initial_channels) ? element.initial_channels.map(String) : [];
    case 'datepicker':
      return typeof element.initial_date === 'string' ? element.initial_date : '';
    case 'timepicker':
      return typeof element.initial_time === 'string' ? element.initial_time : '';
    case 'datetimepicker':
      return typeof element.initial_date_time === 'number' ? localDateTime(element.initial_date_time) : '';
    default:
      return null;
  }
}

/** One input's entry in `view.state.values`, in Slack's shape. */
export function stateEntry(element, raw) {
  const type = element.type;
  const one = typeof raw === 'string' && raw !== '' ? raw : null;
  const list = Array.isArray(raw) ? raw : one === null ? [] : [one];
  const option = (value) => selectOptions(element).find((o) => o.value === value) ?? null;
  switch (type) {
    case 'static_select':
    case 'radio_buttons':
      return { type, selected_option: one === null ? null : option(one) };
    case 'multi_static_select':
    case 'checkboxes':
      return { type, selected_options: list.map(option).filter((o) => o !== null) };
    case 'users_select':
      return { type, selected_user: one };
    case 'multi_users_select':
      return { type, selected_users: list };
    case 'conversations_select':
      return { type, selected_conversation: one };
    case 'multi_conversations_select':
      return { type, selected_conversations: list };
    case 'channels_select':
      return { type, selected_channel: one };
    case 'multi_channels_select':
      return { type, selected_channels: list };
    case 'datepicker':
      return { type, selected_date: one };
    case 'timepicker':
      return { type, selected_time: one };
    case 'datetimepicker': {
      const ms = one === null ? Number.NaN : Date.parse(one);
      return { type, selected_date_time: Number.isFinite(ms) ? Math.floor(ms / 1000) : null };
    }
    default:
      return { type, value: one };
  }
}

/** The input blocks of a view, with the index used for their controls' ids. */
export function inputBlocks(view) {
  const out = [];
  (Array.isArray(view.blocks) ? view.blocks : []).forEach((block, index) => {
    if (isObject(block) && block.type === 'input' && isObject(block.element)) out.push({ block, index });
  });
  return out;
}

/**
 * `view.state.values` from each input's raw value (`read(block, index)`): what Slack sends on submit.
 */
export function viewState(view, read) {
  // Block ids come from the app: none of them may reach a prototype.
  const values = Object.create(null);
  for (const { block, index } of inputBlocks(view)) {
    const actionId = String(block.element.action_id ?? '');
    const blockId = String(block.block_id ?? '');
    values[blockId] = { [actionId]: stateEntry(block.element, read(block, index)) };
  }
  return values;
}

/**
 * A view as nodes. `options`: `errors` (block id → message), `values` (valueKey → raw, kept from
 * before a `views.update`), `ctx` (blocks.js's, with `users` and `channels` for their selects),
 * `onClose()`, `onSubmit()`, `busy` (a submission is on its way).
 */
export function renderView(view, options = {}) {
  const { errors = {}, values = new Map(), ctx = {}, busy = false } = options;
  const base = `view-${String(view.id).replace(/[^A-Za-z0-9_-]/g, '')}`;
  const body = [];
  let pending = [];
  const flush = () => {
    if (pending.length > 0) body.push(...renderBlocks(pending, ctx));
    pending = [];
  };
  (Array.isArray(view.blocks) ? view.blocks : []).forEach((block, index) => {
    if (!(isObject(block) && block.type === 'input' && isObject(block.element))) {
      pending.push(block);
      return;
    }
    flush();
    const blockId = String(block.block_id ?? '');
    const key = valueKey(blockId, String(block.element.action_id ?? ''));
    const raw = values.has(key) ? values.get(key) : initialRaw(block.element);
    const error = Object.hasOwn(errors, blockId) ? String(errors[blockId]) : undefined;
    body.push(inputField(block, `${base}-${index}`, index, raw, error, ctx));
  });
  flush();
  const submit = isObject(view.submit) ? plainText(view.submit.text) : undefined;
  const close = isObject(view.close) ? plainText(view.close.text) : 'Cancel';
  return h(
    'form',
    {
      class: 'modal',
      novalidate: true,
      'aria-busy': busy ? 'true' : undefined,
      on: {
        submit: (event) => {
          event.preventDefault();
          if (submit !== undefined && !busy) options.onSubmit?.();
        },
      },
    },
    h(
      'header',
      { class: 'modal-header' },
      h('h2', { id: 'modal-title', class: 'modal-title' }, textObject(view.title, ctx)),
      h(
        'button',
        { type: 'button', class: 'modal-x', 'aria-label': 'Close', on: { click: () => options.onClose?.() } },
        '✕',
      ),
    ),
    h('div', { class: 'modal-body' }, body),
    h(
      'footer',
      { class: 'modal-footer' },
      h('button', { type: 'button', class: 'bk-button', on: { click: () => options.onClose?.() } }, close),
      submit !== undefined
        ? h('button', { type: 'submit', class: 'bk-button bk-button-primary', disabled: busy }, submit)
        : null,
    ),
  );
}

const GROUPS = new Set(['radio_buttons', 'checkboxes']);

function inputField(block, id, index, raw, error, ctx) {
  const element = block.element;
  const group = GROUPS.has(element.type);
  const label = plainText(isObject(block.label) ? block.label.text : '');
  const hint = isObject(block.hint) ? block.hint : undefined;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return h(
    'div',
    {
      class: error ? 'bk-input bk-input-invalid' : 'bk-input',
      'data-block-id': String(block.block_id ?? ''),
    },
    h(
      'div',
      { class: 'bk-label-row' },
      group
        ? h('span', { id: `${id}-label`, class: 'bk-label' }, label)
        : h('label', { for: id, id: `${id}-label`, class: 'bk-label' }, label),
      block.optional ? h('span', { class: 'bk-optional' }, '(optional)') : null,
    ),
    control(element, { id, index, raw, described, invalid: error !== undefined, ctx }),
    error ? h('div', { id: `${id}-error`, class: 'bk-error' }, `⚠ ${error}`) : null,
    hint ? h('div', { id: `${id}-hint`, class: 'bk-hint' }, textObject(hint, ctx)) : null,
  );
}

function control(element, { id, index, raw, described, invalid, ctx }) {
  const common = {
    id,
    'data-input': String(index),
    'aria-describedby': described || undefined,
    'aria-invalid': invalid ? 'true' : undefined,
  };
  const placeholder = isObject(element.placeholder) ? plainText(element.placeholder.text) : undefined;
  const text = typeof raw === 'string' ? raw : '';
  switch (element.type) {
    case 'plain_text_input': {
      const limits = {
        minlength: typeof element.min_length === 'number' ? element.min_length : undefined,
        maxlength: typeof element.max_length === 'number' ? element.max_length : undefined,
      };
      if (element.multiline)
        return h('textarea', {
          ...common,
          ...limits,
          class: 'bk-control',
          rows: 3,
          placeholder,
          props: { value: text },
        });
      return h('input', {
        ...common,
        ...limits,
        type: 'text',
        class: 'bk-control',
        placeholder,
        props: { value: text },
      });
    }
    case 'number_input':
      return h('input', {
        ...common,
        type: 'number',
        class: 'bk-control',
        step: element.is_decimal_allowed ? 'any' : '1',
        min: element.min_value,
        max: element.max_value,
        inputmode: element.is_decimal_allowed ? 'decimal' : 'numeric',
        placeholder,
        props: { value: text },
      });
    case 'email_text_input':
      return h('input', {
        ...common,
        type: 'email',
        class: 'bk-control',
        placeholder,
        props: { value: text },
      });
    case 'url_text_input':
      return h('input', { ...common, type: 'url', class: 'bk-control', placeholder, props: { value: text } });
    case 'datepicker':
      return h('input', { ...common, type: 'date', class: 'bk-control', props: { value: text } });
    case 'timepicker':
      return h('input', { ...common, type: 'time', class: 'bk-control', props: { value: text } });
    case 'datetimepicker':
      return h('input', { ...common, type: 'datetime-local', class: 'bk-control', props: { value: text } });
    case 'static_select':
    case 'multi_static_select': {
      const multiple = element.type === 'multi_static_select';
      const chosen = new Set(Array.isArray(raw) ? raw : raw === null || raw === undefined ? [] : [raw]);
      const option = (o) =>
        h('option', { value: o.value, selected: chosen.has(o.value) }, plainText(o.text?.text ?? o.value));
      const groups = Array.isArray(element.option_groups) ? element.option_groups : undefined;
      return h(
        'select',
        { ...common, class: 'bk-control', multiple: multiple || undefined },
        multiple
          ? null
          : h('option', { value: '', selected: chosen.size === 0 }, placeholder ?? 'Select an option'),
        groups
          ? groups.map((g) =>
              h('optgroup', { label: plainText(g?.label?.text ?? '') }, (g?.options ?? []).map(option)),
            )
          : (Array.isArray(element.options) ? element.options : []).map(option),
      );
    }
    case 'users_select':
    case 'multi_users_select':
    case 'conversations_select':
    case 'multi_conversations_select':
    case 'channels_select':
    case 'multi_channels_select': {
      const multiple = element.type.startsWith('multi_');
      const people = element.type.includes('users');
      const chosen = new Set(Array.isArray(raw) ? raw : raw === null || raw === undefined ? [] : [raw]);
      const entries = people
        ? [...(ctx.users?.values() ?? [])].filter((u) => !u.isBot).map((u) => [u.id, u.realName])
        : [...(ctx.channels?.values() ?? [])].filter((c) => c.type !== 'im').map((c) => [c.id, `#${c.name}`]);
      return h(
        'select',
        { ...common, class: 'bk-control', multiple: multiple || undefined },
        multiple ? null : h('option', { value: '', selected: chosen.size === 0 }, placeholder ?? 'Select'),
        entries.map(([value, name]) => h('option', { value, selected: chosen.has(value) }, name)),
      );
    }
    case 'radio_buttons':
    case 'checkboxes': {
      const radio = element.type === 'radio_buttons';
      const chosen = new Set(Array.isArray(raw) ? raw : raw === null || raw === undefined ? [] : [raw]);
      return h(
        'div',
        {
          ...common,
          role: radio ? 'radiogroup' : 'group',
          class: 'bk-choices',
          'aria-labelledby': `${id}-label`,
        },
        selectOptions(element).map((o, i) =>
          h(
            'label',
            { class: 'bk-choice' },
            h('input', {
              type: radio ? 'radio' : 'checkbox',
              name: id,
              value: o.value,
              id: `${id}-${i}`,
              checked: chosen.has(o.value),
            }),
            h('span', null, textObject(o.text, ctx)),
            isObject(o.description) ? h('small', { class: 'bk-hint' }, textObject(o.description, ctx)) : null,
          ),
        ),
      );
    }
    default:
      return h(
        'div',
        { ...common, class: 'bk-unsupported' },
        `[${String(element.type)} is not available in the sandbox]`,
      );
  }
}

/** Reads one input's raw value from its control in the page (browser only). */
export function readControl(root, block, index) {
  const el = root.querySelector(`[data-input="${index}"]`);
  if (!el) return null;
  const type = block.element.type;
  if (type === 'radio_buttons') return el.querySelector('input:checked')?.value ?? null;
  if (type === 'checkboxes') return [...el.querySelectorAll('input:checked')].map((i) => i.value);
  if (el.tagName === 'SELECT') {
    const selected = [...el.selectedOptions].map((o) => o.value).filter((v) => v !== '');
    return el.multiple ? selected : (selected[0] ?? null);
  }
  return el.value;
}

/** Every input's raw value in the page, by valueKey (to keep what was typed across a re-render). */
export function readValues(root, view) {
  const values = new Map();
  for (const { block, index } of inputBlocks(view)) {
    values.set(
      valueKey(String(block.block_id ?? ''), String(block.element.action_id ?? '')),
      readControl(root, block, index),
    );
  }
  return values;
}
