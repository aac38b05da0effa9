/**
 * Web API method handlers. Each returns the success body (`ok: true`) or throws {@link SlackApiError}.
 * Shapes follow docs.slack.dev/reference/methods/*.
 */

import { isRecord } from '../util/is-record.ts';
import { isUserId } from '../util/slack-ids.ts';
import { invalidArguments, SlackApiError } from './errors.ts';
import type { Params } from './params.ts';
import type { EmulatorChannel, EmulatorUser, JsonObject, SlackMessage, ViewRecord } from './types.ts';
import { blocksTextLength, formatIssue, validateMessageBlocks, validateView } from './validate.ts';
import type { EmulatorStore } from './workspace.ts';

export interface MethodContext {
  store: EmulatorStore;
  params: Params;
}

export type MethodHandler = (ctx: MethodContext) => JsonObject;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Resolves `channel` (id, `#name`, name; with `allowUser`, a user id means the bot's DM with them). */
export function resolveChannel(
  store: EmulatorStore,
  value: string | undefined,
  options: { allowUser?: boolean } = {},
): EmulatorChannel {
  if (value === undefined || value === '') throw new SlackApiError('channel_not_found');
  const channel = store.findChannel(value);
  if (channel) return channel;
  if (options.allowUser && isUserId(value) && store.users.has(value)) return store.openIm(value).channel;
  throw new SlackApiError('channel_not_found');
}

/** Reading history: private channels/DMs the bot is not in do not exist for it; public ones say `not_in_channel`. */
function assertCanRead(store: EmulatorStore, channel: EmulatorChannel): void {
  if (store.botIsMember(channel)) return;
  if (channel.type === 'public') throw new SlackApiError('not_in_channel');
  throw new SlackApiError('channel_not_found');
}

/** Posting: public channels allow non-members (chat:write.public) unless the channel refuses them. */
function assertCanPost(store: EmulatorStore, channel: EmulatorChannel): void {
  const member = store.botIsMember(channel);
  if (!member && channel.type !== 'public') throw new SlackApiError('channel_not_found');
  if (channel.isArchived) throw new SlackApiError('is_archived');
  if (!member && channel.postRequiresMembership) throw new SlackApiError('not_in_channel');
}

function invalidBlocks(messages: string[]): SlackApiError {
  return new SlackApiError('invalid_blocks', {
    errors: messages,
    response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) },
  });
}

interface MessageContent {
  text?: string;
  blocks?: JsonObject[];
  attachments?: JsonObject[];
  metadata?: JsonObject;
}

/** Parses and checks `text` / `blocks` / `attachments` / `metadata` of a message-posting call. */
export function messageContent(store: EmulatorStore, params: Params): MessageContent {
  const limits = store.limits;
  const content: MessageContent = {};
  const rawBlocks = params.raw.blocks;
  if (rawBlocks !== undefined && rawBlocks !== null && rawBlocks !== '') {
    if (!Array.isArray(rawBlocks)) throw new SlackApiError('invalid_blocks_format');
    const issues = validateMessageBlocks(rawBlocks, limits);
    if (issues.length > 0) throw invalidBlocks(issues.map(formatIssue));
    if (blocksTextLength(rawBlocks) > limits.blocksTotalText) throw new SlackApiError('msg_blocks_too_long');
    content.blocks = rawBlocks as JsonObject[];
  }
  const rawAttachments = params.raw.attachments;
  if (rawAttachments !== undefined && rawAttachments !== null && rawAttachments !== '') {
    if (!Array.isArray(rawAttachments)) throw new SlackApiError('invalid_attachments');
    content.attachments = rawAttachments as JsonObject[];
  }
  const metadata = params.raw.metadata;
  if (metadata !== undefined && metadata !== null && metadata !== '') {
    // Slack's message metadata: an `event_type` name and an `event_payload` object.
    if (
      !isRecord(metadata) ||
      typeof metadata.event_type !== 'string' ||
      !/^[A-Za-z0-9_]{1,255}$/.test(metadata.event_type) ||
      !isRecord(metadata.event_payload)
    )
      throw new SlackApiError('invalid_metadata_format');
    content.metadata = { event_type: metadata.event_type, event_payload: metadata.event_payload };
  }
  const text = params.string('text');
  if (text !== undefined) {
    if (text.length > limits.textMax) throw new SlackApiError('msg_too_long');
    content.text = text.length > limits.textTruncate ? text.slice(0, limits.textTruncate) : text;
  }
  const hasContent =
    (content.text !== undefined && content.text !== '') ||
    (content.blocks !== undefined && content.blocks.length > 0) ||
    (content.attachments !== undefined && content.attachments.length > 0);
  if (!hasContent) throw new SlackApiError('no_text');
  return content;
}

