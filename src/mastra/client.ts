/**
 * Client for the Mastra v1 workflow HTTP API (docs/mastra.md), shaped like `@mastra/client-js`
 * (`MastraClient` → `Workflow` → `Run`) but with typed events and errors, `Date`s, URL-encoded path
 * parameters, and retries only where repeating a request is safe.
 */
import type { Dispatcher } from 'undici';
import { MastraError } from './errors.ts';
import { observeSource, singleResponseSource, WorkflowEventStream } from './events.ts';
import {
  messageSchema,
  runCountsSchema,
  runIdSchema,
  runStateSchema,
  runsSchema,
  workflowInfoSchema,
  workflowListSchema,
  workflowResultSchema,
} from './schemas.ts';
import type { BudgetExhausted, CallOptions, MastraCall, OpenStream, Query } from './transport.ts';
import { Transport } from './transport.ts';
import type {
  RunCounts,
  RunStatus,
  StepPath,
  WorkflowInfo,
  WorkflowResult,
  WorkflowRunState,
  WorkflowRunSummary,
} from './types.ts';
import { TERMINAL_RUN_STATUSES } from './types.ts';

export type { Budget, BudgetExhausted, CallOptions, MastraCall } from './transport.ts';

export interface MastraClientOptions {
  /** Server origin, optionally with a base path: `http://127.0.0.1:4111`. */
  baseUrl: string;
  /** Default `/api` (as on the server and in client-js). */
  apiPrefix?: string;
  /** Extra headers on every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /**
   * Time allowed for response headers, and for JSON replies between body bytes. Default 30 s.
   * `startAsync`/`resumeAsync` answer only when the run settles: pass a larger `timeoutMs` per
   * call for long runs (or use `stream`). undici checks these timeouts on a clock of about 1 s
   * resolution, so a sub-second value fires within roughly a second.
   */
  timeoutMs?: number;
  /** TCP connect timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /** Idle time allowed between chunks of a stream; default 0 (none: a step may be silent for long). */
  streamIdleTimeoutMs?: number;
  /** Retries of safe requests (GETs, `createRun` with a runId) on `unavailable`. Default 3. */
  retries?: number;
  /** First retry delay (doubled each time, randomized). Default 100 ms. */
  retryMinDelayMs?: number;
  /** Longest retry delay. Default 1000 ms. */
  retryMaxDelayMs?: number;
  /**
   * Overall time of a call that is not a stream (waiting for a connection, every attempt and retry
   * delay included): past it the call fails `unavailable`. Default 30 s; a call's own `timeoutMs`
   * or `deadlineMs` extends it.
   */
  deadlineMs?: number;
  /**
   * Keep-alive connections for every call that is not a stream (lists, details, create, start,
   * resume, cancel, run state). Default 16. Streams never take these, so such calls never wait
   * behind streams.
   */
  connections?: number;
  /**
   * Keep-alive connections for event streams (`stream`, `resumeStream`, `observe`), each held for
   * the stream's life. Default 48 (with the 16 of `connections`, 64 sockets in all); a stream
   * beyond them waits for one to end.
   */
  streamConnections?: number;
  /**
   * Told (at most once per `exhaustedNoticeMs` per budget) when every connection of a budget is in
   * use and calls start to wait.
   */
  onExhausted?: (info: BudgetExhausted) => void;
  /** Default 60 s. */
  exhaustedNoticeMs?: number;
  /** Told of every call once it settles (metrics: method, kind of path, status, time, error code). */
  onCall?: (call: MastraCall) => void;
  /** An undici dispatcher for every call (both budgets) instead of the client's own keep-alive `Pool`s. */
  dispatcher?: Dispatcher;
  /** `observe()` reconnects in a row without progress before giving up. Default 3. */
  observeReconnects?: number;
  /** Delay before the first observe reconnect (doubled each time, capped at 2 s). Default 100 ms. */
  observeReconnectDelayMs?: number;
}

/** Per-call options; every method accepts them. */
export type RequestOptions = CallOptions;

/** `requestContext` values (sent as an object in POST bodies, base64 JSON in GET queries). */
export type RequestContextInit = Record<string, unknown>;

