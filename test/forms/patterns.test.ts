/**
 * Schema patterns are matched in linear time: the worst-known backtracking patterns against answers
 * of 10,000 characters go through form validation like any other (a native RegExp would take
 * minutes to years on each), patterns RE2 cannot express are refused with a message that says so,
 * and ordinary patterns mean what they mean in ECMA-262.
 */
import { describe, expect, test } from 'vitest';
import { buildForm, checkValue } from '../../src/forms/index.ts';
import { safePattern } from '../../src/forms/pattern.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';
import { validationProblems } from '../../src/slack/usecases/context.ts';
import { submit, text } from './helpers.ts';

const LONG = 10_000;

/** An object with one required string `answer` that must match `pattern`. */
function withPattern(pattern: string, required = true): JsonSchema {
  return {
    type: 'object',
    properties: { answer: { type: 'string', pattern } },
    ...(required ? { required: ['answer'] } : {}),
    additionalProperties: false,
  };
}

/** Each pattern with an answer that makes a backtracking engine try every way to split it, and one it accepts. */
const HOSTILE: readonly { pattern: string; miss: string; hit: string }[] = [
  { pattern: '^(a+)+$', miss: `${'a'.repeat(LONG)}!`, hit: 'a'.repeat(LONG) },
  { pattern: '^(a|aa)+$', miss: `${'a'.repeat(LONG)}!`, hit: 'a'.repeat(LONG) },
  { pattern: '^(a|a)*$', miss: `${'a'.repeat(LONG)}!`, hit: 'a'.repeat(LONG) },
  { pattern: '(x+x+)+y', miss: 'x'.repeat(LONG), hit: `${'x'.repeat(LONG)}y` },
  { pattern: '^(\\w+\\s?)*$', miss: `${'word '.repeat(LONG / 5)}!`, hit: 'word '.repeat(LONG / 5) },
  { pattern: '^(([a-z])+.)+[A-Z]([a-z])+$', miss: 'a'.repeat(LONG), hit: `${'ab'.repeat(LONG / 2)}Zz` },
  { pattern: '^(\\d+)*$', miss: `${'1'.repeat(LONG)}x`, hit: '1'.repeat(LONG) },
];

describe('backtracking-prone patterns against long answers', () => {
  test.each(HOSTILE)(
    '$pattern: a 10,000-character answer is refused or taken, like any other',
    ({ pattern, miss, hit }) => {
      const schema = withPattern(pattern);
      expect(submit(schema, { 'f:answer': text(miss) })).toEqual({
        ok: false,
        errors: { 'f:answer': `Must match the pattern /${pattern}/` },
      });
      expect(submit(schema, { 'f:answer': text(hit) })).toEqual({ ok: true, data: { answer: hit } });
    },
  );

  test('in a list (one item per line), a map of extra keys and key names, through every check', () => {
    const items = { type: 'array', items: { type: 'string', pattern: '^(a+)+$' } };
    const miss = `${'a'.repeat(LONG)}!`;
    expect(submit({ type: 'object', properties: { items } }, { 'f:items': text(`aaa\n${miss}`) })).toEqual({
      ok: false,
      errors: {
        'f:items': 'Item 2 “aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…”: Must match the pattern /^(a+)+$/',
      },
    });
    const keyed: JsonSchema = {
      type: 'object',
      propertyNames: { pattern: '^(a|aa)+$' },
      patternProperties: { '^(x+x+)+y$': { type: 'number' } },
    };
    expect(checkValue(keyed, { [miss]: 1 })).toMatchObject({ ok: false });
    expect(checkValue(keyed, { aaaa: 1 })).toEqual({ ok: true, data: { aaaa: 1 } });
    expect(validationProblems(withPattern('(x+x+)+y'), { answer: 'x'.repeat(LONG) })).toEqual([
      '`answer`: Must match the pattern /(x+x+)+y/',
    ]);
  });

  test('a pattern that only looks like a date is not tried natively on the picker samples', () => {
    const schema = withPattern('^([\\d:TZ.-]|[\\d:TZ.-]|[\\d:TZ.-])*!$');
    expect(buildForm(schema).blocks[0]?.element.type).toBe('plain_text_input');
  });
});

