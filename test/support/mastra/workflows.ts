/**
 * LLM-free Mastra workflows used by the project's tests and benchmarks.
 * Each is small and exercises one feature of the workflow HTTP API (see docs/mastra.md).
 */
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { delay } from '../../../src/sandbox/workflows.ts';

export const SLEEP_FOREACH_SLEEP_MS = 50;
export const MANY_STEPS_MAX = 30;

export const approvalResumeSchema = z.object({
  approved: z.boolean(),
  priority: z.enum(['low', 'medium', 'high']),
  score: z.number().min(0).max(10),
  comment: z.string(),
  note: z.string().optional(),
  dueDate: z.iso.date(),
  tags: z.array(z.enum(['finance', 'legal', 'ops'])),
});

export const inputFormSchema = z.object({
  title: z.string().min(1).describe('What to do'),
  count: z.number().int().min(1).max(10),
  urgent: z.boolean(),
  channel: z.enum(['email', 'slack', 'sms']),
  note: z.string().optional(),
});

/**
 * Builds a fresh set of the test workflows. Mastra mutates a workflow when it registers it (it binds
 * its storage and logger), so every server gets its own instances: two servers in one process must
 * not share workflow objects.
 */
export function createTestWorkflows() {
  // ---------------------------------------------------------------------------------------------
  // linear-workflow: add-one → double → format, each waiting `delayMs`, with writer outputs.

  const linearValue = z.object({ value: z.number(), delayMs: z.number().int().min(0).default(0) });

  const addOne = createStep({
    id: 'add-one',
    description: 'Adds one to value (after delayMs)',
    inputSchema: linearValue,
    outputSchema: linearValue,
    execute: async ({ inputData, writer }) => {
      await writer.write({ note: 'add-one started', at: 'start' });
      await writer.custom({ type: 'data-progress', data: { step: 'add-one', pct: 50 } });
      await delay(inputData.delayMs);
      return { value: inputData.value + 1, delayMs: inputData.delayMs };
    },
  });

  const double = createStep({
    id: 'double',
    inputSchema: linearValue,
    outputSchema: linearValue,
    execute: async ({ inputData, writer }) => {
      await delay(inputData.delayMs);
      await writer.write({ note: 'doubled', value: inputData.value * 2 });
      return { value: inputData.value * 2, delayMs: inputData.delayMs };
    },
  });

  const format = createStep({
    id: 'format',
    inputSchema: linearValue,
    outputSchema: z.object({ text: z.string(), value: z.number() }),
    execute: async ({ inputData }) => {
      await delay(inputData.delayMs);
      return { text: `result=${inputData.value}`, value: inputData.value };
    },
  });

  const linearWorkflow = createWorkflow({
    id: 'linear-workflow',
    description: 'add-one -> double -> format, each step waits delayMs',
    inputSchema: linearValue,
    outputSchema: z.object({ text: z.string(), value: z.number() }),
  })
    .then(addOne)
    .then(double)
    .then(format)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // approval-workflow: prepare → approve (suspends, rich resumeSchema) → finalize.

  const approvalInput = z.object({ requestId: z.string(), amount: z.number() });
  const prepared = approvalInput.extend({ preparedAt: z.string() });

  const decision = z.object({
    requestId: z.string(),
    approved: z.boolean(),
    priority: z.string(),
    score: z.number(),
    comment: z.string(),
  });

  const prepare = createStep({
    id: 'prepare',
    inputSchema: approvalInput,
    outputSchema: prepared,
    execute: async ({ inputData }) => ({ ...inputData, preparedAt: 'fixed-for-tests' }),
  });

  const approve = createStep({
    id: 'approve',
    description: 'Waits for a human decision',
    inputSchema: prepared,
    outputSchema: decision,
    suspendSchema: z.object({ reason: z.string(), requestId: z.string(), amount: z.number() }),
    resumeSchema: approvalResumeSchema,
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) {
        return suspend({
          reason: 'Needs manager approval',
          requestId: inputData.requestId,
          amount: inputData.amount,
        });
      }
      return {
        requestId: inputData.requestId,
        approved: resumeData.approved,
        priority: resumeData.priority,
        score: resumeData.score,
        comment: resumeData.comment,
      };
    },
  });

  const finalize = createStep({
    id: 'finalize',
    inputSchema: decision,
    outputSchema: z.object({ requestId: z.string(), decision: z.string(), comment: z.string() }),
    execute: async ({ inputData }) => ({
      requestId: inputData.requestId,
      decision: inputData.approved ? 'approved' : 'rejected',
      comment: inputData.comment,
    }),
  });

  const approvalWorkflow = createWorkflow({
    id: 'approval-workflow',
    description: 'prepare -> approve (suspends) -> finalize',
    inputSchema: approvalInput,
    outputSchema: z.object({ requestId: z.string(), decision: z.string(), comment: z.string() }),
  })
    .then(prepare)
    .then(approve)
    .then(finalize)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // simple-approval: one step, resumeSchema { approved, comment? } (one-click approve).

  const simpleApprove = createStep({
    id: 'simple-approve',
    description: 'Approve or reject',
    inputSchema: z.object({ title: z.string().default('Request') }),
    outputSchema: z.object({ approved: z.boolean(), comment: z.string().optional() }),
    suspendSchema: z.object({ title: z.string() }),
    resumeSchema: z.object({ approved: z.boolean(), comment: z.string().optional() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ title: inputData.title });
      return { approved: resumeData.approved, comment: resumeData.comment };
    },
  });

  const simpleApprovalWorkflow = createWorkflow({
    id: 'simple-approval',
    description: 'A single approve/reject step',
    inputSchema: z.object({ title: z.string().default('Request') }),
    outputSchema: z.object({ approved: z.boolean(), comment: z.string().optional() }),
  })
    .then(simpleApprove)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // outer: outer-prep → inner (nested workflow, not registered) whose inner-approve suspends.

  const item = z.object({ item: z.string() });

  const innerApprove = createStep({
    id: 'inner-approve',
    inputSchema: item,
    outputSchema: z.object({ item: z.string(), ok: z.boolean() }),
    suspendSchema: z.object({ ask: z.string() }),
    resumeSchema: z.object({ ok: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ ask: `ok to ship ${inputData.item}?` });
      return { item: inputData.item, ok: resumeData.ok };
    },
  });

  const innerWorkflow = createWorkflow({
    id: 'inner',
    description: 'Nested approval',
    inputSchema: item,
    outputSchema: z.object({ item: z.string(), ok: z.boolean() }),
  })
    .then(innerApprove)
    .commit();

  const outerPrep = createStep({
    id: 'outer-prep',
    inputSchema: item,
    outputSchema: item,
    execute: async ({ inputData }) => ({ item: inputData.item.trim() }),
  });

  const nestedWorkflow = createWorkflow({
    id: 'outer',
    description: 'outer-prep -> inner (nested workflow that suspends)',
    inputSchema: item,
    outputSchema: z.object({ item: z.string(), ok: z.boolean() }),
  })
    .then(outerPrep)
    .then(innerWorkflow)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // parallel-approval: two parallel steps that both suspend.

  const parallelInput = z.object({ subject: z.string() });
  function parallelApprove(id: 'approve-a' | 'approve-b') {
    return createStep({
      id,
      inputSchema: parallelInput,
      outputSchema: z.object({ approved: z.boolean() }),
      suspendSchema: z.object({ who: z.string(), subject: z.string() }),
      resumeSchema: z.object({ approved: z.boolean() }),
      execute: async ({ inputData, resumeData, suspend }) => {
        if (!resumeData) return suspend({ who: id, subject: inputData.subject });
        return { approved: resumeData.approved };
      },
    });
  }

  const parallelApprovalWorkflow = createWorkflow({
    id: 'parallel-approval',
    description: 'Two approvals in parallel',
    inputSchema: parallelInput,
    outputSchema: z.object({
      'approve-a': z.object({ approved: z.boolean() }),
      'approve-b': z.object({ approved: z.boolean() }),
    }),
  })
    .parallel([parallelApprove('approve-a'), parallelApprove('approve-b')])
    .commit();

  // ---------------------------------------------------------------------------------------------
  // failing-workflow: ok-step → boom (throws).

  const message = z.object({ message: z.string() });

  const okStep = createStep({
    id: 'ok-step',
    inputSchema: message,
    outputSchema: message,
    execute: async ({ inputData }) => ({ message: inputData.message.toUpperCase() }),
  });

  const boom = createStep({
    id: 'boom',
    inputSchema: message,
    outputSchema: message,
    execute: async ({ inputData }) => {
      throw new Error(`Boom: ${inputData.message}`);
    },
  });

  const failingWorkflow = createWorkflow({
    id: 'failing-workflow',
    description: 'ok-step -> boom (throws)',
    inputSchema: message,
    outputSchema: message,
  })
    .then(okStep)
    .then(boom)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // sleep-foreach: to-items → sleep(50) → foreach(square-item).

  const toItems = createStep({
    id: 'to-items',
    inputSchema: z.object({ n: z.number().int().min(0).max(100) }),
    outputSchema: z.array(z.object({ i: z.number() })),
    execute: async ({ inputData }) => Array.from({ length: inputData.n }, (_, i) => ({ i })),
  });

  const squareItem = createStep({
    id: 'square-item',
    inputSchema: z.object({ i: z.number() }),
    outputSchema: z.object({ sq: z.number() }),
    execute: async ({ inputData }) => ({ sq: inputData.i * inputData.i }),
  });

  const sleepForeachWorkflow = createWorkflow({
    id: 'sleep-foreach',
    description: 'to-items -> sleep -> foreach(square-item)',
    inputSchema: z.object({ n: z.number().int().min(0).max(100) }),
    outputSchema: z.array(z.object({ sq: z.number() })),
  })
    .then(toItems)
    .sleep(SLEEP_FOREACH_SLEEP_MS)
    .foreach(squareItem)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // cancel-aware: one long step that stops as soon as the run's abortSignal fires.

  const longStep = createStep({
    id: 'long-step',
    description: 'Waits durationMs unless canceled',
    inputSchema: z.object({ durationMs: z.number().int().min(0).default(30_000) }),
    outputSchema: z.object({ finished: z.boolean() }),
    execute: async ({ inputData, abortSignal, abort, writer }) => {
      await writer.write({ note: 'long-step started' });
      try {
        await delay(inputData.durationMs, abortSignal);
      } catch {
        abort();
        return { finished: false };
      }
      return { finished: true };
    },
  });

  const cancelAwareWorkflow = createWorkflow({
    id: 'cancel-aware',
    description: 'A long step honouring abortSignal',
    inputSchema: z.object({ durationMs: z.number().int().min(0).default(30_000) }),
    outputSchema: z.object({ finished: z.boolean() }),
  })
    .then(longStep)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // noop: one trivial step (benchmarks).

  const noopStep = createStep({
    id: 'noop-step',
    inputSchema: z.looseObject({}),
    outputSchema: z.object({ ok: z.boolean() }),
    execute: async () => ({ ok: true }),
  });

  const noopWorkflow = createWorkflow({
    id: 'noop',
    description: 'One trivial step',
    inputSchema: z.looseObject({}),
    outputSchema: z.object({ ok: z.boolean() }),
  })
    .then(noopStep)
    .commit();

  // ---------------------------------------------------------------------------------------------
  // many-steps: `steps` steps (default 30) emitting `events` writer outputs in total (default 300)
  // spread evenly over `durationMs` (default 10 s). Built with a fixed maximum of steps; steps past
  // `steps` pass through without emitting.

  const manyInput = z.object({
    steps: z.number().int().min(1).max(MANY_STEPS_MAX).default(MANY_STEPS_MAX),
    events: z.number().int().min(0).max(100_000).default(300),
    durationMs: z.number().int().min(0).max(600_000).default(10_000),
  });
  const manyState = manyInput.extend({ emitted: z.number().int() });

  function manyStep(index: number) {
    return createStep({
      id: `step-${String(index + 1).padStart(2, '0')}`,
      inputSchema: index === 0 ? manyInput : manyState,
      outputSchema: manyState,
      execute: async ({ inputData, writer }) => {
        const input = inputData as z.infer<typeof manyState>;
        const emittedBefore = index === 0 ? 0 : input.emitted;
        if (index >= input.steps) return { ...input, emitted: emittedBefore };
        // Events for this step: an even share of the total, the remainder going to the first steps.
        const share = Math.floor(input.events / input.steps) + (index < input.events % input.steps ? 1 : 0);
        const stepMs = input.durationMs / input.steps;
        const gap = share > 0 ? stepMs / share : stepMs;
        for (let i = 0; i < share; i++) {
          await delay(Math.round(gap));
          await writer.write({ step: index + 1, event: emittedBefore + i + 1, of: input.events });
        }
        if (share === 0) await delay(Math.round(stepMs));
        return { ...input, emitted: emittedBefore + share };
      },
    });
  }

  let manyBuilder = createWorkflow({
    id: 'many-steps',
    description: 'Up to 30 steps emitting writer events over durationMs',
    inputSchema: manyInput,
    outputSchema: manyState,
  }) as unknown as AnyWorkflow;
  for (let i = 0; i < MANY_STEPS_MAX; i++) manyBuilder = manyBuilder.then(manyStep(i));
  const manyStepsWorkflow: AnyWorkflow = manyBuilder.commit();

  // ---------------------------------------------------------------------------------------------
  // input-form: a typed inputSchema for start-form tests.

  const echoForm = createStep({
    id: 'echo-form',
    inputSchema: inputFormSchema,
    outputSchema: z.object({ summary: z.string() }),
    execute: async ({ inputData }) => ({
      summary: `${inputData.title} x${inputData.count} via ${inputData.channel}${inputData.urgent ? ' (urgent)' : ''}`,
    }),
  });

  const inputFormWorkflow = createWorkflow({
    id: 'input-form',
    description: 'Echoes a typed start form',
    inputSchema: inputFormSchema,
    outputSchema: z.object({ summary: z.string() }),
  })
    .then(echoForm)
    .commit();

  return {
    linearWorkflow,
    approvalWorkflow,
    simpleApprovalWorkflow,
    nestedWorkflow,
    parallelApprovalWorkflow,
    failingWorkflow,
    sleepForeachWorkflow,
    cancelAwareWorkflow,
    noopWorkflow,
    manyStepsWorkflow,
    inputFormWorkflow,
  };
}

