/**
 * Durations as the policy file writes them: one or more `<number><unit>` parts, units `s`, `m`, `h`,
 * `d` (`90s`, `30m`, `4h`, `2d`, `1h30m`). Whole seconds are the smallest unit: a step that waits for a
 * person never needs a finer grain, and tests use `1s`–`3s`.
 */

const PART = /(\d+)\s*(d|h|m|s)/gy;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION_EXPECTED = 'a duration such as 90s, 30m, 4h, 2d or 1h30m (units s, m, h, d)';

/** Milliseconds, or undefined when `text` is not a duration of at least one second. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (let match = PART.exec(trimmed); match; match = PART.exec(trimmed)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    end = PART.lastIndex;
    while (trimmed[end] === ' ') end += 1;
    PART.lastIndex = end;
  }
  if (end !== trimmed.length || total < 1000 || !Number.isSafeInteger(total)) return undefined;
  return total;
}

/** A duration in words for people: "3 days", "4 h", "1 h 30 min", "90 s" (largest units, two at most). */
export function durationWords(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms / 1000)) * 1000;
  const units: [number, (n: number) => string][] = [
    [UNIT_MS.d, (n) => (n === 1 ? '1 day' : `${n} days`)],
    [UNIT_MS.h, (n) => `${n} h`],
    [UNIT_MS.m, (n) => `${n} min`],
    [UNIT_MS.s, (n) => `${n} s`],
  ];
  for (const [size, say] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(say(n));
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.length === 0 ? '0 s' : parts.join(' ');
}
