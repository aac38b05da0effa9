/**
 * Flowgate's logger: one interface for the code (`debug/info/warn/error(message, detail, fields)`),
 * three outputs:
 * - `createJsonLogger`: pino, one JSON object a line (`level`, `time`, `msg`, and the fields that
 *   matter where known: `runId`, `workflow`, `channel`, `user`, `replica`), secrets redacted by the
 *   pino configuration itself (`pinoOptions`), so Bolt's lines (through `boltLogger`) are too;
 *   `format: 'pretty'` prints the same records as one readable line each, for a terminal;
 * - `createLogger`: the sandbox's short human lines on stderr;
 * - `silentLogger`.
 * Callers never pass tokens; `error` values are reduced to their name, code and message.
 */
import type { Logger as BoltLogger, LogLevel as BoltLogLevel } from '@slack/bolt';
import { type DestinationStream, type LoggerOptions, pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';

/** Ids that say what a line is about: `runId`, `workflow`, `channel`, `user`, … */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  debug(message: string, detail?: unknown, fields?: LogFields): void;
  info(message: string, detail?: unknown, fields?: LogFields): void;
  warn(message: string, detail?: unknown, fields?: LogFields): void;
  error(message: string, detail?: unknown, fields?: LogFields): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The fields of a run's lines, from what is known of it (a progress message row, or less). */
export function runFields(run: {
  runId: string;
  workflowKey?: string;
  channel?: string;
  starterId?: string | null;
}): LogFields {
  return {
    runId: run.runId,
    ...(run.workflowKey ? { workflow: run.workflowKey } : {}),
    ...(run.channel ? { channel: run.channel } : {}),
    ...(run.starterId ? { user: run.starterId } : {}),
  };
}

/** The sandbox's short human lines: `time LEVEL message detail key=value…`. */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const log = (at: LogLevel) => (message: string, detail?: unknown, fields?: LogFields) => {
    if (ORDER[at] < ORDER[level]) return;
    const suffix = detail === undefined ? '' : ` ${describe(detail)}`;
    write(`${new Date().toISOString()} ${at.toUpperCase()} ${message}${suffix}${pairs(fields)}`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function describe(detail: unknown): string {
  if (detail instanceof Error) {
    const code = (detail as { code?: unknown }).code;
    return `${detail.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${detail.message}`;
  }
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}

function pairs(fields: Readonly<Record<string, unknown>> | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null || value === '') continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    out += ` ${key}=${/[\s"]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Redaction

const REDACTED = '[redacted]';

/** Secret-looking values, wherever they are in a line: Slack tokens, bearer tokens, URL passwords. */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\bx(?:ox[abpeors]|app)-[A-Za-z0-9-]+/g, REDACTED],
  [/\b(Bearer|Basic)\s+[^\s"',]+/gi, `$1 ${REDACTED}`],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"']*):[^\s/@"']*@/gi, `$1:${REDACTED}@`],
];

/** Keys whose values are never logged (pino `redact` paths, at the top and one level down). */
const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'authToken',
  'password',
  'MASTRA_AUTH_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'FLOWGATE_METRICS_TOKEN',
];

/** `text` with every secret pattern and every one of `secrets` replaced. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function scrubDeep(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return scrub(value, secrets);
  if (typeof value !== 'object' || value === null || depth > 5) return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '__proto__') continue;
    out[key] = scrubDeep(v, secrets, depth + 1);
  }
  return out;
}

/** An error as logged: its name, code, HTTP status and message, never its stack or request. */
function errorRecord(error: Error): Record<string, unknown> {
  const { code, status } = error as { code?: unknown; status?: unknown };
  return {
    type: error.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof status === 'number' ? { status } : {}),
    message: error.message,
  };
}

/**
 * The pino options of every Flowgate JSON logger: level names, ISO times, and redaction both by
 * key (`redact`) and by value (`formatters.log` and the `logMethod` hook scrub each string of a
 * line: Slack tokens, bearer tokens, URL passwords, and the configured `secrets` themselves).
 */
export function pinoOptions(level: LogLevel, secrets: readonly string[] = []): LoggerOptions {
  const known = secrets.filter((s) => s.length >= 4);
  return {
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.headers.${key}`]),
      censor: REDACTED,
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrubDeep(object, known) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrub(arg, known) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** `json` (default): one JSON object a line; `pretty`: one readable line a record. */
  format?: LogFormat;
  /** Where lines go (each without its newline). Default: stdout. */
  write?: (line: string) => void;
  /** Values never to log, wherever they appear (the signing secret, the database password, …). */
  secrets?: readonly string[];
  /** Fields on every line (e.g. `replica`). */
  fields?: LogFields;
}

/** A pino logger behind Flowgate's `Logger` interface. */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const format = options.format ?? 'json';
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const destination: DestinationStream = {
    write: (record: string) => {
      const line = record.endsWith('\n') ? record.slice(0, -1) : record;
      write(format === 'pretty' ? prettyLine(line) : line);
    },
  };
  const root = pino(pinoOptions(options.level ?? 'info', options.secrets), destination);
  const base = options.fields ? root.child(definedOnly(options.fields)) : root;
  const log = (at: LogLevel) => (message: string, detail?: unknown, fields?: LogFields) => {
    if (!base.isLevelEnabled(at)) return;
    const record: Record<string, unknown> = fields ? definedOnly(fields) : {};
    if (detail instanceof Error) record.error = errorRecord(detail);
    else if (detail !== undefined) record.detail = detail;
    base[at](record, message);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function definedOnly(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

/** One JSON record as `HH:MM:SS.mmm LEVEL msg key=value… — Error [code]: message`. */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, error, detail, ...rest } = record;
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const label = String(level ?? '')
    .toUpperCase()
    .padEnd(5);
  let line = `${clock} ${label} ${String(msg ?? '')}${pairs(rest)}`;
  if (detail !== undefined) line += ` detail=${JSON.stringify(detail)}`;
  if (error && typeof error === 'object') {
    const e = error as { type?: unknown; code?: unknown; message?: unknown };
    line += ` — ${String(e.type ?? 'Error')}${e.code === undefined ? '' : ` [${String(e.code)}]`}: ${String(e.message ?? '')}`;
  }
  return line;
}

// ---------------------------------------------------------------------------------------------
// Bolt

/**
 * Bolt's `Logger` (and the Web API client's) over Flowgate's: Bolt's lines come out as Flowgate's
 * own (with `component: 'bolt'` and the name Bolt gives them), at `level` (LOG_LEVEL): Bolt's own
 * `setLevel` (it sets INFO when given no level) changes nothing.
 */
export function boltLogger(logger: Logger, level: LogLevel = 'info'): BoltLogger {
  let name: string | undefined;
  const at =
    (lvl: LogLevel) =>
    (...msg: unknown[]): void => {
      if (ORDER[lvl] < ORDER[level]) return;
      const errors = msg.filter((m): m is Error => m instanceof Error);
      const text = msg
        .filter((m) => !(m instanceof Error))
        .map((m) => (typeof m === 'string' ? m : describe(m)))
        .join(' ');
      logger[lvl](text || (errors[0]?.message ?? ''), errors[0], {
        component: 'bolt',
        ...(name ? { name } : {}),
      });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    setLevel() {},
    getLevel: () => level as BoltLogLevel,
    setName(next: string) {
      name = next;
    },
  };
}

export function isLogLevel(value: string): value is LogLevel {
  return (LEVELS as readonly string[]).includes(value);
}
