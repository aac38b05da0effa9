/**
 * LLM-free workflows whose questions are more than one suspended step: a `.foreach()` whose
 * iterations each ask, a loop that asks again, resume labels, and a required `stateSchema`.
 * Register them explicitly (`startMastraServer({ workflows: createSuspensionWorkflows() })`).
 */
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';

export function createSuspensionWorkflows() {
  // review-items: foreach(review-item, concurrency 3); each item asks yes/no with its own label.
  const reviewItem = createStep({
    id: 'review-item',
    inputSchema: z.object({ name: z.string() }),
    outputSchema: z.object({ name: z.string(), approved: z.boolean() }),
    suspendSchema: z.object({ name: z.string() }),
    resumeSchema: z.object({ approved: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ name: inputData.name }, { resumeLabel: `Review ${inputData.name}` });
      return { name: inputData.name, approved: resumeData.approved };
    },
  });
  const reviewItemsWorkflow = createWorkflow({
    id: 'review-items',
    description: 'foreach(review-item): each item waits for its own yes/no',
    inputSchema: z.array(z.object({ name: z.string() })),
    outputSchema: z.array(z.object({ name: z.string(), approved: z.boolean() })),
  })
    .foreach(reviewItem, { concurrency: 3 })
    .commit();

  // review-one-by-one: the same step, one item at a time (Mastra's default concurrency of 1): the
  // next item asks only once the one before was answered.
  const reviewOneByOneWorkflow = createWorkflow({
    id: 'review-one-by-one',
    description: 'foreach(review-item), one item at a time',
    inputSchema: z.array(z.object({ name: z.string() })),
    outputSchema: z.array(z.object({ name: z.string(), approved: z.boolean() })),
  })
    .foreach(reviewItem)
    .commit();

  // ask-loop: dountil(ask) until the answer is "stop"; each turn asks a new question.
  const ask = createStep({
    id: 'ask',
    inputSchema: z.object({ turn: z.number(), last: z.string().optional() }),
    outputSchema: z.object({ turn: z.number(), last: z.string() }),
    suspendSchema: z.object({ question: z.string() }),
    resumeSchema: z.object({ answer: z.string() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData)
        return suspend(
          { question: `Question ${inputData.turn}` },
          { resumeLabel: 'Answer the question of this turn' },
        );
      return { turn: inputData.turn + 1, last: resumeData.answer };
    },
  });
  const askLoopWorkflow = createWorkflow({
    id: 'ask-loop',
    description: 'dountil(ask): asks again until the answer is "stop"',
    inputSchema: z.object({ turn: z.number() }),
    outputSchema: z.object({ turn: z.number(), last: z.string() }),
  })
    .dountil(ask, async ({ inputData }) => inputData.last === 'stop')
    .commit();

  // team-state: needs initial state { team, limit } to start.
  const teamState = z.object({
    team: z.string().min(1).describe('Team'),
    limit: z.number().int().min(1).max(10).describe('Limit'),
  });
  const useState = createStep({
    id: 'use-state',
    inputSchema: z.object({ title: z.string() }),
    outputSchema: z.object({ title: z.string(), team: z.string(), limit: z.number() }),
    stateSchema: teamState,
    execute: async ({ inputData, state }) => ({
      title: inputData.title,
      team: state.team,
      limit: state.limit,
    }),
  });
  const teamStateWorkflow = createWorkflow({
    id: 'team-state',
    description: 'Reads its initial state',
    inputSchema: z.object({ title: z.string() }),
    outputSchema: z.object({ title: z.string(), team: z.string(), limit: z.number() }),
    stateSchema: teamState,
  })
    .then(useState)
    .commit();

  return { reviewItemsWorkflow, reviewOneByOneWorkflow, askLoopWorkflow, teamStateWorkflow };
}
