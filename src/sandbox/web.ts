/**
 * The sandbox page's server: the page's static files, what a sandbox user sees of the emulator's
 * workspace (`GET /api/state`), its changes as they happen (`GET /api/events`, server-sent events),
 * and what the user does in the page, sent to Flowgate as Slack sends it (`POST /api/command`,
 * `/api/action`, `/api/submit`) through the emulator's signed request helpers.
 *
 * Only the page itself may use it: its server is guarded like every local server of the sandbox
 * (src/loopback.ts: this server's Host, no other origin), and every POST is JSON. Every response
 * carries a strict Content-Security-Policy; the page renders every text it gets as text.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import {
  type AppDelivery,
  type EmulatorChannel,
  type EmulatorEvent,
  type JsonObject,
  type SlackEmulator,
  sendBlockAction,
  sendSlashCommand,
  sendViewSubmission,
} from '../emulator/index.ts';
import type { Logger } from '../logger.ts';
import { escapeMrkdwn } from '../slack/text/mrkdwn.ts';
import { isRecord } from '../util/is-record.ts';
import { ROLES } from './workspace.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

/** The page's files, served by name only (nothing else on disk is reachable). */
export const PAGE_FILES = [
  'index.html',
  'style.css',
  'favicon.svg',
  'app.js',
  'blocks.js',
  'dom.js',
  'emoji.js',
  'modal.js',
  'mrkdwn.js',
] as const;

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

const MAX_POST_BYTES = 1024 * 1024;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Attached {
  emulator: SlackEmulator;
  /** Where the workflows come from, shown on the page. */
  mastra: string;
}

interface Listener {
  res: ServerResponse;
  user: string;
}

function str(body: JsonObject, key: string, required = true): string | undefined {
  const value = body[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length > 4000) throw new HttpError(400, `${key} must be a string`);
  return value;
}

