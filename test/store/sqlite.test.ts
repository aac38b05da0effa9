import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  CLAIM_LEASE_MS,
  FORM_TTL_MS,
  openStore,
  type ProgressMessage,
  SCHEMA_VERSION,
  type Store,
} from '../../src/store/index.ts';

const message = (runId: string, over: Partial<ProgressMessage> = {}): ProgressMessage => ({
  runId,
  workflowKey: 'approvalWorkflow',
  workflowId: 'approval-workflow',
  channel: 'C0CHANNEL',
  ts: '1700000000.000100',
  starterId: 'U0STARTER',
  startedAt: new Date('2025-01-02T03:04:05.678Z'),
  status: 'running',
  final: false,
  ...over,
});

let dir: string;
let dbPath: string;
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
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('progress messages', () => {
  test('round-trip with every field, and without the optional ones', () => {
    const store = open();
    const full = message('run-1', {
      starterId: 'U0S',
      final: true,
      status: 'canceled',
      canceledBy: 'U0CANCELER',
      notifiedAt: new Date('2025-01-02T03:05:00.001Z'),
      permalink: 'https://example.slack.com/archives/C0CHANNEL/p1700000000000100',
    });
    const bare = message('run-2', { starterId: null });
    store.saveProgressMessage(full);
    store.saveProgressMessage(bare);
    expect(store.getProgressMessage('run-1')).toEqual(full);
    const got = store.getProgressMessage('run-2');
    expect(got).toEqual(bare);
    expect(got && 'canceledBy' in got).toBe(false);
    expect(got && 'notifiedAt' in got).toBe(false);
    expect(got?.startedAt).toBeInstanceOf(Date);
    expect(store.getProgressMessage('nope')).toBeUndefined();
  });

  test('save is an upsert by runId', () => {
    const store = open();
    store.saveProgressMessage(message('run-1', { canceledBy: 'U0X' }));
    const replacement = message('run-1', { channel: 'C0OTHER', ts: '2.0', status: 'success', final: true });
    store.saveProgressMessage(replacement);
    expect(store.getProgressMessage('run-1')).toEqual(replacement);
    expect(store.listUnfinished()).toEqual([]);
  });

  test('update changes only the given fields; undefined values are ignored', () => {
    const store = open();
    store.saveProgressMessage(message('run-1'));
    store.updateProgressMessage('run-1', { status: 'suspended', notifiedAt: new Date(5000) });
    expect(store.getProgressMessage('run-1')).toEqual(
      message('run-1', { status: 'suspended', notifiedAt: new Date(5000) }),
    );
    store.updateProgressMessage('run-1', {
      status: undefined,
      final: true,
      canceledBy: 'U0C',
      starterId: null,
      channel: 'C0NEW',
      ts: '9.9',
      workflowKey: 'k2',
      workflowId: 'id2',
      startedAt: new Date(1234),
    });
    expect(store.getProgressMessage('run-1')).toEqual({
      runId: 'run-1',
      workflowKey: 'k2',
      workflowId: 'id2',
      channel: 'C0NEW',
      ts: '9.9',
      starterId: null,
      startedAt: new Date(1234),
      status: 'suspended',
      final: true,
      canceledBy: 'U0C',
      notifiedAt: new Date(5000),
    });
    store.updateProgressMessage('run-1', {});
    store.updateProgressMessage('unknown', { status: 'x' });
    expect(store.getProgressMessage('unknown')).toBeUndefined();
    expect(store.getProgressMessage('run-1')?.status).toBe('suspended');
  });

  test('listUnfinished returns non-final messages, oldest first', () => {
    const store = open();
    store.saveProgressMessage(message('b', { startedAt: new Date(2000) }));
    store.saveProgressMessage(message('done', { startedAt: new Date(500), final: true }));
    store.saveProgressMessage(message('a', { startedAt: new Date(1000) }));
    store.saveProgressMessage(message('c', { startedAt: new Date(3000) }));
    store.updateProgressMessage('c', { final: true });
    expect(store.listUnfinished().map((m) => m.runId)).toEqual(['a', 'b']);
    expect(store.listUnfinished()[0]).toEqual(message('a', { startedAt: new Date(1000) }));
  });

  test('invalid dates are refused', () => {
    const store = open();
    expect(() => store.saveProgressMessage(message('r', { startedAt: new Date('nope') }))).toThrow(TypeError);
    store.saveProgressMessage(message('r'));
    expect(() => store.updateProgressMessage('r', { notifiedAt: new Date(Number.NaN) })).toThrow(TypeError);
    expect(() => store.claimAnswer('r', 's', 'U1', new Date(Number.NaN))).toThrow(TypeError);
  });
});

