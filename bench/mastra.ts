/**
 * Workflow client benchmark: ours (src/mastra) side by side with @mastra/client-js.
 *
 *   node bench/mastra.ts [parsing|overhead|memory]   # prints the markdown (every section by default)
 *
 * 1. stream parsing: 20 MiB of small workflow records (from the fixtures) in 64 KiB chunks, and
 *    20 × 1 MiB records in 4 KiB chunks, through each parser (client-js's own transform, taken from
 *    a client-js Run: the code its `run.stream()` pipes through), both fed by a ReadableStream;
 *    plus the same bytes end to end through each client's public `run.stream()` from a local server;
 * 2. per-call overhead of `startAsync` (noop workflow) against the real test server: 1,000
 *    sequential calls and 1,000 calls 100 at a time; also against a canned local server, which
 *    leaves only client costs;
 * 3. memory while streaming 100 MB of records through `run.stream()` from a server in a child process.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { MastraClient as ClientJs } from '@mastra/client-js';
import { MastraClient } from '../src/mastra/client.ts';
import { isMastraError } from '../src/mastra/errors.ts';
import { parseRecords } from '../src/mastra/records.ts';
import { toWorkflowEvent } from '../src/mastra/schemas.ts';
import { fixtureNames, loadFixture } from '../test/support/mastra/fixtures.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
import { compare, fmt, gc, median, mib, runSections, table } from './lib/stats.ts';

const RS = 0x1e;
const RUNS = 7;

// ---------------------------------------------------------------------------------------------
// Payloads

/** Every distinct record text of the fixture streams. */
function fixtureRecords(): Buffer[] {
  const seen = new Set<string>();
  for (const name of fixtureNames()) {
    const f = loadFixture(name);
    if (!f.isStream) continue;
    for (const text of f.text.split('\x1e')) if (text.trim() !== '') seen.add(text);
  }
  return [...seen].map((t) => Buffer.from(t, 'utf8'));
}

/** `targetBytes` of records cycled from `pool`, each terminated by 0x1E. */
function buildSmallPayload(pool: Buffer[], targetBytes: number): { bytes: Buffer; records: number } {
  const parts: Buffer[] = [];
  const sep = Buffer.from([RS]);
  let size = 0;
  let records = 0;
  while (size < targetBytes) {
    const r = pool[records % pool.length]!;
    parts.push(r, sep);
    size += r.length + 1;
    records++;
  }
  return { bytes: Buffer.concat(parts, size), records };
}

function buildLargePayload(count: number, recordBytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const head = `{"type":"workflow-step-result","runId":"big","from":"WORKFLOW","payload":{"stepName":"s","id":"s","status":"success","output":{"i":${i},"blob":"`;
    const tail = '"}}}';
    const pad = recordBytes - head.length - tail.length;
    parts.push(Buffer.from(head + 'x'.repeat(pad) + tail), Buffer.from([RS]));
  }
  return Buffer.concat(parts);
}

