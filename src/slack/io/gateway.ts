/**
 * Every Slack Web API call Flowgate makes, in one place: posting progress messages (with the DM
 * fallback), thread replies and DMs, ephemeral notes, permalinks, modals and user-group lookups.
 * Progress-message *updates* go through the publisher, which calls `updateMessage` here.
 *
 * Each method takes the retry policy fit for its use (`retry.ts`): the caller knows whether a
 * person is waiting. Each policy has a client of its own (its request timeout, its queue), so
 * background calls never hold up the calls a person waits for.
 */
import type { KnownBlock, View } from '@slack/types';
import { type Logger as SlackLogger, type WebAPICallResult, WebClient } from '@slack/web-api';
import { TtlCache } from '../../util/ttl-cache.ts';
import { slackFailure } from '../errors.ts';
import {
  SLACK_CALL_POLICIES,
  type SlackCallPolicyName,
  type SlackCallRunner,
  slackCallRunner,
  slackClientOptions,
} from './call-policies.ts';

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

const EMAIL_TTL_MS = 10 * 60_000;
/** The `event_type` of the metadata every notice is posted with (`postNotice`). */
const NOTICE_EVENT = 'flowgate_notice';
/**
 * Pages of 200 messages read when looking for a notice (`findNotice`), each one call: with the DM
 * opened and the post, an attempt stays within the outbox's lease (src/slack/io/outbox.ts).
 */
export const MAX_NOTICE_PAGES = 3;
const MAX_MEMBER_PAGES = 20;

export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

export interface SlackGatewayOptions {
  token: string;
  slackApiUrl: string;
  /** For the SDK's own log lines (never tokens). */
  logger?: SlackLogger;
  groupTtlMs?: number;
  /** Told of every Web API attempt once it settles (metrics); must not throw. */
  onCall?: (call: SlackCall) => void;
}

/** One Web API attempt: its method, how it went (`ok`, `429`, `5xx`, `http`, `network`, `error` with Slack's error), its time. */
export interface SlackCall {
  method: string;
  outcome: 'ok' | '429' | '5xx' | 'http' | 'network' | 'error' | 'other';
  error?: string;
  ms: number;
}

function outcomeOf(error: unknown): Pick<SlackCall, 'outcome' | 'error'> {
  const failure = slackFailure(error);
  switch (failure.kind) {
    case 'rate_limited':
      return { outcome: '429' };
    case 'http':
      return failure.status === 429
        ? { outcome: '429' }
        : { outcome: failure.status >= 500 ? '5xx' : 'http' };
    case 'network':
      return { outcome: 'network' };
    case 'platform':
      return { outcome: 'error', error: failure.error };
    default:
      return { outcome: 'other' };
  }
}

/** A Web API client that tells `onCall` of each call it makes (every method goes through `apiCall`). */
class ObservedWebClient extends WebClient {
  onCall: ((call: SlackCall) => void) | undefined;

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<WebAPICallResult> {
    const onCall = this.onCall;
    if (!onCall) return super.apiCall(method, options);
    const started = performance.now();
    const tell = (how: Pick<SlackCall, 'outcome' | 'error'>) => {
      try {
        onCall({ method, ...how, ms: performance.now() - started });
      } catch {
        // a metrics hook never breaks a call
      }
    };
    try {
      const result = await super.apiCall(method, options);
      tell({ outcome: 'ok' });
      return result;
    } catch (error) {
      tell(outcomeOf(error));
      throw error;
    }
  }
}

type Call<T> = (client: WebClient) => Promise<T>;

/** A piece of work's calls under one policy: the policy's client, one shared deadline. */
interface Scoped {
  <T>(call: Call<T>): Promise<T>;
  /** A `chat.postMessage` in `channel`: see {@link SlackGateway.#post}. */
  post<T>(channel: string, call: Call<T>): Promise<T>;
}

export class SlackGateway {
  readonly #clients: Record<SlackCallPolicyName, WebClient>;
  readonly #groupCache: TtlCache<string[]>;
  readonly #emailCache = new TtlCache<string | undefined>({ ttlMs: EMAIL_TTL_MS });
  readonly #userEmailCache = new TtlCache<string | undefined>({ ttlMs: EMAIL_TTL_MS });
  readonly #memberCache: TtlCache<ReadonlySet<string>>;
  readonly #publicCache: TtlCache<boolean>;
  readonly #stopping = new AbortController();
  /** `chat.postMessage` calls in progress that someone waits for, by channel. */
  readonly #waitedFor = new Map<string, Set<Promise<unknown>>>();

