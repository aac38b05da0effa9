/**
 * Several Flowgate replicas as production runs them: `src/main.ts` child processes on one
 * PostgreSQL database, behind a round-robin load balancer for Slack's requests (a replica that does
 * not answer is skipped, as a load balancer's health check would), with the Slack emulator and a
 * real Mastra server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { SlackEmulator } from '../../src/emulator/index.ts';
import { SIGNING_SECRET, waitFor } from './flowgate.ts';
import { freePort } from './postgres.ts';

const MAIN = join(resolve(import.meta.dirname, '../..'), 'src/main.ts');

export interface Replica {
  port: number;
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
  alive: boolean;
}

export interface Replicas {
  replicas: Replica[];
  /** The load balancer's URL for Slack's requests (`/slack/events`). */
  appUrl: string;
  /** Requests the balancer sent to each replica, by index. */
  routed: number[];
  /** Starts one more replica (same settings). */
  add(): Promise<Replica>;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  emulator: SlackEmulator;
  mastraUrl: string;
  databaseUrl: string;
  count: number;
  env?: Record<string, string>;
  cwd: string;
}

export async function startReplicas(options: ReplicaOptions): Promise<Replicas> {
  const replicas: Replica[] = [];
  const routed: number[] = [];
  const add = async (): Promise<Replica> => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      cwd: options.cwd,
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_BOT_TOKEN: options.emulator.botToken,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: options.emulator.apiUrl,
        MASTRA_URL: options.mastraUrl,
        FLOWGATE_DB: options.databaseUrl,
        PORT: String(port),
        LOG_LEVEL: 'error',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += String(chunk)));
    child.stderr?.on('data', (chunk) => (output += String(chunk)));
    const replica: Replica = {
      port,
      child,
      output: () => output,
      exit: new Promise((done) => child.once('exit', (code) => done(code))),
      alive: true,
    };
    void replica.exit.then(() => (replica.alive = false));
    replicas.push(replica);
    routed.push(0);
    await waitFor(
      `replica on port ${port} to be healthy`,
      async () => {
        if (!replica.alive) throw new Error(`replica exited: ${output}`);
        const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return response?.ok === true;
      },
      60_000,
    );
    return replica;
  };
  for (let i = 0; i < options.count; i++) await add();

  let next = 0;
  const balancer: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    for (let tries = 0; tries < replicas.length; tries++) {
      const index = next++ % replicas.length;
      const target = replicas[index]!;
      if (!target.alive) continue;
      try {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers))
          if (typeof value === 'string' && name !== 'host' && name !== 'content-length')
            headers[name] = value;
        const response = await fetch(`http://127.0.0.1:${target.port}${req.url ?? '/'}`, {
          method: req.method ?? 'POST',
          headers,
          ...(body.length > 0 ? { body } : {}),
        });
        routed[index] = (routed[index] ?? 0) + 1;
        const text = Buffer.from(await response.arrayBuffer());
        res.writeHead(
          response.status,
          Object.fromEntries(
            [...response.headers.entries()].filter(
              ([name]) =>
                !['content-length', 'transfer-encoding', 'content-encoding', 'connection'].includes(name),
            ),
          ),
        );
        res.end(text);
        return;
      } catch {
        // the next replica
      }
    }
    res.writeHead(502).end();
  });
  await new Promise<void>((done) => balancer.listen(0, '127.0.0.1', done));
  const appUrl = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}/slack/events`;

  return {
    replicas,
    appUrl,
    routed,
    add,
    async close() {
      await new Promise<void>((done) => balancer.close(() => done()));
      balancer.closeAllConnections();
      await Promise.all(
        replicas.map(async (replica) => {
          if (replica.alive) replica.child.kill('SIGTERM');
          const code = await Promise.race([replica.exit, new Promise((r) => setTimeout(r, 5000, 'late'))]);
          if (code === 'late') replica.child.kill('SIGKILL');
        }),
      );
    },
  };
}