describe('answers', () => {
  const at1 = new Date('2025-01-01T00:00:01.000Z');
  const at2 = new Date('2025-01-01T00:00:02.000Z');

  test('the first claim wins; later claims (even by the same user) learn who holds it', () => {
    const store = open();
    expect(store.claimAnswer('run-1', 'approve', 'U1', at1)).toEqual({ claimed: true });
    expect(store.claimAnswer('run-1', 'approve', 'U2', at2)).toEqual({
      claimed: false,
      by: 'U1',
      at: at1,
      state: 'claimed',
    });
    expect(store.claimAnswer('run-1', 'approve', 'U1', at2)).toEqual({
      claimed: false,
      by: 'U1',
      at: at1,
      state: 'claimed',
    });
    expect(store.getAnswer('run-1', 'approve')).toEqual({
      runId: 'run-1',
      stepPath: 'approve',
      userId: 'U1',
      answeredAt: at1,
      state: 'claimed',
    });
  });

  test('a claim never resumed nor released within the lease is taken over; a resumed one never is', () => {
    const store = open();
    const later = (ms: number) => new Date(at1.getTime() + ms);
    expect(store.claimAnswer('run-1', 'approve', 'U1', at1).claimed).toBe(true);
    expect(store.claimAnswer('run-1', 'approve', 'U2', later(CLAIM_LEASE_MS - 1))).toMatchObject({
      claimed: false,
      by: 'U1',
    });
    expect(store.claimAnswer('run-1', 'approve', 'U2', later(CLAIM_LEASE_MS))).toEqual({ claimed: true });
    expect(store.getAnswer('run-1', 'approve')).toMatchObject({ userId: 'U2', state: 'claimed' });
    // The stranded holder can no longer release or complete what it lost.
    store.releaseAnswer('run-1', 'approve', 'U1');
    store.completeAnswer('run-1', 'approve', 'U1', 'late');
    expect(store.getAnswer('run-1', 'approve')).toMatchObject({ userId: 'U2', state: 'claimed' });

    store.claimAnswer('run-2', 'approve', 'U1', at1);
    store.completeAnswer('run-2', 'approve', 'U1', 'Approved');
    expect(store.claimAnswer('run-2', 'approve', 'U2', later(10 * CLAIM_LEASE_MS))).toMatchObject({
      claimed: false,
      by: 'U1',
      state: 'resumed',
    });
  });

  test('claims are per run and step path', () => {
    const store = open();
    expect(store.claimAnswer('run-1', 'approve', 'U1', at1).claimed).toBe(true);
    expect(store.claimAnswer('run-1', 'inner.approve', 'U2', at1).claimed).toBe(true);
    expect(store.claimAnswer('run-2', 'approve', 'U3', at1).claimed).toBe(true);
    expect(store.getAnswer('run-1', 'inner.approve')?.userId).toBe('U2');
    expect(store.getAnswer('run-2', 'approve')?.userId).toBe('U3');
    expect(store.getAnswer('run-3', 'approve')).toBeUndefined();
  });

  test('complete moves a claim to resumed with a summary', () => {
    const store = open();
    store.claimAnswer('run-1', 'approve', 'U1', at1);
    store.completeAnswer('run-1', 'approve', 'U1', 'Approved: looks good');
    expect(store.getAnswer('run-1', 'approve')).toEqual({
      runId: 'run-1',
      stepPath: 'approve',
      userId: 'U1',
      answeredAt: at1,
      state: 'resumed',
      summary: 'Approved: looks good',
    });
    expect(store.claimAnswer('run-1', 'approve', 'U2', at2)).toEqual({
      claimed: false,
      by: 'U1',
      at: at1,
      state: 'resumed',
    });
    // completing again, or without a claim, changes nothing
    store.completeAnswer('run-1', 'approve', 'U1', 'other');
    expect(store.getAnswer('run-1', 'approve')?.summary).toBe('Approved: looks good');
    store.completeAnswer('run-1', 'unclaimed', 'U1', 'x');
    expect(store.getAnswer('run-1', 'unclaimed')).toBeUndefined();
  });

  test('only the claimer can release, and only before the resume', () => {
    const store = open();
    store.claimAnswer('run-1', 'approve', 'U1', at1);
    store.releaseAnswer('run-1', 'approve', 'U2');
    expect(store.getAnswer('run-1', 'approve')?.userId).toBe('U1');
    store.releaseAnswer('run-1', 'approve', 'U1');
    expect(store.getAnswer('run-1', 'approve')).toBeUndefined();
    expect(store.claimAnswer('run-1', 'approve', 'U2', at2)).toEqual({ claimed: true });
    store.completeAnswer('run-1', 'approve', 'U2', 'done');
    store.releaseAnswer('run-1', 'approve', 'U2');
    expect(store.getAnswer('run-1', 'approve')?.state).toBe('resumed');
  });
});

