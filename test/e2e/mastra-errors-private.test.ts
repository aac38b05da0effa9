/**
 * When the Mastra server fails, people are told what failed and what to do, in Flowgate's words:
 * never its internal URL or address, never its raw reply. The detail goes to the logs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { ALICE, type Harness, startHarness, waitFor } from '../support/flowgate.ts';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';

const SECRET = 'pg-password=hunter2-7f3a9c';
const INTERNAL = 'http://10.0.0.5:4111/api/internal';

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  /** A JSON `{ error }` reply (as Mastra's), or a plain-text one (as a proxy's). */
  json: boolean;
}

let fault: Fault | undefined;
let mastra: MastraTestServer;
let h: Harness;
const logs: string[] = [];

/** The reply, naming the secret, the server's own URL and an internal one, as a careless server would. */
function body(request: Request): string {
  const text = `${SECRET} while calling ${INTERNAL} for ${request.method} ${request.url}`;
  return fault?.json ? JSON.stringify({ error: text, stack: `Error: ${text}\n    at ${mastra.url}` }) : text;
}

beforeAll(async () => {
  mastra = await startMastraServer({
    intercept: (request) => {
      const f = fault;
      if (!f || request.method !== f.method || !f.path.test(new URL(request.url).pathname)) return undefined;
      return new Response(body(request), {
        status: f.status,
        headers: { 'content-type': f.json ? 'application/json' : 'text/plain' },
      });
    },
  });
  h = await startHarness({ mastra, logger: createLogger('debug', (line) => logs.push(line)) });
});
afterAll(async () => {
  await h?.close();
  await mastra?.close();
});

/** Everything a person can see: every message (threads too), every ephemeral reply, every view. */
function seen(): string {
  const store = h.emulator.store;
  return JSON.stringify({
    messages: [...store.channels.keys()].map((id) => h.emulator.allMessages(id)),
    ephemerals: h.emulator.ephemerals(),
    views: [...store.views.values()].map((r) => ({ view: r.view, errors: r.errors })),
    responses: h.emulator.callsOf('chat.postEphemeral').map((c) => c.params),
  });
}

function expectNothingInternal(): void {
  const text = seen();
  const port = new URL(mastra.url).port;
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain('10.0.0.5');
  expect(text).not.toContain(mastra.url);
  expect(text).not.toContain(`:${port}`);
  expect(text).not.toContain('/api/');
}

async function reply(command: string): Promise<string> {
  const before = h.replies(ALICE).length;
  await h.slash(command);
  return waitFor(`the reply to ${command}`, () => h.replies(ALICE).slice(before).at(-1));
}

describe('a failing Mastra server: people get words, the logs get the detail', () => {
  test('a command whose request the server answers with an error body', async () => {
    fault = { method: 'GET', path: /^\/api\/workflows$/, status: 403, json: true };
    expect(await reply('list')).toBe(
      'The Mastra server refused the request (HTTP 403). Try again; if it keeps happening, tell whoever runs Flowgate.',
    );
    fault = { method: 'POST', path: /\/create-run$/, status: 500, json: false };
    expect(await reply('start simpleApprovalWorkflow {"title": "Refused"}')).toBe(
      'The Mastra server could not do that right now (HTTP 500). Try again in a minute; if it keeps failing, tell whoever runs Flowgate.',
    );
    fault = undefined;
    const runId = await h.startRun('start simpleApprovalWorkflow {"title": "Kept"}');
    const message = await h.message(runId);

    fault = { method: 'GET', path: /\/runs\/[^/]+$/, status: 418, json: false };
    expect(await reply(`status ${runId}`)).toContain('The Mastra server refused the request (HTTP 418)');
    fault = { method: 'POST', path: /\/cancel$/, status: 502, json: true };
    expect(await reply(`cancel ${runId}`)).toContain('HTTP 502');

    // The form cannot be opened: the modal says why.
    fault = { method: 'GET', path: /\/runs\/[^/]+$/, status: 503, json: true };
    await h.click(message, 'flowgate_respond', { blockId: 'flowgate_step:simple-approve' });
    const notice = await waitFor('the notice in the modal', () =>
      h.emulator.openViews(ALICE).find((v) => JSON.stringify(v.blocks).includes('HTTP 503')),
    );
    expect(notice.title).toMatchObject({ text: 'Cannot answer' });

    // The answer is refused by the server, without Mastra's words about the input.
    fault = { method: 'POST', path: /\/resume(-async|-stream)?$/, status: 400, json: true };
    const before = h.replies(ALICE).length;
    await h.click(message, 'flowgate_approve', { blockId: 'flowgate_step:simple-approve' });
    const refused = await waitFor('the refusal', () => h.replies(ALICE).slice(before).at(-1));
    expect(refused).toContain('The Mastra server refused the input (HTTP 400)');
    fault = undefined;

    expectNothingInternal();
    // The person may hear before the line is written: wait for it.
    const logged = await waitFor('the refused answer logged', () => {
      const text = logs.join('\n');
      return text.includes('HTTP 400') ? text : undefined;
    });
    expect(logged).toContain(SECRET);
    expect(logged).toContain(`${mastra.url}/api/workflows`);
    expect(logged).toContain('HTTP 403');
  });

  test('a server that is not there any more: the connection error stays in the logs', async () => {
    const runId = await h.startRun('start simpleApprovalWorkflow {"title": "Before the outage"}');
    await h.message(runId);
    await mastra.close();
    expect(await reply(`status ${runId}`)).toBe(
      'The Mastra server is not reachable right now. Try again in a minute; if it keeps failing, tell whoever runs Flowgate.',
    );
    expectNothingInternal();
    expect(logs.join('\n')).toContain(`${mastra.url}/api/workflows/simpleApprovalWorkflow/runs/${runId}`);
  });
});
