/**
 * Runs started anywhere (runs other systems start through Mastra's API), against a real Mastra server (runs started through its HTTP
 * API), the real Flowgate app and the Slack emulator:
 * 1. detection: from a run suspending to its message being visible, p50/p99, at the default
 *    interval (5 s) and at 1 s (goal: p99 ≤ interval + 1 s);
 * 2. cost when idle: Mastra requests per minute with 50 watched workflows and nothing happening,
 *    with no history and with 1,000 finished runs (goal: does not grow with history);
 * 3. 200 runs started outside Slack at once: every one gets exactly one message; time to the last.
 * Run alone: `node bench/elsewhere.ts [detect|idle|burst]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { startSlackEmulator } from '../src/emulator/index.ts';
import { parsePolicy } from '../src/policy/load.ts';
import { type Harness, startHarness, waitFor } from '../test/support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../test/support/mastra/server.ts';
import { runSections, table } from './lib/stats.ts';

const CHANNEL = 'C0EMU0001';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** A gate that suspends at once (or, with `finish`, completes at once: history). */
function gate(id: string): AnyWorkflow {
  const input = z.object({ n: z.number(), finish: z.boolean().default(false) });
  const step = createStep({
    id: 'gate',
    inputSchema: input,
    outputSchema: z.object({ ok: z.boolean() }),
    resumeSchema: z.object({ ok: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (inputData.finish) return { ok: true };
      if (!resumeData) return suspend({});
      return { ok: resumeData.ok };
    },
  });
  return createWorkflow({ id, inputSchema: input, outputSchema: z.object({ ok: z.boolean() }) })
    .then(step)
    .commit() as unknown as AnyWorkflow;
}

function watchedPolicy(keys: readonly string[]) {
  return parsePolicy(
    `workflows:\n${keys.map((k) => `  ${k}:\n    channel: ${CHANNEL}\n`).join('')}`,
    'bench-policy.yaml',
  );
}

async function startAsync(mastra: MastraTestServer, workflow: string, body: unknown): Promise<string> {
  const reply = await fetch(`${mastra.url}/api/workflows/${workflow}/start-async`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const result = (await reply.json()) as { runId?: string; status?: string };
  if (!result.runId) throw new Error(`start-async gave ${JSON.stringify(result).slice(0, 200)}`);
  return result.runId;
}

async function withSetup<T>(
  options: { workflows: number; watchIntervalMs: number; countRequests?: boolean; unlimitedPosts?: boolean },
  body: (ctx: { h: Harness; mastra: MastraTestServer; keys: string[]; requests: () => number }) => Promise<T>,
): Promise<T> {
  const keys = Array.from({ length: options.workflows }, (_, i) => `watched${i}`);
  let requests = 0;
  const mastra = await startMastraServer({
    workflows: Object.fromEntries(keys.map((k) => [k, gate(k)])),
    ...(options.countRequests
      ? {
          intercept: (request) => {
            if (request.headers.get('x-bench') !== 'setup') requests++;
            return undefined;
          },
        }
      : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-elsewhere-'));
  const emulator = options.unlimitedPosts
    ? await startSlackEmulator({ rateLimits: { 'chat.postMessage': false, 'chat.update': false } })
    : undefined;
  const h = await startHarness({
    mastra,
    ...(emulator ? { emulator } : {}),
    policy: watchedPolicy(keys),
    dbPath: join(dir, 'bench.db'),
    watchIntervalMs: options.watchIntervalMs,
  });
  try {
    return await body({ h, mastra, keys, requests: () => requests });
  } finally {
    await h.close();
    await emulator?.close();
    await mastra.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function detection(intervalMs: number, runs: number): Promise<number[]> {
  return withSetup(
    { workflows: 1, watchIntervalMs: intervalMs, unlimitedPosts: true },
    async ({ h, mastra, keys }) => {
      const key = keys[0]!;
      const latencies: number[] = [];
      // Runs suspend at moments spread over two intervals, as they would in real life.
      await Promise.all(
        Array.from({ length: runs }, async (_, i) => {
          await new Promise((r) => setTimeout(r, (i * 2 * intervalMs) / runs));
          const runId = await startAsync(mastra, key, { inputData: { n: i } }); // resolves once suspended
          const suspendedAt = performance.now();
          await waitFor('the message', () => h.progressMessage(runId), intervalMs * 4 + 10_000);
          latencies.push(performance.now() - suspendedAt);
        }),
      );
      return latencies;
    },
  );
}

async function detectSection(): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const interval of [5000, 1000]) {
    const latencies = await detection(interval, 20);
    const p99 = percentile(latencies, 99);
    rows.push([
      `${interval} ms`,
      `${percentile(latencies, 50).toFixed(0)} ms`,
      `${p99.toFixed(0)} ms`,
      `≤ ${interval + 1000} ms`,
      p99 <= interval + 1000 ? 'met' : 'missed',
    ]);
  }
  return [
    '### Detection: a run suspends (Mastra HTTP API) → its message is visible',
    '',
    "20 runs per interval, suspending at moments spread over two intervals; measured from `start-async` returning (the run is suspended) to the message in the emulator. The emulator's per-channel `chat.postMessage` limit (about 1 per second) is lifted so that this measures detection, not the channel's posting rate.",
    '',
    table(['FLOWGATE_WATCH_INTERVAL_MS', 'p50', 'p99', 'goal', ''], rows),
  ].join('\n');
}

async function idleSection(): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const history of [0, 1000]) {
    const perMinute = await withSetup(
      { workflows: 50, watchIntervalMs: 1000, countRequests: true },
      async ({ h, mastra, keys, requests }) => {
        // History: finished runs spread over the watched workflows.
        for (let i = 0; i < history; i += 50) {
          await Promise.all(
            Array.from({ length: Math.min(50, history - i) }, (_, j) =>
              startAsync(mastra, keys[(i + j) % keys.length]!, { inputData: { n: i + j, finish: true } }),
            ),
          );
        }
        await h.flowgate.elsewhere.checkNow();
        const before = requests();
        const windowMs = 10_000;
        await new Promise((r) => setTimeout(r, windowMs));
        return ((requests() - before) * 60_000) / windowMs;
      },
    );
    rows.push([history, `${perMinute.toFixed(0)} /min`, `${(perMinute / 50).toFixed(1)} /min`]);
  }
  return [
    '### Cost when idle: 50 watched workflows, nothing happening, interval 1 s',
    '',
    'Mastra requests counted at the server over 10 s (start-up and the history itself not counted). Each check asks each watched workflow for its suspended runs only (`GET /workflows/:id/runs?status=suspended&page=0&perPage=100`), so finished runs are never read.',
    '',
    table(['finished runs in history', 'requests', 'per workflow'], rows),
  ].join('\n');
}

async function burstSection(): Promise<string> {
  return withSetup(
    { workflows: 1, watchIntervalMs: 1000, unlimitedPosts: true },
    async ({ h, mastra, keys }) => {
      const key = keys[0]!;
      const t0 = performance.now();
      const runIds = await Promise.all(
        Array.from({ length: 200 }, (_, i) => startAsync(mastra, key, { inputData: { n: i } })),
      );
      const allSuspended = performance.now() - t0;
      await waitFor('every message', () => runIds.every((id) => h.progressMessage(id)), 120_000);
      const last = performance.now() - t0;
      await h.flowgate.elsewhere.checkNow();
      const posts = h.emulator
        .messages(CHANNEL)
        .filter((m) => runIds.some((id) => m.text.includes(id))).length;
      return [
        '### 200 runs started outside Slack at once (interval 1 s)',
        '',
        "The emulator's per-channel `chat.postMessage` limit is lifted here, so this measures Flowgate: in one real Slack channel (about 1 message per second, and each run also gets a thread reply mentioning its approvers) 200 runs take at least 400 s to post, whatever the app.",
        '',
        table(
          ['measure', 'value'],
          [
            ['all 200 suspended (start-async returned)', `${allSuspended.toFixed(0)} ms`],
            ['last message visible', `${last.toFixed(0)} ms`],
            ['progress messages posted', `${posts} (goal: exactly 200)`],
          ],
        ),
      ].join('\n');
    },
  );
}

const SECTIONS = { detect: detectSection, idle: idleSection, burst: burstSection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Runs started anywhere',
      '',
      `Reproduce: \`node bench/elsewhere.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
