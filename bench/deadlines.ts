/**
 * Deadlines of waiting steps (reminders, escalation, timeouts), on the real SQLite store and the real scheduler loop:
 * 1. idle: 100, 10,000 and 100,000 waiting steps with deadlines (a reminder, an escalation and a
 *    timeout each, none due): CPU and memory while nothing falls due (goal: flat in the number of
 *    waiting steps — no timer per step, no call to the Mastra server per step);
 * 2. delay: with 10,000 steps waiting, 1,000 deadlines falling due over 5 s: from each one's due
 *    time to its action starting, p50/p99 (goal: under 1 s);
 * 3. end to end: 20 runs on a real Mastra server whose step times out after 1 s, through the real
 *    app and the Slack emulator: from the due time to the run canceled on the server.
 * Run alone: `node bench/deadlines.ts [idle|delay|app]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadlineScheduler } from '../src/deadlines/scheduler.ts';
import type { DeadlineAction, DeadlineActions } from '../src/deadlines/types.ts';
import { parsePolicy } from '../src/policy/load.ts';
import { type Deadline, openStore, type Store } from '../src/store/index.ts';
import { startHarness, waitFor } from '../test/support/flowgate.ts';
import { gc, runSections, table } from './lib/stats.ts';

const INTERVAL_MS = 250;

/** The same action for every kind of deadline: the loop's cost is measured, not the actions'. */
const everyKind = (action: DeadlineAction): DeadlineActions => ({
  remind: action,
  escalate: action,
  timeout: action,
});

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** `count` waiting steps, each with a reminder, an escalation and a timeout due from `dueInMs` on. */
async function fill(store: Store, count: number, dueInMs: number, prefix = 'run'): Promise<void> {
  const since = new Date();
  for (let start = 0; start < count; start += 1000) {
    const rows: Deadline[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      for (const [kind, extra] of [
        ['remind', 0],
        ['escalate', 1],
        ['timeout', 2],
      ] as const) {
        rows.push({
          runId: `${prefix}-${i}`,
          suspensionKey: `gate#${since.getTime()}`,
          stepPath: 'gate',
          kind,
          since,
          dueAt: new Date(since.getTime() + dueInMs + extra * 60_000),
          state: 'pending',
        });
      }
    }
    await store.scheduleDeadlines(rows);
  }
}

