/**
 * A run's state, derived and never duplicated: `reduceRun(snapshot, event)` folds the workflow's event
 * stream into one `RunSnapshot` (the "run result format"), and `snapshotFromRunState` builds the same
 * shape from a `runById` result. Pure: no I/O, no clocks (the caller passes the receipt time), and
 * replaying an event is harmless.
 */
import type {
  RunSnapshot,
  RunStatus,
  SerializedError,
  StepEventPayload,
  StepSnapshot,
  StepStatus,
  Suspension,
  WorkflowEvent,
  WorkflowRunState,
} from '../mastra/types.ts';
import { RUN_STATUSES, TERMINAL_RUN_STATUSES } from '../mastra/types.ts';
import { isRecord } from '../util/is-record.ts';
import { copyRecord, emptyRecord, own, setOwn } from '../util/safe-objects.ts';
import { suspensionsOf, withoutWorkflowMeta, withProgressEvent, withStepEvent } from './suspensions.ts';

const FINISHED_STEP_STATUSES: ReadonlySet<StepStatus> = new Set([
  'success',
  'failed',
  'bailed',
  'canceled',
  'skipped',
  'tripwire',
]);

type WorkflowState = RunSnapshot['payload']['workflowState'];

/**
 * A snapshot before any event: every top-level step of the workflow's graph listed as `pending`,
 * and the graph itself, which the run is shown with (src/runs/graph.ts).
 */
export function initialSnapshot(
  runId: string,
  stepGraph: readonly unknown[] = [],
  at = new Date(0),
): RunSnapshot {
  // Keyed by the workflow's step ids: a record without a prototype (a step may be called `constructor`).
  const steps = emptyRecord<StepSnapshot>();
  for (const id of stepIdsFromGraph(stepGraph)) setOwn(steps, id, { id, status: 'pending' });
  return {
    runId,
    ...(stepGraph.length > 0 ? { stepGraph } : {}),
    eventTimestamp: at,
    payload: { currentStep: null, workflowState: { status: 'pending', steps, suspended: [] } },
  };
}

/**
 * Top-level step ids of a serialized step graph, in order (parallel and conditional branches
 * flattened). Sleeps are left out: their ids are made anew by each server process, so the graph
 * of one process does not name the sleeps of a run in another.
 */
export function stepIdsFromGraph(graph: readonly unknown[]): string[] {
  const ids: string[] = [];
  const visit = (entry: unknown): void => {
    if (!isRecord(entry) || entry.type === 'sleep' || entry.type === 'sleepUntil') return;
    if (Array.isArray(entry.steps)) {
      for (const child of entry.steps) visit(child);
      return;
    }
    const step = entry.step;
    if (isRecord(step)) {
      if (typeof step.type === 'string') visit(step);
      else if (typeof step.id === 'string') ids.push(step.id);
      return;
    }
    if (typeof entry.id === 'string') ids.push(entry.id);
  };
  for (const entry of graph) visit(entry);
  return [...new Set(ids)];
}

/**
 * Folds one event into the snapshot. Returns the same object when the event changes nothing
 * (custom `data-*` records, unknown types, replays), so callers can skip re-rendering.
 */
