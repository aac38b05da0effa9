/**
 * Block Kit → nodes (see dom.js), as Slack shows messages: header, section (text, fields,
 * accessory), context, divider, actions (buttons with styles and confirm dialogs, selects), image
 * (its alt text: the page loads nothing from outside), rich_text, markdown. Pure: no DOM.
 *
 * `ctx` is mrkdwn.js's, plus `act(element, block, action?)`: called when a button is clicked or a
 * select changes (the page sends Slack's `block_actions` for it).
 */
import { h } from './dom.js';
import { emojify } from './emoji.js';
import { plainText, renderMrkdwn } from './mrkdwn.js';

export function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A text object: mrkdwn rendered, plain_text shown as it is (emoji codes as characters). */
export function textObject(text, ctx = {}) {
  if (!isObject(text) || typeof text.text !== 'string') return [];
  if (text.type === 'mrkdwn') return renderMrkdwn(text.text, ctx);
  return [plainText(text.text, text.emoji !== false)];
}

/** A message's body: its blocks when it has any, else its text as mrkdwn; attachments after. */
export function renderMessageBody(message, ctx = {}) {
  const blocks = Array.isArray(message.blocks) && message.blocks.length > 0 ? message.blocks : undefined;
  const body = blocks
    ? renderBlocks(blocks, ctx)
    : [h('div', { class: 'bk-text' }, renderMrkdwn(message.text ?? '', ctx))];
  const attachments = Array.isArray(message.attachments) ? message.attachments : [];
  for (const a of attachments) {
    if (!isObject(a)) continue;
    body.push(
      h(
        'div',
        { class: 'attachment' },
        typeof a.title === 'string' ? h('b', null, a.title) : null,
        typeof a.text === 'string' ? h('div', null, renderMrkdwn(a.text, ctx)) : null,
        Array.isArray(a.blocks) ? renderBlocks(a.blocks, ctx) : null,
      ),
    );
  }
  return body;
}

export function renderBlocks(blocks, ctx = {}) {
  const out = [];
  for (const block of Array.isArray(blocks) ? blocks : []) {
    if (!isObject(block)) continue;
    const node = renderBlock(block, ctx);
    if (node) out.push(node);
  }
  return out;
}

function renderBlock(block, ctx) {
  switch (block.type) {
    case 'header':
      return h('h3', { class: 'bk-header' }, textObject(block.text, ctx));
    case 'section':
      return h(
        'div',
        { class: 'bk-section' },
        h(
          'div',
          { class: 'bk-section-main' },
          block.text ? h('div', { class: 'bk-text' }, textObject(block.text, ctx)) : null,
          Array.isArray(block.fields) && block.fields.length > 0
            ? h(
                'div',
                { class: 'bk-fields' },
                block.fields.map((f) => h('div', { class: 'bk-field' }, textObject(f, ctx))),
              )
            : null,
        ),
        isObject(block.accessory)
          ? h('div', { class: 'bk-accessory' }, renderElement(block.accessory, block, ctx))
          : null,
      );
    case 'context':
      return h(
        'div',
        { class: 'bk-context' },
        (Array.isArray(block.elements) ? block.elements : []).map((e) =>
          isObject(e) && e.type === 'image'
            ? imageAlt(e.alt_text)
            : h('span', { class: 'bk-context-item' }, textObject(e, ctx)),
        ),
      );
    case 'divider':
      return h('hr', { class: 'bk-divider' });
    case 'actions':
      return h(
        'div',
        { class: 'bk-actions' },
        (Array.isArray(block.elements) ? block.elements : []).map((e) => renderElement(e, block, ctx)),
      );
    case 'image':
      return h(
        'div',
        { class: 'bk-image-block' },
        isObject(block.title) ? h('div', { class: 'bk-image-title' }, textObject(block.title, ctx)) : null,
        imageAlt(block.alt_text),
      );
    case 'markdown':
      return h('div', { class: 'bk-text bk-markdown' }, typeof block.text === 'string' ? block.text : '');
    case 'rich_text':
      return h('div', { class: 'bk-text' }, richText(block.elements, ctx));
    default:
      return h('div', { class: 'bk-unsupported' }, `[${String(block.type)} block]`);
  }
}

function imageAlt(alt) {
  return h(
    'span',
    { class: 'bk-image', role: 'img', 'aria-label': typeof alt === 'string' ? alt : 'image' },
    '🖼',
  );
}

const STYLES = new Set(['primary', 'danger']);

