/**
 * `npm start` as a user runs it: `src/main.ts` in a child process, configured by the environment,
 * against a real Mastra server and the Slack emulator. Tokens never reach its output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type JsonObject,
  type SlackEmulator,
  sendSlashCommand,
  startSlackEmulator,
} from '../../src/emulator/index.ts';
import { openStore } from '../../src/store/index.ts';
import { ALICE, GENERAL, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/main.ts');

let mastra: MastraTestServer;
let emulator: SlackEmulator;
let dir: string;
beforeAll(async () => {
  mastra = await startMastraServer();
  emulator = await startSlackEmulator({
    botToken: 'xoxb-secret-bot-token',
    appToken: 'xapp-secret-app-token',
  });
  dir = mkdtempSync(join(tmpdir(), 'flowgate-main-'));
});
afterAll(async () => {
  await emulator?.close();
  await mastra?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** Runs `src/main.ts` with only `env` (plus PATH), in an empty folder so no `.env` is read. */
function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [MAIN], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += String(chunk)));
  child.stderr?.on('data', (chunk) => (output += String(chunk)));
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exit };
}

/**
 * `npm start` in the project, as a container or a service manager runs it, in a process group of
 * its own (so that a node it failed to stop can be found and killed).
 */
function npmStart(env: Record<string, string>): Started {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += String(chunk)));
  child.stderr?.on('data', (chunk) => (output += String(chunk)));
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exit };
}

/** True while any process of the group led by `pid` is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The exit code, or 'still running' (and the process killed) after 20 s. */
async function exitWithin(run: Started): Promise<number | null | 'still running'> {
  const code = await Promise.race([
    run.exit,
    new Promise<'still running'>((done) => setTimeout(() => done('still running'), 20_000)),
  ]);
  if (code === 'still running') run.child.kill('SIGKILL');
  return code;
}

function socketEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: emulator.botToken,
    SLACK_APP_TOKEN: emulator.appToken,
    SLACK_API_URL: emulator.apiUrl,
    MASTRA_URL: mastra.url,
    FLOWGATE_DB: join(dir, 'flowgate.db'),
    LOG_LEVEL: 'debug',
    ...overrides,
  };
}