export function reduceRun(snapshot: RunSnapshot | undefined, event: WorkflowEvent, at: Date): RunSnapshot {
  const runId = snapshot?.runId ?? ('runId' in event && event.runId ? event.runId : '');
  const base = snapshot ?? initialSnapshot(runId, [], at);
  const state = base.payload.workflowState;
  switch (event.type) {
    case 'workflow-start':
      if (state.status === 'running') return base;
      return withState(base, { ...state, status: 'running', error: undefined }, at);
    case 'workflow-step-start':
    case 'workflow-step-result':
    case 'workflow-step-suspended':
    case 'workflow-step-waiting':
      return applyStepEvent(base, event.payload, at);
    case 'workflow-step-output': {
      const id = findStepId(state.steps, event.payload.stepName);
      if (id === undefined) return base;
      const step = own(state.steps, id)!;
      return withStep(base, { ...step, writerOutput: event.payload.output }, at, false);
    }
    case 'workflow-step-progress': {
      const { id, completedCount, totalCount, currentIndex, iterationStatus } = event.payload;
      const step = own(state.steps, id) ?? { id, status: 'running' as const };
      const known = Number.isInteger(currentIndex) && currentIndex >= 0 && currentIndex < totalCount;
      // A suspended iteration is a question of its own (src/runs/suspensions.ts).
      const suspended = withProgressEvent(state.suspended, event.payload);
      const sameProgress =
        step.progress?.completed === completedCount &&
        step.progress.total === totalCount &&
        (!known || step.iterations?.[currentIndex] === iterationStatus);
      if (sameProgress && suspended === state.suspended) return base;
      const iterations = [...(step.iterations ?? [])];
      if (known) iterations[currentIndex] = iterationStatus;
      const next = sameProgress
        ? base
        : withStep(
            base,
            {
              ...step,
              progress: { completed: completedCount, total: totalCount },
              ...(known ? { iterations: Array.from(iterations, (s) => s ?? 'pending') } : {}),
            },
            at,
            false,
          );
      return suspended === state.suspended
        ? next
        : withState(next, { ...next.payload.workflowState, suspended }, at);
    }
    case 'workflow-canceled':
      return finish(base, 'canceled', at);
    case 'workflow-paused':
      if (TERMINAL_RUN_STATUSES.has(state.status)) return base;
      return withState(base, { ...state, status: 'paused' }, at);
    case 'workflow-finish': {
      const { workflowStatus, finalWorkflowResult, metadata } = event.payload;
      if (workflowStatus === 'suspended' || workflowStatus === 'paused') {
        // With closeOnSuspend:false the stream ends with "suspended" even after the run went on to
        // succeed (docs/mastra.md, The workflow-finish record): only believe it while a step really waits for an answer.
        if (workflowStatus === 'suspended' && state.suspended.length === 0) return base;
        return withState(base, { ...state, status: workflowStatus }, at);
      }
      if (workflowStatus === 'success' && state.suspended.length > 0) {
        // A resume of one parallel branch ends its stream with "success" while another branch still
        // waits for an answer: the run is not done.
        return withState(base, { ...state, status: 'suspended' }, at);
      }
      const error =
        workflowStatus === 'failed'
          ? (errorFrom(metadata.error, metadata.errorMessage) ?? failedStepError(state) ?? state.error)
          : undefined;
      const next = finish(base, workflowStatus, at);
      return withState(
        next,
        {
          ...next.payload.workflowState,
          result: finalWorkflowResult === undefined ? next.payload.workflowState.result : finalWorkflowResult,
          error,
        },
        at,
      );
    }
    default:
      return base;
  }
}

/** Folds a whole sequence of events. */
export function reduceEvents(
  events: Iterable<WorkflowEvent>,
  start: RunSnapshot | undefined = undefined,
  at = new Date(0),
): RunSnapshot | undefined {
  let snapshot = start;
  for (const event of events) snapshot = reduceRun(snapshot, event, at);
  return snapshot;
}

/**
 * The same shape from a `runById` result (authoritative for the run's status). Steps of `base`
 * (e.g. pending ones from the graph, writer outputs seen on the stream) are kept where the server
 * has nothing newer.
 */
