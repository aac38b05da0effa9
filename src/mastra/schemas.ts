/**
 * zod schemas for every reply of the Mastra workflow API (docs/mastra.md), lenient: fields the
 * server adds later are allowed and kept where the public types allow it. Wire timestamps
 * (epoch-ms numbers or ISO strings) become `Date`s; `*Schema` strings are decoded from superjson.
 * A reply that does not match is a `protocol` error, never a crash.
 */
import { z } from 'zod';
import { MastraError, snippetOf } from './errors.ts';
import type { StreamRecord } from './records.ts';
import type {
  DataEvent,
  JsonSchema,
  RunCounts,
  SerializedError,
  StepEventPayload,
  StepInfo,
  StepOutputEvent,
  StepProgressEvent,
  StepResult,
  StepResultEvent,
  StepStartEvent,
  StepSuspendedEvent,
  StepWaitingEvent,
  UnknownEvent,
  WorkflowCanceledEvent,
  WorkflowEvent,
  WorkflowFinishEvent,
  WorkflowInfo,
  WorkflowPausedEvent,
  WorkflowResult,
  WorkflowRunState,
  WorkflowRunSummary,
  WorkflowStartEvent,
} from './types.ts';
import { RUN_STATUSES } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Building blocks

const runStatus = z.enum(RUN_STATUSES);

/** Epoch-ms number, ISO string or Date → Date. */
export const dateLike = z.union([z.number(), z.string(), z.date()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: 'custom', message: `Invalid date: ${String(v)}` });
    return z.NEVER;
  }
  return d;
});

const serializedError: z.ZodType<SerializedError> = z
  .looseObject({ message: z.string().optional(), name: z.string().optional() })
  .transform((e) => ({ ...e, message: e.message ?? '' }));

const record = z.record(z.string(), z.unknown());

/** Decodes a `*Schema` field: a superjson string `{"json": <JSON Schema>, "meta"?: …}` → the JSON Schema. */
const superjsonSchema: z.ZodType<JsonSchema> = z.union([z.string(), record]).transform((v, ctx) => {
  let parsed: unknown = v;
  if (typeof v === 'string') {
    try {
      parsed = JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `Schema is not JSON: ${snippetOf(v)}` });
      return z.NEVER;
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'Schema is not an object' });
    return z.NEVER;
  }
  const json = (parsed as { json?: unknown }).json;
  if ('json' in parsed && typeof json === 'object' && json !== null && !Array.isArray(json)) {
    return json as JsonSchema;
  }
  return parsed as JsonSchema;
});

/** What a step's state carries, in events and in stored run state alike. */
const stepState = {
  status: runStatus,
  payload: z.unknown().optional(),
  output: z.unknown().optional(),
  error: serializedError.optional(),
  suspendPayload: record.optional(),
  resumePayload: z.unknown().optional(),
  startedAt: dateLike.optional(),
  endedAt: dateLike.optional(),
  suspendedAt: dateLike.optional(),
  resumedAt: dateLike.optional(),
  // Loop steps carry `{ iterationCount }`; a malformed one is dropped, never the whole record.
  metadata: z
    .looseObject({ iterationCount: z.number().int().positive().optional().catch(undefined) })
    .optional()
    .catch(undefined),
};

// ---------------------------------------------------------------------------------------------
// Events (docs/mastra.md, Event records)

const eventBase = {
  runId: z.string(),
  from: z.string(),
};

const stepEventPayload: z.ZodType<StepEventPayload> = z
  .looseObject({
    id: z.string(),
    stepName: z.string().optional(),
    stepCallId: z.string().optional(),
    ...stepState,
  })
  .transform((p) => ({ ...p, stepName: p.stepName ?? p.id }));

const emptyPayload = z.looseObject({}).transform(() => ({}) as Record<string, never>);

