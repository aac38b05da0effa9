/**
 * Operating Flowgate, end to end: `GET /metrics` scraped while runs start, edit their message
 * (through a 429), wait on people, get answered and time out; `GET /readyz` answering 503 with what
 * failed when the Mastra server or the database goes away, and 200 again when it is back; the
 * metrics token; the ops server of Socket Mode. Real parts: the Bolt app, the Slack emulator, an
 * in-process Mastra server.
 */
import parsePrometheusTextFormat, { type Family } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parsePolicy } from '../../src/policy/load.ts';
import { ALICE, BOB, type Harness, LOCKED, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { createTestWorkflows, heldWorkflow, yesNoGateWorkflow } from '../support/mastra/workflows.ts';

const policy = parsePolicy(
  `
workflows:
  askedGate: { approvers: [${BOB}] }
  lateGate: { approvers: [${BOB}], timeoutAfter: 1s, onTimeout: { answer: { approved: false } } }
`,
  'operable-policy.yaml',
);

let release: () => void = () => {};
let held = new Promise<void>((resolve) => {
  release = resolve;
});
/** While true the Mastra server answers every request 500 (a server that is there but broken). */
let mastraDown = false;
let mastra: MastraTestServer;
let h: Harness;
beforeAll(async () => {
  mastra = await startMastraServer({
    workflows: {
      ...createTestWorkflows(),
      askedGate: yesNoGateWorkflow('askedGate', 'gate'),
      lateGate: yesNoGateWorkflow('lateGate', 'gate'),
      held: heldWorkflow(() => held),
    },
    intercept: () => (mastraDown ? new Response('down for maintenance', { status: 500 }) : undefined),
  });
  h = await startHarness({ mastra, policy, config: { metricsToken: 'scrape-token-0123' } });
});
afterAll(async () => {
  release();
  await h?.close();
  await mastra?.close();
});

type Scrape = Family[] & { text: string };

async function scrape(base = h.opsUrl, token = 'scrape-token-0123'): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  return Object.assign(parsePrometheusTextFormat(text), { text });
}

/**
 * How many observations a histogram holds for samples whose labels include `labels`, from its
 * `_count` lines (the parser keeps one set of buckets per histogram, not each label set's).
 */