export interface StartParams extends RequestOptions {
  inputData: unknown;
  initialState?: unknown;
  requestContext?: RequestContextInit;
  tracingOptions?: Record<string, unknown>;
  /** Run one step then pause (`workflow-paused`). */
  perStep?: boolean;
}

export interface StartAsyncParams extends StartParams {
  /** Accepted by the server schema; the run keeps the resourceId given at `createRun`. */
  resourceId?: string;
}

export interface StreamParams extends StartAsyncParams {
  /** Default true: the stream ends when the run suspends (after `workflow-finish{suspended}`). */
  closeOnSuspend?: boolean;
}

export interface ResumeParams extends RequestOptions {
  /**
   * The suspended step: an id, a dotted path (`"inner.inner-approve"`) or a `StepPath` array
   * (`['inner', 'inner-approve']`, sent as an array: required when ids contain "."). Optional
   * when exactly one step is suspended.
   */
  step?: string | StepPath;
  resumeData?: unknown;
  requestContext?: RequestContextInit;
  tracingOptions?: Record<string, unknown>;
  perStep?: boolean;
  /** For a suspended `.foreach()` iteration. */
  forEachIndex?: number;
}

export interface ObserveParams extends RequestOptions {
  /** Records already consumed (server history offset). Default 0. */
  offset?: number;
}

export interface CreateRunParams extends RequestOptions {
  /** Your own run id (makes `createRun` idempotent, so it is retried on `unavailable`). */
  runId?: string;
  resourceId?: string;
  disableScorers?: boolean;
}

export interface ListWorkflowsParams extends RequestOptions {
  /** Only names, descriptions and step graphs (no schemas). */
  partial?: boolean;
  requestContext?: RequestContextInit;
}

export interface RunsParams extends RequestOptions {
  status?: RunStatus;
  resourceId?: string;
  /** 0-based page; with `perPage`. */
  page?: number;
  perPage?: number;
  /** Inclusive. */
  fromDate?: Date | string;
  /** Inclusive. */
  toDate?: Date | string;
  requestContext?: RequestContextInit;
}

export const RUN_FIELDS = [
  'result',
  'error',
  'payload',
  'steps',
  'activeStepsPath',
  'serializedStepGraph',
] as const;
export type RunField = (typeof RUN_FIELDS)[number];

export interface RunByIdParams extends RequestOptions {
  /**
   * Only these fields besides the metadata and `status` (and `initialState`). `[]` = metadata and
   * status only. Default: everything.
   */
  fields?: readonly RunField[];
  /** Default true: nested steps added as `"outer.inner"`. */
  withNestedWorkflows?: boolean;
  requestContext?: RequestContextInit;
}

export interface RunsPage {
  runs: WorkflowRunSummary[];
  total: number;
}

export interface MessageReply {
  message: string;
}

const enc = encodeURIComponent;

function encodeRequestContext(rc: RequestContextInit | undefined): string | undefined {
  return rc === undefined ? undefined : Buffer.from(JSON.stringify(rc), 'utf8').toString('base64');
}

function isoDate(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  return d instanceof Date ? d.toISOString() : d;
}

/** Links an optional caller signal to a fresh controller (so the stream can also abort itself). */
function linkedController(signal: AbortSignal | undefined): {
  controller: AbortController;
  cleanup: () => void;
} {
  const controller = new AbortController();
  if (!signal) return { controller, cleanup: () => {} };
  if (signal.aborted) {
    controller.abort(signal.reason);
    return { controller, cleanup: () => {} };
  }
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return { controller, cleanup: () => signal.removeEventListener('abort', onAbort) };
}

export class MastraClient {
  readonly #transport: Transport;
  readonly #observeReconnects: number;
  readonly #observeReconnectDelayMs: number;

