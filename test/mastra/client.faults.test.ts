/**
 * Transport faults: nock for single scripted replies (retries, status mapping, bodies), a raw
 * http server on 127.0.0.1 for anything that aborts or stalls mid-response (nock crashes then).
 */
import { Readable } from 'node:stream';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { MastraClient, type WorkflowEvent } from '../../src/index.ts';
import { errorOf } from '../support/mastra/errors.ts';
import { records, startRawServer } from '../support/mastra/raw-server.ts';

const BASE = 'http://mastra.test';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
});

function fastClient(baseUrl = BASE, extra: Partial<ConstructorParameters<typeof MastraClient>[0]> = {}) {
  return new MastraClient({ baseUrl, retries: 3, retryMinDelayMs: 1, retryMaxDelayMs: 2, ...extra });
}

const wfInfo = { name: 'w', steps: {}, allSteps: {}, stepGraph: [] };
const start = (runId: string) => ({
  type: 'workflow-start',
  runId,
  from: 'WORKFLOW',
  payload: { workflowId: 'w' },
});
const output = (runId: string, n: number) => ({
  type: 'workflow-step-output',
  runId,
  from: 'USER',
  payload: { stepName: 's', output: { n }, runId },
});
const finish = (runId: string) => ({
  type: 'workflow-finish',
  runId,
  from: 'WORKFLOW',
  payload: { workflowStatus: 'success', metadata: {}, finalWorkflowResult: { ok: true } },
});

describe('retries (nock)', () => {
  test('GET: a burst of 5xx then success is retried and succeeds', async () => {
    const scope = nock(BASE)
      .get('/api/workflows')
      .reply(503, { error: 'busy' })
      .get('/api/workflows')
      .reply(502, '<html>Bad gateway</html>', { 'content-type': 'text/html' })
      .get('/api/workflows')
      .reply(200, { w: wfInfo });
    const client = fastClient();
    expect(await client.listWorkflows()).toEqual({ w: wfInfo });
    expect(scope.isDone()).toBe(true);
    await client.close();
  });

  test('GET: 5xx every time → unavailable after 1 + retries attempts, naming the URL', async () => {
    const scope = nock(BASE).get('/api/workflows/w/runs/r1').times(3).reply(500, { error: 'db down' });
    const client = fastClient(BASE, { retries: 2 });
    const e = await errorOf(client.getWorkflow('w').runById('r1'));
    expect(e.code).toBe('unavailable');
    expect(e.status).toBe(500);
    expect(e.serverMessage).toBe('db down');
    expect(e.message).toContain(`${BASE}/api/workflows/w/runs/r1`);
    expect(scope.isDone()).toBe(true);
    await client.close();
  });

  test('POST start-async is never retried on 5xx', async () => {
    const scope = nock(BASE)
      .post('/api/workflows/w/start-async')
      .query({ runId: 'r1' })
      .reply(503, { error: 'busy' })
      .post('/api/workflows/w/start-async')
      .query({ runId: 'r1' })
      .reply(200, { status: 'success', steps: {} });
    const client = fastClient();
    const e = await errorOf(client.getWorkflow('w').run('r1').startAsync({ inputData: {} }));
    expect(e.code).toBe('unavailable');
    expect(e.status).toBe(503);
    expect(scope.pendingMocks()).toHaveLength(1);
    await client.close();
  });

  test('POST start, resume and cancel are never retried on 5xx', async () => {
    const scope = nock(BASE)
      .post('/api/workflows/w/start')
      .query(true)
      .times(2)
      .reply(502, 'bad gateway')
      .post('/api/workflows/w/resume')
      .query(true)
      .times(2)
      .reply(503, { error: 'busy' })
      .get('/api/workflows/w/runs/r1')
      .query(true)
      .reply(200, {
        runId: 'r1',
        workflowName: 'w',
        resourceId: null,
        createdAt: 1,
        updatedAt: 2,
        status: 'running',
      })
      .post('/api/workflows/w/runs/r1/cancel')
      .times(2)
      .reply(503, { error: 'busy' });
    const client = fastClient();
    const run = client.getWorkflow('w').run('r1');
    expect((await errorOf(run.start({ inputData: {} }))).code).toBe('unavailable');
    expect((await errorOf(run.resume({ step: 's' }))).code).toBe('unavailable');
    expect((await errorOf(run.cancel())).code).toBe('unavailable');
    expect(scope.pendingMocks()).toHaveLength(3);
    await client.close();
  });

  test('createRun is retried with an explicit runId (idempotent), not without one', async () => {
    const scope = nock(BASE)
      .post('/api/workflows/w/create-run')
      .query({ runId: 'mine' })
      .reply(503, { error: 'busy' })
      .post('/api/workflows/w/create-run')
      .query({ runId: 'mine' })
      .reply(200, { runId: 'mine' });
    const client = fastClient();
    expect((await client.getWorkflow('w').createRun({ runId: 'mine' })).runId).toBe('mine');
    expect(scope.isDone()).toBe(true);

    const anon = nock(BASE).post('/api/workflows/w/create-run').times(2).reply(503, { error: 'busy' });
    expect((await errorOf(client.getWorkflow('w').createRun())).code).toBe('unavailable');
    expect(anon.pendingMocks()).toHaveLength(1);
    await client.close();
  });

  test('4xx are not retried, even on GET', async () => {
    const scope = nock(BASE)
      .get('/api/workflows/w/runs/gone')
      .times(2)
      .reply(404, { error: 'Workflow run not found' });
    const client = fastClient();
    const e = await errorOf(client.getWorkflow('w').runById('gone'));
    expect(e.code).toBe('run_not_found');
    expect(scope.pendingMocks()).toHaveLength(1);
    await client.close();
  });

  test('"not suspended" 500s are not retried', async () => {
    const scope = nock(BASE)
      .post('/api/workflows/w/resume-async')
      .query(true)
      .times(2)
      .reply(500, { error: 'This workflow run was not suspended' });
    const client = fastClient();
    const e = await errorOf(client.getWorkflow('w').run('r').resumeAsync({ step: 's', resumeData: {} }));
    expect(e.code).toBe('not_suspended');
    expect(scope.pendingMocks()).toHaveLength(1);
    await client.close();
  });

  test('a stream route failing with 5xx before streaming is not retried', async () => {
    const scope = nock(BASE)
      .post('/api/workflows/w/stream')
      .query(true)
      .times(2)
      .reply(503, { error: 'busy' });
    const client = fastClient();
    expect((await errorOf(client.getWorkflow('w').run('r').stream({ inputData: {} }))).code).toBe(
      'unavailable',
    );
    expect(scope.pendingMocks()).toHaveLength(1);
    await client.close();
  });
});

