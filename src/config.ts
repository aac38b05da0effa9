/**
 * Environment → typed, validated configuration.
 *
 * `loadConfig()` reads every variable, collects every problem, and throws one `ConfigError` that lists
 * them all (one per line, each saying what was expected), so a misconfigured deployment is fixed in one
 * go. Secret values (tokens, signing secret, URLs that may carry credentials) never appear in messages.
 *
 * Slack connection mode:
 * - `SLACK_APP_TOKEN` set → Socket Mode. If `SLACK_SIGNING_SECRET` is also set it is ignored
 *   (Socket Mode does not sign requests), and so is `PORT` (it is still validated if given).
 * - otherwise `SLACK_SIGNING_SECRET` set → HTTP mode, listening on `PORT` (default 3000).
 * - neither → error.
 *
 * `.env` files: call `readDotEnv()` before `loadConfig()`; it copies variables from `.env` (if the file
 * exists) into `process.env` without overriding variables that are already set.
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { isPostgresUrl, postgresUrlProblem } from './store/postgres.ts';
import { isUserId } from './util/slack-ids.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type Env = Record<string, string | undefined>;

export interface SocketSlackConfig {
  botToken: string;
  mode: 'socket';
  appToken: string;
}

export interface HttpSlackConfig {
  botToken: string;
  mode: 'http';
  signingSecret: string;
  port: number;
}

export type SlackConfig = SocketSlackConfig | HttpSlackConfig;

export interface MastraConfig {
  /** Base URL of the Mastra server, without a trailing slash (e.g. `http://localhost:4111`). */
  url: string;
  /** Path prefix of the Mastra API: starts with `/`, no trailing slash; `''` when the API is at the root. */
  apiPrefix: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  authToken?: string;
  /** Connections for runs' live event streams (the runs beyond them are followed by the shared check). Default 48. */
  streams?: number;
  /** Connections for every other call (lists, details, starting, answering, canceling, run state). Default 16. */
  connections?: number;
}

export interface Config {
  slack: SlackConfig;
  /** Slack Web API base URL, always ending with `/`. */
  slackApiUrl: string;
  /** The slash command, e.g. `/flowgate`. */
  command: string;
  mastra: MastraConfig;
  policyPath?: string;
  /** Slack user IDs with admin rights (merged with the policy file's `admins`). */
  admins: string[];
  /** SQLite file path, `:memory:`, or a postgres:// URL (several replicas on one database). */
  dbPath: string;
  /** How long a replica's hold on a run lasts without renewal: another replica takes over within it. */
  leaseMs?: number;
  updateIntervalMs: number;
  /** The workspace-wide budget of progress message edits (`chat.update`) per minute. */
  updatesPerMinute: number;
  /** How often the Mastra server is checked for runs Flowgate did not start (and steps answered elsewhere). */
  watchIntervalMs: number;
  /** How long what Flowgate keeps of a finished run stays in the database, in days (default 30). */
  retentionDays?: number;
  logLevel: LogLevel;
  /** `json` (default): one JSON object a line; `pretty`: one readable line, for a terminal. */
  logFormat?: LogFormat;
  /** When set, `GET /metrics` wants `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** The port of a small HTTP server for `/metrics`, `/healthz` and `/readyz` only (Socket Mode has no other; none when unset). */
  opsPort?: number;
}

export const DEFAULTS = {
  port: 3000,
  slackApiUrl: 'https://slack.com/api/',
  mastraApiPrefix: '/api',
  command: '/flowgate',
  dbPath: '.flowgate/flowgate.db',
  updateIntervalMs: 1000,
  updatesPerMinute: 50,
  watchIntervalMs: 5000,
  retentionDays: 30,
  leaseMs: 15_000,
  mastraStreams: 48,
  mastraConnections: 16,
  logLevel: 'info',
} as const satisfies {
  port: number;
  slackApiUrl: string;
  mastraApiPrefix: string;
  command: string;
  dbPath: string;
  updateIntervalMs: number;
  updatesPerMinute: number;
  watchIntervalMs: number;
  retentionDays: number;
  leaseMs: number;
  mastraStreams: number;
  mastraConnections: number;
  logLevel: LogLevel;
};