  constructor(opts: MastraClientOptions) {
    this.#transport = new Transport({
      baseUrl: opts.baseUrl,
      apiPrefix: opts.apiPrefix ?? '/api',
      headers: opts.headers ?? {},
      timeoutMs: opts.timeoutMs ?? 30_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      streamIdleTimeoutMs: opts.streamIdleTimeoutMs ?? 0,
      retries: opts.retries ?? 3,
      retryMinDelayMs: opts.retryMinDelayMs ?? 100,
      retryMaxDelayMs: opts.retryMaxDelayMs ?? 1_000,
      connections: opts.connections ?? 16,
      streamConnections: opts.streamConnections ?? 48,
      deadlineMs: opts.deadlineMs ?? 30_000,
      dispatcher: opts.dispatcher,
      onExhausted: opts.onExhausted,
      exhaustedNoticeMs: opts.exhaustedNoticeMs ?? 60_000,
      onCall: opts.onCall,
    });
    this.#observeReconnects = opts.observeReconnects ?? 3;
    this.#observeReconnectDelayMs = opts.observeReconnectDelayMs ?? 100;
  }

  /** @internal */
  get transport(): Transport {
    return this.#transport;
  }

  /** @internal */
  get observeConfig(): { maxReconnects: number; reconnectDelayMs: number } {
    return { maxReconnects: this.#observeReconnects, reconnectDelayMs: this.#observeReconnectDelayMs };
  }

  /** GET /workflows: every workflow keyed by registry key, schemas decoded. */
  async listWorkflows(params: ListWorkflowsParams = {}): Promise<Record<string, WorkflowInfo>> {
    return this.#transport.json(
      {
        method: 'GET',
        path: '/workflows',
        query: {
          partial: params.partial ? 'true' : undefined,
          requestContext: encodeRequestContext(params.requestContext),
        },
        schema: workflowListSchema,
        retry: true,
      },
      params,
    );
  }

  /**
   * GET /workflows/run-counts: `running` and `suspended` runs per registry key.
   * The server caches these for 5 s.
   */
  async listWorkflowRunCounts(
    params: RequestOptions & { requestContext?: RequestContextInit } = {},
  ): Promise<RunCounts> {
    return this.#transport.json(
      {
        method: 'GET',
        path: '/workflows/run-counts',
        query: { requestContext: encodeRequestContext(params.requestContext) },
        schema: runCountsSchema,
        retry: true,
      },
      params,
    );
  }

  /** A handle on a workflow (registry key or workflow id); makes no request. */
  getWorkflow(id: string): Workflow {
    return new Workflow(this, id);
  }

  /** Closes the client's keep-alive connections (not a dispatcher passed in). */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export class Workflow {
  readonly client: MastraClient;
  /** Registry key or workflow id, as given. */
  readonly id: string;
  readonly #path: string;

  constructor(client: MastraClient, id: string) {
    this.client = client;
    this.id = id;
    this.#path = `/workflows/${enc(id)}`;
  }

  /** @internal */
  get path(): string {
    return this.#path;
  }

  /** GET /workflows/:id, every `*Schema` decoded into a plain JSON Schema object. */
  async details(
    params: RequestOptions & { requestContext?: RequestContextInit } = {},
  ): Promise<WorkflowInfo> {
    return this.client.transport.json(
      {
        method: 'GET',
        path: this.#path,
        query: { requestContext: encodeRequestContext(params.requestContext) },
        schema: workflowInfoSchema,
        retry: true,
      },
      params,
    );
  }

  /** POST create-run: persists a `pending` run. Retried only with an explicit `runId` (idempotent). */
  async createRun(params: CreateRunParams = {}): Promise<Run> {
    const body: Record<string, unknown> = {};
    if (params.resourceId !== undefined) body.resourceId = params.resourceId;
    if (params.disableScorers !== undefined) body.disableScorers = params.disableScorers;
    const reply = await this.client.transport.json(
      {
        method: 'POST',
        path: `${this.#path}/create-run`,
        query: { runId: params.runId },
        body,
        schema: runIdSchema,
        retry: params.runId !== undefined,
      },
      params,
    );
    return new Run(this, reply.runId);
  }

  /** A handle on an existing run; makes no request. */
  run(runId: string): Run {
    return new Run(this, runId);
  }

  /** GET runs: newest first. */
  async runs(params: RunsParams = {}): Promise<RunsPage> {
    const query: Query = {
      status: params.status,
      resourceId: params.resourceId,
      page: params.page,
      perPage: params.perPage,
      fromDate: isoDate(params.fromDate),
      toDate: isoDate(params.toDate),
      requestContext: encodeRequestContext(params.requestContext),
    };
    return this.client.transport.json(
      { method: 'GET', path: `${this.#path}/runs`, query, schema: runsSchema, retry: true },
      params,
    );
  }

  /** GET runs/:runId: the run's stored state. */
  async runById(runId: string, params: RunByIdParams = {}): Promise<WorkflowRunState> {
    let fields: string | undefined;
    let strip: string | undefined;
    if (params.fields !== undefined) {
      if (params.fields.length === 0) {
        // The server answers everything for `fields=` (empty); ask for the smallest field and drop it.
        fields = 'error';
        strip = 'error';
      } else {
        fields = params.fields.join(',');
      }
    }
    const state = await this.client.transport.json(
      {
        method: 'GET',
        path: `${this.#path}/runs/${enc(runId)}`,
        query: {
          fields,
          withNestedWorkflows:
            params.withNestedWorkflows === undefined ? undefined : String(params.withNestedWorkflows),
          requestContext: encodeRequestContext(params.requestContext),
        },
        schema: runStateSchema,
        retry: true,
      },
      params,
    );
    if (strip !== undefined) delete (state as unknown as Record<string, unknown>)[strip];
    return state;
  }

  /** DELETE runs/:runId. */
  async deleteRun(runId: string, params: RequestOptions = {}): Promise<MessageReply> {
    return this.client.transport.json(
      { method: 'DELETE', path: `${this.#path}/runs/${enc(runId)}`, schema: messageSchema, retry: false },
      params,
    );
  }
}

