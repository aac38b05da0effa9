import { describe, expect, test } from 'vitest';
import { parseRecordsSync } from '../../src/mastra/records.ts';
import { runStateSchema, toWorkflowEvent, workflowInfoSchema } from '../../src/mastra/schemas.ts';
import type { RunSnapshot, WorkflowEvent } from '../../src/mastra/types.ts';
import { buildTree, projectRun, treeOf } from '../../src/runs/graph.ts';
import { initialSnapshot, reduceEvents, snapshotFromRunState } from '../../src/runs/state.ts';
import { loadFixture } from '../support/mastra/fixtures.ts';

// Fixtures 110–121: the construct workflows of test/support/mastra/constructs.ts on a real server
// (test/support/mastra/capture-constructs.ts).
const graphOf = (fixture: string) =>
  workflowInfoSchema.parse(JSON.parse(loadFixture(fixture).text)).stepGraph;
const events = (fixture: string): WorkflowEvent[] =>
  parseRecordsSync(loadFixture(fixture).body).map(toWorkflowEvent);
const runState = (fixture: string) => runStateSchema.parse(JSON.parse(loadFixture(fixture).text));
const fold = (list: WorkflowEvent[], start: RunSnapshot): RunSnapshot => reduceEvents(list, start)!;
const rowsOf = (s: RunSnapshot) => projectRun(treeOf(s.stepGraph), s);
const byLabel = (s: RunSnapshot) => Object.fromEntries(rowsOf(s).map((r) => [r.label.join(' › '), r]));

describe('buildTree: the serialized step graph as display nodes', () => {
  test('tour: step, parallel, map, branch, map, sleep, nested workflow, loop, steps — in order', () => {
    const tree = buildTree(graphOf('110'));
    expect(tree.nodes.map((n) => n.kind)).toEqual([
      'step',
      'parallel',
      'map',
      'branch',
      'map',
      'sleep',
      'workflow',
      'loop',
      'step',
      'step',
    ]);
    const [, parallel, map0, branch, map1, sleep, nested, loop] = tree.nodes;
    expect(parallel).toMatchObject({ children: [{ key: 'par-a' }, { key: 'par-b' }] });
    expect(branch).toMatchObject({ children: [{ key: 'big-n' }, { key: 'small-n' }] });
    // Maps are named for what they feed, never `mapping_tour_0`.
    expect(map0).toMatchObject({ key: 'mapping_tour_0', label: ['map → big-n + small-n input'] });
    expect(map1).toMatchObject({ label: ['map → tour-inner input'] });
    expect(sleep).toMatchObject({ kind: 'sleep', duration: 30, label: ['sleep'], computed: false });
    expect(nested).toMatchObject({
      kind: 'workflow',
      key: 'tour-inner',
      children: [
        { key: 'tour-inner.in-a', path: ['tour-inner', 'in-a'], label: ['tour-inner', 'in-a'] },
        { key: 'tour-inner.in-b', path: ['tour-inner', 'in-b'] },
      ],
    });
    expect(loop).toMatchObject({ kind: 'loop', loopType: 'dowhile', body: { key: 'count' } });
  });

  test('shapes: nested workflows in a parallel group, a foreach and a loop; sleepUntil; a computed sleep; a final map', () => {
    const tree = buildTree(graphOf('120'));
    const [parallel, until, foreach, loop, computed, map] = tree.nodes;
    expect(parallel).toMatchObject({
      kind: 'parallel',
      children: [
        { kind: 'workflow', key: 'piece', children: [{ key: 'piece.piece-step' }] },
        { key: 'beside' },
      ],
    });
    expect(until).toMatchObject({ kind: 'sleep', until: new Date('2030-01-01T00:00:00Z') });
    expect(foreach).toMatchObject({
      kind: 'foreach',
      concurrency: 2,
      body: { kind: 'workflow', key: 'piece' },
    });
    expect(loop).toMatchObject({ kind: 'loop', loopType: 'dountil', body: { kind: 'workflow' } });
    expect(computed).toMatchObject({ kind: 'sleep', computed: true });
    expect(map).toMatchObject({ kind: 'map', label: ['map → result'] });
  });

  test('a nested workflow that sleeps: the sleep is listed under it', () => {
    const [nap] = buildTree(graphOf('121')).nodes;
    expect(nap).toMatchObject({
      kind: 'workflow',
      children: [{ key: 'nap.lie-down' }, { kind: 'sleep', duration: 60_000 }, { key: 'nap.wake-up' }],
    });
  });

  test('a map or a sleep the workflow named keeps its name; the ones Mastra names read as what they are', () => {
    // As Mastra serializes `.map(fn, { id: 'pair-up' }).sleep(10, { id: 'cool-down' })` and unnamed ones.
    const { nodes } = buildTree([
      { type: 'mapping', id: 'pair-up', mapConfig: 'async () => ({})' },
      { type: 'sleep', id: 'cool-down', duration: 10 },
      { type: 'mapping', id: 'mapping_w_1', mapConfig: 'async () => ({})' },
      { type: 'sleep', id: 'sleep_7dc7fdf0-6bc6-4381-ab10-1414cc3b71cd', duration: 10 },
      { type: 'step', step: { id: 'deploy', canSuspend: false } },
    ]);
    expect(nodes.map((n) => ('label' in n ? n.label.join(' › ') : n.kind))).toEqual([
      'pair-up',
      'cool-down',
      'map → deploy input',
      'sleep',
      'deploy',
    ]);
  });

  test('built once per graph object; entries of unknown shape are left out', () => {
    const graph = graphOf('110');
    expect(treeOf(graph)).toBe(treeOf(graph));
    expect(
      buildTree([null, 7, { type: 'what' }, { type: 'step' }, { type: 'agent', id: 'llm' }]).nodes,
    ).toEqual([{ kind: 'step', key: 'llm', path: ['llm'], label: ['llm'], canSuspend: false }]);
  });
});