export function snapshotFromRunState(run: WorkflowRunState, base?: RunSnapshot): RunSnapshot {
  const steps = copyRecord(base?.payload.workflowState.steps);
  let current: RunSnapshot['payload']['currentStep'] = base?.payload.currentStep ?? null;
  let latest = 0;
  for (const [id, result] of Object.entries(run.steps ?? {})) {
    const previous = own(steps, id);
    const { suspendPayload, ...rest } = result;
    const iterations = foreachIterations(suspendPayload) ?? previous?.iterations;
    const step: StepSnapshot = {
      ...(previous?.writerOutput === undefined ? {} : { writerOutput: previous.writerOutput }),
      ...(previous?.progress === undefined ? {} : { progress: previous.progress }),
      // The latest output of a step that runs again (a loop asking a second time): stored state
      // only has the current iteration, the stream saw the one before.
      ...(previous?.output === undefined ? {} : { output: previous.output }),
      ...rest,
      ...(iterations === undefined ? {} : { iterations }),
      ...(suspendPayload === undefined ? {} : { suspendPayload: withoutWorkflowMeta(suspendPayload) }),
      id,
    };
    // Stored state says "success" for a step that bailed (`bail()`); the stream said so, and the
    // run's own status stays the server's.
    if (
      previous?.status === 'bailed' &&
      step.status === 'success' &&
      previous.startedAt?.getTime() === step.startedAt?.getTime()
    )
      step.status = 'bailed';
    setOwn(steps, id, step);
    const touched = Math.max(
      step.startedAt?.getTime() ?? 0,
      step.endedAt?.getTime() ?? 0,
      step.suspendedAt?.getTime() ?? 0,
      step.resumedAt?.getTime() ?? 0,
    );
    if (touched >= latest) {
      latest = touched;
      current = { id, status: step.status, output: step.output, payload: step.payload };
    }
  }
  const status = run.status;
  const suspended = status === 'suspended' || status === 'running' ? suspensionsOf(run) : [];
  if (TERMINAL_RUN_STATUSES.has(status)) markUnfinishedSteps(steps, status);
  const stepGraph = sameGraph(run.serializedStepGraph, base?.stepGraph);
  return {
    runId: run.runId,
    ...(stepGraph === undefined ? {} : { stepGraph }),
    eventTimestamp: run.updatedAt,
    payload: {
      currentStep: current,
      workflowState: {
        status,
        steps,
        ...(run.result === undefined ? {} : { result: run.result }),
        ...(run.error === undefined ? {} : { error: run.error }),
        suspended,
      },
    },
  };
}

function applyStepEvent(snapshot: RunSnapshot, payload: StepEventPayload, at: Date): RunSnapshot {
  const state = snapshot.payload.workflowState;
  const previous = own(state.steps, payload.id);
  if (isReplay(previous, payload)) return snapshot;
  const { suspendPayload, stepName: _stepName, stepCallId: _stepCallId, ...fields } = payload;
  const step: StepSnapshot = {
    ...(previous ?? {}),
    ...fields,
    ...(suspendPayload === undefined ? {} : { suspendPayload: withoutWorkflowMeta(suspendPayload) }),
    id: payload.id,
  };
  if (payload.status === 'running') {
    // A (re)started step: drop what belonged to an earlier attempt.
    delete step.endedAt;
    delete step.error;
    if (payload.resumedAt === undefined) {
      delete step.progress;
      delete step.iterations;
    }
  }
  if (payload.status !== 'failed') delete step.error;
  const suspended = withStepEvent(state.suspended, payload, state.steps);
  const next = withStep(snapshot, step, at, true);
  const nextState = next.payload.workflowState;
  const status = TERMINAL_RUN_STATUSES.has(nextState.status)
    ? nextState.status
    : liveRunStatus(nextState.steps, suspended);
  return withState(next, { ...nextState, suspended, status }, at);
}

/** A record already folded in: same call, same status, nothing newer. */
function isReplay(previous: StepSnapshot | undefined, payload: StepEventPayload): boolean {
  if (!previous) return false;
  if (previous.status === payload.status) {
    return (
      previous.endedAt?.getTime() === payload.endedAt?.getTime() &&
      previous.suspendedAt?.getTime() === payload.suspendedAt?.getTime() &&
      previous.resumedAt?.getTime() === payload.resumedAt?.getTime()
    );
  }
  // A step-start replayed after the step already finished (observe re-sends from workflow-start).
  return (
    payload.status === 'running' &&
    FINISHED_STEP_STATUSES.has(previous.status) &&
    payload.resumedAt === undefined &&
    previous.startedAt !== undefined &&
    previous.startedAt.getTime() === payload.startedAt?.getTime()
  );
}

function liveRunStatus(steps: Record<string, StepSnapshot>, suspended: Suspension[]): RunStatus {
  const all = Object.values(steps);
  if (all.some((s) => s.status === 'running')) return 'running';
  if (all.some((s) => s.status === 'waiting')) return 'waiting';
  if (suspended.length > 0) return 'suspended';
  return 'running';
}

function finish(snapshot: RunSnapshot, status: RunStatus, at: Date): RunSnapshot {
  const state = snapshot.payload.workflowState;
  if (state.status === status && TERMINAL_RUN_STATUSES.has(status)) return snapshot;
  const steps = copyRecord(state.steps);
  markUnfinishedSteps(steps, status);
  return withState(snapshot, { ...state, status, steps, suspended: [] }, at);
}

