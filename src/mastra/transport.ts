/**
 * HTTP transport of the Mastra client, on undici: two keep-alive `Pool`s for the server's origin,
 * one for long-lived event streams and one for everything else (so calls a person waits on never
 * queue behind streams), connect/headers/body timeouts, JSON calls with p-retry where repeating is
 * safe under one overall deadline, and streaming calls whose body is handed over unread (consumed
 * with backpressure, never buffered whole).
 */
import pRetry from 'p-retry';
import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import type { z } from 'zod';
import { errorFromResponse, errorFromTransport, isMastraError, MastraError, snippetOf } from './errors.ts';
import { validateReply } from './schemas.ts';

export interface TransportOptions {
  baseUrl: string;
  apiPrefix: string;
  headers: Record<string, string>;
  /** Timeout for response headers and (JSON calls) idle time between body bytes. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Idle time allowed between chunks of a stream; 0 = none (steps may be silent for long). */
  streamIdleTimeoutMs: number;
  retries: number;
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
  /** Connections for JSON calls (the control budget). */
  connections: number;
  /** Connections for event streams (the stream budget). */
  streamConnections: number;
  /** Overall time for a JSON call, its retries and waits included. */
  deadlineMs: number;
  /** One dispatcher for both budgets instead of the transport's own pools. */
  dispatcher?: Dispatcher | undefined;
  /** Told when calls start to wait for a connection of a budget; at most once per `exhaustedNoticeMs` per budget. */
  onExhausted?: ((info: BudgetExhausted) => void) | undefined;
  exhaustedNoticeMs: number;
  /** Told of every call once it settles (a stream: once it is open or refused); must not throw. */
  onCall?: ((call: MastraCall) => void) | undefined;
}

/** One settled call, for metrics: its kind of path has ids left out (`/workflows/:workflow/runs/:run`). */
export interface MastraCall {
  method: string;
  path: string;
  /** The HTTP status of the answer, when there was one. */
  status?: number;
  ms: number;
  /** The error code (`unavailable`, `not_found`, …) when the call failed. */
  error?: string;
}

/** A path below the API prefix with the workflow and run ids left out. */
export function pathKind(path: string): string {
  const parts = path.split('/');
  return parts
    .map((part, i) => {
      const before = parts[i - 1];
      if (before === 'workflows' && part !== 'run-counts' && part !== '') return ':workflow';
      if (before === 'runs' && part !== '') return ':run';
      return part;
    })
    .join('/');
}

export type Budget = 'streams' | 'control';

export interface BudgetExhausted {
  budget: Budget;
  /** The budget's size (connections). */
  connections: number;
  /** Calls waiting for one of its connections when noticed. */
  queued: number;
}

export interface CallOptions {
  /** Aborts the call (and any retry waiting) at once: a `MastraError` with code `aborted`. */
  signal?: AbortSignal | undefined;
  /**
   * Overrides the client's `timeoutMs` for this call (e.g. a long `startAsync`); a JSON call's
   * overall deadline is then at least this long.
   */
  timeoutMs?: number | undefined;
  /** Overrides the client's overall deadline of a JSON call (retries and waits included). */
  deadlineMs?: number | undefined;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface JsonRequest<T> {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path below the API prefix, params already encoded: `/workflows/linear/runs`. */
  path: string;
  query?: Query | undefined;
  body?: unknown;
  schema: z.ZodType<T>;
  /** Retry transient failures (`unavailable`); only for requests that are safe to repeat. */
  retry: boolean;
}

export interface StreamRequest {
  method: 'POST';
  path: string;
  query?: Query | undefined;
  body?: unknown;
}

export interface OpenStream {
  url: string;
  method: string;
  /** The response body, to be iterated once. */
  body: AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown };
}

