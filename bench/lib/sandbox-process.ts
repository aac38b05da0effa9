/**
 * `npm start` as a newcomer runs it (no Slack settings: the sandbox), timed from the spawn: when the
 * page answers (`GET /`), when it is usable (`GET /api/state` answers: everything has started), and
 * how long a demo run then takes to reach its final state, seen live on the page's event stream.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readDotEnv } from '../../src/config.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** One HTTP GET on 127.0.0.1: status, body bytes as sent (gzip when asked) and header bytes. */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; headerBytes: number; headers: Record<string, unknown> }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        // Status line, then `Name: value\r\n` per header, then the blank line.
        const headerBytes =
          `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`.length +
          res.rawHeaders.reduce((n, h) => n + h.length + 2, 0) +
          2;
        done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headerBytes, headers: res.headers });
      });
    });
    req.on('error', fail);
    req.end();
  });
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface StartTimes {
  /** spawn → `GET /` answers 200 */
  answersMs: number;
  /** spawn → `GET /api/state` answers 200 (the page can show the workspace) */
  usableMs: number;
  /** spawn → the one line is printed (Flowgate and the Mastra server have started too) */
  readyMs: number;
  /** page usable → a run of deploy-pipeline (no waits) shows Succeeded on the page's stream */
  finalMs: number;
}

/**
 * Spawns `npm start` in the project with `PORT` set and no Slack or Mastra settings. `tmp` is the
 * process's TMPDIR (where Node's compile cache lives): a fresh one makes a cold start.
 */
export async function timeStart(tmp: string): Promise<StartTimes> {
  const scratch: Record<string, string | undefined> = {};
  readDotEnv(join(ROOT, '.env'), scratch);
  if (scratch.SLACK_BOT_TOKEN?.trim()) {
    throw new Error(
      '.env sets SLACK_BOT_TOKEN, so npm start would not open the sandbox; move it aside to bench',
    );
  }
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(SLACK_|MASTRA_|FLOWGATE_|NODE_COMPILE_CACHE|npm_)/.test(k)) env[k] = v;
  }
  const t0 = performance.now();
  const child: ChildProcess = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let out = '';
  const ready = new Promise<number>((done) =>
    child.stdout?.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('Flowgate sandbox: open')) done(performance.now() - t0);
    }),
  );
  try {
    const answersMs = await until(
      async () => ((await get(port, '/')).status === 200 ? performance.now() - t0 : undefined),
      30_000,
      'the page',
    );
    const usableMs = await until(
      async () => ((await get(port, '/api/state')).status === 200 ? performance.now() - t0 : undefined),
      30_000,
      'the sandbox to start',
    );
    const finalMs = await firstRunFinal(port);
    return { answersMs, usableMs, readyMs: await ready, finalMs };
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
}

/** Starts deploy-pipeline with no waits through the page's API; resolves when its message is final. */
async function firstRunFinal(port: number): Promise<number> {
  const user = 'U0SBREQST1';
  return new Promise<number>((done, fail) => {
    const t0 = performance.now();
    const req = request(
      { host: '127.0.0.1', port, path: `/api/events?user=${user}`, agent: false },
      (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (/deploy-pipeline: Succeeded/.test(buffer)) {
            done(performance.now() - t0);
            req.destroy();
          }
        });
        const body = JSON.stringify({
          user,
          channel: 'C0SBGENRL1',
          text: '/flowgate start deployPipeline {"stepSeconds": 0}',
        });
        const send = request({
          host: '127.0.0.1',
          port,
          path: '/api/command',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          agent: false,
        });
        send.on('error', fail);
        send.end(body);
      },
    );
    req.on('error', (error) => {
      if ((error as { code?: string }).code !== 'ECONNRESET') fail(error);
    });
    setTimeout(() => fail(new Error('the run did not finish in 30 s')), 30_000).unref();
    req.end();
  });
}

export function freshDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