function chunk(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

function sourceOf(chunks: Buffer[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Parsers

type TransformFactory = () => TransformStream<Uint8Array, unknown>;

async function countClientJs(chunks: Buffer[], makeTransform: TransformFactory): Promise<number> {
  const reader = sourceOf(chunks).pipeThrough(makeTransform()).getReader();
  let n = 0;
  for (;;) {
    const { done } = await reader.read();
    if (done) return n;
    n++;
  }
}

async function countOurs(chunks: Buffer[]): Promise<number> {
  let n = 0;
  for await (const _ of parseRecords(sourceOf(chunks))) n++;
  return n;
}

async function countOursTyped(chunks: Buffer[]): Promise<number> {
  let n = 0;
  for await (const r of parseRecords(sourceOf(chunks))) {
    toWorkflowEvent(r);
    n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Local servers

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Streams `chunks` for POST …/stream and answers start-async / create-run with canned JSON. */
async function cannedServer(chunks: () => Buffer[]): Promise<{ url: string; close(): Promise<void> }> {
  const startAsyncReply = JSON.stringify({
    status: 'success',
    steps: {
      input: {},
      'noop-step': {
        startedAt: 1795642205528,
        status: 'success',
        output: { ok: true },
        endedAt: 1795642205529,
      },
    },
    input: {},
    stepExecutionPath: ['noop-step'],
    result: { ok: true },
    runId: 'x',
  });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (url.includes('/stream')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const list = chunks();
        let i = 0;
        const pump = () => {
          while (i < list.length) {
            if (!res.write(list[i++])) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      } else if (url.includes('/create-run')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"runId":"x"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(startAsyncReply);
      }
    });
  });
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}

// ---------------------------------------------------------------------------------------------
// client-js helpers (types kept minimal: the package's Run/Workflow classes are not exported)

interface CjsRun {
  startAsync(p: { inputData: unknown }): Promise<unknown>;
  stream(p: { inputData: unknown }): Promise<ReadableStream<unknown>>;
  createChunkTransformStream(): TransformStream<Uint8Array, unknown>;
}
type CjsRunCtor = new (options: unknown, workflowId: string, runId: string) => CjsRun;

/** A client-js Run factory that does what `workflow.createRun()` does, minus its request. */
async function cjsRunFactory(cjs: ClientJs, workflowId: string): Promise<(runId: string) => CjsRun> {
  const wf = cjs.getWorkflow(workflowId);
  const first = (await wf.createRun({ runId: 'bench-proto' })) as unknown as CjsRun;
  const Ctor = (first as unknown as { constructor: CjsRunCtor }).constructor;
  const options = (wf as unknown as { options: unknown }).options;
  return (runId) => new Ctor(options, workflowId, runId);
}

// ---------------------------------------------------------------------------------------------
// 1. Stream parsing

async function parsingSection(): Promise<string> {
  const pool = fixtureRecords();
  const small = buildSmallPayload(pool, 20 * 1024 * 1024);
  const smallChunks = chunk(small.bytes, 64 * 1024);
  const large = buildLargePayload(20, 1024 * 1024);
  const largeChunks = chunk(large, 4 * 1024);

  const canned = await cannedServer(() => smallChunks);
  const cjs = new ClientJs({ baseUrl: canned.url, retries: 0 });
  const makeCjsRun = await cjsRunFactory(cjs, 'w');
  const transformHost = makeCjsRun('parser-host');
  const makeTransform: TransformFactory = () => transformHost.createChunkTransformStream();

  // Sanity: both parse every record.
  if (
    (await countOurs(smallChunks)) !== small.records ||
    (await countClientJs(smallChunks, makeTransform)) !== small.records
  ) {
    throw new Error('record counts differ');
  }

  const a = await compare(
    {
      ours: () => countOurs(smallChunks),
      typed: () => countOursTyped(smallChunks),
      cjs: () => countClientJs(smallChunks, makeTransform),
    },
    RUNS,
  );
  const b = await compare(
    { ours: () => countOurs(largeChunks), cjs: () => countClientJs(largeChunks, makeTransform) },
    RUNS,
  );

  // End to end: the same 20 MiB through each client's public run.stream() from a local server.
  const ours = new MastraClient({ baseUrl: canned.url });
  const e2e = await compare(
    {
      ours: async () => {
        let n = 0;
        const s = await ours.getWorkflow('w').run('r').stream({ inputData: {} });
        try {
          for await (const _ of s) n++;
        } catch (e) {
          // The payload is cut at 20 MiB, without a final workflow-finish: expected.
          if (!isMastraError(e, 'protocol')) throw e;
        }
        if (n !== small.records) throw new Error(`ours: ${n} events`);
      },
      cjs: async () => {
        let n = 0;
        const s = await makeCjsRun('r').stream({ inputData: {} });
        for await (const _ of s as unknown as AsyncIterable<unknown>) n++;
        if (n !== small.records) throw new Error(`client-js: ${n} events`);
      },
    },
    RUNS,
  );
  const smallOurs = a.ours;
  const smallTyped = a.typed;
  const smallCjs = a.cjs;
  const largeOurs = b.ours;
  const largeCjs = b.cjs;
  const e2eOurs = e2e.ours;
  const e2eCjs = e2e.cjs;
  await ours.close();
  await canned.close();

  const evps = (ms: number) => fmt(small.records / (ms / 1000));
  const mibps = (ms: number) => fmt(mib(large.length) / (ms / 1000));
  return [
    '### 1. Stream parsing',
    '',
    `Payload A: ${fmt(mib(small.bytes.length), 1)} MiB = ${fmt(small.records)} records (${pool.length} distinct fixture records, ~${fmt(small.bytes.length / small.records)} B each) in 64 KiB chunks. Payload B: 20 records × 1 MiB in 4 KiB chunks. Median of ${RUNS} interleaved runs after 1 warm-up each, a full GC before every run; both parsers fed by the same \`ReadableStream\`, JSON.parse included.`,
    '',
    table(
      ['scenario', 'ours', '@mastra/client-js', 'ours / client-js'],
      [
        [
          'A: small records, parser (records → JSON values)',
          `${evps(smallOurs)} ev/s`,
          `${evps(smallCjs)} ev/s`,
          `**${fmt(smallCjs / smallOurs, 2)}×**`,
        ],
        [
          'A: small records, ours with typed events (zod + Dates)',
          `${evps(smallTyped)} ev/s`,
          '(no validation)',
          `${fmt(smallCjs / smallTyped, 2)}×`,
        ],
        [
          'A: end to end, public `run.stream()` from a local server',
          `${evps(e2eOurs)} ev/s`,
          `${evps(e2eCjs)} ev/s`,
          `${fmt(e2eCjs / e2eOurs, 2)}×`,
        ],
        [
          'B: 1 MiB records in 4 KiB chunks, parser',
          `${mibps(largeOurs)} MiB/s (${fmt(largeOurs)} ms)`,
          `${mibps(largeCjs)} MiB/s (${fmt(largeCjs)} ms)`,
          `**${fmt(largeCjs / largeOurs, 1)}×**`,
        ],
      ],
    ),
    '',
    'Goal: ≥ parity on A, ≥ 20× on B. The typed-event row is ours only (client-js neither validates nor revives dates).',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 2. Per-call overhead

async function runCalls(
  call: (i: number) => Promise<unknown>,
  total: number,
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      await call(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function overheadAgainst(
  baseUrl: string,
  workflowId: string,
  label: string,
): Promise<{ rows: string[][]; seq: number; conc: number }> {
  const ours = new MastraClient({ baseUrl, connections: 128 });
  const cjs = new ClientJs({ baseUrl, retries: 0 });
  const makeCjsRun = await cjsRunFactory(cjs, workflowId);
  const wf = ours.getWorkflow(workflowId);
  let id = 0;
  const oursCall = () => wf.run(`o-${label}-${id++}`).startAsync({ inputData: {} });
  const cjsCall = () => makeCjsRun(`c-${label}-${id++}`).startAsync({ inputData: {} });

  // Warm up both (connections, JIT); `compare` then interleaves the contenders round by round.
  await runCalls(oursCall, 100, 10);
  await runCalls(cjsCall, 100, 10);
  const seqT = await compare(
    { ours: () => runCalls(oursCall, 1000, 1), cjs: () => runCalls(cjsCall, 1000, 1) },
    3,
  );
  const concT = await compare(
    { ours: () => runCalls(oursCall, 1000, 100), cjs: () => runCalls(cjsCall, 1000, 100) },
    3,
  );
  const seqOurs = [seqT.ours];
  const seqCjs = [seqT.cjs];
  const concOurs = [concT.ours];
  const concCjs = [concT.cjs];
  await ours.close();
  const perCall = (ms: number) => `${fmt((ms / 1000) * 1000, 0)} µs/call`;
  const seq = median(seqOurs) / median(seqCjs);
  const conc = median(concOurs) / median(concCjs);
  return {
    seq,
    conc,
    rows: [
      [
        `${label}: 1,000 sequential`,
        `${fmt(median(seqOurs))} ms (${perCall(median(seqOurs))})`,
        `${fmt(median(seqCjs))} ms (${perCall(median(seqCjs))})`,
        `**${fmt(seq, 2)}**`,
      ],
      [
        `${label}: 1,000 at 100 concurrent`,
        `${fmt(median(concOurs))} ms`,
        `${fmt(median(concCjs))} ms`,
        `**${fmt(conc, 2)}**`,
      ],
    ],
  };
}

async function overheadSection(): Promise<string> {
  const server = await startMastraServer();
  const real = await overheadAgainst(server.url, 'noopWorkflow', 'real Mastra server');
  await server.close();
  const canned = await cannedServer(() => []);
  const fake = await overheadAgainst(canned.url, 'w', 'canned local server');
  await canned.close();
  return [
    '### 2. Per-call overhead: `startAsync`',
    '',
    'Noop workflow on the in-process test server (Mastra + LibSQL `:memory:` + Hono), same process as the clients; then a canned local server answering a fixed start-async reply, which leaves mostly client cost. Median of 3 interleaved rounds (a GC before each) after 100 + 1,000 warm-up calls each. client-js Run objects are built as its `createRun()` does, without the extra request, so both sides make exactly one request per call.',
    '',
    table(
      ['calls', 'ours', '@mastra/client-js', 'time ratio ours / client-js'],
      [...real.rows, ...fake.rows],
    ),
    '',
    'Goal: ratio ≤ 1.0.',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 3. Memory while streaming 100 MB

/** Child-process server: `POST /api/workflows/w-<bytes>/stream` streams that many bytes of records. */
const STREAM_SERVER = `
import { createServer } from 'node:http';
const pad = 'x'.repeat(900);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url.includes('/create-run')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"runId":"mem"}');
      return;
    }
    const total = Number(/w-(\\d+)/.exec(req.url)[1]);
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    let i = 0;
    const pump = () => {
      while (sent < total) {
        const rec = JSON.stringify({ type: 'workflow-step-output', runId: 'mem', from: 'USER', payload: { stepName: 's', output: { i: i++, pad } } }) + '\\x1e';
        sent += rec.length;
        if (!res.write(rec)) { res.once('drain', pump); return; }
      }
      res.end(JSON.stringify({ type: 'workflow-finish', runId: 'mem', from: 'WORKFLOW', payload: { workflowStatus: 'success', metadata: {} } }) + '\\x1e');
    };
    pump();
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

interface MemResult {
  events: number;
  ms: number;
  /** Peak RSS above the baseline. */
  rss: number;
  /** Peak heap used above the baseline (includes garbage not yet collected). */
  heap: number;
  /** Heap above the baseline after a full GC at the end: what the stream kept. */
  retained: number;
}

async function measureMemory(consume: () => Promise<number>): Promise<MemResult> {
  gc();
  await new Promise((r) => setTimeout(r, 50));
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const t0 = performance.now();
  const events = await consume();
  const ms = performance.now() - t0;
  clearInterval(timer);
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  gc();
  const retained = process.memoryUsage().heapUsed - base.heapUsed;
  return { events, ms, rss: peakRss - base.rss, heap: peakHeap - base.heapUsed, retained };
}

/** Heap cap for the definitive check: far below the 100 MB a buffering client would hold. */
const HEAP_CAP_MIB = 48;

/** Streams `total` bytes with our client in a child process whose heap is capped; did it finish? */
async function underHeapCap(
  url: string,
  total: number,
): Promise<{ ok: boolean; events: number; maxRss: number; detail: string }> {
  const script = `
    const { MastraClient } = await import(${JSON.stringify(new URL('../src/mastra/client.ts', import.meta.url).href)});
    const client = new MastraClient({ baseUrl: ${JSON.stringify(url)} });
    let n = 0;
    for await (const _ of await client.getWorkflow('w-${total}').run('mem').stream({ inputData: {} })) n++;
    await client.close();
    console.log(JSON.stringify({ events: n, maxRssKiB: process.resourceUsage().maxRSS }));
  `;
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${HEAP_CAP_MIB}`, '--input-type=module', '-e', script],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const result = code === 0 ? (JSON.parse(out) as { events: number; maxRssKiB: number }) : undefined;
  const oom = /heap out of memory|Allocation failed/i.test(err);
  return {
    ok: code === 0,
    events: result?.events ?? 0,
    maxRss: (result?.maxRssKiB ?? 0) * 1024,
    detail: code === 0 ? 'finished' : oom ? 'ran out of heap' : `exit ${code}`,
  };
}

async function memorySection(): Promise<string> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', STREAM_SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
  const url = `http://127.0.0.1:${port}`;
  const ours = new MastraClient({ baseUrl: url });
  const cjs = new ClientJs({ baseUrl: url, retries: 0 });
  const rows: string[][] = [];
  const capped: string[][] = [];
  try {
    for (const total of [20e6, 100e6]) {
      const r = await underHeapCap(url, total);
      capped.push([
        `${fmt(total / 1e6)} MB`,
        r.detail,
        fmt(r.events),
        r.ok ? `${fmt(mib(r.maxRss))} MiB` : '—',
      ]);
    }
    for (const total of [20e6, 100e6]) {
      const wf = `w-${total}`;
      const makeCjsRun = await cjsRunFactory(cjs, wf);
      const o = await measureMemory(async () => {
        let n = 0;
        for await (const _ of await ours.getWorkflow(wf).run('mem').stream({ inputData: {} })) n++;
        return n;
      });
      const c = await measureMemory(async () => {
        let n = 0;
        for await (const _ of (await makeCjsRun('mem').stream({
          inputData: {},
        })) as unknown as AsyncIterable<unknown>)
          n++;
        return n;
      });
      const row = (label: string, r: MemResult) => [
        `${fmt(total / 1e6)} MB`,
        label,
        fmt(r.events),
        `${fmt(mib(r.rss), 1)} MiB`,
        `${fmt(mib(r.heap), 1)} MiB`,
        `${fmt(mib(r.retained), 1)} MiB`,
        `${fmt(total / 1e6 / (r.ms / 1000))} MB/s`,
      ];
      rows.push(row('ours (typed events)', o), row('@mastra/client-js (JSON values)', c));
    }
  } finally {
    await ours.close();
    child.kill();
  }
  return [
    '### 3. Memory while streaming 100 MB',
    '',
    'A server in a child process streams ~1 KB `workflow-step-output` records (respecting backpressure) to `run.stream()`; the loop only counts events. Peak RSS and heap above the baseline (sampled every 20 ms, after a forced GC), and heap still held after a full GC at the end.',
    '',
    table(
      ['streamed', 'client', 'events', 'peak RSS Δ', 'peak heap Δ', 'retained after GC', 'throughput'],
      rows,
    ),
    '',
    `Definitive check: our client streaming in a child process whose heap is capped at ${HEAP_CAP_MIB} MiB (\`--max-old-space-size=${HEAP_CAP_MIB}\`), far less than a client that buffers a 100 MB body would need. Peak RSS is the whole process's, Node itself included.`,
    '',
    table(['streamed', 'outcome', 'events', 'peak RSS'], capped),
    '',
    'Peak heap in the table includes garbage not yet collected, so it moves with GC timing and machine load; "retained after GC" and the capped run are what show whether memory is bounded. Throughput is bound by the generating server (one `JSON.stringify` per record in the child process).',
  ].join('\n');
}

const SECTIONS = { parsing: parsingSection, overhead: overheadSection, memory: memorySection };

export function run(only?: string[]): Promise<string> {
  return runSections(
    [
      '## Workflow client',
      '',
      `Reproduce: \`node bench/mastra.ts\` (Node ${process.versions.node}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at start, ${new Date().toISOString().slice(0, 10)}). Figures from a shared machine: run-to-run noise of ±30% is normal; ratios are what to compare.`,
    ],
    SECTIONS,
    only,
  );
}

if (import.meta.main) {
  console.log(await run(process.argv.slice(2)));
}