describe('npm start', () => {
  test('with a bot token and nothing else: every missing setting named, exit code 1, no stack trace', async () => {
    // (With no bot token at all, npm start opens the sandbox: test/sandbox/.)
    const run = start({ SLACK_BOT_TOKEN: 'xoxb-a-bot-token' });
    expect(await run.exit).toBe(1);
    const output = run.output();
    for (const name of ['SLACK_APP_TOKEN or SLACK_SIGNING_SECRET', 'MASTRA_URL'])
      expect(output).toContain(name);
    expect(output).not.toContain('a-bot-token');
    expect(output).not.toContain('sandbox');
    expect(output).toContain('See .env.example');
    expect(output).not.toMatch(/\n\s+at /);
  });

  test('in Socket Mode: connects, runs a workflow from a command, and stops cleanly on SIGTERM', async () => {
    const run = start(socketEnv());
    try {
      await waitFor('the Socket Mode connection', () => emulator.socketMode.connections === 1, 20_000);
      await sendSlashCommand(emulator, {
        socketMode: true,
        command: '/flowgate',
        text: 'start noopWorkflow',
        userId: ALICE,
        channelId: GENERAL,
      });
      await waitFor('the run to succeed', () =>
        emulator.messages(GENERAL).some((m) => m.text.includes('noop') && m.text.includes('Succeeded')),
      );
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exit).toBe(0);
    const output = run.output();
    expect(output).toContain('Flowgate connected to Slack in Socket Mode');
    expect(output).toContain('stopping Flowgate');
    expect(output).not.toContain('secret-bot-token');
    expect(output).not.toContain('secret-app-token');
  });

  test('SIGTERM to npm start mid-step: node stops within seconds with exit code 0; the next start follows the run on', async () => {
    const env = socketEnv({ LOG_LEVEL: 'info', FLOWGATE_DB: join(dir, 'sigterm.db') });
    const npm = npmStart(env);
    let runId: string | undefined;
    try {
      await waitFor('the connection', () => npm.output().includes('connected to Slack'), 20_000);
      await sendSlashCommand(emulator, {
        socketMode: true,
        command: '/flowgate',
        text: 'start cancelAwareWorkflow {"durationMs": 7000}',
        userId: ALICE,
        channelId: GENERAL,
      });
      const running = await waitFor('the step to run', () =>
        emulator.messages(GENERAL).find((m) => m.text.startsWith('cancel-aware: Running')),
      );
      runId = /\(run ([^)]+)\)/.exec(running.text)?.[1];
      const t0 = Date.now();
      process.kill(npm.child.pid!, 'SIGTERM');
      expect(await exitWithin(npm)).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000); // not the rest of the 7 s step
      expect(groupAlive(npm.child.pid!)).toBe(false); // node itself stopped, not left behind
      expect(npm.output()).toContain('SIGTERM: stopping Flowgate');
    } finally {
      if (groupAlive(npm.child.pid!)) process.kill(-npm.child.pid!, 'SIGKILL');
    }
    // Nothing was marked final: the next start follows the run to its end.
    const again = start(env);
    try {
      await waitFor('the run followed again', () => again.output().includes('following 1 unfinished run'));
      await waitFor('the run to succeed', () =>
        emulator.messages(GENERAL).some((m) => m.text === `cancel-aware: Succeeded (run ${runId})`),
      );
    } finally {
      again.child.kill('SIGTERM');
    }
    expect(await exitWithin(again)).toBe(0);
  });

  test('SIGKILL mid-run, restarted on the same SQLite file: the new process follows the run at once, not when the old lease runs out', async () => {
    // Leases of 10 minutes: only knowing the old process is gone lets the new one follow before the test times out.
    const env = socketEnv({
      LOG_LEVEL: 'info',
      FLOWGATE_DB: join(dir, 'sigkill.db'),
      FLOWGATE_LEASE_MS: '600000',
    });
    const first = start(env);
    let runId: string | undefined;
    try {
      await waitFor('the connection', () => first.output().includes('connected to Slack'), 20_000);
      await sendSlashCommand(emulator, {
        socketMode: true,
        command: '/flowgate',
        text: 'start cancelAwareWorkflow {"durationMs": 4000}',
        userId: ALICE,
        channelId: GENERAL,
      });
      const running = await waitFor('the step to run', () =>
        emulator.messages(GENERAL).find((m) => m.text.startsWith('cancel-aware: Running')),
      );
      runId = /\(run ([^)]+)\)/.exec(running.text)?.[1];
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.exit;
    const again = start(env);
    try {
      await waitFor('the run to succeed', () =>
        emulator.messages(GENERAL).some((m) => m.text === `cancel-aware: Succeeded (run ${runId})`),
      );
      expect(again.output()).toContain(`-${first.child.pid}-`); // named the old process as gone
      expect(again.output()).toContain('following 1 unfinished run');
    } finally {
      again.child.kill('SIGTERM');
    }
    expect(await exitWithin(again)).toBe(0);
  });

  test('SIGKILL while the starter’s DM at the end of a run cannot be posted: the next start sends it, once', async () => {
    const db = join(dir, 'outbox.db');
    const env = socketEnv({ LOG_LEVEL: 'info', FLOWGATE_DB: db });
    const isDm = (params: JsonObject) => String(params.text).startsWith('Your run of noop');
    const dms = () => {
      const im = emulator.imWith(ALICE);
      return im ? emulator.messages(im.id).filter((m) => m.text.startsWith('Your run of noop')).length : 0;
    };
    const before = dms();
    const failed = () =>
      emulator.callsOf('chat.postMessage').filter((c) => isDm(c.params) && c.status === 503);
    const failedBefore = failed().length;
    // Slack answers 503 to that DM for as long as the first process lives.
    emulator.scriptCalls(
      'chat.postMessage',
      Array.from({ length: 1000 }, () => ({ status: 503 })),
      isDm,
    );
    const noopRuns = () => emulator.messages(GENERAL).filter((m) => m.text.startsWith('noop: '));
    const runsBefore = noopRuns().length;
    const first = start(env);
    const store = openStore(db);
    let runId: string | undefined;
    let due = Date.now();
    try {
      await waitFor('the connection', () => first.output().includes('connected to Slack'), 20_000);
      await sendSlashCommand(emulator, {
        socketMode: true,
        command: '/flowgate',
        text: 'start noopWorkflow',
        userId: ALICE,
        channelId: GENERAL,
      });
      // This run's message: posted after the messages of earlier runs of the workflow.
      const done = await waitFor('the run to succeed', () =>
        noopRuns()
          .slice(runsBefore)
          .find((m) => m.text.startsWith('noop: Succeeded (run ')),
      );
      runId = /\(run ([^)]+)\)/.exec(done.text)?.[1];
      // The DM failed, and is between two tries (not in the middle of one) when the process dies;
      // when it is due again (every refusal doubles the wait: a slow machine sees several).
      due = await waitFor('the DM to fail', async () => {
        if (failed().length <= failedBefore) return false;
        const notice = await store.getNotice(`end-dm:${runId}`);
        if (notice === undefined) return Date.now(); // not in the outbox at all
        return notice.state === 'pending' && notice.claimedBy === undefined && notice.nextAt.getTime();
      });
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.exit;
    emulator.clearScripts();
    expect(dms()).toBe(before);
    const again = start(env);
    try {
      await waitFor('the connection', () => again.output().includes('connected to Slack'), 30_000);
      await waitFor('the DM', () => dms() > before, Math.max(0, due - Date.now()) + 20_000);
      await waitFor('the DM recorded as sent', async () => {
        return (await store.getNotice(`end-dm:${runId}`))?.state === 'sent';
      });
    } finally {
      again.child.kill('SIGTERM');
      await store.close();
    }
    expect(await exitWithin(again)).toBe(0);
    expect(dms()).toBe(before + 1);
  }, 120_000);

  test('a bot token Slack refuses: a clear message and exit code 1', async () => {
    const run = start(socketEnv({ SLACK_BOT_TOKEN: 'xoxb-revoked-token', LOG_LEVEL: 'info' }));
    expect(await exitWithin(run)).toBe(1);
    const output = run.output();
    expect(output).toContain('Slack refused SLACK_BOT_TOKEN (invalid_auth)');
    expect(output).not.toContain('Flowgate connected');
    expect(output).not.toContain('revoked-token');
    expect(output).not.toMatch(/\n\s+at /);
  });

  test('Slack answering 500 at start-up: a clear message and exit code 1 at once, not half an hour of retries', async () => {
    emulator.failCalls('auth.test', { count: Number.POSITIVE_INFINITY });
    try {
      const run = start(socketEnv({ LOG_LEVEL: 'info' }));
      expect(await exitWithin(run)).toBe(1);
      expect(run.output()).toContain("Slack's Web API at");
      expect(run.output()).toContain('answered HTTP 500 at start-up');
      expect(run.output()).not.toMatch(/\n\s+at /);
    } finally {
      emulator.failCalls('auth.test', { count: 0 });
    }
  });

  test('an app token Slack refuses (Socket Mode): a clear message and exit code 1', async () => {
    const run = start(socketEnv({ SLACK_APP_TOKEN: 'xapp-revoked-token', LOG_LEVEL: 'info' }));
    expect(await exitWithin(run)).toBe(1);
    const output = run.output();
    expect(output).toContain('Slack refused SLACK_APP_TOKEN (invalid_auth)');
    expect(output).not.toContain('revoked-token');
    expect(output).not.toMatch(/\n\s+at /);
  });

  test('HTTP mode on a port already in use: a clear message and exit code 1', async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, done));
    try {
      const { port } = busy.address() as AddressInfo;
      const { SLACK_APP_TOKEN: _, ...env } = socketEnv({ LOG_LEVEL: 'info' });
      const run = start({ ...env, SLACK_SIGNING_SECRET: 'a-signing-secret', PORT: String(port) });
      expect(await exitWithin(run)).toBe(1);
      expect(run.output()).toContain(`Port ${port} is already in use. Set PORT to a free port.`);
      expect(run.output()).not.toContain('a-signing-secret');
    } finally {
      busy.close();
    }
  });
});
