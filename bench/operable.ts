/**
 * What logs and metrics cost: two Flowgate apps side by side in one run, one as in production
 * (JSON logs at `info` written to /dev/null through a real file descriptor, every metric counted)
 * and one with neither (a silent logger, no metric hooks), measured in interleaved rounds.
 * 1. acks: slash-command acknowledgement latency, 50 signed `help` commands at once (the load
 *    generator, the Mastra server and the Slack emulator in a child process: bench/lib/peer.ts);
 * 2. events: workflow events processed per second, a run of 30 steps and 3,000 events from start
 *    to its final message (the real Mastra server and the emulator in this process).
 * Goal: on / off ≤ 1.05. Run alone: `node bench/operable.ts [acks|events]`.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFlowgateApp, type FlowgateApp } from '../src/app.ts';
import { silentLogger } from '../src/logger.ts';
import { type Harness, SIGNING_SECRET, startHarness, waitFor } from '../test/support/flowgate.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { median, runSections, table } from './lib/stats.ts';
import { Peer } from './slack.ts';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Log lines go to /dev/null through a real write, as to a pipe or a file. */
function devNull(): { write: (line: string) => void; lines: () => number; close(): void } {
  const fd = openSync('/dev/null', 'w');
  let lines = 0;
  return {
    write: (line) => {
      lines += 1;
      writeSync(fd, `${line}\n`);
    },
    lines: () => lines,
    close: () => closeSync(fd),
  };
}

const ROUNDS = 7;

async function acksSection(): Promise<string> {
  const peer = new Peer();
  const ready = await peer.next();
  if (ready.type !== 'ready') throw new Error('peer did not start');
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-ops-'));
  const sink = devNull();
  const app = (name: string, on: boolean): FlowgateApp =>
    createFlowgateApp(
      {
        slack: { mode: 'http', botToken: ready.botToken, signingSecret: SIGNING_SECRET, port: 0 },
        slackApiUrl: ready.slackApiUrl,
        command: '/flowgate',
        mastra: { url: ready.mastraUrl, apiPrefix: '/api' },
        admins: [],
        dbPath: join(dir, `${name}.db`),
        updateIntervalMs: 1000,
        updatesPerMinute: 50,
        watchIntervalMs: 5000,
        logLevel: 'info',
      },
      on
        ? { logWrite: sink.write, host: '127.0.0.1' }
        : { logger: silentLogger, metrics: false, host: '127.0.0.1' },
    );
  const apps = { on: app('on', true), off: app('off', false) };
  try {
    const urls = {
      on: `http://127.0.0.1:${(await apps.on.start()).port}/slack/events`,
      off: `http://127.0.0.1:${(await apps.off.start()).port}/slack/events`,
    };
    const p99s = { on: [] as number[], off: [] as number[] };
    const p50s = { on: [] as number[], off: [] as number[] };
    for (let round = -1; round < ROUNDS; round++) {
      for (const which of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        await peer.ask({ type: 'app', appUrl: urls[which], signingSecret: SIGNING_SECRET });
        await new Promise((r) => setTimeout(r, 200));
        const reply = await peer.ask({ type: 'round', kind: 'command', keepAlive: true, concurrency: 50 });
        if (reply.type !== 'latencies') throw new Error('no latencies');
        if (round < 0) continue; // warm-up
        p50s[which].push(percentile(reply.values, 50));
        p99s[which].push(percentile(reply.values, 99));
      }
    }
    const on = median(p99s.on);
    const off = median(p99s.off);
    return [
      '### Slash-command acknowledgement, logs and metrics on vs off (goal: p99 ratio ≤ 1.05)',
      '',
      `Command: \`node bench/operable.ts acks\`. Two apps in this process, one with JSON logs at \`info\` (written to /dev/null) and every metric counted, one with a silent logger and no metric hooks; 50 signed \`help\` commands at once (kept-alive connections) from a child process, ${ROUNDS} rounds each, alternating which goes first. Median over the rounds.`,
      '',
      table(
        ['logs and metrics', 'p50', 'p99'],
        [
          ['on', `${median(p50s.on).toFixed(1)} ms`, `${on.toFixed(1)} ms`],
          ['off', `${median(p50s.off).toFixed(1)} ms`, `${off.toFixed(1)} ms`],
        ],
      ),
      '',
      `p99 ratio on / off: **${(on / off).toFixed(3)}** (log lines written meanwhile: ${sink.lines()}).`,
    ].join('\n');
  } finally {
    peer.stop();
    await Promise.all([apps.on.stop(), apps.off.stop()]);
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const EVENTS = 3000;

async function eventsSection(): Promise<string> {
  const mastra = await startMastraServer();
  const sink = devNull();
  // A Slack emulator each: each harness tells its runs by the messages posted in its workspace.
  const harnesses: Record<'on' | 'off', Harness> = {
    on: await startHarness({ mastra, logWrite: sink.write, config: { logLevel: 'info' } }),
    off: await startHarness({ mastra, metrics: false }),
  };
  try {
    const times = { on: [] as number[], off: [] as number[] };
    const ratios: number[] = [];
    // Each round starts one run on each app at the same moment: both share whatever else the
    // machine does then, and the round's ratio cancels it out.
    const timed = async (h: Harness): Promise<number> => {
      const t0 = performance.now();
      const runId = await h.startRun(
        `start manyStepsWorkflow {"steps": 30, "events": ${EVENTS}, "durationMs": 0}`,
      );
      await waitFor(
        'the final message',
        async () => (await h.flowgate.store.getProgressMessage(runId))?.final,
        120_000,
      );
      return performance.now() - t0;
    };
    for (let round = -1; round < ROUNDS * 2; round++) {
      const [on, off] = await Promise.all([timed(harnesses.on), timed(harnesses.off)]);
      await Promise.all([harnesses.on.flowgate.progress.idle(), harnesses.off.flowgate.progress.idle()]);
      if (round < 0) continue; // warm-up
      times.on.push(on);
      times.off.push(off);
      ratios.push(on / off);
    }
    const rate = (which: 'on' | 'off') => EVENTS / (median(times[which]) / 1000);
    return [
      `### Workflow events processed per second, logs and metrics on vs off (goal: ratio ≥ 1 / 1.05)`,
      '',
      `Command: \`node bench/operable.ts events\`. Two apps on one Mastra server (a Slack emulator each), in this process; each round starts a run of 30 steps and ${EVENTS.toLocaleString('en')} events (as fast as the server emits them) on both apps at the same moment, and times each from its slash command to its final message in the store. ${ROUNDS * 2} rounds after a warm-up; medians.`,
      '',
      table(
        ['logs and metrics', 'run, start to final', 'events per second'],
        (['on', 'off'] as const).map((which) => [
          which,
          `${median(times[which]).toFixed(0)} ms`,
          rate(which).toFixed(0),
        ]),
      ),
      '',
      `Time ratio on / off, median of the rounds' ratios: **${median(ratios).toFixed(3)}** (quartiles ${percentile(ratios, 25).toFixed(3)}–${percentile(ratios, 75).toFixed(3)}).`,
    ].join('\n');
  } finally {
    await Promise.all([harnesses.on.close(), harnesses.off.close()]);
    await mastra.close();
    sink.close();
  }
}

const SECTIONS = { acks: acksSection, events: eventsSection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Logs and metrics (what operating costs)',
      '',
      `Reproduce: \`node bench/operable.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
