/** Every action id and view callback id Flowgate uses, and the values they carry: typed once, here. */

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

/** What a run's buttons carry in `value` (≤ 2000 chars) and a form in `private_metadata` (≤ 3000). */
export interface RunRef {
  /** Workflow registry key. */
  w: string;
  /** Run id. */
  r: string;
}
export interface StepRef extends RunRef {
  /** Exact resume path of the suspended step. */
  s: string[];
}
export interface StartRef {
  w: string;
  /** Channel to post the progress message in. */
  c: string;
}

export function encodeRef(ref: RunRef | StepRef | StartRef): string {
  return JSON.stringify(ref);
}

/** Parses a button value or private_metadata; `undefined` for anything malformed (forged payloads). */
export function decodeRunRef(value: unknown): RunRef | undefined {
  const parsed = parse(value);
  if (!parsed || typeof parsed.w !== 'string' || typeof parsed.r !== 'string' || !parsed.w || !parsed.r)
    return;
  return { w: parsed.w, r: parsed.r };
}

export function decodeStepRef(value: unknown): StepRef | undefined {
  const run = decodeRunRef(value);
  const parsed = parse(value);
  if (!run || !parsed || !Array.isArray(parsed.s) || parsed.s.length === 0) return;
  if (!parsed.s.every((p): p is string => typeof p === 'string' && p.length > 0)) return;
  return { ...run, s: parsed.s };
}

export function decodeStartRef(value: unknown): StartRef | undefined {
  const parsed = parse(value);
  if (!parsed || typeof parsed.w !== 'string' || typeof parsed.c !== 'string' || !parsed.w) return;
  return { w: parsed.w, c: parsed.c };
}

function parse(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string' || value.length > 3000) return;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return;
  }
}