function observations(scraped: Scrape, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of scraped.text.split('\n')) {
    const match = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== `${name}_count`) continue;
    const own = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => own[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

/** The sum of a family's samples whose labels include `labels`. */
function total(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric family ${name}`);
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? 0), 0);
}

async function ready(): Promise<{ status: number; text: string }> {
  const res = await fetch(`${h.opsUrl}/readyz`);
  return { status: res.status, text: await res.text() };
}

describe('GET /metrics', () => {
  test('every family, in Prometheus text format, behind the metrics token', async () => {
    const families = await scrape();
    const names = families.map((f) => f.name);
    for (const name of [
      'flowgate_runs_followed',
      'flowgate_leases_held',
      'flowgate_publisher_queued_messages',
      'flowgate_publisher_edit_lag_seconds',
      'flowgate_progress_edits_total',
      'flowgate_mastra_calls_total',
      'flowgate_mastra_call_duration_seconds',
      'flowgate_slack_calls_total',
      'flowgate_slack_call_duration_seconds',
      'flowgate_deadlines_fired_total',
      'flowgate_deadlines_failed_total',
      'flowgate_answers_total',
      'flowgate_watch_cycle_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(names).toContain(name);
    expect(families.find((f) => f.name === 'flowgate_mastra_call_duration_seconds')?.type).toBe('HISTOGRAM');

    const refused = await fetch(`${h.opsUrl}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('flowgate_');
    expect((await fetch(`${h.opsUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
  });

  test('counters move as a run starts, its message is edited through a 429, and it ends', async () => {
    const before = await scrape();
    h.emulator.forceRateLimit('chat.update', 1, 1);
    const runId = await h.startRun('start manyStepsWorkflow {"steps": 4, "events": 12, "durationMs": 400}');
    await waitFor('the final state', () => h.progressMessage(runId)?.text.includes('Succeeded'), 20_000);
    await waitFor('the run let go', () => h.flowgate.leases.held().length === 0);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);

    expect(
      moved('flowgate_mastra_calls_total', { path: '/workflows/:workflow/create-run', outcome: 'ok' }),
    ).toBe(1);
    expect(moved('flowgate_mastra_calls_total', { path: '/workflows/:workflow/stream', outcome: 'ok' })).toBe(
      1,
    );
    const timed = (name: string, labels: Record<string, string>) =>
      observations(after, name, labels) - observations(before, name, labels);
    expect(timed('flowgate_mastra_call_duration_seconds', { path: '/workflows/:workflow/create-run' })).toBe(
      1,
    );
    expect(timed('flowgate_slack_call_duration_seconds', { method: 'chat.update' })).toBeGreaterThan(1);
    expect(
      moved('flowgate_slack_calls_total', { method: 'chat.postMessage', outcome: 'ok' }),
    ).toBeGreaterThan(0);
    expect(moved('flowgate_slack_calls_total', { method: 'chat.update', outcome: '429' })).toBe(1);
    expect(moved('flowgate_slack_calls_total', { method: 'chat.update', outcome: 'ok' })).toBeGreaterThan(0);
    expect(moved('flowgate_progress_edits_total', { result: 'rate_limited' })).toBe(1);
    expect(moved('flowgate_progress_edits_total', { result: 'sent' })).toBeGreaterThan(0);
    expect(observations(after, 'flowgate_watch_cycle_seconds')).toBeGreaterThan(0);
    expect(total(after, 'flowgate_runs_followed')).toBe(0);
  });

  test('a Slack error (ok:false) is counted by its error, an HTTP 500 as 5xx', async () => {
    const before = await scrape();
    const moved = (after: Family[], labels: Record<string, string>) =>
      total(after, 'flowgate_slack_calls_total', labels) -
      total(before, 'flowgate_slack_calls_total', labels);
    // A channel that refuses the bot: chat.postMessage answers ok:false, the message goes to a DM.
    await h.slash('start linearWorkflow {"value": 1}', { channel: LOCKED });
    await waitFor('the note', () => h.replies(ALICE).some((t) => t.includes("can't post in this channel")));
    // Slack failing once: the post is tried again (interactive policy) and goes through.
    h.emulator.failCalls('chat.postMessage', { count: 1, status: 503 });
    const runId = await h.startRun('start linearWorkflow {"value": 2}');
    await waitFor('the final state', () => h.progressMessage(runId)?.text.includes('Succeeded'));
    const after = await scrape();
    expect(moved(after, { method: 'chat.postMessage', outcome: 'error', error: 'not_in_channel' })).toBe(1);
    expect(moved(after, { method: 'chat.postMessage', outcome: '5xx' })).toBe(1);
    await waitFor('every run let go', () => h.flowgate.leases.held().length === 0);
  });

  test('runs followed by stream, and leases held, are read at scrape time', async () => {
    await waitFor('no run followed', () => h.flowgate.leases.held().length === 0);
    const runId = await h.startRun('start held {"n": 1}');
    await waitFor('the run followed', () => h.flowgate.tracker.streams.held === 1);
    const during = await scrape();
    expect(total(during, 'flowgate_runs_followed', { how: 'stream' })).toBe(1);
    expect(total(during, 'flowgate_runs_followed', { how: 'shared' })).toBe(0);
    expect(total(during, 'flowgate_leases_held')).toBe(1);
    release();
    await waitFor('the final state', () => h.progressMessage(runId)?.text.includes('Succeeded'));
    await waitFor('the run let go', () => h.flowgate.leases.held().length === 0);
    const afterwards = await scrape();
    expect(total(afterwards, 'flowgate_runs_followed', { how: 'stream' })).toBe(0);
    expect(total(afterwards, 'flowgate_leases_held')).toBe(0);
    held = new Promise<void>((resolve) => {
      release = resolve;
    });
  });

  test('an answer (its claim won, the run resumed) and a deadline that fires', async () => {
    const before = await scrape();
    const asked = await h.startRun('start askedGate {"amount": 5}');
    const message = await h.message(asked);
    await h.click(message, 'flowgate_approve', { user: BOB, blockId: 'flowgate_step:gate' });
    await h.message(asked, (m) => m.text.includes('Succeeded'));
    const late = await h.startRun('start lateGate {"amount": 7}');
    await h.message(late, (m) => m.text.includes('Succeeded'));
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      total(after, name, labels) - total(before, name, labels);
    // The deadline answers through the same claim as a person: two claims won, two resumptions.
    expect(moved('flowgate_answers_total', { event: 'claim_won' })).toBe(2);
    expect(moved('flowgate_answers_total', { event: 'resumed' })).toBe(2);
    expect(moved('flowgate_deadlines_fired_total', { kind: 'timeout', late: 'false' })).toBe(1);
    expect(
      moved('flowgate_mastra_calls_total', { path: '/workflows/:workflow/resume-stream', outcome: 'ok' }),
    ).toBe(2);
  });
});

describe('GET /readyz and /healthz', () => {
  test('ready; 503 naming the Mastra server while it fails, ready again once it answers', async () => {
    expect(await ready()).toEqual({ status: 200, text: 'ok\ndatabase: ok\nmastra: ok\nslack: ok\n' });
    mastraDown = true;
    try {
      const down = await ready();
      expect(down.status).toBe(503);
      expect(down.text).toMatch(/^not ready: mastra\n/);
      expect(down.text).toContain('database: ok');
      // Liveness does not depend on the Mastra server.
      expect((await fetch(`${h.opsUrl}/healthz`)).status).toBe(200);
    } finally {
      mastraDown = false;
    }
    expect((await ready()).status).toBe(200);
  });

  test('a Mastra server that is gone, and a database that is closed: 503 naming each', async () => {
    const other = await startMastraServer();
    const alone = await startHarness({ mastra: other });
    try {
      expect((await fetch(`${alone.opsUrl}/readyz`)).status).toBe(200);
      await other.close();
      const gone = await fetch(`${alone.opsUrl}/readyz`);
      expect(gone.status).toBe(503);
      expect(await gone.text()).toMatch(/^not ready: mastra\n[\s\S]*mastra: (unreachable|no answer)/);
      await alone.flowgate.store.close();
      const closed = await fetch(`${alone.opsUrl}/readyz`);
      expect(closed.status).toBe(503);
      expect(await closed.text()).toMatch(/^not ready: database, mastra\n/);
      const health = await fetch(`${alone.opsUrl}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.text()).toBe('unhealthy: database\ndatabase: unreachable\n');
    } finally {
      await alone.close();
    }
  });
});

