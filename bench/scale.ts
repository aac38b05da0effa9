/**
 * Many runs at once on one replica: N runs live together on a workflow that sleeps until a given
 * time (bench/lib/scale-workflow.ts), half started by signed `/flowgate run …` commands spread over
 * many people, half started through the Mastra server's HTTP API and announced (`announce: all`).
 * One Flowgate replica (`src/main.ts` of the build measured, in a child process, SQLite in a temp
 * dir), the Slack emulator in this process, a real Mastra server in a child process of its own
 * (bench/lib/scale-mastra.ts), all on 127.0.0.1. Per level:
 * - starting: time until N runs are live on the server (their first step ran), and until N
 *   progress messages are posted;
 * - while they sleep (the steady window): Flowgate's RSS and CPU (/proc), connections Flowgate
 *   holds to the Mastra server, Mastra requests/s, `chat.update`/s, edits that change nothing
 *   (the emulator's `unchangedUpdates`), and signed `/flowgate status <run>` commands at a modest
 *   rate timed to their answer at the emulator (`response_url`);
 * - when the sleeps end together: each run's lag from its final step on the server to the
 *   emulator receiving the `chat.update` that shows it Succeeded, split by whether a stream of the
 *   run was open when it ended; and whether every final landed.
 * `--baseline <git-ref>` measures that commit too (a `git worktree` of it, node_modules linked),
 * level by level, and prints new/baseline per figure; a build that cannot get N runs live within
 * the level's time limit is reported as such, and not asked for higher levels.
 *
 * `node bench/scale.ts [--levels 100,1000,5000,10000] [--baseline <git-ref>] [--quick] [--window <s>]
 * [--start-limit <s>]` (`--quick`: levels 100,1000 and a 15 s window, as `npm run bench` runs it;
 * `--window`: the least steady window, 30 s by default; `--start-limit`: the time N runs may take
 * to be live, 40 ms per run and at least 30 s by default: every run sleeps past it, so a larger
 * one makes a level last longer).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_USERS,
  type SlackEmulator,
  sendSlashCommand,
  startSlackEmulator,
} from '../src/emulator/index.ts';
import { GENERAL, SIGNING_SECRET } from '../test/support/flowgate.ts';
import { freePort } from '../test/support/postgres.ts';
import { cpuMs, rssBytes } from './lib/proc.ts';
import type { Ends, Stats } from './lib/scale-mastra.ts';
import { FROM_ELSEWHERE, FROM_SLACK } from './lib/scale-workflow.ts';
import { table } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const FULL_LEVELS = [100, 1000, 5000, 10_000];
const QUICK_LEVELS = [100, 1000];
/** The Flowgate settings measured (their defaults, said here so the goals can name them). */
const WATCH_INTERVAL_MS = 5000;
/** Sockets to the Mastra server in all with the default budgets (48 streams + 16 other calls). */
const SOCKETS = 64;
/** Runs one person starts from Slack (under the policy's default `liveRunsPerPerson`, 100). */
const RUNS_PER_PERSON = 80;
/** Signed `/flowgate status` commands per second during the steady window. */
const STATUS_PER_SECOND = 4;
/** Requests in flight while starting: slash commands, and create+start pairs at the Mastra API. */
const START_CONCURRENCY = 16;
const ADMIN = 'U0SCALEADM';
const MiB = 1024 * 1024;

function log(line: string): void {
  process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// What is started is stopped: children killed and temp dirs removed on every exit, Ctrl-C too.

const children = new Set<ChildProcess>();
const cleanups = new Map<string, () => void>();

function cleanUpNow(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  for (const cleanup of cleanups.values()) {
    try {
      cleanup();
    } catch {
      // best effort: the next one still runs
    }
  }
  cleanups.clear();
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.set(dir, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function removeTemp(dir: string): void {
  cleanups.get(dir)?.();
  cleanups.delete(dir);
}

/** Stops a child (`signal`, or nothing when it was asked to exit otherwise); SIGKILL after 5 s. */
async function stopChild(child: ChildProcess, signal?: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((done) => child.once('exit', done));
    if (signal) child.kill(signal);
    if ((await Promise.race([exited, sleep(5000).then(() => 'late')])) === 'late') child.kill('SIGKILL');
  }
  children.delete(child);
}

// ---------------------------------------------------------------------------------------------
// Builds: this tree, or a commit checked out in a worktree of its own.

interface Build {
  label: string;
  /** The directory whose `src/main.ts` runs. */
  dir: string;
  commit: string;
}

function commitOf(ref: string): string {
  return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', `${ref}^{commit}`], {
    encoding: 'utf8',
  }).trim();
}

