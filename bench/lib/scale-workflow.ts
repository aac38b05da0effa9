/**
 * The workflow of bench/scale.ts: a step, then a sleep until the time given in its input (epoch ms),
 * then a final step. Many runs started with the same `until` wait together and end together.
 */
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';

/** Started from Slack (`/flowgate run scaleFromSlack {…}`). */
export const FROM_SLACK = 'scaleFromSlack';
/** Started through the Mastra server's HTTP API; announced by Flowgate (`announce: all`). */
export const FROM_ELSEWHERE = 'scaleFromElsewhere';

export interface RunMarks {
  /** The first step ran: the run is live on the server. */
  begun(runId: string): void;
  /** The final step ran: the run ends now. */
  ended(runId: string): void;
}

const input = z.object({ until: z.number().int(), n: z.number().int().default(0) });

export function sleeper(id: string, marks: RunMarks): AnyWorkflow {
  const begin = createStep({
    id: 'begin',
    inputSchema: input,
    outputSchema: input,
    execute: async ({ inputData, runId }) => {
      marks.begun(runId);
      return inputData;
    },
  });
  const finish = createStep({
    id: 'finish',
    inputSchema: input,
    outputSchema: z.object({ n: z.number() }),
    execute: async ({ inputData, runId }) => {
      marks.ended(runId);
      return { n: inputData.n };
    },
  });
  return createWorkflow({ id, inputSchema: input, outputSchema: z.object({ n: z.number() }) })
    .then(begin)
    .sleep(async ({ inputData }) => Math.max(0, inputData.until - Date.now()), { id: 'wait' })
    .then(finish)
    .commit() as unknown as AnyWorkflow;
}
