/**
 * The emulator's in-memory workspace: users, channels, messages, threads, ephemeral messages, views,
 * triggers, response URLs and the call log. Every change is published to subscribers.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isRecord } from '../util/is-record.ts';
import { SlackApiError } from './errors.ts';
import type { EmulatorLimits } from './limits.ts';
import type {
  CallLogEntry,
  EmulatorChannel,
  EmulatorEvent,
  EmulatorListener,
  EmulatorUser,
  EmulatorUserGroup,
  EphemeralMessage,
  JsonObject,
  ResponseUrlRecord,
  SlackMessage,
  SlackView,
  TriggerRecord,
  ViewRecord,
  Workspace,
} from './types.ts';

export interface UserSeed {
  id: string;
  name: string;
  realName?: string;
  displayName?: string;
  email?: string;
  isBot?: boolean;
  isAdmin?: boolean;
  deleted?: boolean;
  tz?: string;
}

export interface ChannelSeed {
  /** Default: generated. */
  id?: string;
  name: string;
  /** Default `public`. */
  type?: 'public' | 'private' | 'mpim';
  /** Human members; default: every non-bot user. */
  members?: string[];
  /** Default true. */
  botIsMember?: boolean;
  /** See {@link EmulatorChannel.postRequiresMembership}. Default false. */
  postRequiresMembership?: boolean;
  isArchived?: boolean;
  isGeneral?: boolean;
  topic?: string;
  purpose?: string;
}

export interface UserGroupSeed {
  id: string;
  handle: string;
  name?: string;
  users: string[];
  disabled?: boolean;
}

export interface WorkspaceSeed extends Partial<Workspace> {
  /** Replaces the default users (the bot user is always added). */
  users?: UserSeed[];
  /** Replaces the default user groups. */
  userGroups?: UserGroupSeed[];
  /** Replaces the default channels. */
  channels?: ChannelSeed[];
}

export const DEFAULT_WORKSPACE: Readonly<Workspace> = Object.freeze({
  teamId: 'T0EMU0001',
  teamName: 'Emulator Workspace',
  teamDomain: 'emulator',
  appId: 'A0EMU0001',
  botUserId: 'U0EMUBOT1',
  botId: 'B0EMU0001',
  botName: 'flowgate',
});

export const DEFAULT_USERS: readonly UserSeed[] = [
  {
    id: 'U0EMU0001',
    name: 'alice',
    realName: 'Alice Adams',
    email: 'alice@emulator.slack.local',
    isAdmin: true,
  },
  { id: 'U0EMU0002', name: 'bob', realName: 'Bob Brown', email: 'bob@emulator.slack.local' },
  { id: 'U0EMU0003', name: 'carol', realName: 'Carol Chen', email: 'carol@emulator.slack.local' },
];

export const DEFAULT_USER_GROUPS: readonly UserGroupSeed[] = [
  { id: 'S0EMU0001', handle: 'oncall', name: 'On-call', users: ['U0EMU0001', 'U0EMU0002'] },
];

export const DEFAULT_CHANNELS: readonly ChannelSeed[] = [
  { id: 'C0EMU0001', name: 'general', isGeneral: true },
  { id: 'C0EMU0002', name: 'random', botIsMember: false },
  { id: 'C0EMU0003', name: 'ops-private', type: 'private', members: ['U0EMU0001', 'U0EMU0002'] },
  { id: 'C0EMU0004', name: 'locked', botIsMember: false, postRequiresMembership: true },
];

