/**
 * Slack mrkdwn → nodes (see dom.js), as Slack shows it: *bold*, _italic_, ~strike~, `code`,
 * ```code blocks```, > quotes, links `<url|text>`, mentions `<@U…>` `<#C…>` `<!subteam^S…>`
 * `<!here>`, dates `<!date^seconds^format^link|fallback>`, and :emoji:. The entities Slack escapes
 * (`&lt;` `&gt;` `&amp;`) come back as the characters they stand for — as text, never markup.
 *
 * Pure: no DOM. `ctx` (all optional): `users` / `channels` / `groups` (Map id → object), `me` (the
 * viewer's user id), `now` (ms), `timeZone`, `locale`, `origin` (links there stay in the page).
 */
import { h, safeHref } from './dom.js';
import { emojify } from './emoji.js';

const ENTITIES = { lt: '<', gt: '>', amp: '&' };

/** `&lt;` `&gt;` `&amp;` → `<` `>` `&`, in one pass (so `&amp;lt;` stays `&lt;`). */
export function decodeEntities(text) {
  return text.replace(/&(lt|gt|amp);/g, (_, name) => ENTITIES[name]);
}

/** Text of a `plain_text` object as Slack shows it (emoji codes turned into characters when asked). */
export function plainText(text, emoji = true) {
  const value = typeof text === 'string' ? text : '';
  return emoji ? emojify(value) : value;
}

const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/;

/**
 * @param {string} text
 * @param {object} [ctx]
 * @returns {(import('./dom.js').VNode | string)[]}
 */
export function renderMrkdwn(text, ctx = {}) {
  // Placeholders use private-use characters: any already in the text are replaced first.
  const source = String(text ?? '').replace(/[\uE000-\uE0FF]/g, '\uFFFD');
  const out = [];
  const fence = /```([\s\S]*?)```/g;
  let last = 0;
  for (let m = fence.exec(source); m; m = fence.exec(source)) {
    if (m.index > last) out.push(...blocks(source.slice(last, m.index), ctx));
    const code = m[1].replace(/^\n/, '').replace(/\n$/, '');
    out.push(h('pre', { class: 'mrkdwn-pre' }, decodeEntities(code)));
    last = m.index + m[0].length;
  }
  if (last < source.length) out.push(...blocks(source.slice(last), ctx));
  return out;
}

/** Lines starting with `>` (or its escaped form) become quotes; the rest is inline text. */
function blocks(text, ctx) {
  const out = [];
  const lines = text.split('\n');
  let plain = [];
  let quote = [];
  const flushPlain = () => {
    if (plain.length > 0) out.push(...inline(plain.join('\n'), ctx));
    plain = [];
  };
  const flushQuote = () => {
    if (quote.length > 0) out.push(h('blockquote', { class: 'mrkdwn-quote' }, inline(quote.join('\n'), ctx)));
    quote = [];
  };
  lines.forEach((line, i) => {
    const q = /^(?:>|&gt;) ?(.*)$/.exec(line);
    if (q) {
      flushPlain();
      quote.push(q[1]);
    } else {
      flushQuote();
      plain.push(line);
    }
    if (i === lines.length - 1) {
      flushQuote();
      flushPlain();
    }
  });
  return out;
}

function inline(text, ctx) {
  const tokens = [];
  const hold = (node) => {
    tokens.push(node);
    return `${OPEN}${tokens.length - 1}${CLOSE}`;
  };
  let s = text.replace(/`([^`\n]+)`/g, (_, code) =>
    hold(h('code', { class: 'mrkdwn-code' }, decodeEntities(code))),
  );
  s = s.replace(/<([^<>\n]+)>/g, (match, inner) => hold(special(inner, match, ctx)));
  return expand(format(s), tokens);
}

const MARKS = { '*': 'b', _: 'i', '~': 's' };

function isWordChar(c) {
  return c !== undefined && /[\p{L}\p{N}]/u.test(c);
}

function isSpace(c) {
  return c === undefined || /\s/.test(c);
}

/** `*bold*`, `_italic_`, `~strike~` (nested), with Slack's rule that markers sit at word edges. */
function format(s) {
  for (let i = 0; i < s.length; i++) {
    const tag = MARKS[s[i]];
    if (!tag) continue;
    const mark = s[i];
    if (isWordChar(s[i - 1]) || isSpace(s[i + 1]) || s[i + 1] === mark) continue;
    for (let j = i + 2; j < s.length; j++) {
      if (s[j] === '\n') break;
      if (s[j] !== mark || isSpace(s[j - 1]) || isWordChar(s[j + 1])) continue;
      const before = s.slice(0, i);
      const inner = s.slice(i + 1, j);
      return [...(before ? [before] : []), h(tag, null, format(inner)), ...format(s.slice(j + 1))];
    }
  }
  return s === '' ? [] : [s];
}

/** Puts the held nodes back and decodes entities in the text between them. */
function expand(nodes, tokens) {
  const out = [];
  for (const node of nodes) {
    if (typeof node !== 'string') {
      node.children = expand(node.children, tokens);
      out.push(node);
      continue;
    }
    const parts = node.split(PLACEHOLDER);
    parts.forEach((part, i) => {
      if (i % 2 === 1) out.push(tokens[Number(part)]);
      else if (part !== '') out.push(emojify(decodeEntities(part)));
    });
  }
  return out;
}

function lookup(map, id) {
  return map && typeof map.get === 'function' ? map.get(id) : undefined;
}

/** What `<…>` holds: a mention, a date, a link — or, when it is none of those, its text. */
function special(inner, raw, ctx) {
  const bar = inner.indexOf('|');
  const head = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : decodeEntities(inner.slice(bar + 1));
  if (head.startsWith('@')) {
    const id = head.slice(1);
    const user = lookup(ctx.users, id);
    const name = user?.realName ?? label ?? id;
    return h(
      'span',
      { class: id === ctx.me ? 'mention mention-me' : 'mention', title: id, 'data-user': id },
      `@${name}`,
    );
  }
  if (head.startsWith('#')) {
    const id = head.slice(1);
    const name = lookup(ctx.channels, id)?.name ?? label ?? id;
    return h('span', { class: 'mention', title: id }, `#${name}`);
  }
  if (head.startsWith('!')) {
    const [kind, ...rest] = head.slice(1).split('^');
    if (kind === 'here' || kind === 'channel' || kind === 'everyone')
      return h('span', { class: 'mention mention-me' }, `@${kind}`);
    if (kind === 'subteam') {
      const id = rest[0] ?? '';
      const handle = lookup(ctx.groups, id)?.handle;
      const shown = handle ? `@${handle}` : (label ?? `@${id}`);
      return h('span', { class: 'mention', title: id }, shown);
    }
    if (kind === 'date') return date(rest, label, ctx);
    return label ?? decodeEntities(raw);
  }
  const href = safeHref(decodeEntities(head));
  if (!href) return decodeEntities(raw);
  const internal = ctx.origin && href.startsWith(`${ctx.origin}/`);
  return h(
    'a',
    internal ? { href } : { href, target: '_blank', rel: 'noopener noreferrer' },
    label ?? decodeEntities(head),
  );
}