const finishPayload = z
  .looseObject({
    workflowStatus: runStatus,
    metadata: z
      .looseObject({ error: serializedError.optional(), errorMessage: z.string().optional() })
      .optional()
      .transform((m) => {
        if (m === undefined) return {};
        // A plain Error rejection serializes `error` as `{}`; the text is only in `errorMessage` (docs/mastra.md, The workflow-finish record).
        if (m.error !== undefined && m.error.message === '' && m.errorMessage !== undefined) {
          return { ...m, error: { ...m.error, message: m.errorMessage } };
        }
        return m;
      }),
    finalWorkflowResult: z.unknown().optional(),
    output: z.unknown().optional(),
    tripwire: z.unknown().optional(),
  })
  .transform((p) => ({ ...p, metadata: p.metadata }));

const stepEvent = <T extends StepEventType>(type: T['type']): z.ZodType<T> =>
  z.looseObject({
    type: z.literal(type),
    ...eventBase,
    payload: stepEventPayload,
  }) as unknown as z.ZodType<T>;
type StepEventType = StepStartEvent | StepResultEvent | StepSuspendedEvent | StepWaitingEvent;

const workflowStart: z.ZodType<WorkflowStartEvent> = z.looseObject({
  type: z.literal('workflow-start'),
  ...eventBase,
  payload: z.looseObject({ workflowId: z.string() }),
});
const stepOutput: z.ZodType<StepOutputEvent> = z.looseObject({
  type: z.literal('workflow-step-output'),
  ...eventBase,
  // `writer.write(undefined)` sends no `output` key.
  payload: z
    .looseObject({ stepName: z.string(), output: z.unknown().optional(), runId: z.string().optional() })
    .transform((p) => ({ ...p, output: p.output })),
});
const stepProgress: z.ZodType<StepProgressEvent> = z.looseObject({
  type: z.literal('workflow-step-progress'),
  ...eventBase,
  payload: z.looseObject({
    id: z.string(),
    stepName: z.string(),
    completedCount: z.number(),
    totalCount: z.number(),
    currentIndex: z.number(),
    iterationStatus: runStatus,
    iterationOutput: z.unknown().optional(),
  }),
});
const workflowCanceled: z.ZodType<WorkflowCanceledEvent> = z.looseObject({
  type: z.literal('workflow-canceled'),
  ...eventBase,
  payload: emptyPayload.optional().default({}),
});
const workflowPaused: z.ZodType<WorkflowPausedEvent> = z.looseObject({
  type: z.literal('workflow-paused'),
  ...eventBase,
  payload: emptyPayload.optional().default({}),
});
const workflowFinish: z.ZodType<WorkflowFinishEvent> = z.looseObject({
  type: z.literal('workflow-finish'),
  ...eventBase,
  payload: finishPayload,
});

const eventSchemas: Record<Exclude<WorkflowEvent['type'], 'data' | 'unknown'>, z.ZodType<WorkflowEvent>> = {
  'workflow-start': workflowStart,
  'workflow-step-start': stepEvent<StepStartEvent>('workflow-step-start'),
  'workflow-step-result': stepEvent<StepResultEvent>('workflow-step-result'),
  'workflow-step-suspended': stepEvent<StepSuspendedEvent>('workflow-step-suspended'),
  'workflow-step-waiting': stepEvent<StepWaitingEvent>('workflow-step-waiting'),
  'workflow-step-output': stepOutput,
  'workflow-step-progress': stepProgress,
  'workflow-canceled': workflowCanceled,
  'workflow-paused': workflowPaused,
  'workflow-finish': workflowFinish,
};

const dataEvent = z.looseObject({ ...eventBase, data: z.unknown().optional() });

