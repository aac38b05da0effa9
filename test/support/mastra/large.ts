/**
 * Large but legal workflows, for the tests that Flowgate fits whatever the workflows contain into
 * Slack's limits: a big catalog with long descriptions, a start form whose default is longer than a
 * Slack text input holds, and steps whose ids are long and share long prefixes. Register them with
 * `startMastraServer({ workflows: createLargeWorkflows() })`, apart from the shared test workflows.
 */
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';

export const CATALOG_SIZE = 45;
/** Longer than a plain_text_input's 3000 characters. */
export const LONG_DEFAULT = 'Lorem ipsum dolor sit amet. '.repeat(180).trim();
/** A step id longer than a button value can carry. */
export const LONG_STEP_ID = `long-${'s'.repeat(2100)}`;
/** Parallel steps whose ids share their first 241 characters. */
export const SHARED_PREFIX = 'p'.repeat(241);
export const PARALLEL_STEP_IDS = [`${SHARED_PREFIX}-a`, `${SHARED_PREFIX}-b`] as const;

export function createLargeWorkflows(): Record<string, AnyWorkflow> {
  const workflows: Record<string, AnyWorkflow> = {};

  // A catalog whose list cannot fit one Slack message.
  for (let i = 0; i < CATALOG_SIZE; i++) {
    const step = createStep({
      id: `catalog-step-${i}`,
      inputSchema: z.object({}),
      outputSchema: z.object({ ok: z.boolean() }),
      execute: async () => ({ ok: true }),
    });
    const key = `catalog${String(i).padStart(2, '0')}`;
    workflows[key] = createWorkflow({
      id: `catalog-workflow-${i}`,
      description: `Workflow ${i} of a large catalog. ${'It does many careful things, each described at length. '.repeat(12)}`,
      inputSchema: z.object({}),
      outputSchema: z.object({ ok: z.boolean() }),
    })
      .then(step)
      .commit();
  }

  // A start form whose default does not fit its input.
  const longDefaultInput = z.object({
    title: z.string().min(1),
    note: z.string().default(LONG_DEFAULT).describe('What the run should say'),
  });
  const echo = createStep({
    id: 'echo',
    inputSchema: longDefaultInput,
    outputSchema: z.object({ title: z.string(), noteLength: z.number() }),
    execute: async ({ inputData }) => ({ title: inputData.title, noteLength: inputData.note.length }),
  });
  workflows.longDefault = createWorkflow({
    id: 'long-default',
    description: 'A start form whose default is longer than Slack lets a text input hold',
    inputSchema: longDefaultInput,
    outputSchema: z.object({ title: z.string(), noteLength: z.number() }),
  })
    .then(echo)
    .commit();

  // Long step ids: one longer than a button value, then two parallel approvals sharing a long prefix.
  const empty = z.object({});
  const longStep = createStep({
    id: LONG_STEP_ID,
    inputSchema: empty,
    outputSchema: empty,
    execute: async () => ({}),
  });
  const approval = (id: string) =>
    createStep({
      id,
      inputSchema: empty,
      outputSchema: z.object({ approved: z.boolean() }),
      suspendSchema: z.object({ step: z.string() }),
      resumeSchema: z.object({ approved: z.boolean() }),
      execute: async ({ resumeData, suspend }) => {
        if (!resumeData) return suspend({ step: id.slice(-1) });
        return { approved: resumeData.approved };
      },
    });
  workflows.longIds = createWorkflow({
    id: 'long-ids',
    description: 'A step id longer than a button value, then parallel steps sharing a 241-character prefix',
    inputSchema: empty,
    outputSchema: z.record(z.string(), z.unknown()),
  })
    .then(longStep)
    .parallel(PARALLEL_STEP_IDS.map(approval))
    .commit();

  return workflows;
}
