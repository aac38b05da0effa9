/**
 * Retention: finished runs past the retention period are forgotten by one pass per period, across
 * every process sharing the database (two stores on one SQLite file here, as two processes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { Retention } from '../../src/store/retention.ts';
import { message } from './contract.ts';

const DAY = 24 * 60 * 60_000;
let dir: string;
let stores: Store[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowgate-retention-'));
  stores = [openStore(join(dir, 'shared.db')), openStore(join(dir, 'shared.db'))];
  for (const store of stores) await store.ready();
});
afterEach(async () => {
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retention', () => {
  test('one pass per period across processes forgets every run over for longer than the period, in batches', async () => {
    const now = Date.parse('2026-06-01T12:30:00Z');
    const [a, b] = stores as [Store, Store];
    for (let i = 0; i < 7; i++)
      await a.saveProgressMessage(message(`old-${i}`, { startedAt: new Date(now - 40 * DAY), final: true }));
    await a.saveProgressMessage(
      message('recent', {
        startedAt: new Date(now - 40 * DAY),
        final: true,
        notifiedAt: new Date(now - DAY),
      }),
    );
    await a.saveProgressMessage(message('waiting', { startedAt: new Date(now - 40 * DAY) }));
    const clock = { now };
    const retention = (store: Store) =>
      new Retention({ store, logger: silentLogger, retentionMs: 30 * DAY, batch: 3, now: () => clock.now });
    const [first, second] = await Promise.all([retention(a).runOnce(), retention(b).runOnce()]);
    expect([first, second].sort()).toEqual([0, 7]);
    for (let i = 0; i < 7; i++) expect(await b.getProgressMessage(`old-${i}`)).toBeUndefined();
    expect(await b.getProgressMessage('recent')).toBeDefined();
    expect(await b.getProgressMessage('waiting')).toBeDefined();
    // The same period again: nothing (its pass was taken); the next period: what is due by then.
    await a.saveProgressMessage(message('old-late', { startedAt: new Date(now - 40 * DAY), final: true }));
    expect(await retention(a).runOnce()).toBe(0);
    clock.now += 60 * 60_000;
    expect(await retention(b).runOnce()).toBe(1);
    clock.now += 30 * DAY;
    expect(await retention(a).runOnce()).toBe(1); // `recent`, over for 31 days now
    expect(await a.getProgressMessage('waiting')).toBeDefined();
  });
});