function startBody(p: StreamParams): Record<string, unknown> {
  const body: Record<string, unknown> = { inputData: p.inputData };
  if (p.initialState !== undefined) body.initialState = p.initialState;
  if (p.requestContext !== undefined) body.requestContext = p.requestContext;
  if (p.tracingOptions !== undefined) body.tracingOptions = p.tracingOptions;
  if (p.perStep !== undefined) body.perStep = p.perStep;
  if (p.resourceId !== undefined) body.resourceId = p.resourceId;
  if (p.closeOnSuspend !== undefined) body.closeOnSuspend = p.closeOnSuspend;
  return body;
}

function resumeBody(p: ResumeParams): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (p.step !== undefined) body.step = p.step;
  if (p.resumeData !== undefined) body.resumeData = p.resumeData;
  if (p.requestContext !== undefined) body.requestContext = p.requestContext;
  if (p.tracingOptions !== undefined) body.tracingOptions = p.tracingOptions;
  if (p.perStep !== undefined) body.perStep = p.perStep;
  if (p.forEachIndex !== undefined) body.forEachIndex = p.forEachIndex;
  return body;
}

export class Run {
  readonly workflow: Workflow;
  readonly runId: string;

  constructor(workflow: Workflow, runId: string) {
    this.workflow = workflow;
    this.runId = runId;
  }

