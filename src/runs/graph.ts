/**
 * A workflow's step graph as people read it: `buildTree(stepGraph)` turns Mastra's serialized step
 * graph (`GET /workflows/:id` `stepGraph`, `runById().serializedStepGraph`) into a tree of display
 * nodes — step, parallel group, branch, loop, foreach, nested workflow, sleep, map — and
 * `projectRun(tree, snapshot)` lays a run's reduced step record onto it: one row per node, in the
 * graph's order, each with its state. Renderers draw rows; none guesses structure from step ids.
 * Pure; trees are cached per graph object (one per workflow), never rebuilt per event.
 */
import type { RunSnapshot, StepSnapshot, StepStatus } from '../mastra/types.ts';
import { TERMINAL_RUN_STATUSES } from '../mastra/types.ts';
import { isRecord } from '../util/is-record.ts';
import { own } from '../util/safe-objects.ts';

interface NodeBase {
  /** The step's record key in the run (`"inner.in-a"` for a nested step): its path joined by ".". */
  key: string;
  /** Its path as resume takes it (`['inner', 'in-a']`). */
  path: string[];
  /** Its name as people read it, one segment per nesting level. */
  label: string[];
}

export interface StepNode extends NodeBase {
  kind: 'step';
  canSuspend: boolean;
}
export interface WorkflowNode extends NodeBase {
  kind: 'workflow';
  children: DisplayNode[];
}
export interface MapNode extends NodeBase {
  kind: 'map';
}
export interface SleepNode extends NodeBase {
  kind: 'sleep';
  /** `.sleep(ms)`. */
  duration?: number;
  /** `.sleepUntil(date)`. */
  until?: Date;
  /** The length or end is computed at run time (`.sleep(fn)`, `.sleepUntil(fn)`). */
  computed: boolean;
}
export interface GroupNode {
  kind: 'parallel' | 'branch';
  children: DisplayNode[];
}
export interface LoopNode {
  kind: 'loop';
  loopType: 'dowhile' | 'dountil';
  body: StepNode | WorkflowNode;
}
export interface ForeachNode {
  kind: 'foreach';
  concurrency?: number;
  body: StepNode | WorkflowNode;
}
export type DisplayNode = StepNode | WorkflowNode | MapNode | SleepNode | GroupNode | LoopNode | ForeachNode;

export interface DisplayTree {
  nodes: DisplayNode[];
  /** Every record key the tree names. */
  keys: ReadonlySet<string>;
}

const EMPTY_TREE: DisplayTree = { nodes: [], keys: new Set() };
const trees = new WeakMap<readonly unknown[], DisplayTree>();

/** The tree of `graph`, built once per graph object. */
export function treeOf(graph: readonly unknown[] | undefined): DisplayTree {
  if (!graph || graph.length === 0) return EMPTY_TREE;
  let tree = trees.get(graph);
  if (!tree) {
    tree = buildTree(graph);
    trees.set(graph, tree);
  }
  return tree;
}

/** The display tree of a serialized step graph. Entries of unknown shape are left out. */
export function buildTree(graph: readonly unknown[]): DisplayTree {
  const keys = new Set<string>();
  const nodes = flow(graph, [], [], keys);
  return { nodes, keys };
}

function flow(
  entries: readonly unknown[],
  prefix: string[],
  labels: string[],
  keys: Set<string>,
): DisplayNode[] {
  const nodes: DisplayNode[] = [];
  for (const entry of entries) {
    const node = entryNode(entry, prefix, labels, keys);
    if (node) nodes.push(node);
  }
  // A map is named for what it feeds: the next node's input, or the flow's result.
  nodes.forEach((node, i) => {
    // A map given its own id (`.map(fn, { id })`) keeps it.
    if (node.kind !== 'map' || !isMastraId(node.path.at(-1) ?? '')) return;
    const next = nodes.slice(i + 1).find((n) => n.kind !== 'sleep' && n.kind !== 'map');
    const target = next ? firstName(next) : undefined;
    const what = target ? `${target} input` : prefix.length > 0 ? `${prefix.at(-1)} result` : 'result';
    node.label = [...labels, `map → ${what}`];
  });
  return nodes;
}

