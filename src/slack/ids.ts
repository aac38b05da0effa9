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

/** What a suspended step's buttons carry: the step (by handle) and when it suspended (ms, or null). */
export interface SuspensionRef {
  /** `handleOf(step path)`. */
  h: string;
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

export function encodeSuspensionRef(path: readonly string[], suspendedAt: Date | undefined): string {
  const ref: SuspensionRef = { h: handleOf(path), t: suspendedAt?.getTime() ?? null };
  return JSON.stringify(ref);
}

export function encodeStartRef(workflowKey: string): string {
  const ref: StartRef = { w: handleOf(workflowKey) };
  return JSON.stringify(ref);
}

/** Parses a step button's value; `undefined` for anything malformed (forged payloads). */
export function decodeSuspensionRef(value: unknown): SuspensionRef | undefined {
  const parsed = parse(value);
  if (!parsed || !isHandle(parsed.h)) return;
  const t = parsed.t;
  if (t !== null && !(typeof t === 'number' && Number.isSafeInteger(t))) return;
  return { h: parsed.h, t };
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

/** The block id of a suspended step's buttons: readable for plain short ids, else a handle; unique per step. */
export function stepBlockId(path: readonly string[]): string {
  const key = path.join('.');
  return key.length <= 64 && /^[\w.-]+$/.test(key)
    ? `flowgate_step:${key}`
    : `flowgate_step#${handleOf(path)}`;
}
