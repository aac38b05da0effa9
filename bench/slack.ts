/**
 * Slack-side benchmarks, against a real Mastra server, the real Flowgate app in
 * HTTP mode, and the Slack emulator enforcing Slack's limits:
 * 1. acknowledgement latency of slash commands and button clicks at 50 and 200 concurrent requests;
 * 2. Slack calls per run (30 steps, 300 events over 10 s), Flowgate's publisher vs a naive one;
 * 3. 200 concurrent runs under a chat.update budget of 50 per minute;
 * 4. click → form visible, and submission → step running again;
 * 5. failures: SIGTERM → exit in the middle of a 9 s step, and Slack answering 500 at start → the
 *    person's message.
 * Run alone: `node bench/slack.ts [acks|calls|budget|forms|failures]`.
 */
import { type ChildProcess, fork, type Serializable, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, LogLevel } from '@slack/bolt';
import { retryPolicies } from '@slack/web-api';
import { createFlowgateApp } from '../src/app.ts';
import {
  type SlackEmulator,
  sendBlockAction,
  sendSlashCommand,
  sendViewSubmission,
  startSlackEmulator,
} from '../src/emulator/index.ts';
import { silentLogger } from '../src/logger.ts';
import { MastraClient } from '../src/mastra/client.ts';
import { SLACK_CALL_POLICIES } from '../src/slack/io/call-policies.ts';
import {
  ALICE,
  GENERAL,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  waitFor,
} from '../test/support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../test/support/mastra/server.ts';
import { NaivePublisher } from './lib/naive-publisher.ts';
import { runSections, table } from './lib/stats.ts';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

// ---------------------------------------------------------------------------------------------
// 1. Acknowledgement latency

/** The benchmark's outside world (Mastra, Slack emulator, load generator) in a child process. */
export class Peer {
  readonly #child: ChildProcess;
  readonly #replies: ((message: PeerReply) => void)[] = [];

  constructor() {
    this.#child = fork(fileURLToPath(new URL('./lib/peer.ts', import.meta.url)), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (message: PeerReply) => this.#replies.shift()?.(message));
  }

