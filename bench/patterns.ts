/**
 * Schema patterns checked in linear time: the worst-known backtracking patterns against answers of
 * 10,000 characters, through the real form validation (`readSubmission`), side by side with the
 * same validation of commit `BASELINE` (zod's native RegExp) — run only on answers short enough for
 * it to finish (the longest of up to 30 characters it finishes within about a second), since at
 * 10,000 it would not finish at all. Then the cost of an ordinary pattern per submission, before
 * and after. The baseline's modules are that commit's `src/`, extracted with `git archive` into a
 * temporary directory at bench time.
 * Run alone: `node bench/patterns.ts`.
 */
import { buildForm, readSubmission, stateFromInitial } from '../src/forms/index.ts';
import type { JsonSchema } from '../src/mastra/types.ts';
import { baselineSource } from './lib/baseline.ts';
import { fmt, gc, median, runSections, table } from './lib/stats.ts';

/** The commit before schema patterns were matched by RE2. */
const BASELINE = '8aa5ad3';
type ReadSubmission = typeof readSubmission;

/** `readSubmission` of commit `BASELINE`, and how to remove its copy. */
async function baseline(): Promise<{ readSubmission: ReadSubmission; dispose: () => void }> {
  const source = baselineSource(BASELINE);
  const forms = await source.load('src/forms/index.ts');
  return { readSubmission: forms.readSubmission as ReadSubmission, dispose: source.dispose };
}

const LONG = 10_000;
/** The native run stops growing the answer once one test takes this long. */
const NATIVE_BUDGET_MS = 1000;
const NATIVE_MAX = 30;

/** Each pattern with the answer of `n` characters that makes a backtracking engine try every split. */
const HOSTILE: readonly { pattern: string; miss: (n: number) => string }[] = [
  { pattern: '^(a+)+$', miss: (n) => `${'a'.repeat(n - 1)}!` },
  { pattern: '^(a|aa)+$', miss: (n) => `${'a'.repeat(n - 1)}!` },
  { pattern: '^(a|a)*$', miss: (n) => `${'a'.repeat(n - 1)}!` },
  { pattern: '(x+x+)+y', miss: (n) => 'x'.repeat(n) },
  { pattern: '^(\\w+\\s?)*$', miss: (n) => `${'a'.repeat(n - 1)}!` },
  { pattern: '^(([a-z])+.)+[A-Z]([a-z])+$', miss: (n) => 'a'.repeat(n) },
  { pattern: '^(\\d+)*$', miss: (n) => `${'1'.repeat(n - 1)}x` },
];

function schemaWith(pattern: string): JsonSchema {
  return {
    type: 'object',
    properties: { answer: { type: 'string', pattern } },
    required: ['answer'],
  };
}

/** ms of one form submission whose answer is `answer`, through `read` (a GC first). */
function submission(schema: JsonSchema, answer: string, read: ReadSubmission = readSubmission): number {
  const values = stateFromInitial(buildForm(schema));
  values['f:answer'] = { value: { type: 'plain_text_input', value: answer } };
  gc();
  const t0 = performance.now();
  const result = read(schema, values);
  const ms = performance.now() - t0;
  if (result.ok) throw new Error('the hostile answer was accepted');
  return ms;
}

function timed(fn: () => unknown, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** The longest answer (≤ NATIVE_MAX) the baseline checks within the budget, and its ms. */
function native(
  schema: JsonSchema,
  miss: (n: number) => string,
  read: ReadSubmission,
): { n: number; ms: number } {
  let best = { n: 0, ms: 0 };
  for (let n = 8; n <= NATIVE_MAX; n++) {
    const ms = submission(schema, miss(n), read);
    best = { n, ms };
    if (ms > NATIVE_BUDGET_MS) break;
  }
  return best;
}

async function hostileSection(): Promise<string> {
  const before = await baseline();
  const rows: (string | number)[][] = [];
  let worst = 0;
  try {
    for (const { pattern, miss } of HOSTILE) {
      const schema = schemaWith(pattern);
      submission(schema, miss(LONG)); // warm-up
      const times = Array.from({ length: 15 }, () => submission(schema, miss(LONG)));
      const max = Math.max(...times);
      worst = Math.max(worst, median(times));
      const { n, ms } = native(schema, miss, before.readSubmission);
      const short = median(Array.from({ length: 15 }, () => submission(schema, miss(n))));
      rows.push([
        `\`${pattern.replaceAll('|', '\\|')}\``,
        `${fmt(median(times), 2)} ms`,
        `${fmt(max, 2)} ms`,
        n,
        `${fmt(ms, 1)} ms`,
        `${fmt(short, 2)} ms`,
        `${fmt(ms / short, 0)}×`,
      ]);
    }
  } finally {
    before.dispose();
  }
  return [
    '### Worst-known backtracking patterns (goal: < 50 ms for a 10,000-character answer)',
    '',
    `Each answer is built to make a backtracking engine try every way to split it, and misses the pattern. Each figure is one whole form submission through \`readSubmission\` (reading the state, matching, zod), after a GC; "now" is the median and max of 15 at 10,000 characters. Before (commit ${BASELINE}, zod's native RegExp) the same submission cannot finish at 10,000 characters, so it runs on the longest answer of at most 30 characters it checks within about a second; "now, same length" is the median of 15 on that same short answer, and the ratio compares the two.`,
    '',
    table(
      [
        'pattern',
        'now, 10,000 chars: p50',
        'max',
        'before: answer length',
        'before: time',
        'now, same length',
        'before / now',
      ],
      rows,
    ),
    '',
    `Slowest pattern (median): ${fmt(worst, 2)} ms for 10,000 characters.`,
  ].join('\n');
}

async function ordinarySection(): Promise<string> {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      code: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' },
      email: { type: 'string', format: 'email' },
      note: { type: 'string', maxLength: 200 },
    },
    required: ['code', 'email'],
  };
  const data = { code: 'ABC-1234', email: 'ada@example.com', note: 'fine' };
  const values = stateFromInitial(buildForm(schema, { initial: data }));
  const before = await baseline();
  try {
    for (let i = 0; i < 200; i++) {
      readSubmission(schema, values);
      before.readSubmission(schema, values);
    }
    const now = timed(() => readSubmission(schema, values), 2000);
    const then = timed(() => before.readSubmission(schema, values), 2000);
    return [
      '### An ordinary pattern, per submission',
      '',
      `A three-field form (a code with a pattern, an e-mail, a note) submitted as typed, through \`readSubmission\`, median of 2,000. Now, a schema with a pattern has zod compiled for each check (its patterns replaced by the answer's strings RE2 accepts); before (commit ${BASELINE}), zod was compiled once per schema.`,
      '',
      table(['now', `before (${BASELINE})`], [[`${fmt(now * 1000, 0)} µs`, `${fmt(then * 1000, 0)} µs`]]),
    ].join('\n');
  } finally {
    before.dispose();
  }
}

const SECTIONS = { hostile: hostileSection, ordinary: ordinarySection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Schema patterns in linear time',
      '',
      `Reproduce: \`node bench/patterns.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