export const MIN_UPDATE_INTERVAL_MS = 100;
export const MIN_WATCH_INTERVAL_MS = 250;
export const MIN_LEASE_MS = 1000;

/** Thrown by `loadConfig` / `readDotEnv`; `problems` holds one line per problem. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const header =
      problems.length === 1
        ? 'Flowgate configuration is invalid (1 problem):'
        : `Flowgate configuration is invalid (${problems.length} problems):`;
    super([header, ...problems.map((p) => `  - ${p}`)].join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const WHAT = {
  SLACK_BOT_TOKEN: "the bot token (xoxb-…) from your Slack app's OAuth & Permissions page",
  SLACK_APP_TOKEN:
    "an app-level token (xapp-…) with the connections:write scope, from your Slack app's Basic Information page",
  SLACK_SIGNING_SECRET: "the signing secret from your Slack app's Basic Information page",
  PORT: 'the HTTP port to listen on in HTTP mode, an integer from 0 to 65535 (default 3000)',
  SLACK_API_URL: 'the Slack Web API base URL, an http(s) URL (default https://slack.com/api/)',
  MASTRA_URL: 'the base URL of your Mastra server, an http(s) URL such as http://localhost:4111',
  MASTRA_API_PREFIX: 'the path prefix of the Mastra API such as /api (default /api; "/" for none)',
  MASTRA_AUTH_TOKEN: 'a bearer token for the Mastra server, one word without spaces',
  SLACK_COMMAND:
    'the slash command: "/" followed by lowercase letters, digits, "-" or "_", at most 32 characters in all (default /flowgate)',
  FLOWGATE_ADMINS: 'comma-separated Slack user IDs such as U0123ABCD,W0456EFGH',
  FLOWGATE_UPDATE_INTERVAL_MS: `the minimum time between progress message edits in milliseconds, an integer ≥ ${MIN_UPDATE_INTERVAL_MS} (default 1000)`,
  FLOWGATE_UPDATES_PER_MINUTE:
    "the most progress message edits per minute for the whole workspace, an integer ≥ 1 (default 50, Slack's chat.update tier)",
  FLOWGATE_RETENTION_DAYS:
    'how many days what Flowgate keeps of a finished run stays in its database, a whole number ≥ 1 (default 30)',
  FLOWGATE_WATCH_INTERVAL_MS: `how often the Mastra server is checked for runs started outside Slack, in milliseconds, an integer ≥ ${MIN_WATCH_INTERVAL_MS} (default 5000)`,
  FLOWGATE_DB:
    'a SQLite file path (default .flowgate/flowgate.db) or a PostgreSQL URL such as postgres://user:password@host:5432/flowgate',
  FLOWGATE_LEASE_MS: `how long a replica holds a run it follows without renewing, in milliseconds, an integer ≥ ${MIN_LEASE_MS} (default 15000): another replica takes over a stopped one's runs within it`,
  FLOWGATE_MASTRA_STREAMS:
    'how many live event streams of runs are held open to the Mastra server at once, an integer ≥ 1 (default 48)',
  FLOWGATE_MASTRA_CONNECTIONS:
    'how many connections every other call to the Mastra server (lists, starting, answering, run state) may use, an integer ≥ 1 (default 16)',
  LOG_LEVEL: `one of ${LOG_LEVELS.join(', ')} (default info)`,
  LOG_FORMAT: `one of ${LOG_FORMATS.join(', ')} (default json)`,
  FLOWGATE_METRICS_TOKEN: 'a bearer token GET /metrics asks for, one word without spaces',
  FLOWGATE_OPS_PORT:
    'the port of an HTTP server for /metrics, /healthz and /readyz only (in Socket Mode their only one), an integer from 0 to 65535',
} as const;

const COMMAND = /^\/[a-z0-9_-]+$/;
const MAX_COMMAND_LENGTH = 32;

/** A short, safe rendering of a non-secret value for error messages. */
function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