/**
 * After the run ends: steps still marked running, waiting or suspended were cut short (canceled),
 * except on success where the server simply had nothing newer to say; pending steps never ran.
 */
function markUnfinishedSteps(steps: Record<string, StepSnapshot>, runStatus: RunStatus): void {
  for (const [id, step] of Object.entries(steps)) {
    if (step.status === 'pending') setOwn(steps, id, { ...step, status: 'skipped' });
    else if (
      runStatus !== 'success' &&
      (step.status === 'running' || step.status === 'waiting' || step.status === 'suspended')
    ) {
      setOwn(steps, id, { ...step, status: 'canceled' });
    }
  }
}

function withStep(snapshot: RunSnapshot, step: StepSnapshot, at: Date, current: boolean): RunSnapshot {
  const state = snapshot.payload.workflowState;
  return {
    runId: snapshot.runId,
    ...(snapshot.stepGraph === undefined ? {} : { stepGraph: snapshot.stepGraph }),
    eventTimestamp: eventTime(step) ?? at,
    payload: {
      currentStep: current
        ? { id: step.id, status: step.status, output: step.output, payload: step.payload }
        : snapshot.payload.currentStep,
      workflowState: { ...state, steps: withOwn(state.steps, step.id, step) },
    },
  };
}

function withState(snapshot: RunSnapshot, state: WorkflowState, at: Date): RunSnapshot {
  return {
    runId: snapshot.runId,
    ...(snapshot.stepGraph === undefined ? {} : { stepGraph: snapshot.stepGraph }),
    eventTimestamp: at.getTime() > snapshot.eventTimestamp.getTime() ? at : snapshot.eventTimestamp,
    payload: { currentStep: snapshot.payload.currentStep, workflowState: state },
  };
}

function eventTime(step: StepSnapshot): Date | undefined {
  return step.endedAt ?? step.suspendedAt ?? step.resumedAt ?? step.startedAt;
}

function withOwn(
  steps: Record<string, StepSnapshot>,
  id: string,
  step: StepSnapshot,
): Record<string, StepSnapshot> {
  const copy = copyRecord(steps);
  setOwn(copy, id, step);
  return copy;
}

/** `writer.write` records carry only `stepName`; nested steps are keyed `"outer.inner"`. */
function findStepId(steps: Record<string, StepSnapshot>, stepName: string): string | undefined {
  if (own(steps, stepName)) return stepName;
  const ids = Object.keys(steps).filter((id) => id.endsWith(`.${stepName}`));
  return ids.find((id) => own(steps, id)?.status === 'running') ?? ids[0];
}

function failedStepError(state: WorkflowState): SerializedError | undefined {
  return Object.values(state.steps).find((s) => s.status === 'failed' && s.error)?.error;
}

function errorFrom(
  error: SerializedError | undefined,
  message: string | undefined,
): SerializedError | undefined {
  if (error && typeof error.message === 'string' && error.message) return error;
  if (message) return { ...(error ?? {}), message };
  return undefined;
}

/**
 * The graph a run is shown with: the one stored with the run (from the process that runs it) when
 * there is one, kept as the same object while it does not change, so its display tree is built once.
 */
function sameGraph(
  stored: readonly unknown[] | undefined,
  known: readonly unknown[] | undefined,
): readonly unknown[] | undefined {
  if (!stored || stored.length === 0) return known;
  if (known && known.length === stored.length && JSON.stringify(known) === JSON.stringify(stored))
    return known;
  return stored;
}

/** A `.foreach()` step's iteration statuses, from the `foreachOutput` Mastra keeps with its suspension. */
function foreachIterations(suspendPayload: Record<string, unknown> | undefined): StepStatus[] | undefined {
  const meta = suspendPayload?.__workflow_meta;
  if (!isRecord(meta) || !Array.isArray(meta.foreachOutput)) return undefined;
  return meta.foreachOutput.map((r) =>
    isRecord(r) && typeof r.status === 'string' && (RUN_STATUSES as readonly string[]).includes(r.status)
      ? (r.status as StepStatus)
      : 'pending',
  );
}
