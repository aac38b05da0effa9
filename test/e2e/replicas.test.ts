/**
 * Several replicas on one PostgreSQL: three `src/main.ts` processes on a real PostgreSQL server
 * (started here), behind a round-robin balancer for Slack's requests, with the Slack emulator and a
 * real Mastra server. Every guarantee holds across them: one answer wins, one message per run started
 * elsewhere, each run followed by one replica, a SIGKILLed replica's runs finished by the others and
 * each end notified once, a DM the dead replica could not post sent by another, and one
 * chat.update budget for the three together — exactly, even while one replica is stalled.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type JsonObject,
  type SlackEmulator,
  sendBlockAction,
  sendSlashCommand,
  startSlackEmulator,
} from '../../src/emulator/index.ts';
import { MastraClient } from '../../src/mastra/client.ts';
import { ALICE, BOB, CAROL, GENERAL, SIGNING_SECRET, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';
import { type Replicas, startReplicas } from '../support/replicas.ts';

const FINANCE = 'C0EMU0002';
const LEASE_MS = 3000;
/** The workspace's chat.update budget, for all three replicas together: 10 a second, bursts of 30. */
const UPDATES_PER_MINUTE = 600;
const BURST = Math.ceil(UPDATES_PER_MINUTE / 20);
/** The time the budget's schedule leaves an edit between its permit and Slack (src/slack/io/permits.ts). */
const DELIVERY_MARGIN_MS = 1000;

/**
 * Most of `times` (ms) within any 60 s — a window [t, t + 60 s) — allowing for what this process
 * could not read while it was held up (`held`) for longer than the margin the budget leaves an
 * edit on its way: the emulator stamps each call when this process reads it, and reads calls sent
 * meanwhile at once when it goes on.
 */
function worstMinute(times: number[], held: { max: number }): { worst: number; allowed: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! - sorted[i]! < 60_000) j++;
    worst = Math.max(worst, j - i);
  }
  const heldUpMs = Math.max(0, held.max / 1e6 - DELIVERY_MARGIN_MS);
  return { worst, allowed: UPDATES_PER_MINUTE + Math.ceil((UPDATES_PER_MINUTE / 60_000) * heldUpMs) };
}

