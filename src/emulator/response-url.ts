/**
 * `response_url` handling (POST /response/<id>) and the shared logic that turns a message-response body
 * (`text`, `blocks`, `response_type`, `replace_original`, `delete_original`) into emulator state. Also used
 * for the immediate (ack) body of slash commands.
 */

import { isRecord } from '../util/is-record.ts';
import { SlackApiError } from './errors.ts';
import type { EphemeralSource, JsonObject, ResponseUrlRecord, ResponseUrlUse } from './types.ts';
import { blocksTextLength, formatIssue, validateMessageBlocks } from './validate.ts';
import type { EmulatorStore } from './workspace.ts';

export interface ResponseTarget {
  userId: string;
  channelId: string;
  messageTs?: string;
  messageIsEphemeral?: boolean;
}

/** Applies a message response; returns the ts it created or changed. Throws {@link SlackApiError}. */
export function applyMessageResponse(
  store: EmulatorStore,
  target: ResponseTarget,
  body: JsonObject,
  source: EphemeralSource,
): string | undefined {
  const text = typeof body.text === 'string' ? body.text : undefined;
  let blocks: JsonObject[] | undefined;
  if (body.blocks !== undefined) {
    if (!Array.isArray(body.blocks)) throw new SlackApiError('invalid_blocks_format');
    const issues = validateMessageBlocks(body.blocks, store.limits);
    if (issues.length > 0) {
      throw new SlackApiError('invalid_blocks', { errors: issues.map(formatIssue) });
    }
    if (blocksTextLength(body.blocks) > store.limits.blocksTotalText)
      throw new SlackApiError('msg_blocks_too_long');
    blocks = body.blocks as JsonObject[];
  }
  const truncated =
    text !== undefined && text.length > store.limits.textTruncate
      ? text.slice(0, store.limits.textTruncate)
      : text;
  const isTrue = (v: unknown) => v === true || v === 'true';
  const original = target.messageTs;

  if (isTrue(body.delete_original)) {
    if (original === undefined) throw new SlackApiError('message_not_found');
    if (target.messageIsEphemeral) {
      const ephemeral = store.ephemerals.find((e) => e.message_ts === original && e.user === target.userId);
      if (!ephemeral) throw new SlackApiError('message_not_found');
      ephemeral.deleted = true;
      store.emit({ type: 'ephemeral_deleted', ephemeral });
    } else if (!store.deleteMessage(target.channelId, original)) {
      throw new SlackApiError('message_not_found');
    }
    return original;
  }

  if (text === undefined && blocks === undefined) throw new SlackApiError('no_text');

  if (isTrue(body.replace_original) && original !== undefined) {
    if (target.messageIsEphemeral) {
      const ephemeral = store.ephemerals.find((e) => e.message_ts === original && e.user === target.userId);
      if (!ephemeral) throw new SlackApiError('message_not_found');
      ephemeral.text = truncated ?? '';
      if (blocks) ephemeral.blocks = store.withGeneratedIds(blocks);
      else delete ephemeral.blocks;
      store.emit({ type: 'ephemeral_posted', ephemeral });
      return original;
    }
    const message = store.findMessage(target.channelId, original);
    if (!message) throw new SlackApiError('message_not_found');
    message.text = truncated ?? '';
    if (blocks) message.blocks = store.withGeneratedIds(blocks);
    else delete message.blocks;
    store.emit({ type: 'message_updated', channel: target.channelId, message });
    return original;
  }

  const threadTs = typeof body.thread_ts === 'string' && body.thread_ts !== '' ? body.thread_ts : undefined;
  if (body.response_type === 'in_channel') {
    const message = store.botMessage({ text: truncated ?? '', ...(blocks ? { blocks } : {}) });
    store.insertMessage(target.channelId, message, threadTs);
    return message.ts;
  }
  const ephemeral = store.addEphemeral({
    channel: target.channelId,
    user: target.userId,
    text: truncated ?? '',
    ...(blocks ? { blocks: store.withGeneratedIds(blocks) } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
    source,
  });
  return ephemeral.message_ts;
}

/**
 * Handles a POST to a response URL. Enforces `responseUrlMaxUses` uses within `responseUrlTtlMs`.
 * Answers 200 `{ok:true}`; 404 `expired_url` / `used_url` / `invalid_url`; 400 for a bad body.
 */
export function handleResponseUrl(
  store: EmulatorStore,
  id: string,
  rawBody: unknown,
): { status: number; body: JsonObject; record?: ResponseUrlRecord } {
  const record = store.responseUrls.get(id);
  if (!record) return { status: 404, body: { ok: false, error: 'invalid_url' } };
  const body: JsonObject = isRecord(rawBody) ? rawBody : {};
  const use: ResponseUrlUse = { time: store.now(), status: 200, body };
  if (typeof body.response_type === 'string') use.response_type = body.response_type;
  if (body.replace_original !== undefined) use.replace_original = body.replace_original === true;
  if (body.delete_original !== undefined) use.delete_original = body.delete_original === true;
  if (typeof body.text === 'string') use.text = body.text;
  if (Array.isArray(body.blocks)) use.blocks = body.blocks as JsonObject[];
  if (typeof body.thread_ts === 'string') use.thread_ts = body.thread_ts;

  const accepted = record.uses.filter((u) => u.error === undefined).length;
  let error: string | undefined;
  let status = 200;
  if (!isRecord(rawBody)) {
    status = 400;
    error = 'invalid_payload';
  } else if (store.now() - record.createdAt > store.limits.responseUrlTtlMs) {
    status = 404;
    error = 'expired_url';
  } else if (accepted >= store.limits.responseUrlMaxUses) {
    status = 404;
    error = 'used_url';
  } else {
    try {
      const ts = applyMessageResponse(store, record, body, 'response_url');
      if (ts !== undefined) use.ts = ts;
    } catch (e) {
      if (!(e instanceof SlackApiError)) throw e;
      status = e.error === 'message_not_found' ? 404 : 400;
      error = e.error;
    }
  }
  use.status = status;
  if (error !== undefined) use.error = error;
  record.uses.push(use);
  store.emit({ type: 'response_url_used', responseUrl: record, use });
  return { status, body: error === undefined ? { ok: true } : { ok: false, error }, record };
}
