import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  type Config,
  ConfigError,
  DEFAULTS,
  type Env,
  loadConfig,
  readDotEnv,
  redact,
} from '../src/config.ts';

const BOT = 'xoxb-1111-2222-SECRETBOTVALUE';
const APP = 'xapp-1-A111-SECRETAPPVALUE';
const SIGNING = 'SECRETSIGNINGVALUE0123456789abcd';
const MASTRA_TOKEN = 'SECRETMASTRATOKEN';

const socketEnv = (extra: Env = {}): Env => ({
  SLACK_BOT_TOKEN: BOT,
  SLACK_APP_TOKEN: APP,
  MASTRA_URL: 'http://localhost:4111',
  ...extra,
});

const httpEnv = (extra: Env = {}): Env => ({
  SLACK_BOT_TOKEN: BOT,
  SLACK_SIGNING_SECRET: SIGNING,
  MASTRA_URL: 'http://localhost:4111',
  ...extra,
});

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig', () => {
  test('minimal Socket Mode config gets every default', () => {
    const config = loadConfig(socketEnv());
    expect(config).toEqual({
      slack: { botToken: BOT, mode: 'socket', appToken: APP },
      slackApiUrl: 'https://slack.com/api/',
      command: '/flowgate',
      mastra: { url: 'http://localhost:4111', apiPrefix: '/api', streams: 48, connections: 16 },
      admins: [],
      dbPath: '.flowgate/flowgate.db',
      leaseMs: 15_000,
      updateIntervalMs: 1000,
      updatesPerMinute: 50,
      watchIntervalMs: 5000,
      retentionDays: 30,
      logLevel: 'info',
      logFormat: 'json',
    } satisfies Config);
    expect('policyPath' in config).toBe(false);
    expect('metricsToken' in config).toBe(false);
    expect('opsPort' in config).toBe(false);
    expect('authToken' in config.mastra).toBe(false);
  });

  test('operations: LOG_FORMAT, FLOWGATE_METRICS_TOKEN, FLOWGATE_OPS_PORT', () => {
    const config = loadConfig(
      socketEnv({ LOG_FORMAT: 'Pretty', FLOWGATE_METRICS_TOKEN: 'scrape-secret', FLOWGATE_OPS_PORT: '9464' }),
    );
    expect(config.logFormat).toBe('pretty');
    expect(config.metricsToken).toBe('scrape-secret');
    expect(config.opsPort).toBe(9464);
    expect(redact(config).metricsToken).toBe('***');
  });

  test('HTTP mode with the default port', () => {
    expect(loadConfig(httpEnv()).slack).toEqual({
      botToken: BOT,
      mode: 'http',
      signingSecret: SIGNING,
      port: DEFAULTS.port,
    });
    expect(DEFAULTS.port).toBe(3000);
  });

  test('HTTP mode with an explicit port, including 0 and 65535', () => {
    for (const port of [0, 8080, 65535]) {
      const config = loadConfig(httpEnv({ PORT: String(port) }));
      expect(config.slack.mode === 'http' && config.slack.port).toBe(port);
    }
  });

  test('both app token and signing secret: Socket Mode wins', () => {
    const config = loadConfig(socketEnv({ SLACK_SIGNING_SECRET: SIGNING, PORT: '4000' }));
    expect(config.slack).toEqual({ botToken: BOT, mode: 'socket', appToken: APP });
  });

  test('every optional variable is read', () => {
    const config = loadConfig(
      socketEnv({
        SLACK_API_URL: 'http://localhost:9999/api',
        MASTRA_URL: 'https://mastra.example.com/base/',
        MASTRA_API_PREFIX: 'v2/api/',
        MASTRA_AUTH_TOKEN: MASTRA_TOKEN,
        SLACK_COMMAND: '/run-flow_2',
        FLOWGATE_POLICY: './policy.yaml',
        FLOWGATE_ADMINS: ' U0ADMIN1, W0ADMIN2 ,,U0ADMIN1',
        FLOWGATE_DB: ':memory:',
        FLOWGATE_UPDATE_INTERVAL_MS: '100',
        FLOWGATE_UPDATES_PER_MINUTE: '20',
        FLOWGATE_WATCH_INTERVAL_MS: '250',
        FLOWGATE_MASTRA_STREAMS: '200',
        FLOWGATE_MASTRA_CONNECTIONS: '8',
        LOG_LEVEL: 'DEBUG',
      }),
    );
    expect(config.slackApiUrl).toBe('http://localhost:9999/api/');
    expect(config.mastra).toEqual({
      url: 'https://mastra.example.com/base',
      apiPrefix: '/v2/api',
      authToken: MASTRA_TOKEN,
      streams: 200,
      connections: 8,
    });
    expect(config.command).toBe('/run-flow_2');
    expect(config.policyPath).toBe('./policy.yaml');
    expect(config.admins).toEqual(['U0ADMIN1', 'W0ADMIN2']);
    expect(config.dbPath).toBe(':memory:');
    expect(config.updateIntervalMs).toBe(100);
    expect(config.updatesPerMinute).toBe(20);
    expect(config.watchIntervalMs).toBe(250);
    expect(config.logLevel).toBe('debug');
  });

  test('MASTRA_API_PREFIX "/" means no prefix', () => {
    expect(loadConfig(socketEnv({ MASTRA_API_PREFIX: '/' })).mastra.apiPrefix).toBe('');
  });

  test('SLACK_API_URL already ending in / is kept', () => {
    expect(loadConfig(socketEnv({ SLACK_API_URL: 'https://proxy.example/slack/' })).slackApiUrl).toBe(
      'https://proxy.example/slack/',
    );
  });

  test('each log level is accepted', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      expect(loadConfig(socketEnv({ LOG_LEVEL: level })).logLevel).toBe(level);
    }
  });

  test('empty and whitespace-only values count as unset', () => {
    const config = loadConfig(
      socketEnv({ SLACK_COMMAND: '', LOG_LEVEL: '  ', FLOWGATE_POLICY: '', SLACK_SIGNING_SECRET: '' }),
    );
    expect(config.command).toBe('/flowgate');
    expect(config.logLevel).toBe('info');
    expect(config.policyPath).toBeUndefined();
    expect(() => loadConfig(socketEnv({ SLACK_BOT_TOKEN: '   ' }))).toThrow(/SLACK_BOT_TOKEN is missing/);
  });

  test('values are trimmed', () => {
    const config = loadConfig(socketEnv({ SLACK_BOT_TOKEN: ` ${BOT}\n`, MASTRA_URL: ' http://m:1 ' }));
    expect(config.slack.botToken).toBe(BOT);
    expect(config.mastra.url).toBe('http://m:1');
  });

  describe('errors', () => {
    test('empty environment names every required variable at once', () => {
      const error = configError({});
      expect(error.problems).toEqual([
        "SLACK_BOT_TOKEN is missing: the bot token (xoxb-…) from your Slack app's OAuth & Permissions page",
        expect.stringMatching(
          /^SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is missing: for Socket Mode set SLACK_APP_TOKEN .*xapp-.*; for HTTP mode set SLACK_SIGNING_SECRET/,
        ),
        expect.stringMatching(/^MASTRA_URL is missing: .*http\(s\) URL/),
      ]);
      expect(error.message.split('\n')).toHaveLength(4);
      expect(error.message).toContain('(3 problems)');
    });

    test('lists every malformed variable, one per line, with what was expected', () => {
      const error = configError({
        SLACK_BOT_TOKEN: 'xoxp-user-token-SECRET1',
        SLACK_APP_TOKEN: 'app-token-SECRET2',
        SLACK_API_URL: 'ftp://slack.example',
        MASTRA_URL: 'not a url SECRET3',
        MASTRA_API_PREFIX: '/api?x=1',
        MASTRA_AUTH_TOKEN: 'two words SECRET4',
        SLACK_COMMAND: 'Flowgate',
        FLOWGATE_ADMINS: 'U0OK1,bob,u0lower',
        FLOWGATE_UPDATE_INTERVAL_MS: '99',
        LOG_LEVEL: 'verbose',
        LOG_FORMAT: 'colourful',
        FLOWGATE_METRICS_TOKEN: 'two words',
        FLOWGATE_OPS_PORT: '99999',
        PORT: '70000',
      });
      const names = error.problems.map((p) => p.split(' ')[0]);
      expect(names.sort()).toEqual(
        [
          'SLACK_BOT_TOKEN',
          'SLACK_APP_TOKEN',
          'PORT',
          'SLACK_API_URL',
          'MASTRA_URL',
          'MASTRA_API_PREFIX',
          'MASTRA_AUTH_TOKEN',
          'SLACK_COMMAND',
          'FLOWGATE_ADMINS',
          'FLOWGATE_UPDATE_INTERVAL_MS',
          'LOG_LEVEL',
          'LOG_FORMAT',
          'FLOWGATE_METRICS_TOKEN',
          'FLOWGATE_OPS_PORT',
        ].sort(),
      );
      for (const problem of error.problems) expect(problem).toMatch(/ is malformed.*: expected /);
      expect(error.message.split('\n')).toHaveLength(error.problems.length + 1);
      for (const problem of error.problems) expect(error.message).toContain(problem);

      const byName = (name: string) => error.problems.find((p) => p.startsWith(`${name} `))!;
      expect(byName('SLACK_BOT_TOKEN')).toContain('user token');
      expect(byName('SLACK_APP_TOKEN')).toContain('does not start with xapp-');
      expect(byName('PORT')).toContain('"70000"');
      expect(byName('PORT')).toContain('0 to 65535');
      expect(byName('SLACK_COMMAND')).toContain('"Flowgate"');
      expect(byName('FLOWGATE_ADMINS')).toContain('"bob", "u0lower" are not a user ID');
      expect(byName('FLOWGATE_ADMINS')).not.toContain('U0OK1');
      expect(byName('FLOWGATE_UPDATE_INTERVAL_MS')).toContain('≥ 100');
      expect(byName('LOG_LEVEL')).toContain('debug, info, warn, error');
    });

    test('no secret value ever appears in the message', () => {
      const secrets = [
        'xoxp-user-token-SECRET1',
        'xapp-SECRET2 x',
        'SECRET3',
        'two words SECRET4',
        'sig SECRET5',
      ];
      const error = configError({
        SLACK_BOT_TOKEN: secrets[0],
        SLACK_APP_TOKEN: secrets[1],
        MASTRA_URL: `https://user:${secrets[2]}@/bad url`,
        MASTRA_AUTH_TOKEN: secrets[3],
      });
      expect(error.problems.length).toBeGreaterThanOrEqual(4);
      expect(error.message).not.toMatch(/SECRET/);

      const httpError = configError({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: secrets[4] });
      expect(httpError.message).toContain('SLACK_SIGNING_SECRET is malformed');
      expect(httpError.message).not.toMatch(/SECRET5/);
      expect(httpError.message).not.toContain(BOT);
    });

    test('swapped tokens get a hint', () => {
      const error = configError({ SLACK_BOT_TOKEN: APP, SLACK_APP_TOKEN: BOT, MASTRA_URL: 'http://m' });
      expect(error.problems[0]).toContain('SLACK_BOT_TOKEN is malformed (it looks like an app-level token');
      expect(error.problems[1]).toContain('SLACK_APP_TOKEN is malformed (it looks like a bot token');
      expect(error.message).not.toContain('SECRET');
    });

    test('token prefix alone is not a token', () => {
      expect(configError(socketEnv({ SLACK_BOT_TOKEN: 'xoxb-' })).problems).toEqual([
        expect.stringMatching(/^SLACK_BOT_TOKEN is malformed/),
      ]);
    });

    test('PORT must be a plain integer in range', () => {
      for (const bad of ['-1', '65536', '3000.5', 'abc', '1e3', '0x10']) {
        expect(configError(httpEnv({ PORT: bad })).problems).toEqual([
          expect.stringMatching(/^PORT is malformed/),
        ]);
      }
    });

    test('a malformed app token does not fall back to HTTP mode', () => {
      expect(configError(httpEnv({ SLACK_APP_TOKEN: 'nope' })).problems).toEqual([
        expect.stringMatching(/^SLACK_APP_TOKEN is malformed/),
      ]);
    });

    test('URLs must be http(s)', () => {
      expect(configError(socketEnv({ MASTRA_URL: 'ws://mastra' })).problems).toEqual([
        expect.stringMatching(/^MASTRA_URL is malformed/),
      ]);
      expect(configError(socketEnv({ MASTRA_URL: 'http://m/?q=1' })).problems).toEqual([
        expect.stringMatching(/^MASTRA_URL is malformed \(it must not contain a query or fragment\)/),
      ]);
      expect(configError(socketEnv({ SLACK_API_URL: 'slack.com/api' })).problems).toEqual([
        expect.stringMatching(/^SLACK_API_URL is malformed/),
      ]);
    });

    test('SLACK_COMMAND rules', () => {
      const ok = `/${'a'.repeat(31)}`;
      expect(loadConfig(socketEnv({ SLACK_COMMAND: ok })).command).toBe(ok);
      for (const bad of [`/${'a'.repeat(32)}`, 'flowgate', '/Flowgate', '/flow gate', '/flow.gate', '/']) {
        expect(configError(socketEnv({ SLACK_COMMAND: bad })).problems).toEqual([
          expect.stringMatching(/^SLACK_COMMAND is malformed/),
        ]);
      }
    });

    test('FLOWGATE_UPDATE_INTERVAL_MS must be an integer ≥ 100', () => {
      for (const bad of ['0', '99', '-100', '150.5', 'fast']) {
        expect(configError(socketEnv({ FLOWGATE_UPDATE_INTERVAL_MS: bad })).problems).toEqual([
          expect.stringMatching(/^FLOWGATE_UPDATE_INTERVAL_MS is malformed/),
        ]);
      }
    });

    test('FLOWGATE_UPDATES_PER_MINUTE must be an integer ≥ 1', () => {
      for (const bad of ['0', '-5', '2.5', 'lots']) {
        expect(configError(socketEnv({ FLOWGATE_UPDATES_PER_MINUTE: bad })).problems).toEqual([
          expect.stringMatching(/^FLOWGATE_UPDATES_PER_MINUTE is malformed/),
        ]);
      }
    });

    test('FLOWGATE_WATCH_INTERVAL_MS must be an integer ≥ 250', () => {
      for (const bad of ['249', '0', '1e4', 'often']) {
        expect(configError(socketEnv({ FLOWGATE_WATCH_INTERVAL_MS: bad })).problems).toEqual([
          expect.stringMatching(/^FLOWGATE_WATCH_INTERVAL_MS is malformed.*≥ 250 \(default 5000\)/),
        ]);
      }
    });

    test('FLOWGATE_MASTRA_STREAMS and FLOWGATE_MASTRA_CONNECTIONS must be integers ≥ 1', () => {
      for (const bad of ['0', '-1', '1.5', '48k']) {
        expect(
          configError(socketEnv({ FLOWGATE_MASTRA_STREAMS: bad, FLOWGATE_MASTRA_CONNECTIONS: bad })).problems,
        ).toEqual([
          expect.stringMatching(/^FLOWGATE_MASTRA_STREAMS is malformed.*≥ 1 \(default 48\)/),
          expect.stringMatching(/^FLOWGATE_MASTRA_CONNECTIONS is malformed.*≥ 1 \(default 16\)/),
        ]);
      }
      const config = loadConfig(
        socketEnv({ FLOWGATE_MASTRA_STREAMS: '1', FLOWGATE_MASTRA_CONNECTIONS: '64' }),
      );
      expect(config.mastra.streams).toBe(1);
      expect(config.mastra.connections).toBe(64);
    });

    test('FLOWGATE_LEASE_MS must be an integer ≥ 1000; FLOWGATE_DB may be a PostgreSQL URL', () => {
      for (const bad of ['999', '0', '15s']) {
        expect(configError(socketEnv({ FLOWGATE_LEASE_MS: bad })).problems).toEqual([
          expect.stringMatching(/^FLOWGATE_LEASE_MS is malformed.*≥ 1000 \(default 15000\)/),
        ]);
      }
      expect(loadConfig(socketEnv({ FLOWGATE_LEASE_MS: '5000' })).leaseMs).toBe(5000);
      const url = 'postgres://flowgate:s3cret@db.internal:5432/flowgate';
      expect(loadConfig(socketEnv({ FLOWGATE_DB: url })).dbPath).toBe(url);
      for (const bad of ['postgres://flowgate:s3cret@/flowgate', 'postgresql://flowgate:s3cret@db:5432/']) {
        const problems = configError(socketEnv({ FLOWGATE_DB: bad })).problems;
        expect(problems).toEqual([
          expect.stringMatching(/^FLOWGATE_DB is malformed \((names no (host|database)|is not a valid URL)/),
        ]);
        expect(problems.join('\n')).not.toContain('s3cret');
      }
    });

    test('FLOWGATE_ADMINS rejects group IDs (admins are users)', () => {
      expect(configError(socketEnv({ FLOWGATE_ADMINS: 'S0GROUP' })).problems).toEqual([
        expect.stringMatching(/^FLOWGATE_ADMINS is malformed/),
      ]);
    });
  });
});

