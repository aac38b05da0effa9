/**
 * Schema `pattern`s checked in linear time: an ECMA-262 pattern (what JSON Schema's `pattern` and
 * `patternProperties` hold) translated to RE2 syntax and run by `re2js`, so no answer, however long,
 * can make a check backtrack. Patterns RE2 cannot express (backreferences, lookahead) are not
 * checked at all: they come back as unsupported, with the reason in the product's words.
 */

import { RE2JS } from 're2js';

export type SafePattern =
  | { ok: true; pattern: string; test(text: string): boolean }
  | { ok: false; pattern: string; reason: string };

/** Thrown by the translation for what RE2 cannot do; its message is the reason shown to people. */
class Unsupported extends Error {}

const CACHE_MAX = 1000;
const cache = new Map<string, SafePattern>();

/** The pattern compiled for linear-time matching (cached), or why it cannot be. Never throws. */
export function safePattern(pattern: string): SafePattern {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const compiled = compile(pattern);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

function compile(pattern: string): SafePattern {
  let translated: Translation;
  try {
    translated = translate(pattern);
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, pattern, reason: e.message };
    throw e;
  }
  try {
    const re = RE2JS.compile(translated.source, translated.lookbehind ? RE2JS.LOOKBEHINDS : 0);
    return { ok: true, pattern, test: (text) => re.test(text) };
  } catch (e) {
    const detail = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '') : String(e);
    return { ok: false, pattern, reason: `it is not a pattern Flowgate can read (${detail})` };
  }
}

/** `\s` of ECMA-262: white space and line terminators (RE2's `\s` is ASCII only). */
const SPACE_RANGES =
  '\\x{9}-\\x{D}\\x{20}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
/** `.` of ECMA-262 without the `s` flag: anything but a line terminator (RE2's `.` only skips `\n`). */
const DOT = '[^\\x{A}\\x{D}\\x{2028}\\x{2029}]';
const ANY = '[\\x{0}-\\x{10FFFF}]';
const NOTHING = '[^\\x{0}-\\x{10FFFF}]';

/** ECMA-262's long names of general categories, as RE2 spells them. */
const CATEGORIES: Record<string, string> = {
  Letter: 'L',
  Cased_Letter: 'L',
  Uppercase_Letter: 'Lu',
  Lowercase_Letter: 'Ll',
  Titlecase_Letter: 'Lt',
  Modifier_Letter: 'Lm',
  Other_Letter: 'Lo',
  Mark: 'M',
  Nonspacing_Mark: 'Mn',
  Spacing_Mark: 'Mc',
  Enclosing_Mark: 'Me',
  Number: 'N',
  Decimal_Number: 'Nd',
  digit: 'Nd',
  Letter_Number: 'Nl',
  Other_Number: 'No',
  Punctuation: 'P',
  punct: 'P',
  Connector_Punctuation: 'Pc',
  Dash_Punctuation: 'Pd',
  Open_Punctuation: 'Ps',
  Close_Punctuation: 'Pe',
  Initial_Punctuation: 'Pi',
  Final_Punctuation: 'Pf',
  Other_Punctuation: 'Po',
  Symbol: 'S',
  Math_Symbol: 'Sm',
  Currency_Symbol: 'Sc',
  Modifier_Symbol: 'Sk',
  Other_Symbol: 'So',
  Separator: 'Z',
  Space_Separator: 'Zs',
  Line_Separator: 'Zl',
  Paragraph_Separator: 'Zp',
  Other: 'C',
  Control: 'Cc',
  cntrl: 'Cc',
  Format: 'Cf',
  Surrogate: 'Cs',
  Private_Use: 'Co',
  Unassigned: 'Cn',
};

interface Translation {
  source: string;
  lookbehind: boolean;
}

/** One code point as RE2 reads it literally, in and out of a class. */
function literal(cp: number): string {
  const c = String.fromCodePoint(cp);
  return /^[A-Za-z0-9_]$/.test(c) ? c : `\\x{${cp.toString(16).toUpperCase()}}`;
}

