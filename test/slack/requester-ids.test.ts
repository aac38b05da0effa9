import { describe, expect, test } from 'vitest';
import {
  identityOf,
  lookupDelayMs,
  MAX_LOOKUP_DELAY_MS,
} from '../../src/slack/services/runs-started-elsewhere.ts';

describe('what a resourceId names', () => {
  test('user ids in any case, padded, or as a mention, are the upper-case user id', () => {
    for (const id of [
      'U0ABC123',
      'u0abc123',
      ' U0ABC123 ',
      '<@U0ABC123>',
      '<@u0abc123|ada>',
      ' <@U0ABC123> ',
    ])
      expect(identityOf(id), id).toEqual({ userId: 'U0ABC123' });
    expect(identityOf('w0123abcd')).toEqual({ userId: 'W0123ABCD' });
  });

  test('e-mail addresses are trimmed and lower-cased; everything else is text', () => {
    expect(identityOf('  Ada.Lovelace@Example.COM ')).toEqual({ email: 'ada.lovelace@example.com' });
    // Names that only look like ids in upper case stay text, as do mentions of no user.
    for (const text of ['webhooks', 'billing-bot', 'user 42', '<@S0GROUP>', '<!channel>', 'a@b'])
      expect(identityOf(text), text).toEqual({ text });
    expect(identityOf('x'.repeat(300))).toEqual({ text: 'x'.repeat(200) });
    expect(identityOf('   ')).toBeUndefined();
    expect(identityOf(null)).toBeUndefined();
  });

  test('lookups of requesters not yet known back off from the check interval, doubling, bounded', () => {
    expect([1, 2, 3, 4].map((n) => lookupDelayMs(n, 5000))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(lookupDelayMs(8, 5000)).toBe(MAX_LOOKUP_DELAY_MS);
    expect(lookupDelayMs(10_000, 5000)).toBe(MAX_LOOKUP_DELAY_MS);
  });
});
