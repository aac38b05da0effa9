/**
 * Reading the policy: the file at `FLOWGATE_POLICY` (YAML or JSON; JSON is parsed as YAML, so either
 * works whatever the extension), parsed and checked against the format (src/policy/schema.ts) at
 * start-up; every problem is reported at once with the file, line:column, the key path and what was
 * expected. Also the built-in policy and the admins from the environment merged in.
 */
import { readFileSync, statSync } from 'node:fs';
import {
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import { emptyRecord, setOwn } from '../util/safe-objects.ts';
import { describe, formatPath, policySchema, unique } from './schema.ts';
import type { Policy } from './types.ts';

/** Thrown when a policy file cannot be read or is invalid; `problems` holds one line per problem. */
export class PolicyError extends Error {
  readonly source: string;
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super([`Invalid policy file ${source} (${count}):`, ...problems.map((p) => `  - ${p}`)].join('\n'));
    this.name = 'PolicyError';
    this.source = source;
    this.problems = problems;
  }
}

/** The built-in policy: anyone may start, the starter and admins may cancel, the starter answers. */
export function defaultPolicy(admins: readonly string[] = []): Policy {
  return { source: null, admins: unique(admins), workflows: new Map() };
}

/** A copy of `policy` with `admins` added to its admins. */
export function withAdmins(policy: Policy, admins: readonly string[]): Policy {
  return { ...policy, admins: unique([...policy.admins, ...admins]) };
}

/**
 * Loads the policy file at `path`, or the default policy when no path is given.
 * `options.admins` (e.g. `FLOWGATE_ADMINS`) are merged with the file's `admins`.
 * @throws PolicyError listing every problem.
 */
export function loadPolicy(path?: string, options: { admins?: readonly string[] } = {}): Policy {
  const admins = options.admins ?? [];
  if (path === undefined || path.trim() === '') return defaultPolicy(admins);
  let text: string;
  try {
    const { size } = statSync(path);
    if (size > MAX_POLICY_BYTES) throw new PolicyError(path, [tooBig(path, size)]);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'this is a directory'
          : `cannot be read (${code ?? String(error)})`;
    throw new PolicyError(path, [
      `${path}: ${what}: expected a readable policy file (YAML or JSON), as given by FLOWGATE_POLICY`,
    ]);
  }
  return withAdmins(parsePolicy(text, path), admins);
}

/**
 * Parses and validates policy text (YAML or JSON). `source` names it in error messages.
 * An empty document is the default policy.
 *
 * One way: the YAML document is read into plain data (remembering where each key and value is),
 * the data is checked against one zod schema (`policySchema`), and every zod issue is reported at
 * its key's or value's line:column.
 * @throws PolicyError listing every problem.
 */
export function parsePolicy(text: string, source: string): Policy {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_POLICY_BYTES) throw new PolicyError(source, [tooBig(source, bytes)]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const found: { offset: number; text: string }[] = [];
  /** Problems in file order; those without a position come first. */
  const problems = () => found.sort((a, b) => a.offset - b.offset).map((p) => p.text);
  const report = (offset: number | undefined, message: string) => {
    if (offset === undefined) {
      found.push({ offset: -1, text: `${source}: ${message}` });
      return;
    }
    const { line, col } = lineCounter.linePos(offset);
    found.push({ offset, text: `${source}:${line}:${col}: ${message}` });
  };

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      report(error.pos[0], `${error.message.split('\n')[0]} (the file is not valid YAML or JSON)`);
    }
    throw new PolicyError(source, problems());
  }

  const { data, positions } = readDocument(doc, (offset, path, message) =>
    report(offset, path === null ? message : `${formatPath(path)}: ${message}`),
  );
  if (data === undefined) throw new PolicyError(source, problems()); // aliases refused
  const result = policySchema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path as (string | number)[];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          report(
            positions.get(pathKey([...path, key]))?.key,
            `${formatPath([...path, key])}: ${issue.message}`,
          );
        }
        continue;
      }
      const at = positions.get(pathKey(path));
      const atKey = (issue as { params?: { at?: string } }).params?.at === 'key' || at?.empty;
      report(
        atKey ? (at?.key ?? at?.value) : (at?.value ?? at?.key),
        `${formatPath(path)}: ${issue.message}`,
      );
    }
  }
  if (found.length > 0 || !result.success) throw new PolicyError(source, problems());
  return { source, ...result.data };
}

type Path = readonly (string | number)[];
const pathKey = (path: Path) => JSON.stringify(path);