async function idleSection(): Promise<string> {
  const rows: (string | number)[][] = [];
  let warmed = false;
  // The first round warms the code up and is not shown.
  for (const count of [100, 100, 10_000, 100_000]) {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-deadlines-'));
    const store = openStore(join(dir, 'db.sqlite'));
    try {
      await fill(store, count, 24 * 3_600_000);
      let ticks = 0;
      const scheduler = new DeadlineScheduler({
        queue: {
          dueDeadlines: (now, limit) => {
            ticks += 1;
            return store.dueDeadlines(now, limit);
          },
          claimDeadline: (d, now) => store.claimDeadline(d, now),
        },
        intervalMs: INTERVAL_MS,
        actions: everyKind(async () => {}),
        onError: (error) => console.error(error),
      });
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      scheduler.start();
      await sleep(1000); // settle
      const cpu = process.cpuUsage();
      const wall = performance.now();
      await sleep(10_000);
      const used = process.cpuUsage(cpu);
      const elapsed = performance.now() - wall;
      await scheduler.stop();
      gc();
      const heapAfter = process.memoryUsage().heapUsed;
      // One query, timed alone: what each tick costs.
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) await store.dueDeadlines(new Date(), 100);
      const perQuery = (performance.now() - t0) / 200;
      if (rows.length === 0 && count === 100 && !warmed) {
        warmed = true;
        continue;
      }
      rows.push([
        count.toLocaleString('en-US'),
        (count * 3).toLocaleString('en-US'),
        `${(((used.user + used.system) / 1000 / elapsed) * 100).toFixed(2)} %`,
        `${(1000 / INTERVAL_MS).toFixed(0)} (${ticks} in all)`,
        `${(perQuery * 1000).toFixed(0)} µs`,
        `${((heapAfter - heapBefore) / 1024).toFixed(0)} KB`,
        mb(process.memoryUsage().rss),
      ]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [
    '### Idle: waiting steps with deadlines, none due (10 s, real clock)',
    '',
    'Every step has a reminder, an escalation and a timeout stored; the loop asks the store for what is due every 250 ms (one indexed query), and nothing else runs: no timer per step, no request to the Mastra server until a deadline is due. The process also holds the benchmark itself; "heap held" is what the loop kept across the 10 s.',
    '',
    table(
      [
        'waiting steps',
        'deadlines stored',
        'CPU (one core)',
        'queries per second',
        'one query',
        'heap held',
        'process RSS',
      ],
      rows,
    ),
  ].join('\n');
}

async function delaySection(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-deadlines-'));
  const store = openStore(join(dir, 'db.sqlite'));
  try {
    await fill(store, 10_000, 24 * 3_600_000, 'waiting');
    // 1,000 deadlines due over the next 5 s (1 to 6 s from now), one every 5 ms.
    const start = Date.now() + 1000;
    const due: Deadline[] = Array.from({ length: 1000 }, (_, i) => ({
      runId: `due-${i}`,
      suspensionKey: `gate#${start}`,
      stepPath: 'gate',
      kind: 'timeout',
      since: new Date(start - 60_000),
      dueAt: new Date(start + i * 5),
      state: 'pending',
    }));
    await store.scheduleDeadlines(due);
    const delays: number[] = [];
    const scheduler = new DeadlineScheduler({
      queue: store,
      intervalMs: INTERVAL_MS,
      actions: everyKind(async (d, info) => {
        delays.push(Date.now() - d.dueAt.getTime());
        await store.finishDeadline(d, { state: 'done', firedAt: info.now, late: info.late });
      }),
      onError: (error) => console.error(error),
    });
    scheduler.start();
    await waitFor('every deadline fired', () => delays.length >= 1000, 30_000);
    await scheduler.stop();
    return [
      '### Delay: from a deadline falling due to its action starting',
      '',
      '10,000 steps waiting (30,000 deadlines not due), 1,000 deadlines falling due over 5 s; the loop checks every 250 ms, so the expected delay is about half that on average and at most one interval plus the query.',
      '',
      table(
        ['deadlines fired', 'p50', 'p99', 'max'],
        [
          [
            delays.length,
            `${percentile(delays, 50).toFixed(0)} ms`,
            `${percentile(delays, 99).toFixed(0)} ms`,
            `${Math.max(...delays).toFixed(0)} ms`,
          ],
        ],
      ),
    ].join('\n');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function appSection(): Promise<string> {
  const policy = parsePolicy('workflows:\n  simpleApprovalWorkflow: { timeoutAfter: 1s }\n', 'bench.yaml');
  const h = await startHarness({ policy });
  try {
    // Each run is watched from the moment it is started, so an early one is not measured late.
    const watch = async (runId: string) => {
      const [timeout] = await waitFor('its timeout stored', async () => {
        const rows = await h.flowgate.store.listDeadlines(runId);
        return rows.length > 0 ? rows : undefined;
      });
      await waitFor(
        'canceled',
        async () =>
          (await h.mastraGet(`/api/workflows/simpleApprovalWorkflow/runs/${runId}`)).status === 'canceled',
        30_000,
      );
      return Date.now() - timeout!.dueAt.getTime();
    };
    const watching: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      watching.push(watch(await h.startRun(`start simpleApprovalWorkflow {"title": "T${i}"}`)));
    }
    const delays = await Promise.all(watching);
    return [
      '### End to end: a step timing out through the real app',
      '',
      '20 runs of a yes/no step with `timeoutAfter: 1s` (`onTimeout: cancel`), started from Slack through the real Bolt app, the emulator and a real Mastra server: from the due time to the run being canceled on the server (the scheduler, the check that the step still waits, the cancel call; the benchmark polls the server every 25 ms).',
      '',
      table(
        ['runs', 'p50', 'p99'],
        [
          [
            delays.length,
            `${percentile(delays, 50).toFixed(0)} ms`,
            `${percentile(delays, 99).toFixed(0)} ms`,
          ],
        ],
      ),
    ].join('\n');
  } finally {
    await h.close();
  }
}

const SECTIONS = { idle: idleSection, delay: delaySection, app: appSection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Deadlines of waiting steps',
      '',
      `Reproduce: \`node bench/deadlines.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
