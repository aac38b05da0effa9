/**
 * The slash command's text → a typed command (pure). Inputs typed inline are parsed here too:
 * JSON, or `key=value` pairs whose values are typed by the workflow's input schema.
 */
import type { JsonSchema } from '../../mastra/types.ts';
import { emptyRecord, findReservedKey, isReservedKey, own, setOwn } from '../../util/safe-objects.ts';

export type Command =
  | { kind: 'help'; unknown?: string }
  | { kind: 'list'; page?: number }
  | { kind: 'start'; workflow: string; inputs: string }
  | { kind: 'runs'; workflow: string; status?: string }
  | { kind: 'status'; runId: string }
  | { kind: 'cancel'; runId: string }
  | { kind: 'usage'; message: string };

export function parseCommand(text: string, commandName: string): Command {
  const trimmed = normalizeQuotes(text).trim();
  if (!trimmed) return { kind: 'help' };
  const [head = '', ...rest] = trimmed.split(/\s+/);
  const verb = head.toLowerCase();
  const tail = trimmed.slice(head.length).trim();
  const args = rest;
  switch (verb) {
    case 'help':
      return { kind: 'help' };
    case 'list':
    case 'ls':
    case 'workflows': {
      if (args.length === 0) return { kind: 'list' };
      const page = args.length === 1 && /^\d{1,6}$/.test(args[0]!) ? Number(args[0]) : 0;
      if (page < 1)
        return usage(
          `\`${commandName} list\` takes an optional page number, e.g. \`${commandName} list 2\`.`,
        );
      return { kind: 'list', page };
    }
    case 'start':
    case 'run': {
      const workflow = args[0];
      if (!workflow)
        return usage(`Which workflow? Try \`${commandName} start <workflow> {"key": "value"}\`.`);
      return { kind: 'start', workflow, inputs: tail.slice(workflow.length).trim() };
    }
    case 'runs': {
      const workflow = args[0];
      if (!workflow) return usage(`Which workflow? Try \`${commandName} runs <workflow> [status]\`.`);
      if (args.length > 2) return usage(`\`${commandName} runs\` takes a workflow and at most one status.`);
      return args[1] ? { kind: 'runs', workflow, status: args[1].toLowerCase() } : { kind: 'runs', workflow };
    }
    case 'status':
    case 'cancel': {
      const runId = args[0];
      if (!runId || args.length > 1) return usage(`Which run? Try \`${commandName} ${verb} <run id>\`.`);
      return verb === 'status' ? { kind: 'status', runId } : { kind: 'cancel', runId };
    }
    default:
      return { kind: 'help', unknown: head };
  }
}

function usage(message: string): Command {
  return { kind: 'usage', message };
}

/** Slack's clients may turn quotes into typographic ones; JSON and `key="a b"` need straight ones. */
export function normalizeQuotes(text: string): string {
  return text.replace(/[\u201C\u201D\u201E\u2033]/g, '"').replace(/[\u2018\u2019\u201A\u2032]/g, "'");
}

export type InputsResult = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Inline inputs: empty → `undefined`; `{…}`/`[…]` → JSON (errors carry the parser's message and
 * position); otherwise `key=value` pairs (dotted keys build nested objects) typed by `schema`.
 */
