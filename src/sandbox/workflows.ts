/**
 * The sandbox's demo workflows (LLM-free), served by its embedded Mastra server:
 * - `expenseApproval`: an expense report approved in a rich form (every kind of input Flowgate's
 *   form engine makes: radio buttons, select, multi-select, checkboxes, number, date, time,
 *   date-time, email, URL, single and multi-line text);
 * - `deployPipeline`: five steps that take a while, each writing live output;
 * - `releaseTrain`: a nested workflow whose inner step is a plain yes/no gate (one-click Approve / Reject).
 *
 * Every field has a default, so each start form and answer form is pre-filled: Submit alone goes through.
 * Steps that wait honour the run's abort signal, so canceling (or stopping the sandbox) ends them at once.
 */
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const COST_CENTERS = [
  'CC-100 Engineering',
  'CC-200 Operations',
  'CC-300 Sales',
  'CC-400 Marketing',
  'CC-500 Finance',
  'CC-600 People',
  'CC-700 Legal',
] as const;

export const PROJECTS = [
  'apollo',
  'borealis',
  'cygnus',
  'draco',
  'eridanus',
  'fornax',
  'gemini',
  'hydra',
  'indus',
  'lyra',
  'orion',
  'pavo',
] as const;

/** The answer form of `expenseApproval`'s review step. */
export const expenseReviewSchema = z.object({
  decision: z.enum(['approve', 'reject', 'ask for changes']).default('approve'),
  approvedAmount: z.number().min(0).max(5000).default(1840).describe('Up to 5000 without a second approval'),
  costCenter: z.enum(COST_CENTERS).default('CC-200 Operations'),
  categories: z.array(z.enum(['travel', 'lodging', 'meals', 'training'])).default(['travel', 'lodging']),
  projects: z.array(z.enum(PROJECTS)).default(['orion']),
  payBy: z.iso.date().default('2026-12-15'),
  payAt: z.iso.time().default('09:30'),
  remindAt: z.iso.datetime().default('2026-12-14T09:00:00Z'),
  notify: z.email().default('finance@example.com'),
  policyLink: z.url().default('https://example.com/travel-policy'),
  reference: z.string().max(40).optional(),
  comment: z.string().default('Approved. Enjoy the offsite!'),
});

export const expenseInputSchema = z.object({
  title: z.string().min(1).default('Team offsite in Lisbon').describe('What the money is for'),
  amount: z.number().min(1).max(100_000).default(1840),
  currency: z.enum(['EUR', 'USD', 'GBP']).default('EUR'),
  receipt: z.url().default('https://example.com/receipts/offsite.pdf'),
});

export const deployInputSchema = z.object({
  service: z.enum(['api', 'web', 'worker']).default('api'),
  version: z.string().min(1).default('2.4.0'),
  environment: z.enum(['staging', 'production']).default('staging'),
  stepSeconds: z.number().min(0).max(10).default(2).describe('How long each step takes'),
});

export const releaseInputSchema = z.object({
  release: z.string().min(1).default('2026.12'),
  services: z.array(z.enum(['api', 'web', 'worker'])).default(['api', 'web']),
});

/**
 * Builds a fresh set of the demo workflows, keyed by registry key. Mastra binds storage and a logger
 * to a workflow when it registers it, so every server gets its own instances.
 */
