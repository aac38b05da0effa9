/**
 * Flowgate as the container image holds it, without a container engine: package.json,
 * package-lock.json and src/ copied into a clean folder, production dependencies installed there
 * exactly as the Dockerfile does (`npm ci --omit=dev`), then `node src/main.ts` started from it
 * against the Slack emulator and an in-process Mastra server: /healthz, /readyz and /metrics
 * answer, the Dockerfile's own HEALTHCHECK command passes, and SIGTERM stops it with exit code 0.
 * So a dependency the app needs at run time but declared only for development fails here.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SlackEmulator, sendSlashCommand, startSlackEmulator } from '../../src/emulator/index.ts';
import { ALICE, GENERAL, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SIGNING_SECRET = 'container-test-signing-secret';

let dir: string;
let mastra: MastraTestServer;
let emulator: SlackEmulator;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowgate-image-'));
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(dir, file));
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  // As the Dockerfile's first stage (plus --prefer-offline: the npm cache, when warm, saves the downloads).
  await promisify(execFile)(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    // This machine's environment as is: npm's settings, proxies and certificate authorities.
    { cwd: dir, env: process.env, maxBuffer: 16 << 20 },
  );
  [mastra, emulator] = await Promise.all([startMastraServer(), startSlackEmulator()]);
}, 300_000);
afterAll(async () => {
  child?.kill('SIGKILL');
  await emulator?.close();
  await mastra?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the image’s contents', () => {
  test('production dependencies only, then Flowgate starts from them and answers its health checks', async () => {
    expect(existsSync(join(dir, 'node_modules/pino'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/prom-client'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'parse-prometheus-text-format', '@mastra/libsql'])
      expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);

    let output = '';
    child = spawn(process.execPath, ['src/main.ts'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        SLACK_BOT_TOKEN: emulator.botToken,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: emulator.apiUrl,
        MASTRA_URL: mastra.url,
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (output += String(chunk)));
    child.stderr?.on('data', (chunk) => (output += String(chunk)));
    const exit = new Promise<number | null>((done) => child?.once('exit', (code) => done(code)));

    // Its JSON log line says where it listens.
    const port = await waitFor(
      'Flowgate listening',
      () => {
        for (const line of output.split('\n')) {
          if (!line.startsWith('{')) continue;
          const match = /listening on port (\d+)/.exec(String((JSON.parse(line) as { msg?: unknown }).msg));
          if (match) return Number(match[1]);
        }
        return undefined;
      },
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${output}`);
    });
    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.text()).toBe('ok\ndatabase: ok\nmastra: ok\nslack: ok\n');
    expect(ready.status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('flowgate_runs_followed');

    // A command is answered: the app works from these dependencies, not only its health routes.
    const ack = await sendSlashCommand(emulator, {
      appUrl: `${base}/slack/events`,
      signingSecret: SIGNING_SECRET,
      command: '/flowgate',
      text: 'list',
      userId: ALICE,
      channelId: GENERAL,
    });
    expect(ack.status).toBe(200);
    await waitFor('the list', () =>
      emulator.ephemerals(ALICE).some((e) => JSON.stringify(e.blocks).includes('linearWorkflow')),
    );

    // The Dockerfile's HEALTHCHECK command, as the engine would run it in the container.
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const argv = JSON.parse(
      /^HEALTHCHECK .*?\bCMD (\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? 'null',
    ) as string[];
    expect(argv[0]).toBe('node');
    const probe = (env: Record<string, string>) =>
      promisify(execFile)(process.execPath, argv.slice(1), {
        env: { PATH: process.env.PATH ?? '', ...env },
      }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? 1,
      );
    expect(await probe({ PORT: String(port) })).toBe(0);
    expect(await probe({ PORT: '1' })).toBe(1); // nothing there: unhealthy

    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    child = undefined;
    expect(output).not.toContain(emulator.botToken);
    expect(output).not.toContain(SIGNING_SECRET);
  });
});