export function parseInputs(text: string, schema: JsonSchema | undefined): InputsResult {
  const source = normalizeQuotes(text).trim();
  if (!source) return { ok: true, value: undefined };
  if (source.startsWith('{') || source.startsWith('[')) {
    try {
      return withoutReservedKeys(JSON.parse(source), '');
    } catch (error) {
      return { ok: false, message: `That isn't valid JSON: ${jsonErrorMessage(error, source)}` };
    }
  }
  // Any other JSON value (a workflow whose input is a string, a number…): `"release notes"`, `42`.
  if (/^(?:"|-?\d|true$|false$|null$)/.test(source)) {
    try {
      return { ok: true, value: JSON.parse(source) };
    } catch {
      // not JSON after all: key=value pairs below, or the message that says how to give inputs
    }
  }
  // A workflow whose input is one string takes the text as it is.
  if (!source.includes('=') && schemaTypes(schema).has('string') && schema?.type !== 'object') {
    return { ok: true, value: source };
  }
  const pairs = tokenize(source);
  if (!pairs.ok) return pairs;
  // Built without prototypes, from own properties only: no key typed here can reach Object.prototype.
  const value = emptyRecord<unknown>();
  for (const [key, raw] of pairs.value) {
    const path = key.split('.');
    if (path.some((p) => !p)) return { ok: false, message: `\`${key}\` is not a valid input name.` };
    const reserved = path.find(isReservedKey);
    if (reserved !== undefined) return reservedKeyRefusal(reserved);
    const typed = typeValue(raw, propertySchema(schema, path), key);
    if (!typed.ok) return typed;
    let target = value;
    for (const part of path.slice(0, -1)) {
      const next = own(target, part);
      if (next === undefined) setOwn(target, part, emptyRecord<unknown>());
      else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        return { ok: false, message: `\`${key}\` conflicts with an earlier value of \`${part}\`.` };
      }
      target = own(target, part) as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (Object.hasOwn(target, last)) return { ok: false, message: `\`${key}\` is given twice.` };
    setOwn(target, last, typed.value);
  }
  return { ok: true, value };
}

export type StateSplit =
  | { ok: true; inputs: string; state: Record<string, unknown> | undefined }
  | { ok: false; message: string };

/**
 * A run's initial state typed inline: `state={…}` (a JSON object) after the inputs, last in the
 * text — `start wf {"title": "x"} state={"team": "ops"}` or `start wf title=x state={"team": "ops"}`.
 * Only for workflows that declare a state schema (elsewhere `state=` stays an input like any other).
 */
export function splitInitialState(text: string): StateSplit {
  const source = normalizeQuotes(text).trim();
  let at = -1;
  for (const match of source.matchAll(/(?:^|\s)state=/g)) at = match.index + match[0].length;
  if (at === -1) return { ok: true, inputs: source, state: undefined };
  const inputs = source.slice(0, at - 'state='.length).trim();
  if (source[at] !== '{') {
    return {
      ok: false,
      message: 'Give the initial state as a JSON object after the inputs: `state={"key": "value"}`.',
    };
  }
  const end = matchingBracket(source, at);
  if (end === -1) return { ok: false, message: 'The initial state has an unclosed `{`.' };
  if (end !== source.length - 1) {
    return { ok: false, message: 'Put `state={…}` last, after the inputs.' };
  }
  const raw = source.slice(at, end + 1);
  let state: unknown;
  try {
    state = JSON.parse(raw);
  } catch (error) {
    return { ok: false, message: `The initial state isn't valid JSON: ${jsonErrorMessage(error, raw)}` };
  }
  const checked = withoutReservedKeys(state, 'state');
  if (!checked.ok) return checked;
  return { ok: true, inputs, state: state as Record<string, unknown> };
}

function reservedKeyRefusal(key: string, inside = ''): InputsResult {
  const where = inside ? ` (inside \`${inside.replace(/`/g, "'")}\`)` : '';
  return {
    ok: false,
    message: `\`${key}\` cannot be used as an input name${where}: it is reserved. Rename that field in the workflow's input schema, or leave it out.`,
  };
}

/** Parsed JSON, refused when any key inside it is reserved (`__proto__`, `prototype`, `constructor`). */
function withoutReservedKeys(value: unknown, prefix: string): InputsResult {
  const path = findReservedKey(value);
  if (!path) return { ok: true, value };
  const inside = [prefix, ...path.slice(0, -1).map(String)].filter((p) => p !== '').join('.');
  return reservedKeyRefusal(String(path.at(-1)), inside);
}

function jsonErrorMessage(error: unknown, source: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /position (\d+)/.exec(message);
  if (!match) return message;
  const position = Number(match[1]);
  const near = source.slice(Math.max(0, position - 10), position + 10);
  return `${message} — near \`${near.replace(/`/g, "'")}\``;
}

