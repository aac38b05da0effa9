/**
 * Which questions a run is waiting on, one `Suspension` per question: the exact resume path, the
 * `.foreach()` iteration, when it was asked, its payload and resume label. Built from the event
 * stream and from `runById` (docs/mastra.md: Suspension and closeOnSuspend, Nested workflows, Foreach). Pure, used by the run reducer.
 *
 * What Mastra sends (captured in test/runs/fixtures/suspensions.json):
 * - a plain step: `workflow-step-suspended` with its payload and `suspendedAt`; a loop asking again
 *   sends another one with a new `suspendedAt` (and the *previous* `resumePayload`).
 * - a nested step: the inner step's event (`id: "inner.inner-approve"`), then the parent's with
 *   `__workflow_meta.path`; the resume path is `[parent, ...path]`.
 * - a `.foreach()` step whose iterations suspend: one `workflow-step-progress` per iteration
 *   (`iterationStatus: 'suspended'`, `currentIndex`, no payload), then ONE `workflow-step-suspended`
 *   with the lowest suspended iteration's payload. Every iteration's payload and `suspendedAt` is
 *   only in `runById`: `steps[id].suspendPayload.__workflow_meta.foreachOutput[i]`; labels are in
 *   the run's `resumeLabels` (`{ label: { stepId, foreachIndex? } }`).
 */
import type {
  StepEventPayload,
  StepPath,
  StepStatus,
  Suspension,
  WorkflowRunState,
} from '../mastra/types.ts';
import { isRecord } from '../util/is-record.ts';
import { emptyRecord, own, setOwn } from '../util/safe-objects.ts';

/** One step's progress event (a `.foreach()` iteration). */
export interface IterationProgress {
  id: string;
  totalCount: number;
  currentIndex: number;
  iterationStatus: StepStatus;
}

// ---------------------------------------------------------------------------------------------
// Keys: one string per question, for answer records, claims and once-marks.

/**
 * The key of one question: `<dotted path>[<iteration>]#<suspendedAt ms>` (`approve#1796…`,
 * `review-item[1]#1796…`). A new suspension of the same step (a loop asking again) is a new key.
 */
export function suspensionKey(s: Pick<Suspension, 'path' | 'forEachIndex' | 'suspendedAt'>): string {
  return `${questionKey(s)}#${s.suspendedAt?.getTime() ?? ''}`;
}

/** The step and iteration a question is about, whenever it was asked: `review-item[1]`, `approve`. */
export function questionKey(s: Pick<Suspension, 'path' | 'forEachIndex'>): string {
  return `${s.path.join('.')}${s.forEachIndex === undefined ? '' : `[${s.forEachIndex}]`}`;
}

export interface ParsedKey {
  /** The step path joined with ".". */
  step: string;
  forEachIndex?: number;
  suspendedAt: number | null;
}

/** Reads a `suspensionKey` back (any other text: all of it is the step, asked at an unknown time). */
export function parseSuspensionKey(key: string): ParsedKey {
  const match = /^(.*?)(?:\[(\d{1,9})\])?#(\d{0,16})$/s.exec(key);
  if (!match) return { step: key, suspendedAt: null };
  const [, step = '', index, at = ''] = match;
  return {
    step,
    ...(index === undefined ? {} : { forEachIndex: Number(index) }),
    suspendedAt: at === '' ? null : Number(at),
  };
}

/** Same step and iteration (perhaps asked at another time). */
export function sameQuestion(
  a: Pick<Suspension, 'path' | 'forEachIndex'>,
  b: Pick<Suspension, 'path' | 'forEachIndex'>,
): boolean {
  return questionKey(a) === questionKey(b);
}

// ---------------------------------------------------------------------------------------------
// From runById

