import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStore, PG_SCHEMA_VERSION, type Store } from '../../src/store/index.ts';
import { freePort, type PostgresServer, startPostgres } from '../support/postgres.ts';
import { storeContract } from './contract.ts';

let server: PostgresServer;
let url: string | undefined;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.close());

describe('the Store contract on PostgreSQL', () => {
  storeContract({
    async fresh() {
      // One database for the contract, emptied before each test (creating one per test is slower).
      if (!url) url = await server.createDatabase();
      else
        await server.query(
          'TRUNCATE progress_messages, answers, once_keys, open_forms, replicas, deadlines, votes, send_budgets, outbox',
          new URL(url).pathname.slice(1),
        );
    },
    async open() {
      const store = openStore(url!);
      await store.ready();
      return store;
    },
    async drop() {},
  });
});

describe('PostgreSQL storage', () => {
  test('replicas starting at once migrate the schema exactly once', async () => {
    const fresh = await server.createDatabase();
    const stores = Array.from({ length: 6 }, () => openStore(fresh));
    try {
      await Promise.all(stores.map((store) => store.ready()));
      const { rows } = await server.query(
        'SELECT version FROM flowgate_schema ORDER BY version',
        new URL(fresh).pathname.slice(1),
      );
      expect(rows.map((row) => row.version)).toEqual(
        Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await Promise.all(stores.map((store) => store.health()));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test('refuses a database from a newer schema', async () => {
    const fresh = await server.createDatabase();
    const database = new URL(fresh).pathname.slice(1);
    const first = openStore(fresh);
    await first.ready();
    await first.close();
    await server.query(`INSERT INTO flowgate_schema VALUES (${PG_SCHEMA_VERSION + 1}, 0)`, database);
    const store = openStore(fresh);
    try {
      await expect(store.ready()).rejects.toThrow(
        `has schema version ${PG_SCHEMA_VERSION + 1}, newer than this Flowgate understands (${PG_SCHEMA_VERSION})`,
      );
    } finally {
      await store.close();
    }
  });

  test('a malformed URL is refused at once, without repeating its password', () => {
    for (const bad of [
      'postgres://',
      'postgres://user:s3cret@/db',
      'postgres://user:s3cret@host:5432/',
      'postgresql://user:s3cret@host:port/db',
    ]) {
      expect(() => openStore(bad)).toThrow(/^FLOWGATE_DB /);
      try {
        openStore(bad);
      } catch (error) {
        expect(String(error)).not.toContain('s3cret');
      }
    }
  });

  test('an unreachable server: ready() says where and why, without the password', async () => {
    const port = await freePort();
    const store: Store = openStore(`postgres://flowgate:s3cret@127.0.0.1:${port}/flowgate`);
    try {
      const error = await store.ready().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toBe(
        `Flowgate cannot reach the PostgreSQL database at 127.0.0.1:${port}/flowgate (ECONNREFUSED). Check FLOWGATE_DB and that the server is running.`,
      );
      await expect(store.getProgressMessage('run-1')).rejects.toThrow('cannot reach');
    } finally {
      await store.close();
    }
  });

  test('the claim is one statement: concurrent claims on one step from many connections, one winner', async () => {
    const fresh = await server.createDatabase();
    const stores = Array.from({ length: 8 }, () => openStore(fresh));
    try {
      await Promise.all(stores.map((store) => store.ready()));
      const results = await Promise.all(
        stores.map((store, i) => store.claimAnswer('run-1', 'approve#1', `U${i}`, new Date(1000))),
      );
      const winners = results.filter((r) => r.claimed);
      expect(winners).toHaveLength(1);
      const client = new pg.Client({ connectionString: fresh });
      await client.connect();
      const { rows } = await client.query('SELECT COUNT(*)::int AS n FROM answers');
      await client.end();
      expect(rows[0]?.n).toBe(1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