function thisBuild(): Build {
  const dirty =
    execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !==
    '';
  return { label: 'new', dir: ROOT, commit: `${commitOf('HEAD')}${dirty ? ' + changes in src/' : ''}` };
}

function baselineBuild(ref: string): Build {
  const commit = commitOf(ref);
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-scale-baseline-'));
  const remove = () => {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.set(dir, () => {
    try {
      remove();
    } catch {
      rmSync(dir, { recursive: true, force: true });
      execFileSync('git', ['-C', ROOT, 'worktree', 'prune'], { stdio: 'ignore' });
    }
  });
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, commit], { stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { label: `baseline ${ref}`, dir, commit };
}

// ---------------------------------------------------------------------------------------------
// The Mastra server (child process) and the Flowgate replica (child process).

interface MastraChild {
  url: string;
  pid: number;
  ask<T>(type: 'stats' | 'ends'): Promise<T>;
  stop(): Promise<void>;
}

async function startMastraChild(): Promise<MastraChild> {
  const child = fork(join(ROOT, 'bench/lib/scale-mastra.ts'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  let next = 0;
  const waiting = new Map<number, (m: unknown) => void>();
  const url = await new Promise<string>((done, fail) => {
    child.once('exit', (code) => fail(new Error(`the Mastra server exited (${code}) before it was ready`)));
    child.on('message', (m: { type?: string; id?: number; url?: string }) => {
      if (m.type === 'ready' && m.url) done(m.url);
      else if (m.id !== undefined) {
        waiting.get(m.id)?.(m);
        waiting.delete(m.id);
      }
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    ask: <T>(type: 'stats' | 'ends') =>
      new Promise<T>((done, fail) => {
        const id = ++next;
        const timer = setTimeout(() => {
          waiting.delete(id);
          fail(new Error(`the Mastra server did not answer ${type}`));
        }, 60_000);
        waiting.set(id, (m) => {
          clearTimeout(timer);
          done(m as T);
        });
        child.send({ id, type });
      }),
    async stop() {
      if (child.connected) child.send({ type: 'stop' });
      await stopChild(child); // it exits on `stop`; killed if it does not
    },
  };
}

interface Replica {
  pid: number;
  appUrl: string;
  /** Whether it exited by itself (it is never stopped before the level is over). */
  exited(): boolean;
  output(): string;
  stop(): Promise<void>;
}

async function startReplica(
  build: Build,
  dir: string,
  emulator: SlackEmulator,
  mastraUrl: string,
): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(build.dir, 'src/main.ts')], {
    cwd: dir, // no .env of the repository is read
    env: {
      PATH: process.env.PATH ?? '',
      SLACK_BOT_TOKEN: emulator.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: emulator.apiUrl,
      MASTRA_URL: mastraUrl,
      FLOWGATE_DB: join(dir, 'flowgate.db'),
      FLOWGATE_POLICY: join(dir, 'policy.yaml'),
      FLOWGATE_WATCH_INTERVAL_MS: String(WATCH_INTERVAL_MS),
      // Slack's own edit rate is not what is measured here (see bench/replicas.ts budget for it).
      FLOWGATE_UPDATES_PER_MINUTE: '1000000',
      PORT: String(port),
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (chunk: unknown) => {
    output = (output + String(chunk)).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Flowgate exited at start:\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`Flowgate did not answer /healthz in 60 s:\n${output}`);
    await sleep(100);
  }
  return {
    pid: child.pid ?? 0,
    appUrl: `http://127.0.0.1:${port}/slack/events`,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    output: () => output,
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

// ---------------------------------------------------------------------------------------------
// One level, one build.

export interface Figures {
  n: number;
  startS: number;
  postedS: number;
  windowS: number;
  rssMiB: number;
  rssPerRunKiB: number;
  cpuPct: number;
  socketsPeak: number;
  socketsSteady: number;
  streamsSteady: number;
  mastraPerS: number;
  updatesPerS: number;
  /** Edits that changed nothing: while starting, in the window, at the ends. */
  unchanged: [number, number, number];
  statusP50: number;
  statusP99: number;
  statusAnswered: string;
  landed: number;
  finalP50: number;
  finalP99: number;
  streamedP99: number;
  streamedCount: number;
  polledP99: number;
  polledCount: number;
  context: string;
}

interface Options {
  windowS: number;
  /** The time N runs may take to be live (0: 40 ms per run, at least 30 s). */
  startLimitS: number;
}

/** `work(0)` … `work(count - 1)`, at most `concurrency` at once. */
async function pooled(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const RUN_ID = /run `([^`]+)`|\(run ([^)]+)\)/;

/** The figures, or why N runs were not live within the time limit (the rest is then not measured). */
async function measureLevel(build: Build, n: number, options: Options): Promise<Figures | string> {
  const fromSlack = Math.ceil(n / 2);
  const fromElsewhere = n - fromSlack;
  const people = Array.from({ length: Math.ceil(fromSlack / RUNS_PER_PERSON) }, (_, i) => ({
    id: `U0SCALE${String(i).padStart(4, '0')}`,
    name: `scale${i}`,
  }));
  const dir = tempDir('flowgate-scale-');
  writeFileSync(
    join(dir, 'policy.yaml'),
    [
      `admins: [${ADMIN}]`,
      'workflows:',
      `  ${FROM_ELSEWHERE}:`,
      `    channel: ${GENERAL}`,
      '    announce: all',
      '',
    ].join('\n'),
  );
  const emulator = await startSlackEmulator({
    rateLimits: false,
    workspace: { users: [...DEFAULT_USERS, { id: ADMIN, name: 'scale-admin' }, ...people] },
  });
  let mastra: MastraChild | undefined;
  let replica: Replica | undefined;
  try {
    mastra = await startMastraChild();
    replica = await startReplica(build, dir, emulator, mastra.url);
    const idleRss = rssBytes(replica.pid);

    // What the emulator sees: each run's message (from its first post) and when it showed the end.
    const runOfTs = new Map<string, string>();
    const posted = new Map<string, number>();
    const finals = new Map<string, number>();
    const updates: number[] = [];
    emulator.subscribe((event) => {
      if (event.type !== 'call' || event.entry.response.ok !== true) return;
      const { method, params, response } = event.entry;
      if (method === 'chat.postMessage' && params.thread_ts === undefined) {
        const match = RUN_ID.exec(String(params.text ?? ''));
        const runId = match?.[1] ?? match?.[2];
        if (runId !== undefined && !posted.has(runId)) {
          posted.set(runId, Date.now());
          runOfTs.set(String(response.ts), runId);
        }
      } else if (method === 'chat.update') {
        updates.push(Date.now());
        const runId = runOfTs.get(String(params.ts));
        if (runId !== undefined && !finals.has(runId) && String(params.text ?? '').includes('Succeeded'))
          finals.set(runId, Date.now());
      }
    });

    // Starting. Every run sleeps until the same moment, late enough for the slowest start allowed,
    // the posts, and the window.
    const startLimitMs = options.startLimitS * 1000 || Math.max(30_000, n * 40);
    const postLimitMs = 2 * WATCH_INTERVAL_MS + 10_000;
    const settleMs = 3000;
    const t0 = Date.now();
    const until = t0 + startLimitMs + postLimitMs + settleMs + options.windowS * 1000 + 5000;
    log(
      `${build.label} (${build.commit}), ${n} runs: starting (they end at +${((until - t0) / 1000).toFixed(0)} s)`,
    );
    let stopStarting = false;
    let startErrors = 0;
    const slack = pooled(fromSlack, START_CONCURRENCY, async (i) => {
      if (stopStarting) return;
      const person = people[Math.floor(i / RUNS_PER_PERSON)]!;
      const reply = await sendSlashCommand(emulator, {
        appUrl: replica!.appUrl,
        signingSecret: SIGNING_SECRET,
        command: '/flowgate',
        text: `run ${FROM_SLACK} ${JSON.stringify({ until, n: i })}`,
        userId: person.id,
        channelId: GENERAL,
      }).catch(() => undefined);
      if (reply?.status !== 200) startErrors++;
    });
    const elsewhere = pooled(fromElsewhere, START_CONCURRENCY, async (i) => {
      if (stopStarting) return;
      const api = `${mastra!.url}/api/workflows/${FROM_ELSEWHERE}`;
      const headers = { 'content-type': 'application/json', 'x-bench': 'setup' };
      try {
        const created = await fetch(`${api}/create-run`, { method: 'POST', headers, body: '{}' });
        const { runId } = (await created.json()) as { runId: string };
        const started = await fetch(`${api}/start?runId=${encodeURIComponent(runId)}`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ inputData: { until, n: i } }),
        });
        await started.arrayBuffer();
        if (started.status !== 200) startErrors++;
      } catch {
        startErrors++;
      }
    });
    const sent = Promise.all([slack, elsewhere]);
    let sendsDone = false;
    void sent.then(() => (sendsDone = true));

    let live = 0;
    let lastGrowth = Date.now();
    let reachedAt: number | undefined;
    while (Date.now() - t0 < startLimitMs) {
      const stats = await mastra.ask<Stats>('stats');
      if (stats.begun > live) lastGrowth = Date.now();
      live = stats.begun;
      if (live >= n) {
        reachedAt = Date.now();
        break;
      }
      if (sendsDone && Date.now() - lastGrowth > 20_000) break; // stuck: nothing more will start
      await sleep(250);
    }
    if (reachedAt === undefined) {
      stopStarting = true;
      if (replica.exited()) throw new Error(`Flowgate exited while starting:\n${replica.output()}`);
      const why = `could not reach ${n}: only ${live} started (after ${((Date.now() - t0) / 1000).toFixed(0)} s; limit ${startLimitMs / 1000} s, or 20 s without one more)`;
      log(`${build.label}, ${n} runs: ${why}`);
      return why;
    }
    await sent;
    const startS = (reachedAt - t0) / 1000;
    log(`${build.label}, ${n} runs: all live in ${startS.toFixed(1)} s`);
    const postedBy = Date.now() + postLimitMs;
    while (posted.size < n && Date.now() < postedBy) await sleep(100);
    const postedS = posted.size >= n ? (Date.now() - t0) / 1000 : Number.NaN;
    await sleep(settleMs);

    // The steady window: until 3 s before the sleeps end.
    const windowStart = Date.now();
    const windowEnd = until - 3000;
    const flowgateCpu0 = cpuMs(replica.pid);
    const mastraCpu0 = cpuMs(mastra.pid);
    const harnessCpu0 = process.cpuUsage();
    const stats0 = await mastra.ask<Stats>('stats');
    const updates0 = updates.length;
    const unchanged0 = emulator.store.unchangedUpdates.length;
    const sockets: number[] = [];
    const streams: number[] = [];
    const rss: number[] = [];
    const statusSent: { at: number; url: string; runId: string }[] = [];
    const runIds = [...posted.keys()];
    const statusLoop = (async () => {
      for (let k = 0; Date.now() < windowEnd - 1000; k++) {
        await sleep(windowStart + (k * 1000) / STATUS_PER_SECOND - Date.now());
        const runId = runIds[Math.floor(Math.random() * runIds.length)]!;
        const at = Date.now();
        void sendSlashCommand(emulator, {
          appUrl: replica!.appUrl,
          signingSecret: SIGNING_SECRET,
          command: '/flowgate',
          text: `status ${runId}`,
          userId: ADMIN,
          channelId: GENERAL,
        })
          .then((r) => statusSent.push({ at, url: r.responseUrl, runId }))
          .catch(() => statusSent.push({ at, url: '', runId }));
      }
    })();
    while (Date.now() < windowEnd) {
      const stats = await mastra.ask<Stats>('stats');
      sockets.push(stats.sockets);
      streams.push(stats.streams);
      rss.push(rssBytes(replica.pid));
      await sleep(Math.min(1000, windowEnd - Date.now()));
    }
    const windowMs = Date.now() - windowStart;
    const flowgateCpu = cpuMs(replica.pid) - flowgateCpu0;
    const mastraCpu = cpuMs(mastra.pid) - mastraCpu0;
    const harnessUsage = process.cpuUsage(harnessCpu0);
    const stats1 = await mastra.ask<Stats>('stats');
    const windowUpdates = updates.length - updates0;
    const unchanged1 = emulator.store.unchangedUpdates.length;
    const load = loadavg()[0] ?? 0;
    await statusLoop;

    // The ends.
    log(`${build.label}, ${n} runs: window over (${(windowMs / 1000).toFixed(0)} s); waiting for the finals`);
    const finalsBy = until + Math.max(30_000, n * 5) + 2 * WATCH_INTERVAL_MS;
    while (Date.now() < finalsBy) {
      const stats = await mastra.ask<Stats>('stats');
      if (stats.ended >= stats.begun && [...posted.keys()].every((id) => finals.has(id))) break;
      await sleep(250);
    }
    if (replica.exited()) throw new Error(`Flowgate exited during the level:\n${replica.output()}`);
    const { ends } = await mastra.ask<{ ends: Ends }>('ends');
    const lags: number[] = [];
    const streamed: number[] = [];
    const polled: number[] = [];
    for (const [runId, at, wasStreamed] of ends) {
      const shown = finals.get(runId);
      if (shown === undefined) continue;
      lags.push(shown - at);
      (wasStreamed ? streamed : polled).push(shown - at);
    }
    const landed = ends.filter(([runId]) => finals.has(runId)).length;
    // A command not answered, or answered with anything but the run's status, counts as never.
    const statusTimes = statusSent.map(({ at, url, runId }) => {
      const use = url === '' ? undefined : emulator.responseUrl(url)?.uses[0];
      return use?.text?.includes(runId) ? use.time - at : Number.POSITIVE_INFINITY;
    });
    const answered = statusTimes.filter(Number.isFinite).length;
    const nonzero = (v: number) => Math.max(1, v);
    return {
      n,
      startS,
      postedS,
      windowS: windowMs / 1000,
      rssMiB: Math.max(...rss) / MiB,
      rssPerRunKiB: (Math.max(...rss) - idleRss) / n / 1024,
      cpuPct: (100 * flowgateCpu) / windowMs,
      socketsPeak: stats1.peakSockets,
      socketsSteady: Math.max(...sockets),
      streamsSteady: Math.max(...streams),
      mastraPerS: ((stats1.requests - stats0.requests) * 1000) / windowMs,
      updatesPerS: (windowUpdates * 1000) / windowMs,
      unchanged: [unchanged0, unchanged1 - unchanged0, emulator.store.unchangedUpdates.length - unchanged1],
      statusP50: percentile(statusTimes, 50),
      statusP99: percentile(statusTimes, 99),
      statusAnswered: `${answered} of ${statusTimes.length}`,
      landed,
      finalP50: percentile(lags, 50),
      finalP99: percentile(lags, 99),
      streamedP99: percentile(streamed, 99),
      streamedCount: streamed.length,
      polledP99: percentile(polled, 99),
      polledCount: polled.length,
      context: [
        `Mastra server CPU ${((100 * mastraCpu) / windowMs).toFixed(0)} %`,
        `harness CPU ${((100 * (harnessUsage.user + harnessUsage.system)) / 1000 / nonzero(windowMs)).toFixed(0)} %`,
        `load average ${load.toFixed(1)}`,
        `${startErrors} start requests failed`,
        `idle RSS ${(idleRss / MiB).toFixed(0)} MiB`,
      ].join(', '),
    };
  } finally {
    await replica?.stop();
    await mastra?.stop();
    await emulator.close();
    removeTemp(dir);
  }
}

// ---------------------------------------------------------------------------------------------
// Tables.

interface Row {
  figure: string;
  goal: string;
  value: (f: Figures) => number;
  show: (v: number, f: Figures) => string;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : Number.isNaN(v) ? '–' : 'none');
const ROWS: Row[] = [
  { figure: 'time to N live runs', goal: '', value: (f) => f.startS, show: (v) => `${v.toFixed(1)} s` },
  {
    figure: 'time to N messages posted',
    goal: '',
    value: (f) => f.postedS,
    show: (v) => (Number.isNaN(v) ? 'not all' : `${v.toFixed(1)} s`),
  },
  {
    figure: 'Flowgate RSS (peak in window)',
    goal: '≤ 1,024 MiB',
    value: (f) => f.rssMiB,
    show: (v) => `${v.toFixed(0)} MiB`,
  },
  {
    figure: 'RSS per run (above idle)',
    goal: '',
    value: (f) => f.rssPerRunKiB,
    show: (v) => `${v.toFixed(1)} KiB`,
  },
  {
    figure: 'Flowgate CPU (share of one core)',
    goal: '',
    value: (f) => f.cpuPct,
    show: (v) => `${v.toFixed(1)} %`,
  },
  { figure: 'sockets to Mastra (peak)', goal: `≤ ${SOCKETS}`, value: (f) => f.socketsPeak, show: String },
  {
    figure: 'sockets to Mastra (window, max)',
    goal: `≤ ${SOCKETS}`,
    value: (f) => f.socketsSteady,
    show: String,
  },
  { figure: 'run streams open (window, max)', goal: '', value: (f) => f.streamsSteady, show: String },
  {
    figure: 'Mastra requests/s',
    goal: '≤ 50/s',
    value: (f) => f.mastraPerS,
    show: (v) => `${v.toFixed(1)}/s`,
  },
  { figure: 'chat.update/s', goal: '', value: (f) => f.updatesPerS, show: (v) => `${v.toFixed(2)}/s` },
  {
    figure: 'edits changing nothing',
    goal: '0',
    value: (f) => f.unchanged[0] + f.unchanged[1] + f.unchanged[2],
    show: (v, f) => `${v} (starting ${f.unchanged[0]}, window ${f.unchanged[1]}, ends ${f.unchanged[2]})`,
  },
  { figure: '`status` answered p50', goal: '', value: (f) => f.statusP50, show: ms },
  {
    figure: '`status` answered p99',
    goal: '< 1,000 ms',
    value: (f) => f.statusP99,
    show: (v, f) => `${ms(v)} (${f.statusAnswered} answered)`,
  },
  { figure: 'finals landed', goal: 'all', value: (f) => f.landed, show: (v, f) => `${v} of ${f.n}` },
  { figure: 'final lag p50', goal: '', value: (f) => f.finalP50, show: ms },
  { figure: 'final lag p99', goal: '', value: (f) => f.finalP99, show: ms },
  {
    figure: 'streamed finals p99',
    goal: '≤ 2,000 ms',
    value: (f) => f.streamedP99,
    show: (v, f) => `${ms(v)} (${f.streamedCount} runs)`,
  },
  {
    figure: 'polled finals p99',
    goal: `≤ ${WATCH_INTERVAL_MS + 1000} ms`,
    value: (f) => f.polledP99,
    show: (v, f) => `${ms(v)} (${f.polledCount} runs)`,
  },
];

interface Result {
  build: Build;
  /** The figures, or why there are none. */
  figures: Figures | string;
}

/** A level's table: a column per build measured (and new/baseline when both were), a line per other. */
function levelTable(n: number, results: readonly Result[]): string {
  const measured = results.filter((r): r is Result & { figures: Figures } => typeof r.figures !== 'string');
  const lines = [`### ${n.toLocaleString('en-US')} runs at once`, ''];
  if (measured.length > 0) {
    const header = [
      'figure',
      'goal (at 10,000)',
      ...measured.map((r) => `${r.build.label} (${r.build.commit})`),
    ];
    const [a, b] = measured;
    if (a && b) header.push('new / baseline');
    const rows = ROWS.map((row) => {
      const cells = [row.figure, row.goal, ...measured.map((r) => row.show(row.value(r.figures), r.figures))];
      if (a && b) {
        const ratio = row.value(a.figures) / row.value(b.figures);
        cells.push(Number.isFinite(ratio) ? ratio.toFixed(2) : '–');
      }
      return cells;
    });
    lines.push(table(header, rows), '');
  }
  for (const r of results) {
    lines.push(
      typeof r.figures === 'string'
        ? `${r.build.label} (${r.build.commit}): ${r.figures}.`
        : `${r.build.label}: a window of ${r.figures.windowS.toFixed(0)} s; ${r.figures.context}.`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

function usage(): never {
  process.stderr.write(
    'usage: node bench/scale.ts [--levels 100,1000,5000,10000] [--baseline <git-ref>] [--quick] [--window <seconds>] [--start-limit <seconds>]\n',
  );
  process.exit(2);
}

export async function run(argv: string[] = ['--quick']): Promise<string> {
  const values = (() => {
    try {
      return parseArgs({
        args: argv,
        options: {
          levels: { type: 'string' },
          baseline: { type: 'string' },
          quick: { type: 'boolean', default: false },
          window: { type: 'string' },
          'start-limit': { type: 'string' },
        },
      }).values;
    } catch {
      return usage();
    }
  })();
  const levels = values.levels
    ? values.levels.split(',').map((s) => Number(s.trim()))
    : values.quick
      ? QUICK_LEVELS
      : FULL_LEVELS;
  if (levels.some((n) => !Number.isInteger(n) || n < 2)) usage();
  const windowS = values.window ? Number(values.window) : values.quick ? 15 : 30;
  if (!Number.isFinite(windowS) || windowS < 5) usage();
  const startLimitS = Number(values['start-limit'] ?? 0);
  if (!Number.isFinite(startLimitS) || startLimitS < 0) usage();

  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`);
    cleanUpNow();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', cleanUpNow);
  try {
    const builds = [thisBuild()];
    if (values.baseline) builds.push(baselineBuild(values.baseline));
    const gaveUp = new Set<Build>();
    const sections: string[] = [];
    for (const n of levels) {
      const results: Result[] = [];
      for (const build of builds) {
        if (gaveUp.has(build)) {
          results.push({ build, figures: 'not tried (a lower level was not reached)' });
          continue;
        }
        try {
          const figures = await measureLevel(build, n, { windowS, startLimitS });
          if (typeof figures === 'string') gaveUp.add(build);
          results.push({ build, figures });
        } catch (error) {
          gaveUp.add(build);
          log(`${build.label}, ${n} runs failed: ${error instanceof Error ? error.message : String(error)}`);
          results.push({
            build,
            figures: `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
          });
        }
      }
      const section = levelTable(n, results);
      process.stderr.write(`\n${section}\n\n`);
      sections.push(section);
    }
    return [
      '## Many runs at once on one replica',
      '',
      `Reproduce: \`node bench/scale.ts ${argv.join(' ')}\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}; FLOWGATE_WATCH_INTERVAL_MS ${WATCH_INTERVAL_MS}, the connection budgets at their defaults, FLOWGATE_UPDATES_PER_MINUTE lifted to 1,000,000 and the emulator's rate limits off; window ${windowS} s).`,
      '',
      ...sections.flatMap((s) => [s, '']),
    ]
      .join('\n')
      .trimEnd();
  } finally {
    cleanUpNow();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', cleanUpNow);
  }
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
