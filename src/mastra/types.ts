/**
 * Typed shapes of the Mastra workflow HTTP API as it really behaves (docs/mastra.md).
 * Wire timestamps (epoch ms numbers, ISO strings) are revived to `Date` by the client.
 */

export const RUN_STATUSES = [
  'pending',
  'running',
  'waiting',
  'suspended',
  'success',
  'failed',
  'canceled',
  'bailed',
  'tripwire',
  'paused',
  'skipped',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type StepStatus = RunStatus;

/** Statuses after which a run never changes again. */
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'success',
  'failed',
  'canceled',
  'tripwire',
]);

export type JsonSchema = Record<string, unknown>;

export interface SerializedError {
  message: string;
  name?: string;
  [key: string]: unknown;
}

/** A step path as resume expects it: `['inner', 'inner-approve']` for a step inside a nested workflow. */
export type StepPath = string[];

// ---------------------------------------------------------------------------------------------
// Stream events (docs/mastra.md, Event records). Known wire types keep their `type`; `data-*` records become `type: 'data'`
// (with the wire name in `name`); anything else becomes `type: 'unknown'` with the raw record.

export interface EventBase {
  runId: string;
  from: 'WORKFLOW' | 'USER' | (string & {});
}

export interface StepEventPayload {
  /** Step path joined by "." (nested steps are `"<workflowStepId>.<innerStepId>"`). */
  id: string;
  stepName: string;
  stepCallId?: string;
  status: StepStatus;
  /** The step's input. */
  payload?: unknown;
  output?: unknown;
  error?: SerializedError;
  suspendPayload?: Record<string, unknown>;
  resumePayload?: unknown;
  startedAt?: Date;
  endedAt?: Date;
  suspendedAt?: Date;
  resumedAt?: Date;
  /** Loop steps (`.dowhile`, `.dountil`): `{ iterationCount }`, counting from 1. */
  metadata?: StepMetadata;
}

/** What Mastra adds about a step's execution; `iterationCount` on the steps of loops. */
export interface StepMetadata {
  iterationCount?: number;
  [key: string]: unknown;
}

export interface WorkflowStartEvent extends EventBase {
  type: 'workflow-start';
  payload: { workflowId: string };
}
export interface StepStartEvent extends EventBase {
  type: 'workflow-step-start';
  payload: StepEventPayload;
}
export interface StepResultEvent extends EventBase {
  type: 'workflow-step-result';
  payload: StepEventPayload;
}
export interface StepSuspendedEvent extends EventBase {
  type: 'workflow-step-suspended';
  payload: StepEventPayload;
}
export interface StepWaitingEvent extends EventBase {
  type: 'workflow-step-waiting';
  payload: StepEventPayload;
}
export interface StepOutputEvent extends EventBase {
  type: 'workflow-step-output';
  payload: { stepName: string; output: unknown; runId?: string };
}
export interface StepProgressEvent extends EventBase {
  type: 'workflow-step-progress';
  payload: {
    id: string;
    stepName: string;
    completedCount: number;
    totalCount: number;
    currentIndex: number;
    iterationStatus: StepStatus;
    iterationOutput?: unknown;
  };
}
export interface WorkflowCanceledEvent extends EventBase {
  type: 'workflow-canceled';
  payload: Record<string, never>;
}
export interface WorkflowPausedEvent extends EventBase {
  type: 'workflow-paused';
  payload: Record<string, never>;
}
export interface WorkflowFinishEvent extends EventBase {
  type: 'workflow-finish';
  payload: {
    workflowStatus: RunStatus;
    metadata: { error?: SerializedError; errorMessage?: string };
    finalWorkflowResult?: unknown;
    output?: unknown;
    tripwire?: unknown;
  };
}
/** `writer.custom({ type: 'data-x', data })` records. */
export interface DataEvent extends EventBase {
  type: 'data';
  /** The wire type, e.g. `data-progress`. */
  name: string;
  data: unknown;
}
/** Any record of a type this client does not know: passed through, never dropped. */
export interface UnknownEvent {
  type: 'unknown';
  /** The record's own `type`, if it had a string one. */
  originalType: string | undefined;
  runId: string | undefined;
  record: unknown;
}

export type WorkflowEvent =
  | WorkflowStartEvent
  | StepStartEvent
  | StepResultEvent
  | StepSuspendedEvent
  | StepWaitingEvent
  | StepOutputEvent
  | StepProgressEvent
  | WorkflowCanceledEvent
  | WorkflowPausedEvent
  | WorkflowFinishEvent
  | DataEvent
  | UnknownEvent;

// ---------------------------------------------------------------------------------------------
// JSON results (docs/mastra.md)

/** One step's stored result, as in `runById().steps` and `WorkflowResult.steps`. */
export interface StepResult {
  status: StepStatus;
  payload?: unknown;
  output?: unknown;
  error?: SerializedError;
  suspendPayload?: Record<string, unknown>;
  resumePayload?: unknown;
  startedAt?: Date;
  endedAt?: Date;
  suspendedAt?: Date;
  resumedAt?: Date;
  metadata?: StepMetadata;
}