describe('the ops port', () => {
  test('FLOWGATE_OPS_PORT serves /healthz, /readyz and /metrics (and nothing else)', async () => {
    const socket = await startHarness({ mastra, socketMode: true, config: { opsPort: 0 } });
    try {
      expect(socket.appUrl).toBe('');
      expect(socket.opsUrl).not.toBe('');
      expect((await fetch(`${socket.opsUrl}/healthz`)).status).toBe(200);
      const readiness = await fetch(`${socket.opsUrl}/readyz`);
      expect(readiness.status).toBe(200);
      expect(await readiness.text()).toContain('slack: ok');
      const families = parsePrometheusTextFormat(await (await fetch(`${socket.opsUrl}/metrics`)).text());
      expect(families.map((f) => f.name)).toContain('flowgate_runs_followed');
      expect((await fetch(`${socket.opsUrl}/slack/events`)).status).toBe(404);
      expect((await fetch(`${socket.opsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await socket.close();
    }
  });

  test('HTTP mode with FLOWGATE_OPS_PORT: the ops routes on their own port too, nothing of Slack there', async () => {
    const http = await startHarness({ mastra, config: { opsPort: 0 } });
    try {
      expect(new URL(http.opsUrl).port).not.toBe(new URL(http.appUrl).port);
      expect((await fetch(`${http.opsUrl}/readyz`)).status).toBe(200);
      expect((await fetch(http.appUrl.replace('/slack/events', '/readyz'))).status).toBe(200);
      expect((await fetch(`${http.opsUrl}/slack/events`, { method: 'POST' })).status).toBe(404);
    } finally {
      await http.close();
    }
  });

  test('without FLOWGATE_OPS_PORT no port is opened', async () => {
    const socket = await startHarness({ mastra, socketMode: true });
    try {
      expect(socket.opsUrl).toBe('');
    } finally {
      await socket.close();
    }
  });
});