describe('projectRun: a run laid onto its tree', () => {
  const graph = graphOf('110');
  const tour = events('111');
  const start = () => initialSnapshot('tour-1', graph);
  const upTo = (id: string, type = 'workflow-step-start') =>
    tour.slice(
      0,
      tour.findIndex((e) => e.type === type && 'payload' in e && (e.payload as { id?: string }).id === id) +
        1,
    );

  test('before any event: every node listed from the graph, nested steps under their workflow', () => {
    const rows = rowsOf(start());
    expect(rows.map((r) => [r.label.join(' › '), r.depth, r.status])).toEqual([
      ['first', 0, 'pending'],
      ['parallel', 0, 'pending'],
      ['par-a', 1, 'pending'],
      ['par-b', 1, 'pending'],
      ['map → big-n + small-n input', 0, 'pending'],
      ['branch', 0, 'pending'],
      ['big-n', 1, 'pending'],
      ['small-n', 1, 'pending'],
      ['map → tour-inner input', 0, 'pending'],
      ['sleep', 0, 'pending'],
      ['tour-inner', 0, 'pending'],
      ['tour-inner › in-a', 1, 'pending'],
      ['tour-inner › in-b', 1, 'pending'],
      ['count', 0, 'pending'],
      ['bailer', 0, 'pending'],
      ['never-runs', 0, 'pending'],
    ]);
  });

  test('a branch not taken is skipped as soon as the taken one starts, while the run goes on', () => {
    const s = fold(upTo('small-n'), start());
    expect(s.payload.workflowState.status).toBe('running');
    const rows = byLabel(s);
    expect(rows['big-n']).toMatchObject({ status: 'skipped', notTaken: true });
    expect(rows['small-n']?.status).toBe('running');
    expect(rows.branch).toMatchObject({ status: 'running', group: { size: 2, taken: 1 } });
  });

  test('a parallel group is running while one of its steps is, done when all are', () => {
    const during = byLabel(fold(upTo('par-a', 'workflow-step-result'), start()));
    expect(during.parallel?.status).toBe('running');
    expect(during['par-a']?.status).toBe('success');
    const after = byLabel(fold(upTo('mapping_tour_0'), start()));
    expect(after.parallel?.status).toBe('success');
  });

  test('the sleep while it sleeps, with its length; nested steps with their states', () => {
    const sleeping = byLabel(
      fold(
        upTo(
          tour.find((e) => e.type === 'workflow-step-waiting')!.payload.id as string,
          'workflow-step-waiting',
        ),
        start(),
      ),
    );
    expect(sleeping.sleep).toMatchObject({ status: 'waiting', sleep: { duration: 30 } });
    const nested = byLabel(fold(upTo('tour-inner.in-b'), start()));
    expect(nested['tour-inner']?.status).toBe('running');
    expect(nested['tour-inner › in-a']?.status).toBe('success');
    expect(nested['tour-inner › in-b']?.status).toBe('running');
  });

  test('after the run: loop iterations, the bail kept through reconciliation with runById, the rest skipped', () => {
    const streamed = fold(tour, start());
    const s = snapshotFromRunState(runState('112'), streamed);
    expect(s.payload.workflowState.status).toBe('success');
    const rows = byLabel(s);
    expect(rows.count).toMatchObject({ status: 'success', loop: { loopType: 'dowhile', iterations: 2 } });
    expect(rows.bailer).toMatchObject({
      status: 'bailed',
      step: { output: { reason: 'nothing left to do', n: 3 } },
    });
    expect(rows['never-runs']?.status).toBe('skipped');
    expect(rows['big-n']).toMatchObject({ status: 'skipped', notTaken: true });
    // Exactly one row per node: the stored sleep is the graph's sleep, not an extra step.
    expect(rowsOf(s)).toHaveLength(16);
  });

  test('a graph from another server process (other sleep ids): the sleep record still lands on the sleep node', () => {
    const other = graph.map((e) =>
      (e as { type: string }).type === 'sleep'
        ? { ...(e as object), id: 'sleep_00000000-0000-0000-0000-000000000000' }
        : e,
    );
    const s = fold(tour, initialSnapshot('tour-1', other));
    const rows = rowsOf(s);
    expect(rows).toHaveLength(16);
    expect(rows.find((r) => r.kind === 'sleep')).toMatchObject({
      status: 'success',
      sleep: { duration: 30 },
    });
  });

  test('the graph stored with the run is preferred, and kept as the same object while unchanged', () => {
    const s1 = snapshotFromRunState(runState('112'), initialSnapshot('tour-1', graph));
    expect(s1.stepGraph).toBe(graph);
    const fromRun = snapshotFromRunState(runState('112'));
    expect(fromRun.stepGraph).toEqual(graph);
    const again = snapshotFromRunState(runState('112'), fromRun);
    expect(again.stepGraph).toBe(fromRun.stepGraph);
  });
});