function date(parts, fallback, ctx) {
  const [seconds, format, link] = parts;
  const n = Number(seconds);
  if (!/^-?\d+$/.test(seconds ?? '') || !Number.isFinite(n) || format === undefined) return fallback ?? '';
  const text = formatSlackDate(n, format, ctx);
  const node = h('time', { datetime: new Date(n * 1000).toISOString(), title: fallback }, text);
  const href = link ? safeHref(link) : undefined;
  return href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, node) : node;
}

function ordinal(day) {
  const n = day % 100;
  if (n >= 11 && n <= 13) return `${day}th`;
  return `${day}${['th', 'st', 'nd', 'rd'][day % 10] ?? 'th'}`;
}

function parts(ms, ctx, options) {
  const format = new Intl.DateTimeFormat(ctx.locale ?? 'en-US', {
    ...(ctx.timeZone ? { timeZone: ctx.timeZone } : {}),
    ...options,
  });
  return Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

/** The calendar day of `ms` in the viewer's zone, as a comparable number. */
function dayNumber(ms, ctx) {
  const p = parts(ms, ctx, { year: 'numeric', month: 'numeric', day: 'numeric' });
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86_400_000;
}

function ago(ms, now) {
  const diff = Math.round((now - ms) / 1000);
  const abs = Math.abs(diff);
  const [value, unit] =
    abs < 60
      ? [abs, 'second']
      : abs < 3600
        ? [Math.floor(abs / 60), 'minute']
        : abs < 86_400
          ? [Math.floor(abs / 3600), 'hour']
          : [Math.floor(abs / 86_400), 'day'];
  if (abs < 10) return 'just now';
  const phrase = `${value} ${unit}${value === 1 ? '' : 's'}`;
  return diff >= 0 ? `${phrase} ago` : `in ${phrase}`;
}

/**
 * Slack's `<!date>` tokens: `{date_num}` `{date}` `{date_short}` `{date_long}`, their `_pretty`
 * forms (today / yesterday / tomorrow), `{time}` `{time_secs}` and `{ago}`; other text is kept.
 */
export function formatSlackDate(seconds, format, ctx = {}) {
  const ms = seconds * 1000;
  const now = ctx.now ?? Date.now();
  const d = parts(ms, ctx, {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  });
  const num = parts(ms, ctx, { year: 'numeric', month: '2-digit', day: '2-digit' });
  const shortMonth = parts(ms, ctx, { month: 'short' }).month;
  const day = Number(d.day);
  const long = `${d.month} ${ordinal(day)}, ${d.year}`;
  const values = {
    date_num: `${num.year}-${num.month}-${num.day}`,
    date: long,
    date_short: `${shortMonth} ${day}, ${d.year}`,
    date_long: `${d.weekday}, ${long}`,
  };
  const offset = dayNumber(ms, ctx) - dayNumber(now, ctx);
  const pretty = offset === 0 ? 'today' : offset === -1 ? 'yesterday' : offset === 1 ? 'tomorrow' : undefined;
  const time = (secs) => {
    const t = parts(ms, ctx, { hour: 'numeric', minute: '2-digit', ...(secs ? { second: '2-digit' } : {}) });
    return `${t.hour}:${t.minute}${secs ? `:${t.second}` : ''}${t.dayPeriod ? ` ${t.dayPeriod}` : ''}`;
  };
  return format.replace(/\{([a-z_]+)\}/g, (match, token) => {
    switch (token) {
      case 'date_num':
      case 'date':
      case 'date_short':
      case 'date_long':
        return values[token];
      case 'date_pretty':
      case 'date_short_pretty':
      case 'date_long_pretty':
        return pretty ? pretty[0].toUpperCase() + pretty.slice(1) : values[token.slice(0, -'_pretty'.length)];
      case 'time':
        return time(false);
      case 'time_secs':
        return time(true);
      case 'ago':
        return ago(ms, now);
      default:
        return match;
    }
  });
}