function buildQuery(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) params.append(k, String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

const MAX_ERROR_BODY = 64 * 1024;

async function readText(
  body: Dispatcher.ResponseData['body'],
  limit = Number.POSITIVE_INFINITY,
): Promise<string> {
  if (limit === Number.POSITIVE_INFINITY) return body.text();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

export class Transport {
  readonly origin: string;
  /** Base path + API prefix, e.g. `/api`. */
  readonly prefix: string;
  readonly #opts: TransportOptions;
  readonly #control: Dispatcher;
  readonly #streams: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #noticedAt: Record<Budget, number> = {
    streams: Number.NEGATIVE_INFINITY,
    control: Number.NEGATIVE_INFINITY,
  };
  readonly #baseHeaders: Record<string, string>;
  readonly #jsonHeaders: Record<string, string>;

  constructor(opts: TransportOptions) {
    const base = new URL(opts.baseUrl);
    this.origin = base.origin;
    const basePath = base.pathname.replace(/\/+$/, '');
    const apiPrefix = opts.apiPrefix === '' ? '' : `/${opts.apiPrefix.replace(/^\/+|\/+$/g, '')}`;
    this.prefix = `${basePath}${apiPrefix === '/' ? '' : apiPrefix}`;
    this.#opts = opts;
    this.#baseHeaders = { accept: 'application/json', ...opts.headers };
    this.#jsonHeaders = { ...this.#baseHeaders, 'content-type': 'application/json' };
    if (opts.dispatcher) {
      this.#control = opts.dispatcher;
      this.#streams = opts.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      const pool = (connections: number) =>
        new Pool(this.origin, {
          connections,
          // Below Node's default server keep-alive (5 s) so we never reuse a socket the server is closing.
          keepAliveTimeout: 4_000,
          keepAliveMaxTimeout: 60_000,
          connect: { timeout: opts.connectTimeoutMs },
          headersTimeout: opts.timeoutMs,
          bodyTimeout: opts.timeoutMs,
        });
      this.#control = pool(opts.connections);
      this.#streams = pool(opts.streamConnections);
      this.#ownsDispatcher = true;
    }
  }

  /** Tells `onExhausted` when the request just dispatched had to wait for a connection of `budget`. */
  #noticeQueue(budget: Budget): void {
    const notify = this.#opts.onExhausted;
    if (notify === undefined || !this.#ownsDispatcher) return;
    const pool = (budget === 'streams' ? this.#streams : this.#control) as Pool;
    const { queued } = pool.stats;
    if (queued === 0) return;
    const now = performance.now();
    if (now - this.#noticedAt[budget] < this.#opts.exhaustedNoticeMs) return;
    this.#noticedAt[budget] = now;
    const connections = budget === 'streams' ? this.#opts.streamConnections : this.#opts.connections;
    notify({ budget, connections, queued });
  }

  url(path: string, query?: Query): string {
    return `${this.origin}${this.prefix}${path}${buildQuery(query)}`;
  }

  async #send(
    budget: Budget,
    method: string,
    pathAndQuery: string,
    body: unknown,
    signal: AbortSignal | undefined,
    headersTimeout: number,
    bodyTimeout: number,
  ): Promise<Dispatcher.ResponseData> {
    // undici queues the request synchronously when every connection is busy.
    const reply = (budget === 'streams' ? this.#streams : this.#control).request({
      origin: this.origin,
      path: pathAndQuery,
      method: method as Dispatcher.HttpMethod,
      headers: body === undefined ? this.#baseHeaders : this.#jsonHeaders,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ?? null,
      headersTimeout,
      bodyTimeout,
    });
    this.#noticeQueue(budget);
    return reply;
  }

  /**
   * One JSON call; retried (p-retry) on `unavailable` only when `req.retry`. The whole call (waits
   * for a connection, attempts and retry delays) has one deadline; when it passes the call fails
   * `unavailable`.
   */
  json<T>(req: JsonRequest<T>, opts: CallOptions = {}): Promise<T> {
    return this.#timed(req, () => this.#deadlined(req, opts));
  }

  /** `call`, told to `onCall` (when set) with how long it took and how it ended. */
  async #timed<T>(req: { method: string; path: string }, call: () => Promise<T>): Promise<T> {
    if (!this.#opts.onCall) return call();
    const started = performance.now();
    try {
      const result = await call();
      this.#told(req.method, req.path, started);
      return result;
    } catch (error) {
      this.#told(req.method, req.path, started, error);
      throw error;
    }
  }

  #told(method: string, path: string, started: number, error?: unknown): void {
    try {
      const failed = error === undefined ? undefined : isMastraError(error) ? error : undefined;
      const status = failed?.status;
      this.#opts.onCall?.({
        method,
        path: pathKind(path),
        ms: performance.now() - started,
        ...(status === undefined ? {} : { status }),
        ...(error === undefined ? {} : { error: failed?.code ?? 'other' }),
      });
    } catch {
      // a metrics hook never breaks a call
    }
  }

  async #deadlined<T>(req: JsonRequest<T>, opts: CallOptions): Promise<T> {
    const pathAndQuery = `${this.prefix}${req.path}${buildQuery(req.query)}`;
    const url = `${this.origin}${pathAndQuery}`;
    const deadlineMs = opts.deadlineMs ?? Math.max(this.#opts.deadlineMs, opts.timeoutMs ?? 0);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), deadlineMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
    try {
      return await this.#json(req, pathAndQuery, url, signal, opts.timeoutMs);
    } catch (e) {
      if (deadline.signal.aborted && !opts.signal?.aborted) {
        throw new MastraError('unavailable', `No answer from ${req.method} ${url} within ${deadlineMs} ms`, {
          url,
          method: req.method,
          cause: e,
        });
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async #json<T>(
    req: JsonRequest<T>,
    pathAndQuery: string,
    url: string,
    signal: AbortSignal,
    timeoutMs: number | undefined,
  ): Promise<T> {
    const timeout = timeoutMs ?? this.#opts.timeoutMs;
    const ctx = { url, method: req.method, signal };

    const attempt = async (): Promise<T> => {
      if (signal.aborted) throw errorFromTransport(signal.reason, ctx);
      let res: Dispatcher.ResponseData;
      let text: string;
      try {
        res = await this.#send('control', req.method, pathAndQuery, req.body, signal, timeout, timeout);
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        text = await readText(res.body, ok ? Number.POSITIVE_INFINITY : MAX_ERROR_BODY);
      } catch (e) {
        throw errorFromTransport(e, ctx);
      }
      const status = res.statusCode;
      let parsed: unknown;
      let isJson = false;
      try {
        parsed = JSON.parse(text);
        isJson = true;
      } catch {
        parsed = undefined;
      }
      if (status < 200 || status >= 300) {
        throw errorFromResponse({ status, url, method: req.method, bodyText: text, body: parsed });
      }
      if (!isJson) {
        const snippet = snippetOf(text);
        throw new MastraError(
          'protocol',
          `Expected JSON from ${req.method} ${url} (HTTP ${status}, ${String(res.headers['content-type'] ?? 'no content-type')}), got: ${snippet}`,
          { status, url, method: req.method, snippet },
        );
      }
      return validateReply(req.schema, parsed, { url, method: req.method, status, bodyText: text });
    };

    if (!req.retry || this.#opts.retries <= 0) return attempt();
    try {
      return await pRetry(attempt, {
        retries: this.#opts.retries,
        minTimeout: this.#opts.retryMinDelayMs,
        maxTimeout: this.#opts.retryMaxDelayMs,
        factor: 2,
        randomize: true,
        signal,
        shouldRetry: ({ error }) => isMastraError(error, 'unavailable'),
      });
    } catch (e) {
      if (signal.aborted) throw errorFromTransport(signal.reason, ctx);
      throw e;
    }
  }

  /**
   * Opens a record stream. Errors before streaming starts (non-2xx) are thrown here as JSON errors;
   * the 2xx body is returned unread. Streaming calls are never retried.
   */
  stream(req: StreamRequest, opts: CallOptions = {}): Promise<OpenStream> {
    return this.#timed(req, () => this.#stream(req, opts));
  }

  async #stream(req: StreamRequest, opts: CallOptions): Promise<OpenStream> {
    const { signal } = opts;
    const pathAndQuery = `${this.prefix}${req.path}${buildQuery(req.query)}`;
    const url = `${this.origin}${pathAndQuery}`;
    const ctx = { url, method: req.method, signal };
    const timeout = opts.timeoutMs ?? this.#opts.timeoutMs;
    if (signal?.aborted) throw errorFromTransport(signal.reason, ctx);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send(
        'streams',
        req.method,
        pathAndQuery,
        req.body,
        signal,
        timeout,
        this.#opts.streamIdleTimeoutMs,
      );
    } catch (e) {
      throw errorFromTransport(e, ctx);
    }
    const status = res.statusCode;
    if (status < 200 || status >= 300) {
      let text: string;
      try {
        text = await readText(res.body, MAX_ERROR_BODY);
      } catch (e) {
        throw errorFromTransport(e, ctx);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw errorFromResponse({ status, url, method: req.method, bodyText: text, body: parsed });
    }
    return { url, method: req.method, body: res.body };
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await Promise.all([this.#control.close(), this.#streams.close()]);
  }
}