function protocolRecordError(rec: StreamRecord, what: string, cause?: unknown): MastraError {
  let text: string;
  try {
    text = JSON.stringify(rec.value) ?? String(rec.value);
  } catch {
    text = String(rec.value);
  }
  const snippet = snippetOf(text);
  return new MastraError(
    'protocol',
    `Malformed record ${rec.index} at byte ${rec.byteOffset}: ${what}: ${snippet}`,
    {
      position: { record: rec.index, byte: rec.byteOffset },
      snippet,
      cause,
      recordsReceived: rec.index,
    },
  );
}

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Turns a parsed record into a typed `WorkflowEvent`. `data-*` records become `DataEvent`s, records
 * of unknown types (or without a string `type`) `UnknownEvent`s; a known type with a malformed
 * shape is a `protocol` error naming the record's position.
 *
 * Records of the shapes the server sends are decoded by `decodeEventFast` (in place: the record is
 * a fresh `JSON.parse` result); anything it does not vouch for goes through the zod schemas, which
 * are the authority (a test checks both agree).
 */
export function toWorkflowEvent(rec: StreamRecord): WorkflowEvent {
  return decodeEventFast(rec.value) ?? toWorkflowEventZod(rec);
}

/** The zod-only decoder (reference for `decodeEventFast`). */
export function toWorkflowEventZod(rec: StreamRecord): WorkflowEvent {
  const v = rec.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw protocolRecordError(rec, 'a record must be a JSON object');
  }
  const type = (v as { type?: unknown }).type;
  const runId = (v as { runId?: unknown }).runId;
  if (typeof type === 'string') {
    if (Object.hasOwn(eventSchemas, type)) {
      const parsed = eventSchemas[type as keyof typeof eventSchemas].safeParse(v);
      if (!parsed.success)
        throw protocolRecordError(rec, `invalid ${type}: ${issuesText(parsed.error)}`, parsed.error);
      return parsed.data;
    }
    if (type.startsWith('data-')) {
      const parsed = dataEvent.safeParse(v);
      if (!parsed.success)
        throw protocolRecordError(rec, `invalid ${type}: ${issuesText(parsed.error)}`, parsed.error);
      const { type: _t, runId: r, from, data, ...rest } = parsed.data;
      const event: DataEvent = { ...rest, type: 'data', name: type, runId: r, from, data };
      return event;
    }
  }
  const unknown: UnknownEvent = {
    type: 'unknown',
    originalType: typeof type === 'string' ? type : undefined,
    runId: typeof runId === 'string' ? runId : undefined,
    record: v,
  };
  return unknown;
}

// ---------------------------------------------------------------------------------------------
// Fast path: plain checks on the JSON value, dates revived in place. Returns undefined whenever it
// is not sure, leaving the case (and the error message) to zod. It never accepts what zod rejects
// and produces the same value zod would.

type Obj = Record<string, unknown>;
const STATUS_SET: ReadonlySet<unknown> = new Set<unknown>(RUN_STATUSES);
const DATE_KEYS = ['startedAt', 'endedAt', 'suspendedAt', 'resumedAt'] as const;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

/** Revives the step date keys in place; false if one is not a valid date (then zod decides). */
function reviveDates(p: Obj): boolean {
  for (const k of DATE_KEYS) {
    const v = p[k];
    if (v === undefined || v instanceof Date) continue;
    if (typeof v !== 'number' && typeof v !== 'string') return false;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) return false;
    p[k] = d;
  }
  return true;
}

/** A serialized error as zod outputs it (missing `message` → ''), or undefined if unsure. */
function fastError(e: unknown): Obj | undefined {
  if (!isObj(e) || !optString(e.message) || !optString(e.name)) return undefined;
  if (e.message === undefined) e.message = '';
  return e;
}

function fastStepPayload(p: unknown): boolean {
  if (!isObj(p) || typeof p.id !== 'string' || !STATUS_SET.has(p.status)) return false;
  if (!optString(p.stepName) || !optString(p.stepCallId)) return false;
  if (p.error !== undefined && fastError(p.error) === undefined) return false;
  if (p.suspendPayload !== undefined && !isObj(p.suspendPayload)) return false;
  if (p.metadata !== undefined) {
    // Only a well-formed `{ iterationCount }` here; zod drops a malformed one.
    const m = p.metadata;
    if (!isObj(m)) return false;
    const n = m.iterationCount;
    if (n !== undefined && !(typeof n === 'number' && Number.isSafeInteger(n) && n > 0)) return false;
  }
  if (!reviveDates(p)) return false;
  if (p.stepName === undefined) p.stepName = p.id;
  return true;
}