function entryNode(
  entry: unknown,
  prefix: string[],
  labels: string[],
  keys: Set<string>,
): DisplayNode | undefined {
  if (!isRecord(entry)) return undefined;
  const named = (id: string): NodeBase => {
    const path = [...prefix, id];
    const key = path.join('.');
    keys.add(key);
    return { key, path, label: [...labels, id] };
  };
  switch (entry.type) {
    case 'parallel':
    case 'conditional': {
      const children = Array.isArray(entry.steps)
        ? entry.steps.map((e) => entryNode(e, prefix, labels, keys)).filter((n) => n !== undefined)
        : [];
      return { kind: entry.type === 'parallel' ? 'parallel' : 'branch', children };
    }
    case 'loop':
    case 'foreach': {
      const body = entryNode(entry.step, prefix, labels, keys);
      if (!body || (body.kind !== 'step' && body.kind !== 'workflow')) return body;
      if (entry.type === 'foreach') {
        const opts = isRecord(entry.opts) ? entry.opts : {};
        return {
          kind: 'foreach',
          ...(typeof opts.concurrency === 'number' ? { concurrency: opts.concurrency } : {}),
          body,
        };
      }
      return { kind: 'loop', loopType: entry.loopType === 'dowhile' ? 'dowhile' : 'dountil', body };
    }
    case 'mapping':
      return typeof entry.id === 'string' ? { kind: 'map', ...named(entry.id) } : undefined;
    case 'sleep':
    case 'sleepUntil': {
      if (typeof entry.id !== 'string') return undefined;
      const base = named(entry.id);
      const node: SleepNode = {
        kind: 'sleep',
        ...base,
        // A sleep given its own id (`.sleep(ms, { id })`) keeps it; Mastra's own read as "sleep".
        label: isMastraId(entry.id) ? [...labels, 'sleep'] : base.label,
        computed: typeof entry.fn === 'string',
      };
      if (typeof entry.duration === 'number') node.duration = entry.duration;
      const until = entry.date;
      if (typeof until === 'string' || typeof until === 'number') {
        const date = new Date(until);
        if (!Number.isNaN(date.getTime())) node.until = date;
      }
      return node;
    }
    case 'workflow': {
      if (typeof entry.id !== 'string') return undefined;
      return nested(named(entry.id), entry.serializedStepFlow, keys);
    }
    case 'step': {
      const step = entry.step;
      if (!isRecord(step) || typeof step.id !== 'string') return undefined;
      const base = named(step.id);
      // Older servers serialize a nested workflow as a step with its own flow.
      if (Array.isArray(step.serializedStepFlow)) return nested(base, step.serializedStepFlow, keys);
      return { kind: 'step', ...base, canSuspend: step.canSuspend === true };
    }
    default:
      // `.agent()`, `.tool()` and other single-step entries carry their id at the top.
      if (typeof entry.id === 'string') return { kind: 'step', ...named(entry.id), canSuspend: false };
      return undefined;
  }
}

function nested(base: NodeBase, flowEntries: unknown, keys: Set<string>): WorkflowNode {
  const children = Array.isArray(flowEntries) ? flow(flowEntries, base.path, base.label, keys) : [];
  return { kind: 'workflow', ...base, children };
}

function firstName(node: DisplayNode): string | undefined {
  switch (node.kind) {
    case 'parallel':
    case 'branch': {
      const names = node.children.map(firstName).filter((n) => n !== undefined);
      return names.length > 0 ? names.join(' + ') : undefined;
    }
    case 'loop':
    case 'foreach':
      return node.body.label.at(-1);
    default:
      return node.label.at(-1);
  }
}

// ---------------------------------------------------------------------------------------------
// A run laid onto its tree

export type RowKind = 'step' | 'workflow' | 'map' | 'sleep' | 'parallel' | 'branch';

/** One line of the step list: a node of the tree with its state, in the graph's order. */
export interface RunRow {
  kind: RowKind;
  /** Nesting depth: children of a group or nested workflow are one deeper. */
  depth: number;
  /** Index of the row this one is listed under (a group or nested workflow), -1 at the top. */
  parent: number;
  label: string[];
  status: StepStatus;
  /** The step's record (absent for groups and steps that have not run). */
  step?: StepSnapshot;
  key?: string;
  /** A branch not taken (shown skipped once the branch decision is known). */
  notTaken?: boolean;
  loop?: { loopType: 'dowhile' | 'dountil'; iterations?: number };
  foreach?: ForeachCounts;
  sleep?: { duration?: number; until?: Date; computed: boolean };
  group?: { size: number; taken?: number };
}

export interface ForeachCounts {
  total?: number;
  done: number;
  waiting: number;
  running: number;
  failed: number;
  concurrency?: number;
}

/**
 * The rows of a run: every node of the tree with its state from the step record, then any step the
 * record has that the tree does not name (a graph from an older version of the workflow, say).
 * Sleep ids change with each server process: a sleep not found by its id takes the next unclaimed
 * sleep record at its level, in order.
 */
