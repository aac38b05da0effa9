import { expect, test } from 'vitest';
import { isChannelId, isUserGroupId, isUserId, isUserOrGroupId } from '../../src/util/slack-ids.ts';

test("Slack's ID formats: the kind's letter, then upper-case letters and digits", () => {
  expect(['U0123ABCD', 'W0123ABCD'].map(isUserId)).toEqual([true, true]);
  expect(['u0123abcd', 'U', 'S0123ABCD', 'U0123-ABC', '<@U0123ABCD>'].map(isUserId)).toEqual([
    false,
    false,
    false,
    false,
    false,
  ]);
  expect(['S0456EFGH', 's0456efgh', 'U0123ABCD'].map(isUserGroupId)).toEqual([true, false, false]);
  expect(['U0123ABCD', 'S0456EFGH', 'C0123ABCD'].map(isUserOrGroupId)).toEqual([true, true, false]);
  expect(['C0123ABCD', 'G0123ABCD', 'D0123ABCD', 'general', '#general'].map(isChannelId)).toEqual([
    true,
    true,
    false,
    false,
    false,
  ]);
});