function isHttpUrl(value: string): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/**
 * Reads and validates the configuration. Empty or whitespace-only values count as unset.
 * @throws ConfigError listing every missing or malformed variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const missing = (name: keyof typeof WHAT) => problems.push(`${name} is missing: ${WHAT[name]}`);
  const malformed = (name: keyof typeof WHAT, detail?: string) =>
    problems.push(`${name} is malformed${detail ? ` (${detail})` : ''}: expected ${WHAT[name]}`);

  /** A whole-number setting of at least `min`: its value, `fallback` when unset, a problem when malformed. */
  const wholeNumber = (name: keyof typeof WHAT, min: number, fallback: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min) return n;
    malformed(name, `got ${shown(raw)}`);
    return fallback;
  };

  // --- Slack tokens (never echoed) -------------------------------------------------------------
  const token = (name: 'SLACK_BOT_TOKEN' | 'SLACK_APP_TOKEN', prefix: string): string | undefined => {
    const value = get(name);
    if (value === undefined) return undefined;
    if (!value.startsWith(prefix) || value.length === prefix.length || /\s/.test(value)) {
      let hint: string | undefined;
      if (name === 'SLACK_BOT_TOKEN' && value.startsWith('xapp-'))
        hint = 'it looks like an app-level token, which belongs in SLACK_APP_TOKEN';
      else if (name === 'SLACK_APP_TOKEN' && value.startsWith('xoxb-'))
        hint = 'it looks like a bot token, which belongs in SLACK_BOT_TOKEN';
      else if (value.startsWith('xoxp-')) hint = 'it looks like a user token; Flowgate needs the bot token';
      else if (/\s/.test(value)) hint = 'it contains whitespace';
      else hint = `it does not start with ${prefix}`;
      malformed(name, hint);
      return undefined;
    }
    return value;
  };

  const botToken = token('SLACK_BOT_TOKEN', 'xoxb-');
  if (get('SLACK_BOT_TOKEN') === undefined) missing('SLACK_BOT_TOKEN');

  const appTokenRaw = get('SLACK_APP_TOKEN');
  const appToken = token('SLACK_APP_TOKEN', 'xapp-');
  const signingSecret = get('SLACK_SIGNING_SECRET');

  let port: number = DEFAULTS.port;
  const portRaw = get('PORT');
  if (portRaw !== undefined) {
    const n = /^\d{1,5}$/.test(portRaw) ? Number(portRaw) : Number.NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 65535) port = n;
    else malformed('PORT', `got ${shown(portRaw)}`);
  }

  if (appTokenRaw === undefined && signingSecret === undefined) {
    problems.push(
      'SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is missing: for Socket Mode set SLACK_APP_TOKEN ' +
        `(${WHAT.SLACK_APP_TOKEN}); for HTTP mode set SLACK_SIGNING_SECRET (${WHAT.SLACK_SIGNING_SECRET}) and optionally PORT`,
    );
  } else if (signingSecret !== undefined && appTokenRaw === undefined && /\s/.test(signingSecret)) {
    problems.push(
      `SLACK_SIGNING_SECRET is malformed (it contains whitespace): expected ${WHAT.SLACK_SIGNING_SECRET}`,
    );
  }

  // --- URLs (not echoed: they may carry credentials) -------------------------------------------
  let slackApiUrl: string = DEFAULTS.slackApiUrl;
  const slackApiUrlRaw = get('SLACK_API_URL');
  if (slackApiUrlRaw !== undefined) {
    const url = isHttpUrl(slackApiUrlRaw);
    if (url) slackApiUrl = url.href.endsWith('/') ? url.href : `${url.href}/`;
    else malformed('SLACK_API_URL', 'not an http(s) URL');
  }

  let mastraUrl: string | undefined;
  const mastraUrlRaw = get('MASTRA_URL');
  if (mastraUrlRaw === undefined) missing('MASTRA_URL');
  else {
    const url = isHttpUrl(mastraUrlRaw);
    if (!url) malformed('MASTRA_URL', 'not an http(s) URL');
    else if (url.search || url.hash) malformed('MASTRA_URL', 'it must not contain a query or fragment');
    else mastraUrl = url.href.replace(/\/+$/, '');
  }

  let apiPrefix: string = DEFAULTS.mastraApiPrefix;
  const apiPrefixRaw = get('MASTRA_API_PREFIX');
  if (apiPrefixRaw !== undefined) {
    if (/^[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(apiPrefixRaw) && !apiPrefixRaw.includes('//')) {
      const trimmed = apiPrefixRaw.replace(/^\/+|\/+$/g, '');
      apiPrefix = trimmed === '' ? '' : `/${trimmed}`;
    } else malformed('MASTRA_API_PREFIX', `got ${shown(apiPrefixRaw)}`);
  }

  const authToken = get('MASTRA_AUTH_TOKEN');
  if (authToken !== undefined && /\s/.test(authToken))
    malformed('MASTRA_AUTH_TOKEN', 'it contains whitespace');

  const streams = wholeNumber('FLOWGATE_MASTRA_STREAMS', 1, DEFAULTS.mastraStreams);

  const connections = wholeNumber('FLOWGATE_MASTRA_CONNECTIONS', 1, DEFAULTS.mastraConnections);

  // --- Everything else ---------------------------------------------------------------------------
  let command: string = DEFAULTS.command;
  const commandRaw = get('SLACK_COMMAND');
  if (commandRaw !== undefined) {
    if (COMMAND.test(commandRaw) && commandRaw.length <= MAX_COMMAND_LENGTH) command = commandRaw;
    else malformed('SLACK_COMMAND', `got ${shown(commandRaw)}`);
  }

  const policyPath = get('FLOWGATE_POLICY');

  const admins: string[] = [];
  const adminsRaw = get('FLOWGATE_ADMINS');
  if (adminsRaw !== undefined) {
    const bad: string[] = [];
    for (const entry of adminsRaw.split(',')) {
      const id = entry.trim();
      if (id === '') continue;
      if (!isUserId(id)) bad.push(id);
      else if (!admins.includes(id)) admins.push(id);
    }
    if (bad.length > 0)
      malformed(
        'FLOWGATE_ADMINS',
        `${bad.map(shown).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not a user ID`,
      );
  }

  const dbPath = get('FLOWGATE_DB') ?? DEFAULTS.dbPath;
  if (isPostgresUrl(dbPath)) {
    const problem = postgresUrlProblem(dbPath);
    if (problem) malformed('FLOWGATE_DB', problem); // never shown: it may hold a password
  }

  const leaseMs = wholeNumber('FLOWGATE_LEASE_MS', MIN_LEASE_MS, DEFAULTS.leaseMs);

  const updateIntervalMs = wholeNumber(
    'FLOWGATE_UPDATE_INTERVAL_MS',
    MIN_UPDATE_INTERVAL_MS,
    DEFAULTS.updateIntervalMs,
  );

  const updatesPerMinute = wholeNumber('FLOWGATE_UPDATES_PER_MINUTE', 1, DEFAULTS.updatesPerMinute);

  const watchIntervalMs = wholeNumber(
    'FLOWGATE_WATCH_INTERVAL_MS',
    MIN_WATCH_INTERVAL_MS,
    DEFAULTS.watchIntervalMs,
  );

  const retentionDays = wholeNumber('FLOWGATE_RETENTION_DAYS', 1, DEFAULTS.retentionDays);

  let logLevel: LogLevel = DEFAULTS.logLevel;
  const logLevelRaw = get('LOG_LEVEL');
  if (logLevelRaw !== undefined) {
    const level = LOG_LEVELS.find((l) => l === logLevelRaw.toLowerCase());
    if (level) logLevel = level;
    else malformed('LOG_LEVEL', `got ${shown(logLevelRaw)}`);
  }

  let logFormat: LogFormat = 'json';
  const logFormatRaw = get('LOG_FORMAT');
  if (logFormatRaw !== undefined) {
    const format = LOG_FORMATS.find((f) => f === logFormatRaw.toLowerCase());
    if (format) logFormat = format;
    else malformed('LOG_FORMAT', `got ${shown(logFormatRaw)}`);
  }

  const metricsToken = get('FLOWGATE_METRICS_TOKEN');
  if (metricsToken !== undefined && /\s/.test(metricsToken))
    malformed('FLOWGATE_METRICS_TOKEN', 'it contains whitespace');

  let opsPort: number | undefined;
  const opsPortRaw = get('FLOWGATE_OPS_PORT');
  if (opsPortRaw !== undefined) {
    const n = /^\d{1,5}$/.test(opsPortRaw) ? Number(opsPortRaw) : Number.NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 65535) opsPort = n;
    else malformed('FLOWGATE_OPS_PORT', `got ${shown(opsPortRaw)}`);
  }

  if (problems.length > 0 || botToken === undefined || mastraUrl === undefined)
    throw new ConfigError(problems);

  let slack: SlackConfig;
  if (appToken !== undefined) slack = { botToken, mode: 'socket', appToken };
  else if (signingSecret !== undefined) slack = { botToken, mode: 'http', signingSecret, port };
  else throw new ConfigError(problems); // unreachable: covered by the checks above

  const mastra: MastraConfig = { url: mastraUrl, apiPrefix, streams, connections };
  if (authToken !== undefined) mastra.authToken = authToken;

  const config: Config = {
    slack,
    slackApiUrl,
    command,
    mastra,
    admins,
    dbPath,
    leaseMs,
    updateIntervalMs,
    updatesPerMinute,
    watchIntervalMs,
    retentionDays,
    logLevel,
    logFormat,
  };
  if (policyPath !== undefined) config.policyPath = policyPath;
  if (metricsToken !== undefined) config.metricsToken = metricsToken;
  if (opsPort !== undefined) config.opsPort = opsPort;
  return config;
}