  constructor(options: SlackGatewayOptions) {
    const client = (policy: SlackCallPolicyName) => {
      const web = new ObservedWebClient(options.token, {
        ...slackClientOptions(options.slackApiUrl, SLACK_CALL_POLICIES[policy].timeoutMs),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      web.onCall = options.onCall;
      return web;
    };
    this.#clients = {
      interactive: client('interactive'),
      modal: client('modal'),
      background: client('background'),
      update: client('update'),
      lookup: client('lookup'),
      notice: client('notice'),
    };
    const ttlMs = options.groupTtlMs ?? 60_000;
    this.#groupCache = new TtlCache({ ttlMs });
    // A big channel's members are many: fewer of them are kept.
    this.#memberCache = new TtlCache({ ttlMs, maxEntries: 1_000 });
    this.#publicCache = new TtlCache({ ttlMs });
  }

  /** Stops retrying: calls waiting for another attempt fail at once with their last error. */
  close(): void {
    this.#stopping.abort();
  }

  /** Posts in `channel`, or — when the bot cannot post there — in a DM with `userId`. */
  async postProgress(
    channel: string,
    userId: string,
    content: MessageContent,
    policy: SlackCallPolicyName,
  ): Promise<PostedMessage> {
    const call = this.#scope(policy);
    try {
      const posted = await call.post(channel, (c) =>
        c.chat.postMessage({ channel, ...content, unfurl_links: false }),
      );
      return { channel: posted.channel ?? channel, ts: String(posted.ts), fellBackToDm: false };
    } catch (error) {
      const code = slackErrorCode(error);
      if (!code || !CANNOT_POST.has(code)) throw error;
      const dm = await this.#openDm(userId, call);
      const posted = await call.post(dm, (c) =>
        c.chat.postMessage({ channel: dm, ...content, unfurl_links: false }),
      );
      return { channel: posted.channel ?? dm, ts: String(posted.ts), fellBackToDm: true };
    }
  }

  /** One `chat.update`, never retried here: the publisher decides when to try again. */
  async updateMessage(channel: string, ts: string, content: MessageContent): Promise<void> {
    await this.#scope('update')((c) => c.chat.update({ channel, ts, ...content }));
  }

  async directMessage(
    userId: string,
    content: MessageContent,
    policy: SlackCallPolicyName,
  ): Promise<PostedMessage> {
    const call = this.#scope(policy);
    const channel = await this.#openDm(userId, call);
    const posted = await call.post(channel, (c) =>
      c.chat.postMessage({ channel, ...content, unfurl_links: false }),
    );
    return { channel: posted.channel ?? channel, ts: String(posted.ts), fellBackToDm: false };
  }

  /** The bot's DM with `userId` (`conversations.open`). */
  async dmWith(userId: string, policy: SlackCallPolicyName): Promise<string> {
    return this.#openDm(userId, this.#scope(policy));
  }

  /**
   * Posts a notice: a reply in the thread `threadTs` of `channel`, or (no `threadTs`) a message in
   * `channel`, a DM. Its `key` goes in the message's metadata, so that `findNotice` can tell whether
   * an attempt whose answer was lost posted it.
   */
  async postNotice(
    channel: string,
    threadTs: string | undefined,
    content: MessageContent,
    key: string,
    policy: SlackCallPolicyName,
  ): Promise<PostedMessage> {
    const posted = await this.#scope(policy).post(channel, (c) =>
      c.chat.postMessage({
        channel,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...content,
        unfurl_links: false,
        metadata: { event_type: NOTICE_EVENT, event_payload: { key } },
      }),
    );
    return { channel: posted.channel ?? channel, ts: String(posted.ts), fellBackToDm: false };
  }