describe('replies (nock)', () => {
  test('a non-JSON 2xx body is a protocol error with a snippet', async () => {
    nock(BASE).get('/api/workflows').reply(200, '<html>login page</html>', { 'content-type': 'text/html' });
    const client = fastClient();
    const e = await errorOf(client.listWorkflows());
    expect(e.code).toBe('protocol');
    expect(e.snippet).toBe('<html>login page</html>');
    expect(e.message).toContain('text/html');
    await client.close();
  });

  test('a JSON reply of the wrong shape is a protocol error', async () => {
    nock(BASE).get('/api/workflows/w/runs').reply(200, { runs: 'nope' });
    const client = fastClient();
    const e = await errorOf(client.getWorkflow('w').runs());
    expect(e.code).toBe('protocol');
    expect(e.message).toContain('runs');
    await client.close();
  });

  test("Hono's text/plain 404 for an unknown route is an http error, not workflow_not_found", async () => {
    nock(BASE).get('/mastra/api/workflows').reply(404, '404 Not Found', { 'content-type': 'text/plain' });
    const client = fastClient(`${BASE}/mastra`);
    const e = await errorOf(client.listWorkflows());
    expect(e.code).toBe('http');
    expect(e.message).toMatch(/Route not found/);
    await client.close();
  });

  test('headers, JSON bodies, a base path, a custom apiPrefix and base64 requestContext are sent', async () => {
    const rc = { tenant: 't1' };
    const scope = nock(BASE, {
      reqheaders: { authorization: 'Bearer x', 'content-type': 'application/json' },
    })
      .post('/base/v1/workflows/w/start-async', { inputData: { a: 1 }, requestContext: rc })
      .query({ runId: 'r' })
      .reply(200, { status: 'success', steps: {}, result: 1 });
    const get = nock(BASE, { reqheaders: { authorization: 'Bearer x' } })
      .get('/base/v1/workflows/w')
      .query({ requestContext: Buffer.from(JSON.stringify(rc)).toString('base64') })
      .reply(200, wfInfo);
    const client = fastClient(`${BASE}/base/`, { apiPrefix: 'v1', headers: { authorization: 'Bearer x' } });
    expect(
      (
        await client
          .getWorkflow('w')
          .run('r')
          .startAsync({ inputData: { a: 1 }, requestContext: rc })
      ).result,
    ).toBe(1);
    expect(await client.getWorkflow('w').details({ requestContext: rc })).toEqual(wfInfo);
    expect(scope.isDone() && get.isDone()).toBe(true);
    await client.close();
  });

  test('resume sends a StepPath as an array and a dotted step as a string', async () => {
    const bodies: unknown[] = [];
    nock(BASE)
      .post('/api/workflows/w/resume-async', (b) => {
        bodies.push(b);
        return true;
      })
      .query(true)
      .times(2)
      .reply(200, { status: 'success', steps: {} });
    const client = fastClient();
    const run = client.getWorkflow('w').run('r');
    await run.resumeAsync({ step: ['inner', 'inner.approve'], resumeData: { ok: true } });
    await run.resumeAsync({ step: 'inner.approve', resumeData: { ok: true } });
    expect(bodies).toEqual([
      { step: ['inner', 'inner.approve'], resumeData: { ok: true } },
      { step: 'inner.approve', resumeData: { ok: true } },
    ]);
    await client.close();
  });

  test('a stream arriving in odd chunks (split records and UTF-8) decodes fully', async () => {
    const body = Buffer.from(
      records(
        start('r'),
        output('r', 1),
        { type: 'data-x', runId: 'r', from: 'WORKFLOW', data: '日本🚀' },
        { type: 'future-event', runId: 'r' },
        finish('r'),
      ),
    );
    const pieces: Buffer[] = [];
    for (let i = 0; i < body.length; i += 7) pieces.push(body.subarray(i, i + 7));
    nock(BASE)
      .post('/api/workflows/w/stream')
      .query({ runId: 'r' })
      .reply(200, () => Readable.from(pieces), {
        'content-type': 'text/plain',
      });
    const client = fastClient();
    const events = await (await client.getWorkflow('w').run('r').stream({ inputData: {} })).toArray();
    expect(events.map((e) => e.type)).toEqual([
      'workflow-start',
      'workflow-step-output',
      'data',
      'unknown',
      'workflow-finish',
    ]);
    expect(events[2]).toMatchObject({ name: 'data-x', data: '日本🚀' });
    expect(events[3]).toMatchObject({ type: 'unknown', originalType: 'future-event', runId: 'r' });
    await client.close();
  });
});

