/**
 * The display tree's cost (the progress message drawn from the step graph): reducing and rendering one big run — 200 steps, 10 of them
 * nested workflows' groups, parallel groups, a 100-iteration foreach and a 50-iteration loop —
 * per event (µs) and per publish (ms), side by side with the flat step list of commit 48a27b1 on
 * the very same events. The events come from a real run on the in-process Mastra server; the
 * baseline's modules are that commit's `src/`, extracted with `git archive` into a temporary
 * directory at bench time (no copy in the repo).
 * Run alone: `node bench/tree.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { parseRecordsSync } from '../src/mastra/records.ts';
import { toWorkflowEvent } from '../src/mastra/schemas.ts';
import type { RunSnapshot, WorkflowEvent } from '../src/mastra/types.ts';
import { initialSnapshot, reduceRun } from '../src/runs/state.ts';
import { renderProgress } from '../src/slack/render/run-message.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { fmt, gc, median, runSections, table } from './lib/stats.ts';

const BASELINE = '48a27b1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const any = z.any();
const step = (id: string) =>
  createStep({
    id,
    inputSchema: any,
    outputSchema: any,
    execute: async ({ inputData }) => ({ ...(inputData ?? {}), last: id, note: `done by ${id}` }),
  });

/**
 * 200 steps: 60 top-level, 10 parallel groups of 2, 10 nested workflows of 12; then a foreach of
 * 100 items and a do-until loop of 50 iterations.
 */
function bigWorkflow(): AnyWorkflow {
  let w = createWorkflow({ id: 'big-tree', inputSchema: any, outputSchema: any }) as unknown as AnyWorkflow;
  for (let g = 0; g < 10; g++) {
    for (let i = 0; i < 6; i++) w = w.then(step(`s${g}-${i}`));
    w = w.parallel([step(`p${g}-a`), step(`p${g}-b`)]).map(async ({ inputData }) => inputData[`p${g}-a`]);
    let inner = createWorkflow({
      id: `inner-${g}`,
      inputSchema: any,
      outputSchema: any,
    }) as unknown as AnyWorkflow;
    for (let i = 0; i < 12; i++) inner = inner.then(step(`n${i}`));
    w = w.then(inner.commit());
  }
  const item = createStep({
    id: 'each-item',
    inputSchema: any,
    outputSchema: any,
    execute: async ({ inputData }) => ({ item: inputData, ok: true }),
  });
  const tick = createStep({
    id: 'tick',
    inputSchema: any,
    outputSchema: any,
    execute: async ({ inputData }) => ({ count: (inputData?.count ?? 0) + 1 }),
  });
  return w
    .map(async () => Array.from({ length: 100 }, (_, i) => i))
    .foreach(item, { concurrency: 4 })
    .map(async () => ({ count: 0 }))
    .dountil(tick, async ({ inputData }) => inputData.count >= 50)
    .commit();
}

interface Modules {
  initialSnapshot: (runId: string, graph: readonly unknown[], at?: Date) => RunSnapshot;
  reduceRun: (s: RunSnapshot | undefined, e: WorkflowEvent, at: Date) => RunSnapshot;
  renderProgress: typeof renderProgress;
}