/**
 * `slow-resume` (not in `testWorkflows`, register it explicitly): `gate` suspends; once resumed
 * with `{ delayMs }`, `slow-tail` emits 5 writer outputs `delayMs` apart. Gives a second execution
 * that is still running while it is observed.
 */
export function createSlowResumeWorkflow() {
  const gate = createStep({
    id: 'gate',
    inputSchema: z.object({ label: z.string() }),
    outputSchema: z.object({ label: z.string(), delayMs: z.number() }),
    suspendSchema: z.object({ label: z.string() }),
    resumeSchema: z.object({ delayMs: z.number().int().min(0) }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ label: inputData.label });
      return { label: inputData.label, delayMs: resumeData.delayMs };
    },
  });
  const slowTail = createStep({
    id: 'slow-tail',
    inputSchema: z.object({ label: z.string(), delayMs: z.number() }),
    outputSchema: z.object({ label: z.string(), ticks: z.number() }),
    execute: async ({ inputData, writer }) => {
      for (let i = 1; i <= 5; i++) {
        await delay(inputData.delayMs);
        await writer.write({ tick: i });
      }
      return { label: inputData.label, ticks: 5 };
    },
  });
  return createWorkflow({
    id: 'slow-resume',
    description: 'gate (suspends) -> slow-tail (5 writer outputs, delayMs apart)',
    inputSchema: z.object({ label: z.string() }),
    outputSchema: z.object({ label: z.string(), ticks: z.number() }),
  })
    .then(gate)
    .then(slowTail)
    .commit();
}