/** A policy file larger than this is refused before it is parsed. */
export const MAX_POLICY_BYTES = 1024 * 1024;
/** At most this many aliases (`*name`) in a policy file. */
export const MAX_ALIASES = 100;
/** The `yaml` library's own limit on alias expansion (its `maxAliasCount`; its default too). */
const MAX_ALIAS_COUNT = 100;
/** At most this many values read through aliases, each alias counted as often as it is used. */
export const MAX_ALIAS_VALUES = 10_000;

function tooBig(source: string, bytes: number): string {
  const size = bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
  return `${source}: the policy file is ${size}; a policy file may be at most 1 MiB`;
}

const ALIAS_HINT = 'write the values out, or use fewer and less nested aliases';

/**
 * The document as plain data (prototype-free records, aliases followed), and where each value and
 * its key start. Keys must be non-empty strings (the only problem reported here: zod sees strings).
 *
 * Aliases are bounded before anything is expanded: at most `MAX_ALIASES` of them, then the `yaml`
 * library's own limit (`toJS` with `maxAliasCount`, which refuses a "billion laughs" file without
 * expanding it), and `MAX_ALIAS_VALUES` values read through aliases. Each alias is followed to the last
 * anchor before it, found in one pass over the document.
 */
function readDocument(
  doc: ReturnType<typeof parseDocument>,
  /** `path` null: a problem of the whole file, not of one value. */
  problem: (offset: number | undefined, path: Path | null, message: string) => void,
): { data: unknown; positions: Map<string, { key?: number; value?: number; empty?: boolean }> } {
  const positions = new Map<string, { key?: number; value?: number; empty?: boolean }>();
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node | undefined>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor !== undefined) anchors.set(node.anchor, node);
    },
  });
  const aliases = [...targets.keys()];
  const offsetOf = (node: Alias | undefined) => node?.range?.[0];
  if (aliases.length > MAX_ALIASES) {
    problem(offsetOf(aliases[MAX_ALIASES]), null, `more than ${MAX_ALIASES} aliases (*name): ${ALIAS_HINT}`);
    return { data: undefined, positions };
  }
  const unresolved = aliases.filter((alias) => targets.get(alias) === undefined);
  for (const alias of unresolved)
    problem(offsetOf(alias), null, `*${alias.source}: no anchor &${alias.source} before this alias`);
  if (unresolved.length > 0) return { data: undefined, positions };
  if (aliases.length > 0) {
    try {
      doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problem(offsetOf(aliases[0]), null, `the aliases (*name) expand too much (${reason}): ${ALIAS_HINT}`);
      return { data: undefined, positions };
    }
  }
  let expanded = 0;
  let over = false;
  /** `via`: the outermost alias this value is read through. */
  const read = (raw: unknown, path: Path, depth: number, via?: Alias): unknown => {
    if (over) return undefined;
    const through = via ?? (isAlias(raw) ? raw : undefined);
    const node = isAlias(raw) ? targets.get(raw) : raw;
    if (through !== undefined && ++expanded > MAX_ALIAS_VALUES) {
      over = true;
      problem(
        offsetOf(through),
        path,
        `the aliases (*name) expand to more than ${MAX_ALIAS_VALUES.toLocaleString('en-US')} values: ${ALIAS_HINT}`,
      );
      return undefined;
    }
    const at = positions.get(pathKey(path)) ?? {};
    at.value = (node as Node | null | undefined)?.range?.[0] ?? at.value;
    positions.set(pathKey(path), at);
    if (depth > 50) return undefined;
    if (isMap(node)) {
      const out = emptyRecord<unknown>();
      for (const pair of node.items) {
        const key = isAlias(pair.key) ? targets.get(pair.key) : pair.key;
        if (!isScalar(key) || typeof key.value !== 'string' || key.value.trim() === '') {
          problem(
            (key as Node | null)?.range?.[0],
            path,
            `expected keys to be non-empty names, got ${describe(isScalar(key) ? key.value : isSeq(key) ? [] : isMap(key) ? {} : null)}`,
          );
          continue;
        }
        const childPath = [...path, key.value];
        positions.set(pathKey(childPath), { key: key.range?.[0] });
        const value = read(pair.value, childPath, depth + 1, through);
        if (value === null || value === undefined) positions.get(pathKey(childPath))!.empty = true;
        setOwn(out, key.value, value ?? null);
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((item, index) => read(item, [...path, index], depth + 1, through));
    if (isScalar(node)) return node.value;
    return null;
  };
  const data = read(doc.contents, [], 0);
  return { data: over ? undefined : data, positions };
}