function tokenize(source: string): { ok: true; value: [string, string][] } | { ok: false; message: string } {
  const pairs: [string, string][] = [];
  let i = 0;
  while (i < source.length) {
    while (i < source.length && /\s/.test(source[i]!)) i++;
    if (i >= source.length) break;
    const eq = source.indexOf('=', i);
    const space = source.slice(i).search(/\s/);
    const wordEnd = space === -1 ? source.length : i + space;
    if (eq === -1 || eq > wordEnd) {
      const word = source.slice(i, wordEnd);
      return {
        ok: false,
        message: `\`${word.replace(/`/g, "'")}\` is not a \`key=value\` pair. Give inputs as JSON (\`{"amount": 5}\`) or as \`key=value\` pairs.`,
      };
    }
    const key = source.slice(i, eq);
    i = eq + 1;
    let raw = '';
    const quote = source[i];
    if (quote === '"' || quote === "'") {
      const close = source.indexOf(quote, i + 1);
      if (close === -1) return { ok: false, message: `The value of \`${key}\` has no closing ${quote}.` };
      raw = JSON.stringify(source.slice(i + 1, close));
      i = close + 1;
    } else if (quote === '{' || quote === '[') {
      const end = matchingBracket(source, i);
      if (end === -1) return { ok: false, message: `The value of \`${key}\` has an unclosed ${quote}.` };
      raw = source.slice(i, end + 1);
      i = end + 1;
    } else {
      const rest = source.slice(i).search(/\s/);
      const end = rest === -1 ? source.length : i + rest;
      raw = source.slice(i, end);
      i = end;
    }
    pairs.push([key, raw]);
  }
  return { ok: true, value: pairs };
}

function matchingBracket(source: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** A raw token (quoted tokens arrive JSON-encoded) typed by the property's schema. */
function typeValue(raw: string, schema: JsonSchema | undefined, key: string): InputsResult {
  const quoted = raw.startsWith('"');
  const text = quoted ? (JSON.parse(raw) as string) : raw;
  const types = schemaTypes(schema);
  if (raw.startsWith('{') || raw.startsWith('[')) {
    try {
      return withoutReservedKeys(JSON.parse(raw), key);
    } catch (error) {
      return {
        ok: false,
        message: `The value of \`${key}\` isn't valid JSON: ${jsonErrorMessage(error, raw)}`,
      };
    }
  }
  if (!quoted && (types.has('number') || types.has('integer'))) {
    const n = Number(text);
    if (text !== '' && Number.isFinite(n)) return { ok: true, value: n };
    if (!types.has('string')) return { ok: false, message: `\`${key}\` must be a number, not \`${text}\`.` };
  }
  if (!quoted && types.has('boolean')) {
    const lower = text.toLowerCase();
    if (['true', 'yes', 'y', 'on'].includes(lower)) return { ok: true, value: true };
    if (['false', 'no', 'n', 'off'].includes(lower)) return { ok: true, value: false };
    if (!types.has('string'))
      return { ok: false, message: `\`${key}\` must be true or false, not \`${text}\`.` };
  }
  if (!quoted && types.has('null') && text === 'null') return { ok: true, value: null };
  if (!quoted && types.size === 0) {
    // No schema to go by: numbers and booleans as such, the rest as strings.
    if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
    if (/^-?\d+(\.\d+)?$/.test(text)) return { ok: true, value: Number(text) };
  }
  return { ok: true, value: text };
}

function schemaTypes(schema: JsonSchema | undefined): Set<string> {
  const types = new Set<string>();
  if (!schema) return types;
  const add = (s: unknown) => {
    if (!s || typeof s !== 'object') return;
    const t = (s as JsonSchema).type;
    if (typeof t === 'string') types.add(t);
    else if (Array.isArray(t)) for (const x of t) if (typeof x === 'string') types.add(x);
    for (const k of ['anyOf', 'oneOf'] as const) {
      const list = (s as JsonSchema)[k];
      if (Array.isArray(list)) for (const x of list) add(x);
    }
  };
  add(schema);
  return types;
}

function propertySchema(schema: JsonSchema | undefined, path: string[]): JsonSchema | undefined {
  let current: unknown = schema;
  for (const part of path) {
    if (!current || typeof current !== 'object') return undefined;
    const properties = (current as JsonSchema).properties;
    if (!properties || typeof properties !== 'object') return undefined;
    current = own(properties as Record<string, unknown>, part);
  }
  return current && typeof current === 'object' ? (current as JsonSchema) : undefined;
}
