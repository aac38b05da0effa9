/**
 * Slack's ID formats, as Slack writes them: one letter for the kind, then upper-case letters and
 * digits. What looks like an ID here is one Slack may know; whether it does is Slack's to say.
 */

const USER_ID = /^[UW][A-Z0-9]+$/;
const USER_GROUP_ID = /^S[A-Z0-9]+$/;
const CHANNEL_ID = /^[CG][A-Z0-9]+$/;

/** A user ID: `U…`, or `W…` (Enterprise Grid). */
export function isUserId(id: string): boolean {
  return USER_ID.test(id);
}

/** A user group ID: `S…`. */
export function isUserGroupId(id: string): boolean {
  return USER_GROUP_ID.test(id);
}

/** A user ID or a user group ID (who may be named where people are). */
export function isUserOrGroupId(id: string): boolean {
  return isUserId(id) || isUserGroupId(id);
}

/** A channel ID, public (`C…`) or private (`G…`); not a DM's (`D…`). */
export function isChannelId(id: string): boolean {
  return CHANNEL_ID.test(id);
}