describe('loops and foreach', () => {
  test('a loop asking a second time: iteration 2, the latest output kept, also after runById', () => {
    const streamed = fold([...events('113'), ...events('114')], initialSnapshot('ask-1', []));
    const s = snapshotFromRunState(runState('115'), streamed);
    const [ask] = rowsOf(s);
    expect(ask).toMatchObject({
      status: 'suspended',
      loop: { loopType: 'dountil', iterations: 2 },
      step: { output: { turn: 2, last: 'go' } },
    });
    const done = snapshotFromRunState(runState('117'), fold(events('116'), s));
    expect(rowsOf(done)[0]).toMatchObject({
      status: 'success',
      loop: { iterations: 2 },
      step: { output: { turn: 3, last: 'stop' } },
    });
  });

  test('a nested workflow cut short by a cancel reads canceled, though Mastra records it as a success', () => {
    // As a real server streams it: the cancel stops the inner sleep, then the nested step "succeeds".
    const graph = graphOf('121');
    const sleepId = `nap.${(buildTree(graph).nodes[0] as { children: { key: string }[] }).children[1]!.key.split('.')[1]}`;
    const at = 1_796_000_000_000;
    const record = (type: string, payload: Record<string, unknown>) =>
      toWorkflowEvent({
        value: { type, runId: 'nap-1', from: 'WORKFLOW', payload: { ...payload, stepName: payload.id } },
        index: 0,
        byteOffset: 0,
        byteLength: 0,
      });
    const s = fold(
      [
        record('workflow-start', { workflowId: 'napper' }),
        record('workflow-step-start', { id: 'nap', status: 'running', startedAt: at }),
        record('workflow-step-start', { id: 'nap.lie-down', status: 'running', startedAt: at }),
        record('workflow-step-result', {
          id: 'nap.lie-down',
          status: 'success',
          startedAt: at,
          endedAt: at + 1,
        }),
        record('workflow-step-waiting', { id: sleepId, status: 'waiting', startedAt: at + 1 }),
        record('workflow-canceled', {}),
        record('workflow-step-result', { id: 'nap', status: 'success', startedAt: at, endedAt: at + 90 }),
        record('workflow-finish', { workflowStatus: 'canceled', metadata: {}, output: {} }),
      ],
      initialSnapshot('nap-1', graph),
    );
    const rows = byLabel(s);
    expect(s.payload.workflowState.status).toBe('canceled');
    expect(rows.nap?.status).toBe('canceled');
    expect(rows['nap › lie-down']?.status).toBe('success');
    expect(rows['nap › wake-up']?.status).toBe('skipped');
  });

  test('a foreach whose iterations suspend: items, done and waiting counts, from the stream and from runById alone', () => {
    const graph = runState('119').serializedStepGraph!;
    const streamed = fold(events('118'), initialSnapshot('items-1', graph));
    const counts = (s: RunSnapshot) => Object.fromEntries(rowsOf(s).map((r) => [r.key, r.foreach]));
    expect(counts(streamed)).toEqual({
      'check-item': { total: 3, done: 3, waiting: 0, running: 0, failed: 0, concurrency: 1 },
      'review-item': { total: 3, done: 0, waiting: 3, running: 0, failed: 0, concurrency: 3 },
    });
    const stored = snapshotFromRunState(runState('119'));
    expect(counts(stored)['review-item']).toMatchObject({ total: 3, done: 0, waiting: 3 });
  });
});
