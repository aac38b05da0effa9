/**
 * Loading a hostile policy file: a "billion laughs" (each level a list of nine aliases to the level
 * before) and one long list aliased many times, through `parsePolicy`, side by side with the loader
 * of commit `BASELINE` (which expanded every alias by hand) — run on level counts small enough for
 * it to finish (up to the first that takes over about two seconds). Then an ordinary policy file.
 * Run alone: `node bench/policy.ts`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePolicy } from '../src/policy/load.ts';
import { laughs } from '../test/support/hostile-policy.ts';
import { baselineSource } from './lib/baseline.ts';
import { fmt, gc, median, runSections, table } from './lib/stats.ts';

/** The commit before the policy loader bounded aliases. */
const BASELINE = '8aa5ad3';
const BEFORE_BUDGET_MS = 2000;

type Parse = typeof parsePolicy;

/** One list of `size` IDs, aliased by `uses` workflows. */
function wide(size: number, uses: number): string {
  const ids = Array.from({ length: size }, (_, i) => `U${i}`).join(', ');
  const lines = [`admins: &all [${ids}]`, 'workflows:'];
  for (let i = 0; i < uses; i++) lines.push(`  w${i}: { approvers: *all }`);
  return `${lines.join('\n')}\n`;
}

/** ms of one load (a GC first), and what came of it. */
function load(parse: Parse, text: string): { ms: number; outcome: string } {
  gc();
  const t0 = performance.now();
  let outcome = 'loaded';
  try {
    parse(text, 'p.yaml');
  } catch (error) {
    outcome = 'refused';
    if (!(error instanceof Error) || error.name !== 'PolicyError') throw error;
  }
  return { ms: performance.now() - t0, outcome };
}

function medianLoad(parse: Parse, text: string, runs: number): { ms: number; outcome: string } {
  const results = Array.from({ length: runs }, () => load(parse, text));
  return { ms: median(results.map((r) => r.ms)), outcome: results[0]?.outcome ?? '' };
}

async function hostileSection(): Promise<string> {
  const source = baselineSource(BASELINE);
  try {
    const before = (await source.load('src/policy.ts')).parsePolicy as Parse;
    const rows: (string | number)[][] = [];
    for (let i = 0; i < 5; i++) load(parsePolicy, laughs(4)); // warm-up
    let beforeDone = false;
    for (const levels of [2, 3, 4, 5, 6, 8, 10, 20]) {
      const text = laughs(levels);
      const now = medianLoad(parsePolicy, text, 9);
      let then = '—';
      if (!beforeDone) {
        const b = load(before, text);
        then = `${fmt(b.ms, 1)} ms (${b.outcome})`;
        if (b.ms > BEFORE_BUDGET_MS) beforeDone = true;
      }
      rows.push([
        levels,
        `${fmt(Buffer.byteLength(text))} B`,
        (9n ** BigInt(levels + 1)).toLocaleString('en-US'),
        `${fmt(now.ms, 1)} ms (${now.outcome})`,
        then,
      ]);
    }
    const wideRows: (string | number)[][] = [];
    for (const [size, uses] of [
      [500, 10],
      [500, 30],
      [2000, 60],
    ] as const) {
      const text = wide(size, uses);
      const now = medianLoad(parsePolicy, text, 9);
      const b = load(before, text);
      wideRows.push([
        `${size} IDs × ${uses} aliases`,
        `${fmt(Buffer.byteLength(text))} B`,
        `${fmt(now.ms, 1)} ms (${now.outcome})`,
        `${fmt(b.ms, 1)} ms (${b.outcome})`,
      ]);
    }
    return [
      '### Hostile alias files (goal: < 100 ms, or refused)',
      '',
      `\`parsePolicy\` on the file's text, median of 9 after a GC; before: the loader of commit ${BASELINE}, once, on level counts up to the first that takes over ${BEFORE_BUDGET_MS / 1000} s (each further level costs it about nine times more, so it is not run on them: "—"). Once expanded, every level is a list of lists, which the policy's schema refuses too: what counts is how soon.`,
      '',
      table(['levels', 'file', 'user IDs once expanded', 'now', `before (${BASELINE})`], rows),
      '',
      "One long list aliased by many workflows (within the YAML library's own limit; refused past 10,000 values read through aliases):",
      '',
      table(['file shape', 'file', 'now', `before (${BASELINE})`], wideRows),
    ].join('\n');
  } finally {
    source.dispose();
  }
}

async function ordinarySection(): Promise<string> {
  const source = baselineSource(BASELINE);
  try {
    const before = (await source.load('src/policy.ts')).parsePolicy as Parse;
    const text = readFileSync(fileURLToPath(new URL('../policy.example.yaml', import.meta.url)), 'utf8');
    for (let i = 0; i < 20; i++) {
      load(parsePolicy, text);
      load(before, text);
    }
    const now = medianLoad(parsePolicy, text, 51);
    const then = medianLoad(before, text, 51);
    return [
      '### An ordinary policy file',
      '',
      `\`policy.example.yaml\` (${fmt(Buffer.byteLength(text))} B, one alias), median of 51.`,
      '',
      table(['now', `before (${BASELINE})`], [[`${fmt(now.ms, 2)} ms`, `${fmt(then.ms, 2)} ms`]]),
    ].join('\n');
  } finally {
    source.dispose();
  }
}

const SECTIONS = { hostile: hostileSection, ordinary: ordinarySection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## The policy file: aliases and size',
      '',
      `Reproduce: \`node bench/policy.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
