/**
 * Build and send requests to a Bolt app exactly as Slack does: over HTTP to its endpoint
 * (`/slack/events`) — slash commands as a form body, interactions as a `payload=<JSON>` form body,
 * signed with `v0=HMAC-SHA256(v0:{ts}:{rawBody})` — or, in Socket Mode, as envelopes over the
 * app's WebSocket (`{ socketMode: true }`). Response URLs and trigger_ids come from the emulator so
 * the app can use them against it.
 */
import { createHmac } from 'node:crypto';
import { type Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isRecord } from '../util/is-record.ts';
import { applyMessageResponse } from './response-url.ts';
import type { SlackEmulator } from './server.ts';
import type { EnvelopeType } from './socket.ts';
import type { EmulatorChannel, EmulatorUser, JsonObject, SlackView } from './types.ts';
import { formatTs } from './workspace.ts';

/** `v0=<hex>` of HMAC-SHA256 over `v0:{timestamp}:{body}`. */
export function signSlackRequest(signingSecret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface ForgeOptions {
  /** Sign with a different secret. */
  wrongSecret?: boolean;
  /** Timestamp 6 minutes old (Bolt rejects > 5 min). */
  staleTimestamp?: boolean;
  /** Change the body after signing. */
  tamperedBody?: boolean;
}

export interface SignedRequestOptions {
  /** The app's Slack endpoint, e.g. `http://127.0.0.1:PORT/slack/events`. */
  appUrl: string;
  signingSecret: string;
  forge?: ForgeOptions;
  /** Request timestamp (epoch seconds). Default: the real wall clock (Bolt checks against `Date.now()`). */
  timestamp?: number;
  headers?: Record<string, string>;
  /** An HTTP agent to reuse connections (keep-alive). Default: a new connection per request, closed after. */
  agent?: Agent;
}

/** How a request reaches the app: signed HTTP to its endpoint, or an envelope on its Socket Mode connection. */
export type AppDelivery = SignedRequestOptions | { socketMode: true };

export interface AppResponse {
  status: number;
  /** Parsed JSON when the body is JSON, else the text ('' for an empty ack). */
  body: unknown;
  headers: Record<string, string>;
}

/** Sends one signed POST (`Connection: close`, so no keep-alive socket holds the app open). */
export async function sendSignedRequest(
  options: SignedRequestOptions & { body: string; contentType?: string },
): Promise<AppResponse> {
  const timestamp = options.forge?.staleTimestamp
    ? Math.floor(Date.now() / 1000) - 6 * 60
    : (options.timestamp ?? Math.floor(Date.now() / 1000));
  const secret = options.forge?.wrongSecret ? `${options.signingSecret}-wrong` : options.signingSecret;
  const signature = signSlackRequest(secret, timestamp, options.body);
  const body = options.forge?.tamperedBody ? `${options.body}&tampered=1` : options.body;
  const url = new URL(options.appUrl);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<AppResponse>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        agent: options.agent ?? false,
        headers: {
          'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signature,
          ...(options.agent ? {} : { connection: 'close' }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if (text.trim() !== '') {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends `payload` the way `delivery` says. A Socket Mode ack's payload reads like an HTTP ack's
 * body; an empty one (`{}`, as Bolt sends for a bare `ack()`) like an empty body.
 */
async function deliver(
  emulator: SlackEmulator,
  delivery: AppDelivery,
  type: EnvelopeType,
  payload: JsonObject,
  httpBody: string,
): Promise<AppResponse> {
  if ('socketMode' in delivery) {
    const body = await emulator.socketMode.send(type, payload);
    const empty = body === undefined || (isRecord(body) && Object.keys(body).length === 0);
    return { status: 200, body: empty ? '' : body, headers: {} };
  }
  return sendSignedRequest({ ...delivery, body: httpBody });
}

function requireUser(emulator: SlackEmulator, userId: string): EmulatorUser {
  const user = emulator.user(userId);
  if (!user) throw new Error(`emulator has no user ${userId}`);
  return user;
}

function requireChannel(emulator: SlackEmulator, channelId: string): EmulatorChannel {
  const channel = emulator.channel(channelId);
  if (!channel) throw new Error(`emulator has no channel ${channelId}`);
  return channel;
}

/** The `channel_name` Slack sends: `directmessage` for DMs, the name otherwise. */
function channelName(channel: EmulatorChannel): string {
  return channel.type === 'im' ? 'directmessage' : channel.name;
}

function userPayload(emulator: SlackEmulator, user: EmulatorUser): JsonObject {
  return { id: user.id, username: user.name, name: user.name, team_id: emulator.workspace.teamId };
}

function teamPayload(emulator: SlackEmulator): JsonObject {
  return { id: emulator.workspace.teamId, domain: emulator.workspace.teamDomain };
}

function actionTs(emulator: SlackEmulator): string {
  return formatTs(Math.floor(emulator.store.now()) * 1000);
}

function deliverInteraction(emulator: SlackEmulator, delivery: AppDelivery, payload: JsonObject) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return deliver(emulator, delivery, 'interactive', payload, body);
}

// ---------------------------------------------------------------------------------------------
// Slash commands

export type SlashCommandOptions = SlashCommandFields & AppDelivery;

interface SlashCommandFields {
  /** e.g. `/flowgate` */
  command: string;
  text?: string;
  userId: string;
  channelId: string;
  apiAppId?: string;
  /**
   * Apply a message in the ack body (`{ text, response_type }`) to the emulator as Slack shows it.
   * Default true.
   */
  applyAck?: boolean;
}

export interface SlashCommandResult extends AppResponse {
  responseUrl: string;
  triggerId: string;
  /** The form fields that were sent. */
  fields: Record<string, string>;
}

export async function sendSlashCommand(
  emulator: SlackEmulator,
  options: SlashCommandOptions,
): Promise<SlashCommandResult> {
  const user = requireUser(emulator, options.userId);
  const channel = requireChannel(emulator, options.channelId);
  const ws = emulator.workspace;
  const trigger = emulator.store.issueTrigger({ userId: user.id, channelId: channel.id });
  const responseUrl = emulator.createResponseUrl({
    userId: user.id,
    channelId: channel.id,
    source: 'command',
  });
  const fields: Record<string, string> = {
    token: emulator.verificationToken,
    team_id: ws.teamId,
    team_domain: ws.teamDomain,
    ...(ws.enterpriseId !== undefined
      ? { enterprise_id: ws.enterpriseId, enterprise_name: ws.teamName }
      : {}),
    channel_id: channel.id,
    channel_name: channelName(channel),
    user_id: user.id,
    user_name: user.name,
    command: options.command,
    text: options.text ?? '',
    api_app_id: options.apiAppId ?? ws.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl.url,
    trigger_id: trigger.id,
  };
  const response = await deliver(
    emulator,
    options,
    'slash_commands',
    fields,
    new URLSearchParams(fields).toString(),
  );
  if ((options.applyAck ?? true) && response.status === 200) {
    const ack =
      typeof response.body === 'string' && response.body !== '' ? { text: response.body } : response.body;
    if (isRecord(ack) && (typeof ack.text === 'string' || Array.isArray(ack.blocks))) {
      try {
        applyMessageResponse(emulator.store, { userId: user.id, channelId: channel.id }, ack, 'command_ack');
      } catch {
        // Slack shows an error to the user; nothing to store.
      }
    }
  }
  return { ...response, responseUrl: responseUrl.url, triggerId: trigger.id, fields };
}

// ---------------------------------------------------------------------------------------------
// Block actions

export type ActionOptions = ActionFields & AppDelivery;

interface ActionFields {
  actionId: string;
  /** Default: the block holding `actionId`. */
  blockId?: string;
  value?: string;
  /** Default: the element's type, else `button`. */
  actionType?: string;
  /** Extra action fields (e.g. `selected_option`). */
  action?: JsonObject;
  apiAppId?: string;
}

export type BlockActionOptions = ActionOptions & {
  userId: string;
  channelId: string;
  /** ts of the message holding the element (a channel message, or an ephemeral one shown to `userId`). */
  messageTs: string;
};

export interface InteractionResult extends AppResponse {
  triggerId: string;
  responseUrl?: string;
  payload: JsonObject;
}

function findAction(
  blocks: unknown,
  actionId: string,
  blockId?: string,
): { block?: JsonObject; element?: JsonObject } {
  if (!Array.isArray(blocks)) return {};
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    if (blockId !== undefined && block.block_id !== blockId) continue;
    const candidates: unknown[] = [];
    if (Array.isArray(block.elements)) candidates.push(...block.elements);
    if (isRecord(block.accessory)) candidates.push(block.accessory);
    if (isRecord(block.element)) candidates.push(block.element);
    const element = candidates.find((el): el is JsonObject => isRecord(el) && el.action_id === actionId);
    if (element) return { block, element };
  }
  return {};
}

function buildAction(emulator: SlackEmulator, options: ActionFields, blocks: unknown): JsonObject {
  const { block, element } = findAction(blocks, options.actionId, options.blockId);
  const type = options.actionType ?? (typeof element?.type === 'string' ? element.type : 'button');
  const blockId =
    options.blockId ?? (typeof block?.block_id === 'string' ? block.block_id : 'emulator_block');
  const value = options.value ?? (typeof element?.value === 'string' ? element.value : undefined);
  return {
    action_id: options.actionId,
    block_id: blockId,
    ...(isRecord(element?.text) ? { text: element.text } : {}),
    ...(value !== undefined ? { value } : {}),
    ...(typeof element?.style === 'string' ? { style: element.style } : {}),
    type,
    action_ts: actionTs(emulator),
    ...options.action,
  };
}

/** A `block_actions` interaction on a message (button click etc.). */
export async function sendBlockAction(
  emulator: SlackEmulator,
  options: BlockActionOptions,
): Promise<InteractionResult> {
  const user = requireUser(emulator, options.userId);
  const channel = requireChannel(emulator, options.channelId);
  const ws = emulator.workspace;
  const message = emulator.message(channel.id, options.messageTs);
  const ephemeral = message
    ? undefined
    : emulator.ephemerals(user.id, channel.id).find((e) => e.message_ts === options.messageTs);
  if (!message && !ephemeral)
    throw new Error(`no message ${options.messageTs} in ${channel.id} for ${user.id}`);
  const isEphemeral = ephemeral !== undefined;
  const trigger = emulator.store.issueTrigger({ userId: user.id, channelId: channel.id });
  const responseUrl = emulator.createResponseUrl({
    userId: user.id,
    channelId: channel.id,
    messageTs: options.messageTs,
    messageIsEphemeral: isEphemeral,
    source: 'block_actions',
  });
  const action = buildAction(emulator, options, message?.blocks ?? ephemeral?.blocks);
  const payload: JsonObject = {
    type: 'block_actions',
    user: userPayload(emulator, user),
    api_app_id: options.apiAppId ?? ws.appId,
    token: emulator.verificationToken,
    container: {
      type: 'message',
      message_ts: options.messageTs,
      channel_id: channel.id,
      is_ephemeral: isEphemeral,
      ...(message?.thread_ts !== undefined ? { thread_ts: message.thread_ts } : {}),
    },
    trigger_id: trigger.id,
    team: teamPayload(emulator),
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel.id, name: channelName(channel) },
    ...(message ? { message: structuredClone(message) } : {}),
    state: { values: {} },
    response_url: responseUrl.url,
    actions: [action],
  };
  const response = await deliverInteraction(emulator, options, payload);
  return { ...response, triggerId: trigger.id, responseUrl: responseUrl.url, payload };
}

export type ViewActionOptions = ActionOptions & {
  viewId: string;
  /** Default: the user the modal is shown to. */
  userId?: string;
};

/** A `block_actions` interaction inside a modal (container type `view`); its trigger_id can `views.push`. */
export async function sendViewBlockAction(
  emulator: SlackEmulator,
  options: ViewActionOptions,
): Promise<InteractionResult> {
  const record = emulator.viewRecord(options.viewId);
  if (!record?.open) throw new Error(`no open view ${options.viewId}`);
  const user = requireUser(emulator, options.userId ?? record.userId);
  const ws = emulator.workspace;
  const trigger = emulator.store.issueTrigger({ userId: user.id, viewId: record.view.id });
  const payload: JsonObject = {
    type: 'block_actions',
    user: userPayload(emulator, user),
    api_app_id: options.apiAppId ?? ws.appId,
    token: emulator.verificationToken,
    container: { type: 'view', view_id: record.view.id },
    trigger_id: trigger.id,
    team: teamPayload(emulator),
    enterprise: null,
    is_enterprise_install: false,
    view: structuredClone(record.view),
    actions: [buildAction(emulator, options, record.view.blocks)],
  };
  const response = await deliverInteraction(emulator, options, payload);
  return { ...response, triggerId: trigger.id, payload };
}

// ---------------------------------------------------------------------------------------------
// View submission

export type ViewSubmissionOptions = ViewSubmissionFields & AppDelivery;

interface ViewSubmissionFields {
  viewId: string;
  /** Default: the user the modal is shown to. */
  userId?: string;
  /**
   * What the user entered, by block_id → action_id. Strings/arrays are converted to the element's state
   * shape (`value`, `selected_option(s)`, `selected_date`, …); objects with a `type` are used as is.
   */
  values?: Record<string, Record<string, unknown>>;
  apiAppId?: string;
  /** Apply the app's `response_action` (errors/update/push/clear; empty ack closes the view). Default true. */
  applyResponse?: boolean;
}

export interface ViewSubmissionResult extends AppResponse {
  triggerId: string;
  payload: JsonObject;
  /** The view as submitted. */
  view: SlackView;
}

export async function sendViewSubmission(
  emulator: SlackEmulator,
  options: ViewSubmissionOptions,
): Promise<ViewSubmissionResult> {
  const record = emulator.viewRecord(options.viewId);
  if (!record?.open) throw new Error(`no open view ${options.viewId}`);
  const user = requireUser(emulator, options.userId ?? record.userId);
  const ws = emulator.workspace;
  if (options.values) emulator.store.setViewValues(record.view.id, options.values);
  const view = structuredClone(record.view);
  const trigger = emulator.store.issueTrigger({ userId: user.id, viewId: view.id });
  const payload: JsonObject = {
    type: 'view_submission',
    team: teamPayload(emulator),
    user: userPayload(emulator, user),
    api_app_id: options.apiAppId ?? ws.appId,
    token: emulator.verificationToken,
    trigger_id: trigger.id,
    view,
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  const response = await deliverInteraction(emulator, options, payload);
  if ((options.applyResponse ?? true) && response.status === 200) {
    applyViewResponse(emulator, view.id, response.body);
  }
  return { ...response, triggerId: trigger.id, payload, view };
}

/** What Slack does with a view_submission ack body. */
function applyViewResponse(emulator: SlackEmulator, viewId: string, body: unknown): void {
  const store = emulator.store;
  const record = store.views.get(viewId);
  if (!record) return;
  const action = isRecord(body) ? body.response_action : undefined;
  if (!isRecord(body) || action === undefined) {
    store.closeView(viewId);
    return;
  }
  switch (action) {
    case 'errors':
      if (isRecord(body.errors)) {
        const errors: Record<string, string> = {};
        for (const [key, value] of Object.entries(body.errors)) errors[key] = String(value);
        store.setViewErrors(viewId, errors);
      }
      break;
    case 'update':
      if (isRecord(body.view)) store.replaceView(record, body.view);
      break;
    case 'push':
      if (isRecord(body.view)) store.pushView(record.userId, body.view);
      break;
    case 'clear':
      store.closeStack(record.userId);
      break;
    default:
      store.closeView(viewId);
  }
}
