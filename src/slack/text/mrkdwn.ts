/**
 * Text from outside (workflow outputs, errors, user input) made safe for Slack mrkdwn and kept within
 * Slack's size limits. Escaping `&`, `<` and `>` is what stops `<!channel>` or `<@U…>` in a workflow's
 * output from pinging anyone (docs/slack.md, Escaping mrkdwn).
 */
import { stepText } from '../../runs/graph.ts';

import { isUserGroupId, isUserId } from '../../util/slack-ids.ts';
import { truncate } from '../../util/truncate.ts';

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Cuts mrkdwn to at most `max` characters, ending with "…" when cut, and keeps it well-formed: no
 * surrogate pair, entity (`&amp;`) or `<…>` (mention, date, link) is cut in half, and a code span or
 * fence left open by the cut is closed.
 */
export function cutMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return truncate(text, max);
  // Try the longest cut first; with a code span or fence left open, leave room to close it.
  for (const room of [0, 1, 3]) {
    if (max - room < 2) break;
    const kept = keepWhole(truncate(text, max - room).slice(0, -1));
    const close = closingCode(kept);
    if (close.length <= room) return `${kept}…${close}`;
  }
  return `${keepWhole(truncate(text, max).slice(0, -1))}…`;
}

/** Drops a trailing half entity (`&am`) or half `<…>` (mention, date, link). */
function keepWhole(kept: string): string {
  let out = kept;
  const amp = out.lastIndexOf('&');
  if (amp !== -1 && amp >= out.length - 5 && !out.slice(amp).includes(';')) out = out.slice(0, amp);
  const lt = out.lastIndexOf('<');
  if (lt !== -1 && !out.slice(lt).includes('>')) out = out.slice(0, lt);
  return out;
}

/** What closes the code fence or span `text` leaves open ('' when none). */
function closingCode(text: string): string {
  if ((text.split('```').length - 1) % 2 === 1) return '```';
  if ((text.replaceAll('```', '').split('`').length - 1) % 2 === 1) return '`';
  return '';
}

/**
 * Escape, then cut (see `cutMrkdwn`: never half an entity such as `&amp;`). A code fence the text
 * opens and never closes is closed, so it cannot turn the rest of Flowgate's message into code.
 */
export function safeText(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  const fences = escaped.split('```').length - 1;
  return cutMrkdwn(fences % 2 === 1 ? `${escaped}\`\`\`` : escaped, max);
}

/**
 * A name or id from outside, escaped and — when too long — cut in the middle: its start, "…", its
 * end, so names that differ only at the end (parallel steps sharing a long prefix) stay apart.
 * Entities, surrogate pairs and `<…>` stay whole; where a middle cut would leave code open, the
 * name is cut at the end instead.
 */
export function safeName(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return safeText(text, max);
  const cut = cutMiddle(escaped, max);
  return closingCode(cut) === '' ? cut : safeText(text, max);
}

/**
 * A step path as people read it everywhere (message, thread, form, notices): nested steps joined by
 * " › ", escaped, the middle cut when too long; `code` sets it as inline code (the step list). The
 * one way to name a step in mrkdwn. Segments Mastra names internally read as what they are: a
 * `sleep_<uuid>` as "sleep", a `mapping_<workflow>_<n>` as "map" (`stepText` of src/runs/graph.ts).
 */
export function stepName(
  path: readonly string[] | string,
  max = 150,
  style: 'plain' | 'code' = 'plain',
): string {
  const text = stepText(path);
  return style === 'code' ? code(text, max) : safeName(text, max);
}

/** Start and end of `text` with "…" between, within `max`; entities, pairs and `<…>` kept whole. */
function cutMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 9) return cutMrkdwn(text, max);
  const headLength = Math.ceil((max - 1) / 2);
  const head = keepWhole(truncate(text, headLength + 1).slice(0, -1));
  let start = text.length - (max - 1 - headLength);
  const code = text.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start += 1;
  const amp = text.lastIndexOf('&', start - 1);
  if (amp !== -1 && start - amp < 6) {
    const semi = text.indexOf(';', amp);
    if (semi >= start) start = semi + 1;
  }
  if (text.lastIndexOf('<', start - 1) > text.lastIndexOf('>', start - 1)) {
    const close = text.indexOf('>', start);
    if (close !== -1) start = close + 1;
  }
  return `${head}…${text.slice(start)}`;
}

/** A value as one short line: strings as they are, anything else as compact JSON. Not escaped. */
export function inlineValue(value: unknown, max = 150): string {
  const text = typeof value === 'string' ? value : compactJson(value);
  return truncate(text.replace(/\s+/g, ' ').trim(), max);
}

/** A value as pretty JSON for a code block. Not escaped. */
export function blockValue(value: unknown, max = 1500): string {
  const text = typeof value === 'string' ? value : prettyJson(value);
  return truncate(text, max);
}

/** Inline code: backticks inside would end the span, so they become a look-alike; long ones lose their middle. */
export function code(text: string, max = 200): string {
  return `\`${safeName(text.replace(/`/g, 'ˋ'), max)}\``;
}

/** A fenced code block of escaped text. */
export function codeBlock(text: string, max = 2800): string {
  return `\`\`\`${safeText(text.replace(/```/g, 'ˋˋˋ'), max)}\`\`\``;
}

export function mentionUser(userId: string): string {
  return isUserId(userId) ? `<@${userId}>` : safeText(userId, 80);
}

export function mentionGroup(groupId: string): string {
  return isUserGroupId(groupId) ? `<!subteam^${groupId}>` : safeText(groupId, 80);
}

/** Slack renders this in each reader's own time zone, with `fallback` where it cannot. */
export function slackDate(date: Date, format = '{date_short_pretty} {time}'): string {
  const seconds = Math.floor(date.getTime() / 1000);
  return `<!date^${seconds}^${format}|${date.toISOString().replace('T', ' ').slice(0, 16)} UTC>`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function compactJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
