/**
 * Typed errors of the Mastra workflow client. One class, `MastraError`, with a stable `code`.
 * Errors are classified by the server's message first (docs/mastra.md, Errors), then by status.
 */

import { truncate } from '../util/truncate.ts';
import type { RunStatus, StepPath } from './types.ts';
import { RUN_STATUSES } from './types.ts';

export const MASTRA_ERROR_CODES = [
  /** 404 `Workflow not found` (unknown workflow id / registry key, or a nested workflow). */
  'workflow_not_found',
  /** 404 `Workflow run not found`. */
  'run_not_found',
  /** 400: request validation (`issues`), `Invalid input data`, `Invalid resume data`, missing step choice. */
  'invalid_input',
  /** Resume of a run (or step) that is not suspended. `suspendedSteps` lists what is, when known. */
  'not_suspended',
  /** 409: another caller already claimed this suspended run. */
  'already_resumed',
  /** The run already reached a terminal status (`runStatus`): stream of a terminal run, cancel of a finished run. */
  'already_finished',
  /** Connection refused/reset, timeouts, 5xx (after retries where retrying is safe). */
  'unavailable',
  /** The server's reply is not what the protocol says: non-JSON body, malformed record, truncated stream. */
  'protocol',
  /** The caller aborted (AbortSignal) or stopped reading. */
  'aborted',
  /** Any other HTTP error. */
  'http',
] as const;
export type MastraErrorCode = (typeof MASTRA_ERROR_CODES)[number];

export interface ValidationIssue {
  field: string;
  message: string;
}

/** Where in a record stream a protocol error happened. */
export interface StreamPosition {
  /** 0-based index of the record (counting every non-empty record of this response). */
  record: number;
  /** 0-based byte offset of the record's first byte in this response body. */
  byte: number;
}

export interface MastraErrorOptions {
  status?: number;
  /** The server's own message (`{"error": "..."}`), when there was one. */
  serverMessage?: string;
  url?: string;
  method?: string;
  cause?: unknown;
  issues?: ValidationIssue[];
  suspendedSteps?: StepPath[];
  runStatus?: RunStatus;
  position?: StreamPosition;
  snippet?: string;
  /** Records of the stream consumed before the failure (an `observe({ offset })` resumes after them). */
  recordsReceived?: number;
}

export class MastraError extends Error {
  override readonly name = 'MastraError';
  readonly code: MastraErrorCode;
  readonly status: number | undefined;
  readonly serverMessage: string | undefined;
  readonly url: string | undefined;
  readonly method: string | undefined;
  /** `invalid_input`: the server's zod issues (`[{ field, message }]`) when it sent them. */
  readonly issues: ValidationIssue[] | undefined;
  /** `not_suspended` / `invalid_input`: the suspended step paths the server listed. */
  readonly suspendedSteps: StepPath[] | undefined;
  /** `already_finished`: the status the run had already reached. */
  readonly runStatus: RunStatus | undefined;
  /** `protocol`: where in the stream it happened. */
  readonly position: StreamPosition | undefined;
  /** `protocol`: the start of the offending body or record. */
  readonly snippet: string | undefined;
  readonly recordsReceived: number | undefined;

  constructor(code: MastraErrorCode, message: string, opts: MastraErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status;
    this.serverMessage = opts.serverMessage;
    this.url = opts.url;
    this.method = opts.method;
    this.issues = opts.issues;
    this.suspendedSteps = opts.suspendedSteps;
    this.runStatus = opts.runStatus;
    this.position = opts.position;
    this.snippet = opts.snippet;
    this.recordsReceived = opts.recordsReceived;
  }
}

/** True when `e` is a `MastraError` (of `code`, if given). */
export function isMastraError<C extends MastraErrorCode>(
  e: unknown,
  code?: C,
): e is MastraError & { code: C } {
  return e instanceof MastraError && (code === undefined || e.code === code);
}

const SNIPPET_LENGTH = 120;

/** The first `SNIPPET_LENGTH` characters of a body or record (then "…" when cut), for error messages. */
export function snippetOf(text: string): string {
  return truncate(text, SNIPPET_LENGTH + 1);
}

/**
 * Reads the step lists of core's resume errors:
 * - `paths`: `Multiple suspended steps found: [a], [inner, inner-approve]`: one bracket per path;
 * - `ids`: `Available suspended steps: [a, b]`: one bracket of top-level step ids.
 */