export function projectRun(tree: DisplayTree, snapshot: RunSnapshot): RunRow[] {
  const state = snapshot.payload.workflowState;
  const steps = state.steps;
  const terminal = TERMINAL_RUN_STATUSES.has(state.status);
  const sleeps = unclaimedSleeps(tree, steps);
  const rows: RunRow[] = [];

  const record = (node: NodeBase & { kind: string }): StepSnapshot | undefined => {
    const found = own(steps, node.key);
    if (found || node.kind !== 'sleep') return found;
    const queue = sleeps.get(node.path.slice(0, -1).join('.'));
    const key = queue?.shift();
    return key === undefined ? undefined : own(steps, key);
  };
  const stepStatus = (step: StepSnapshot | undefined): StepStatus =>
    step ? step.status : terminal ? 'skipped' : 'pending';

  /** Adds the rows of `nodes` under `parent`; returns their statuses (for the parent's own). */
  const visit = (nodes: readonly DisplayNode[], depth: number, parent: number): StepStatus[] => {
    const statuses: StepStatus[] = [];
    const startedAfter = laterStarted(nodes, steps);
    nodes.forEach((node, i) => {
      switch (node.kind) {
        case 'parallel':
        case 'branch': {
          const index = rows.length;
          const row: RunRow = {
            kind: node.kind,
            depth,
            parent,
            label: [node.kind],
            status: 'pending',
            group: { size: node.children.length },
          };
          rows.push(row);
          visit(node.children, depth + 1, index);
          if (node.kind === 'branch') {
            const started = rows.filter((r, at) => at > index && r.parent === index && hasRun(r)).length;
            const decided = started > 0 || startedAfter[i] === true || terminal;
            if (decided) {
              row.group = { size: node.children.length, taken: started };
              for (let r = index + 1; r < rows.length; r++) {
                const child = rows[r]!;
                if (child.parent === index && !hasRun(child)) {
                  child.status = 'skipped';
                  child.notTaken = true;
                  markSkipped(rows, r);
                }
              }
            }
          }
          row.status = groupStatus(
            rows.filter((r, at) => at > index && r.parent === index && !r.notTaken).map((r) => r.status),
            node.kind === 'branch' && row.group?.taken === 0,
          );
          statuses.push(row.status);
          return;
        }
        case 'loop':
        case 'foreach': {
          const at = rows.length;
          const status = visitNamed(node.body, depth, parent);
          const row = rows[at]!;
          if (node.kind === 'loop') {
            const iterations = row.step?.metadata?.iterationCount;
            row.loop = { loopType: node.loopType, ...(iterations === undefined ? {} : { iterations }) };
          } else {
            row.foreach = foreachCounts(row.step, node.concurrency);
          }
          statuses.push(status);
          return;
        }
        default:
          statuses.push(visitNamed(node, depth, parent));
      }
    });
    return statuses;
  };

  const visitNamed = (
    node: StepNode | WorkflowNode | MapNode | SleepNode,
    depth: number,
    parent: number,
  ): StepStatus => {
    const step = record(node);
    const row: RunRow = {
      kind: node.kind,
      depth,
      parent,
      label: node.label,
      status: stepStatus(step),
      key: step?.id ?? node.key,
      ...(step ? { step } : {}),
    };
    if (node.kind === 'sleep') {
      row.sleep = {
        computed: node.computed,
        ...(node.duration === undefined ? {} : { duration: node.duration }),
        ...(node.until === undefined ? {} : { until: node.until }),
      };
    }
    const index = rows.length;
    rows.push(row);
    if (node.kind === 'workflow') {
      const inner = visit(node.children, depth + 1, index);
      // A nested workflow whose step waits is waiting too, not plainly running.
      if (row.status === 'running') {
        if (inner.includes('suspended')) row.status = 'suspended';
        else if (inner.includes('waiting') && !inner.includes('running')) row.status = 'waiting';
      }
      // Mastra records a nested workflow stopped by a cancel as a success: its steps say otherwise.
      if (row.status === 'success' && inner.includes('canceled')) row.status = 'canceled';
    }
    return row.status;
  };

  visit(tree.nodes, 0, -1);

  // Steps the tree does not name, in the order they were first seen.
  const shown = new Set(rows.map((r) => r.key).filter((k) => k !== undefined));
  for (const [key, step] of Object.entries(steps)) {
    if (shown.has(key)) continue;
    rows.push({
      kind: 'step',
      depth: 0,
      parent: -1,
      label: key.split('.'),
      status: step.status,
      step,
      key,
    });
  }
  return rows;
}

/** For each node of a flow: whether a node after it has started (so a branch before it was decided). */
function laterStarted(nodes: readonly DisplayNode[], steps: Record<string, StepSnapshot>): boolean[] {
  const out = new Array<boolean>(nodes.length).fill(false);
  let seen = false;
  for (let i = nodes.length - 1; i >= 0; i--) {
    out[i] = seen;
    if (!seen && started(nodes[i]!, steps)) seen = true;
  }
  return out;
}