/** What `triage` of `forms-lists-unions` asks: a list of free strings and a discriminated union. */
export const triageResumeSchema = z.object({
  labels: z.array(z.string().max(12)).min(1).max(3).describe('Labels for the ticket'),
  route: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('email'), address: z.email() }),
    z.object({ kind: z.literal('pager'), team: z.string().min(1), urgent: z.boolean().optional() }),
  ]),
});

/**
 * `forms-lists-unions` (not in `testWorkflows`, register it explicitly): started with a title and a
 * list of watchers; `triage` suspends for `triageResumeSchema` and returns exactly what it got.
 */
export function createFormsWorkflow() {
  const input = z.object({ title: z.string().min(1), watchers: z.array(z.string()).max(3) });
  const output = z.object({
    title: z.string(),
    watchers: z.array(z.string()),
    answer: triageResumeSchema,
  });
  const triage = createStep({
    id: 'triage',
    description: 'Labels and routes a ticket',
    inputSchema: input,
    outputSchema: output,
    suspendSchema: z.object({ title: z.string() }),
    resumeSchema: triageResumeSchema,
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ title: inputData.title });
      return { title: inputData.title, watchers: inputData.watchers, answer: resumeData };
    },
  });
  return createWorkflow({
    id: 'forms-lists-unions',
    description: 'triage (suspends for a list and a discriminated union)',
    inputSchema: input,
    outputSchema: output,
  })
    .then(triage)
    .commit();
}