describe('answers per run and once-only marks', () => {
  test("listAnswers returns a run's answers oldest first, and only that run's", () => {
    const store = open();
    store.claimAnswer('run-1', 'b', 'U2', new Date(2000));
    store.claimAnswer('run-1', 'a', 'U1', new Date(1000));
    store.claimAnswer('run-2', 'a', 'U3', new Date(500));
    store.completeAnswer('run-1', 'a', 'U1', 'approved');
    expect(store.listAnswers('run-1').map((a) => [a.stepPath, a.userId, a.state, a.summary])).toEqual([
      ['a', 'U1', 'resumed', 'approved'],
      ['b', 'U2', 'claimed', undefined],
    ]);
    expect(store.listAnswers('run-3')).toEqual([]);
  });

  test('markOnce is true only the first time, across reopen and a second replica', () => {
    const first = open();
    expect(first.markOnce('final:run-1')).toBe(true);
    expect(first.markOnce('final:run-1')).toBe(false);
    const replica = open();
    expect(replica.markOnce('final:run-1')).toBe(false);
    expect(replica.markOnce('final:run-2')).toBe(true);
    first.close();
    expect(open().markOnce('final:run-2')).toBe(false);
  });
});

describe('storage', () => {
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

  test('nothing is lost on restart', () => {
    const first = openStore(dbPath);
    first.saveProgressMessage(message('run-1'));
    first.saveProgressMessage(message('run-2', { final: true, status: 'success' }));
    first.claimAnswer('run-1', 'approve', 'U1', new Date(1000));
    first.claimAnswer('run-1', 'review', 'U2', new Date(2000));
    first.completeAnswer('run-1', 'review', 'U2', 'ok');
    first.close();
    first.close(); // idempotent

    const second = open();
    expect(second.getProgressMessage('run-1')).toEqual(message('run-1'));
    expect(second.listUnfinished().map((m) => m.runId)).toEqual(['run-1']);
    expect(second.getAnswer('run-1', 'approve')?.state).toBe('claimed');
    expect(second.getAnswer('run-1', 'review')).toMatchObject({
      state: 'resumed',
      summary: 'ok',
      userId: 'U2',
    });
    expect(second.claimAnswer('run-1', 'approve', 'U3', new Date(3000))).toMatchObject({
      claimed: false,
      by: 'U1',
    });
  });

  test('two stores on one file (replicas) see each other: the claim is shared', () => {
    const a = open();
    const b = open();
    a.saveProgressMessage(message('run-1'));
    expect(b.getProgressMessage('run-1')).toEqual(message('run-1'));
    expect(a.claimAnswer('run-1', 'approve', 'U1', new Date(1000))).toEqual({ claimed: true });
    expect(b.claimAnswer('run-1', 'approve', 'U2', new Date(2000))).toEqual({
      claimed: false,
      by: 'U1',
      at: new Date(1000),
      state: 'claimed',
    });
    b.releaseAnswer('run-1', 'approve', 'U2'); // not the claimer: no effect
    expect(a.getAnswer('run-1', 'approve')?.userId).toBe('U1');
    a.releaseAnswer('run-1', 'approve', 'U1');
    expect(b.claimAnswer('run-1', 'approve', 'U2', new Date(3000))).toEqual({ claimed: true });
    b.updateProgressMessage('run-1', { final: true });
    expect(a.listUnfinished()).toEqual([]);
  });

  test('concurrent claims from separate connections: exactly one winner per step', async () => {
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
      expect(check.getAnswer('run-race', `step-${step}`)?.userId).toBe(winnerIds[0]);
    }
  });

  test(':memory: stores are private and work without a folder', () => {
    const a = open(':memory:');
    const b = open(':memory:');
    a.saveProgressMessage(message('run-1'));
    expect(a.getProgressMessage('run-1')).toEqual(message('run-1'));
    expect(b.getProgressMessage('run-1')).toBeUndefined();
  });

  test('refuses a database from a newer schema, and an empty path', () => {
    open().close();
    const raw = new DatabaseSync(dbPath);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openStore(dbPath)).toThrow(
      `schema version ${SCHEMA_VERSION + 1}, newer than this Flowgate understands (${SCHEMA_VERSION})`,
    );
    expect(() => openStore('')).toThrow(TypeError);
  });
});