function fastFinishPayload(p: unknown): boolean {
  if (!isObj(p) || !STATUS_SET.has(p.workflowStatus)) return false;
  const m = p.metadata;
  if (m === undefined) {
    p.metadata = {};
    return true;
  }
  if (!isObj(m) || !optString(m.errorMessage)) return false;
  if (m.error !== undefined) {
    const e = fastError(m.error);
    if (e === undefined) return false;
    // A plain Error rejection serializes `error` as `{}`; the text is only in `errorMessage` (docs/mastra.md, The workflow-finish record).
    if (e.message === '' && typeof m.errorMessage === 'string') m.error = { ...e, message: m.errorMessage };
  }
  return true;
}

export function decodeEventFast(v: unknown): WorkflowEvent | undefined {
  if (!isObj(v)) return undefined;
  const { type } = v;
  if (typeof type !== 'string' || typeof v.runId !== 'string' || typeof v.from !== 'string') return undefined;
  const p = v.payload;
  switch (type) {
    case 'workflow-step-start':
    case 'workflow-step-result':
    case 'workflow-step-suspended':
    case 'workflow-step-waiting':
      return fastStepPayload(p) ? (v as unknown as WorkflowEvent) : undefined;
    case 'workflow-step-output':
      return isObj(p) && typeof p.stepName === 'string' && optString(p.runId)
        ? (v as unknown as WorkflowEvent)
        : undefined;
    case 'workflow-start':
      return isObj(p) && typeof p.workflowId === 'string' ? (v as unknown as WorkflowEvent) : undefined;
    case 'workflow-finish':
      return fastFinishPayload(p) ? (v as unknown as WorkflowEvent) : undefined;
    case 'workflow-step-progress':
      return isObj(p) &&
        typeof p.id === 'string' &&
        typeof p.stepName === 'string' &&
        typeof p.completedCount === 'number' &&
        typeof p.totalCount === 'number' &&
        typeof p.currentIndex === 'number' &&
        STATUS_SET.has(p.iterationStatus)
        ? (v as unknown as WorkflowEvent)
        : undefined;
    case 'workflow-canceled':
    case 'workflow-paused':
      if (p !== undefined && !isObj(p)) return undefined;
      v.payload = {};
      return v as unknown as WorkflowEvent;
    default: {
      if (type.startsWith('data-')) {
        const { type: _t, runId, from, data, ...rest } = v;
        const event: DataEvent = {
          ...rest,
          type: 'data',
          name: type,
          runId: runId as string,
          from: from as string,
          data,
        };
        return event;
      }
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JSON replies (docs/mastra.md: Workflow details and schemas, Run state, Start and resume results, Run lists)

const stepResult: z.ZodType<StepResult> = z.looseObject(stepState);

/** Fields every stored run has, in a run's state and in run lists. */
const runRecord = {
  resourceId: z
    .string()
    .nullish()
    .transform((r) => r ?? null),
  createdAt: dateLike,
  updatedAt: dateLike,
};

export const runStateSchema: z.ZodType<WorkflowRunState> = z.looseObject({
  runId: z.string(),
  workflowName: z.string(),
  ...runRecord,
  status: runStatus,
  initialState: z.unknown().optional(),
  result: z.unknown().optional(),
  error: serializedError.optional(),
  payload: z.unknown().optional(),
  steps: z.record(z.string(), stepResult).optional(),
  activeStepsPath: record.optional(),
  serializedStepGraph: z.array(z.unknown()).optional(),
  suspendedPaths: z.record(z.string(), z.array(z.number())).optional(),
  waitingPaths: record.optional(),
  resumeLabels: record.optional(),
});

export const workflowResultSchema: z.ZodType<WorkflowResult> = z
  .looseObject({
    runId: z.string().optional(),
    status: runStatus,
    // `steps.input` is the workflow input (not a step result): dropped before validating the rest.
    steps: z
      .record(z.string(), z.unknown())
      .transform((s) => {
        const { input: _input, ...rest } = s;
        return rest;
      })
      .pipe(z.record(z.string(), stepResult)),
    input: z.unknown().optional(),
    stepExecutionPath: z.array(z.string()).optional(),
    result: z.unknown().optional(),
    error: serializedError.optional(),
    suspended: z.array(z.array(z.string())).optional(),
    suspendPayload: record.optional(),
  })
  .transform((r) => r);

export const runSummarySchema: z.ZodType<WorkflowRunSummary> = z
  .looseObject({
    workflowName: z.string(),
    runId: z.string(),
    ...runRecord,
    // libsql sends an object; the route schema also allows a JSON string.
    snapshot: z.union([
      record,
      z.string().transform((s, ctx) => {
        try {
          const v: unknown = JSON.parse(s);
          if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
        } catch {
          // reported below
        }
        ctx.addIssue({ code: 'custom', message: 'snapshot is not a JSON object' });
        return z.NEVER;
      }),
    ]),
  })
  .transform((r, ctx) => {
    const status = runStatus.safeParse(r.snapshot.status);
    if (!status.success) {
      ctx.addIssue({
        code: 'custom',
        message: `snapshot.status is not a run status: ${String(r.snapshot.status)}`,
      });
      return z.NEVER;
    }
    return { ...r, status: status.data };
  });

export const runsSchema = z.looseObject({ runs: z.array(runSummarySchema), total: z.number() });

const stepInfo: z.ZodType<StepInfo> = z.looseObject({
  id: z.string(),
  description: z.string().optional(),
  inputSchema: superjsonSchema.optional(),
  outputSchema: superjsonSchema.optional(),
  resumeSchema: superjsonSchema.optional(),
  suspendSchema: superjsonSchema.optional(),
  stateSchema: superjsonSchema.optional(),
  requestContextSchema: superjsonSchema.optional(),
  isWorkflow: z.boolean().optional(),
  component: z.string().optional(),
  metadata: record.optional(),
});

export const workflowInfoSchema: z.ZodType<WorkflowInfo> = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  metadata: record.optional(),
  origin: z.string().optional(),
  steps: z.record(z.string(), stepInfo).optional().default({}),
  allSteps: z.record(z.string(), stepInfo).optional().default({}),
  stepGraph: z.array(z.unknown()).optional().default([]),
  inputSchema: superjsonSchema.optional(),
  outputSchema: superjsonSchema.optional(),
  stateSchema: superjsonSchema.optional(),
  requestContextSchema: superjsonSchema.optional(),
  options: record.optional(),
});

export const workflowListSchema = z.record(z.string(), workflowInfoSchema);

export const runCountsSchema: z.ZodType<RunCounts> = z.record(
  z.string(),
  z.looseObject({ running: z.number(), suspended: z.number() }),
);

export const runIdSchema = z.looseObject({ runId: z.string() });
export const messageSchema = z.looseObject({ message: z.string() });

/** Validates a JSON reply; a mismatch is a `protocol` error quoting the issues and the body. */
export function validateReply<T>(
  schema: z.ZodType<T>,
  body: unknown,
  ctx: { url: string; method: string; status: number; bodyText: string },
): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const snippet = snippetOf(ctx.bodyText);
  throw new MastraError(
    'protocol',
    `Unexpected reply from ${ctx.method} ${ctx.url} (HTTP ${ctx.status}): ${issuesText(parsed.error)}: ${snippet}`,
    { status: ctx.status, url: ctx.url, method: ctx.method, snippet, cause: parsed.error },
  );
}
