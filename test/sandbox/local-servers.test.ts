/**
 * Every local server of the sandbox — the page's, the embedded Mastra server, the Slack emulator
 * (Web API, response URLs, Socket Mode) and Flowgate's own receiver — answers only requests
 * addressed to it on loopback from no other origin: a web page open in the same browser reaches
 * none of them, neither by DNS rebinding (a foreign Host) nor by a cross-site request, and
 * changes nothing. Flowgate's own calls (Host 127.0.0.1:PORT, no Origin) still go through.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/logger.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox.ts';
import { SANDBOX_CHANNELS, SANDBOX_USERS } from '../../src/sandbox/workspace.ts';
import { waitFor } from '../support/flowgate.ts';

let sandbox: Sandbox;
const logs: string[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({
    env: { PORT: '0' },
    logger: createLogger('warn', (line) => logs.push(line)),
  });
}, 30_000);
afterAll(async () => {
  await sandbox?.stop();
});

interface Reply {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/** A raw request to `base` (`http://127.0.0.1:PORT`), so Host, Origin and the rest can be anything. */
function raw(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += String(c)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const EVIL = 'http://evil.test';

/** What a hostile page can send without a preflight or through a rebound name, for one server. */
async function expectRefused(base: string, path: string, method: string, body?: string) {
  const port = new URL(base).port;
  const simple = { 'content-type': 'text/plain;charset=UTF-8' };
  const sent = (headers: Record<string, string>) =>
    raw(base, path, { method, headers: { ...simple, ...headers }, ...(body === undefined ? {} : { body }) });
  // DNS rebinding: the hostile name resolves to 127.0.0.1, the browser sends its own Host.
  const rebound = await sent({ host: `evil.test:${port}` });
  expect(rebound.status).toBe(421);
  expect(rebound.headers['content-type']).toContain('text/plain');
  expect(rebound.body).toBe(`This server answers on 127.0.0.1:${port} only.`);
  // A cross-site simple request (no preflight): the right Host, a foreign Origin.
  const crossSite = await sent({ origin: EVIL, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' });
  expect(crossSite.status).toBe(403);
  expect(crossSite.body).toBe('Cross-origin requests are refused.');
  // Another port of this machine is another origin too.
  expect((await sent({ origin: `http://127.0.0.1:${Number(port) + 1}` })).status).toBe(403);
  expect((await sent({ origin: 'null' })).status).toBe(403);
  // No Origin, but the browser says it is cross-site (a tag, say).
  expect((await sent({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' })).status).toBe(403);
  expect((await sent({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' })).status).toBe(403);
  // And a preflight from elsewhere gets nothing that would allow the real request.
  const preflight = await raw(base, path, {
    method: 'OPTIONS',
    headers: { origin: EVIL, 'access-control-request-method': method },
  });
  expect(preflight.status).toBe(403);
  expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
}

async function mastraRuns(workflowId: string): Promise<number> {
  const reply = await raw(sandbox.mastraUrl, `/api/workflows/${workflowId}/runs`);
  expect(reply.status).toBe(200);
  return (JSON.parse(reply.body) as { runs: unknown[] }).runs.length;
}

describe('the sandbox’s local servers refuse foreign Host and cross-site requests', () => {
  test('the embedded Mastra server: no run is listed, created or started from elsewhere', async () => {
    expect(sandbox.embeddedMastra).toBe(true);
    const mastra = sandbox.mastraUrl;
    const port = new URL(mastra).port;
    const before = await mastraRuns('deployPipeline');
    await expectRefused(mastra, '/api/workflows/deployPipeline/runs', 'GET');
    await expectRefused(mastra, '/api/workflows/deployPipeline/create-run', 'POST', '{}');
    await expectRefused(
      mastra,
      '/api/workflows/deployPipeline/start-async',
      'POST',
      JSON.stringify({ inputData: { service: 'api', version: '1.0.0' } }),
    );
    expect(await mastraRuns('deployPipeline')).toBe(before);
    // Programs on this machine, by any loopback name, and the server's own origin get through.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await raw(mastra, '/api/workflows', { headers: { host } })).status).toBe(200);
    }
    const own = await raw(mastra, '/api/workflows/deployPipeline/create-run', {
      method: 'POST',
      headers: { origin: mastra, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: '{}',
    });
    expect(own.status).toBe(200);
    expect(await mastraRuns('deployPipeline')).toBe(before + 1);
  });

  test('the Slack emulator: its Web API, response URLs and Socket Mode', async () => {
    const { emulator } = sandbox;
    const post = `token=${emulator.botToken}&channel=${SANDBOX_CHANNELS.random}&text=forged`;
    await expectRefused(emulator.url, '/api/chat.postMessage', 'POST', post);
    await expectRefused(emulator.url, `/api/chat.postMessage?${post}`, 'GET');
    const responseUrl = emulator.createResponseUrl({
      channelId: SANDBOX_CHANNELS.random,
      userId: SANDBOX_USERS.requester,
      source: 'command',
    });
    await expectRefused(
      emulator.url,
      new URL(responseUrl.url).pathname,
      'POST',
      JSON.stringify({ text: 'forged', response_type: 'in_channel' }),
    );
    expect(emulator.messages(SANDBOX_CHANNELS.random).map((m) => m.text)).not.toContain('forged');
    expect(emulator.callsOf('chat.postMessage').some((c) => c.params.text === 'forged')).toBe(false);

    // Any page may open a WebSocket anywhere: the upgrade is refused from elsewhere.
    const socketUrl = `${emulator.url.replace(/^http/, 'ws')}/socket-mode`;
    const upgrade = (options: { origin?: string; host?: string }) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(socketUrl, {
          ...(options.origin ? { origin: options.origin } : {}),
          ...(options.host ? { headers: { host: options.host } } : {}),
        });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('error', (error) => reject(error));
      });
    expect(await upgrade({ origin: EVIL })).toBe(403);
    expect(await upgrade({ host: `evil.test:${emulator.port}` })).toBe(421);
    expect(emulator.socketMode.connections).toBe(0);
    expect(await upgrade({})).toBe(101);

    // Its own clients: Host 127.0.0.1:PORT, no Origin.
    const test = await raw(emulator.url, '/api/auth.test', {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.botToken}` },
    });
    expect(JSON.parse(test.body)).toMatchObject({ ok: true });
  });

  test('Flowgate’s receiver and the page’s server', async () => {
    const app = new URL(sandbox.appUrl);
    await expectRefused(app.origin, '/healthz', 'GET');
    await expectRefused(app.origin, app.pathname, 'POST', 'command=%2Fflowgate&text=list');
    expect((await raw(app.origin, '/healthz')).status).toBe(200);

    const page = sandbox.url.slice(0, -1);
    const command = JSON.stringify({
      user: SANDBOX_USERS.requester,
      channel: SANDBOX_CHANNELS.general,
      text: 'forged',
    });
    await expectRefused(page, '/api/command', 'POST', command);
    await expectRefused(page, `/api/state?user=${SANDBOX_USERS.requester}`, 'GET');
    expect(sandbox.emulator.messages(SANDBOX_CHANNELS.general).map((m) => m.text)).not.toContain('forged');
    // Following a link to the page from elsewhere opens it (it reads nothing back to the linker).
    const navigation = await raw(page, '/', {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
    });
    expect(navigation.status).toBe(200);
  });

  test('the sandbox still works through every guard: the page, Flowgate, Mastra and the emulator', async () => {
    const rey = SANDBOX_USERS.requester;
    const page = sandbox.url.slice(0, -1);
    const before = await mastraRuns('deployPipeline');
    const reply = await raw(page, '/api/command', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: page, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ user: rey, channel: SANDBOX_CHANNELS.general, text: '/flowgate list' }),
    });
    expect(reply.status).toBe(200);
    // Flowgate read the catalog from the Mastra server and answered through the emulator.
    const list = await waitFor('the workflow list', () =>
      sandbox.emulator.ephemerals(rey).find((e) => JSON.stringify(e.blocks ?? []).includes('deployPipeline')),
    );
    expect(list).toBeDefined();
    expect(await mastraRuns('deployPipeline')).toBe(before);
  });
});

describe('when something fails inside the sandbox', () => {
  test('the page is told in words; the address and the error go to the log only', async () => {
    const rey = SANDBOX_USERS.requester;
    const page = sandbox.url.slice(0, -1);
    const json = { 'content-type': 'application/json' };
    await raw(page, '/api/command', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ user: rey, channel: SANDBOX_CHANNELS.random, text: 'a message to click' }),
    });
    const ts = sandbox.emulator.messages(SANDBOX_CHANNELS.random).at(-1)?.ts;
    await sandbox.flowgate.stop(); // its receiver is gone: the click cannot be delivered
    const reply = await raw(page, '/api/action', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ user: rey, channel: SANDBOX_CHANNELS.random, ts, actionId: 'x' }),
    });
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({
      ok: false,
      error: 'Something went wrong in the sandbox; see its log.',
    });
    expect(logs.join('\n')).toMatch(/ERROR sandbox page request failed .*ECONNREFUSED 127\.0\.0\.1:\d+/);
  });
});
