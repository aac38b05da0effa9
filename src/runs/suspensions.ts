/**
 * Which questions a run is waiting on: the exact resume paths of its suspended steps, from the event
 * stream and from `runById` (CONTRACT §3.4). Pure, used by the run reducer.
 */
import type { StepEventPayload, StepPath, StepStatus } from '../mastra/types.ts';

/** Exact resume paths of the suspended steps in a `runById().steps` map (CONTRACT §3.4). */
export function suspendedPathsOf(
  steps: Record<string, { status: StepStatus; suspendPayload?: unknown }>,
): StepPath[] {
  const paths: StepPath[] = [];
  const covered = new Set<string>();
  for (const [id, step] of Object.entries(steps)) {
    const meta = workflowMetaPath(step.suspendPayload);
    if (meta && (step.status === 'suspended' || step.status === 'running')) {
      const path = [id, ...meta];
      paths.push(path);
      covered.add(path.join('.'));
    }
  }
  for (const [id, step] of Object.entries(steps)) {
    if (step.status !== 'suspended' || workflowMetaPath(step.suspendPayload) || covered.has(id)) continue;
    paths.push([id]);
  }
  return paths;
}

/** The suspended paths after one step event: a suspension is added (or replaced), any other status clears the step's. */
export function withStepEvent(suspended: StepPath[], payload: StepEventPayload): StepPath[] {
  if (payload.status === 'suspended') {
    const meta = workflowMetaPath(payload.suspendPayload);
    const path = meta ? [payload.id, ...meta] : [payload.id];
    const key = path.join('.');
    return [...suspended.filter((p) => p.join('.') !== key && p.join('.') !== payload.id), path];
  }
  return suspended.filter((p) => p.join('.') !== payload.id && p[0] !== payload.id);
}

function workflowMetaPath(suspendPayload: unknown): string[] | undefined {
  if (!isRecord(suspendPayload)) return undefined;
  const meta = suspendPayload.__workflow_meta;
  if (!isRecord(meta) || !Array.isArray(meta.path)) return undefined;
  const path = meta.path.filter((p): p is string => typeof p === 'string');
  return path.length > 0 ? path : undefined;
}

export function withoutWorkflowMeta(payload: Record<string, unknown>): Record<string, unknown> {
  if (!('__workflow_meta' in payload)) return payload;
  const { __workflow_meta: _meta, ...rest } = payload;
  return rest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
