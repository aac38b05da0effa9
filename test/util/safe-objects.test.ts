import { describe, expect, test } from 'vitest';
import { valueAt } from '../../src/util/safe-objects.ts';

describe('valueAt', () => {
  test('reads own properties along a path, arrays included', () => {
    const data = { list: [{ name: 'a' }, { name: 'b' }], n: 0 };
    expect(valueAt(data, ['list', 1, 'name'])).toBe('b');
    expect(valueAt(data, ['n'])).toBe(0);
    expect(valueAt(data, ['list', 5, 'name'])).toBeUndefined();
    expect(valueAt(data, ['n', 'deeper'])).toBeUndefined();
  });

  test('never reads what an object inherits: a path from outside cannot reach a prototype', () => {
    const data = JSON.parse('{"a": {}, "__proto__": {"polluted": true}}') as unknown;
    expect(valueAt(data, ['a', 'toString'])).toBeUndefined();
    expect(valueAt(data, ['a', 'constructor', 'prototype'])).toBeUndefined();
    expect(valueAt(data, ['list', 'length'])).toBeUndefined();
    expect(valueAt(data, ['__proto__', 'polluted'])).toBe(true); // its own key, as JSON made it
    expect(valueAt([1, 2], ['length'])).toBe(2); // an array's own length
  });
});