describe('redact', () => {
  test('masks tokens in Socket Mode and keeps everything else', () => {
    const config = loadConfig(socketEnv({ MASTRA_AUTH_TOKEN: MASTRA_TOKEN, FLOWGATE_ADMINS: 'U0A1' }));
    const safe = redact(config);
    const text = JSON.stringify(safe);
    expect(text).not.toContain('SECRET');
    expect(safe.slack).toEqual({ botToken: 'xoxb-***', mode: 'socket', appToken: 'xapp-***' });
    expect(safe.mastra).toEqual({
      url: 'http://localhost:4111',
      apiPrefix: '/api',
      authToken: '***',
      streams: 48,
      connections: 16,
    });
    expect(safe.admins).toEqual(['U0A1']);
    expect(safe.command).toBe(config.command);
    // the original is untouched
    expect(config.slack.botToken).toBe(BOT);
    expect(config.mastra.authToken).toBe(MASTRA_TOKEN);
  });

  test('masks the signing secret in HTTP mode and credentials in URLs', () => {
    const config = loadConfig(httpEnv({ MASTRA_URL: 'https://me:SECRETPASS@mastra.example' }));
    const safe = redact(config);
    expect(JSON.stringify(safe)).not.toContain('SECRET');
    expect(safe.slack).toEqual({ botToken: 'xoxb-***', mode: 'http', signingSecret: '***', port: 3000 });
    expect(safe.mastra.url).toBe('https://***:***@mastra.example/');
    expect('authToken' in safe.mastra).toBe(false);
  });
});

