/**
 * A local Slack Web API emulator on `node:http` (127.0.0.1, port 0 by default).
 *
 *   const emulator = await startSlackEmulator();
 *   new App({ token: emulator.botToken, clientOptions: { slackApiUrl: emulator.apiUrl }, … });
 *
 * Routes: `POST|GET /api/<method>` (form-urlencoded, JSON or multipart bodies), `POST /response/<id>`
 * (response URLs handed out with slash commands / interactions built by ./requests.ts), and Socket
 * Mode: `apps.connections.open` with the app token, then a WebSocket at `/socket-mode` (./socket.ts).
 * Like Slack, it is for programs: requests (and WebSocket upgrades) not addressed to it on
 * loopback (`Host: 127.0.0.1:PORT`), or sent cross-site by a browser, are refused (src/loopback.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../listen.ts';
import { loopbackOnly } from '../loopback.ts';
import { SlackApiError } from './errors.ts';
import { DEFAULT_LIMITS, type EmulatorLimits } from './limits.ts';
import { METHODS } from './methods.ts';
import { normalizeParams, Params } from './params.ts';
import { type RateLimitAnswer, RateLimiter, type RateLimitSetting } from './rate-limit.ts';
import { handleResponseUrl } from './response-url.ts';
import { SocketModeServer } from './socket.ts';
import type {
  CallLogEntry,
  EmulatorChannel,
  EmulatorListener,
  EmulatorUser,
  EphemeralMessage,
  JsonObject,
  ResponseUrlRecord,
  SlackMessage,
  SlackView,
  ViewRecord,
  Workspace,
} from './types.ts';
import { type ChannelSeed, EmulatorStore, type UserSeed, type WorkspaceSeed } from './workspace.ts';

export interface StartSlackEmulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`: a loopback address (it answers requests addressed to it there only). */
  host?: string;
  /** The bot token the API accepts. Default `xoxb-emulator-token`. */
  botToken?: string;
  /** The app-level token `apps.connections.open` (Socket Mode) accepts. Default `xapp-emulator-token`. */
  appToken?: string;
  /** More accepted tokens (e.g. a user token). */
  extraTokens?: string[];
  /** The (deprecated) verification token put in `token` of commands/interactions. */
  verificationToken?: string;
  workspace?: WorkspaceSeed;
  /** Clock in epoch ms (rate limits, trigger and response URL expiry, message ts). Default `Date.now`. */
  now?: () => number;
  /** Per-method overrides (merged over the defaults), or `false` to disable all rate limits. */
  rateLimits?: Record<string, RateLimitSetting> | false;
  limits?: Partial<EmulatorLimits>;
  /** Base of permalinks and auth.test `url`. Default `https://emulator.slack.local`. */
  webBaseUrl?: string;
  /** Sent as `x-oauth-scopes`. */
  scopes?: string[];
}

/** How `scriptCalls` answers one call. */
export type ScriptedAnswer = { status: number; retryAfter?: number } | { error: string } | 'lost';