function parseStepList(list: string, mode: 'paths' | 'ids'): StepPath[] {
  const paths: StepPath[] = [];
  for (const m of list.matchAll(/\[([^\]]*)\]/g)) {
    const parts = (m[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (mode === 'paths') {
      if (parts.length > 0) paths.push(parts);
    } else {
      for (const p of parts) paths.push([p]);
    }
  }
  return paths;
}

function parseRunStatus(message: string): RunStatus | undefined {
  const m = /status\s+\\?"?([a-z]+)\\?"?/i.exec(message);
  const s = m?.[1]?.toLowerCase();
  return s !== undefined && (RUN_STATUSES as readonly string[]).includes(s) ? (s as RunStatus) : undefined;
}

export interface HttpErrorContext {
  status: number;
  url: string;
  method: string;
  /** The raw body text (possibly truncated). */
  bodyText: string;
  /** The parsed JSON body, when it was JSON. */
  body: unknown;
}

function readIssues(body: unknown): ValidationIssue[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const issues = (body as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  const out: ValidationIssue[] = [];
  for (const i of issues) {
    if (typeof i === 'object' && i !== null) {
      const { field, message } = i as { field?: unknown; message?: unknown };
      out.push({ field: typeof field === 'string' ? field : 'root', message: String(message ?? '') });
    }
  }
  return out;
}

/** Maps a non-2xx reply to a `MastraError`, by the server's message first and then by status. */
export function errorFromResponse(ctx: HttpErrorContext): MastraError {
  const { status, url, method, body } = ctx;
  const serverMessage =
    typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : undefined;
  const msg = serverMessage ?? ctx.bodyText.trim();
  const base = { status, url, method, serverMessage };
  const where = `${method} ${url}`;
  const text = `${msg} (HTTP ${status} from ${where})`;

  if (/workflow run not found/i.test(msg)) return new MastraError('run_not_found', text, base);
  if (/^workflow not found/i.test(msg) || /\bworkflow not found\b/i.test(msg)) {
    return new MastraError('workflow_not_found', text, base);
  }
  if (/already (been )?resumed|already claimed|RESUME_ALREADY_CLAIMED/i.test(msg)) {
    return new MastraError('already_resumed', text, base);
  }
  if (/already finished/i.test(msg)) {
    return new MastraError('already_finished', text, { ...base, runStatus: parseRunStatus(msg) });
  }
  if (/multiple suspended steps found/i.test(msg)) {
    const list = /found:\s*(.*?)(?:\.\s*Please|$)/is.exec(msg)?.[1] ?? '';
    return new MastraError('invalid_input', text, { ...base, suspendedSteps: parseStepList(list, 'paths') });
  }
  if (/not suspended|no suspended steps/i.test(msg)) {
    const list = /available suspended steps:\s*(.*)$/is.exec(msg)?.[1];
    return new MastraError('not_suspended', text, {
      ...base,
      suspendedSteps:
        list === undefined ? (/no suspended steps/i.test(msg) ? [] : undefined) : parseStepList(list, 'ids'),
    });
  }
  if (
    status === 400 ||
    status === 422 ||
    /^invalid (input|resume) data|^invalid (request body|query parameters|path parameters)/i.test(msg)
  ) {
    return new MastraError('invalid_input', text, { ...base, issues: readIssues(body) });
  }
  if (status >= 500) return new MastraError('unavailable', text, base);
  if (status === 404 && serverMessage === undefined) {
    // Hono's own text/plain 404: the route does not exist (wrong apiPrefix or server version).
    return new MastraError('http', `Route not found: ${where} answered "${snippetOf(msg)}" (HTTP 404)`, base);
  }
  return new MastraError('http', text, base);
}

interface ErrnoLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
}

/** Maps an error thrown by the transport (undici, sockets, aborts) to a `MastraError`. */
export function errorFromTransport(
  e: unknown,
  ctx: { url: string; method: string; signal?: AbortSignal | undefined; recordsReceived?: number },
): MastraError {
  if (e instanceof MastraError) return e;
  const where = `${ctx.method} ${ctx.url}`;
  const err = (typeof e === 'object' && e !== null ? e : {}) as ErrnoLike;
  const code = typeof err.code === 'string' ? err.code : undefined;
  const name = typeof err.name === 'string' ? err.name : undefined;
  const detail = typeof err.message === 'string' ? err.message : String(e);
  const opts = { url: ctx.url, method: ctx.method, cause: e, recordsReceived: ctx.recordsReceived };
  if (ctx.signal?.aborted || name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return new MastraError('aborted', `Request aborted: ${where}`, opts);
  }
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return new MastraError('unavailable', `Timed out (${code}) waiting for ${where}`, opts);
  }
  return new MastraError(
    'unavailable',
    `Mastra server unavailable: ${where}: ${detail}${code ? ` (${code})` : ''}`,
    opts,
  );
}