export function createDemoWorkflows(): Record<string, AnyWorkflow> {
  // -------------------------------------------------------------------------------------------
  // expenseApproval: check → review (suspends, rich form) → pay

  const checked = expenseInputSchema.extend({ withinPolicy: z.boolean() });
  const reviewed = checked.extend({ review: expenseReviewSchema });

  const check = createStep({
    id: 'check-policy',
    description: 'Checks the amount against the travel policy',
    inputSchema: expenseInputSchema,
    outputSchema: checked,
    execute: async ({ inputData, writer, abortSignal }) => {
      await writer.write({ note: `checking ${inputData.amount} ${inputData.currency} against the policy` });
      await delay(400, abortSignal);
      return { ...inputData, withinPolicy: inputData.amount <= 5000 };
    },
  });

  const review = createStep({
    id: 'review',
    description: 'A manager reviews the expense',
    inputSchema: checked,
    outputSchema: reviewed,
    suspendSchema: z.object({
      title: z.string(),
      amount: z.string(),
      receipt: z.string(),
      policy: z.string(),
    }),
    resumeSchema: expenseReviewSchema,
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) {
        return suspend({
          title: inputData.title,
          amount: `${inputData.amount} ${inputData.currency}`,
          receipt: inputData.receipt,
          policy: inputData.withinPolicy ? 'within the travel policy' : 'over the policy limit of 5000',
        });
      }
      return { ...inputData, review: resumeData };
    },
  });

  const pay = createStep({
    id: 'pay',
    description: 'Schedules the payment',
    inputSchema: reviewed,
    outputSchema: z.object({ title: z.string(), outcome: z.string(), comment: z.string() }),
    execute: async ({ inputData, writer, abortSignal }) => {
      const { review } = inputData;
      if (review.decision === 'approve') {
        await writer.write({ note: `scheduling ${review.approvedAmount} ${inputData.currency}` });
        await delay(300, abortSignal);
      }
      const outcome =
        review.decision === 'approve'
          ? `${review.approvedAmount} ${inputData.currency} paid on ${review.payBy} at ${review.payAt} from ${review.costCenter}`
          : review.decision === 'reject'
            ? 'rejected'
            : 'sent back for changes';
      return { title: inputData.title, outcome, comment: review.comment };
    },
  });

  const expenseApproval = createWorkflow({
    id: 'expense-approval',
    description: 'An expense report: checked, then approved by a manager in a form',
    inputSchema: expenseInputSchema,
    outputSchema: z.object({ title: z.string(), outcome: z.string(), comment: z.string() }),
  })
    .then(check)
    .then(review)
    .then(pay)
    .commit();

  // -------------------------------------------------------------------------------------------
  // deployPipeline: checkout → build → test → deploy → verify, with live output

  const deployState = deployInputSchema.extend({ log: z.array(z.string()) });

  function stage(
    id: string,
    description: string,
    lines: (input: z.infer<typeof deployInputSchema>) => string[],
  ) {
    return createStep({
      id,
      description,
      inputSchema: id === 'checkout' ? deployInputSchema : deployState,
      outputSchema: deployState,
      execute: async ({ inputData, writer, abortSignal }) => {
        const input = inputData as z.infer<typeof deployState>;
        const log = Array.isArray(input.log) ? input.log : [];
        const out = lines(input);
        const gap = (input.stepSeconds * 1000) / Math.max(1, out.length);
        for (const line of out) {
          await delay(gap, abortSignal);
          await writer.write(line);
        }
        return { ...input, log: [...log, `${id}: ok`] };
      },
    });
  }

  const deployPipeline = createWorkflow({
    id: 'deploy-pipeline',
    description: 'Builds, tests and rolls out a service in five steps, with live output',
    inputSchema: deployInputSchema,
    outputSchema: deployState,
  })
    .then(stage('checkout', 'Fetches the source', (i) => [`fetching ${i.service}@${i.version}`]))
    .then(
      stage('build', 'Compiles the service', (i) =>
        [1, 2, 3, 4].map((n) => `compiling ${i.service} module ${n}/4`),
      ),
    )
    .then(stage('test', 'Runs the test suites', () => [1, 2, 3].map((n) => `suite ${n}/3 passed`)))
    .then(
      stage('deploy', 'Rolls out to the cluster', (i) =>
        [1, 2, 3].map((n) => `${i.environment}: pod ${n}/3 ready`),
      ),
    )
    .then(stage('verify', 'Checks health after the roll-out', (i) => [`${i.service} answers on /healthz`]))
    .commit();

  // -------------------------------------------------------------------------------------------
  // releaseTrain: prepare → go-no-go (nested workflow: checks → gate, a yes/no step) → announce

  const release = z.object({ release: z.string(), services: z.array(z.string()) });
  const gated = release.extend({ go: z.boolean(), comment: z.string().optional() });

  const checks = createStep({
    id: 'checks',
    description: 'Runs the release checklist',
    inputSchema: release,
    outputSchema: release,
    execute: async ({ inputData, writer, abortSignal }) => {
      for (const service of inputData.services) {
        await delay(300, abortSignal);
        await writer.write({ checked: service });
      }
      return inputData;
    },
  });

  const gate = createStep({
    id: 'gate',
    description: 'Go or no-go for the release',
    inputSchema: release,
    outputSchema: gated,
    suspendSchema: z.object({ question: z.string(), services: z.string() }),
    resumeSchema: z.object({ approved: z.boolean().default(true), comment: z.string().optional() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) {
        return suspend({
          question: `Ship release ${inputData.release}?`,
          services: inputData.services.join(', '),
        });
      }
      return {
        ...inputData,
        go: resumeData.approved,
        ...(resumeData.comment ? { comment: resumeData.comment } : {}),
      };
    },
  });

  const goNoGo = createWorkflow({
    id: 'go-no-go',
    description: 'Checklist, then a yes/no gate',
    inputSchema: release,
    outputSchema: gated,
  })
    .then(checks)
    .then(gate)
    .commit();

  const prepare = createStep({
    id: 'prepare',
    description: 'Collects the services of the release',
    inputSchema: releaseInputSchema,
    outputSchema: release,
    execute: async ({ inputData }) => ({ release: inputData.release, services: [...inputData.services] }),
  });

  const announce = createStep({
    id: 'announce',
    description: 'Announces the outcome',
    inputSchema: gated,
    outputSchema: z.object({ release: z.string(), shipped: z.boolean(), announcement: z.string() }),
    execute: async ({ inputData }) => ({
      release: inputData.release,
      shipped: inputData.go,
      announcement: inputData.go
        ? `Release ${inputData.release} ships: ${inputData.services.join(', ')}`
        : `Release ${inputData.release} is held back${inputData.comment ? `: ${inputData.comment}` : ''}`,
    }),
  });

  const releaseTrain = createWorkflow({
    id: 'release-train',
    description: 'A release with a nested go/no-go workflow whose gate is a yes/no question',
    inputSchema: releaseInputSchema,
    outputSchema: z.object({ release: z.string(), shipped: z.boolean(), announcement: z.string() }),
  })
    .then(prepare)
    .then(goNoGo)
    .then(announce)
    .commit();

  return { expenseApproval, deployPipeline, releaseTrain };
}