/** Formats microseconds since the epoch as a Slack ts (`1790000000.000100`). */
export function formatTs(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

function randomId(length: number): string {
  return randomBytes(length * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, length);
}

export class EmulatorStore {
  readonly workspace: Workspace;
  readonly limits: EmulatorLimits;
  readonly now: () => number;
  /** Base for permalinks and `url` in auth.test. */
  readonly webBaseUrl: string;
  /** Base of response URLs (`<serverUrl>/response/`); set by the server once listening. */
  responseUrlBase = 'http://127.0.0.1/response/';

  readonly users = new Map<string, EmulatorUser>();
  readonly userGroups = new Map<string, EmulatorUserGroup>();
  readonly channels = new Map<string, EmulatorChannel>();
  /** Per channel, in ts order; includes thread replies. */
  readonly messages = new Map<string, SlackMessage[]>();
  readonly ephemerals: EphemeralMessage[] = [];
  readonly views = new Map<string, ViewRecord>();
  /** Open modal stack per user (view ids, root first). */
  readonly viewStacks = new Map<string, string[]>();
  readonly triggers = new Map<string, TriggerRecord>();
  readonly responseUrls = new Map<string, ResponseUrlRecord>();
  readonly calls: CallLogEntry[] = [];
  /** `chat.update` calls that changed nothing the message showed (text, blocks, attachments, metadata as sent). */
  readonly unchangedUpdates: { channel: string; ts: string }[] = [];
  /** What the app last sent of each message, as sent (before ids were generated): to tell a no-op edit. */
  readonly #sentContent = new WeakMap<SlackMessage, string>();

  readonly #emitter = new EventEmitter();
  #lastTsMicros = 0;
  #counter = 0;

  constructor(options: {
    seed?: WorkspaceSeed;
    limits: EmulatorLimits;
    now: () => number;
    webBaseUrl: string;
  }) {
    this.limits = options.limits;
    this.now = options.now;
    this.webBaseUrl = options.webBaseUrl.replace(/\/+$/, '');
    this.#emitter.setMaxListeners(0);
    const seed = options.seed ?? {};
    this.workspace = {
      teamId: seed.teamId ?? DEFAULT_WORKSPACE.teamId,
      teamName: seed.teamName ?? DEFAULT_WORKSPACE.teamName,
      teamDomain: seed.teamDomain ?? DEFAULT_WORKSPACE.teamDomain,
      appId: seed.appId ?? DEFAULT_WORKSPACE.appId,
      botUserId: seed.botUserId ?? DEFAULT_WORKSPACE.botUserId,
      botId: seed.botId ?? DEFAULT_WORKSPACE.botId,
      botName: seed.botName ?? DEFAULT_WORKSPACE.botName,
      ...(seed.enterpriseId !== undefined ? { enterpriseId: seed.enterpriseId } : {}),
    };
    this.addUser({ id: this.workspace.botUserId, name: this.workspace.botName, isBot: true });
    for (const user of seed.users ?? DEFAULT_USERS) this.addUser(user);
    for (const group of seed.userGroups ?? DEFAULT_USER_GROUPS) this.addUserGroup(group);
    for (const channel of seed.channels ?? DEFAULT_CHANNELS) this.addChannel(channel);
  }

  // -------------------------------------------------------------------------------------------
  // Events

  subscribe(listener: EmulatorListener): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }

  emit(event: EmulatorEvent): void {
    this.#emitter.emit('event', event);
  }

  // -------------------------------------------------------------------------------------------
  // Ids and time

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** A unique, increasing message ts on the emulator clock. */
  nextTs(): string {
    const micros = Math.max(Math.floor(this.now()) * 1000, this.#lastTsMicros + 100);
    this.#lastTsMicros = micros;
    return formatTs(micros);
  }

  nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}0EMUX${this.#counter.toString(36).toUpperCase().padStart(4, '0')}`;
  }

  // -------------------------------------------------------------------------------------------
  // Workspace

  addUser(seed: UserSeed): EmulatorUser {
    const user: EmulatorUser = {
      id: seed.id,
      name: seed.name,
      realName: seed.realName ?? seed.name,
      displayName: seed.displayName ?? seed.name,
      isBot: seed.isBot ?? false,
      isAdmin: seed.isAdmin ?? false,
      deleted: seed.deleted ?? false,
      tz: seed.tz ?? 'Europe/Berlin',
      ...(seed.email !== undefined ? { email: seed.email } : {}),
    };
    this.users.set(user.id, user);
    return user;
  }

  addUserGroup(seed: UserGroupSeed): EmulatorUserGroup {
    const group: EmulatorUserGroup = {
      id: seed.id,
      handle: seed.handle,
      name: seed.name ?? seed.handle,
      users: [...seed.users],
      disabled: seed.disabled ?? false,
    };
    this.userGroups.set(group.id, group);
    return group;
  }

  humanUserIds(): string[] {
    return [...this.users.values()].filter((u) => !u.isBot).map((u) => u.id);
  }

  addChannel(seed: ChannelSeed): EmulatorChannel {
    const members = [...(seed.members ?? this.humanUserIds())];
    if (seed.botIsMember ?? true) members.push(this.workspace.botUserId);
    const channel: EmulatorChannel = {
      id: seed.id ?? this.nextId('C'),
      name: seed.name,
      type: seed.type ?? 'public',
      members: [...new Set(members)],
      created: this.nowSeconds(),
      creator: members.find((m) => m !== this.workspace.botUserId) ?? this.workspace.botUserId,
      isArchived: seed.isArchived ?? false,
      isGeneral: seed.isGeneral ?? false,
      topic: seed.topic ?? '',
      purpose: seed.purpose ?? '',
      postRequiresMembership: seed.postRequiresMembership ?? false,
    };
    this.channels.set(channel.id, channel);
    this.messages.set(channel.id, []);
    this.emit({ type: 'channel_changed', channel });
    return channel;
  }

  /** Change channel flags/membership (e.g. `{ botIsMember: false, postRequiresMembership: true }`). */
  updateChannel(
    id: string,
    patch: Partial<
      Pick<EmulatorChannel, 'isArchived' | 'postRequiresMembership' | 'topic' | 'purpose' | 'name'>
    > & {
      botIsMember?: boolean;
      members?: string[];
    },
  ): EmulatorChannel {
    const channel = this.channels.get(id);
    if (!channel) throw new Error(`unknown channel ${id}`);
    const { botIsMember, members, ...rest } = patch;
    Object.assign(channel, rest);
    if (members) {
      const hadBot = this.botIsMember(channel);
      channel.members = [...new Set(members)];
      if (hadBot && !channel.members.includes(this.workspace.botUserId))
        channel.members.push(this.workspace.botUserId);
    }
    if (botIsMember !== undefined) this.setMember(channel, this.workspace.botUserId, botIsMember);
    this.emit({ type: 'channel_changed', channel });
    return channel;
  }

  setMember(channel: EmulatorChannel, userId: string, member: boolean): void {
    const has = channel.members.includes(userId);
    if (member && !has) channel.members.push(userId);
    if (!member && has) channel.members = channel.members.filter((m) => m !== userId);
  }

  botIsMember(channel: EmulatorChannel): boolean {
    return channel.members.includes(this.workspace.botUserId);
  }

  /** By id, `#name` or name. */
  findChannel(idOrName: string): EmulatorChannel | undefined {
    const byId = this.channels.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^#/, '');
    return [...this.channels.values()].find((c) => c.type !== 'im' && c.name === name);
  }

  /** The IM between the bot and `userId` (created on first use). */
  openIm(userId: string): { channel: EmulatorChannel; created: boolean } {
    const existing = [...this.channels.values()].find((c) => c.type === 'im' && c.user === userId);
    if (existing) return { channel: existing, created: false };
    const channel: EmulatorChannel = {
      id: this.nextId('D'),
      name: userId,
      type: 'im',
      members: [userId, this.workspace.botUserId],
      created: this.nowSeconds(),
      creator: this.workspace.botUserId,
      isArchived: false,
      isGeneral: false,
      topic: '',
      purpose: '',
      user: userId,
      postRequiresMembership: false,
    };
    this.channels.set(channel.id, channel);
    this.messages.set(channel.id, []);
    this.emit({ type: 'channel_changed', channel });
    return { channel, created: true };
  }

  /** The group DM between the bot and `userIds` (created on first use). */
  openMpim(userIds: string[]): { channel: EmulatorChannel; created: boolean } {
    const wanted = [...new Set([...userIds, this.workspace.botUserId])].sort();
    const existing = [...this.channels.values()].find(
      (c) => c.type === 'mpim' && [...c.members].sort().join() === wanted.join(),
    );
    if (existing) return { channel: existing, created: false };
    const names = userIds.map((id) => this.users.get(id)?.name ?? id);
    const channel = this.addChannel({
      id: this.nextId('C'),
      name: `mpdm-${names.join('--')}-1`,
      type: 'mpim',
      members: userIds,
    });
    return { channel, created: true };
  }

  // -------------------------------------------------------------------------------------------
  // Messages

  channelMessages(channelId: string): SlackMessage[] {
    let list = this.messages.get(channelId);
    if (!list) {
      list = [];
      this.messages.set(channelId, list);
    }
    return list;
  }

  findMessage(channelId: string, ts: string): SlackMessage | undefined {
    return this.messages.get(channelId)?.find((m) => m.ts === ts);
  }

  /** Top-level messages (and broadcast replies), oldest first. */
  topLevel(channelId: string): SlackMessage[] {
    return this.channelMessages(channelId).filter(
      (m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast',
    );
  }

  /** Parent + replies, oldest first. */
  thread(channelId: string, threadTs: string): SlackMessage[] {
    return this.channelMessages(channelId).filter((m) => m.ts === threadTs || m.thread_ts === threadTs);
  }

  /** Fills in block_ids (and action_ids of elements) Slack would generate. */
  withGeneratedIds(blocks: JsonObject[]): JsonObject[] {
    return blocks.map((raw) => {
      const block = structuredClone(raw);
      if (typeof block.block_id !== 'string') block.block_id = randomId(5);
      const elements: unknown[] = [];
      if (Array.isArray(block.elements) && block.type === 'actions') elements.push(...block.elements);
      if (isRecord(block.accessory)) elements.push(block.accessory);
      if (isRecord(block.element)) elements.push(block.element);
      for (const el of elements) {
        if (isRecord(el) && el.type !== 'image' && typeof el.action_id !== 'string')
          el.action_id = randomId(5);
      }
      return block;
    });
  }

  /** Builds a message authored by the bot. */
  botMessage(fields: {
    text: string;
    blocks?: JsonObject[];
    attachments?: JsonObject[];
    metadata?: JsonObject;
    username?: string;
  }): SlackMessage {
    const ws = this.workspace;
    const message: SlackMessage = {
      user: ws.botUserId,
      type: 'message',
      ts: this.nextTs(),
      bot_id: ws.botId,
      app_id: ws.appId,
      text: fields.text,
      team: ws.teamId,
      bot_profile: {
        id: ws.botId,
        app_id: ws.appId,
        user_id: ws.botUserId,
        name: ws.botName,
        icons: {},
        deleted: false,
        updated: this.nowSeconds(),
        team_id: ws.teamId,
      },
    };
    if (fields.blocks) message.blocks = this.withGeneratedIds(fields.blocks);
    if (fields.attachments) message.attachments = fields.attachments;
    if (fields.metadata) message.metadata = fields.metadata;
    if (fields.username) message.username = fields.username;
    return message;
  }

  /**
   * Records what the app sent for `message`; returns whether it is what it had sent before (an
   * edit that changes nothing).
   */
  recordSent(message: SlackMessage, content: unknown): boolean {
    const key = JSON.stringify(content);
    const same = this.#sentContent.get(message) === key;
    this.#sentContent.set(message, key);
    return same;
  }

  /** Builds a message authored by a human user (for a UI: "type in the channel"). */
  userMessage(userId: string, text: string): SlackMessage {
    return { user: userId, type: 'message', ts: this.nextTs(), text, team: this.workspace.teamId };
  }

  /**
   * Appends a message; with `threadTs` it becomes a reply (parent bookkeeping included).
   * Throws `invalid_thread_ts` when the parent does not exist.
   */
  insertMessage(
    channelId: string,
    message: SlackMessage,
    threadTs?: string,
    broadcast = false,
  ): SlackMessage {
    const list = this.channelMessages(channelId);
    if (threadTs !== undefined) {
      let parent = list.find((m) => m.ts === threadTs);
      if (parent?.thread_ts !== undefined && parent.thread_ts !== parent.ts) {
        parent = list.find((m) => m.ts === parent?.thread_ts);
      }
      if (!parent) throw new SlackApiError('invalid_thread_ts');
      message.thread_ts = parent.ts;
      if (parent.user !== undefined) message.parent_user_id = parent.user;
      if (broadcast) {
        message.subtype = 'thread_broadcast';
        message.root = { ...parent };
      }
      const author = message.user ?? this.workspace.botUserId;
      parent.thread_ts = parent.ts;
      parent.reply_count = (parent.reply_count ?? 0) + 1;
      parent.reply_users = [...new Set([...(parent.reply_users ?? []), author])];
      parent.reply_users_count = parent.reply_users.length;
      parent.latest_reply = message.ts;
      list.push(message);
      this.emit({ type: 'message_posted', channel: channelId, message });
      this.emit({ type: 'message_updated', channel: channelId, message: parent });
      return message;
    }
    list.push(message);
    this.emit({ type: 'message_posted', channel: channelId, message });
    return message;
  }

  /** Removes a message; a parent with replies becomes a tombstone, as in Slack. */
  deleteMessage(channelId: string, ts: string): boolean {
    const list = this.channelMessages(channelId);
    const index = list.findIndex((m) => m.ts === ts);
    const message = list[index];
    if (!message) return false;
    if (message.thread_ts === message.ts && (message.reply_count ?? 0) > 0) {
      const tombstone: SlackMessage = {
        type: 'message',
        subtype: 'tombstone',
        ts: message.ts,
        text: 'This message was deleted.',
        user: 'USLACKBOT',
        thread_ts: message.ts,
        reply_count: message.reply_count ?? 0,
        reply_users: message.reply_users ?? [],
        reply_users_count: message.reply_users_count ?? 0,
        ...(message.latest_reply !== undefined ? { latest_reply: message.latest_reply } : {}),
        hidden: true,
      };
      list[index] = tombstone;
      this.emit({ type: 'message_updated', channel: channelId, message: tombstone });
      return true;
    }
    list.splice(index, 1);
    if (message.thread_ts !== undefined && message.thread_ts !== message.ts) {
      const parent = list.find((m) => m.ts === message.thread_ts);
      if (parent) {
        const replies = list.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
        parent.reply_count = replies.length;
        parent.reply_users = [...new Set(replies.map((r) => r.user ?? this.workspace.botUserId))];
        parent.reply_users_count = parent.reply_users.length;
        const latest = replies.at(-1);
        if (latest) parent.latest_reply = latest.ts;
        else delete parent.latest_reply;
        this.emit({ type: 'message_updated', channel: channelId, message: parent });
      }
    }
    this.emit({ type: 'message_deleted', channel: channelId, ts });
    return true;
  }

  addEphemeral(fields: Omit<EphemeralMessage, 'message_ts' | 'time'>): EphemeralMessage {
    const ephemeral: EphemeralMessage = { ...fields, message_ts: this.nextTs(), time: this.now() };
    this.ephemerals.push(ephemeral);
    this.emit({ type: 'ephemeral_posted', ephemeral });
    return ephemeral;
  }

  /** Ephemeral messages shown to `userId` (optionally in one channel), oldest first. */
  ephemeralsFor(userId: string, channelId?: string): EphemeralMessage[] {
    return this.ephemerals.filter(
      (e) => e.user === userId && !e.deleted && (channelId === undefined || e.channel === channelId),
    );
  }

  permalink(channelId: string, message: SlackMessage): string {
    const base = `${this.webBaseUrl}/archives/${channelId}/p${message.ts.replace('.', '')}`;
    if (message.thread_ts !== undefined && message.thread_ts !== message.ts) {
      return `${base}?thread_ts=${message.thread_ts}&cid=${channelId}`;
    }
    return base;
  }

  // -------------------------------------------------------------------------------------------
  // Triggers

  issueTrigger(fields: { userId: string; viewId?: string; channelId?: string }): TriggerRecord {
    this.#counter += 1;
    const trigger: TriggerRecord = {
      id: `${this.nowSeconds()}${String(this.#counter).padStart(3, '0')}.${this.workspace.teamId.replace(/\D/g, '') || '1'}.${randomBytes(16).toString('hex')}`,
      userId: fields.userId,
      issuedAt: this.now(),
      ...(fields.viewId !== undefined ? { viewId: fields.viewId } : {}),
      ...(fields.channelId !== undefined ? { channelId: fields.channelId } : {}),
    };
    this.triggers.set(trigger.id, trigger);
    this.emit({ type: 'trigger_issued', trigger });
    return trigger;
  }

  /** Uses up a trigger_id: `invalid_trigger_id`, `expired_trigger_id` (3 s), `exchanged_trigger_id` (reuse). */
  exchangeTrigger(id: string, method: string): TriggerRecord {
    const trigger = this.triggers.get(id);
    if (!trigger) throw new SlackApiError('invalid_trigger_id');
    if (this.now() - trigger.issuedAt > this.limits.triggerTtlMs)
      throw new SlackApiError('expired_trigger_id');
    if (trigger.exchangedBy !== undefined) throw new SlackApiError('exchanged_trigger_id');
    trigger.exchangedBy = method;
    return trigger;
  }

  // -------------------------------------------------------------------------------------------
  // Response URLs

  createResponseUrl(fields: Omit<ResponseUrlRecord, 'id' | 'url' | 'createdAt' | 'uses'>): ResponseUrlRecord {
    const id = `${this.workspace.teamId}/${randomBytes(12).toString('hex')}`;
    const record: ResponseUrlRecord = {
      ...fields,
      id,
      url: `${this.responseUrlBase}${id}`,
      createdAt: this.now(),
      uses: [],
    };
    this.responseUrls.set(id, record);
    this.emit({ type: 'response_url_created', responseUrl: record });
    return record;
  }

  // -------------------------------------------------------------------------------------------
  // Views

  getView(viewId: string): SlackView | undefined {
    return this.views.get(viewId)?.view;
  }

  viewByExternalId(externalId: string): ViewRecord | undefined {
    return [...this.views.values()].find((r) => r.view.external_id === externalId && r.open);
  }

  /** The view on top of the user's open modal stack. */
  topView(userId: string): SlackView | undefined {
    const stack = this.viewStacks.get(userId);
    const top = stack?.at(-1);
    return top === undefined ? undefined : this.getView(top);
  }

  newHash(): string {
    return `${this.nowSeconds()}.${randomBytes(4).toString('hex')}`;
  }

  buildView(
    input: JsonObject,
    fields: { id: string; rootViewId: string; previousViewId: string | null; state?: SlackView['state'] },
  ): SlackView {
    const ws = this.workspace;
    const blocks = this.withGeneratedIds(Array.isArray(input.blocks) ? (input.blocks as JsonObject[]) : []);
    const {
      type: _type,
      blocks: _blocks,
      private_metadata,
      callback_id,
      external_id,
      clear_on_close,
      notify_on_close,
      ...rest
    } = input;
    return {
      ...rest,
      id: fields.id,
      team_id: ws.teamId,
      type: typeof input.type === 'string' ? input.type : 'modal',
      close: isRecord(input.close) ? input.close : null,
      submit: isRecord(input.submit) ? input.submit : null,
      blocks,
      private_metadata: typeof private_metadata === 'string' ? private_metadata : '',
      callback_id: typeof callback_id === 'string' ? callback_id : '',
      external_id: typeof external_id === 'string' ? external_id : '',
      state: fields.state ?? { values: {} },
      hash: this.newHash(),
      clear_on_close: clear_on_close === true,
      notify_on_close: notify_on_close === true,
      previous_view_id: fields.previousViewId,
      root_view_id: fields.rootViewId,
      app_id: ws.appId,
      app_installed_team_id: ws.teamId,
      bot_id: ws.botId,
    };
  }

  /** Opens a new root modal for the user (closing any modal they had open). */
  openView(userId: string, input: JsonObject): SlackView {
    this.closeStack(userId);
    const id = this.nextId('V');
    const view = this.buildView(input, { id, rootViewId: id, previousViewId: null });
    this.views.set(id, { view, userId, open: true, openedAt: this.now() });
    this.viewStacks.set(userId, [id]);
    this.emit({ type: 'view_opened', view, userId });
    return view;
  }

  pushView(userId: string, input: JsonObject): SlackView {
    const stack = this.viewStacks.get(userId);
    const top = stack?.at(-1);
    if (!stack || top === undefined) throw new SlackApiError('not_found');
    if (stack.length >= this.limits.viewStack) throw new SlackApiError('push_limit_reached');
    const root = stack[0] ?? top;
    const id = this.nextId('V');
    const view = this.buildView(input, { id, rootViewId: root, previousViewId: top });
    this.views.set(id, { view, userId, open: true, openedAt: this.now() });
    stack.push(id);
    this.emit({ type: 'view_pushed', view, userId });
    return view;
  }

  /** Replaces a view's definition, keeping its id, stack position and matching input state. */
  replaceView(record: ViewRecord, input: JsonObject): SlackView {
    const old = record.view;
    const view = this.buildView(input, {
      id: old.id,
      rootViewId: old.root_view_id,
      previousViewId: old.previous_view_id,
      state: { values: {} },
    });
    if (view.external_id === '' && input.external_id === undefined) view.external_id = old.external_id;
    for (const block of view.blocks) {
      const blockId = block.block_id;
      const element = block.element;
      if (block.type !== 'input' || typeof blockId !== 'string' || !isRecord(element)) continue;
      const actionId = element.action_id;
      const previous = typeof actionId === 'string' ? old.state.values[blockId]?.[actionId] : undefined;
      if (previous !== undefined && typeof actionId === 'string')
        view.state.values[blockId] = { [actionId]: previous };
    }
    record.view = view;
    delete record.errors;
    this.emit({ type: 'view_updated', view, userId: record.userId });
    return view;
  }

  /** Closes one view (the top of its stack, as a "Back"/empty-ack would). */
  closeView(viewId: string): void {
    const record = this.views.get(viewId);
    if (!record?.open) return;
    record.open = false;
    record.closedAt = this.now();
    const stack = this.viewStacks.get(record.userId);
    if (stack) {
      const remaining = stack.filter((id) => id !== viewId);
      if (remaining.length === 0) this.viewStacks.delete(record.userId);
      else this.viewStacks.set(record.userId, remaining);
    }
    this.emit({ type: 'view_closed', view: record.view, userId: record.userId });
  }

  /** Closes the user's whole modal stack. */
  closeStack(userId: string): void {
    const stack = this.viewStacks.get(userId);
    if (!stack) return;
    for (const id of [...stack].reverse()) this.closeView(id);
    this.viewStacks.delete(userId);
  }

  setViewErrors(viewId: string, errors: Record<string, string>): void {
    const record = this.views.get(viewId);
    if (!record) return;
    record.errors = errors;
    this.emit({ type: 'view_errors', view: record.view, userId: record.userId, errors });
  }

  /**
   * Stores what the user typed/selected, in Slack's `state.values` shape. Plain strings are turned into the
   * value shape of the element they target (`value`, `selected_option`, `selected_date`, …).
   */
  setViewValues(viewId: string, values: Record<string, Record<string, unknown>>): SlackView {
    const record = this.views.get(viewId);
    if (!record) throw new Error(`unknown view ${viewId}`);
    const view = record.view;
    for (const [blockId, actions] of Object.entries(values)) {
      const block = view.blocks.find((b) => b.block_id === blockId);
      for (const [actionId, raw] of Object.entries(actions)) {
        const element = findElement(block, actionId);
        const state = toStateValue(element, raw);
        view.state.values[blockId] = { ...(view.state.values[blockId] ?? {}), [actionId]: state };
      }
    }
    return view;
  }
}

function findElement(block: JsonObject | undefined, actionId: string): JsonObject | undefined {
  if (!block) return undefined;
  const candidates: unknown[] = [];
  if (isRecord(block.element)) candidates.push(block.element);
  if (isRecord(block.accessory)) candidates.push(block.accessory);
  if (Array.isArray(block.elements)) candidates.push(...block.elements);
  return candidates.find((el): el is JsonObject => isRecord(el) && el.action_id === actionId);
}

function findOption(element: JsonObject | undefined, value: string): JsonObject {
  const options: unknown[] = [];
  if (Array.isArray(element?.options)) options.push(...element.options);
  if (Array.isArray(element?.option_groups)) {
    for (const group of element.option_groups)
      if (isRecord(group) && Array.isArray(group.options)) options.push(...group.options);
  }
  const found = options.find((o): o is JsonObject => isRecord(o) && o.value === value);
  return found ?? { text: { type: 'plain_text', text: value, emoji: true }, value };
}

/** Converts a shorthand (`'text'`, `['a','b']`) into the `state.values` entry for `element`. */
export function toStateValue(element: JsonObject | undefined, raw: unknown): JsonObject {
  if (isRecord(raw) && typeof raw.type === 'string') return raw;
  const type = typeof element?.type === 'string' ? element.type : 'plain_text_input';
  const list = Array.isArray(raw) ? raw.map(String) : raw === null || raw === undefined ? [] : [String(raw)];
  const one = list[0] ?? null;
  switch (type) {
    case 'static_select':
    case 'external_select':
    case 'radio_buttons':
      return { type, selected_option: one === null ? null : findOption(element, one) };
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return { type, selected_options: list.map((v) => findOption(element, v)) };
    case 'users_select':
      return { type, selected_user: one };
    case 'multi_users_select':
      return { type, selected_users: list };
    case 'conversations_select':
      return { type, selected_conversation: one };
    case 'multi_conversations_select':
      return { type, selected_conversations: list };
    case 'channels_select':
      return { type, selected_channel: one };
    case 'multi_channels_select':
      return { type, selected_channels: list };
    case 'datepicker':
      return { type, selected_date: one };
    case 'timepicker':
      return { type, selected_time: one };
    case 'datetimepicker':
      return { type, selected_date_time: one === null ? null : Number(one) };
    default:
      return { type, value: one };
  }
}