let pg: PostgresServer;
let mastra: MastraTestServer;
let emulator: SlackEmulator;
let cluster: Replicas;
let client: MastraClient;
let dir: string;
let database: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowgate-replicas-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    `workflows:\n  simpleApprovalWorkflow:\n    approvers: [${BOB}, ${CAROL}]\n    channel: ${FINANCE}\n`,
  );
  [pg, mastra, emulator] = await Promise.all([
    startPostgres(),
    startMastraServer(),
    startSlackEmulator({
      // 60 runs started in one channel within seconds: Slack's 1 post per second per channel aside.
      rateLimits: {
        'chat.update': { perMinute: 100_000 },
        'chat.postMessage': { perSecond: 1000, burst: 1000, scope: 'channel' },
        'conversations.open': { perMinute: 100_000 },
      },
    }),
  ]);
  const url = await pg.createDatabase();
  database = new URL(url).pathname.slice(1);
  client = new MastraClient({ baseUrl: mastra.url });
  cluster = await startReplicas({
    emulator,
    mastraUrl: mastra.url,
    databaseUrl: url,
    count: 3,
    cwd: dir,
    env: {
      FLOWGATE_POLICY: policy,
      FLOWGATE_LEASE_MS: String(LEASE_MS),
      FLOWGATE_WATCH_INTERVAL_MS: '500',
      FLOWGATE_UPDATE_INTERVAL_MS: '100',
      FLOWGATE_UPDATES_PER_MINUTE: String(UPDATES_PER_MINUTE),
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await client?.close();
  await emulator?.close();
  await mastra?.close();
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});

const signed = () => ({ appUrl: cluster.appUrl, signingSecret: SIGNING_SECRET });

/** Top-level posts that name a run, by run id. */
function posts(): Map<string, { channel: string; ts: string }[]> {
  const byRun = new Map<string, { channel: string; ts: string }[]>();
  for (const call of emulator.callsOf('chat.postMessage')) {
    if (call.params.thread_ts || call.response.ok !== true) continue;
    const match = /run `([^`]+)`|\(run ([^)]+)\)/.exec(String(call.params.text));
    const runId = match?.[1] ?? match?.[2];
    if (!runId) continue;
    const list = byRun.get(runId) ?? [];
    list.push({ channel: String(call.response.channel), ts: String(call.response.ts) });
    byRun.set(runId, list);
  }
  return byRun;
}

function messageOf(runId: string) {
  const post = posts().get(runId)?.[0];
  if (!post) return undefined;
  const message = emulator.message(post.channel, post.ts);
  return message ? { ...post, text: message.text, blocks: JSON.stringify(message.blocks ?? []) } : undefined;
}

async function startRun(text: string, user = ALICE): Promise<string> {
  const before = new Set(posts().keys());
  await sendSlashCommand(emulator, {
    ...signed(),
    command: '/flowgate',
    text,
    userId: user,
    channelId: GENERAL,
  });
  return waitFor('a new run', () => [...posts().keys()].find((id) => !before.has(id)));
}

/** The thread replies a run's message got that contain `text`. */
function threadReplies(runId: string, text: string): number {
  const post = posts().get(runId)?.[0];
  return emulator
    .callsOf('chat.postMessage')
    .filter((c) => post && c.params.thread_ts === post.ts && String(c.params.text).includes(text)).length;
}

describe('three replicas on one PostgreSQL', () => {
  test('two approvers answer the same step at once through two replicas: one resume, the other is told', async () => {
    const runId = await startRun('start simpleApprovalWorkflow {"title": "Ship it?"}');
    const message = await waitFor('the buttons', () => {
      const m = messageOf(runId);
      return m?.blocks.includes('flowgate_approve') ? m : undefined;
    });
    // Back to back, so the balancer sends them to two different replicas.
    await Promise.all(
      [BOB, CAROL].map((user) =>
        sendBlockAction(emulator, {
          ...signed(),
          actionId: 'flowgate_approve',
          userId: user,
          channelId: message.channel,
          messageTs: message.ts,
          blockId: 'flowgate_step:simple-approve',
        }),
      ),
    );
    await waitFor('the run succeeded', () => messageOf(runId)?.text.includes('Succeeded'), 30_000);
    await waitFor('the other approver told', () =>
      [BOB, CAROL].some((user) =>
        emulator.ephemerals(user).some((e) => e.text.includes('already answered this step')),
      ),
    );
    expect(threadReplies(runId, 'answered *simple-approve*')).toBe(1);
    const { rows } = await pg.query(`SELECT user_id, state FROM answers WHERE run_id = '${runId}'`, database);
    expect(rows).toEqual([{ user_id: expect.stringMatching(/^(U0EMU0002|U0EMU0003)$/), state: 'resumed' }]);
  });

  test('runs started outside Slack get one message each, whichever replica finds them', async () => {
    const workflow = client.getWorkflow('simpleApprovalWorkflow');
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const run = await workflow.createRun({ resourceId: `billing-bot-${i}` });
      await workflow.run(run.runId).startAsync({ inputData: { title: `External ${i}` } });
      runIds.push(run.runId);
    }
    await waitFor('every run posted', () => runIds.every((id) => posts().has(id)), 30_000);
    // A few more checks by every replica: still one message each.
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of runIds) expect(posts().get(id)).toHaveLength(1);
    expect(posts().get(runIds[0]!)?.[0]?.channel).toBe(FINANCE);
  });

  test('60 runs spread over the replicas, each followed by one; a SIGKILLed replica’s runs finish on the others, each end notified once; one update budget for all', async () => {
    const before = new Set(posts().keys());
    const updatesBefore = emulator.callsOf('chat.update').length;
    // The emulator stamps each call when this process reads it: while this process is held up
    // (the in-process Mastra server ending 60 runs at once can hold it for seconds on 2 cores),
    // calls the replicas sent over that time are read together. How long it was held up is
    // measured, and allowed for below.
    const held = monitorEventLoopDelay({ resolution: 10 });
    held.enable();
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          sendSlashCommand(emulator, {
            ...signed(),
            command: '/flowgate',
            text: 'start manyStepsWorkflow {"steps": 4, "events": 8, "durationMs": 20000}',
            userId: ALICE,
            channelId: GENERAL,
          }),
        ),
      );
    }
    const runIds = await waitFor('60 runs posted', () => {
      const fresh = [...posts().keys()].filter((id) => !before.has(id));
      return fresh.length === 60 ? fresh : undefined;
    });
    // Each run is held by exactly one replica, and every replica holds some.
    const owners = await waitFor('every run leased', async () => {
      const { rows } = await pg.query(
        `SELECT run_id, owner FROM progress_messages WHERE run_id IN (${runIds.map((id) => `'${id}'`).join(',')})`,
        database,
      );
      return rows.length === 60 && rows.every((r) => r.owner) ? rows : undefined;
    });
    const byOwner = new Map<string, string[]>();
    for (const row of owners) byOwner.set(row.owner, [...(byOwner.get(row.owner) ?? []), row.run_id]);
    expect(byOwner.size).toBe(3);
    for (const held of byOwner.values()) expect(held.length).toBeGreaterThanOrEqual(10);

    // Kill the replica that holds the first run, mid-run (replica ids name their process).
    const { rows: live } = await pg.query('SELECT id FROM replicas', database);
    expect(live).toHaveLength(3);
    const victimOwner = owners.find((r) => r.run_id === runIds[0])!.owner as string;
    const victimRuns = byOwner.get(victimOwner)!;
    const killed = cluster.replicas.findIndex((r) => victimOwner.includes(`-${r.child.pid}-`));
    expect(killed).toBeGreaterThanOrEqual(0);
    expect(victimRuns.some((id) => !messageOf(id)?.text.includes('Succeeded'))).toBe(true);
    cluster.replicas[killed]!.child.kill('SIGKILL');
    await cluster.replicas[killed]!.exit;

    await waitFor(
      'every run succeeded',
      () => {
        // Says which runs are not there yet, and what their messages show, if it times out.
        const behind = runIds.filter((id) => !messageOf(id)?.text.includes('Succeeded'));
        if (behind.length === 0) return true;
        const shown = behind
          .slice(0, 3)
          .map((id) => `${id}: ${messageOf(id)?.text.slice(0, 160) ?? 'no message'}`);
        throw new Error(`${behind.length} not shown succeeded (${shown.join(' | ')})`);
      },
      90_000,
    );
    await waitFor('every end notified', () => runIds.every((id) => threadReplies(id, 'Run ') >= 1), 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    for (const id of runIds) expect(threadReplies(id, 'succeeded')).toBe(1);
    const dms = emulator
      .callsOf('chat.postMessage')
      .filter((c) => !c.params.thread_ts && String(c.params.text).startsWith('Your run of'));
    expect(dms).toHaveLength(60 + 1); // and the approval run of the first test
    const { rows: after } = await pg.query(
      `SELECT COUNT(*)::int AS n FROM progress_messages WHERE final AND run_id IN (${victimRuns.map((id) => `'${id}'`).join(',')})`,
      database,
    );
    expect(after[0]?.n).toBe(victimRuns.length);
    expect(cluster.routed.filter((n) => n > 0).length).toBe(3);

    // The budget holds for the three replicas together, exactly: no 60 s saw more than it.
    held.disable();
    const perMs = UPDATES_PER_MINUTE / 60_000;
    const sent = emulator
      .callsOf('chat.update')
      .slice(updatesBefore)
      .filter((c) => !c.rateLimited)
      .map((c) => c.time)
      .sort((a, b) => a - b);
    const { worst, allowed } = worstMinute(sent, held);
    expect(worst).toBeLessThanOrEqual(allowed);
    // ...and it was what held them back: the runs wanted more edits than it allowed.
    expect(sent.length).toBeGreaterThan(BURST + perMs * (sent.at(-1)! - sent[0]!) * 0.5);
  }, 150_000);

  test('one update budget for all, exactly: never more edits than it in any 60 s, also while a replica stalls', async () => {
    await cluster.add(); // three again, after the one killed above
    const live = cluster.replicas.filter((r) => r.alive);
    expect(live).toHaveLength(3);
    const before = new Set(posts().keys());
    const updatesBefore = emulator.callsOf('chat.update').length;
    const held = monitorEventLoopDelay({ resolution: 10 });
    held.enable();
    // 20 runs wanting 16 edits a second for 75 s: more than the budget, for longer than a minute.
    for (let batch = 0; batch < 2; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          sendSlashCommand(emulator, {
            ...signed(),
            command: '/flowgate',
            text: 'start manyStepsWorkflow {"steps": 4, "events": 60, "durationMs": 75000}',
            userId: ALICE,
            channelId: GENERAL,
          }),
        ),
      );
    }
    const runIds = await waitFor('20 runs posted', () => {
      const fresh = [...posts().keys()].filter((id) => !before.has(id));
      return fresh.length === 20 ? fresh : undefined;
    });
    // Now and then one replica stalls, as on a starved machine: nothing of it runs for longer than
    // a permit may be held, and its heartbeat is late; then it goes on with what it held.
    for (let stall = 0; stall < 4; stall++) {
      await new Promise((r) => setTimeout(r, 10_000));
      const replica = live[stall % 3]!;
      replica.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 1500));
      replica.child.kill('SIGCONT');
    }
    await waitFor(
      'every run over',
      async () => {
        const { rows } = await pg.query(
          `SELECT COUNT(*)::int AS n FROM progress_messages WHERE final AND run_id IN (${runIds.map((id) => `'${id}'`).join(',')})`,
          database,
        );
        return rows[0]?.n === 20;
      },
      120_000,
    );
    held.disable();
    const sent = emulator
      .callsOf('chat.update')
      .slice(updatesBefore)
      .filter((c) => !c.rateLimited)
      .map((c) => c.time);
    const { worst, allowed } = worstMinute(sent, held);
    expect(worst).toBeLessThanOrEqual(allowed);
    // ...and it was what held them back: the runs wanted more edits than it allowed.
    const span = Math.max(...sent) - Math.min(...sent);
    expect(sent.length).toBeGreaterThan(BURST + (UPDATES_PER_MINUTE / 60_000) * span * 0.5);
  }, 200_000);
  test('the starter’s DM Slack refused, its replica SIGKILLed between two tries: another replica sends it, once', async () => {
    const isDm = (params: JsonObject) => String(params.text).startsWith('Your run of noop');
    const failed = () =>
      emulator.callsOf('chat.postMessage').filter((c) => isDm(c.params) && c.status === 503);
    const sent = () =>
      emulator.callsOf('chat.postMessage').filter((c) => isDm(c.params) && c.response.ok === true);
    emulator.scriptCalls(
      'chat.postMessage',
      Array.from({ length: 1000 }, () => ({ status: 503 })),
      isDm,
    );
    const routed = [...cluster.routed];
    const runId = await startRun('start noopWorkflow');
    // The replica that started the run follows it, and tries the DM first when it ends.
    const starter = cluster.routed.findIndex((n, i) => n > (routed[i] ?? 0));
    expect(starter).toBeGreaterThanOrEqual(0);
    await waitFor('the run to succeed', () => messageOf(runId)?.text.includes('Succeeded'));
    // When it is due again (every refusal doubles the wait: a slow machine sees several).
    const due = await waitFor('the DM refused, between two tries', async () => {
      if (failed().length === 0) return false;
      const { rows } = await pg.query(
        `SELECT state, claimed_by, next_at FROM outbox WHERE key = 'end-dm:${runId}'`,
        database,
      );
      if (rows.length === 0) return Date.now(); // not in the outbox at all
      return rows[0]?.state === 'pending' && rows[0]?.claimed_by === null ? Number(rows[0].next_at) : false;
    });
    cluster.replicas[starter]!.child.kill('SIGKILL');
    await cluster.replicas[starter]!.exit;
    emulator.clearScripts();
    await waitFor('the DM', () => sent().length > 0, Math.max(0, due - Date.now()) + 30_000);
    const { rows } = await pg.query(`SELECT state FROM outbox WHERE key = 'end-dm:${runId}'`, database);
    expect(rows[0]?.state).toBe('sent');
    expect(sent()).toHaveLength(1);
    expect(threadReplies(runId, 'Run noop succeeded')).toBe(1);
  }, 180_000);
});
