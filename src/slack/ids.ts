/**
 * Every action id and view callback id Flowgate uses, and the refs its buttons carry: typed once, here.
 *
 * Refs are short handles, whatever the ids they stand for: a button on a progress message names
 * nothing but which of the run's suspensions it answers (the run is the one Flowgate recorded for
 * that message); a Start button names a workflow by a hash of its key (resolved against the
 * catalog). Forms carry nothing at all: what a form is for is recorded when it opens, under the id
 * Slack gives the view. None of it is ever authorization: every click and submission is checked
 * against what Flowgate recorded.
 */
import { createHash } from 'node:crypto';
import type { Suspension } from '../mastra/types.ts';

export const ACTION = {
  start: 'flowgate_start',
  cancel: 'flowgate_cancel',
  respond: 'flowgate_respond',
  approve: 'flowgate_approve',
  reject: 'flowgate_reject',
} as const;

export const VIEW = {
  startForm: 'flowgate_start_form',
  answerForm: 'flowgate_answer_form',
  loading: 'flowgate_loading',
} as const;

/**
 * What a question's buttons carry: the run (by handle), the step (by handle), the `.foreach()`
 * iteration, and when it was asked (ms, or null) — together they name exactly the suspension the
 * person saw.
 */
export interface SuspensionRef {
  /** `handleOf(run id)`: whose message the button was put on (absent from buttons posted before it was added). */
  r?: string;
  /** `handleOf(step path)`. */
  h: string;
  /** The `.foreach()` iteration, for a step whose iterations each wait for an answer. */
  i?: number;
  /** `suspendedAt` in epoch ms as shown, so an answer goes to exactly the suspension the person saw. */
  t: number | null;
}

/** What a Start button carries: the workflow, by `handleOf(registry key)`. */
export interface StartRef {
  w: string;
}

/** A short, stable handle (12 base64url characters) for an id or a path of any length. */
export function handleOf(parts: string | readonly string[]): string {
  const text = typeof parts === 'string' ? parts : parts.join('\u001f');
  return createHash('sha256').update(text).digest('base64url').slice(0, 12);
}

export function suspensionRef(s: Pick<Suspension, 'path' | 'forEachIndex' | 'suspendedAt'>): SuspensionRef {
  return {
    h: handleOf(s.path),
    ...(s.forEachIndex === undefined ? {} : { i: s.forEachIndex }),
    t: s.suspendedAt?.getTime() ?? null,
  };
}

/** The value of a question's buttons on the message of run `runId`. */
export function encodeSuspensionRef(
  runId: string,
  s: Pick<Suspension, 'path' | 'forEachIndex' | 'suspendedAt'>,
): string {
  return JSON.stringify({ r: handleOf(runId), ...suspensionRef(s) });
}

/** Whether `ref` names this suspension: same step, same iteration, asked at the same moment. */
export function refersTo(
  ref: SuspensionRef,
  s: Pick<Suspension, 'path' | 'forEachIndex' | 'suspendedAt'>,
): boolean {
  return (
    ref.h === handleOf(s.path) && ref.i === s.forEachIndex && ref.t === (s.suspendedAt?.getTime() ?? null)
  );
}

export function encodeStartRef(workflowKey: string): string {
  const ref: StartRef = { w: handleOf(workflowKey) };
  return JSON.stringify(ref);
}

/** Parses a step button's value; `undefined` for anything malformed (forged payloads). */
export function decodeSuspensionRef(value: unknown): SuspensionRef | undefined {
  const parsed = parse(value);
  if (!parsed || !isHandle(parsed.h)) return;
  const { t, i, r } = parsed;
  if (t !== null && !(typeof t === 'number' && Number.isSafeInteger(t))) return;
  if (i !== undefined && !(typeof i === 'number' && Number.isSafeInteger(i) && i >= 0)) return;
  if (r !== undefined && !isHandle(r)) return;
  return { ...(r === undefined ? {} : { r }), h: parsed.h, ...(i === undefined ? {} : { i }), t };
}

export function decodeStartRef(value: unknown): StartRef | undefined {
  const parsed = parse(value);
  if (!parsed || !isHandle(parsed.w)) return;
  return { w: parsed.w };
}

function isHandle(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{12}$/.test(value);
}

function parse(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string' || value.length > 200) return;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return;
  }
}

/**
 * The block id of a question's buttons: readable for plain short ids (`flowgate_step:approve`,
 * `flowgate_step:review-item#1` for an iteration), else a handle; unique per step and iteration.
 */
export function stepBlockId(s: Pick<Suspension, 'path' | 'forEachIndex'>): string {
  const key = `${s.path.join('.')}${s.forEachIndex === undefined ? '' : `#${s.forEachIndex}`}`;
  return key.length <= 64 && /^[\w.-]+(#\d+)?$/.test(key)
    ? `flowgate_step:${key}`
    : `flowgate_step#${handleOf(s.forEachIndex === undefined ? s.path : [...s.path, `#${s.forEachIndex}`])}`;
}