  /**
   * The message `postNotice` posted with `key`, if any: in the thread `threadTs` of `channel`
   * (`conversations.replies`), or among the messages of the DM `channel` since `since`
   * (`conversations.history`), read with their metadata. Bounded: {@link MAX_NOTICE_PAGES} pages.
   */
  async findNotice(
    channel: string,
    threadTs: string | undefined,
    key: string,
    since: Date,
    policy: SlackCallPolicyName,
  ): Promise<{ channel: string; ts: string } | undefined> {
    // A minute of leeway: Slack's clock and ours.
    const oldest = (Math.max(0, since.getTime() - 60_000) / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < MAX_NOTICE_PAGES; page++) {
      const paging = { limit: 200, include_all_metadata: true, ...(cursor ? { cursor } : {}) };
      const call = this.#scope(policy); // each page a call of its own, with the policy's time
      const result = threadTs
        ? await call((c) => c.conversations.replies({ channel, ts: threadTs, oldest, ...paging }))
        : await call((c) => c.conversations.history({ channel, oldest, ...paging }));
      const found = (result.messages ?? []).find(
        (m) =>
          m.metadata?.event_type === NOTICE_EVENT &&
          (m.metadata.event_payload as Record<string, unknown> | undefined)?.key === key,
      );
      if (found?.ts) return { channel, ts: found.ts };
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  async ephemeral(
    channel: string,
    userId: string,
    content: MessageContent,
    policy: SlackCallPolicyName,
  ): Promise<void> {
    await this.#scope(policy)((c) => c.chat.postEphemeral({ channel, user: userId, ...content }));
  }

  async permalink(channel: string, ts: string, policy: SlackCallPolicyName): Promise<string | undefined> {
    const result = await this.#scope(policy)((c) => c.chat.getPermalink({ channel, message_ts: ts }));
    return result.permalink;
  }

  /** `views.open`, always by the `modal` policy: the trigger expires 3 s after the click. */
  async openView(triggerId: string, view: View): Promise<{ id: string; hash?: string }> {
    const result = await this.#scope('modal')((c) => c.views.open({ trigger_id: triggerId, view }));
    return { id: String(result.view?.id), ...(result.view?.hash ? { hash: result.view.hash } : {}) };
  }

  async updateView(viewId: string, view: View, policy: SlackCallPolicyName, hash?: string): Promise<void> {
    await this.#scope(policy)((c) => c.views.update({ view_id: viewId, view, ...(hash ? { hash } : {}) }));
  }

  /** Members of a user group, cached for a minute (needs `usergroups:read`). */
  async groupMembers(groupId: string, policy: SlackCallPolicyName): Promise<string[]> {
    const cached = this.#groupCache.get(groupId);
    if (cached) return cached.value;
    const result = await this.#scope(policy)((c) => c.usergroups.users.list({ usergroup: groupId }));
    const members = result.users ?? [];
    this.#groupCache.set(groupId, members);
    return members;
  }

  /**
   * Who is in a conversation (`conversations.members`; needs `channels:read`, `groups:read`,
   * `im:read`, `mpim:read`), cached like groups. Pages through at most {@link MAX_MEMBER_PAGES}
   * pages of 1,000: someone past them reads as not a member (never the other way round).
   */
  async conversationMembers(channel: string, policy: SlackCallPolicyName): Promise<ReadonlySet<string>> {
    const cached = this.#memberCache.get(channel);
    if (cached) return cached.value;
    const members = new Set<string>();
    const call = this.#scope(policy);
    let cursor: string | undefined;
    for (let page = 0; page < MAX_MEMBER_PAGES; page++) {
      const result = await call((c) =>
        c.conversations.members({ channel, limit: 1000, ...(cursor ? { cursor } : {}) }),
      );
      for (const member of result.members ?? []) members.add(member);
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    this.#memberCache.set(channel, members);
    return members;
  }

  /**
   * Whether anyone in the workspace may read `channel`: a public channel (`conversations.info`,
   * needs `channels:read`), cached like members. A DM, a group DM or a private channel: false.
   */
  async isPublicChannel(channel: string, policy: SlackCallPolicyName): Promise<boolean> {
    if (channel.startsWith('D') || channel.startsWith('G')) return false;
    const cached = this.#publicCache.get(channel);
    if (cached) return cached.value;
    const result = await this.#scope(policy)((c) => c.conversations.info({ channel }));
    const info = result.channel;
    const open = info !== undefined && !info.is_private && !info.is_im && !info.is_mpim;
    this.#publicCache.set(channel, open);
    return open;
  }

  /** A person's e-mail address (`users.info`, needs `users:read.email`), cached for ten minutes; undefined when Slack has none. */
  async emailOf(userId: string, policy: SlackCallPolicyName): Promise<string | undefined> {
    const cached = this.#userEmailCache.get(userId);
    if (cached) return cached.value;
    const result = await this.#scope(policy)((c) => c.users.info({ user: userId }));
    const email = result.user?.profile?.email?.trim().toLowerCase() || undefined;
    this.#userEmailCache.set(userId, email);
    return email;
  }

  /** Posts in `channel` only (no DM fallback): for runs started elsewhere, which have nobody's DMs to fall back to. */
  async postInChannel(
    channel: string,
    content: MessageContent,
    policy: SlackCallPolicyName,
  ): Promise<PostedMessage> {
    const posted = await this.#scope(policy).post(channel, (c) =>
      c.chat.postMessage({ channel, ...content, unfurl_links: false }),
    );
    return { channel: posted.channel ?? channel, ts: String(posted.ts), fellBackToDm: false };
  }

  /** The Slack user with this e-mail address (needs `users:read.email`), cached for ten minutes; undefined when none. */
  async userByEmail(email: string, policy: SlackCallPolicyName): Promise<string | undefined> {
    const key = email.trim().toLowerCase();
    const cached = this.#emailCache.get(key);
    if (cached) return cached.value;
    let userId: string | undefined;
    try {
      const result = await this.#scope(policy)((c) => c.users.lookupByEmail({ email: key }));
      userId = result.user?.id;
    } catch (error) {
      if (slackErrorCode(error) !== 'users_not_found') throw error;
    }
    this.#emailCache.set(key, userId);
    return userId;
  }

  /** Why the bot cannot post in `channel` (a Slack error code), or undefined when it can. */
  async cannotPostIn(channel: string, policy: SlackCallPolicyName): Promise<string | undefined> {
    try {
      const result = await this.#scope(policy)((c) => c.conversations.info({ channel }));
      const info = result.channel;
      if (info?.is_archived) return 'is_archived';
      if (info?.is_private && !info.is_member) return 'not_in_channel';
      return undefined;
    } catch (error) {
      const code = slackErrorCode(error);
      if (code) return code;
      throw error;
    }
  }

  async #openDm(userId: string, call: Scoped): Promise<string> {
    const result = await call((c) => c.conversations.open({ users: userId }));
    const id = result.channel?.id;
    if (!id) throw new Error(`Slack did not open a DM with ${userId}.`);
    return id;
  }

  #scope(policy: SlackCallPolicyName): Scoped {
    const client = this.#clients[policy];
    const run: SlackCallRunner = slackCallRunner(SLACK_CALL_POLICIES[policy], {
      signal: this.#stopping.signal,
    });
    const scoped = (<T>(call: Call<T>) => run(() => call(client))) as Scoped;
    scoped.post = (channel, call) =>
      this.#post(policy, channel, (beforeAttempt) => run(() => call(client), { beforeAttempt }));
    return scoped;
  }

  /**
   * `chat.postMessage` is limited per channel (about one a second): Flowgate's own background
   * posts there (thread replies, notices) wait before each attempt while a post someone waits for
   * is in progress in that channel, so they never take its turn.
   */
  #post<T>(
    policy: SlackCallPolicyName,
    channel: string,
    attempts: (beforeAttempt?: () => Promise<void>) => Promise<T>,
  ): Promise<T> {
    if (policy === 'background' || policy === 'notice') return attempts(() => this.#behindWaitedFor(channel));
    const work = attempts();
    const inChannel = this.#waitedFor.get(channel) ?? new Set<Promise<unknown>>();
    this.#waitedFor.set(channel, inChannel);
    inChannel.add(work);
    const done = () => {
      inChannel.delete(work);
      if (inChannel.size === 0 && this.#waitedFor.get(channel) === inChannel) this.#waitedFor.delete(channel);
    };
    work.then(done, done);
    return work;
  }

  async #behindWaitedFor(channel: string): Promise<void> {
    for (let calls = this.#waitedFor.get(channel); calls; calls = this.#waitedFor.get(channel)) {
      await Promise.allSettled([...calls]);
    }
  }
}
