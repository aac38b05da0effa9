/**
 * LLM-free workflows using each construct of a Mastra workflow, for the display tree's fixtures
 * (test/support/mastra/capture-constructs.ts), its end-to-end tests and its benchmark:
 * - `tour`: step → parallel → map → branch → map → sleep → nested workflow → do-while loop → bail;
 * - `asker`: a do-until loop whose step asks a question (suspends) on every iteration;
 * - `items`: a foreach of plain steps, then a foreach whose every iteration suspends;
 * - `napper`: a nested workflow that sleeps a minute;
 * - `shapes` (never run): the rarer shapes of a graph — a nested workflow in a parallel group, in a
 *   foreach and in a loop, `sleepUntil`, a map at the end.
 *
 * Steps can be held at a point for a test (`holdAt`): the step waits there until the test lets it
 * go, so a test sees a stage of a run without depending on timing. Mastra runs in the test's
 * process, so the hold is a plain promise.
 */
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';

const holds = new Map<string, { reached: () => void; released: Promise<void> }>();

/**
 * Makes step `id` wait, once, when it next runs. `reached` resolves when it is waiting there;
 * `release()` lets it go on.
 */
export function holdAt(id: string): { reached: Promise<void>; release: () => void } {
  let release = () => {};
  let reached = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const reachedPromise = new Promise<void>((resolve) => {
    reached = resolve;
  });
  holds.set(id, { reached, released });
  return { reached: reachedPromise, release };
}

async function held(id: string): Promise<void> {
  const hold = holds.get(id);
  if (!hold) return;
  holds.delete(id);
  hold.reached();
  await hold.released;
}

const any = z.any();

// biome-ignore lint/suspicious/noExplicitAny: test data flows between these steps untyped
function pass(id: string, fn: (input: any) => unknown = (x) => x) {
  return createStep({
    id,
    inputSchema: any,
    outputSchema: any,
    execute: async ({ inputData }) => {
      await held(id);
      return fn(inputData);
    },
  });
}

export function createConstructWorkflows(): Record<string, AnyWorkflow> {
  // tour ------------------------------------------------------------------------------------------
  const tourInner = createWorkflow({ id: 'tour-inner', inputSchema: any, outputSchema: any })
    .then(pass('in-a', (x) => ({ n: x.n, seen: 'in-a' })))
    .then(pass('in-b', (x) => ({ n: x.n, seen: 'in-b' })))
    .commit();
  const bailer = createStep({
    id: 'bailer',
    inputSchema: any,
    outputSchema: any,
    execute: async ({ inputData, bail }) => bail({ reason: 'nothing left to do', n: inputData.n }),
  });
  const tour = createWorkflow({
    id: 'tour',
    description: 'Every construct once: parallel, map, branch, sleep, nested, loop, bail',
    inputSchema: z.object({ n: z.number() }),
    outputSchema: any,
  })
    .then(pass('first', (x) => ({ n: x.n, label: `number ${x.n}` })))
    .parallel([pass('par-a', (x) => ({ a: x.n })), pass('par-b', (x) => ({ b: x.n * 2 }))])
    .map(async ({ inputData }) => ({ n: inputData['par-a'].a }))
    .branch([
      [async ({ inputData }) => inputData.n > 5, pass('big-n', (x) => ({ n: x.n, size: 'big' }))],
      [async ({ inputData }) => inputData.n <= 5, pass('small-n', (x) => ({ n: x.n, size: 'small' }))],
    ])
    .map(async ({ inputData }) => inputData['big-n'] ?? inputData['small-n'])
    .sleep(30)
    .then(tourInner)
    .dowhile(
      pass('count', (x) => ({ n: x.n + 1 })),
      async ({ inputData }) => inputData.n < 3,
    )
    .then(bailer)
    .then(pass('never-runs'))
    .commit();

  // asker -----------------------------------------------------------------------------------------
  const ask = createStep({
    id: 'ask',
    inputSchema: z.object({ turn: z.number(), last: z.string().optional() }),
    outputSchema: z.object({ turn: z.number(), last: z.string() }),
    suspendSchema: z.object({ question: z.string() }),
    resumeSchema: z.object({ answer: z.string() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ question: `Question ${inputData.turn}: go on or stop?` });
      return { turn: inputData.turn + 1, last: resumeData.answer };
    },
  });
  const asker = createWorkflow({
    id: 'asker',
    description: 'Asks until the answer is "stop"',
    inputSchema: z.object({ turn: z.number() }),
    outputSchema: z.object({ turn: z.number(), last: z.string() }),
  })
    .dountil(ask, async ({ inputData }) => inputData.last === 'stop')
    .commit();

  // items -----------------------------------------------------------------------------------------
  const checkItem = createStep({
    id: 'check-item',
    inputSchema: z.object({ name: z.string() }),
    outputSchema: z.object({ name: z.string(), checked: z.boolean() }),
    execute: async ({ inputData }) => {
      await held(`check-item:${inputData.name}`);
      return { name: inputData.name, checked: true };
    },
  });
  const reviewItem = createStep({
    id: 'review-item',
    inputSchema: z.object({ name: z.string(), checked: z.boolean() }),
    outputSchema: z.object({ name: z.string(), ok: z.boolean() }),
    suspendSchema: z.object({ name: z.string() }),
    resumeSchema: z.object({ approved: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ name: inputData.name });
      return { name: inputData.name, ok: resumeData.approved };
    },
  });
  const items = createWorkflow({
    id: 'items',
    description: 'Checks each item, then asks about each',
    inputSchema: z.array(z.object({ name: z.string() })),
    outputSchema: any,
  })
    .foreach(checkItem)
    .foreach(reviewItem, { concurrency: 3 })
    .commit();

  // napper ----------------------------------------------------------------------------------------
  const nap = createWorkflow({ id: 'nap', inputSchema: any, outputSchema: any })
    .then(pass('lie-down'))
    .sleep(60_000)
    .then(pass('wake-up'))
    .commit();
  const napper = createWorkflow({
    id: 'napper',
    description: 'A nested workflow that sleeps for a minute',
    inputSchema: z.object({}),
    outputSchema: any,
  })
    .then(nap)
    .then(pass('after-nap'))
    .commit();

  // shapes ----------------------------------------------------------------------------------------
  const piece = () =>
    createWorkflow({ id: 'piece', inputSchema: any, outputSchema: any }).then(pass('piece-step')).commit();
  const shapesStart = createWorkflow({ id: 'shapes', inputSchema: any, outputSchema: any })
    .parallel([piece(), pass('beside')])
    .sleepUntil(new Date('2030-01-01T00:00:00Z')) as unknown as AnyWorkflow; // (its input is never an array: never run)
  const shapes = shapesStart
    .foreach(piece(), { concurrency: 2 })
    .dountil(piece(), async () => true)
    .sleep(async () => 5)
    .map(async ({ inputData }) => ({ done: inputData }))
    .commit();

  return { tour, asker, items, napper, shapes };
}