describe('readDotEnv', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('loads variables without overriding ones already set', () => {
    const path = join(dir, '.env');
    writeFileSync(
      path,
      [
        '# comment',
        'SLACK_BOT_TOKEN=xoxb-from-file',
        'MASTRA_URL="http://from-file:4111"',
        'LOG_LEVEL=debug',
        'SLACK_COMMAND=/from-file',
        'export FLOWGATE_DB=/tmp/x.db',
      ].join('\n'),
    );
    const env: Env = { SLACK_BOT_TOKEN: BOT, SLACK_COMMAND: '' };
    const loaded = readDotEnv(path, env);
    expect(loaded.sort()).toEqual(['FLOWGATE_DB', 'LOG_LEVEL', 'MASTRA_URL']);
    expect(env).toEqual({
      SLACK_BOT_TOKEN: BOT,
      SLACK_COMMAND: '',
      MASTRA_URL: 'http://from-file:4111',
      LOG_LEVEL: 'debug',
      FLOWGATE_DB: '/tmp/x.db',
    });
  });

  test('a missing file is fine', () => {
    const env: Env = {};
    expect(readDotEnv(join(dir, 'nope.env'), env)).toEqual([]);
    expect(env).toEqual({});
  });

  test('an unreadable path is a ConfigError', () => {
    expect(() => readDotEnv(dir, {})).toThrow(ConfigError);
  });

  test('defaults to .env in the working directory and process.env', () => {
    const cwd = process.cwd();
    const name = 'FLOWGATE_TEST_DOTENV_ONLY';
    const kept = 'FLOWGATE_TEST_DOTENV_KEPT';
    writeFileSync(join(dir, '.env'), `${name}=from-file\n${kept}=from-file\n`);
    process.env[kept] = 'real';
    try {
      process.chdir(dir);
      expect(readDotEnv()).toEqual([name]);
      expect(process.env[name]).toBe('from-file');
      expect(process.env[kept]).toBe('real');
    } finally {
      process.chdir(cwd);
      delete process.env[name];
      delete process.env[kept];
    }
  });

  test('loaded variables feed loadConfig', () => {
    const path = join(dir, '.env');
    writeFileSync(path, `SLACK_APP_TOKEN=${APP}\nMASTRA_URL=http://m:1\n`);
    const env: Env = { SLACK_BOT_TOKEN: BOT };
    readDotEnv(path, env);
    expect(loadConfig(env).slack.mode).toBe('socket');
  });
});
