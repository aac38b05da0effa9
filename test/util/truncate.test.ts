import { describe, expect, test } from 'vitest';
import { truncate, truncateStart } from '../../src/util/truncate.ts';

describe('truncate', () => {
  test('text within the length is kept; longer text ends with "…" at exactly the length', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('abc', 1)).toBe('…');
    expect(truncate('abc', 0)).toBe('');
  });

  test('a surrogate pair is never split: the cut goes before it', () => {
    const cut = truncate('ab😀cd', 4); // "ab" + the high half of 😀 would be 3 units
    expect(cut).toBe('ab…');
    expect(cut.isWellFormed()).toBe(true);
  });
});

describe('truncateStart', () => {
  test('keeps the end, starting with "…", never half a surrogate pair', () => {
    expect(truncateStart('abcdef', 6)).toBe('abcdef');
    expect(truncateStart('abcdefg', 4)).toBe('…efg');
    const cut = truncateStart('ab😀cd', 4); // the low half of 😀 would start it
    expect(cut).toBe('…cd');
    expect(cut.isWellFormed()).toBe(true);
  });
});