function tsToMicros(ts: string): number {
  const [sec = '0', frac = ''] = ts.split('.');
  return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6) || '0');
}

function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64');
}

function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!match) throw new SlackApiError('invalid_cursor');
  return Number(match[1]);
}

/**
 * Messages as `conversations.history` / `conversations.replies` return them: their metadata only
 * when asked for (`include_all_metadata`), as Slack does.
 */
function withMetadataIfAsked(params: Params, messages: SlackMessage[]): SlackMessage[] {
  if (params.bool('include_all_metadata')) return messages;
  return messages.map((m) => {
    if (m.metadata === undefined) return m;
    const { metadata: _metadata, ...rest } = m;
    return rest;
  });
}

function paginate(params: Params, list: SlackMessage[], inclusiveDefault: boolean): JsonObject {
  const latest = params.string('latest');
  const oldest = params.string('oldest');
  const inclusive = params.has('inclusive') ? params.bool('inclusive') : inclusiveDefault;
  const filtered = list.filter((m) => {
    const t = tsToMicros(m.ts);
    if (
      latest !== undefined &&
      latest !== '' &&
      (inclusive ? t > tsToMicros(latest) : t >= tsToMicros(latest))
    ) {
      return false;
    }
    if (
      oldest !== undefined &&
      oldest !== '' &&
      (inclusive ? t < tsToMicros(oldest) : t <= tsToMicros(oldest))
    ) {
      return false;
    }
    return true;
  });
  const limit = Math.min(Math.max(params.int('limit') ?? 100, 1), 999);
  const offset = decodeCursor(params.string('cursor'));
  const page = filtered.slice(offset, offset + limit);
  const hasMore = offset + limit < filtered.length;
  return {
    messages: structuredClone(withMetadataIfAsked(params, page)),
    has_more: hasMore,
    ...(hasMore ? { response_metadata: { next_cursor: encodeCursor(offset + limit) } } : {}),
  };
}

export function channelObject(
  store: EmulatorStore,
  channel: EmulatorChannel,
  numMembers = false,
): JsonObject {
  const teamId = store.workspace.teamId;
  if (channel.type === 'im') {
    return {
      id: channel.id,
      created: channel.created,
      is_archived: false,
      is_im: true,
      is_org_shared: false,
      context_team_id: teamId,
      updated: channel.created * 1000,
      user: channel.user,
      is_user_deleted: store.users.get(channel.user ?? '')?.deleted ?? false,
      priority: 0,
    };
  }
  const humanMembers = channel.members.filter((m) => m !== store.workspace.botUserId);
  return {
    id: channel.id,
    name: channel.name,
    is_channel: channel.type === 'public',
    is_group: channel.type === 'private',
    is_im: false,
    is_mpim: channel.type === 'mpim',
    is_private: channel.type !== 'public',
    created: channel.created,
    is_archived: channel.isArchived,
    is_general: channel.isGeneral,
    unlinked: 0,
    name_normalized: channel.name,
    is_shared: false,
    is_org_shared: false,
    is_pending_ext_shared: false,
    pending_shared: [],
    context_team_id: teamId,
    updated: channel.created * 1000,
    parent_conversation: null,
    creator: channel.creator,
    is_ext_shared: false,
    shared_team_ids: [teamId],
    pending_connected_team_ids: [],
    is_member: store.botIsMember(channel),
    topic: { value: channel.topic, creator: '', last_set: 0 },
    purpose: { value: channel.purpose, creator: '', last_set: 0 },
    previous_names: [],
    ...(numMembers ? { num_members: humanMembers.length + (store.botIsMember(channel) ? 1 : 0) } : {}),
  };
}

