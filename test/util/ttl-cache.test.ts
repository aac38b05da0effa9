import { describe, expect, test } from 'vitest';
import { TtlCache } from '../../src/util/ttl-cache.ts';

describe('TtlCache', () => {
  test('fresh values (undefined too) until their time to live; the oldest go first past the bound', () => {
    let now = 0;
    const cache = new TtlCache<string | undefined>({ ttlMs: 1000, maxEntries: 2, now: () => now });
    cache.set('a', 'A');
    cache.set('nobody', undefined);
    expect(cache.get('a')).toEqual({ value: 'A' });
    expect(cache.get('nobody')).toEqual({ value: undefined });
    expect(cache.get('other')).toBeUndefined();
    cache.set('b', 'B'); // past the bound: `a`, the oldest set, goes
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(2);
    now = 1000;
    expect(cache.get('b')).toBeUndefined(); // stale: looked up again
    expect(cache.size).toBe(1);
  });
});
