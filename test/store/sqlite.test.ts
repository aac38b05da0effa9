import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openStore, SCHEMA_VERSION, type Store } from '../../src/store/index.ts';
import { message, storeContract } from './contract.ts';

let dir: string;
let dbPath: string;

describe('the Store contract on SQLite', () => {
  storeContract({
    async fresh() {
      dir = mkdtempSync(join(tmpdir(), 'flowgate-store-'));
      dbPath = join(dir, 'nested', 'deeper', 'flowgate.db');
    },
    async open() {
      const store = openStore(dbPath);
      await store.ready();
      return store;
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

describe('SQLite storage', () => {
  const opened: Store[] = [];
  const open = (path = dbPath) => {
    const store = openStore(path);
    opened.push(store);
    return store;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-store-'));
    dbPath = join(dir, 'nested', 'deeper', 'flowgate.db');
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('creates parent folders, uses WAL and the current schema version', () => {
    open();
    const raw = new DatabaseSync(dbPath);
    try {
      expect(raw.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
      expect(raw.prepare('PRAGMA user_version').get()?.user_version).toBe(SCHEMA_VERSION);
    } finally {
      raw.close();
    }
  });

  test('concurrent claims from separate threads on one file: exactly one winner per step', async () => {
    open(); // create and migrate the file first
    const workers = 4;
    const steps = 40;
    const barrier = new SharedArrayBuffer(4);
    const url = new URL('./claim-worker.ts', import.meta.url);
    const results = await Promise.all(
      Array.from({ length: workers }, (_, i) => {
        const worker = new Worker(url, {
          workerData: { path: dbPath, userId: `U${i}`, runId: 'run-race', steps, barrier, workers },
        });
        return new Promise<({ claimed: true } | { claimed: false; by: string })[]>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        }).finally(() => worker.terminate());
      }),
    );
    const check = open();
    for (let step = 0; step < steps; step++) {
      const winnerIds = results.flatMap((r, i) => (r[step]?.claimed ? [`U${i}`] : []));
      expect(winnerIds).toHaveLength(1);
      for (const r of results) {
        const entry = r[step]!;
        if (!entry.claimed) expect(entry.by).toBe(winnerIds[0]);
      }
      expect((await check.getAnswer('run-race', `step-${step}`))?.userId).toBe(winnerIds[0]);
    }
  });

  test(':memory: stores are private and work without a folder', async () => {
    const a = open(':memory:');
    const b = open(':memory:');
    await a.saveProgressMessage(message('run-1'));
    expect(await a.getProgressMessage('run-1')).toEqual(message('run-1'));
    expect(await b.getProgressMessage('run-1')).toBeUndefined();
  });

  test('refuses a database from a newer schema, and an empty path', async () => {
    await open().close();
    const raw = new DatabaseSync(dbPath);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openStore(dbPath)).toThrow(
      `schema version ${SCHEMA_VERSION + 1}, newer than this Flowgate understands (${SCHEMA_VERSION})`,
    );
    expect(() => openStore('')).toThrow(TypeError);
  });
});