function tzOffsetSeconds(tz: string, at: number): number {
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value;
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(part ?? '');
    if (!match) return 0;
    const sign = match[1] === '-' ? -1 : 1;
    return sign * (Number(match[2]) * 3600 + Number(match[3]) * 60);
  } catch {
    return 0;
  }
}

export function userObject(store: EmulatorStore, user: EmulatorUser): JsonObject {
  const ws = store.workspace;
  const isAppBot = user.id === ws.botUserId;
  const [first = '', ...last] = user.realName.split(' ');
  return {
    id: user.id,
    team_id: ws.teamId,
    name: user.name,
    deleted: user.deleted,
    color: '9f69e7',
    real_name: user.realName,
    tz: user.tz,
    tz_label: user.tz,
    tz_offset: tzOffsetSeconds(user.tz, store.now()),
    profile: {
      title: '',
      phone: '',
      skype: '',
      real_name: user.realName,
      real_name_normalized: user.realName,
      display_name: user.displayName,
      display_name_normalized: user.displayName,
      first_name: first,
      last_name: last.join(' '),
      status_text: '',
      status_emoji: '',
      avatar_hash: 'g000emulator',
      ...(user.email !== undefined ? { email: user.email } : {}),
      ...(isAppBot ? { bot_id: ws.botId, api_app_id: ws.appId, always_active: true } : {}),
      image_24: 'https://emulator.slack.local/avatar_24.png',
      image_48: 'https://emulator.slack.local/avatar_48.png',
      image_72: 'https://emulator.slack.local/avatar_72.png',
      team: ws.teamId,
    },
    is_admin: user.isAdmin,
    is_owner: false,
    is_primary_owner: false,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: user.isBot,
    is_app_user: false,
    updated: store.nowSeconds(),
    is_email_confirmed: !user.isBot,
    who_can_share_contact_card: 'EVERYONE',
  };
}

/** Parses and checks a `view` argument. */
function viewArgument(store: EmulatorStore, params: Params): JsonObject {
  const raw = params.raw.view;
  if (raw === undefined || raw === null || raw === '') throw invalidArguments('missing required field: view');
  if (!isRecord(raw)) throw invalidArguments('invalid `view`: must be a JSON object');
  if (Buffer.byteLength(JSON.stringify(raw)) > store.limits.viewBytes)
    throw new SlackApiError('view_too_large');
  const issues = validateView(raw, store.limits);
  if (issues.length > 0) throw invalidArguments(...issues.map(formatIssue));
  return raw;
}

function assertExternalIdFree(store: EmulatorStore, view: JsonObject, self?: string): void {
  const externalId = view.external_id;
  if (typeof externalId !== 'string' || externalId === '') return;
  const other = store.viewByExternalId(externalId);
  if (other && other.view.id !== self) throw new SlackApiError('duplicate_external_id');
}

function ownMessage(store: EmulatorStore, channel: EmulatorChannel, ts: string | undefined): SlackMessage {
  if (ts === undefined || ts === '') throw new SlackApiError('message_not_found');
  const message = store.findMessage(channel.id, ts);
  if (!message || message.subtype === 'tombstone') throw new SlackApiError('message_not_found');
  return message;
}

// ---------------------------------------------------------------------------------------------
// Methods

