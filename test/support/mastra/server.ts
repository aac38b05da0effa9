/**
 * A real in-process Mastra server for tests and benchmarks (docs/mastra.md, The test server):
 * Mastra + LibSQLStore + Hono + MastraServer, served by @hono/node-server on 127.0.0.1, port 0.
 *
 * Notes for tests: `GET /workflows/run-counts` is cached for 5 s per Mastra instance (start a
 * fresh server to read exact counts); the observe history lives in this server's memory only.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Mastra } from '@mastra/core';
import { ConsoleLogger } from '@mastra/core/logger';
import type { AnyWorkflow } from '@mastra/core/workflows';
import { MastraServer } from '@mastra/hono';
import { LibSQLStore } from '@mastra/libsql';
import { Hono } from 'hono';
import { createTestWorkflows } from './workflows.ts';

export interface StartMastraServerOptions {
  /** libsql URL; default `:memory:`. Use `file:<path>` to keep runs across a restart. */
  storageUrl?: string;
  /** Workflows keyed by registry key; default: a fresh set of the test workflows. */
  workflows?: Record<string, AnyWorkflow>;
  /** Mastra log level; default `silent` (the server logs every 4xx/5xx it answers at `error`). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /**
   * A fault at the HTTP boundary: return a reply to send instead of Mastra's (after `pass()` hands
   * the request to Mastra, if you like), or undefined to let Mastra answer.
   */
  intercept?: (
    request: Request,
    pass: () => Promise<Response>,
  ) => Promise<Response | undefined> | Response | undefined;
}

export interface MastraTestServer {
  /** e.g. `http://127.0.0.1:54321` (routes live under `/api`). */
  url: string;
  port: number;
  mastra: Mastra;
  /** The Node HTTP server answering (benchmarks count its connections and requests). */
  httpServer: Server;
  /** Stops listening, drops keep-alive and streaming connections, and shuts Mastra down. */
  close(): Promise<void>;
}

let storeCounter = 0;

export async function startMastraServer(opts: StartMastraServerOptions = {}): Promise<MastraTestServer> {
  const workflows = opts.workflows ?? createTestWorkflows();
  const storage = new LibSQLStore({
    id: `flowgate-test-store-${++storeCounter}`,
    url: opts.storageUrl ?? ':memory:',
  });
  const mastra = new Mastra({
    workflows,
    storage,
    logger: new ConsoleLogger({ level: opts.logLevel ?? 'silent' }),
  });
  const app = new Hono();
  const { intercept } = opts;
  if (intercept) {
    app.use('*', async (c, next) => {
      let passed = false;
      const reply = await intercept(c.req.raw, async () => {
        passed = true;
        await next();
        return c.res;
      });
      if (!reply) return passed ? undefined : next();
      if (passed) c.res = reply;
      return reply;
    });
  }
  const server = new MastraServer({ app, mastra });
  await server.init();

  const { httpServer, port } = await new Promise<{ httpServer: Server; port: number }>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
      resolve({ httpServer: s as Server, port: info.port });
    }) as Server;
    s.once('error', reject);
  });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        // Idle keep-alive sockets and open streams would otherwise keep close() waiting.
        httpServer.closeAllConnections();
      });
      await mastra.shutdown({ drainTimeout: 0 }).catch(() => {});
      await storage.close().catch(() => {});
    })();
    return closed;
  };

  return { url: `http://127.0.0.1:${port}`, port, mastra, httpServer, close };
}
