/**
 * Sandbox benchmarks (`npm start` with nothing configured):
 * 1. `npm start` → the page answers, → the page is usable, → the first demo run's final state;
 *    cold (empty compile cache) and warm, median of 5 each;
 * 2. page weight: the bytes a first load transfers.
 * Run alone: `node bench/sandbox.ts [start|weight]`.
 */

import { startSandbox } from '../src/sandbox/sandbox.ts';
import { PAGE_FILES } from '../src/sandbox/web.ts';
import { freePort, freshDir, get, type StartTimes, timeStart } from './lib/sandbox-process.ts';
import { fmt, median, runSections, table } from './lib/stats.ts';

const RUNS = 5;
const ms = (n: number) => `${fmt(n)} ms`;

async function startSection(): Promise<string> {
  const cold: StartTimes[] = [];
  const warm: StartTimes[] = [];
  const primed = freshDir('flowgate-bench-warm-');
  try {
    await timeStart(primed.path); // fills the warm compile cache
    for (let i = 0; i < RUNS; i++) {
      const fresh = freshDir('flowgate-bench-cold-');
      try {
        cold.push(await timeStart(fresh.path));
      } finally {
        fresh.remove();
      }
      warm.push(await timeStart(primed.path));
    }
  } finally {
    primed.remove();
  }
  const row = (name: string, runs: StartTimes[]) => {
    const usable = median(runs.map((r) => r.usableMs));
    return [
      name,
      ms(median(runs.map((r) => r.answersMs))),
      ms(usable),
      ms(median(runs.map((r) => r.readyMs))),
      ms(median(runs.map((r) => r.finalMs))),
      ms(Math.max(...runs.map((r) => r.usableMs))),
      usable < 3000 ? 'yes' : '**no**',
    ];
  };
  return [
    '### Start-up: `npm start` → page answers → page usable → first demo run final',
    '',
    `Each start is \`npm start\` spawned in the project with only \`PORT\` set (no Slack or Mastra settings), timed from the spawn; median of ${RUNS} alternating cold and warm starts. **Page answers**: \`GET /\` returns 200 (the page's port is bound first). **Page usable**: \`GET /api/state\` returns 200 (the page shows the workspace and takes input: commands sent before Flowgate listens wait for it). **All started**: the one line is printed (Flowgate listens, the embedded Mastra server is up). **First run final**: from page usable, \`/flowgate start deployPipeline {"stepSeconds": 0}\` sent through the page's API until the page's event stream shows the message "deploy-pipeline: Succeeded". Cold: a fresh \`TMPDIR\`, so Node's compile cache is empty; warm: the cache a previous start filled (the OS file cache is warm in both).`,
    '',
    table(
      [
        'start',
        'page answers',
        'page usable',
        'all started',
        'first run final',
        'slowest usable',
        'usable < 3 s',
      ],
      [row('cold', cold), row('warm', warm)],
    ),
  ].join('\n');
}

async function weightSection(): Promise<string> {
  const sandbox = await startSandbox({ env: { PORT: String(await freePort()) } });
  try {
    const gzip = { 'accept-encoding': 'gzip, deflate, br' };
    const rows: (string | number)[][] = [];
    let transferred = 0;
    let raw = 0;
    const requests: [string, string][] = [
      ['/', 'index.html'],
      ...PAGE_FILES.filter((f) => f !== 'index.html' && f !== 'favicon.svg').map((f): [string, string] => [
        `/assets/${f}`,
        f,
      ]),
      ['/favicon.svg', 'favicon.svg'],
      ['/api/state', 'workspace state (JSON)'],
    ];
    for (const [path, name] of requests) {
      const sent = await get(sandbox.port, path, gzip);
      const plain = await get(sandbox.port, path);
      transferred += sent.body.length + sent.headerBytes;
      raw += plain.body.length;
      rows.push([
        name,
        `${fmt(plain.body.length)} B`,
        `${fmt(sent.body.length)} B`,
        `${fmt(sent.headerBytes)} B`,
      ]);
    }
    rows.push(['**total**', `${fmt(raw)} B`, '', `**${fmt(transferred)} B transferred**`]);
    return [
      '### Page weight on first load',
      '',
      `Every request a first load makes (the page, its stylesheet and ${PAGE_FILES.filter((f) => f.endsWith('.js')).length} JavaScript modules, the icon, the workspace state of a fresh sandbox), fetched as a browser does with \`accept-encoding: gzip\`; "transferred" counts bodies as sent plus response headers. No fonts, images or third-party requests; no build step: the modules are the files in \`src/sandbox/page/\`.`,
      '',
      table(['request', 'size', 'sent (gzip)', 'headers'], rows),
    ].join('\n');
  } finally {
    await sandbox.stop();
  }
}

const SECTIONS = { start: startSection, weight: weightSection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Sandbox',
      '',
      `Reproduce: \`node bench/sandbox.ts [start|weight]\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}).`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