/** Every question a stored run waits on (docs/mastra.md: Run state, Nested workflows, Foreach), foreach iterations one by one. */
export function suspensionsOf(run: Pick<WorkflowRunState, 'steps' | 'resumeLabels'>): Suspension[] {
  const steps = run.steps ?? {};
  const labels = labelsOf(run.resumeLabels);
  const out: Suspension[] = [];
  const covered = new Set<string>();
  for (const [id, step] of Object.entries(steps)) {
    const meta = workflowMeta(step.suspendPayload);
    const metaPath = pathOf(meta);
    const iterations = Array.isArray(meta?.foreachOutput) ? meta.foreachOutput : undefined;
    const path = metaPath ? [id, ...metaPath] : [id];
    if (iterations && step.status === 'suspended') {
      const total = Array.isArray(step.payload) ? step.payload.length : iterations.length;
      iterations.forEach((entry, index) => {
        if (!isRecord(entry) || entry.status !== 'suspended') return;
        const at = dateOf(entry.suspendedAt);
        const label = labelFor(labels, path, index);
        out.push({
          path,
          forEachIndex: index,
          forEachTotal: total,
          ...(at ? { suspendedAt: at } : {}),
          ...payloadOf(entry.suspendPayload),
          ...(label ? { resumeLabel: label } : {}),
        });
      });
      covered.add(path.join('.'));
    } else if (metaPath && (step.status === 'suspended' || step.status === 'running')) {
      // A nested step: its own entry (`"inner.inner-approve"`) has the clean payload and the time.
      const inner = steps[path.join('.')];
      out.push(question(path, inner?.status === 'suspended' ? inner : step, labels));
      covered.add(path.join('.'));
    }
  }
  for (const [id, step] of Object.entries(steps)) {
    if (step.status !== 'suspended' || workflowMeta(step.suspendPayload) || covered.has(id)) continue;
    out.push(question([id], step, labels));
  }
  return out;
}