describe('open forms and messages', () => {
  test('a progress message is found by the message it was posted as', () => {
    const store = open();
    store.saveProgressMessage(message('run-a', { channel: 'C1', ts: '1.1' }));
    store.saveProgressMessage(message('run-b', { channel: 'C2', ts: '1.1' }));
    expect(store.findProgressMessage('C1', '1.1')?.runId).toBe('run-a');
    expect(store.findProgressMessage('C2', '1.1')?.runId).toBe('run-b');
    expect(store.findProgressMessage('C1', '2.2')).toBeUndefined();
  });

  test('forms are recorded by view id, kept across reopening, and forgotten after a day', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    let store = open();
    store.saveForm({
      kind: 'start',
      viewId: 'V1',
      userId: 'U1',
      openedAt: at,
      workflowKey: 'wf',
      channel: 'C1',
    });
    store.saveForm({
      kind: 'answer',
      viewId: 'V2',
      userId: 'U2',
      openedAt: at,
      runId: 'run-1',
      stepPath: ['outer', 'in.ner'],
      suspendedAt: new Date(5),
    });
    store.close();
    store = open();
    expect(store.getForm('V1', at)).toEqual({
      kind: 'start',
      viewId: 'V1',
      userId: 'U1',
      openedAt: at,
      workflowKey: 'wf',
      channel: 'C1',
    });
    expect(store.getForm('V2', at)).toMatchObject({
      stepPath: ['outer', 'in.ner'],
      suspendedAt: new Date(5),
    });
    expect(store.getForm('V1', new Date(at.getTime() + FORM_TTL_MS))).toBeUndefined();
    store.deleteForm('V2');
    expect(store.getForm('V2', at)).toBeUndefined();
    // Saving a newer form drops expired ones.
    const later = new Date(at.getTime() + FORM_TTL_MS + 1);
    store.saveForm({
      kind: 'start',
      viewId: 'V3',
      userId: 'U1',
      openedAt: later,
      workflowKey: 'wf',
      channel: 'C1',
    });
    expect(store.getForm('V1', at)).toBeUndefined();
  });
});

describe('the one message of a run started elsewhere', () => {
  test('one claim wins across stores; a failed post is released; a stranded claim is taken over', () => {
    const a = open();
    const b = open();
    const at = new Date('2026-02-01T00:00:00Z');
    const row = message('ext-1', {
      ts: '',
      origin: 'elsewhere',
      requester: 'billing-bot',
      starterId: null,
      startedAt: at,
    });
    expect(a.claimProgressMessage(row)).toBe(true);
    expect(b.claimProgressMessage(row)).toBe(false);
    // Not posted yet: not a message to follow after a restart.
    expect(a.listUnfinished().map((m) => m.runId)).not.toContain('ext-1');
    a.releaseProgressMessage('ext-1');
    expect(b.claimProgressMessage(row)).toBe(true);
    // Posted: never claimed again, and released no more.
    b.updateProgressMessage('ext-1', { ts: '1.2' });
    b.releaseProgressMessage('ext-1');
    expect(a.claimProgressMessage({ ...row, startedAt: new Date(at.getTime() + CLAIM_LEASE_MS * 2) })).toBe(
      false,
    );
    expect(a.getProgressMessage('ext-1')).toMatchObject({
      ts: '1.2',
      origin: 'elsewhere',
      requester: 'billing-bot',
    });
    // A claim whose process stopped before posting is taken over once its lease is over.
    expect(a.claimProgressMessage(message('ext-2', { ts: '', startedAt: at }))).toBe(true);
    expect(
      b.claimProgressMessage(message('ext-2', { ts: '', startedAt: new Date(at.getTime() + 1000) })),
    ).toBe(false);
    expect(
      b.claimProgressMessage(
        message('ext-2', { ts: '', startedAt: new Date(at.getTime() + CLAIM_LEASE_MS) }),
      ),
    ).toBe(true);
    expect(a.getProgressMessage('run-slack')).toBeUndefined();
  });
});