export const METHODS: Readonly<Record<string, MethodHandler>> = {
  'api.test': ({ params }) => ({ ok: true, args: { ...params.raw } }),

  'auth.test': ({ store }) => {
    const ws = store.workspace;
    return {
      ok: true,
      url: `${store.webBaseUrl}/`,
      team: ws.teamName,
      user: ws.botName,
      team_id: ws.teamId,
      user_id: ws.botUserId,
      bot_id: ws.botId,
      is_enterprise_install: false,
      ...(ws.enterpriseId !== undefined ? { enterprise_id: ws.enterpriseId } : {}),
    };
  },

  'chat.postMessage': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'), { allowUser: true });
    assertCanPost(store, channel);
    const content = messageContent(store, params);
    const username = params.string('username');
    const message = store.botMessage({
      text: content.text ?? '',
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(content.attachments ? { attachments: content.attachments } : {}),
      ...(content.metadata ? { metadata: content.metadata } : {}),
      ...(username ? { username } : {}),
    });
    const threadTs = params.string('thread_ts');
    store.insertMessage(channel.id, message, threadTs || undefined, params.bool('reply_broadcast'));
    store.recordSent(message, content);
    return { ok: true, channel: channel.id, ts: message.ts, message: structuredClone(message) };
  },

  'chat.update': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    const message = ownMessage(store, channel, params.string('ts'));
    if (message.bot_id !== store.workspace.botId) throw new SlackApiError('cant_update_message');
    if (channel.isArchived) throw new SlackApiError('is_archived');
    const content = messageContent(store, params);
    if (store.recordSent(message, content))
      store.unchangedUpdates.push({ channel: channel.id, ts: message.ts });
    // `text` is replaced (absent → empty); blocks/attachments absent → kept, `[]` → removed (chat.update docs).
    message.text = content.text ?? '';
    if (content.blocks !== undefined) {
      if (content.blocks.length > 0) message.blocks = store.withGeneratedIds(content.blocks);
      else delete message.blocks;
    }
    if (content.attachments !== undefined) message.attachments = content.attachments;
    if (content.metadata !== undefined) message.metadata = content.metadata;
    store.emit({ type: 'message_updated', channel: channel.id, message });
    const { ts: _ts, type: _type, ...rest } = structuredClone(message);
    return { ok: true, channel: channel.id, ts: message.ts, text: message.text, message: rest };
  },

  'chat.postEphemeral': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    const userId = params.required('user');
    if (!store.users.has(userId)) throw new SlackApiError('user_not_found');
    assertCanPost(store, channel);
    if (!channel.members.includes(userId)) throw new SlackApiError('user_not_in_channel');
    const content = messageContent(store, params);
    const threadTs = params.string('thread_ts');
    const ephemeral = store.addEphemeral({
      channel: channel.id,
      user: userId,
      text: content.text ?? '',
      ...(content.blocks ? { blocks: store.withGeneratedIds(content.blocks) } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      source: 'api',
    });
    return { ok: true, message_ts: ephemeral.message_ts };
  },

  'chat.delete': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    const message = ownMessage(store, channel, params.string('ts'));
    if (message.bot_id !== store.workspace.botId) throw new SlackApiError('cant_delete_message');
    store.deleteMessage(channel.id, message.ts);
    return { ok: true, channel: channel.id, ts: message.ts };
  },

  'chat.getPermalink': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    const message = ownMessage(store, channel, params.string('message_ts'));
    return { ok: true, channel: channel.id, permalink: store.permalink(channel.id, message) };
  },

  'conversations.open': ({ store, params }) => {
    const returnIm = params.bool('return_im');
    const respond = (channel: EmulatorChannel, created: boolean): JsonObject => ({
      ok: true,
      ...(created ? {} : { no_op: true, already_open: true }),
      channel: returnIm ? channelObject(store, channel) : { id: channel.id },
    });
    const channelId = params.string('channel');
    if (channelId) {
      const channel = store.channels.get(channelId);
      if (!channel || (channel.type !== 'im' && channel.type !== 'mpim'))
        throw new SlackApiError('channel_not_found');
      return respond(channel, false);
    }
    const users = (params.string('users') ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (users.length === 0) throw new SlackApiError('users_list_not_supplied');
    if (users.length > 8) throw new SlackApiError('too_many_users');
    for (const id of users) if (!store.users.has(id)) throw new SlackApiError('user_not_found');
    const [only] = users;
    const { channel, created } =
      users.length === 1 && only !== undefined ? store.openIm(only) : store.openMpim(users);
    return respond(channel, created);
  },

  'conversations.info': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    if (channel.type !== 'public' && !store.botIsMember(channel))
      throw new SlackApiError('channel_not_found');
    return { ok: true, channel: channelObject(store, channel, params.bool('include_num_members')) };
  },

  'conversations.members': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    // Public channels list their members to any app with `channels:read`; others only to a member.
    if (channel.type !== 'public' && !store.botIsMember(channel))
      throw new SlackApiError('channel_not_found');
    const limit = Math.min(Math.max(params.int('limit') ?? 100, 1), 1000);
    const offset = decodeCursor(params.string('cursor'));
    const members = channel.members.slice(offset, offset + limit);
    const more = offset + limit < channel.members.length;
    return {
      ok: true,
      members,
      response_metadata: { next_cursor: more ? encodeCursor(offset + limit) : '' },
    };
  },

  'conversations.join': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    if (channel.type !== 'public') {
      if (!store.botIsMember(channel)) throw new SlackApiError('channel_not_found');
      throw new SlackApiError('method_not_supported_for_channel_type');
    }
    if (channel.isArchived) throw new SlackApiError('is_archived');
    if (store.botIsMember(channel)) {
      return {
        ok: true,
        channel: channelObject(store, channel),
        warning: 'already_in_channel',
        response_metadata: { warnings: ['already_in_channel'] },
      };
    }
    store.setMember(channel, store.workspace.botUserId, true);
    store.emit({ type: 'channel_changed', channel });
    return { ok: true, channel: channelObject(store, channel) };
  },

  'conversations.history': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    assertCanRead(store, channel);
    const newestFirst = [...store.topLevel(channel.id)].reverse();
    return {
      ok: true,
      ...paginate(params, newestFirst, false),
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
    };
  },

  'conversations.replies': ({ store, params }) => {
    const channel = resolveChannel(store, params.string('channel'));
    assertCanRead(store, channel);
    const ts = params.required('ts');
    const message = store.findMessage(channel.id, ts);
    if (!message) throw new SlackApiError('thread_not_found');
    const parentTs = message.thread_ts ?? message.ts;
    return { ok: true, ...paginate(params, store.thread(channel.id, parentTs), true) };
  },

  'users.info': ({ store, params }) => {
    const user = store.users.get(params.required('user', 'user_not_found'));
    if (!user) throw new SlackApiError('user_not_found');
    return { ok: true, user: userObject(store, user) };
  },

  'users.lookupByEmail': ({ store, params }) => {
    const email = params.required('email', 'users_not_found').trim().toLowerCase();
    const user = [...store.users.values()].find((u) => u.email?.toLowerCase() === email && !u.deleted);
    if (!user) throw new SlackApiError('users_not_found');
    return { ok: true, user: userObject(store, user) };
  },

  'usergroups.users.list': ({ store, params }) => {
    const group = store.userGroups.get(params.required('usergroup', 'no_such_subteam'));
    if (!group) throw new SlackApiError('no_such_subteam');
    if (group.disabled && !params.bool('include_disabled')) throw new SlackApiError('no_such_subteam');
    return { ok: true, users: [...group.users] };
  },

  'views.open': ({ store, params }) => {
    const triggerId = params.string('trigger_id') || params.string('interactivity_pointer');
    if (!triggerId) throw invalidArguments('missing required field: trigger_id');
    const input = viewArgument(store, params);
    assertExternalIdFree(store, input);
    const trigger = store.exchangeTrigger(triggerId, 'views.open');
    const view = store.openView(trigger.userId, input);
    return { ok: true, view: structuredClone(view) };
  },

  'views.push': ({ store, params }) => {
    const triggerId = params.string('trigger_id') || params.string('interactivity_pointer');
    if (!triggerId) throw invalidArguments('missing required field: trigger_id');
    const input = viewArgument(store, params);
    assertExternalIdFree(store, input);
    const trigger = store.exchangeTrigger(triggerId, 'views.push');
    const view = store.pushView(trigger.userId, input);
    return { ok: true, view: structuredClone(view) };
  },

  'views.update': ({ store, params }) => {
    const viewId = params.string('view_id');
    const externalId = params.string('external_id');
    if (!viewId && !externalId) throw invalidArguments('missing required field: view_id or external_id');
    let record: ViewRecord | undefined;
    if (viewId) record = store.views.get(viewId);
    else if (externalId) record = store.viewByExternalId(externalId);
    if (!record?.open) throw new SlackApiError('not_found');
    const hash = params.string('hash');
    if (hash && hash !== record.view.hash) throw new SlackApiError('hash_conflict');
    const input = viewArgument(store, params);
    assertExternalIdFree(store, input, record.view.id);
    const view = store.replaceView(record, input);
    return { ok: true, view: structuredClone(view) };
  },
};