  get #t(): Transport {
    return this.workflow.client.transport;
  }

  /** POST start (fire-and-forget; the run must exist: `createRun` first). Never retried. */
  async start(params: StartParams): Promise<MessageReply> {
    return this.#t.json(
      {
        method: 'POST',
        path: `${this.workflow.path}/start`,
        query: { runId: this.runId },
        body: startBody(params),
        schema: messageSchema,
        retry: false,
      },
      params,
    );
  }

  /** POST start-async: answers when the run succeeds, fails or suspends. Never retried. */
  async startAsync(params: StartAsyncParams): Promise<WorkflowResult> {
    return this.#t.json(
      {
        method: 'POST',
        path: `${this.workflow.path}/start-async`,
        query: { runId: this.runId },
        body: startBody(params),
        schema: workflowResultSchema,
        retry: false,
      },
      params,
    );
  }

  async #openEvents(
    route: 'stream' | 'resume-stream',
    body: Record<string, unknown>,
    params: RequestOptions,
  ): Promise<WorkflowEventStream> {
    const { controller, cleanup } = linkedController(params.signal);
    let open: OpenStream;
    try {
      open = await this.#t.stream(
        { method: 'POST', path: `${this.workflow.path}/${route}`, query: { runId: this.runId }, body },
        { signal: controller.signal, timeoutMs: params.timeoutMs },
      );
    } catch (e) {
      cleanup();
      throw e;
    }
    return new WorkflowEventStream(
      { runId: this.runId, controller, cleanup },
      singleResponseSource(open, controller.signal),
    );
  }

  /**
   * POST stream: runs the workflow and resolves, once the server accepted it, to its events.
   * `for await (const event of await run.stream({ inputData }))`. Never retried.
   */
  async stream(params: StreamParams): Promise<WorkflowEventStream> {
    return this.#openEvents('stream', startBody(params), params);
  }

  /** POST resume-stream: resumes a suspended step and streams the resumed execution. Never retried. */
  async resumeStream(params: ResumeParams): Promise<WorkflowEventStream> {
    return this.#openEvents('resume-stream', resumeBody(params), params);
  }

  /**
   * POST observe: the run's recorded events from `offset`, then live ones while it runs in the
   * server process. Each event is delivered once (the server's live replay is de-duplicated) and
   * a dropped connection is resumed from the right offset (see `observeSource`).
   */
  async observe(params: ObserveParams = {}): Promise<WorkflowEventStream> {
    const { controller, cleanup } = linkedController(params.signal);
    const t = this.#t;
    const path = `${this.workflow.path}/observe`;
    const openAt = (offset: number, signal: AbortSignal) =>
      t.stream(
        { method: 'POST', path, query: { runId: this.runId, offset: offset > 0 ? offset : undefined } },
        { signal, timeoutMs: params.timeoutMs },
      );
    const offset = params.offset ?? 0;
    // The first request is made here so that 404s and the like surface from `await run.observe()`.
    let first: OpenStream | undefined;
    try {
      first = await openAt(offset, controller.signal);
    } catch (e) {
      cleanup();
      throw e;
    }
    const cfg = this.workflow.client.observeConfig;
    return new WorkflowEventStream(
      { runId: this.runId, controller, cleanup },
      observeSource({
        offset,
        maxReconnects: cfg.maxReconnects,
        reconnectDelayMs: cfg.reconnectDelayMs,
        signal: controller.signal,
        open: (o, signal) => {
          if (first !== undefined) {
            const f = first;
            first = undefined;
            return Promise.resolve(f);
          }
          return openAt(o, signal);
        },
      }),
      offset,
    );
  }

  /** POST resume (fire-and-forget: the server answers 200 even when the resume fails). Never retried. */
  async resume(params: ResumeParams): Promise<MessageReply> {
    return this.#t.json(
      {
        method: 'POST',
        path: `${this.workflow.path}/resume`,
        query: { runId: this.runId },
        body: resumeBody(params),
        schema: messageSchema,
        retry: false,
      },
      params,
    );
  }

  /** POST resume-async: answers when the resumed run settles. Never retried. */
  async resumeAsync(params: ResumeParams): Promise<WorkflowResult> {
    return this.#t.json(
      {
        method: 'POST',
        path: `${this.workflow.path}/resume-async`,
        query: { runId: this.runId },
        body: resumeBody(params),
        schema: workflowResultSchema,
        retry: false,
      },
      params,
    );
  }

  /** GET runs/:runId for this run. */
  async state(params: RunByIdParams = {}): Promise<WorkflowRunState> {
    return this.workflow.runById(this.runId, params);
  }

  /**
   * Cancels a run that has not finished. The server's cancel route writes `canceled`
   * unconditionally, even over a finished run (docs/mastra.md, Cancel), so the run's status is read first:
   * a terminal run is not touched and a `MastraError` `already_finished` (with `runStatus`) is
   * thrown instead.
   *
   * Remaining race: a run that finishes between the status read and the cancel request is still
   * flipped to `canceled` by the server (its `result` kept). The window is one round trip; closing
   * it needs a server-side conditional cancel.
   */
  async cancel(params: RequestOptions = {}): Promise<MessageReply> {
    const state = await this.workflow.runById(this.runId, {
      fields: [],
      signal: params.signal,
      timeoutMs: params.timeoutMs,
      deadlineMs: params.deadlineMs,
    });
    if (TERMINAL_RUN_STATUSES.has(state.status)) {
      throw new MastraError(
        'already_finished',
        `Run ${this.runId} of workflow ${this.workflow.id} already finished with status "${state.status}"; not canceled`,
        {
          runStatus: state.status,
          url: this.#t.url(`${this.workflow.path}/runs/${enc(this.runId)}`),
          method: 'GET',
        },
      );
    }
    return this.#t.json(
      {
        method: 'POST',
        path: `${this.workflow.path}/runs/${enc(this.runId)}/cancel`,
        schema: messageSchema,
        retry: false,
      },
      params,
    );
  }
}