/** What `check` of `patterns` asks: a code with a backtracking-prone pattern, a tag RE2 cannot express. */
export const patternsResumeSchema = z.object({
  code: z.string().regex(/^(a|aa)+$/),
  tag: z
    .string()
    .regex(/^(\w)\1$/)
    .optional(),
});

/**
 * `patterns` (not in `testWorkflows`, register it explicitly): `check` suspends for
 * `patternsResumeSchema` and returns exactly what it got.
 */
export function createPatternsWorkflow() {
  const check = createStep({
    id: 'check',
    description: 'Asks for a code that must match a backtracking-prone pattern',
    inputSchema: z.object({}),
    outputSchema: patternsResumeSchema,
    resumeSchema: patternsResumeSchema,
    execute: async ({ resumeData, suspend }) => {
      if (!resumeData) return suspend({});
      return resumeData;
    },
  });
  return createWorkflow({
    id: 'patterns',
    description: 'check (suspends for a code with a backtracking-prone pattern)',
    inputSchema: z.object({}),
    outputSchema: patternsResumeSchema,
  })
    .then(check)
    .commit();
}

export type TestWorkflows = ReturnType<typeof createTestWorkflows>;

/**
 * A yes/no question, step `stepId`: suspends with the input's `amount`, resumes with `{ approved }`.
 */