/** An interactive element in a message (or a modal's non-input block). */
export function renderElement(element, block, ctx = {}) {
  if (!isObject(element)) return null;
  const act = (action) => ctx.act?.(element, block, action);
  switch (element.type) {
    case 'button': {
      const style = STYLES.has(element.style) ? ` bk-button-${element.style}` : '';
      return h(
        'button',
        {
          type: 'button',
          class: `bk-button${style}`,
          'data-action-id': typeof element.action_id === 'string' ? element.action_id : undefined,
          on: { click: () => act() },
        },
        textObject(element.text, ctx),
      );
    }
    case 'static_select': {
      const options = selectOptions(element);
      return h(
        'select',
        {
          class: 'bk-select',
          'aria-label': placeholderText(element) || 'Select an option',
          on: {
            change: (event) => {
              const value = event.target.value;
              const option = options.find((o) => o.value === value);
              if (option) act({ selected_option: option });
            },
          },
        },
        h('option', { value: '' }, placeholderText(element) || 'Select an option'),
        options.map((o) =>
          h('option', { value: o.value, selected: element.initial_option?.value === o.value }, optionText(o)),
        ),
      );
    }
    case 'image':
      return imageAlt(element.alt_text);
    default:
      return h('span', { class: 'bk-unsupported' }, `[${String(element.type)}]`);
  }
}

export function placeholderText(element) {
  return isObject(element.placeholder) && typeof element.placeholder.text === 'string'
    ? plainText(element.placeholder.text)
    : '';
}

/** Every option of a select (from `options` and `option_groups`). */
export function selectOptions(element) {
  const out = [];
  const add = (list) => {
    for (const o of Array.isArray(list) ? list : [])
      if (isObject(o) && typeof o.value === 'string') out.push(o);
  };
  add(element.options);
  if (Array.isArray(element.option_groups)) for (const g of element.option_groups) add(g?.options);
  return out;
}

export function optionText(option) {
  return isObject(option.text) && typeof option.text.text === 'string'
    ? plainText(option.text.text)
    : option.value;
}

function richText(elements, ctx) {
  const out = [];
  for (const e of Array.isArray(elements) ? elements : []) {
    if (!isObject(e)) continue;
    switch (e.type) {
      case 'rich_text_section':
        out.push(h('div', null, richInline(e.elements, ctx)));
        break;
      case 'rich_text_preformatted':
        out.push(h('pre', { class: 'mrkdwn-pre' }, richInline(e.elements, ctx)));
        break;
      case 'rich_text_quote':
        out.push(h('blockquote', { class: 'mrkdwn-quote' }, richInline(e.elements, ctx)));
        break;
      case 'rich_text_list':
        out.push(
          h(
            e.style === 'ordered' ? 'ol' : 'ul',
            null,
            (Array.isArray(e.elements) ? e.elements : []).map((item) =>
              h('li', null, richInline(item?.elements, ctx)),
            ),
          ),
        );
        break;
      default:
        break;
    }
  }
  return out;
}

function richInline(elements, ctx) {
  return (Array.isArray(elements) ? elements : []).map((e) => {
    if (!isObject(e)) return null;
    let node;
    switch (e.type) {
      case 'text':
        node = typeof e.text === 'string' ? e.text : '';
        break;
      case 'link':
        node = renderMrkdwn(
          `<${String(e.url ?? '').replace(/[<>|]/g, '')}|${String(e.text ?? e.url ?? '').replace(/[<>]/g, '')}>`,
          ctx,
        );
        break;
      case 'user':
        node = renderMrkdwn(`<@${String(e.user_id ?? '').replace(/[<>|]/g, '')}>`, ctx);
        break;
      case 'channel':
        node = renderMrkdwn(`<#${String(e.channel_id ?? '').replace(/[<>|]/g, '')}>`, ctx);
        break;
      case 'usergroup':
        node = renderMrkdwn(`<!subteam^${String(e.usergroup_id ?? '').replace(/[<>|]/g, '')}>`, ctx);
        break;
      case 'emoji':
        node = emojify(`:${String(e.name ?? '')}:`);
        break;
      case 'broadcast':
        node = `@${String(e.range ?? 'here')}`;
        break;
      default:
        return null;
    }
    const style = isObject(e.style) ? e.style : {};
    if (style.code) node = h('code', { class: 'mrkdwn-code' }, node);
    if (style.strike) node = h('s', null, node);
    if (style.italic) node = h('i', null, node);
    if (style.bold) node = h('b', null, node);
    return node;
  });
}