  next(): Promise<PeerReply> {
    return new Promise((resolve) => this.#replies.push(resolve));
  }

  async ask(message: unknown): Promise<PeerReply> {
    const reply = this.next();
    this.#child.send(message as Serializable);
    const answer = await reply;
    if (answer.type === 'error') throw new Error(`peer: ${answer.message}`);
    return answer;
  }

  stop(): void {
    this.#child.send({ type: 'stop' });
  }
}

type PeerReply =
  | { type: 'ready'; mastraUrl: string; slackApiUrl: string; botToken: string }
  | { type: 'ok' }
  | { type: 'latencies'; values: number[] }
  | { type: 'error'; message: string };

/** The floor: a Bolt app in this process that does nothing but ack. */
async function bareBoltApp(
  token: string,
  slackApiUrl: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const app = new App({
    token,
    signingSecret: SIGNING_SECRET,
    clientOptions: { slackApiUrl },
    logLevel: LogLevel.ERROR,
  });
  app.command('/flowgate', async ({ ack }) => {
    await ack();
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
    async stop() {
      server.closeAllConnections();
      await app.stop();
    },
  };
}

async function ackSection(): Promise<string> {
  const peer = new Peer();
  const ready = await peer.next();
  if (ready.type !== 'ready') throw new Error('peer did not start');
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-'));
  const flowgate = createFlowgateApp(
    {
      slack: { mode: 'http', botToken: ready.botToken, signingSecret: SIGNING_SECRET, port: 0 },
      slackApiUrl: ready.slackApiUrl,
      command: '/flowgate',
      mastra: { url: ready.mastraUrl, apiPrefix: '/api' },
      admins: [],
      dbPath: join(dir, 'flowgate.db'),
      updateIntervalMs: 1000,
      updatesPerMinute: 50,
      watchIntervalMs: 5000,
      logLevel: 'error',
    },
    { logger: silentLogger, host: '127.0.0.1' },
  );
  try {
    const { port } = await flowgate.start();
    await peer.ask({
      type: 'app',
      appUrl: `http://127.0.0.1:${port}/slack/events`,
      signingSecret: SIGNING_SECRET,
    });
    // A finished run whose Cancel button people click: the ack comes first, the refusal later.
    await peer.ask({
      type: 'round',
      kind: 'command',
      concurrency: 1,
      text: 'start linearWorkflow {"value": 1}',
    });
    const row = await waitFor(
      'a finished run',
      async () =>
        (await flowgate.store.getProgressMessage((await flowgate.store.listUnfinished())[0]?.runId ?? '')) ??
        undefined,
    );
    await waitFor(
      'the run to finish',
      async () => (await flowgate.store.getProgressMessage(row.runId))?.final,
    );
    const click = {
      message: { channel: row.channel, ts: row.ts },
      value: JSON.stringify({ w: 'linearWorkflow', r: row.runId }),
    };
    const rows: (string | number)[][] = [];
    const measure = async (
      target: string,
      label: string,
      kind: 'command' | 'click',
      concurrency: number,
      keepAlive: boolean,
    ) => {
      await peer.ask({ type: 'app', appUrl: target, signingSecret: SIGNING_SECRET });
      const round = { type: 'round', kind, keepAlive, ...click };
      await peer.ask({ ...round, concurrency: 20 }); // warm-up
      const p50s: number[] = [];
      const p99s: number[] = [];
      for (let repeat = 0; repeat < 3; repeat++) {
        await flowgate.progress.idle();
        await new Promise((r) => setTimeout(r, 300));
        const reply = await peer.ask({ ...round, concurrency });
        if (reply.type !== 'latencies') throw new Error('no latencies');
        p50s.push(percentile(reply.values, 50));
        p99s.push(percentile(reply.values, 99));
      }
      const connections = keepAlive ? 'kept alive' : 'new per request';
      rows.push([label, concurrency, connections, ms(percentile(p50s, 50)), ms(percentile(p99s, 50))]);
    };
    const flowgateUrl = `http://127.0.0.1:${port}/slack/events`;
    const bare = await bareBoltApp(ready.botToken, ready.slackApiUrl);
    try {
      for (const keepAlive of [true, false]) {
        for (const concurrency of [50, 200]) {
          await measure(flowgateUrl, 'Flowgate: slash command (`help`)', 'command', concurrency, keepAlive);
          await measure(flowgateUrl, 'Flowgate: button click (Cancel)', 'click', concurrency, keepAlive);
          await measure(bare.url, 'baseline: a Bolt app that only acks', 'command', concurrency, keepAlive);
        }
      }
    } finally {
      await bare.stop();
    }
    return [
      '### Acknowledgement latency (goal: p99 < 50 ms; Slack allows 3,000 ms)',
      '',
      'Flowgate runs alone in this process; the Mastra server, the Slack emulator and the load generator run in a child process. Each request is signed and sent as Slack sends it, all requests of a round at once; the time is from sending to the HTTP response (the ack). `help` is answered in the ack itself; what a click sets off after its ack (the Mastra call, the reply through `response_url`) runs meanwhile in the same processes.',
      '',
      table(['request', 'concurrent', 'connections', 'p50', 'p99'], rows),
      '',
      'Each figure is the median over 3 rounds. The baseline, measured in the same run and the same way, is the floor this harness can show on this machine: Bolt’s own request handling plus the load generator sharing the 2 cores.',
    ].join('\n');
  } finally {
    peer.stop();
    await flowgate.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Slack calls per run: Flowgate's publisher vs a naive one

interface CallsResult {
  updates: number;
  rateLimited: number;
  endToFinalMs: number;
  finalLanded: boolean;
  runMs: number;
}

async function callsPerRun(naive: boolean): Promise<CallsResult> {
  const mastra = await startMastraServer();
  const h = await startHarness({
    mastra,
    updatesPerMinute: 50,
    updateIntervalMs: 1000,
    ...(naive ? { publisher: (options) => new NaivePublisher(options) } : {}),
  });
  try {
    const t0 = Date.now();
    await h.slash('start manyStepsWorkflow {"steps": 30, "events": 300, "durationMs": 10000}');
    const runId = await waitFor('a run', () => h.runIds().at(-1));
    const state = await waitFor(
      'the run to end',
      async () => {
        const s = await h.mastraGet(`/api/workflows/manyStepsWorkflow/runs/${runId}?fields=result`);
        return s.status === 'success' ? s : undefined;
      },
      60_000,
    );
    const runEnd = new Date(String(state.updatedAt)).getTime();
    const row = (await h.flowgate.store.getProgressMessage(runId))!;
    const finalCall = await waitFor(
      'the final state',
      () =>
        h.emulator
          .callsOf('chat.update')
          .find(
            (c) => c.params.ts === row.ts && !c.rateLimited && String(c.params.text).includes('Succeeded'),
          ),
      120_000,
    ).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1500));
    const updates = h.emulator.callsOf('chat.update').filter((c) => c.params.ts === row.ts);
    return {
      updates: updates.length,
      rateLimited: updates.filter((c) => c.rateLimited).length,
      endToFinalMs: finalCall ? finalCall.time - runEnd : Number.NaN,
      finalLanded: h.progressMessage(runId)?.text.includes('Succeeded') ?? false,
      runMs: runEnd - t0,
    };
  } finally {
    await h.close();
    await mastra.close();
  }
}

async function callsSection(): Promise<string> {
  const ours = await callsPerRun(false);
  const naive = await callsPerRun(true);
  const seconds = Math.round(ours.runMs / 1000);
  const row = (name: string, r: CallsResult) => [
    name,
    r.updates,
    r.rateLimited,
    Number.isNaN(r.endToFinalMs) ? 'never' : ms(r.endToFinalMs),
    r.finalLanded ? 'yes' : '**no**',
  ];
  return [
    `### Slack calls per run (30 steps, 300 events over 10 s; goal: ≤ ${seconds} + 2 chat.update, zero 429s, final within 1 s)`,
    '',
    'The emulator enforces chat.update at 50 per minute. Both publishers are measured in the same run of this benchmark.',
    '',
    table(
      ['publisher', 'chat.update calls', '429s', 'run end → final visible', 'final landed'],
      [row('Flowgate (coalescing, 1/s per message)', ours), row('naive (update on every event)', naive)],
    ),
    '',
    `Ratio of calls, naive / Flowgate: ${(naive.updates / Math.max(1, ours.updates)).toFixed(1)}×.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 3. 200 concurrent runs under 50 chat.update per minute

async function budgetSection(): Promise<string> {
  const mastra = await startMastraServer();
  const h = await startHarness({ mastra, updatesPerMinute: 50, updateIntervalMs: 1000 });
  const runs = 200;
  const channels = 20;
  try {
    for (let c = 0; c < channels; c++) {
      h.emulator.addChannel({
        id: `C0BENCH${String(c).padStart(3, '0')}`,
        name: `bench-${c}`,
        botIsMember: true,
      });
    }
    for (let u = 0; u < 20; u++)
      h.emulator.addUser({ id: `U0BENCH${String(u).padStart(3, '0')}`, name: `user-${u}` });
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: runs }, (_, i) =>
        sendSlashCommand(h.emulator, {
          appUrl: h.appUrl,
          signingSecret: SIGNING_SECRET,
          command: '/flowgate',
          text: 'start linearWorkflow {"value": 1, "delayMs": 1000}',
          userId: `U0BENCH${String(i % 20).padStart(3, '0')}`,
          channelId: `C0BENCH${String(i % channels).padStart(3, '0')}`,
        }),
      ),
    );
    const runIds = await waitFor(
      'all runs posted',
      () => {
        const ids = h.runIds();
        return ids.length >= runs ? ids : undefined;
      },
      600_000,
    );
    const client = new MastraClient({ baseUrl: mastra.url });
    const ends = new Map<string, number>();
    await waitFor(
      'all runs to end',
      async () => {
        const page = await client.getWorkflow('linearWorkflow').runs({ status: 'success' });
        for (const r of page.runs) ends.set(r.runId, r.updatedAt.getTime());
        return runIds.every((id) => ends.has(id)) || undefined;
      },
      600_000,
    );
    const finals = new Map<string, number>();
    await waitFor(
      'every final state',
      async () => {
        for (const id of runIds) {
          if (finals.has(id)) continue;
          const row = await h.flowgate.store.getProgressMessage(id);
          const call = row
            ? h.emulator
                .callsOf('chat.update')
                .find(
                  (c) =>
                    c.params.ts === row.ts && !c.rateLimited && String(c.params.text).includes('Succeeded'),
                )
            : undefined;
          if (call) finals.set(id, call.time);
        }
        return finals.size === runIds.length || undefined;
      },
      900_000,
    );
    await client.close();
    const delays = runIds.map((id) => finals.get(id)! - ends.get(id)!);
    const landed = runIds.filter((id) => h.progressMessage(id)?.text.includes('Succeeded')).length;
    const updates = h.emulator.callsOf('chat.update');
    return [
      '### 200 concurrent runs under a chat.update budget of 50 per minute (emulator-enforced)',
      '',
      `${runs} runs of linear-workflow (3 steps, 1 s each) started at once by 20 people in 20 channels; everything took ${((Date.now() - t0) / 1000).toFixed(0)} s. 200 final states at 50 per minute need at least 4 minutes, so delays here are bounded below by the budget itself.`,
      '',
      table(
        ['chat.update calls', '429s', 'run end → final: p50', 'p99', 'max', 'final states landed'],
        [
          [
            updates.length,
            updates.filter((c) => c.rateLimited).length,
            `${(percentile(delays, 50) / 1000).toFixed(1)} s`,
            `${(percentile(delays, 99) / 1000).toFixed(1)} s`,
            `${(Math.max(...delays) / 1000).toFixed(1)} s`,
            `${landed} / ${runs}`,
          ],
        ],
      ),
    ].join('\n');
  } finally {
    await h.close();
    await mastra.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Forms: click → form visible; submission → step running again

async function formsSection(): Promise<string> {
  const h: Harness = await startHarness({ updateIntervalMs: 50 });
  try {
    const answer = {
      approved: true,
      priority: 'high',
      score: 9,
      comment: 'ok',
      dueDate: '2026-12-01',
      tags: ['ops'],
    };
    const values = await h.formValues('approvalWorkflow', 'approve', answer);
    const open: number[] = [];
    const resume: number[] = [];
    const rounds = 40;
    for (let i = 0; i < rounds; i++) {
      await h.slash(`start approvalWorkflow {"requestId": "B-${i}", "amount": ${i}}`);
      const runId = await waitFor('a run', () => (h.runIds().length > i ? h.runIds().at(-1) : undefined));
      const message = await waitFor('the step to wait', () => {
        const m = h.progressMessage(runId);
        return m?.blocks.includes('flowgate_respond') ? m : undefined;
      });
      const t0 = performance.now();
      await sendBlockAction(h.emulator, {
        appUrl: h.appUrl,
        signingSecret: SIGNING_SECRET,
        actionId: 'flowgate_respond',
        blockId: 'flowgate_step:approve',
        userId: ALICE,
        channelId: message.channel,
        messageTs: message.ts,
      });
      const view = await h.answerForm(ALICE, runId);
      open.push(performance.now() - t0);
      const row = (await h.flowgate.store.getProgressMessage(runId))!;
      const updatesBefore = h.emulator.callsOf('chat.update').length;
      const t1 = performance.now();
      await sendViewSubmission(h.emulator, {
        appUrl: h.appUrl,
        signingSecret: SIGNING_SECRET,
        viewId: view.id,
        values,
      });
      await waitFor(
        'the step to run again',
        () =>
          h.emulator
            .callsOf('chat.update')
            .slice(updatesBefore)
            .some(
              (c) =>
                c.params.ts === row.ts &&
                !c.rateLimited &&
                !String(JSON.stringify(c.params.blocks)).includes('`approve` suspended'),
            ),
        10_000,
      );
      resume.push(performance.now() - t1);
      await waitFor('done', () => h.progressMessage(runId)?.text.includes('Succeeded'));
    }
    return [
      '### Answer forms',
      '',
      `${rounds} rounds, one at a time, on a real Mastra server; times from sending the signed request.`,
      '',
      table(
        ['measure', 'p50', 'p99', 'goal'],
        [
          [
            'click “Respond…” → form visible (views.open + views.update)',
            ms(percentile(open, 50)),
            ms(percentile(open, 99)),
            '< 300 ms p99',
          ],
          [
            'valid submission → message shows the step running again',
            ms(percentile(resume, 50)),
            ms(percentile(resume, 99)),
            '—',
          ],
        ],
      ),
    ].join('\n');
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Failures: SIGTERM in the middle of a step; Slack answering 500 when a person starts a run

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * One `npm start` (or `node src/main.ts`) in Socket Mode: start a run whose one step takes 9 s,
 * SIGTERM once the step runs, and time until the process has exited.
 */
async function stopMidStep(
  how: 'npm start' | 'node src/main.ts',
  emulator: SlackEmulator,
  mastra: MastraTestServer,
  db: string,
): Promise<{ ms: number; code: number | null }> {
  const [command, args] =
    how === 'npm start' ? ['npm', ['start', '--silent']] : [process.execPath, ['src/main.ts']];
  const child = spawn(command, args as string[], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      SLACK_BOT_TOKEN: emulator.botToken,
      SLACK_APP_TOKEN: emulator.appToken,
      SLACK_API_URL: emulator.apiUrl,
      MASTRA_URL: mastra.url,
      FLOWGATE_DB: db,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor('the connection', () => output.includes('connected to Slack'), 30_000);
    const before = emulator.messages(GENERAL).length;
    await sendSlashCommand(emulator, {
      socketMode: true,
      command: '/flowgate',
      text: 'start cancelAwareWorkflow {"durationMs": 9000}',
      userId: ALICE,
      channelId: GENERAL,
    });
    await waitFor('the step to run', () =>
      emulator
        .messages(GENERAL)
        .slice(before)
        .some((m) => m.text.startsWith('cancel-aware: Running')),
    );
    const t0 = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    return { ms: performance.now() - t0, code };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** The Web API client's default policy, waited out in full: the sum of p-retry's waits, min–max. */
function sdkDefaultRetryWindowMs(): { retries: number; min: number; max: number } {
  const policy = retryPolicies.tenRetriesInAboutThirtyMinutes;
  const retries = policy.retries ?? 10;
  const factor = policy.factor ?? 2;
  const minTimeout = policy.minTimeout ?? 1000;
  let min = 0;
  for (let i = 0; i < retries; i++) min += minTimeout * factor ** i;
  return { retries, min, max: policy.randomize ? 2 * min : min };
}

async function failuresSection(): Promise<string> {
  const rounds = 5;
  // (a) SIGTERM → exit, mid-step
  const mastra = await startMastraServer();
  const emulator = await startSlackEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-stop-'));
  const stops: Record<string, number[]> = { 'npm start': [], 'node src/main.ts': [] };
  const codes = new Set<number | null>();
  try {
    for (let i = 0; i < rounds; i++) {
      for (const how of ['npm start', 'node src/main.ts'] as const) {
        const { ms: took, code } = await stopMidStep(
          how,
          emulator,
          mastra,
          join(dir, `${i}-${how.split(' ')[0]}.db`),
        );
        stops[how]!.push(took);
        codes.add(code);
      }
    }
  } finally {
    // The steps go on on the server after each stop: cancel them before it closes.
    const client = new MastraClient({ baseUrl: mastra.url });
    const workflow = client.getWorkflow('cancelAwareWorkflow');
    const { runs } = await workflow.runs({ status: 'running' });
    await Promise.all(
      runs.map((run) =>
        workflow
          .run(run.runId)
          .cancel()
          .catch(() => {}),
      ),
    );
    await client.close();
    await emulator.close();
    await mastra.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // (b) Slack 500 on chat.postMessage at start → the person's message
  const h = await startHarness();
  const replies: number[] = [];
  let attempts = 0;
  let text = '';
  try {
    const warm = await h.startRun('start noopWorkflow');
    await h.message(warm, (m) => m.text.includes('Succeeded'));
    await h.flowgate.progress.idle(); // its thread reply and DM are out
    const progressPosts = () =>
      h.emulator
        .callsOf('chat.postMessage')
        .filter((c) => !c.params.thread_ts && c.params.channel === GENERAL);
    for (let i = 0; i < rounds * 2; i++) {
      h.emulator.failCalls('chat.postMessage', { count: Number.POSITIVE_INFINITY });
      const posts = progressPosts().length;
      const before = h.replies(ALICE).length;
      const t0 = performance.now();
      await h.slash('start noopWorkflow');
      text = await waitFor('the reply', () => h.replies(ALICE).slice(before).at(-1), 60_000);
      replies.push(performance.now() - t0);
      attempts = Math.max(attempts, progressPosts().length - posts);
      h.emulator.failCalls('chat.postMessage', { count: 0 });
    }
  } finally {
    await h.close();
  }
  const sdk = sdkDefaultRetryWindowMs();
  const interactive = SLACK_CALL_POLICIES.interactive;
  const s = (n: number) => `${(n / 1000).toFixed(2)} s`;
  const minutes = (n: number) => `${Math.round(n / 60_000)} min`;
  return [
    '### Failures: SIGTERM mid-step, and Slack answering 500 at start',
    '',
    `(a) Flowgate in Socket Mode as a child process, started by \`npm start\` or \`node src/main.ts\`; a run of cancel-aware whose one step takes 9 s; SIGTERM to that process once the step runs; time until the process has exited. ${rounds} rounds each; exit codes seen: ${[...codes].join(', ')}.`,
    '',
    table(
      ['started by', 'SIGTERM → exit: p50', 'max', 'goal', 'before (measured once, commit 50c1ff4)'],
      Object.entries(stops).map(([how, values]) => [
        how,
        s(percentile(values, 50)),
        s(Math.max(...values)),
        '< 2 s',
        how === 'npm start'
          ? 'never: npm died of the signal at once (0.05 s), node went on running (`sh -c` kept the signal)'
          : '9.0 s: the rest of the step (3 rounds: 9.02, 9.01, 9.02 s)',
      ]),
    ),
    '',
    `(b) The real app in HTTP mode; the emulator answers every chat.postMessage with HTTP 500; \`/flowgate start noopWorkflow\`; time from sending the command to the ephemeral reply. ${rounds * 2} rounds; ${attempts} attempts of chat.postMessage per start at most.`,
    '',
    table(
      ['policy', 'Slack 500 → the person is told: p50', 'max', 'reply'],
      [
        [
          `\`interactive\` (${interactive.attempts} attempts, ${s(interactive.deadlineMs)} at most)`,
          s(percentile(replies, 50)),
          s(Math.max(...replies)),
          text,
        ],
        [
          `before: the Web API client's default (\`tenRetriesInAboutThirtyMinutes\`, stated, not waited for)`,
          `${minutes(sdk.min)}–${minutes(sdk.max)}`,
          `${minutes(sdk.max)}`,
          `nothing until then; the run sat \`pending\``,
        ],
      ],
    ),
    '',
    `The default's figure is the sum of its ${sdk.retries} waits (p-retry: 1 s × ${retryPolicies.tenRetriesInAboutThirtyMinutes.factor}^n, randomized ×1–2), before any time the requests themselves take.`,
  ].join('\n');
}

const SECTIONS = {
  acks: ackSection,
  calls: callsSection,
  budget: budgetSection,
  forms: formsSection,
  failures: failuresSection,
};

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Slack app',
      '',
      `Reproduce: \`node bench/slack.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