function isHex(s: string): boolean {
  return s.length > 0 && /^[0-9A-Fa-f]+$/.test(s);
}

/** A class item: one code point, or a set (`\d`, `\p{L}`…) that cannot end a range. */
type ClassItem = { kind: 'char'; cp: number } | { kind: 'set'; re2: string };

/**
 * ECMA-262 pattern → RE2 syntax with the same meaning, read with the `u` flag's semantics (code
 * points, `\p{…}`, `\u{…}`), as JSON Schema asks, and Annex B's leniency where it is unambiguous
 * (`\a` is `a`, a `{` that starts no quantifier is a brace, `]` alone is a bracket).
 * Captures become plain groups (a test needs none); lookbehind is kept (re2js runs it in linear time).
 */
function translate(pattern: string): Translation {
  const cps = Array.from(pattern, (c) => c.codePointAt(0) as number);
  const at = (i: number): string => (i < cps.length ? String.fromCodePoint(cps[i] as number) : '');
  let i = 0;
  let out = '';
  let lookbehind = false;
  /** `s` (dot matches all) per open group, innermost last. */
  const dotAll: boolean[] = [false];
  /** Whether the last thing written can take a quantifier. */
  let quantifiable = false;

  const readHex = (len: number): number | undefined => {
    let s = '';
    for (let k = 0; k < len; k++) s += at(i + k);
    if (!isHex(s) || s.length !== len) return undefined;
    i += len;
    return Number.parseInt(s, 16);
  };

  /** After `\u`: the code point of `XXXX`, `{X…}`, or a surrogate pair `XXXX\uXXXX`. */
  const unicodeEscape = (): number | undefined => {
    if (at(i) === '{') {
      const end = cps.indexOf('}'.codePointAt(0) as number, i);
      const hex = end < 0 ? '' : String.fromCodePoint(...cps.slice(i + 1, end));
      if (!isHex(hex) || Number.parseInt(hex, 16) > 0x10ffff) return undefined;
      i = end + 1;
      return Number.parseInt(hex, 16);
    }
    const first = readHex(4);
    if (first === undefined) return undefined;
    if (first >= 0xd800 && first <= 0xdbff && at(i) === '\\' && at(i + 1) === 'u') {
      const save = i;
      i += 2;
      const second = readHex(4);
      if (second !== undefined && second >= 0xdc00 && second <= 0xdfff)
        return 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
      i = save;
    }
    if (first >= 0xd800 && first <= 0xdfff)
      throw new Unsupported(`it matches a lone surrogate (\`\\u${first.toString(16)}\`)`);
    return first;
  };

  const property = (negated: boolean): string => {
    if (at(i) !== '{') throw new Unsupported('it has a `\\p` without `{…}`');
    const end = cps.indexOf('}'.codePointAt(0) as number, i);
    if (end < 0) throw new Unsupported('it has a `\\p{` without its `}`');
    const body = String.fromCodePoint(...cps.slice(i + 1, end));
    i = end + 1;
    const [key, value] = body.includes('=') ? body.split('=', 2) : [undefined, body];
    let name: string;
    if (key === undefined) name = CATEGORIES[value as string] ?? (value as string);
    else if (key === 'General_Category' || key === 'gc')
      name = CATEGORIES[value as string] ?? (value as string);
    else if (key === 'Script' || key === 'sc') name = value as string;
    else throw new Unsupported(`it uses the Unicode property \`${body}\``);
    if (!/^[A-Za-z_]+$/.test(name)) throw new Unsupported(`it uses the Unicode property \`${body}\``);
    return `\\${negated ? 'P' : 'p'}{${name}}`;
  };

  /** An escape after `\` (already consumed), in a class or not. */
  const escaped = (inClass: boolean): ClassItem | { kind: 'assertion'; re2: string } => {
    const c = at(i);
    i++;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { kind: 'set', re2: `\\${c}` };
      case 's':
        return { kind: 'set', re2: inClass ? SPACE_RANGES : `[${SPACE_RANGES}]` };
      case 'S':
        if (inClass) return { kind: 'set', re2: '\\S' }; // resolved by `classItems`
        return { kind: 'set', re2: `[^${SPACE_RANGES}]` };
      case 'b':
        return inClass ? { kind: 'char', cp: 8 } : { kind: 'assertion', re2: '\\b' };
      case 'B':
        return inClass
          ? { kind: 'char', cp: 'B'.codePointAt(0) as number }
          : { kind: 'assertion', re2: '\\B' };
      case 't':
        return { kind: 'char', cp: 9 };
      case 'n':
        return { kind: 'char', cp: 10 };
      case 'v':
        return { kind: 'char', cp: 11 };
      case 'f':
        return { kind: 'char', cp: 12 };
      case 'r':
        return { kind: 'char', cp: 13 };
      case '0':
        if (/[0-9]/.test(at(i))) throw new Unsupported('it has an octal escape (`\\0…`)');
        return { kind: 'char', cp: 0 };
      case 'c': {
        const letter = at(i);
        if (/^[A-Za-z]$/.test(letter)) {
          i++;
          return { kind: 'char', cp: (letter.codePointAt(0) as number) % 32 };
        }
        i--; // `\c` not followed by a letter is a backslash and a `c` (Annex B)
        return { kind: 'char', cp: '\\'.codePointAt(0) as number };
      }
      case 'x': {
        const cp = readHex(2);
        return { kind: 'char', cp: cp ?? ('x'.codePointAt(0) as number) };
      }
      case 'u': {
        const cp = unicodeEscape();
        return { kind: 'char', cp: cp ?? ('u'.codePointAt(0) as number) };
      }
      case 'p':
      case 'P':
        return { kind: 'set', re2: property(c === 'P') };
      case 'k':
        throw new Unsupported('it uses a backreference (`\\k<…>`)');
      case '':
        throw new Unsupported('it ends with a lone `\\`');
      default:
        if (/[1-9]/.test(c)) {
          if (inClass) throw new Unsupported(`it has an octal escape (\`\\${c}\`)`);
          throw new Unsupported(`it uses a backreference (\`\\${c}\`)`);
        }
        return { kind: 'char', cp: c.codePointAt(0) as number };
    }
  };

  /** `[…]` after its `[` (already consumed). */
  const characterClass = (): string => {
    let negated = false;
    if (at(i) === '^') {
      negated = true;
      i++;
    }
    const items: ClassItem[] = [];
    const hyphens = new Set<number>(); // indices in `items` of literal `-` written between items
    for (;;) {
      if (i >= cps.length) throw new Unsupported('it has a `[` without its `]`');
      const c = at(i);
      if (c === ']') {
        i++;
        break;
      }
      i++;
      if (c === '\\') {
        const item = escaped(true);
        items.push(item as ClassItem);
      } else {
        if (c === '-') hyphens.add(items.length);
        items.push({ kind: 'char', cp: c.codePointAt(0) as number });
      }
    }
    // Ranges: char - char; a `-` next to a set (Annex B) or at either end is a literal.
    const parts: string[] = [];
    let notSpace = false;
    for (let k = 0; k < items.length; k++) {
      const item = items[k] as ClassItem;
      const next = items[k + 1];
      const after = items[k + 2];
      if (
        item.kind === 'char' &&
        next !== undefined &&
        hyphens.has(k + 1) &&
        after !== undefined &&
        after.kind === 'char'
      ) {
        if (after.cp < item.cp) throw new Unsupported('it has a range out of order in a `[…]`');
        parts.push(`${literal(item.cp)}-${literal(after.cp)}`);
        k += 2;
        continue;
      }
      if (item.kind === 'char') parts.push(literal(item.cp));
      else if (item.re2 === '\\S') notSpace = true;
      else parts.push(item.re2);
    }
    const body = parts.join('');
    if (notSpace) {
      if (negated) throw new Unsupported('it has `\\S` inside `[^…]`');
      return body === '' ? `[^${SPACE_RANGES}]` : `(?:[${body}]|[^${SPACE_RANGES}])`;
    }
    if (body === '') return negated ? ANY : NOTHING;
    return `[${negated ? '^' : ''}${body}]`;
  };

  const QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

  while (i < cps.length) {
    const c = at(i);
    switch (c) {
      case '\\': {
        i++;
        const item = escaped(false);
        if (item.kind === 'assertion') {
          out += item.re2;
          quantifiable = false;
        } else {
          out += item.kind === 'char' ? literal(item.cp) : item.re2;
          quantifiable = true;
        }
        break;
      }
      case '.':
        i++;
        out += dotAll.at(-1) ? ANY : DOT;
        quantifiable = true;
        break;
      case '^':
      case '$':
        i++;
        out += c;
        quantifiable = false;
        break;
      case '[':
        i++;
        out += characterClass();
        quantifiable = true;
        break;
      case '(': {
        i++;
        const rest = String.fromCodePoint(...cps.slice(i, i + 40));
        if (rest.startsWith('?=') || rest.startsWith('?!'))
          throw new Unsupported('it uses lookahead (`(?=…)` or `(?!…)`)');
        if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
          out += `(${rest.slice(0, 3)}`;
          i += 3;
          lookbehind = true;
          dotAll.push(dotAll.at(-1) ?? false);
        } else if (rest.startsWith('?<')) {
          const end = cps.indexOf('>'.codePointAt(0) as number, i);
          if (end < 0) throw new Unsupported('it has a group name without its `>`');
          i = end + 1;
          out += '(?:';
          dotAll.push(dotAll.at(-1) ?? false);
        } else if (rest.startsWith('?:')) {
          i += 2;
          out += '(?:';
          dotAll.push(dotAll.at(-1) ?? false);
        } else if (rest.startsWith('?')) {
          const m = /^\?([ims]*)(?:-([ims]*))?:/.exec(rest);
          if (m === null)
            throw new Unsupported(`it has a group Flowgate cannot read (\`(${rest.slice(0, 3)}…\`)`);
          const on = m[1] ?? '';
          const off = m[2] ?? '';
          if (on.includes('m') || off.includes('m'))
            throw new Unsupported('it uses the `m` modifier (`(?m:…)`)');
          i += m[0].length;
          const flags = `${on.includes('i') ? 'i' : ''}${off.includes('i') ? '-i' : ''}`;
          out += flags === '' ? '(?:' : `(?${flags}:`;
          dotAll.push(on.includes('s') ? true : off.includes('s') ? false : (dotAll.at(-1) ?? false));
        } else {
          out += '(?:';
          dotAll.push(dotAll.at(-1) ?? false);
        }
        quantifiable = false;
        break;
      }
      case ')':
        i++;
        if (dotAll.length <= 1) throw new Unsupported('it has a `)` without its `(`');
        dotAll.pop();
        out += ')';
        quantifiable = true;
        break;
      case '|':
        i++;
        out += '|';
        quantifiable = false;
        break;
      case '*':
      case '+':
      case '?':
        i++;
        if (!quantifiable) throw new Unsupported(`it has a \`${c}\` with nothing to repeat`);
        out += c;
        if (at(i) === '?') {
          i++;
          out += '?';
        }
        quantifiable = false;
        break;
      case '{': {
        const m = QUANTIFIER.exec(String.fromCodePoint(...cps.slice(i, i + 24)));
        if (m === null) {
          i++;
          out += literal(123);
          quantifiable = true;
          break;
        }
        if (!quantifiable) throw new Unsupported(`it has a \`${m[0]}\` with nothing to repeat`);
        i += m[0].length;
        out += m[0];
        if (at(i) === '?') {
          i++;
          out += '?';
        }
        quantifiable = false;
        break;
      }
      default:
        i++;
        out += literal(c.codePointAt(0) as number);
        quantifiable = true;
    }
  }
  if (dotAll.length > 1) throw new Unsupported('it has a `(` without its `)`');
  return { source: out, lookbehind };
}