/** GET /workflows/:id/runs/:runId (docs/mastra.md, Run state). */
export interface WorkflowRunState {
  runId: string;
  workflowName: string;
  resourceId: string | null;
  createdAt: Date;
  updatedAt: Date;
  status: RunStatus;
  initialState?: unknown;
  result?: unknown;
  error?: SerializedError;
  payload?: unknown;
  /** Keyed by step path joined with "." (nested steps included when `withNestedWorkflows`). */
  steps?: Record<string, StepResult>;
  activeStepsPath?: Record<string, unknown>;
  serializedStepGraph?: unknown[];
  suspendedPaths?: Record<string, number[]>;
  waitingPaths?: Record<string, unknown>;
  resumeLabels?: Record<string, unknown>;
}

/** start-async / resume-async result (docs/mastra.md, Start and resume results). `steps` has no synthetic `input` key here. */
export interface WorkflowResult {
  runId?: string;
  status: RunStatus;
  steps: Record<string, StepResult>;
  input?: unknown;
  stepExecutionPath?: string[];
  result?: unknown;
  error?: SerializedError;
  suspended?: StepPath[];
  suspendPayload?: Record<string, unknown>;
}

/** GET /workflows/:id/runs item (docs/mastra.md, Run lists). */
export interface WorkflowRunSummary {
  workflowName: string;
  runId: string;
  resourceId: string | null;
  createdAt: Date;
  updatedAt: Date;
  status: RunStatus;
  snapshot: Record<string, unknown>;
}

export interface StepInfo {
  id: string;
  description?: string;
  inputSchema?: JsonSchema;
  outputSchema?: JsonSchema;
  resumeSchema?: JsonSchema;
  suspendSchema?: JsonSchema;
  stateSchema?: JsonSchema;
  requestContextSchema?: JsonSchema;
  isWorkflow?: boolean;
  component?: string;
  metadata?: Record<string, unknown>;
}

/** GET /workflows/:id with every `*Schema` decoded from superjson into plain JSON Schema (docs/mastra.md, Workflow details and schemas). */
export interface WorkflowInfo {
  name: string;
  description?: string;
  metadata?: Record<string, unknown>;
  origin?: string;
  steps: Record<string, StepInfo>;
  /** Flattened, nested steps keyed `"inner.inner-approve"`. */
  allSteps: Record<string, StepInfo>;
  stepGraph: unknown[];
  inputSchema?: JsonSchema;
  outputSchema?: JsonSchema;
  stateSchema?: JsonSchema;
  requestContextSchema?: JsonSchema;
  options?: Record<string, unknown>;
}

export type RunCounts = Record<string, { running: number; suspended: number }>;

// ---------------------------------------------------------------------------------------------
// The run result format: a run followed as a sequence of snapshots, built by a pure reducer
// (src/runs/state.ts) from the event stream or from a runById result.

export interface StepSnapshot {
  id: string;
  status: StepStatus;
  payload?: unknown;
  output?: unknown;
  error?: SerializedError;
  suspendPayload?: Record<string, unknown>;
  resumePayload?: unknown;
  startedAt?: Date;
  endedAt?: Date;
  suspendedAt?: Date;
  resumedAt?: Date;
  /** Latest `writer.write()` output of the step. */
  writerOutput?: unknown;
  /** Latest `.foreach()` progress of the step. */
  progress?: { completed: number; total: number };
  /** `.foreach()`: the status of each iteration seen so far, by index. */
  iterations?: StepStatus[];
  metadata?: StepMetadata;
}

/**
 * One question a run waits on: the exact resume path, the `.foreach()` iteration (if any) and the
 * moment it was asked. A loop asking again, or another iteration, is another suspension.
 */
export interface Suspension {
  /** The exact resume path, e.g. `['inner', 'inner-approve']`. */
  path: StepPath;
  /** The suspended iteration of a `.foreach()` step (resumed with `forEachIndex`). */
  forEachIndex?: number;
  /** How many items the `.foreach()` step iterates over, when known. */
  forEachTotal?: number;
  /** When it was asked; unknown only for an iteration the stream named before its details arrived. */
  suspendedAt?: Date;
  /** What the step passed to `suspend()`, without Mastra's `__workflow_meta`. */
  payload?: Record<string, unknown>;
  /** The `resumeLabel` the step suspended with. */
  resumeLabel?: string;
}

export interface RunSnapshot {
  runId: string;
  /**
   * The workflow's serialized step graph the run is shown with (`runById().serializedStepGraph`
   * when known, it comes from the process that runs it; else the workflow's `stepGraph`).
   */
  stepGraph?: readonly unknown[];
  /** Time of the latest event that changed the snapshot. */
  eventTimestamp: Date;
  payload: {
    currentStep: { id: string; status: StepStatus; output?: unknown; payload?: unknown } | null;
    workflowState: {
      status: RunStatus;
      /** In the order steps were first seen. */
      steps: Record<string, StepSnapshot>;
      result?: unknown;
      error?: SerializedError;
      /** The questions the run waits on, one per suspension (a `.foreach()` step: one per iteration). */
      suspended: Suspension[];
    };
  };
}