export class SandboxWeb {
  /** `http://127.0.0.1:PORT`, set once listening. */
  origin = '';
  readonly #command: string;
  readonly #logger: Logger;
  readonly #assets = new Map<string, Asset>();
  readonly #listeners = new Set<Listener>();
  readonly #ready: Promise<Attached>;
  #resolve!: (attached: Attached) => void;
  #reject!: (error: unknown) => void;
  #attached: Attached | undefined;
  readonly #delivery: Promise<AppDelivery>;
  #connect!: (delivery: AppDelivery) => void;
  #disconnect!: (error: unknown) => void;
  #unsubscribe: (() => void) | undefined;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(options: { command: string; logger: Logger }) {
    this.#command = options.command;
    this.#logger = options.logger;
    this.#ready = new Promise<Attached>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#ready.catch(() => {});
    this.#delivery = new Promise<AppDelivery>((resolve, reject) => {
      this.#connect = resolve;
      this.#disconnect = reject;
    });
    this.#delivery.catch(() => {});
    const dir = new URL('./page/', import.meta.url);
    for (const name of PAGE_FILES) {
      const body = readFileSync(new URL(name, dir));
      this.#assets.set(name, {
        body,
        gzip: gzipSync(body, { level: 9 }),
        type: TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
      });
    }
  }

  /**
   * The workspace is up: the page can show it (and does, while Flowgate is still starting). What
   * people do waits for {@link connect}.
   */
  attach(attached: Attached): void {
    this.#attached = attached;
    this.#unsubscribe = attached.emulator.subscribe((event) => this.#broadcast(event));
    this.#keepAlive = setInterval(() => {
      for (const l of this.#listeners) l.res.write(': keep-alive\n\n');
    }, 15_000);
    this.#keepAlive.unref();
    this.#resolve(attached);
  }

  /** Flowgate is listening: commands, clicks and submissions go to it this way. */
  connect(delivery: AppDelivery): void {
    this.#connect(delivery);
  }

  /** The sandbox could not start: waiting requests get a 503. */
  fail(error: unknown): void {
    this.#reject(error);
    this.#disconnect(error);
  }

  /** Ends every event stream (the server's connections are closed by its owner). */
  close(): void {
    this.#unsubscribe?.();
    clearInterval(this.#keepAlive);
    for (const l of this.#listeners) l.res.end();
    this.#listeners.clear();
    this.#reject(new Error('stopped'));
    this.#disconnect(new Error('stopped'));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#route(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) this.#logger.error('sandbox page request failed', error);
      // What failed inside (an address, a stack) is in the log; the page gets words.
      const message =
        error instanceof HttpError ? error.message : 'Something went wrong in the sandbox; see its log.';
      if (res.headersSent) res.destroy();
      else this.#json(res, status, { ok: false, error: message });
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const path = url.pathname;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/' || path === '/index.html' || path.startsWith('/archives/'))
        return this.#asset(req, res, 'index.html');
      if (path === '/favicon.ico' || path === '/favicon.svg') return this.#asset(req, res, 'favicon.svg');
      if (path.startsWith('/assets/')) {
        const name = path.slice('/assets/'.length);
        if (!(PAGE_FILES as readonly string[]).includes(name)) throw new HttpError(404, 'not found');
        return this.#asset(req, res, name);
      }
      if (path === '/healthz') return this.#json(res, 200, { ok: true });
      const attached = await this.#wait();
      if (path === '/api/state')
        return this.#json(res, 200, this.#state(attached, this.#user(attached, url)));
      if (path === '/api/events') return this.#events(req, res, attached, this.#user(attached, url));
      throw new HttpError(404, 'not found');
    }
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed');
    // JSON only: a cross-site page cannot send it without a preflight, which the guard refuses.
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
      throw new HttpError(415, 'send JSON');
    const body = await readJson(req);
    const attached = await this.#wait();
    const user = str(body, 'user')!;
    if (!attached.emulator.user(user) || attached.emulator.user(user)?.isBot)
      throw new HttpError(400, 'no such sandbox user');
    switch (path) {
      case '/api/command':
        return this.#json(res, 200, await this.#commandOrMessage(attached, user, body));
      case '/api/action':
        return this.#json(res, 200, await this.#action(attached, user, body));
      case '/api/submit':
        return this.#json(res, 200, await this.#submit(attached, user, body));
      case '/api/close': {
        const record = attached.emulator.viewRecord(str(body, 'viewId')!);
        if (record?.open && record.userId === user) attached.emulator.closeView(record.view.id);
        return this.#json(res, 200, { ok: true });
      }
      case '/api/dismiss': {
        const ts = str(body, 'ts');
        const ephemeral = attached.emulator.ephemerals(user).find((e) => e.message_ts === ts);
        if (ephemeral) {
          ephemeral.deleted = true;
          attached.emulator.store.emit({ type: 'ephemeral_deleted', ephemeral });
        }
        return this.#json(res, 200, { ok: true });
      }
      default:
        throw new HttpError(404, 'not found');
    }
  }

  async #flowgate(): Promise<AppDelivery> {
    try {
      return await this.#delivery;
    } catch {
      throw new HttpError(503, 'Flowgate is not running.');
    }
  }

  async #wait(): Promise<Attached> {
    if (this.#attached) return this.#attached;
    try {
      return await this.#ready;
    } catch {
      throw new HttpError(503, 'The sandbox is not running.');
    }
  }

  /** The sandbox user a request is for; with none named, the first person (the requester). */
  #user(attached: Attached, url: URL): string {
    const user = url.searchParams.get('user') ?? attached.emulator.store.humanUserIds()[0] ?? '';
    const found = attached.emulator.user(user);
    if (!found || found.isBot) throw new HttpError(400, 'no such sandbox user');
    return found.id;
  }

  #asset(req: IncomingMessage, res: ServerResponse, name: string): void {
    const asset = this.#assets.get(name);
    if (!asset) throw new HttpError(404, 'not found');
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      'cache-control': 'no-cache',
      etag: asset.etag,
      vary: 'accept-encoding',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    res.writeHead(200, {
      ...headers,
      'content-length': String(body.length),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  // -------------------------------------------------------------------------------------------
  // What a user sees

  #visible(channel: EmulatorChannel, user: string): boolean {
    return channel.members.includes(user);
  }

  #state(attached: Attached, user: string): JsonObject {
    const { emulator } = attached;
    const store = emulator.store;
    const channels = [...store.channels.values()].filter((c) => this.#visible(c, user));
    return {
      me: user,
      workspace: {
        teamName: emulator.workspace.teamName,
        botUserId: emulator.workspace.botUserId,
        botName: emulator.workspace.botName,
        command: this.#command,
        mastra: attached.mastra,
      },
      users: [...store.users.values()].map((u) => ({
        id: u.id,
        name: u.name,
        realName: u.realName,
        isBot: u.isBot,
        ...(ROLES[u.id] ? { role: ROLES[u.id] } : {}),
      })),
      groups: [...store.userGroups.values()].map((g) => ({ id: g.id, handle: g.handle, name: g.name })),
      channels: channels.map(channelView),
      messages: Object.fromEntries(channels.map((c) => [c.id, emulator.allMessages(c.id)])),
      ephemerals: emulator.ephemerals(user),
      views: this.#views(attached, user),
    };
  }

  #views(attached: Attached, user: string): JsonObject[] {
    return attached.emulator.openViews(user).map((view) => {
      const errors = attached.emulator.viewRecord(view.id)?.errors;
      return { view, ...(errors ? { errors } : {}) };
    });
  }

  #events(req: IncomingMessage, res: ServerResponse, _attached: Attached, user: string): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\nevent: hello\ndata: {}\n\n');
    const listener: Listener = { res, user };
    this.#listeners.add(listener);
    req.on('close', () => this.#listeners.delete(listener));
  }

  #broadcast(event: EmulatorEvent): void {
    const attached = this.#attached;
    if (!attached || this.#listeners.size === 0) return;
    for (const listener of this.#listeners) {
      const delta = this.#delta(attached, event, listener.user);
      if (delta) listener.res.write(`event: ${delta.type}\ndata: ${JSON.stringify(delta.data)}\n\n`);
    }
  }

  #delta(
    attached: Attached,
    event: EmulatorEvent,
    user: string,
  ): { type: string; data: JsonObject } | undefined {
    const channel = (id: string) => attached.emulator.channel(id);
    switch (event.type) {
      case 'message_posted':
      case 'message_updated': {
        const c = channel(event.channel);
        return c && this.#visible(c, user)
          ? {
              type: 'message',
              data: {
                channel: event.channel,
                message: event.message,
                isNew: event.type === 'message_posted',
              },
            }
          : undefined;
      }
      case 'message_deleted': {
        const c = channel(event.channel);
        return c && this.#visible(c, user)
          ? { type: 'message_deleted', data: { channel: event.channel, ts: event.ts } }
          : undefined;
      }
      case 'ephemeral_posted':
      case 'ephemeral_deleted':
        return event.ephemeral.user === user
          ? {
              type: event.type === 'ephemeral_posted' ? 'ephemeral' : 'ephemeral_deleted',
              data: { ephemeral: event.ephemeral },
            }
          : undefined;
      case 'channel_changed':
        return this.#visible(event.channel, user)
          ? { type: 'channel', data: { channel: channelView(event.channel) } }
          : undefined;
      case 'view_opened':
      case 'view_updated':
      case 'view_pushed':
      case 'view_closed':
      case 'view_errors':
        return event.userId === user
          ? { type: 'views', data: { views: this.#views(attached, user) } }
          : undefined;
      default:
        return undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // What a user does

  async #commandOrMessage(attached: Attached, user: string, body: JsonObject): Promise<JsonObject> {
    const { emulator } = attached;
    const c = emulator.channel(str(body, 'channel')!);
    if (!c || !this.#visible(c, user)) throw new HttpError(400, 'no such channel');
    const text = str(body, 'text')!;
    const threadTs = str(body, 'threadTs', false);
    const slash = /^\s*(\/[^\s]+)(?:\s+([\s\S]*))?$/.exec(text);
    if (!slash) {
      if (text.trim() === '') return { ok: true };
      try {
        // Slack's client escapes what people type, as the API then returns it.
        emulator.postUserMessage(c.id, user, escapeMrkdwn(text), threadTs);
      } catch {
        throw new HttpError(400, 'no such thread');
      }
      return { ok: true };
    }
    const command = slash[1]!;
    if (command !== this.#command) {
      emulator.store.addEphemeral({
        channel: c.id,
        user,
        text: `${command} is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands. Here, try ${this.#command} help.`,
        source: 'api',
      });
      return { ok: true };
    }
    const result = await sendSlashCommand(emulator, {
      ...(await this.#flowgate()),
      command,
      text: (slash[2] ?? '').trim(),
      userId: user,
      channelId: c.id,
    }).catch((error: unknown) => ({ status: 0, error }));
    if (result.status !== 200) {
      emulator.store.addEphemeral({
        channel: c.id,
        user,
        text: `${command} failed with the error "dispatch_failed"`,
        source: 'api',
      });
      if ('error' in result) this.#logger.warn('slash command not delivered', result.error);
      return { ok: false, error: 'dispatch_failed' };
    }
    return { ok: true };
  }

  async #action(attached: Attached, user: string, body: JsonObject): Promise<JsonObject> {
    const { emulator } = attached;
    const c = emulator.channel(str(body, 'channel')!);
    if (!c || !this.#visible(c, user)) throw new HttpError(400, 'no such channel');
    const ts = str(body, 'ts')!;
    if (!emulator.message(c.id, ts) && !emulator.ephemerals(user, c.id).some((e) => e.message_ts === ts))
      throw new HttpError(404, 'no such message');
    const action = isRecord(body.action) ? safeObject(body.action) : undefined;
    const result = await sendBlockAction(emulator, {
      ...(await this.#flowgate()),
      actionId: str(body, 'actionId')!,
      userId: user,
      channelId: c.id,
      messageTs: ts,
      ...(typeof body.blockId === 'string' ? { blockId: body.blockId } : {}),
      ...(action ? { action } : {}),
    });
    return { ok: result.status === 200, status: result.status };
  }

  async #submit(attached: Attached, user: string, body: JsonObject): Promise<JsonObject> {
    const { emulator } = attached;
    const record = emulator.viewRecord(str(body, 'viewId')!);
    if (!record?.open || record.userId !== user) throw new HttpError(404, 'no such open view');
    // Slack sends the state of the view's own inputs, in its own shape; nothing else gets through.
    const inputs = new Set(
      record.view.blocks.filter((b) => b.type === 'input').map((b) => String(b.block_id)),
    );
    const values: Record<string, Record<string, unknown>> = {};
    if (isRecord(body.values)) {
      for (const [blockId, actions] of Object.entries(body.values)) {
        if (!inputs.has(blockId) || UNSAFE_KEYS.has(blockId) || !isRecord(actions)) continue;
        const entry: Record<string, unknown> = {};
        for (const [actionId, state] of Object.entries(actions)) {
          if (UNSAFE_KEYS.has(actionId) || !isRecord(state) || typeof state.type !== 'string') continue;
          entry[actionId] = safeObject(state);
        }
        values[blockId] = entry;
      }
    }
    const result = await sendViewSubmission(emulator, {
      ...(await this.#flowgate()),
      viewId: record.view.id,
      userId: user,
      values,
    });
    const action = isRecord(result.body) ? result.body.response_action : undefined;
    return {
      ok: result.status === 200,
      status: result.status,
      ...(typeof action === 'string' ? { responseAction: action } : {}),
    };
  }
}

function channelView(c: EmulatorChannel): JsonObject {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    topic: c.topic,
    isGeneral: c.isGeneral,
    ...(c.user ? { user: c.user } : {}),
  };
}

/** A JSON value re-read without prototype-bearing keys. */
function safeObject(value: JsonObject): JsonObject {
  return JSON.parse(JSON.stringify(value), (key, v) => (UNSAFE_KEYS.has(key) ? undefined : v)) as JsonObject;
}

async function readJson(req: IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_POST_BYTES) throw new HttpError(413, 'too large');
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid JSON');
  }
  if (!isRecord(parsed)) throw new HttpError(400, 'expected a JSON object');
  return parsed;
}
