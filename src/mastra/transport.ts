/**
 * HTTP transport of the Mastra client, on undici: a keep-alive `Pool` for the server's origin,
 * connect/headers/body timeouts, JSON calls with p-retry where repeating is safe, and streaming
 * calls whose body is handed over unread (consumed with backpressure, never buffered whole).
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
  connections: number;
  dispatcher?: Dispatcher | undefined;
}

export interface CallOptions {
  /** Aborts the call (and any retry waiting) at once: a `MastraError` with code `aborted`. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for this call (e.g. a long `startAsync`). */
  timeoutMs?: number | undefined;
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
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
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
      this.#dispatcher = opts.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      this.#dispatcher = new Pool(this.origin, {
        connections: opts.connections,
        // Below Node's default server keep-alive (5 s) so we never reuse a socket the server is closing.
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 60_000,
        connect: { timeout: opts.connectTimeoutMs },
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      this.#ownsDispatcher = true;
    }
  }

  url(path: string, query?: Query): string {
    return `${this.origin}${this.prefix}${path}${buildQuery(query)}`;
  }

  async #send(
    method: string,
    pathAndQuery: string,
    body: unknown,
    signal: AbortSignal | undefined,
    headersTimeout: number,
    bodyTimeout: number,
  ): Promise<Dispatcher.ResponseData> {
    return this.#dispatcher.request({
      origin: this.origin,
      path: pathAndQuery,
      method: method as Dispatcher.HttpMethod,
      headers: body === undefined ? this.#baseHeaders : this.#jsonHeaders,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ?? null,
      headersTimeout,
      bodyTimeout,
    });
  }

  /** One JSON call; retried (p-retry) on `unavailable` only when `req.retry`. */
  async json<T>(req: JsonRequest<T>, opts: CallOptions = {}): Promise<T> {
    const { signal } = opts;
    const pathAndQuery = `${this.prefix}${req.path}${buildQuery(req.query)}`;
    const url = `${this.origin}${pathAndQuery}`;
    const timeout = opts.timeoutMs ?? this.#opts.timeoutMs;
    const ctx = { url, method: req.method, signal };

    const attempt = async (): Promise<T> => {
      if (signal?.aborted) throw errorFromTransport(signal.reason, ctx);
      let res: Dispatcher.ResponseData;
      let text: string;
      try {
        res = await this.#send(req.method, pathAndQuery, req.body, signal, timeout, timeout);
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
      if (signal?.aborted) throw errorFromTransport(signal.reason, ctx);
      throw e;
    }
  }

  /**
   * Opens a record stream. Errors before streaming starts (non-2xx) are thrown here as JSON errors;
   * the 2xx body is returned unread. Streaming calls are never retried.
   */
  async stream(req: StreamRequest, opts: CallOptions = {}): Promise<OpenStream> {
    const { signal } = opts;
    const pathAndQuery = `${this.prefix}${req.path}${buildQuery(req.query)}`;
    const url = `${this.origin}${pathAndQuery}`;
    const ctx = { url, method: req.method, signal };
    const timeout = opts.timeoutMs ?? this.#opts.timeoutMs;
    if (signal?.aborted) throw errorFromTransport(signal.reason, ctx);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send(
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
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}
