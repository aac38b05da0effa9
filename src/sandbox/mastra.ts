/**
 * The sandbox's embedded Mastra server (built like the test server: docs/mastra.md, The test server): Mastra with the demo
 * workflows and Mastra's in-memory store, served by Hono on 127.0.0.1 (a free port), API under `/api`,
 * to requests addressed to it on loopback from no other origin (src/loopback.ts).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ConsoleLogger } from '@mastra/core/logger';
import { Mastra } from '@mastra/core/mastra';
import { InMemoryStore } from '@mastra/core/storage';
import { MastraServer } from '@mastra/hono';
import { Hono } from 'hono';
import { loopbackOnly } from '../loopback.ts';
import { createDemoWorkflows } from './workflows.ts';

export interface EmbeddedMastra {
  /** e.g. `http://127.0.0.1:54321` (routes under `/api`). */
  url: string;
  /** Stops listening, drops open streams, and shuts Mastra down without waiting for running steps. */
  close(): Promise<void>;
}

export async function startEmbeddedMastra(): Promise<EmbeddedMastra> {
  // Runs live as long as the sandbox: Mastra's in-memory store, made for development.
  const storage = new InMemoryStore({ id: 'flowgate-sandbox' });
  const mastra = new Mastra({
    workflows: createDemoWorkflows(),
    storage,
    logger: new ConsoleLogger({ level: 'silent' }),
  });
  const app = new Hono();
  await new MastraServer({ app, mastra }).init();
  const { httpServer, port } = await new Promise<{ httpServer: Server; port: number }>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({ httpServer: s as Server, port: info.port }),
    ) as Server;
    // Guarded before it listens: only Flowgate (and tools on this machine) may call it, no web page.
    loopbackOnly(s);
    s.once('error', reject);
  });
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeAllConnections();
        await stopped;
        await mastra.shutdown({ drainTimeout: 0 }).catch(() => {});
      })();
      return closed;
    },
  };
}
