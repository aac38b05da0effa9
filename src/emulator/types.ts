/**
 * Data shapes of the local Slack emulator. Objects returned to API clients mirror Slack's wire format
 * (snake_case); the emulator's own bookkeeping uses camelCase.
 */

export type JsonObject = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Workspace

export interface EmulatorUser {
  id: string;
  /** The handle (`name` in users.info, `user_name` in slash commands). */
  name: string;
  realName: string;
  displayName: string;
  email?: string;
  isBot: boolean;
  isAdmin: boolean;
  deleted: boolean;
  tz: string;
}

export interface EmulatorUserGroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
  disabled: boolean;
}

export type ChannelType = 'public' | 'private' | 'im' | 'mpim';

export interface EmulatorChannel {
  id: string;
  name: string;
  type: ChannelType;
  /** User ids of members; includes the bot user id when the bot is a member. */
  members: string[];
  /** Unix seconds. */
  created: number;
  creator: string;
  isArchived: boolean;
  isGeneral: boolean;
  topic: string;
  purpose: string;
  /** For IMs: the other user. */
  user?: string;
  /**
   * When true, chat.postMessage/postEphemeral to this public channel fail with `not_in_channel` unless
   * the bot is a member (as if the app lacked `chat:write.public`).
   */
  postRequiresMembership: boolean;
}

export interface Workspace {
  teamId: string;
  teamName: string;
  teamDomain: string;
  enterpriseId?: string;
  appId: string;
  botUserId: string;
  botId: string;
  botName: string;
}

// ---------------------------------------------------------------------------------------------
// Messages

/** A message as Slack returns it from conversations.history / chat.postMessage. */
export interface SlackMessage {
  type: 'message';
  subtype?: string;
  ts: string;
  text: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  team?: string;
  username?: string;
  blocks?: JsonObject[];
  attachments?: JsonObject[];
  metadata?: JsonObject;
  thread_ts?: string;
  parent_user_id?: string;
  reply_count?: number;
  reply_users?: string[];
  reply_users_count?: number;
  latest_reply?: string;
  edited?: { user: string; ts: string };
  bot_profile?: JsonObject;
  [key: string]: unknown;
}

export type EphemeralSource = 'api' | 'response_url' | 'command_ack';

export interface EphemeralMessage {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks?: JsonObject[];
  thread_ts?: string;
  source: EphemeralSource;
  /** Emulator clock, ms. */
  time: number;
  /** Set when a response_url replaced or deleted it. */
  deleted?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Views

export interface SlackView {
  id: string;
  team_id: string;
  type: string;
  title?: JsonObject;
  submit?: JsonObject | null;
  close?: JsonObject | null;
  blocks: JsonObject[];
  private_metadata: string;
  callback_id: string;
  external_id: string;
  state: { values: Record<string, Record<string, JsonObject>> };
  hash: string;
  clear_on_close: boolean;
  notify_on_close: boolean;
  previous_view_id: string | null;
  root_view_id: string;
  app_id: string;
  app_installed_team_id: string;
  bot_id: string;
  [key: string]: unknown;
}

export interface ViewRecord {
  view: SlackView;
  /** The user the modal is shown to. */
  userId: string;
  open: boolean;
  /** Field errors from the app's last `response_action: 'errors'`. */
  errors?: Record<string, string>;
  openedAt: number;
  closedAt?: number;
}

export interface TriggerRecord {
  id: string;
  userId: string;
  /** Emulator clock, ms. */
  issuedAt: number;
  /** Set when the interaction happened inside a modal (views.push target). */
  viewId?: string;
  channelId?: string;
  /** The method that exchanged it, once used. */
  exchangedBy?: string;
}

// ---------------------------------------------------------------------------------------------
// Response URLs

export interface ResponseUrlRecord {
  id: string;
  url: string;
  createdAt: number;
  userId: string;
  channelId: string;
  /** The message the interaction came from (block_actions on a message). */
  messageTs?: string;
  /** Whether that message is an ephemeral one shown to `userId`. */
  messageIsEphemeral?: boolean;
  source: 'command' | 'block_actions' | 'other';
  uses: ResponseUrlUse[];
}

export interface ResponseUrlUse {
  time: number;
  status: number;
  body: JsonObject;
  response_type?: string;
  replace_original?: boolean;
  delete_original?: boolean;
  text?: string;
  blocks?: JsonObject[];
  thread_ts?: string;
  /** Error returned instead of applying the body. */
  error?: string;
  /** ts of the message created or changed. */
  ts?: string;
}

// ---------------------------------------------------------------------------------------------
// Call log & events

export interface CallLogEntry {
  seq: number;
  method: string;
  /** Parsed request parameters (token removed). */
  params: JsonObject;
  /** Emulator clock, ms. */
  time: number;
  status: number;
  response: JsonObject;
  rateLimited: boolean;
  retryAfter?: number;
  /** The call took effect but its answer was never sent (`scriptCalls` with `'lost'`). */
  lost?: boolean;
}

export type EmulatorEvent =
  | { type: 'call'; entry: CallLogEntry }
  | { type: 'message_posted'; channel: string; message: SlackMessage }
  | { type: 'message_updated'; channel: string; message: SlackMessage }
  | { type: 'message_deleted'; channel: string; ts: string }
  | { type: 'ephemeral_posted'; ephemeral: EphemeralMessage }
  | { type: 'ephemeral_deleted'; ephemeral: EphemeralMessage }
  | { type: 'channel_changed'; channel: EmulatorChannel }
  | { type: 'view_opened'; view: SlackView; userId: string }
  | { type: 'view_updated'; view: SlackView; userId: string }
  | { type: 'view_pushed'; view: SlackView; userId: string }
  | { type: 'view_closed'; view: SlackView; userId: string }
  | { type: 'view_errors'; view: SlackView; userId: string; errors: Record<string, string> }
  | { type: 'trigger_issued'; trigger: TriggerRecord }
  | { type: 'response_url_created'; responseUrl: ResponseUrlRecord }
  | { type: 'response_url_used'; responseUrl: ResponseUrlRecord; use: ResponseUrlUse };

export type EmulatorListener = (event: EmulatorEvent) => void;
