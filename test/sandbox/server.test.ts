/**
 * The sandbox's server, in process: what reaches Flowgate is exactly what Slack sends (signed
 * requests through the real listeners), only the page itself may drive it, and its settings are
 * validated like Flowgate's.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import { sandboxWanted } from '../../src/sandbox/run.ts';
import { type Sandbox, sandboxSettings, startSandbox } from '../../src/sandbox/sandbox.ts';
import { CONTENT_SECURITY_POLICY } from '../../src/sandbox/web.ts';
import { SANDBOX_CHANNELS, SANDBOX_USERS } from '../../src/sandbox/workspace.ts';
import { waitFor } from '../support/flowgate.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ env: { PORT: '0' } });
}, 30_000);
afterAll(async () => {
  await sandbox?.stop();
});

/** A raw request, so Host and Origin can be anything. */
function raw(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: sandbox.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
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

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return raw(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('the sandbox server', () => {
  test('binds 127.0.0.1, serves the page with a strict CSP, and nothing off its list', async () => {
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}/`);
    const page = await raw('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
    expect(page.body).not.toMatch(/<script>|\sstyle="|\son\w+="/); // no inline script, style or handler
    expect((await raw('/assets/app.js')).headers['content-type']).toContain('text/javascript');
    for (const path of [
      '/assets/../web.ts',
      '/assets/%2e%2e%2fweb.ts',
      '/assets/README.md',
      '/src/sandbox/web.ts',
    ])
      expect((await raw(path)).status).toBe(404);
  });

  test('only the page may drive it: foreign Host, foreign Origin and form posts are refused', async () => {
    const command = { user: SANDBOX_USERS.requester, channel: SANDBOX_CHANNELS.general, text: 'hello' };
    expect((await raw('/api/state', { headers: { host: `evil.test:${sandbox.port}` } })).status).toBe(421);
    expect((await post('/api/command', command, { origin: 'https://evil.test' })).status).toBe(403);
    const form = await raw('/api/command', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=U0SBREQST1&channel=C0SBGENRL1&text=hello',
    });
    expect(form.status).toBe(415);
    expect(sandbox.emulator.messages(SANDBOX_CHANNELS.general)).toHaveLength(0);
    expect((await post('/api/command', { ...command, user: 'U0NOBODY1' })).status).toBe(400);
    expect((await post('/api/command', command, { origin: sandbox.url.slice(0, -1) })).status).toBe(200);
    expect(sandbox.emulator.messages(SANDBOX_CHANNELS.general).map((m) => m.text)).toEqual(['hello']);
    // What people type is escaped as Slack's client escapes it: no mention or link by typing markup.
    await post('/api/command', { ...command, text: '<!channel> & <b>' });
    expect(sandbox.emulator.messages(SANDBOX_CHANNELS.general).at(-1)?.text).toBe(
      '&lt;!channel&gt; &amp; &lt;b&gt;',
    );
  });

  test('a slash command reaches Flowgate as a signed request; a submission carries only the view’s inputs', async () => {
    const rey = SANDBOX_USERS.requester;
    await post('/api/command', {
      user: rey,
      channel: SANDBOX_CHANNELS.general,
      text: '/flowgate start deployPipeline',
    });
    const view = await waitFor('the start form', () => sandbox.emulator.openViews(rey)[0]);
    expect(view.callback_id).toBe('flowgate_start_form');
    const input = view.blocks.find((b) => JSON.stringify(b).includes('number_input'))!;
    const reply = await post('/api/submit', {
      user: rey,
      viewId: view.id,
      values: {
        __proto__: { polluted: { type: 'plain_text_input', value: 'x' } },
        'not-an-input': { value: { type: 'plain_text_input', value: 'x' } },
        [String(input.block_id)]: { value: { type: 'number_input', value: '99', __proto__: { a: 1 } } },
      },
    });
    expect(JSON.parse(reply.body)).toMatchObject({ ok: true, responseAction: 'errors' });
    const submitted = sandbox.emulator.viewRecord(view.id)!.view.state.values;
    expect(Object.keys(submitted)).toEqual([String(input.block_id)]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const signed = sandbox.emulator.callsOf('views.open').length;
    expect(signed).toBe(1); // opened by Flowgate itself, through the emulator's Web API
    expect(await raw('/api/state?user=U0SBAPPR01').then((r) => JSON.parse(r.body).views)).toEqual([]);
  });

  test('a busy PORT is named; malformed settings fail like Flowgate’s; no bot token means the sandbox', async () => {
    await expect(startSandbox({ env: { PORT: String(sandbox.port) } })).rejects.toThrow(
      `Port ${sandbox.port} is already in use`,
    );
    expect(() => sandboxSettings({ MASTRA_URL: 'ftp://x' })).toThrow(ConfigError);
    expect(() => sandboxSettings({ PORT: 'many' })).toThrow(/PORT is malformed/);
    expect(sandboxSettings({}).config.dbPath).toBe(':memory:');
    expect(sandboxSettings({ FLOWGATE_DB: '/data/prod.db' }).config.dbPath).toBe(':memory:');
    expect(sandboxSettings({ MASTRA_URL: 'http://localhost:4111/' })).toMatchObject({
      ownMastra: true,
      port: 3000,
      config: { mastra: { url: 'http://localhost:4111', apiPrefix: '/api' } },
    });
    expect(sandboxWanted({})).toBe(true);
    expect(sandboxWanted({ SLACK_BOT_TOKEN: '  ' })).toBe(true);
    expect(sandboxWanted({ SLACK_BOT_TOKEN: 'xoxb-1' })).toBe(false);
  });
});