export function yesNoStep(
  stepId: string,
  input: z.ZodType<{ amount: number }> = z.object({ amount: z.number() }),
) {
  return createStep({
    id: stepId,
    inputSchema: input,
    outputSchema: z.object({ approved: z.boolean() }),
    suspendSchema: z.object({ amount: z.number() }),
    resumeSchema: z.object({ approved: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ amount: inputData.amount });
      return { approved: resumeData.approved };
    },
  });
}

/**
 * `id`: one yes/no gate, step `stepId`, asking for `{ approved }` (what it suspends with: the
 * input's `amount`); the input schema defaults to `{ amount }`.
 */
export function yesNoGateWorkflow(
  id: string,
  stepId: string,
  input: z.ZodType<{ amount: number }> = z.object({ amount: z.number() }),
) {
  return createWorkflow({ id, inputSchema: input, outputSchema: z.object({ approved: z.boolean() }) })
    .then(yesNoStep(stepId, input))
    .commit();
}

/** `held`: one step that waits until `gate()` settles (read when the step runs). */
export function heldWorkflow(gate: () => Promise<void>) {
  const value = z.object({ n: z.number() });
  const wait = createStep({
    id: 'wait',
    inputSchema: value,
    outputSchema: value,
    execute: async ({ inputData }) => {
      await gate();
      return inputData;
    },
  });
  return createWorkflow({ id: 'held', inputSchema: value, outputSchema: value }).then(wait).commit();
}

/**
 * One set of the test workflows, keyed by registry key (`inner` is deliberately not registered).
 * Pass these to at most one server; `startMastraServer()` builds its own set by default.
 */
export const testWorkflows: TestWorkflows = createTestWorkflows();
export const {
  linearWorkflow,
  approvalWorkflow,
  simpleApprovalWorkflow,
  nestedWorkflow,
  parallelApprovalWorkflow,
  failingWorkflow,
  sleepForeachWorkflow,
  cancelAwareWorkflow,
  noopWorkflow,
  manyStepsWorkflow,
  inputFormWorkflow,
} = testWorkflows;
