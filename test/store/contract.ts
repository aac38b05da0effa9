/**
 * The Store contract: what every implementation (SQLite, PostgreSQL) must do, run against each by
 * its own test file. `open()` gives another Store on the test's database (a second replica, or the
 * same process after a restart); each test starts on an empty database.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  CLAIM_LEASE_MS,
  type Deadline,
  FORM_TTL_MS,
  type ProgressMessage,
  type Store,
} from '../../src/store/index.ts';

export interface StoreBackend {
  /** Makes an empty database for the next test. */
  fresh(): Promise<void>;
  /** Opens another Store on the current database (ready to use). */
  open(): Promise<Store>;
  /** Drops the current database (after each test). */
  drop(): Promise<void>;
}

export const message = (runId: string, over: Partial<ProgressMessage> = {}): ProgressMessage => ({
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

export function storeContract(backend: StoreBackend): void {
  const opened: Store[] = [];
  const open = async () => {
    const store = await backend.open();
    opened.push(store);
    return store;
  };

  beforeEach(() => backend.fresh());
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await backend.drop();
  });

  describe('progress messages', () => {
    test('round-trip with every field, and without the optional ones', async () => {
      const store = await open();
      const full = message('run-1', {
        starterId: 'U0S',
        final: true,
        status: 'canceled',
        canceledBy: 'U0CANCELER',
        notifiedAt: new Date('2025-01-02T03:05:00.001Z'),
        permalink: 'https://example.slack.com/archives/C0CHANNEL/p1700000000000100',
      });
      const bare = message('run-2', { starterId: null });
      await store.saveProgressMessage(full);
      await store.saveProgressMessage(bare);
      expect(await store.getProgressMessage('run-1')).toEqual(full);
      const got = await store.getProgressMessage('run-2');
      expect(got).toEqual(bare);
      expect(got && 'canceledBy' in got).toBe(false);
      expect(got && 'notifiedAt' in got).toBe(false);
      expect(got?.startedAt).toBeInstanceOf(Date);
      expect(await store.getProgressMessage('nope')).toBeUndefined();
    });

    test('save is an upsert by runId', async () => {
      const store = await open();
      await store.saveProgressMessage(message('run-1', { canceledBy: 'U0X' }));
      const replacement = message('run-1', { channel: 'C0OTHER', ts: '2.0', status: 'success', final: true });
      await store.saveProgressMessage(replacement);
      expect(await store.getProgressMessage('run-1')).toEqual(replacement);
      expect(await store.listUnfinished()).toEqual([]);
    });

    test('update changes only the given fields; undefined values are ignored', async () => {
      const store = await open();
      await store.saveProgressMessage(message('run-1'));
      await store.updateProgressMessage('run-1', { status: 'suspended', notifiedAt: new Date(5000) });
      expect(await store.getProgressMessage('run-1')).toEqual(
        message('run-1', { status: 'suspended', notifiedAt: new Date(5000) }),
      );
      await store.updateProgressMessage('run-1', {
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
      expect(await store.getProgressMessage('run-1')).toEqual({
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
      await store.updateProgressMessage('run-1', {});
      await store.updateProgressMessage('unknown', { status: 'x' });
      expect(await store.getProgressMessage('unknown')).toBeUndefined();
      expect((await store.getProgressMessage('run-1'))?.status).toBe('suspended');
    });

    test('listUnfinished returns non-final messages, oldest first', async () => {
      const store = await open();
      await store.saveProgressMessage(message('b', { startedAt: new Date(2000) }));
      await store.saveProgressMessage(message('done', { startedAt: new Date(500), final: true }));
      await store.saveProgressMessage(message('a', { startedAt: new Date(1000) }));
      await store.saveProgressMessage(message('c', { startedAt: new Date(3000) }));
      await store.updateProgressMessage('c', { final: true });
      expect((await store.listUnfinished()).map((m) => m.runId)).toEqual(['a', 'b']);
      expect((await store.listUnfinished())[0]).toEqual(message('a', { startedAt: new Date(1000) }));
    });

    test('countLiveRunsStartedBy counts the runs a person started from Slack that are not over', async () => {
      const store = await open();
      await store.saveProgressMessage(message('a1', { starterId: 'U0A' }));
      await store.saveProgressMessage(message('a2', { starterId: 'U0A' }));
      await store.saveProgressMessage(message('a3', { starterId: 'U0A', final: true }));
      await store.saveProgressMessage(message('a4', { starterId: 'U0A', origin: 'elsewhere' }));
      await store.saveProgressMessage(message('b1', { starterId: 'U0B' }));
      expect(await store.countLiveRunsStartedBy('U0A')).toBe(2);
      await store.updateProgressMessage('a1', { final: true });
      expect(await store.countLiveRunsStartedBy('U0A')).toBe(1);
      expect(await store.countLiveRunsStartedBy('U0NOBODY')).toBe(0);
    });

    test('pruneFinished forgets runs final before the cutoff, with everything kept for them; the rest stays', async () => {
      const store = await open();
      const old = new Date('2025-01-01T00:00:00Z');
      const cutoff = new Date('2025-02-01T00:00:00Z');
      const recent = new Date('2025-03-01T00:00:00Z');
      await store.saveProgressMessage(message('old-1', { startedAt: old, final: true }));
      await store.saveProgressMessage(message('old-2', { startedAt: old, final: true }));
      await store.saveProgressMessage(message('old-live', { startedAt: old }));
      await store.saveProgressMessage(
        message('ended-late', { startedAt: old, final: true, notifiedAt: recent }),
      );
      await store.saveProgressMessage(message('new', { startedAt: recent, final: true }));
      for (const runId of ['old-1', 'old-live', 'new']) {
        await store.claimAnswer(runId, 'approve', 'U1', old);
        await store.markOnce(`final:${runId}`);
        await store.markOnce(`ask:${runId}:approve:1`);
        await store.recordVote(runId, 'approve', { userId: 'U1', approve: true, at: old });
        await store.saveQuestionDm({
          runId,
          suspensionKey: 'approve',
          userId: 'U2',
          channel: 'D1',
          ts: `${runId}.1`,
          at: old,
        });
      }
      expect(await store.pruneFinished(cutoff, 1)).toBe(1);
      expect(await store.pruneFinished(cutoff, 10)).toBe(1);
      expect(await store.pruneFinished(cutoff, 10)).toBe(0);
      for (const gone of ['old-1', 'old-2']) expect(await store.getProgressMessage(gone)).toBeUndefined();
      expect(await store.getAnswer('old-1', 'approve')).toBeUndefined();
      expect(await store.listVotes('old-1')).toEqual([]);
      expect(await store.listQuestionDms('old-1')).toEqual([]);
      // Its once-only marks are forgotten with it; others' stay.
      expect(await store.markOnce('final:old-1')).toBe(true);
      expect(await store.markOnce('ask:old-1:approve:1')).toBe(true);
      for (const kept of ['old-live', 'ended-late', 'new'])
        expect(await store.getProgressMessage(kept)).toBeDefined();
      for (const kept of ['old-live', 'new']) {
        expect(await store.getAnswer(kept, 'approve')).toBeDefined();
        expect(await store.listVotes(kept)).toHaveLength(1);
        expect(await store.listQuestionDms(kept)).toHaveLength(1);
        expect(await store.markOnce(`final:${kept}`)).toBe(false);
        expect(await store.markOnce(`ask:${kept}:approve:1`)).toBe(false);
      }
    });

    test('pruneFinished forgets marks of no run kept (a retention pass’s own) once older than the cutoff', async () => {
      const store = await open();
      const cutoff = new Date('2025-02-01T00:00:00Z');
      await store.saveProgressMessage(message('live', { startedAt: new Date('2025-01-01T00:00:00Z') }));
      await store.markOnce('retention:100', new Date('2025-01-01T00:00:00Z'));
      await store.markOnce('retention:200', new Date('2025-03-01T00:00:00Z'));
      await store.markOnce('seen:live:approve', new Date('2025-01-01T00:00:00Z'));
      expect(await store.pruneFinished(cutoff, 10)).toBe(0);
      expect(await store.markOnce('retention:100')).toBe(true); // forgotten
      expect(await store.markOnce('retention:200')).toBe(false); // not old enough
      expect(await store.markOnce('seen:live:approve')).toBe(false); // its run is kept
    });

    test('invalid dates are refused', async () => {
      const store = await open();
      await expect(store.saveProgressMessage(message('r', { startedAt: new Date('nope') }))).rejects.toThrow(
        TypeError,
      );
      await store.saveProgressMessage(message('r'));
      await expect(store.updateProgressMessage('r', { notifiedAt: new Date(Number.NaN) })).rejects.toThrow(
        TypeError,
      );
      await expect(store.claimAnswer('r', 's', 'U1', new Date(Number.NaN))).rejects.toThrow(TypeError);
    });
  });

  describe('answers', () => {
    const at1 = new Date('2025-01-01T00:00:01.000Z');
    const at2 = new Date('2025-01-01T00:00:02.000Z');

    test('the first claim wins; later claims (even by the same user) learn who holds it', async () => {
      const store = await open();
      expect(await store.claimAnswer('run-1', 'approve', 'U1', at1)).toEqual({ claimed: true });
      expect(await store.claimAnswer('run-1', 'approve', 'U2', at2)).toEqual({
        claimed: false,
        by: 'U1',
        at: at1,
        state: 'claimed',
      });
      expect(await store.claimAnswer('run-1', 'approve', 'U1', at2)).toEqual({
        claimed: false,
        by: 'U1',
        at: at1,
        state: 'claimed',
      });
      expect(await store.getAnswer('run-1', 'approve')).toEqual({
        runId: 'run-1',
        stepPath: 'approve',
        userId: 'U1',
        answeredAt: at1,
        state: 'claimed',
      });
    });

    test('a claim never resumed nor released within the lease is taken over; a resumed one never is', async () => {
      const store = await open();
      const later = (ms: number) => new Date(at1.getTime() + ms);
      expect((await store.claimAnswer('run-1', 'approve', 'U1', at1)).claimed).toBe(true);
      expect(await store.claimAnswer('run-1', 'approve', 'U2', later(CLAIM_LEASE_MS - 1))).toMatchObject({
        claimed: false,
        by: 'U1',
      });
      expect(await store.claimAnswer('run-1', 'approve', 'U2', later(CLAIM_LEASE_MS))).toEqual({
        claimed: true,
      });
      expect(await store.getAnswer('run-1', 'approve')).toMatchObject({ userId: 'U2', state: 'claimed' });
      // The stranded holder can no longer release or complete what it lost.
      await store.releaseAnswer('run-1', 'approve', 'U1');
      await store.completeAnswer('run-1', 'approve', 'U1', 'late');
      expect(await store.getAnswer('run-1', 'approve')).toMatchObject({ userId: 'U2', state: 'claimed' });

      await store.claimAnswer('run-2', 'approve', 'U1', at1);
      await store.completeAnswer('run-2', 'approve', 'U1', 'Approved');
      expect(await store.claimAnswer('run-2', 'approve', 'U2', later(10 * CLAIM_LEASE_MS))).toMatchObject({
        claimed: false,
        by: 'U1',
        state: 'resumed',
      });
    });

    test('claims are per run and step path', async () => {
      const store = await open();
      expect((await store.claimAnswer('run-1', 'approve', 'U1', at1)).claimed).toBe(true);
      expect((await store.claimAnswer('run-1', 'inner.approve', 'U2', at1)).claimed).toBe(true);
      expect((await store.claimAnswer('run-2', 'approve', 'U3', at1)).claimed).toBe(true);
      expect((await store.getAnswer('run-1', 'inner.approve'))?.userId).toBe('U2');
      expect((await store.getAnswer('run-2', 'approve'))?.userId).toBe('U3');
      expect(await store.getAnswer('run-3', 'approve')).toBeUndefined();
    });

    test('complete moves a claim to resumed with a summary', async () => {
      const store = await open();
      await store.claimAnswer('run-1', 'approve', 'U1', at1);
      await store.completeAnswer('run-1', 'approve', 'U1', 'Approved: looks good');
      expect(await store.getAnswer('run-1', 'approve')).toEqual({
        runId: 'run-1',
        stepPath: 'approve',
        userId: 'U1',
        answeredAt: at1,
        state: 'resumed',
        summary: 'Approved: looks good',
      });
      expect(await store.claimAnswer('run-1', 'approve', 'U2', at2)).toEqual({
        claimed: false,
        by: 'U1',
        at: at1,
        state: 'resumed',
      });
      // completing again, or without a claim, changes nothing
      await store.completeAnswer('run-1', 'approve', 'U1', 'other');
      expect((await store.getAnswer('run-1', 'approve'))?.summary).toBe('Approved: looks good');
      await store.completeAnswer('run-1', 'unclaimed', 'U1', 'x');
      expect(await store.getAnswer('run-1', 'unclaimed')).toBeUndefined();
    });

    test('only the claimer can release, and only before the resume', async () => {
      const store = await open();
      await store.claimAnswer('run-1', 'approve', 'U1', at1);
      await store.releaseAnswer('run-1', 'approve', 'U2');
      expect((await store.getAnswer('run-1', 'approve'))?.userId).toBe('U1');
      await store.releaseAnswer('run-1', 'approve', 'U1');
      expect(await store.getAnswer('run-1', 'approve')).toBeUndefined();
      expect(await store.claimAnswer('run-1', 'approve', 'U2', at2)).toEqual({ claimed: true });
      await store.completeAnswer('run-1', 'approve', 'U2', 'done');
      await store.releaseAnswer('run-1', 'approve', 'U2');
      expect((await store.getAnswer('run-1', 'approve'))?.state).toBe('resumed');
    });
  });

  describe('answers per run and once-only marks', () => {
    test("listAnswers returns a run's answers oldest first, and only that run's", async () => {
      const store = await open();
      await store.claimAnswer('run-1', 'b', 'U2', new Date(2000));
      await store.claimAnswer('run-1', 'a', 'U1', new Date(1000));
      await store.claimAnswer('run-2', 'a', 'U3', new Date(500));
      await store.completeAnswer('run-1', 'a', 'U1', 'approved');
      expect(
        (await store.listAnswers('run-1')).map((a) => [a.stepPath, a.userId, a.state, a.summary]),
      ).toEqual([
        ['a', 'U1', 'resumed', 'approved'],
        ['b', 'U2', 'claimed', undefined],
      ]);
      expect(await store.listAnswers('run-3')).toEqual([]);
    });

    test('markOnce is true only the first time, across reopen and a second replica', async () => {
      const first = await open();
      expect(await first.markOnce('final:run-1')).toBe(true);
      expect(await first.markOnce('final:run-1')).toBe(false);
      const replica = await open();
      expect(await replica.markOnce('final:run-1')).toBe(false);
      expect(await replica.markOnce('final:run-2')).toBe(true);
      await first.close();
      expect(await (await open()).markOnce('final:run-2')).toBe(false);
    });
  });

  describe('storage', () => {
    test('nothing is lost on restart', async () => {
      const first = await open();
      await first.saveProgressMessage(message('run-1'));
      await first.saveProgressMessage(message('run-2', { final: true, status: 'success' }));
      await first.claimAnswer('run-1', 'approve', 'U1', new Date(1000));
      await first.claimAnswer('run-1', 'review', 'U2', new Date(2000));
      await first.completeAnswer('run-1', 'review', 'U2', 'ok');
      await first.close();
      await first.close(); // idempotent

      const second = await open();
      expect(await second.getProgressMessage('run-1')).toEqual(message('run-1'));
      expect((await second.listUnfinished()).map((m) => m.runId)).toEqual(['run-1']);
      expect((await second.getAnswer('run-1', 'approve'))?.state).toBe('claimed');
      expect(await second.getAnswer('run-1', 'review')).toMatchObject({
        state: 'resumed',
        summary: 'ok',
        userId: 'U2',
      });
      expect(await second.claimAnswer('run-1', 'approve', 'U3', new Date(3000))).toMatchObject({
        claimed: false,
        by: 'U1',
      });
    });

    test('two stores on one database (replicas) see each other: the claim is shared', async () => {
      const a = await open();
      const b = await open();
      await a.saveProgressMessage(message('run-1'));
      expect(await b.getProgressMessage('run-1')).toEqual(message('run-1'));
      expect(await a.claimAnswer('run-1', 'approve', 'U1', new Date(1000))).toEqual({ claimed: true });
      expect(await b.claimAnswer('run-1', 'approve', 'U2', new Date(2000))).toEqual({
        claimed: false,
        by: 'U1',
        at: new Date(1000),
        state: 'claimed',
      });
      await b.releaseAnswer('run-1', 'approve', 'U2'); // not the claimer: no effect
      expect((await a.getAnswer('run-1', 'approve'))?.userId).toBe('U1');
      await a.releaseAnswer('run-1', 'approve', 'U1');
      expect(await b.claimAnswer('run-1', 'approve', 'U2', new Date(3000))).toEqual({ claimed: true });
      await b.updateProgressMessage('run-1', { final: true });
      expect(await a.listUnfinished()).toEqual([]);
    });

    test('concurrent claims through separate stores: exactly one winner per step', async () => {
      const stores = await Promise.all([open(), open(), open(), open()]);
      const steps = 20;
      const results = await Promise.all(
        stores.map((store, i) =>
          Promise.all(
            Array.from({ length: steps }, (_, step) =>
              store.claimAnswer('run-race', `step-${step}`, `U${i}`, new Date(1000)),
            ),
          ),
        ),
      );
      for (let step = 0; step < steps; step++) {
        const winners = results.flatMap((r, i) => (r[step]?.claimed ? [`U${i}`] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          const entry = r[step]!;
          if (!entry.claimed) expect(entry.by).toBe(winners[0]);
        }
        expect((await stores[0]!.getAnswer('run-race', `step-${step}`))?.userId).toBe(winners[0]);
      }
      const marks = await Promise.all(stores.map((store) => store.markOnce('final:run-race')));
      expect(marks.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('open forms and messages', () => {
    test('a progress message is found by the message it was posted as', async () => {
      const store = await open();
      await store.saveProgressMessage(message('run-a', { channel: 'C1', ts: '1.1' }));
      await store.saveProgressMessage(message('run-b', { channel: 'C2', ts: '1.1' }));
      expect((await store.findProgressMessage('C1', '1.1'))?.runId).toBe('run-a');
      expect((await store.findProgressMessage('C2', '1.1'))?.runId).toBe('run-b');
      expect(await store.findProgressMessage('C1', '2.2')).toBeUndefined();
    });

    test("a question asked in a person's DMs: recorded once per question and person, its message found as the run's", async () => {
      const a = await open();
      const b = await open();
      await a.saveProgressMessage(message('run-a', { channel: 'C1', ts: '1.1' }));
      const dm = {
        runId: 'run-a',
        suspensionKey: 'gate#5',
        userId: 'U1',
        channel: 'D1',
        ts: '2.2',
        at: new Date(10),
      };
      await a.saveQuestionDm(dm);
      await b.saveQuestionDm({ ...dm, userId: 'U2', channel: 'D2', ts: '3.3', at: new Date(11) });
      // The same question and person again: replaced, not doubled.
      await b.saveQuestionDm({ ...dm, ts: '2.5', at: new Date(12) });
      expect((await b.findProgressMessage('D2', '3.3'))?.runId).toBe('run-a');
      expect((await a.findProgressMessage('D1', '2.5'))?.runId).toBe('run-a');
      expect(await a.findProgressMessage('D1', '2.2')).toBeUndefined();
      expect((await a.listQuestionDms('run-a')).map((d) => [d.userId, d.channel, d.ts, d.at])).toEqual([
        ['U2', 'D2', '3.3', new Date(11)],
        ['U1', 'D1', '2.5', new Date(12)],
      ]);
      expect(await a.listQuestionDms('run-b')).toEqual([]);
    });

    test('forms are recorded by view id, kept across reopening, and forgotten after a day', async () => {
      const at = new Date('2026-01-01T00:00:00Z');
      let store = await open();
      await store.saveForm({
        kind: 'start',
        viewId: 'V1',
        userId: 'U1',
        openedAt: at,
        workflowKey: 'wf',
        channel: 'C1',
      });
      await store.saveForm({
        kind: 'answer',
        viewId: 'V2',
        userId: 'U2',
        openedAt: at,
        runId: 'run-1',
        stepPath: ['outer', 'in.ner'],
        suspendedAt: new Date(5),
      });
      // A form for one `.foreach()` iteration keeps which one.
      await store.saveForm({
        kind: 'answer',
        viewId: 'V4',
        userId: 'U2',
        openedAt: at,
        runId: 'run-1',
        stepPath: ['each'],
        suspendedAt: new Date(6),
        forEachIndex: 2,
      });
      await store.close();
      store = await open();
      expect(await store.getForm('V1', at)).toEqual({
        kind: 'start',
        viewId: 'V1',
        userId: 'U1',
        openedAt: at,
        workflowKey: 'wf',
        channel: 'C1',
      });
      expect(await store.getForm('V2', at)).toMatchObject({
        stepPath: ['outer', 'in.ner'],
        suspendedAt: new Date(5),
      });
      expect(await store.getForm('V2', at)).not.toHaveProperty('forEachIndex');
      expect(await store.getForm('V4', at)).toMatchObject({ stepPath: ['each'], forEachIndex: 2 });
      expect(await store.getForm('V1', new Date(at.getTime() + FORM_TTL_MS))).toBeUndefined();
      await store.deleteForm('V2');
      expect(await store.getForm('V2', at)).toBeUndefined();
      // Saving a newer form drops expired ones.
      const later = new Date(at.getTime() + FORM_TTL_MS + 1);
      await store.saveForm({
        kind: 'start',
        viewId: 'V3',
        userId: 'U1',
        openedAt: later,
        workflowKey: 'wf',
        channel: 'C1',
      });
      expect(await store.getForm('V1', at)).toBeUndefined();
    });
  });

  describe('the one message of a run started elsewhere', () => {
    test('one claim wins across stores; a failed post is released; a stranded claim is taken over', async () => {
      const a = await open();
      const b = await open();
      const at = new Date('2026-02-01T00:00:00Z');
      const row = message('ext-1', {
        ts: '',
        origin: 'elsewhere',
        requester: 'billing-bot',
        starterId: null,
        startedAt: at,
      });
      expect(await a.claimProgressMessage(row)).toBe(true);
      expect(await b.claimProgressMessage(row)).toBe(false);
      // Not posted yet: not a message to follow after a restart.
      expect((await a.listUnfinished()).map((m) => m.runId)).not.toContain('ext-1');
      await a.releaseProgressMessage('ext-1');
      expect(await b.claimProgressMessage(row)).toBe(true);
      // Posted: never claimed again, and released no more.
      await b.updateProgressMessage('ext-1', { ts: '1.2' });
      await b.releaseProgressMessage('ext-1');
      expect(
        await a.claimProgressMessage({ ...row, startedAt: new Date(at.getTime() + CLAIM_LEASE_MS * 2) }),
      ).toBe(false);
      expect(await a.getProgressMessage('ext-1')).toMatchObject({
        ts: '1.2',
        origin: 'elsewhere',
        requester: 'billing-bot',
      });
      // A claim whose process stopped before posting is taken over once its lease is over.
      expect(await a.claimProgressMessage(message('ext-2', { ts: '', startedAt: at }))).toBe(true);
      expect(
        await b.claimProgressMessage(message('ext-2', { ts: '', startedAt: new Date(at.getTime() + 1000) })),
      ).toBe(false);
      expect(
        await b.claimProgressMessage(
          message('ext-2', { ts: '', startedAt: new Date(at.getTime() + CLAIM_LEASE_MS) }),
        ),
      ).toBe(true);
      expect(await a.getProgressMessage('run-slack')).toBeUndefined();
    });
  });

  describe('edits of a progress message (compare-and-set)', () => {
    const v = (at: number, steps = 1, marks = 0, final: 0 | 1 = 0) => ({ final, at, steps, marks });
    const edit = (version: ReturnType<typeof v>, hash: string) => ({ version, hash });

    test('newer goes, older is refused across stores; a final is never followed by a non-final', async () => {
      const a = await open();
      const b = await open();
      await a.saveProgressMessage(message('run-1'));
      expect(await a.claimEdit('run-1', edit(v(1000), 'h1'))).toBe('send');
      await a.editShown('run-1', edit(v(1000), 'h1'));
      // Newer in every field of the version, in order.
      expect(await b.claimEdit('run-1', edit(v(2000), 'h2'))).toBe('send');
      expect(await a.claimEdit('run-1', edit(v(1500, 9, 9), 'h3'))).toBe('stale');
      expect(await a.claimEdit('run-1', edit(v(2000, 2), 'h3'))).toBe('send');
      expect(await b.claimEdit('run-1', edit(v(2000, 2, 1), 'h4'))).toBe('send');
      expect(await a.claimEdit('run-1', edit(v(2000, 2, 0), 'h5'))).toBe('stale');
      // The final outranks every other; after it nothing that is not final goes.
      expect(await a.claimEdit('run-1', edit(v(0, 0, 0, 1), 'final'))).toBe('send');
      await a.editShown('run-1', edit(v(0, 0, 0, 1), 'final'));
      expect(await b.claimEdit('run-1', edit(v(10 ** 13, 10 ** 6, 10 ** 6), 'late'))).toBe('stale');
      expect(await b.claimEdit('run-1', edit(v(0, 0, 0, 1), 'final'))).toBe('shown');
      // A later final with more of what Flowgate adds (a cancel, a notice) still goes.
      expect(await b.claimEdit('run-1', edit(v(0, 0, 1, 1), 'final+'))).toBe('send');
      // No such message: nothing goes.
      expect(await a.claimEdit('run-none', edit(v(1), 'h'))).toBe('stale');
    });

    test('equal versions: another content goes, the content shown does not; a send that failed or a stop in between is tried again', async () => {
      const a = await open();
      const b = await open();
      await a.saveProgressMessage(message('run-2'));
      // Posted: what the message shows, recorded.
      await a.editShown('run-2', edit(v(100), 'posted'));
      expect(await b.claimEdit('run-2', edit(v(100), 'posted'))).toBe('shown');
      // Newer but the same content: nothing to send, and the newer version is kept.
      expect(await b.claimEdit('run-2', edit(v(200), 'posted'))).toBe('shown');
      expect(await a.claimEdit('run-2', edit(v(150), 'other'))).toBe('stale');
      // The same version with another content (a vote, a step's live output) goes.
      expect(await a.claimEdit('run-2', edit(v(200), 'vote'))).toBe('send');
      // Claimed but never known shown (the send failed, or the process stopped before it was
      // recorded): the same edit goes again, from this store or another.
      expect(await a.claimEdit('run-2', edit(v(200), 'vote'))).toBe('send');
      expect(await b.claimEdit('run-2', edit(v(200), 'vote'))).toBe('send');
      await b.editShown('run-2', edit(v(200), 'vote'));
      expect(await a.claimEdit('run-2', edit(v(200), 'vote'))).toBe('shown');
      // A delivery recorded late does not undo a newer claim.
      expect(await a.claimEdit('run-2', edit(v(300), 'next'))).toBe('send');
      await b.editShown('run-2', edit(v(200), 'vote'));
      await b.editShown('run-2', edit(v(300), 'another'));
      expect(await b.claimEdit('run-2', edit(v(300), 'next'))).toBe('send');
      await a.editShown('run-2', edit(v(300), 'next'));
      expect(await b.claimEdit('run-2', edit(v(300), 'next'))).toBe('shown');
      // Saving or updating the row leaves its edits alone; they go with the run at retention.
      await a.updateProgressMessage('run-2', { status: 'success', final: true });
      expect(await b.claimEdit('run-2', edit(v(300), 'next'))).toBe('shown');
      expect(await a.pruneFinished(new Date('2100-01-01T00:00:00Z'), 10)).toBe(1);
      await a.saveProgressMessage(message('run-2'));
      expect(await b.claimEdit('run-2', edit(v(1), 'fresh'))).toBe('send');
    });

    test('concurrent claims of one version: exactly one goes', async () => {
      const stores = await Promise.all([open(), open(), open()]);
      await stores[0]!.saveProgressMessage(message('run-3'));
      await stores[0]!.editShown('run-3', edit(v(100), 'same'));
      const results = await Promise.all(
        stores.flatMap((s, i) => [s.claimEdit('run-3', edit(v(200 + i), `h${i}`))]),
      );
      // Each is newer than the shown one when it runs; the last to commit holds the claim, and
      // whatever came after a newer one was refused.
      expect(results.filter((r) => r === 'send').length).toBeGreaterThanOrEqual(1);
      expect(await stores[0]!.claimEdit('run-3', edit(v(202), 'h2'))).toBe('send');
      expect(await stores[1]!.claimEdit('run-3', edit(v(201), 'h1'))).toBe('stale');
    });
  });

  describe('requesters not yet known', () => {
    const t0 = new Date('2026-02-10T00:00:00Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);
    const pendingRow = (runId: string, retryAt: Date, over: Partial<ProgressMessage> = {}) =>
      message(runId, {
        origin: 'elsewhere',
        starterId: null,
        requester: 'Ada@Example.com',
        requesterPending: { lookup: 'ada@example.com', attempts: 1, retryAt },
        ...over,
      });

    test('stored pending with the message (save and claim), due by retry time, one claim per try, settled once', async () => {
      const a = await open();
      const b = await open();
      await a.saveProgressMessage(pendingRow('pend-1', at(5000)));
      expect(await b.claimProgressMessage(pendingRow('pend-2', at(1000), { ts: '' }))).toBe(true);
      await a.saveProgressMessage(message('known-1'));
      expect(await b.getProgressMessage('pend-1')).toMatchObject({
        starterId: null,
        requester: 'Ada@Example.com',
        requesterPending: { lookup: 'ada@example.com', attempts: 1, retryAt: at(5000) },
      });
      expect((await a.getProgressMessage('known-1'))?.requesterPending).toBeUndefined();
      // Only posted messages are looked up; soonest first; not before their time; `limit` at most.
      expect(await a.dueRequesterLookups(at(10_000), 10)).toHaveLength(1);
      await b.updateProgressMessage('pend-2', { ts: '2.2' });
      expect((await a.dueRequesterLookups(at(10_000), 10)).map((m) => m.runId)).toEqual(['pend-2', 'pend-1']);
      expect((await a.dueRequesterLookups(at(10_000), 1)).map((m) => m.runId)).toEqual(['pend-2']);
      expect((await a.dueRequesterLookups(at(2000), 10)).map((m) => m.runId)).toEqual(['pend-2']);
      expect(await a.dueRequesterLookups(at(999), 10)).toEqual([]);
      // A finished run is still looked up: its requester is owed the end DM.
      await a.updateProgressMessage('pend-1', { final: true, status: 'success' });
      expect((await b.dueRequesterLookups(at(10_000), 10)).map((m) => m.runId)).toContain('pend-1');
      // One try per due time, whichever store asks first; it moves the next try on.
      const [first, second] = await Promise.all([
        a.claimRequesterLookup('pend-1', at(5000), at(20_000)),
        b.claimRequesterLookup('pend-1', at(5000), at(20_000)),
      ]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      expect((await a.getProgressMessage('pend-1'))?.requesterPending).toEqual({
        lookup: 'ada@example.com',
        attempts: 2,
        retryAt: at(20_000),
      });
      expect((await a.dueRequesterLookups(at(10_000), 10)).map((m) => m.runId)).toEqual(['pend-2']);
      expect(await a.claimRequesterLookup('pend-1', at(5000), at(30_000))).toBe(false);
      expect(await a.claimRequesterLookup('known-1', at(5000), at(30_000))).toBe(false);
      // Known: the starter, the text dropped, no longer pending nor due; settled once.
      expect(await b.settleRequester('pend-1', 'U0ADA0001')).toBe(true);
      expect(await a.settleRequester('pend-1', 'U0OTHER01')).toBe(false);
      const known = await a.getProgressMessage('pend-1');
      expect(known?.starterId).toBe('U0ADA0001');
      expect(known?.requester).toBeUndefined();
      expect(known?.requesterPending).toBeUndefined();
      expect(known?.final).toBe(true);
      // No such user: the text stays, and nobody is the starter.
      expect(await a.settleRequester('pend-2', null)).toBe(true);
      expect(await b.getProgressMessage('pend-2')).toMatchObject({
        starterId: null,
        requester: 'Ada@Example.com',
      });
      expect((await b.getProgressMessage('pend-2'))?.requesterPending).toBeUndefined();
      expect(await a.dueRequesterLookups(at(10 ** 9), 10)).toEqual([]);
      // Saving a row again without it clears it; updates never touch it.
      await a.saveProgressMessage(pendingRow('pend-3', at(1)));
      await a.updateProgressMessage('pend-3', { status: 'suspended' });
      expect((await a.getProgressMessage('pend-3'))?.requesterPending?.lookup).toBe('ada@example.com');
      await a.saveProgressMessage(message('pend-3'));
      expect((await a.getProgressMessage('pend-3'))?.requesterPending).toBeUndefined();
    });
  });

  describe('send budgets', () => {
    // An hour between permits: the database's clock cannot grant the next one during the test.
    const HOUR = 3_600_000;
    const schedule = { intervalMs: HOUR, toleranceMs: 2 * HOUR }; // bursts of 3

    test('a burst, then none until the pace allows; the wait is told; budgets are apart by name', async () => {
      const store = await open();
      expect(await store.takeSendPermits('chat.update', 2, schedule)).toEqual({ granted: 2, retryInMs: 0 });
      const rest = await store.takeSendPermits('chat.update', 5, schedule);
      expect(rest.granted).toBe(1);
      expect(rest.retryInMs).toBeGreaterThan(HOUR - 60_000);
      expect(rest.retryInMs).toBeLessThanOrEqual(HOUR);
      const none = await store.takeSendPermits('chat.update', 1, schedule);
      expect(none.granted).toBe(0);
      expect(none.retryInMs).toBeGreaterThan(HOUR - 60_000);
      expect((await store.takeSendPermits('other', 1, schedule)).granted).toBe(1);
      await expect(store.takeSendPermits('chat.update', 0, schedule)).rejects.toThrow(/want/);
      await expect(
        store.takeSendPermits('chat.update', 1, { intervalMs: 0, toleranceMs: 0 }),
      ).rejects.toThrow(/intervalMs/);
    });

    test('stores taking at once never get more than the budget between them', async () => {
      const stores = await Promise.all([open(), open(), open()]);
      const takes = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          stores[i % 3]!.takeSendPermits('chat.update', 1 + (i % 2), schedule),
        ),
      );
      expect(takes.reduce((sum, t) => sum + t.granted, 0)).toBe(3);
      // Another store, later (a replica started afterwards): the same ledger.
      const late = await open();
      expect((await late.takeSendPermits('chat.update', 1, schedule)).granted).toBe(0);
    });
  });

  describe('run leases', () => {
    const t0 = new Date('2026-03-01T00:00:00Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);

    test('one owner at a time; a lease that ran out is taken; force takes it at once; released is free', async () => {
      const a = await open();
      const b = await open();
      await a.saveProgressMessage(message('run-1'));
      expect(await a.acquireRun('run-1', 'A', at(1000), t0)).toBe(true);
      expect(await b.acquireRun('run-1', 'B', at(1000), at(10))).toBe(false);
      expect(await a.acquireRun('run-1', 'A', at(2000), at(10))).toBe(true); // its own: extended
      expect(await b.acquireRun('run-1', 'B', at(3000), at(2000))).toBe(true); // ran out
      expect(await a.renewRuns('A', at(5000), at(2001))).toEqual([]);
      expect(await b.renewRuns('B', at(5000), at(2001))).toEqual(['run-1']);
      expect(await a.acquireRun('run-1', 'A', at(6000), at(2002), true)).toBe(true); // forced
      expect(await b.renewRuns('B', at(7000), at(2003))).toEqual([]);
      await b.releaseRun('run-1', 'B'); // not the owner: nothing
      expect(await b.acquireRun('run-1', 'B', at(7000), at(2004))).toBe(false);
      await a.releaseRun('run-1', 'A');
      expect(await b.acquireRun('run-1', 'B', at(7000), at(2005))).toBe(true);
      // Finished, unposted and unknown runs are never leased.
      await a.saveProgressMessage(message('done', { final: true }));
      await a.saveProgressMessage(message('unposted', { ts: '' }));
      for (const runId of ['done', 'unposted', 'nope'])
        expect(await a.acquireRun(runId, 'A', at(9000), t0, true)).toBe(false);
    });

    test("claims spread runs over live replicas, skip parked ones unless asked, and take a dead owner's runs", async () => {
      const stores = await Promise.all([open(), open(), open()]);
      for (let i = 0; i < 6; i++)
        await stores[0]!.saveProgressMessage(message(`run-${i}`, { startedAt: at(i) }));
      await stores[0]!.saveProgressMessage(message('waiting', { status: 'suspended', startedAt: at(10) }));
      const claimed = await Promise.all(
        stores.map((store, i) => store.claimRuns(`R${i}`, at(15_000), t0, 3)),
      );
      expect(claimed.map((runs) => runs.length)).toEqual([2, 2, 2]);
      const all = claimed.flat().map((m) => m.runId);
      expect(new Set(all).size).toBe(6);
      expect(all).not.toContain('waiting');
      expect(await stores[0]!.claimRuns('R0', at(15_000), t0, 3)).toEqual([]);
      // R2 dies: once its leases ran out, the two left share its runs.
      await stores[0]!.renewRuns('R0', at(40_000), at(10_000));
      await stores[1]!.renewRuns('R1', at(40_000), at(10_000));
      const later = at(20_000);
      const taken = [
        ...(await stores[0]!.claimRuns('R0', at(50_000), later, 2)),
        ...(await stores[1]!.claimRuns('R1', at(50_000), later, 2)),
      ].map((m) => m.runId);
      expect(taken.sort()).toEqual(claimed[2]!.map((m) => m.runId).sort());
      // At start-up, runs that wait for an answer are claimed too.
      expect((await stores[2]!.claimRuns('R2', at(50_000), later, 1, true)).map((m) => m.runId)).toEqual([
        'waiting',
      ]);
      await stores[0]!.releaseRuns('R0');
      expect((await stores[1]!.claimRuns('R1', at(50_000), later, 1)).length).toBe(3);
    });

    test('heartbeats count live replicas; one that left or went silent is not counted', async () => {
      const store = await open();
      expect(await store.heartbeat('A', at(1000), t0)).toBe(1);
      expect(await store.heartbeat('B', at(1000), t0)).toBe(2);
      expect(await store.heartbeat('C', at(5000), at(100))).toBe(3);
      await store.leave('C');
      expect(await store.heartbeat('A', at(3000), at(200))).toBe(2);
      expect(await store.heartbeat('A', at(4000), at(1500))).toBe(1); // B went silent
      await store.health();
    });

    test('replica ids: the live ones and every holder of an unfinished run’s lease', async () => {
      const store = await open();
      await store.heartbeat('A', at(1000), t0);
      await store.heartbeat('B', at(1000), t0);
      await store.saveProgressMessage(message('held', { ts: '1.0' }));
      await store.saveProgressMessage(message('done', { ts: '2.0' }));
      await store.acquireRun('held', 'Z', at(9000), t0);
      await store.acquireRun('done', 'Y', at(9000), t0);
      await store.updateProgressMessage('done', { final: true });
      expect(await store.replicaIds(at(500))).toEqual(['A', 'B', 'Z']);
      await store.leave('A');
      await store.releaseRuns('Z');
      expect(await store.replicaIds(at(500))).toEqual(['B']);
      expect(await store.replicaIds(at(2000))).toEqual([]);
    });
  });

  describe('deadlines and votes', () => {
    const since = new Date('2026-12-01T09:00:00.000Z');
    const plus = (ms: number) => new Date(since.getTime() + ms);
    const deadline = (over: Partial<Deadline> = {}): Deadline => ({
      runId: 'run-1',
      suspensionKey: `approve#${since.getTime()}`,
      stepPath: 'approve',
      kind: 'timeout',
      since,
      dueAt: plus(60_000),
      state: 'pending',
      ...over,
    });

    test('stored once per suspension and kind; due ones soonest first, at most `limit`', async () => {
      const store = await open();
      await store.scheduleDeadlines([
        deadline({ kind: 'remind', dueAt: plus(30_000) }),
        deadline(),
        deadline({ runId: 'run-2', dueAt: plus(10_000) }),
      ]);
      // Seeing the suspension again changes nothing.
      await store.scheduleDeadlines([deadline({ dueAt: plus(1) })]);
      expect(await store.dueDeadlines(plus(5_000), 10)).toEqual([]);
      expect((await store.dueDeadlines(plus(60_000), 10)).map((d) => [d.runId, d.kind])).toEqual([
        ['run-2', 'timeout'],
        ['run-1', 'remind'],
        ['run-1', 'timeout'],
      ]);
      expect(await store.dueDeadlines(plus(60_000), 1)).toHaveLength(1);
      expect(await store.listDeadlines('run-1')).toEqual([
        deadline({ kind: 'remind', dueAt: plus(30_000) }),
        deadline(),
      ]);
    });

    test('each due deadline is claimed once across Stores; a stale claim is taken over', async () => {
      const a = await open();
      const b = await open();
      await a.scheduleDeadlines([deadline()]);
      const due = plus(60_000);
      const [found] = await b.dueDeadlines(due, 10);
      const claims = await Promise.all([a.claimDeadline(found!, due), b.claimDeadline(found!, due)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      // Claimed: not due for anyone until the claim is stale.
      expect(await a.dueDeadlines(plus(61_000), 10)).toEqual([]);
      expect(await b.claimDeadline(found!, plus(61_000))).toBe(false);
      const stale = plus(60_000 + CLAIM_LEASE_MS);
      expect(await b.dueDeadlines(stale, 10)).toHaveLength(1);
      expect(await b.claimDeadline(found!, stale)).toBe(true);
    });

    test('finished: done for good, or pending again at the next reminder; a finished one is not claimed again', async () => {
      const store = await open();
      await store.scheduleDeadlines([deadline(), deadline({ kind: 'remind', dueAt: plus(30_000) })]);
      const due = plus(60_000);
      const [remind, timeout] = await store.dueDeadlines(due, 10);
      expect(await store.claimDeadline(remind!, due)).toBe(true);
      await store.finishDeadline(remind!, { state: 'pending', firedAt: due, late: true, next: plus(90_000) });
      expect(await store.claimDeadline(timeout!, due)).toBe(true);
      await store.finishDeadline(timeout!, { state: 'done', firedAt: due, late: false, outcome: 'canceled' });
      expect(await store.claimDeadline(timeout!, plus(120_000))).toBe(false);
      expect(await store.claimDeadline(remind!, plus(120_000))).toBe(false); // its due time moved on
      expect(await store.listDeadlines('run-1')).toEqual([
        deadline({ state: 'done', firedAt: due, outcome: 'canceled' }),
        deadline({ kind: 'remind', dueAt: plus(90_000), firedAt: due, late: true }),
      ]);
      expect((await store.dueDeadlines(plus(90_000), 10)).map((d) => d.kind)).toEqual(['remind']);
      // A restart sees the same.
      const again = await open();
      expect((await again.dueDeadlines(plus(90_000), 10)).map((d) => d.kind)).toEqual(['remind']);
    });

    test('votes: each person once (their first vote), oldest first, per suspension', async () => {
      const a = await open();
      const b = await open();
      const key = `approve#${since.getTime()}`;
      expect(await a.recordVote('run-1', key, { userId: 'U0A', approve: true, at: plus(1) })).toEqual([
        { userId: 'U0A', approve: true, at: plus(1) },
      ]);
      await b.recordVote('run-1', key, { userId: 'U0A', approve: false, at: plus(2) });
      expect(await b.recordVote('run-1', key, { userId: 'U0B', approve: true, at: plus(3) })).toEqual([
        { userId: 'U0A', approve: true, at: plus(1) },
        { userId: 'U0B', approve: true, at: plus(3) },
      ]);
      await a.recordVote('run-1', 'other#1', { userId: 'U0C', approve: false, at: plus(4) });
      await a.recordVote('run-2', key, { userId: 'U0D', approve: true, at: plus(5) });
      expect(await a.listVotes('run-1')).toEqual([
        { suspensionKey: key, userId: 'U0A', approve: true, at: plus(1) },
        { suspensionKey: key, userId: 'U0B', approve: true, at: plus(3) },
        { suspensionKey: 'other#1', userId: 'U0C', approve: false, at: plus(4) },
      ]);
    });
  });

  describe('the outbox of thread replies and DMs', () => {
    const t0 = new Date('2026-12-07T10:00:00.000Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);
    const reply = {
      key: 'final:run-1',
      runId: 'run-1',
      to: { channel: 'C0CHANNEL', threadTs: '1700000000.000100' },
      text: 'Run succeeded.',
    };
    const dm = {
      key: 'dm:run-1:approve#1:U0B',
      runId: 'run-1',
      to: { userId: 'U0B' },
      text: 'A question',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'A question' } }],
      asks: ['approve#1', 'approve#2'],
    };

    test('written once per key, across stores; round-trips where it goes and what it says', async () => {
      const a = await open();
      const b = await open();
      expect(await a.addNotice(reply, t0)).toBe(true);
      expect(await b.addNotice({ ...reply, text: 'something else' }, at(5))).toBe(false);
      expect(await b.addNotice(dm, t0)).toBe(true);
      expect(await b.getNotice(reply.key)).toEqual({
        ...reply,
        createdAt: t0,
        state: 'pending',
        attempts: 0,
        nextAt: t0,
        unsure: false,
      });
      expect(await a.getNotice(dm.key)).toMatchObject({ ...dm, state: 'pending', unsure: false });
      expect(await a.getNotice('nothing:here')).toBeUndefined();
    });

    test('due ones soonest first; each attempt claimed by one store; a claim that ran out is taken over', async () => {
      const a = await open();
      const b = await open();
      await a.addNotice(dm, at(1));
      await a.addNotice(reply, t0);
      expect(await a.dueNotices(t0, 10)).toHaveLength(1);
      expect((await b.dueNotices(at(1), 10)).map((n) => n.key)).toEqual([reply.key, dm.key]);
      expect(await b.dueNotices(at(1), 1)).toHaveLength(1);
      const [first, second] = await Promise.all([
        a.claimNotice(reply.key, 'A', at(30_000), at(1)),
        b.claimNotice(reply.key, 'B', at(30_000), at(1)),
      ]);
      expect([first, second].filter((n) => n !== undefined)).toHaveLength(1);
      const claimed = first ?? second;
      const owner = first ? 'A' : 'B';
      // Returned as it was: no earlier attempt may have posted it.
      expect(claimed).toMatchObject({ attempts: 1, unsure: false, claimedBy: owner });
      expect(await a.getNotice(reply.key)).toMatchObject({ unsure: true, attempts: 1 });
      expect((await a.dueNotices(at(2), 10)).map((n) => n.key)).toEqual([dm.key]);
      // Its claimer stopped mid-call: once the claim ran out, another takes it and learns it may be posted.
      expect(await a.claimNotice(reply.key, 'C', at(60_000), at(29_999))).toBeUndefined();
      expect((await a.dueNotices(at(30_000), 10)).map((n) => n.key)).toContain(reply.key);
      expect(await b.claimNotice(reply.key, 'C', at(60_000), at(30_000))).toMatchObject({
        attempts: 2,
        unsure: true,
        claimedBy: 'C',
      });
      // The old claimer's late result is not taken.
      expect(
        await a.finishNotice(reply.key, owner, {
          state: 'sent',
          posted: { channel: 'C0CHANNEL', ts: '1.1' },
        }),
      ).toBe(false);
    });

    test('finished: sent for good, or pending again (not due before its next try), or given up', async () => {
      const store = await open();
      await store.addNotice(reply, t0);
      await store.addNotice(dm, t0);
      await store.claimNotice(reply.key, 'A', at(30_000), t0);
      expect(
        await store.finishNotice(reply.key, 'A', {
          state: 'pending',
          nextAt: at(5000),
          unsure: false,
          error: 'ratelimited',
        }),
      ).toBe(true);
      expect(await store.getNotice(reply.key)).toMatchObject({
        state: 'pending',
        nextAt: at(5000),
        unsure: false,
        error: 'ratelimited',
      });
      expect((await store.getNotice(reply.key))?.claimedBy).toBeUndefined();
      expect(await store.dueNotices(at(4999), 10)).toHaveLength(1); // the DM only
      expect(await store.claimNotice(reply.key, 'A', at(30_000), at(4999))).toBeUndefined();
      await store.claimNotice(reply.key, 'A', at(40_000), at(5000));
      await store.finishNotice(reply.key, 'A', {
        state: 'sent',
        posted: { channel: 'C0CHANNEL', ts: '1700000001.000200' },
      });
      expect(await store.getNotice(reply.key)).toMatchObject({
        state: 'sent',
        attempts: 2,
        posted: { channel: 'C0CHANNEL', ts: '1700000001.000200' },
      });
      expect((await store.getNotice(reply.key))?.error).toBeUndefined();
      expect(await store.claimNotice(reply.key, 'A', at(90_000), at(60_000))).toBeUndefined();
      await store.claimNotice(dm.key, 'A', at(30_000), t0);
      await store.finishNotice(dm.key, 'A', { state: 'given_up', error: 'cannot_dm_bot' });
      expect(await store.getNotice(dm.key)).toMatchObject({ state: 'given_up', error: 'cannot_dm_bot' });
      expect(await store.dueNotices(at(60_000), 10)).toEqual([]);
    });

    test("a dead replica's claims are given back: others try its notices at once", async () => {
      const store = await open();
      await store.addNotice(reply, t0);
      await store.addNotice(dm, t0);
      await store.claimNotice(reply.key, 'dead', at(60_000), t0);
      await store.claimNotice(dm.key, 'alive', at(60_000), t0);
      await store.releaseNotices('dead');
      expect((await store.dueNotices(at(1), 10)).map((n) => n.key)).toEqual([reply.key]);
      expect(await store.claimNotice(reply.key, 'other', at(60_000), at(1))).toMatchObject({
        unsure: true,
        attempts: 2,
      });
    });

    test('notices go with their run at retention', async () => {
      const store = await open();
      const old = new Date('2025-01-01T00:00:00Z');
      await store.saveProgressMessage(message('run-1', { startedAt: old, final: true }));
      await store.saveProgressMessage(message('run-2', { startedAt: old }));
      await store.addNotice(reply, t0);
      await store.addNotice({ ...reply, key: 'final:run-2', runId: 'run-2' }, t0);
      expect(await store.pruneFinished(new Date('2025-02-01T00:00:00Z'), 10)).toBe(1);
      expect(await store.getNotice(reply.key)).toBeUndefined();
      expect(await store.getNotice('final:run-2')).toBeDefined();
    });
  });
}