const DEFAULT_SCOPES = [
  'commands',
  'chat:write',
  'chat:write.public',
  'im:write',
  'users:read',
  'users:read.email',
  'usergroups:read',
  'channels:read',
  'groups:read',
  'im:read',
  'mpim:read',
];
const MAX_BODY_BYTES = 10 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function parseBody(
  req: IncomingMessage,
  raw: Buffer,
): Promise<JsonObject | 'invalid_json' | 'invalid_form_data'> {
  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  const text = raw.toString('utf8');
  if (contentType.includes('application/json')) {
    if (text.trim() === '') return {};
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as JsonObject)
        : 'invalid_json';
    } catch {
      return 'invalid_json';
    }
  }
  if (contentType.includes('multipart/form-data')) {
    try {
      const form = await new Response(new Uint8Array(raw), {
        headers: { 'content-type': contentType },
      }).formData();
      const out: JsonObject = {};
      for (const [key, value] of form.entries())
        out[key] = typeof value === 'string' ? value : `[file ${value.name}]`;
      return out;
    } catch {
      return 'invalid_form_data';
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type':
      typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

export class SlackEmulator {
  readonly store: EmulatorStore;
  readonly rateLimiter: RateLimiter;
  readonly botToken: string;
  readonly appToken: string;
  readonly verificationToken: string;
  /** Socket Mode connections of apps; `socketMode.send(…)` delivers an envelope to the app. */
  readonly socketMode: SocketModeServer;
  readonly #tokens: Set<string>;
  readonly #scopes: string[];
  readonly #host: string;
  readonly #port: number;
  #server: Server | undefined;
  #url = '';
  #seq = 0;
  readonly #failures = new Map<string, { remaining: number; status: number }>();
  readonly #scripts: { method: string; answers: ScriptedAnswer[]; match: (params: JsonObject) => boolean }[] =
    [];

  constructor(options: StartSlackEmulatorOptions = {}) {
    const now = options.now ?? Date.now;
    this.store = new EmulatorStore({
      ...(options.workspace ? { seed: options.workspace } : {}),
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      now,
      webBaseUrl: options.webBaseUrl ?? 'https://emulator.slack.local',
    });
    this.rateLimiter = new RateLimiter(now, options.rateLimits);
    this.botToken = options.botToken ?? 'xoxb-emulator-token';
    this.appToken = options.appToken ?? 'xapp-emulator-token';
    this.socketMode = new SocketModeServer({ appId: this.store.workspace.appId });
    this.verificationToken = options.verificationToken ?? 'emulator-verification-token';
    this.#tokens = new Set([this.botToken, ...(options.extraTokens ?? [])]);
    this.#scopes = options.scopes ?? DEFAULT_SCOPES;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
  }

  /** Starts listening (done by {@link startSlackEmulator}). */
  async listen(): Promise<this> {
    if (this.#server) return this;
    const server = loopbackOnly(
      createServer((req, res) => {
        this.#handle(req, res).catch((error: unknown) => {
          if (!res.headersSent) send(res, 500, { ok: false, error: 'fatal_error', detail: String(error) });
          else res.destroy();
        });
      }),
    );
    const port = await listen(server, this.#port, this.#host);
    this.#server = server;
    this.socketMode.attach(server);
    this.#url = `http://${this.#host}:${port}`;
    this.store.responseUrlBase = `${this.#url}/response/`;
    return this;
  }

  /** Closes the server and its open connections. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.socketMode.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return this.#url;
  }

  /** `http://127.0.0.1:PORT/api/` — pass as `slackApiUrl`. */
  get apiUrl(): string {
    return `${this.#url}/api/`;
  }

  get port(): number {
    return Number(new URL(this.#url).port);
  }

  get workspace(): Workspace {
    return this.store.workspace;
  }

  get limits(): EmulatorLimits {
    return this.store.limits;
  }

  /** Every API call, oldest first. */
  get calls(): readonly CallLogEntry[] {
    return this.store.calls;
  }

  callsOf(method: string): CallLogEntry[] {
    return this.store.calls.filter((c) => c.method === method);
  }

  /** Watch every change (calls, messages, views, …). Returns an unsubscribe function. */
  subscribe(listener: EmulatorListener): () => void {
    return this.store.subscribe(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Rate limits

  /** Sets (or with `undefined` restores the default of) one method's limit, e.g. `{ perMinute: 50 }`. */
  setRateLimit(method: string, setting: RateLimitSetting | undefined): void {
    this.rateLimiter.set(method, setting);
  }

  setRateLimitsEnabled(enabled: boolean): void {
    this.rateLimiter.enabled = enabled;
  }

  /**
   * The next `count` calls of `method` (0: none any more) are rate limited: HTTP 429 with
   * `Retry-After: retryAfterSeconds`, or with `{ status: 200 }` HTTP 200
   * `{ ok: false, error: 'ratelimited' }` without a Retry-After header. Either way the call does
   * nothing and is logged `rateLimited`.
   */
  forceRateLimit(
    method: string,
    count = 1,
    retryAfterSeconds = 1,
    options: { status?: RateLimitAnswer } = {},
  ): void {
    this.rateLimiter.force(method, count, retryAfterSeconds, options.status ?? 429);
  }

  resetRateLimits(): void {
    this.rateLimiter.reset();
  }

  // -------------------------------------------------------------------------------------------
  // Failures

  /**
   * The next `count` calls of `method` (default 1; `Infinity` until called again with `count: 0`)
   * answer HTTP `status` (default 500) and do nothing, as when Slack itself fails: before the
   * token, the rate limits and the method are looked at.
   */
  failCalls(method: string, options: { status?: number; count?: number } = {}): void {
    const { status = 500, count = 1 } = options;
    if (!Number.isInteger(status) || status < 400 || status > 599)
      throw new RangeError(`failCalls: status must be an HTTP error status (400-599), not ${status}`);
    if (count <= 0) this.#failures.delete(method);
    else this.#failures.set(method, { remaining: count, status });
  }

  /**
   * The next calls of `method` that `match` accepts (default: every one) get `answers`, one each,
   * in order; then calls are answered as usual again. Scripts of one method apply in the order
   * given. An answer is an HTTP error (`{ status, retryAfter? }`: nothing done; a 429 says
   * `ratelimited` with its Retry-After), Slack's `ok: false` (`{ error }`, e.g. `ratelimited`:
   * nothing done), or `'lost'`: the call takes effect, then the connection is cut before the
   * answer goes out — as when Slack did the work and its answer never arrived.
   */
  scriptCalls(
    method: string,
    answers: ScriptedAnswer[],
    match: (params: JsonObject) => boolean = () => true,
  ): void {
    for (const answer of answers) {
      if (typeof answer === 'object' && 'status' in answer && (answer.status < 400 || answer.status > 599))
        throw new RangeError(
          `scriptCalls: status must be an HTTP error status (400-599), not ${answer.status}`,
        );
    }
    if (answers.length > 0) this.#scripts.push({ method, answers: [...answers], match });
  }

  /** Forgets every script of `scriptCalls` not played out yet. */
  clearScripts(): void {
    this.#scripts.length = 0;
  }

  /** The scripted answer due for this call, if any (taken from its script). */
  #scripted(method: string, params: JsonObject): ScriptedAnswer | undefined {
    const index = this.#scripts.findIndex((s) => s.method === method && s.match(params));
    if (index < 0) return undefined;
    const script = this.#scripts[index]!;
    const answer = script.answers.shift();
    if (script.answers.length === 0) this.#scripts.splice(index, 1);
    return answer;
  }

  /** The status of an injected failure for this call of `method`, if one is due. */
  #failure(method: string): number | undefined {
    const failure = this.#failures.get(method);
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.#failures.delete(method);
    return failure.status;
  }

  // -------------------------------------------------------------------------------------------
  // Workspace & state helpers

  user(id: string): EmulatorUser | undefined {
    return this.store.users.get(id);
  }

  addUser(seed: UserSeed): EmulatorUser {
    return this.store.addUser(seed);
  }

  channel(idOrName: string): EmulatorChannel | undefined {
    return this.store.findChannel(idOrName);
  }

  addChannel(seed: ChannelSeed): EmulatorChannel {
    return this.store.addChannel(seed);
  }

  updateChannel(id: string, patch: Parameters<EmulatorStore['updateChannel']>[1]): EmulatorChannel {
    return this.store.updateChannel(id, patch);
  }

  /** The bot's DM with a user, if opened. */
  imWith(userId: string): EmulatorChannel | undefined {
    return [...this.store.channels.values()].find((c) => c.type === 'im' && c.user === userId);
  }

  /** Top-level messages of a channel, oldest first. */
  messages(channelId: string): SlackMessage[] {
    return this.store.topLevel(channelId);
  }

  /** Every stored message of a channel (replies included), oldest first. */
  allMessages(channelId: string): SlackMessage[] {
    return [...this.store.channelMessages(channelId)];
  }

  message(channelId: string, ts: string): SlackMessage | undefined {
    return this.store.findMessage(channelId, ts);
  }

  /** Parent + replies, oldest first. */
  thread(channelId: string, threadTs: string): SlackMessage[] {
    return this.store.thread(channelId, threadTs);
  }

  ephemerals(userId?: string, channelId?: string): EphemeralMessage[] {
    if (userId === undefined) return this.store.ephemerals.filter((e) => !e.deleted);
    return this.store.ephemeralsFor(userId, channelId);
  }

  view(viewId: string): SlackView | undefined {
    return this.store.getView(viewId);
  }

  viewRecord(viewId: string): ViewRecord | undefined {
    return this.store.views.get(viewId);
  }

  /** The user's open modal stack, root first. */
  openViews(userId: string): SlackView[] {
    return (this.store.viewStacks.get(userId) ?? [])
      .map((id) => this.store.getView(id))
      .filter((v): v is SlackView => v !== undefined);
  }

  /** Issue a trigger_id as an interaction by `userId` would (optionally from inside a modal). */
  issueTriggerId(userId: string, options: { viewId?: string; channelId?: string } = {}): string {
    return this.store.issueTrigger({ userId, ...options }).id;
  }

  createResponseUrl(fields: Omit<ResponseUrlRecord, 'id' | 'url' | 'createdAt' | 'uses'>): ResponseUrlRecord {
    return this.store.createResponseUrl(fields);
  }

  responseUrl(urlOrId: string): ResponseUrlRecord | undefined {
    const id = urlOrId.startsWith(this.store.responseUrlBase)
      ? urlOrId.slice(this.store.responseUrlBase.length)
      : urlOrId;
    return this.store.responseUrls.get(id);
  }

  /** A human user writes in a channel (for a UI). */
  postUserMessage(channelId: string, userId: string, text: string, threadTs?: string): SlackMessage {
    const channel = this.store.findChannel(channelId);
    if (!channel) throw new Error(`unknown channel ${channelId}`);
    return this.store.insertMessage(channel.id, this.store.userMessage(userId, text), threadTs);
  }

  /** The user closes a view (✕ / Cancel). */
  closeView(viewId: string): void {
    const record = this.store.views.get(viewId);
    if (!record) return;
    if (record.view.clear_on_close) this.store.closeStack(record.userId);
    else this.store.closeView(viewId);
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    if (url.pathname.startsWith('/api/')) {
      await this.#handleApi(req, res, decodeURIComponent(url.pathname.slice('/api/'.length)), url, raw);
      return;
    }
    if (url.pathname.startsWith('/response/') && req.method === 'POST') {
      const id = decodeURIComponent(url.pathname.slice('/response/'.length));
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        const payload = new URLSearchParams(raw.toString('utf8')).get('payload');
        try {
          body = payload === null ? undefined : JSON.parse(payload);
        } catch {
          body = undefined;
        }
      }
      const result = handleResponseUrl(this.store, id, body);
      send(res, result.status, result.body);
      return;
    }
    send(res, 404, 'not found');
  }

  async #handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    raw: Buffer,
  ): Promise<void> {
    const store = this.store;
    const time = store.now();
    const parsed = await parseBody(req, raw);
    const fields: JsonObject = { ...Object.fromEntries(url.searchParams) };
    let parseError: string | undefined;
    if (typeof parsed === 'string') parseError = parsed;
    else Object.assign(fields, parsed);
    const normalized = normalizeParams(fields);
    const { token: bodyToken, ...logged } = normalized;

    let lost = false;
    const finish = (status: number, response: JsonObject, rateLimited = false, retryAfter?: number): void => {
      this.#seq += 1;
      const entry: CallLogEntry = {
        seq: this.#seq,
        method,
        params: logged,
        time,
        status,
        response,
        rateLimited,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
        ...(lost ? { lost } : {}),
      };
      store.calls.push(entry);
      store.emit({ type: 'call', entry });
      if (lost) {
        res.socket?.destroy(); // done, but the caller never hears so
        return;
      }
      send(res, status, response, {
        'x-oauth-scopes': this.#scopes.join(','),
        ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
      });
    };

    const failed = this.#failure(method);
    if (failed !== undefined) {
      finish(failed, { ok: false, error: 'emulated_http_error' });
      return;
    }
    const scripted = this.#scripted(method, normalized);
    if (scripted === 'lost') lost = true;
    else if (scripted && 'error' in scripted) {
      finish(200, { ok: false, error: scripted.error });
      return;
    } else if (scripted) {
      const limited = scripted.status === 429;
      const error = limited ? 'ratelimited' : 'emulated_http_error';
      finish(scripted.status, { ok: false, error }, limited, scripted.retryAfter);
      return;
    }
    const socketOpen = method === 'apps.connections.open';
    const handler = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
    if (!handler && !socketOpen) {
      finish(200, { ok: false, error: 'unknown_method', req_method: method });
      return;
    }
    if (parseError !== undefined) {
      finish(200, { ok: false, error: parseError });
      return;
    }
    const authorization = String(req.headers.authorization ?? '');
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    const token = bearer ?? (typeof bodyToken === 'string' && bodyToken !== '' ? bodyToken : undefined);
    if (token === undefined) {
      finish(200, { ok: false, error: 'not_authed' });
      return;
    }
    // The app-level token opens Socket Mode connections and is good for nothing else.
    const appToken = token === this.appToken;
    if (socketOpen !== appToken) {
      const known = appToken || this.#tokens.has(token);
      finish(200, { ok: false, error: known ? 'not_allowed_token_type' : 'invalid_auth' });
      return;
    }
    if (socketOpen) {
      finish(200, { ok: true, url: this.socketMode.connectionUrl(this.#url) });
      return;
    }
    if (!this.#tokens.has(token) || !handler) {
      finish(200, { ok: false, error: 'invalid_auth' });
      return;
    }
    const channelArg = typeof normalized.channel === 'string' ? normalized.channel : undefined;
    const channelKey =
      channelArg === undefined ? undefined : (store.findChannel(channelArg)?.id ?? channelArg);
    const decision = this.rateLimiter.check(method, channelKey);
    if (decision.limited) {
      if (decision.status === 200) finish(200, { ok: false, error: 'ratelimited' }, true);
      else finish(429, { ok: false, error: 'ratelimited' }, true, decision.retryAfter);
      return;
    }
    try {
      finish(200, handler({ store, params: new Params(normalized) }));
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      finish(200, { ok: false, error: error.error, ...error.extra });
    }
  }
}

/** Starts an emulator listening on 127.0.0.1 (port 0 by default). */
export async function startSlackEmulator(options: StartSlackEmulatorOptions = {}): Promise<SlackEmulator> {
  return new SlackEmulator(options).listen();
}
