/**
 * Who may see a run: what the read rule costs `runs` and `status`, end to end (a signed slash
 * command to the real app, the reply through the emulator's response URL, a real Mastra server).
 * Two app processes share one Mastra server, one emulator and one database, so they answer about
 * the very same runs: one with the default rule (the reader is let in as a member of the private
 * channel the runs were posted in: `conversations.members`, cached), one with `view: [everyone]`,
 * where the rule lets anyone in without a lookup — the app as it was without the rule.
 * Goal: within 10 %. Run alone: `node bench/visibility.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SlackEmulator, startSlackEmulator } from '../src/emulator/index.ts';
import { parsePolicy } from '../src/policy/load.ts';
import { ALICE, BOB, type Harness, startHarness, waitFor } from '../test/support/flowgate.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { compare, runSections, table } from './lib/stats.ts';

const PRIVATE = 'C0EMU0003'; // Alice and Bob are members
const ROUNDS = 60;
const NO_LIMIT = { burst: 1e9, refillMs: 1 };

/** Sends `text` as `user` and resolves when their ephemeral reply arrives. */
function ask(h: Harness, emulator: SlackEmulator, text: string, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stop = emulator.subscribe((event) => {
      if (event.type === 'ephemeral_posted' && event.ephemeral.user === user) {
        stop();
        resolve(event.ephemeral.text);
      }
    });
    h.slash(text, { user, channel: PRIVATE }).catch((error: unknown) => {
      stop();
      reject(error);
    });
  });
}

async function latencySection(): Promise<string> {
  const mastra = await startMastraServer();
  const emulator = await startSlackEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-view-'));
  const dbPath = join(dir, 'shared.db');
  const ruled = await startHarness({ mastra, emulator, dbPath, lookupLimit: NO_LIMIT });
  const open = await startHarness({
    mastra,
    emulator,
    dbPath,
    lookupLimit: NO_LIMIT,
    policy: parsePolicy('workflows:\n  linearWorkflow:\n    view: [everyone]\n', 'bench-view.yaml'),
  });
  try {
    const runIds: string[] = [];
    for (let i = 0; i < 15; i++) {
      const before = ruled.runIds().length;
      await ruled.slash('start linearWorkflow {"value": 1, "delayMs": 0}', { user: ALICE, channel: PRIVATE });
      const runId = await waitFor('a run', () =>
        ruled.runIds().length > before ? ruled.runIds().at(-1) : undefined,
      );
      await waitFor('its end', async () => (await ruled.flowgate.store.getProgressMessage(runId))?.final);
      runIds.push(runId);
    }
    const runId = runIds.at(-1) ?? '';
    // Both see the runs (checked once, so that the figures compare the same replies).
    for (const h of [ruled, open]) {
      const list = await ask(h, emulator, 'runs linearWorkflow', BOB);
      if (!list.includes(runIds.at(-1) ?? '') || list.includes('Not shown:'))
        throw new Error(`runs did not list every run: ${list}`);
      const status = await ask(h, emulator, `status ${runId}`, BOB);
      if (!status.includes('Succeeded')) throw new Error(`status did not show the run: ${status}`);
    }
    const status = await compare(
      {
        rule: () => ask(ruled, emulator, `status ${runId}`, BOB),
        none: () => ask(open, emulator, `status ${runId}`, BOB),
      },
      ROUNDS,
    );
    const runs = await compare(
      {
        rule: () => ask(ruled, emulator, 'runs linearWorkflow', BOB),
        none: () => ask(open, emulator, 'runs linearWorkflow', BOB),
      },
      ROUNDS,
    );
    const row = (what: string, r: { rule: number; none: number }) => [
      what,
      `${r.rule.toFixed(1)} ms`,
      `${r.none.toFixed(1)} ms`,
      `**${(r.rule / r.none).toFixed(2)}×**`,
    ];
    return [
      `### \`runs\` and \`status\` with the read rule vs without (median of ${ROUNDS} interleaved rounds)`,
      '',
      table(
        ['command', 'with the rule (member of a private channel)', 'without (view: everyone)', 'ratio'],
        [row('`status <run id>`', status), row('`runs linearWorkflow` (15 runs)', runs)],
      ),
      '',
      'Goal: ratio ≤ 1.10.',
    ].join('\n');
  } finally {
    await open.close();
    await ruled.close();
    await emulator.close();
    await mastra.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const SECTIONS = { latency: latencySection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Who may see a run',
      '',
      `Reproduce: \`node bench/visibility.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
