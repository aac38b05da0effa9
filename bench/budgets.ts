import { Pool } from 'undici';
import { MastraClient } from '../src/mastra/client.ts';
import { isMastraError } from '../src/mastra/errors.ts';
import type { WorkflowEventStream } from '../src/mastra/events.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { heldWorkflow } from '../test/support/mastra/workflows.ts';
import { fmt, median, runSections, table } from './lib/stats.ts';

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

const SECTIONS = { streams: besideStreams };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Control calls beside streams (issue 18, part)',
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
