/**
 * A run's state read from a run list, without asking for the run itself. Each item of
 * `GET /workflows/:id/runs` carries the run's stored snapshot; `GET /workflows/:id/runs/:runId` is
 * built by the server from that same snapshot: the status, result and error as stored, the input
 * as `payload`, the stored step results (without the input and the internal `__state`, each step
 * cleaned of `__state`, `__stateDelta` and the `nestedRunId` in its metadata), the graph and the
 * paths. `listedRunState` does the same here, so a list already fetched tells the state of every
 * run in it — thousands of runs ending at once cost a few pages, not a read each.
 *
 * Not for runs with nested workflows: the server adds the steps of each nested run, read from that
 * run's own snapshot, which a list of the parent does not carry. Those (and any item that does not
 * read as a run's state) give `undefined`: read the run itself.
 */
import { isRecord } from '../util/is-record.ts';
import { runStateSchema } from './schemas.ts';
import type { WorkflowRunState, WorkflowRunSummary } from './types.ts';

export function listedRunState(run: WorkflowRunSummary): WorkflowRunState | undefined {
  const snapshot = run.snapshot;
  if (hasNestedWorkflow(snapshot.serializedStepGraph)) return undefined;
  const context = isRecord(snapshot.context) ? snapshot.context : {};
  const steps: Record<string, unknown> = {};
  for (const [stepId, result] of Object.entries(context)) {
    if (stepId === 'input' || stepId === '__state') continue;
    if (isNestedRunResult(result)) return undefined;
    Object.defineProperty(steps, stepId, { value: cleanStep(result), enumerable: true, writable: true });
  }
  const value = isRecord(snapshot.value) ? snapshot.value : {};
  const parsed = runStateSchema.safeParse({
    runId: run.runId,
    workflowName: run.workflowName,
    resourceId: run.resourceId,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    status: run.status,
    ...(Object.keys(value).length > 0 ? { initialState: value } : {}),
    result: snapshot.result,
    error: snapshot.error,
    payload: context.input,
    steps,
    activeStepsPath: snapshot.activeStepsPath,
    serializedStepGraph: snapshot.serializedStepGraph,
    suspendedPaths: snapshot.suspendedPaths,
    resumeLabels: snapshot.resumeLabels,
    waitingPaths: snapshot.waitingPaths,
  });
  return parsed.success ? withoutUndefined(parsed.data) : undefined;
}

/** Whether a serialized step graph holds a nested workflow anywhere (in branches, loops, `.foreach()`). */
function hasNestedWorkflow(graph: unknown): boolean {
  if (Array.isArray(graph)) return graph.some(hasNestedWorkflow);
  if (!isRecord(graph)) return false;
  if (graph.type === 'workflow' || graph.component === 'WORKFLOW' || graph.isWorkflow === true) return true;
  return Object.values(graph).some((v) => typeof v === 'object' && v !== null && hasNestedWorkflow(v));
}

/** A step result that points at a nested run (its steps live in that run's snapshot). */
function isNestedRunResult(result: unknown): boolean {
  if (Array.isArray(result)) return result.some(isNestedRunResult);
  return isRecord(result) && isRecord(result.metadata) && result.metadata.nestedRunId !== undefined;
}

function cleanStep(result: unknown): unknown {
  if (Array.isArray(result)) return result.map((item) => (isRecord(item) ? cleanOne(item) : item));
  if (!isRecord(result)) return result;
  const cleaned = cleanOne(result);
  if (Array.isArray(cleaned.output))
    cleaned.output = cleaned.output.map((item) => (isRecord(item) ? cleanOne(item) : item));
  return cleaned;
}

function cleanOne(result: Record<string, unknown>): Record<string, unknown> {
  const { __state: _state, __stateDelta: _delta, metadata, ...rest } = result;
  if (isRecord(metadata)) {
    const { nestedRunId: _nested, ...own } = metadata;
    if (Object.keys(own).length > 0) return { ...rest, metadata: own };
  }
  return rest;
}

/** The server's JSON has no `undefined` fields: neither does a state read from a list. */
function withoutUndefined(state: WorkflowRunState): WorkflowRunState {
  for (const key of Object.keys(state) as (keyof WorkflowRunState)[])
    if (state[key] === undefined) delete state[key];
  return state;
}
