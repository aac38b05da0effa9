/**
 * Run leases on a real SQLite store with a clock of the test's own: how many replicas the
 * workspace's update budget is shared by.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { RunLeases } from '../../src/runs/leases.ts';
import { openStore, type Store } from '../../src/store/index.ts';

const LEASE_MS = 400;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

test('a peer whose heartbeat is late still counts for a lease: budget shares never add up to more than the whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-leases-'));
  const store: Store = openStore(join(dir, 'flowgate.db'));
  let now = 1_000_000;
  const reports: number[] = [];
  let next: ((live: number) => void) | undefined;
  const leases = new RunLeases({
    store,
    leaseMs: LEASE_MS,
    logger: silentLogger,
    replicaId: 'replica-a',
    now: () => now,
    onClaimed: () => {},
    onLost: () => {},
    onReplicas: (live) => {
      reports.push(live);
      next?.(live);
    },
  });
  cleanup = async () => {
    await leases.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const nextReport = () => new Promise<number>((resolve) => (next = resolve));
  // Another replica's heartbeat, as its process sends it (¾ of a lease ahead).
  const peerBeats = () => store.heartbeat('replica-b', new Date(now + (LEASE_MS * 3) / 4), new Date(now));

  await peerBeats();
  await leases.start();
  expect(reports.at(-1)).toBe(2);

  // The peer's heartbeat is late: its row has lapsed, but it was seen alive within the last lease.
  now += LEASE_MS / 2 + 100;
  expect(await nextReport()).toBe(2);

  // Gone for more than a lease: the budget is this replica's alone.
  now += LEASE_MS;
  expect(await nextReport()).toBe(1);

  // A peer that appears counts at once.
  await peerBeats();
  now += 10;
  expect(await nextReport()).toBe(2);
});