function question(
  path: StepPath,
  source: { suspendedAt?: Date; suspendPayload?: unknown },
  labels: Record<string, Label>,
): Suspension {
  const label = labelFor(labels, path, undefined);
  return {
    path,
    ...(source.suspendedAt ? { suspendedAt: source.suspendedAt } : {}),
    ...payloadOf(source.suspendPayload),
    ...(label ? { resumeLabel: label } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// From the event stream

/**
 * The questions after one step event. A suspension is added (or replaced); a step (re)started
 * afresh or finished has no questions left; a step resumed keeps its other iterations' questions
 * (resuming one `.foreach()` iteration leaves the others waiting).
 */
export function withStepEvent(
  suspended: Suspension[],
  payload: StepEventPayload,
  steps?: Readonly<Record<string, unknown>>,
): Suspension[] {
  const id = payload.id;
  const ofStep = (s: Suspension) => s.path.join('.') === id || s.path[0] === id;
  const isPlain = (s: Suspension, key: string) => s.forEachIndex === undefined && s.path.join('.') === key;
  if (payload.status === 'suspended') {
    const metaPath = pathOf(workflowMeta(payload.suspendPayload));
    const details: Suspension = {
      path: eventPath(id, steps),
      ...(payload.suspendedAt ? { suspendedAt: payload.suspendedAt } : {}),
      ...payloadOf(payload.suspendPayload),
    };
    if (metaPath) {
      const path = [id, ...metaPath];
      const key = path.join('.');
      // The inner step's own event came first, with the clean payload and its own time.
      const inner = suspended.find((s) => isPlain(s, key));
      const next: Suspension = inner ? { ...inner, path } : { ...details, path };
      return [...suspended.filter((s) => !isPlain(s, key) && !isPlain(s, id)), next];
    }
    const iterations = suspended.filter((s) => s.path.join('.') === id && s.forEachIndex !== undefined);
    const current =
      iterations.length > 0
        ? // A `.foreach()` step: the event carries its lowest suspended iteration (Mastra's order).
          iterations.reduce((a, b) => (b.forEachIndex! < a.forEachIndex! ? b : a))
        : suspended.find((s) => isPlain(s, id));
    const sameTime = current?.suspendedAt?.getTime() === details.suspendedAt?.getTime();
    const next: Suspension = {
      ...(current && (sameTime || current.forEachIndex !== undefined) ? current : {}),
      ...details,
      path: current?.path ?? details.path,
    };
    if (current && sameDetails(current, next)) return suspended;
    if (current) return suspended.map((s) => (s === current ? next : s));
    return [...suspended, next];
  }
  if (payload.status === 'running' && payload.resumedAt !== undefined) {
    const kept = suspended.filter((s) => !ofStep(s) || s.forEachIndex !== undefined);
    return kept.length === suspended.length ? suspended : kept;
  }
  const kept = suspended.filter((s) => !ofStep(s));
  return kept.length === suspended.length ? suspended : kept;
}

/** The questions after a `.foreach()` iteration's progress: a suspended iteration is a question of its own. */
export function withProgressEvent(suspended: Suspension[], progress: IterationProgress): Suspension[] {
  const { id, currentIndex: index } = progress;
  const isIteration = (s: Suspension) => s.path.join('.') === id && s.forEachIndex === index;
  if (progress.iterationStatus === 'suspended') {
    if (suspended.some(isIteration)) return suspended;
    const next: Suspension = { path: [id], forEachIndex: index, forEachTotal: progress.totalCount };
    // A step-level question of the same step (an event seen out of order) gives way to its iterations.
    return [...suspended.filter((s) => !(s.forEachIndex === undefined && s.path.join('.') === id)), next];
  }
  const kept = suspended.filter((s) => !isIteration(s));
  return kept.length === suspended.length ? suspended : kept;
}

/**
 * The step path a step event's id stands for. A step inside a nested workflow has the id
 * `<parent>.<child>` (`inner.inner-approve`), and its own event comes before its parent's (which
 * carries the path in `__workflow_meta`): when the id's first segment is a step of the run, the
 * path is its segments, so the question is never named, mentioned or decided on as one joined name.
 */
function eventPath(id: string, steps: Readonly<Record<string, unknown>> | undefined): StepPath {
  const dot = id.indexOf('.');
  if (dot <= 0 || !steps || own(steps, id.slice(0, dot)) === undefined) return [id];
  return id.split('.');
}

function sameDetails(a: Suspension, b: Suspension): boolean {
  return (
    a.suspendedAt?.getTime() === b.suspendedAt?.getTime() &&
    JSON.stringify(a.payload) === JSON.stringify(b.payload) &&
    a.resumeLabel === b.resumeLabel
  );
}

// ---------------------------------------------------------------------------------------------

/** A suspend payload without Mastra's `__workflow_meta`. */
export function withoutWorkflowMeta(payload: Record<string, unknown>): Record<string, unknown> {
  if (!('__workflow_meta' in payload)) return payload;
  const { __workflow_meta: _meta, ...rest } = payload;
  return rest;
}

function payloadOf(value: unknown): { payload?: Record<string, unknown> } {
  return isRecord(value) ? { payload: withoutWorkflowMeta(value) } : {};
}

function workflowMeta(suspendPayload: unknown): Record<string, unknown> | undefined {
  if (!isRecord(suspendPayload)) return undefined;
  const meta = suspendPayload.__workflow_meta;
  return isRecord(meta) ? meta : undefined;
}

function pathOf(meta: Record<string, unknown> | undefined): string[] | undefined {
  if (!meta || !Array.isArray(meta.path)) return undefined;
  const path = meta.path.filter((p): p is string => typeof p === 'string');
  return path.length > 0 ? path : undefined;
}

interface Label {
  stepId: string;
  foreachIndex?: number;
}

/** `resumeLabels` as the run has them: `{ label: { stepId, foreachIndex? } }`, without prototype. */
function labelsOf(value: unknown): Record<string, Label> {
  const labels = emptyRecord<Label>();
  if (!isRecord(value)) return labels;
  for (const [label, target] of Object.entries(value)) {
    if (!isRecord(target) || typeof target.stepId !== 'string') continue;
    const index = target.foreachIndex;
    setOwn(labels, label, {
      stepId: target.stepId,
      ...(typeof index === 'number' && Number.isSafeInteger(index) ? { foreachIndex: index } : {}),
    });
  }
  return labels;
}

/** The label of a question: one naming its step (the outer or the inner id of a nested path) and iteration. */
function labelFor(
  labels: Record<string, Label>,
  path: StepPath,
  index: number | undefined,
): string | undefined {
  for (const [label, target] of Object.entries(labels)) {
    if (target.foreachIndex !== index) continue;
    if (target.stepId === path[0] || target.stepId === path.at(-1) || target.stepId === path.join('.'))
      return label;
  }
  return undefined;
}

/** Nested timestamps of `foreachOutput` come as epoch ms (the client revives only the top level). */
function dateOf(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