describe('timeouts, refused connections, aborts (raw server)', () => {
  test('slow headers → timeout → unavailable (GETs retried, then give up)', async () => {
    const server = await startRawServer(() => {
      // never answer
    });
    const client = fastClient(server.url, { timeoutMs: 150, retries: 1 });
    const e = await errorOf(client.listWorkflows());
    expect(e.code).toBe('unavailable');
    expect(e.message).toMatch(/Timed out \(UND_ERR_HEADERS_TIMEOUT\)/);
    expect(e.message).toContain(`${server.url}/api/workflows`);
    expect(server.requests).toHaveLength(2);
    await client.close();
    await server.close();
  });

  test('a per-call timeoutMs overrides the client one', async () => {
    // undici checks headers/body timeouts on a coarse clock (about 1 s resolution), so the
    // second reply comes well after any rounding of the client's 100 ms default.
    const server = await startRawServer((_req, res, index) => {
      if (index === 0) return; // never answers
      setTimeout(() => res.end(JSON.stringify({ status: 'success', steps: {} })), 2_500);
    });
    const client = fastClient(server.url, { timeoutMs: 100 });
    const run = client.getWorkflow('w').run('r');
    expect((await errorOf(run.startAsync({ inputData: {} }))).code).toBe('unavailable');
    expect((await run.startAsync({ inputData: {}, timeoutMs: 20_000 })).status).toBe('success');
    await client.close();
    await server.close();
  });

  test('connection refused → unavailable naming the URL', async () => {
    const server = await startRawServer(() => {});
    const url = server.url;
    await server.close();
    const client = fastClient(url, { retries: 1 });
    const e = await errorOf(client.listWorkflows());
    expect(e.code).toBe('unavailable');
    expect(e.message).toContain(`${url}/api/workflows`);
    expect(e.message).toContain('ECONNREFUSED');
    await client.close();
  });

  test('aborting while a retry is pending stops at once with aborted', async () => {
    const controller = new AbortController();
    const server = await startRawServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
      controller.abort();
    });
    // A one-minute backoff: if abort did not stop retrying, this test would time out.
    const client = fastClient(server.url, { retries: 5, retryMinDelayMs: 60_000, retryMaxDelayMs: 60_000 });
    const e = await errorOf(client.listWorkflows({ signal: controller.signal }));
    expect(e.code).toBe('aborted');
    expect(server.requests).toHaveLength(1);
    await client.close();
    await server.close();
  });
});