function started(node: DisplayNode, steps: Record<string, StepSnapshot>): boolean {
  switch (node.kind) {
    case 'parallel':
    case 'branch':
      return node.children.some((c) => started(c, steps));
    case 'loop':
    case 'foreach':
      return started(node.body, steps);
    default: {
      const status = own(steps, node.key)?.status;
      return status !== undefined && status !== 'pending' && status !== 'skipped';
    }
  }
}

/** Whether a row's step ran (a pending step marked skipped when the run ended never did). */
function hasRun(row: RunRow): boolean {
  if (row.status !== 'pending' && row.status !== 'skipped') return true;
  return row.step?.startedAt !== undefined;
}

/** The rows under a branch not taken are not taken either. */
function markSkipped(rows: RunRow[], index: number): void {
  for (let r = index + 1; r < rows.length; r++) {
    const row = rows[r]!;
    if (!isUnder(rows, r, index)) break;
    if (row.status === 'pending') row.status = 'skipped';
  }
}

function isUnder(rows: readonly RunRow[], r: number, ancestor: number): boolean {
  for (let p = rows[r]!.parent; p !== -1; p = rows[p]!.parent) if (p === ancestor) return true;
  return false;
}

/** A group's state from its members': what needs attention first, then what is still going on. */
function groupStatus(statuses: readonly StepStatus[], noneTaken: boolean): StepStatus {
  if (noneTaken) return 'skipped';
  for (const status of ['failed', 'tripwire', 'suspended', 'running', 'waiting', 'paused'] as const) {
    if (statuses.includes(status)) return status;
  }
  if (statuses.length === 0 || statuses.every((s) => s === 'pending')) return 'pending';
  if (statuses.every((s) => s === 'skipped')) return 'skipped';
  if (statuses.some((s) => s === 'pending')) return 'running';
  if (statuses.includes('canceled')) return 'canceled';
  return 'success';
}

function foreachCounts(step: StepSnapshot | undefined, concurrency: number | undefined): ForeachCounts {
  const counts: ForeachCounts = {
    done: 0,
    waiting: 0,
    running: 0,
    failed: 0,
    ...(concurrency === undefined ? {} : { concurrency }),
  };
  if (!step) return counts;
  const total =
    step.progress?.total ??
    (Array.isArray(step.payload) ? step.payload.length : undefined) ??
    (Array.isArray(step.output) ? step.output.length : undefined);
  if (total !== undefined) counts.total = total;
  for (const status of step.iterations ?? []) {
    if (status === 'success') counts.done++;
    else if (status === 'suspended') counts.waiting++;
    else if (status === 'running' || status === 'waiting') counts.running++;
    else if (status === 'failed') counts.failed++;
  }
  counts.done = Math.max(counts.done, step.progress?.completed ?? 0);
  if (step.status === 'success' && total !== undefined) {
    counts.done = total;
    counts.waiting = 0;
    counts.running = 0;
  }
  return counts;
}

/** Sleep records no sleep node names by id, by the level they are at (parent path), in order. */
function unclaimedSleeps(tree: DisplayTree, steps: Record<string, StepSnapshot>): Map<string, string[]> {
  const queues = new Map<string, string[]>();
  for (const key of Object.keys(steps)) {
    if (tree.keys.has(key)) continue;
    const dot = key.lastIndexOf('.');
    if (!key.slice(dot + 1).startsWith('sleep_')) continue;
    const level = dot === -1 ? '' : key.slice(0, dot);
    const queue = queues.get(level);
    if (queue) queue.push(key);
    else queues.set(level, [key]);
  }
  return queues;
}

/** An id Mastra made up for a map or a sleep (`mapping_<workflow>_<n>`, `sleep_<uuid>`), not one the workflow gave. */
/**
 * A step path as plain text, not escaped: nested steps joined by " › ", and the segments Mastra
 * names internally read as what they are — a `sleep_<uuid>` as "sleep", a
 * `mapping_<workflow>_<n>` as "map" (the step list names maps by the step they feed). Escaped for
 * mrkdwn by `stepName` (src/slack/text/mrkdwn.ts); used as it is in text escaped later, such as the
 * policy's reasons.
 */
export function stepText(path: readonly string[] | string): string {
  const segments = typeof path === 'string' ? [path] : path;
  return segments.map(readableSegment).join(' › ');
}

function readableSegment(segment: string): string {
  if (/^sleep_[0-9a-f-]{8,}$/i.test(segment)) return 'sleep';
  if (/^mapping_.+_\d+$/.test(segment)) return 'map';
  return segment;
}

export function isMastraId(id: string): boolean {
  return /^mapping_.+_\d+$/.test(id) || /^sleep(?:Until)?_[0-9a-f-]{8,}$/i.test(id);
}
