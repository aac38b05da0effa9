/**
 * A tiny virtual DOM: `h()` builds plain objects (testable in Node), `toDom()` turns them into
 * elements with `createElement` and text nodes only. There is no HTML parsing anywhere: a string
 * child is always a text node, attributes come from an allowlist, and links only get safe URLs.
 *
 * A node is `{ tag, attrs, on, children, key }`; children are nodes or strings.
 */

/** @typedef {{ tag: string, attrs: Record<string, string | boolean | number>, on: Record<string, (event: Event) => void>, children: (VNode | string)[], key?: string, props?: Record<string, unknown> }} VNode */

/**
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props] attributes; `on` (event handlers), `key`, `props` (DOM properties)
 * @param {...unknown} children nodes, strings, arrays of them; null/undefined/false are skipped
 * @returns {VNode}
 */
export function h(tag, props, ...children) {
  /** @type {VNode} */
  const node = { tag, attrs: {}, on: {}, children: [] };
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') node.on = /** @type {VNode['on']} */ (value);
    else if (name === 'key') node.key = String(value);
    else if (name === 'props') node.props = /** @type {Record<string, unknown>} */ (value);
    else node.attrs[name] = /** @type {string | boolean | number} */ (value);
  }
  appendChildren(node.children, children);
  return node;
}

function appendChildren(out, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === '') continue;
    if (Array.isArray(child)) appendChildren(out, child);
    else if (typeof child === 'object') out.push(child);
    else out.push(String(child));
  }
}

/** The text a node shows (what `textContent` would be). */
export function textOf(node) {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(textOf).join('');
  return node.children.map(textOf).join('');
}

/** Every node in the tree (depth first), for tests and lookups. */
export function walk(node, visit) {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
    return;
  }
  if (typeof node === 'string') return;
  visit(node);
  for (const child of node.children) walk(child, visit);
}

const TAGS = new Set([
  'a',
  'article',
  'aside',
  'b',
  'blockquote',
  'br',
  'button',
  'code',
  'del',
  'div',
  'em',
  'fieldset',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'header',
  'hr',
  'i',
  'input',
  'label',
  'legend',
  'li',
  'ol',
  'optgroup',
  'option',
  'p',
  'pre',
  's',
  'section',
  'select',
  'small',
  'span',
  'strong',
  'textarea',
  'time',
  'ul',
]);

const ATTRIBUTES = new Set([
  'autocomplete',
  'checked',
  'class',
  'colspan',
  'datetime',
  'dir',
  'disabled',
  'for',
  'hidden',
  'href',
  'id',
  'inputmode',
  'label',
  'lang',
  'max',
  'maxlength',
  'min',
  'minlength',
  'multiple',
  'name',
  'novalidate',
  'placeholder',
  'rel',
  'required',
  'role',
  'rows',
  'selected',
  'step',
  'tabindex',
  'target',
  'title',
  'type',
  'value',
]);

/** Only these URL schemes become links; anything else is shown as text. */
export function safeHref(url) {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function allowed(name) {
  return ATTRIBUTES.has(name) || name.startsWith('aria-') || name.startsWith('data-');
}

/**
 * Builds real DOM from a node (browser only).
 * @param {VNode | string} node
 * @param {Document} [doc]
 * @returns {Node}
 */
export function toDom(node, doc = document) {
  if (typeof node === 'string') return doc.createTextNode(node);
  const tag = TAGS.has(node.tag) ? node.tag : 'span';
  const element = doc.createElement(tag);
  for (const [name, value] of Object.entries(node.attrs)) {
    if (!allowed(name)) continue;
    if (name === 'href') {
      const href = safeHref(String(value));
      if (href) element.setAttribute('href', href);
      continue;
    }
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [name, value] of Object.entries(node.props ?? {})) {
    if (name === 'value' || name === 'checked' || name === 'selected' || name === 'indeterminate')
      element[name] = value;
  }
  for (const [type, handler] of Object.entries(node.on)) element.addEventListener(type, handler);
  for (const child of node.children) element.appendChild(toDom(child, doc));
  if (node.key !== undefined) element.dataset.key = node.key;
  return element;
}

/** Replaces the children of `parent` with `nodes`. */
export function mount(parent, nodes) {
  const doc = parent.ownerDocument;
  parent.replaceChildren(...[nodes].flat().map((n) => toDom(n, doc)));
}

/**
 * Keeps `parent`'s children in step with `items` (`{ key, version, render }`): an item whose key and
 * version are unchanged keeps its element (and focus); a changed one is replaced in place.
 */
export function reconcile(parent, items) {
  const doc = parent.ownerDocument;
  const existing = new Map();
  for (const child of [...parent.children]) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }
  let cursor = parent.firstElementChild;
  const keep = new Set();
  for (const item of items) {
    let element = existing.get(item.key);
    if (!element || element.dataset.version !== item.version) {
      element = /** @type {HTMLElement} */ (toDom(item.render(), doc));
      element.dataset.key = item.key;
      element.dataset.version = item.version;
    }
    keep.add(element);
    if (element === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(element, cursor);
  }
  for (const child of [...parent.children]) if (!keep.has(child)) child.remove();
}
