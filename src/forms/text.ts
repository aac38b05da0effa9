/** Small text helpers shared by the form engine: plain_text objects, readable labels and paths. */

import type * as slack from '@slack/types';
import { truncate } from '../util/truncate.ts';

type PlainTextElement = slack.PlainTextElement;

/** A plain_text object. Slack echoes `emoji: true` back in view state, so it is set explicitly. */
export function plain(text: string, max?: number): PlainTextElement {
  return { type: 'plain_text', text: max === undefined ? text : truncate(text, max), emoji: true };
}

/**
 * A property name made readable: `requestId` → "Request id", `due_date` → "Due date", `URLPath` → "Url path".
 * Falls back to the raw name when it has no letters or digits.
 */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_\-.]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
  if (words.length === 0) return name.trim() === '' ? 'Value' : name;
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The lower-case words of a property name (for the prose heuristic). */
export function nameWords(name: string): string[] {
  return humanize(name).toLowerCase().split(' ');
}

/** `items[0].name`, `address.city`, `["odd key"]` — a data path as people read it. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * A number as Slack's number_input wants it: plain decimal notation, never an exponent, and exact:
 * `Number(formatNumber(n)) === n` (the digits are JavaScript's shortest round-trip digits).
 */
export function formatNumber(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, int, frac = '', exp] = m as unknown as [string, string, string, string | undefined, string];
  const digits = int + frac;
  const point = int.length + Number(exp); // position of the decimal point within `digits`
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