/**
 * Loads variables from a `.env` file (default: `.env` in the working directory) into `env`
 * (default: `process.env`), never overriding a variable that is already set — real environment
 * variables win. A missing file is not an error. Returns the names of the variables it set.
 * @throws ConfigError when the file exists but cannot be read.
 */
export function readDotEnv(path = '.env', env: Env = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new ConfigError([
      `${path} could not be read (${code ?? String(error)}): expected a readable .env file`,
    ]);
  }
  const loaded: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    loaded.push(name);
  }
  return loaded;
}

function mask(secret: string, prefix?: string): string {
  return prefix !== undefined && secret.startsWith(prefix) ? `${prefix}***` : '***';
}

function maskUrl(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (url.username === '' && url.password === '') return value;
  url.username = url.username === '' ? '' : '***';
  url.password = url.password === '' ? '' : '***';
  return url.href;
}

/** A copy of `config` safe to log: tokens and secrets masked, URL credentials hidden. */
export function redact(config: Config): Config {
  const slack: SlackConfig =
    config.slack.mode === 'socket'
      ? {
          ...config.slack,
          botToken: mask(config.slack.botToken, 'xoxb-'),
          appToken: mask(config.slack.appToken, 'xapp-'),
        }
      : {
          ...config.slack,
          botToken: mask(config.slack.botToken, 'xoxb-'),
          signingSecret: mask(config.slack.signingSecret),
        };
  const mastra: MastraConfig = { ...config.mastra, url: maskUrl(config.mastra.url) };
  if (config.mastra.authToken !== undefined) mastra.authToken = mask(config.mastra.authToken);
  const safe: Config = {
    ...config,
    slack,
    slackApiUrl: maskUrl(config.slackApiUrl),
    mastra,
    admins: [...config.admins],
  };
  if (config.metricsToken !== undefined) safe.metricsToken = mask(config.metricsToken);
  return safe;
}
