/**
 * Every Slack Web API call Flowgate makes, in one place: posting progress messages (with the DM
 * fallback), thread replies and DMs, ephemeral notes, permalinks, modals and user-group lookups.
 * Progress-message *updates* go through the publisher, which calls `updateMessage` here.
 */
import type { KnownBlock, View } from '@slack/types';
import type { WebClient } from '@slack/web-api';

export interface PostedMessage {
  channel: string;
  ts: string;
  /** True when the channel refused the bot and the message went to the person's DMs instead. */
  fellBackToDm: boolean;
}

export interface MessageContent {
  text: string;
  blocks?: KnownBlock[];
}

/** Errors that mean "the bot may not post in this channel". */
const CANNOT_POST = new Set(['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action']);

export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

/** Retry-After of a rate-limited call, in ms (`rejectRateLimitedCalls` clients throw these). */
function rateLimitedFor(error: unknown): number | undefined {
  const e = error as { code?: unknown; retryAfter?: unknown } | undefined;
  return e?.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number'
    ? e.retryAfter * 1000
    : undefined;
}

/**
 * Runs one Web API call, waiting out a 429's Retry-After for this call alone (the clients are built
 * with `rejectRateLimitedCalls`, so one busy channel never pauses every other call). The wait gets a
 * random extra of up to one Retry-After, so calls limited together do not all come back together.
 */
async function withRateLimitRetry<T>(call: () => Promise<T>, maxWaitMs: number): Promise<T> {
  let waited = 0;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const retryAfter = rateLimitedFor(error);
      if (retryAfter === undefined) throw error;
      const wait = retryAfter + Math.random() * retryAfter;
      if (waited + wait > maxWaitMs) throw error;
      waited += wait;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

export class SlackGateway {
  readonly #client: WebClient;
  readonly #updates: WebClient;
  readonly #groupCache = new Map<string, { at: number; members: string[] }>();
  readonly #groupTtlMs: number;
  readonly #maxRateLimitWaitMs: number;

  /**
   * @param client for everything but progress updates (built with `rejectRateLimitedCalls`)
   * @param updates for progress updates: rejects rate-limited calls so the publisher can wait per message
   */
  constructor(
    client: WebClient,
    updates: WebClient,
    options: { groupTtlMs?: number; maxRateLimitWaitMs?: number } = {},
  ) {
    this.#client = client;
    this.#updates = updates;
    this.#groupTtlMs = options.groupTtlMs ?? 60_000;
    this.#maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 120_000;
  }

  /** Posts in `channel`, or — when the bot cannot post there — in a DM with `userId`. */
  async postProgress(channel: string, userId: string, content: MessageContent): Promise<PostedMessage> {
    try {
      const posted = await this.#retry(() =>
        this.#client.chat.postMessage({ channel, ...content, unfurl_links: false }),
      );
      return { channel: posted.channel ?? channel, ts: String(posted.ts), fellBackToDm: false };
    } catch (error) {
      const code = slackErrorCode(error);
      if (!code || !CANNOT_POST.has(code)) throw error;
      const dm = await this.openDm(userId);
      const posted = await this.#retry(() =>
        this.#client.chat.postMessage({ channel: dm, ...content, unfurl_links: false }),
      );
      return { channel: posted.channel ?? dm, ts: String(posted.ts), fellBackToDm: true };
    }
  }

  async updateMessage(channel: string, ts: string, content: MessageContent): Promise<void> {
    await this.#updates.chat.update({ channel, ts, ...content });
  }

  async replyInThread(channel: string, threadTs: string, text: string): Promise<void> {
    await this.#retry(() =>
      this.#client.chat.postMessage({ channel, thread_ts: threadTs, text, unfurl_links: false }),
    );
  }

  async directMessage(userId: string, content: MessageContent): Promise<void> {
    const channel = await this.openDm(userId);
    await this.#retry(() => this.#client.chat.postMessage({ channel, ...content, unfurl_links: false }));
  }

  async ephemeral(channel: string, userId: string, content: MessageContent): Promise<void> {
    await this.#retry(() => this.#client.chat.postEphemeral({ channel, user: userId, ...content }));
  }

  async permalink(channel: string, ts: string): Promise<string | undefined> {
    const result = await this.#retry(() => this.#client.chat.getPermalink({ channel, message_ts: ts }));
    return result.permalink;
  }

  async openView(triggerId: string, view: View): Promise<{ id: string; hash?: string }> {
    // The trigger expires 3 s after the click: only a short wait can still succeed.
    const result = await withRateLimitRetry(
      () => this.#client.views.open({ trigger_id: triggerId, view }),
      1500,
    );
    return { id: String(result.view?.id), ...(result.view?.hash ? { hash: result.view.hash } : {}) };
  }

  async updateView(viewId: string, view: View, hash?: string): Promise<void> {
    await this.#retry(() => this.#client.views.update({ view_id: viewId, view, ...(hash ? { hash } : {}) }));
  }

  /** Members of a user group, cached for a minute (needs `usergroups:read`). */
  async groupMembers(groupId: string): Promise<string[]> {
    const cached = this.#groupCache.get(groupId);
    if (cached && Date.now() - cached.at < this.#groupTtlMs) return cached.members;
    const result = await this.#retry(() => this.#client.usergroups.users.list({ usergroup: groupId }));
    const members = result.users ?? [];
    this.#groupCache.set(groupId, { at: Date.now(), members });
    return members;
  }

  #retry<T>(call: () => Promise<T>): Promise<T> {
    return withRateLimitRetry(call, this.#maxRateLimitWaitMs);
  }

  async openDm(userId: string): Promise<string> {
    const result = await this.#retry(() => this.#client.conversations.open({ users: userId }));
    const id = result.channel?.id;
    if (!id) throw new Error(`Slack did not open a DM with ${userId}.`);
    return id;
  }
}
