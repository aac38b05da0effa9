/**
 * Logs as operators get them: the app's own JSON logger (as `npm start` builds it from the
 * configuration) capturing every line of a scenario on PostgreSQL — a run started and answered, a
 * run whose answer the Mastra server fails with a reply that echoes what it was sent — and every
 * line scanned for the secrets the scenario used: the bot token, the signing secret, the database
 * password, the Mastra auth token. The run id is on the lines of a run's life.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SlackEmulator, startSlackEmulator } from '../../src/emulator/index.ts';
import { ALICE, type Harness, SIGNING_SECRET, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import { yesNoGateWorkflow } from '../support/mastra/workflows.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';

const BOT_TOKEN = 'xoxb-4242-logs-test-bot-token';
const MASTRA_TOKEN = 'mastra-auth-token-51f0c9';

const lines: string[] = [];
let postgres: PostgresServer;
let dbUrl: string;
let emulator: SlackEmulator;
let mastra: MastraTestServer;
let h: Harness;

beforeAll(async () => {
  postgres = await startPostgres();
  dbUrl = await postgres.createDatabase();
  emulator = await startSlackEmulator({
    botToken: BOT_TOKEN,
    rateLimits: { 'chat.update': { perMinute: 6000 } },
  });
  mastra = await startMastraServer({
    workflows: {
      okGate: yesNoGateWorkflow('okGate', 'gate'),
      echoGate: yesNoGateWorkflow('echoGate', 'gate'),
    },
    // A broken proxy in front of the server: its error page echoes the request's headers and the
    // environment it found, secrets and all.
    intercept: (request) =>
      request.method === 'POST' && request.url.includes('/workflows/echoGate/resume')
        ? new Response(
            [
              '502 upstream failed',
              `request: Authorization: Bearer ${MASTRA_TOKEN}`,
              `environment: SLACK_BOT_TOKEN=${BOT_TOKEN} SLACK_SIGNING_SECRET=${SIGNING_SECRET} FLOWGATE_DB=${dbUrl}`,
            ].join('\n'),
            { status: 502, headers: { 'content-type': 'text/plain' } },
          )
        : undefined,
  });
  h = await startHarness({
    mastra,
    emulator,
    dbPath: dbUrl,
    logWrite: (line) => lines.push(line),
    config: {
      logLevel: 'debug',
      mastra: { url: mastra.url, apiPrefix: '/api', authToken: MASTRA_TOKEN },
    },
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await mastra?.close();
  await emulator?.close();
  await postgres?.close();
});

type Line = Record<string, unknown> & { level: string; time: string; msg: string };

function records(): Line[] {
  return lines.map((line) => JSON.parse(line) as Line);
}

describe('JSON logs', () => {
  test('a run started and answered, and one whose answer fails: no secret on any line, the run id on its lines', async () => {
    const ok = await h.startRun('start okGate {"amount": 3}');
    await h.click(await h.message(ok), 'flowgate_approve', { blockId: 'flowgate_step:gate' });
    await h.message(ok, (m) => m.text.includes('Succeeded'));
    await waitFor('the run over', () => records().some((r) => r.runId === ok && r.msg.includes('final')));

    const failing = await h.startRun('start echoGate {"amount": 4}');
    await h.click(await h.message(failing), 'flowgate_approve', { blockId: 'flowgate_step:gate' });
    await waitFor('the person told', () => h.replies(ALICE).some((t) => t.includes('was not accepted')));
    const failure = await waitFor('the failure logged', () =>
      records().find((r) => r.runId === failing && r.level === 'error'),
    );
    // The server's reply is in the log (operators need it), with the secrets in it redacted.
    expect(JSON.stringify(failure)).toContain('upstream failed');
    expect(JSON.stringify(failure)).toContain('[redacted]');

    const dbPassword = new URL(dbUrl).password;
    expect(dbPassword.length).toBeGreaterThan(3);
    // A request Slack did not sign: Bolt refuses it and says so in its own line.
    const forged = await fetch(h.appUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `command=/flowgate&text=${BOT_TOKEN}`,
    });
    expect(forged.status).toBe(401);
    await waitFor('Bolt’s line', () => records().some((r) => r.component === 'bolt' && r.level !== 'debug'));
    for (const line of lines) {
      for (const secret of [BOT_TOKEN, SIGNING_SECRET, dbPassword, MASTRA_TOKEN])
        expect(line).not.toContain(secret);
    }

    const all = records();
    for (const record of all) {
      expect(typeof record.time).toBe('string');
      expect(['debug', 'info', 'warn', 'error']).toContain(record.level);
      expect(typeof record.msg).toBe('string');
      expect(record.replica).toBe(h.flowgate.leases.id);
    }
    for (const runId of [ok, failing]) {
      // Flowgate's own lines about the run (Bolt's debug lines quote whole request bodies).
      const own = all.filter((r) => r.component === undefined && r.msg.includes(runId));
      expect(own.length).toBeGreaterThan(0);
      for (const record of own) expect(record.runId, record.msg).toBe(runId);
      const started = all.find((r) => r.runId === runId && r.msg.endsWith('started'));
      expect(started).toMatchObject({ level: 'info', user: ALICE, channel: expect.any(String) });
      expect(started?.workflow).toBe(runId === ok ? 'okGate' : 'echoGate');
    }
    // Bolt's own lines come out the same way.
    expect(all.some((r) => r.component === 'bolt')).toBe(true);
  });
});