/** The modules of commit `BASELINE`, from `git archive`, in a temporary directory. */
async function baseline(dir: string): Promise<Modules> {
  const archive = execFileSync('git', ['-C', ROOT, 'archive', BASELINE, 'src'], { maxBuffer: 64 << 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const state = await import(join(dir, 'src/runs/state.ts'));
  const render = await import(join(dir, 'src/slack/render/progress.ts'));
  return {
    initialSnapshot: state.initialSnapshot,
    reduceRun: state.reduceRun,
    renderProgress: render.renderProgress,
  };
}

async function captureRun(): Promise<{ graph: unknown[]; events: WorkflowEvent[] }> {
  const server = await startMastraServer({ workflows: { bigTree: bigWorkflow() } });
  try {
    const api = `${server.url}/api/workflows/bigTree`;
    const graph = ((await (await fetch(api)).json()) as { stepGraph: unknown[] }).stepGraph;
    await fetch(`${api}/create-run?runId=bench-1`, { method: 'POST' });
    const body = await fetch(`${api}/stream?runId=bench-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputData: {} }),
    });
    const events = parseRecordsSync(Buffer.from(await body.arrayBuffer())).map(toWorkflowEvent);
    return { graph, events };
  } finally {
    await server.close();
  }
}

const VIEW = { workflow: { key: 'bigTree', name: 'big-tree' }, starterId: 'U1', startedAt: new Date(0) };

/** Folds every event (µs per event), then renders the snapshots at `publishes` points of the run (ms each). */
function measure(m: Modules, graph: unknown[], events: WorkflowEvent[], publishes: number) {
  const at = new Date(0);
  const reduceTimes: number[] = [];
  const snapshots: RunSnapshot[] = [];
  const every = Math.max(1, Math.floor(events.length / publishes));
  for (let round = 0; round < 7; round++) {
    gc();
    let s = m.initialSnapshot('bench-1', graph, at);
    const t0 = performance.now();
    for (const event of events) s = m.reduceRun(s, event, at);
    reduceTimes.push(((performance.now() - t0) * 1000) / events.length);
  }
  let s = m.initialSnapshot('bench-1', graph, at);
  events.forEach((event, i) => {
    s = m.reduceRun(s, event, at);
    if (i % every === 0 || i === events.length - 1) snapshots.push(s);
  });
  const renderTimes: number[] = [];
  let maxChars = 0;
  for (let round = 0; round < 5; round++) {
    gc();
    const t0 = performance.now();
    for (const snapshot of snapshots) {
      const message = m.renderProgress({ ...VIEW, snapshot });
      if (round === 0) maxChars = Math.max(maxChars, JSON.stringify(message.blocks).length);
    }
    renderTimes.push((performance.now() - t0) / snapshots.length);
  }
  return {
    perEvent: median(reduceTimes),
    perPublish: median(renderTimes),
    renders: snapshots.length,
    maxChars,
  };
}

async function treeSection(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-baseline-'));
  try {
    const old = await baseline(dir);
    const { graph, events } = await captureRun();
    const now: Modules = { initialSnapshot, reduceRun, renderProgress };
    // Interleaved: baseline, tree, baseline, tree — the median of each.
    const results = { flat: [] as ReturnType<typeof measure>[], tree: [] as ReturnType<typeof measure>[] };
    for (let i = 0; i < 2; i++) {
      results.flat.push(measure(old, graph, events, 200));
      results.tree.push(measure(now, graph, events, 200));
    }
    const pick = (rs: ReturnType<typeof measure>[]) => ({
      perEvent: median(rs.map((r) => r.perEvent)),
      perPublish: median(rs.map((r) => r.perPublish)),
      renders: rs[0]!.renders,
      maxChars: rs[0]!.maxChars,
    });
    const flat = pick(results.flat);
    const tree = pick(results.tree);
    return [
      `### Reducing and rendering a big run`,
      '',
      `One run of a workflow with 200 steps (60 top-level, 10 parallel groups of 2, 10 nested workflows of 12 steps), a 100-iteration foreach and a 50-iteration do-until loop, on the in-process Mastra server: ${fmt(events.length)} events. Each event folded by the reducer (median of 7 passes, µs per event), and the message rendered (\`renderProgress\`, fitting included) at ${tree.renders} points spread over the run (median of 5 passes, ms per publish). Baseline: the flat step list of commit ${BASELINE} on the same events, its modules extracted with \`git archive\` at bench time.`,
      '',
      table(
        ['', 'per event (reduce)', 'per publish (render)', 'largest message (chars of JSON)'],
        [
          [
            `flat list (${BASELINE})`,
            `${fmt(flat.perEvent, 1)} µs`,
            `${fmt(flat.perPublish, 2)} ms`,
            fmt(flat.maxChars),
          ],
          [
            'display tree',
            `${fmt(tree.perEvent, 1)} µs`,
            `${fmt(tree.perPublish, 2)} ms`,
            fmt(tree.maxChars),
          ],
          [
            'tree / flat',
            `${fmt(tree.perEvent / flat.perEvent, 2)}×`,
            `${fmt(tree.perPublish / flat.perPublish, 2)}×`,
            '',
          ],
        ],
      ),
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## The step graph as a display tree',
      '',
      `Reproduce: \`node bench/tree.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    { tree: treeSection },
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