describe('mid-stream faults (raw server)', () => {
  async function streamOf(url: string) {
    const client = fastClient(url);
    const stream = await client.getWorkflow('w').run('r').stream({ inputData: {} });
    return { client, stream };
  }

  async function drain(stream: AsyncIterable<WorkflowEvent>, into: WorkflowEvent[]) {
    for await (const e of stream) into.push(e);
  }

  test('connection reset mid-stream → unavailable with the records received', async () => {
    const server = await startRawServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(records(start('r'), output('r', 1)));
      setTimeout(() => req.socket.destroy(), 20);
    });
    const { client, stream } = await streamOf(server.url);
    const seen: WorkflowEvent[] = [];
    const e = await errorOf(drain(stream, seen));
    expect(seen.map((x) => x.type)).toEqual(['workflow-start', 'workflow-step-output']);
    expect(e.code).toBe('unavailable');
    expect(e.recordsReceived).toBe(2);
    expect(e.url).toBe(`${server.url}/api/workflows/w/stream?runId=r`);
    await client.close();
    await server.close();
  });

  test('a malformed record in a stream → protocol error with its position', async () => {
    const first = records(start('r'));
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(first);
      res.end(`{"type":"workflow-step-output",oops}\x1e${records(finish('r'))}`);
    });
    const { client, stream } = await streamOf(server.url);
    const seen: WorkflowEvent[] = [];
    const e = await errorOf(drain(stream, seen));
    expect(seen).toHaveLength(1);
    expect(e.code).toBe('protocol');
    expect(e.position).toEqual({ record: 1, byte: Buffer.byteLength(first) });
    expect(e.snippet).toBe('{"type":"workflow-step-output",oops}');
    expect(e.url).toBe(`${server.url}/api/workflows/w/stream?runId=r`);
    await client.close();
    await server.close();
  });

  test('a stream cut inside a record → protocol error (truncated)', async () => {
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${records(start('r'))}{"type":"workflow-finish","runId":"r"`);
    });
    const { client, stream } = await streamOf(server.url);
    const e = await errorOf(stream.toArray());
    expect(e.code).toBe('protocol');
    expect(e.message).toMatch(/Truncated/);
    expect(e.position?.record).toBe(1);
    await client.close();
    await server.close();
  });

  test('a stream that ends cleanly without workflow-finish → protocol error', async () => {
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(records(start('r'), output('r', 1)));
    });
    const { client, stream } = await streamOf(server.url);
    const e = await errorOf(stream.toArray());
    expect(e.code).toBe('protocol');
    expect(e.message).toMatch(/without a workflow-finish/);
    expect(e.recordsReceived).toBe(2);
    await client.close();
    await server.close();
  });

  test('breaking out of the loop aborts the HTTP request (the server sees the connection close)', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((r) => {
      closed = r;
    });
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(records(start('r')));
      let n = 0;
      const timer = setInterval(() => res.write(records(output('r', ++n))), 5);
      res.on('close', () => {
        clearInterval(timer);
        closed();
      });
    });
    const { client, stream } = await streamOf(server.url);
    let count = 0;
    for await (const _ of stream) {
      if (++count === 3) break;
    }
    await serverSawClose;
    expect(count).toBe(3);
    await client.close();
    await server.close();
  });

  test('cancel() from outside stops the stream with aborted and closes the connection', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((r) => {
      closed = r;
    });
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(records(start('r')));
      res.on('close', () => closed());
    });
    const { client, stream } = await streamOf(server.url);
    const seen: WorkflowEvent[] = [];
    const done = errorOf(drain(stream, seen));
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    stream.cancel();
    expect((await done).code).toBe('aborted');
    await serverSawClose;
    await client.close();
    await server.close();
  });

  test('streamIdleTimeoutMs ends a silent stream with unavailable', async () => {
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(records(start('r')));
    });
    const client = fastClient(server.url, { streamIdleTimeoutMs: 100 });
    const stream = await client.getWorkflow('w').run('r').stream({ inputData: {} });
    const e = await errorOf(stream.toArray());
    expect(e.code).toBe('unavailable');
    expect(e.message).toMatch(/UND_ERR_BODY_TIMEOUT/);
    await client.close();
    await server.close();
  });
});

describe('observe reconnects (raw server)', () => {
  /** A live run's history on a fake server: records 0..n-1 (start, outputs, finish). */
  const history = [start('r'), ...Array.from({ length: 8 }, (_, i) => output('r', i + 1)), finish('r')];

  function offsetOf(url: string): number {
    return Number(new URL(url, 'http://x').searchParams.get('offset') ?? '0');
  }

  test('a server that dies mid-stream: reconnect from the right offset and de-duplicate the live replay', async () => {
    const server = await startRawServer((req, res, index) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const offset = offsetOf(req.url ?? '');
      if (index === 0) {
        // history[0..3], then the process "dies".
        res.write(records(...history.slice(offset, 4)));
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      // Like Mastra for a live run: history[offset..6], then the live tail replaying the
      // execution from its workflow-start, continuing to the finish.
      res.write(records(...history.slice(offset, 7)));
      res.end(records(...history));
    });
    const client = fastClient(server.url, { observeReconnectDelayMs: 1 });
    const stream = await client.getWorkflow('w').run('r').observe();
    const seen = await stream.toArray();
    expect(seen).toEqual(history.map((h) => expect.objectContaining({ type: h.type, payload: h.payload })));
    expect(server.requests.map((r) => offsetOf(r.url))).toEqual([0, 4]);
    expect(stream.recordsReceived).toBe(history.length);
    await client.close();
    await server.close();
  });

  test('a body cut inside a record reconnects too; the reconnect offset counts only whole records', async () => {
    const server = await startRawServer((req, res, index) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const offset = offsetOf(req.url ?? '');
      if (index === 0) {
        res.end(`${records(...history.slice(0, 3))}{"type":"workflow-step-out`);
        return;
      }
      res.end(records(...history.slice(offset)));
    });
    const client = fastClient(server.url, { observeReconnectDelayMs: 1 });
    const seen = await (await client.getWorkflow('w').run('r').observe()).toArray();
    expect(seen).toHaveLength(history.length);
    expect(server.requests.map((r) => offsetOf(r.url))).toEqual([0, 3]);
    await client.close();
    await server.close();
  });

  test('observe from an offset past the execution start de-duplicates the replay by anchoring on the last record', async () => {
    const server = await startRawServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const offset = offsetOf(req.url ?? '');
      res.write(records(...history.slice(offset, 6)));
      res.end(records(...history));
    });
    const client = fastClient(server.url);
    const seen = await (await client.getWorkflow('w').run('r').observe({ offset: 3 })).toArray();
    expect(seen).toEqual(
      history.slice(3).map((h) => expect.objectContaining({ type: h.type, payload: h.payload })),
    );
    await client.close();
    await server.close();
  });

  test('gives up after the configured reconnects without progress → unavailable', async () => {
    const server = await startRawServer((req, res, index) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (index === 0) res.write(records(history[0], history[1]));
      setTimeout(() => req.socket.destroy(), 5);
    });
    const client = fastClient(server.url, { observeReconnects: 2, observeReconnectDelayMs: 1 });
    const stream = await client.getWorkflow('w').run('r').observe();
    const seen: WorkflowEvent[] = [];
    const e = await errorOf(
      (async () => {
        for await (const ev of stream) seen.push(ev);
      })(),
    );
    expect(e.code).toBe('unavailable');
    expect(seen).toHaveLength(2);
    expect(server.requests.map((r) => offsetOf(r.url))).toEqual([0, 2, 2]);
    await client.close();
    await server.close();
  });

  test('a malformed record is not retried by observe', async () => {
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${records(history[0])}not-json\x1e`);
    });
    const client = fastClient(server.url, { observeReconnectDelayMs: 1 });
    const e = await errorOf((await client.getWorkflow('w').run('r').observe()).toArray());
    expect(e.code).toBe('protocol');
    expect(server.requests).toHaveLength(1);
    await client.close();
    await server.close();
  });
});
