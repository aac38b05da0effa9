/**
 * The workflows on the Mastra server, as Flowgate users name them: matched by registry key or id,
 * case-insensitively, with a "did you mean" for typos. Lists and details are cached briefly so a
 * click or a form never waits on the server for what it asked a moment ago.
 */

import type { MastraClient } from './mastra/client.ts';
import type { JsonSchema, WorkflowInfo } from './mastra/types.ts';
import { own } from './util/safe-objects.ts';

export interface CatalogEntry {
  /** Registry key: what the API is addressed by. */
  key: string;
  /** The workflow's own id (`name` in the API). */
  id: string;
  description?: string;
  stepCount: number;
}

export type Match = { ok: true; entry: CatalogEntry } | { ok: false; suggestion?: CatalogEntry };

/** Exact (case-insensitive) key or id first, then the closest name within a small edit distance. */
export function matchWorkflow(entries: readonly CatalogEntry[], name: string): Match {
  const wanted = name.trim().toLowerCase();
  const exact = entries.find((e) => e.key.toLowerCase() === wanted || e.id.toLowerCase() === wanted);
  if (exact) return { ok: true, entry: exact };
  let best: { entry: CatalogEntry; distance: number } | undefined;
  for (const entry of entries) {
    for (const candidate of [entry.key, entry.id]) {
      const c = candidate.toLowerCase();
      const distance = c.includes(wanted) || wanted.includes(c) ? 1 : editDistance(c, wanted);
      if (!best || distance < best.distance) best = { entry, distance };
    }
  }
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return best && best.distance <= limit ? { ok: false, suggestion: best.entry } : { ok: false };
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** The resume schema of a suspended step: nested steps are found in `allSteps` by their dotted path. */
export function resumeSchemaOf(info: WorkflowInfo, path: readonly string[]): JsonSchema | undefined {
  const key = path.join('.');
  return (
    own(info.allSteps, key)?.resumeSchema ??
    own(info.steps, key)?.resumeSchema ??
    own(info.allSteps, path.at(-1) ?? '')?.resumeSchema
  );
}

export class WorkflowCatalog {
  readonly #client: MastraClient;
  readonly #ttlMs: number;
  #list: { at: number; entries: Promise<CatalogEntry[]> } | undefined;
  readonly #details = new Map<string, { at: number; info: Promise<WorkflowInfo> }>();

  constructor(client: MastraClient, options: { ttlMs?: number } = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? 30_000;
  }

  list(): Promise<CatalogEntry[]> {
    if (this.#list && Date.now() - this.#list.at < this.#ttlMs) return this.#list.entries;
    const entries = this.#client.listWorkflows({ partial: true }).then((all) =>
      Object.entries(all)
        .map(([key, info]) => ({
          key,
          id: info.name,
          ...(info.description ? { description: info.description } : {}),
          stepCount: Object.keys(info.steps ?? {}).length || info.stepGraph?.length || 0,
        }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    );
    this.#list = { at: Date.now(), entries };
    entries.catch(() => {
      if (this.#list?.entries === entries) this.#list = undefined;
    });
    return entries;
  }

  async resolve(name: string): Promise<Match & { entries: CatalogEntry[] }> {
    const entries = await this.list();
    return { ...matchWorkflow(entries, name), entries };
  }

  /** Full details (decoded schemas) of a workflow by registry key. */
  details(key: string): Promise<WorkflowInfo> {
    const cached = this.#details.get(key);
    if (cached && Date.now() - cached.at < this.#ttlMs) return cached.info;
    const info = this.#client.getWorkflow(key).details();
    this.#details.set(key, { at: Date.now(), info });
    info.catch(() => {
      if (this.#details.get(key)?.info === info) this.#details.delete(key);
    });
    return info;
  }
}
