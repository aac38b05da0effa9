/** Small helpers shared by the benchmarks. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

let gcFn: (() => void) | undefined;

/** A full GC, exposed at runtime when node was not started with `--expose-gc`. */
export function gc(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) {
      gcFn = g;
    } else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

/** Runs `fn` `warmup` times untimed, then `runs` times (a GC before each); returns each run's ms. */
export async function timeRuns(fn: () => Promise<unknown>, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    gc();
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * Times several contenders fairly: one warm-up each, then `runs` rounds in which each runs once
 * (a GC before each), in turn. Returns the median ms per contender.
 */
export async function compare<K extends string>(
  contenders: Record<K, () => Promise<unknown>>,
  runs: number,
): Promise<Record<K, number>> {
  const keys = Object.keys(contenders) as K[];
  for (const k of keys) await contenders[k]();
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < runs; r++) {
    for (const k of keys) {
      gc();
      const t0 = performance.now();
      await contenders[k]();
      times[k].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, median(times[k])])) as Record<K, number>;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** A markdown table from a header row and rows. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * A benchmark's markdown: the `header` lines, then the sections named in `only` (every one when
 * none is named), in order.
 */
export async function runSections(
  header: readonly string[],
  sections: Record<string, () => Promise<string>>,
  only: readonly string[] = [],
): Promise<string> {
  const names = only.length > 0 ? only : Object.keys(sections);
  const parts = [...header];
  for (const name of names) {
    const section = sections[name];
    if (!section) throw new Error(`unknown section ${name}; choose from ${Object.keys(sections).join(', ')}`);
    parts.push('', await section());
  }
  return parts.join('\n');
}