describe('patterns RE2 cannot express', () => {
  test('an answer that must match a backreference or a lookahead is refused, saying why and what to do', () => {
    const result = submit(withPattern('^(a)\\1$'), { 'f:answer': text('aa') });
    expect(result).toEqual({
      ok: false,
      errors: {
        'f:answer':
          "Flowgate cannot check this answer safely: the workflow's pattern /^(a)\\1$/ cannot be matched in " +
          'linear time because it uses a backreference (`\\1`). Leave it empty if you may, or ask the ' +
          "workflow's owner to rewrite the pattern without backreferences or lookahead.",
      },
    });
    expect(validationProblems(withPattern('^(?=.*\\d)\\w+$'), { answer: 'abc1' })).toEqual([
      expect.stringContaining('because it uses lookahead (`(?=…)` or `(?!…)`)'),
    ]);
  });

  test('an optional field with such a pattern, left empty, does not stop the rest of the form', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: { answer: { type: 'string', pattern: '(a)\\1' }, note: { type: 'string' } },
      required: ['note'],
    };
    expect(submit(schema, { 'f:note': text('ok') })).toEqual({ ok: true, data: { note: 'ok' } });
  });

  test('the form says so up front, on the field (and on a list whose items have such a pattern)', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        answer: { type: 'string', pattern: '(a)\\1', description: 'A code.' },
        tags: { type: 'array', items: { type: 'string', pattern: '^(?!x)' } },
      },
    };
    const hints = buildForm(schema).blocks.map((b) => b.hint?.text);
    expect(hints).toEqual([
      "A code. Flowgate cannot check this field's pattern safely (it uses a backreference (`\\1`)), so it " +
        'refuses answers here: leave it empty if you may.',
      "One item per line. Flowgate cannot check this field's pattern safely (it uses lookahead (`(?=…)` or " +
        '`(?!…)`)), so it refuses answers here: leave it empty if you may.',
    ]);
  });
});

describe('ordinary patterns keep their ECMA-262 meaning', () => {
  const cases: readonly [string, string, boolean][] = [
    ['^[A-Z]{3}$', 'ABC', true],
    ['^[A-Z]{3}$', 'ABCD', false],
    ['\\d{2}', 'x12y', true], // unanchored, like RegExp.prototype.test
    ['^\\s+$', '\u00a0\u2028\ufeff', true], // ECMA-262 white space, wider than RE2's `\s`
    ['^\\S$', '\u00a0', false],
    ['^a.c$', 'a\nc', false], // `.` stops at line terminators
    ['^a.c$', 'a\u2028c', false],
    ['^.$', '😀', true], // code points
    ['^\\p{L}+$', 'Ελλάδα', true],
    ['^\\p{Lu}', 'élan', false],
    ['^(?<year>\\d{4})-\\d{2}$', '2024-05', true],
    ['^\\u0041\\x42$', 'AB', true],
    ['^[^]$', '\n', true],
    ['^[]$', '', false],
    ['^\\w+$', 'héllo', false], // `\w` is ASCII
    ['a{', 'a{', true], // a brace that starts no quantifier is a brace
    ['(?<=\\$)\\d+', 'costs $12', true], // lookbehind runs in linear time
    ['^(?i:abc)$', 'ABC', true],
  ];
  test.each(cases)('%s on %j → %s', (pattern, value, expected) => {
    expect(checkValue(withPattern(pattern), { answer: value })?.ok).toBe(expected);
  });

  test('two patterns that accept the same strings keep their own messages in a union', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: { a: { type: 'string', pattern: '^x' }, b: { type: 'string', pattern: '^x+$' } },
    };
    expect(checkValue(schema, { a: 'yy', b: 'yy' })).toMatchObject({
      ok: false,
      issues: [
        { path: ['a'], pattern: '/^x/' },
        { path: ['b'], pattern: '/^x+$/' },
      ],
    });
  });

  test('each pattern is compiled once', () => {
    expect(safePattern('^[a-z]+$')).toBe(safePattern('^[a-z]+$'));
  });
});
