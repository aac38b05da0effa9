/**
 * The sandbox's demo workflows (LLM-free), served by its embedded Mastra server:
 * - `expenseApproval`: an expense report approved in a rich form (every kind of input Flowgate's
 *   form engine makes: radio buttons, select, multi-select, checkboxes, number, date, time,
 *   date-time, email, URL, single and multi-line text);
 * - `deployPipeline`: five steps that take a while, each writing live output;
 * - `releaseTrain`: a nested workflow whose inner step is a plain yes/no gate (one-click Approve / Reject);
 * - `accessReview`: accounts and groups fetched in parallel, a named map step, then a `.foreach()` whose
 *   every item asks its own yes/no question under its own resume label ("Review Dana's access"), then
 *   a summary (the sandbox policy settles items nobody reviewed within 10 minutes as revoked);
 * - `incidentTriage`: a required initial state (`stateSchema`: who is on call), a branch (a sev3 is
 *   filed as a ticket and the run finishes early with `bail`), a loop that asks for an update until
 *   the answer is "done", a form with a list of strings and a choice of variants (a discriminated
 *   union), and a sleep before the write-up;
 * - `hotfixRollout`: a yes/no sign-off the sandbox policy asks two approvers for (`required: 2`),
 *   with reminders every minute, escalation to the admin and a deadline, then a short sleep.
 *
 * Every field has a default, so each start form and answer form is pre-filled: Submit alone goes through
 * (but for `incidentTriage`'s initial state, which is required on purpose: who is on call).
 * Steps that wait honour the run's abort signal, so canceling (or stopping the sandbox) ends them at once.
 */
import type { AnyWorkflow } from '@mastra/core/workflows';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { sleep } from '../util/sleep.ts';

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms > 0 && !(await sleep(ms, signal))) throw signal?.reason ?? new Error('aborted');
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

/** The people asking `accessReview` for access, by team (make-believe directory data). */
export const ACCESS_REQUESTS = {
  payments: [
    { name: 'Dana', email: 'dana@sandbox.example', asks: 'admin on the billing database' },
    { name: 'Eli', email: 'eli@sandbox.example', asks: 'read access to refunds' },
    { name: 'Farah', email: 'farah@sandbox.example', asks: 'deploy rights for payments-api' },
  ],
  platform: [
    { name: 'Gus', email: 'gus@sandbox.example', asks: 'cluster-admin on production' },
    { name: 'Hana', email: 'hana@sandbox.example', asks: 'write access to the Terraform state' },
  ],
} as const;

const GROUPS: Readonly<Record<string, readonly string[]>> = {
  'dana@sandbox.example': ['payments-eng', 'oncall'],
  'eli@sandbox.example': ['support'],
  'farah@sandbox.example': ['payments-eng'],
  'gus@sandbox.example': ['platform', 'oncall'],
  'hana@sandbox.example': ['platform'],
};

export const accessInputSchema = z.object({
  team: z.enum(['payments', 'platform']).default('payments').describe('Whose access requests to review'),
});

export const accessOutputSchema = z.object({
  kept: z.array(z.string()),
  revoked: z.array(z.string()),
  summary: z.string(),
});

export const triageInputSchema = z.object({
  title: z.string().min(1).default('Checkout latency above 2 s'),
  severity: z.enum(['sev1', 'sev2', 'sev3']).default('sev2').describe('sev3 is filed as a ticket'),
});

/** `incidentTriage`'s initial state: the run cannot start without it (`state={…}` or the form's section). */
export const triageStateSchema = z.object({
  oncall: z.string().min(1).describe('Who is on call'),
});

/** What `incidentTriage` asks to close an incident: a list of strings and a choice of variants. */
export const triageResolutionSchema = z.object({
  affected: z
    .array(z.string().min(1).max(40))
    .min(1)
    .max(10)
    .default(['checkout', 'payments-api'])
    .describe('Affected services, one per line'),
  how: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('fixed'), change: z.url().describe('The pull request that fixed it') }),
      z.object({ kind: z.literal('rolled back'), toVersion: z.string().min(1) }),
      z.object({ kind: z.literal('duplicate'), of: z.string().min(1).describe('The other incident') }),
    ])
    .default({ kind: 'rolled back', toVersion: '2.3.9' })
    .describe('How it ended'),
});

export const triageOutputSchema = z.object({
  title: z.string(),
  outcome: z.string(),
  updates: z.number().describe('Status updates posted'),
});

export const hotfixInputSchema = z.object({
  service: z.enum(['api', 'web', 'worker']).default('api'),
  version: z.string().min(1).default('2.4.1'),
  reason: z.string().min(1).default('Fixes double charges on retried payments'),
});

export const hotfixOutputSchema = z.object({ shipped: z.boolean(), outcome: z.string() });

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

  // -------------------------------------------------------------------------------------------
  // accessReview: [fetch-accounts ‖ fetch-groups] → match-requests (map) → foreach(review-access,
  // each item its own question) → summarize

  const team = accessInputSchema;
  const account = z.object({ name: z.string(), email: z.string(), asks: z.string() });
  const accessRequest = account.extend({ team: z.string(), memberOf: z.array(z.string()) });
  const accessDecision = z.object({
    name: z.string(),
    asks: z.string(),
    approved: z.boolean(),
    comment: z.string().optional(),
  });

  const fetchAccounts = createStep({
    id: 'fetch-accounts',
    description: 'Reads the accounts that asked for access',
    inputSchema: team,
    outputSchema: z.object({ team: z.string(), accounts: z.array(account) }),
    execute: async ({ inputData, writer, abortSignal }) => {
      await writer.write({ note: `reading the directory for ${inputData.team}` });
      await delay(700, abortSignal);
      return { team: inputData.team, accounts: ACCESS_REQUESTS[inputData.team].map((a) => ({ ...a })) };
    },
  });

  const fetchGroups = createStep({
    id: 'fetch-groups',
    description: 'Reads the groups each account is in',
    inputSchema: team,
    outputSchema: z.object({ groups: z.record(z.string(), z.array(z.string())) }),
    execute: async ({ inputData, writer, abortSignal }) => {
      await writer.write({ note: `reading the group memberships of ${inputData.team}` });
      await delay(400, abortSignal);
      const groups: Record<string, string[]> = Object.create(null);
      for (const a of ACCESS_REQUESTS[inputData.team]) groups[a.email] = [...(GROUPS[a.email] ?? [])];
      return { groups };
    },
  });

  const reviewAccess = createStep({
    id: 'review-access',
    description: 'An approver keeps or revokes one person’s access',
    inputSchema: accessRequest,
    outputSchema: accessDecision,
    suspendSchema: z.object({ person: z.string(), asks: z.string(), memberOf: z.string() }),
    resumeSchema: z.object({
      approved: z.boolean().default(true),
      comment: z.string().optional().describe('Why (shown in the summary)'),
    }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) {
        return suspend(
          {
            person: `${inputData.name} (${inputData.email})`,
            asks: inputData.asks,
            memberOf: inputData.memberOf.join(', ') || 'no groups',
          },
          { resumeLabel: `Review ${inputData.name}'s access` },
        );
      }
      return {
        name: inputData.name,
        asks: inputData.asks,
        approved: resumeData.approved,
        ...(resumeData.comment ? { comment: resumeData.comment } : {}),
      };
    },
  });

  const summarize = createStep({
    id: 'summarize',
    description: 'Sums up what was kept and what was revoked',
    inputSchema: z.array(accessDecision),
    outputSchema: accessOutputSchema,
    execute: async ({ inputData }) => {
      const kept = inputData.filter((d) => d.approved).map((d) => `${d.name}: ${d.asks}`);
      const revoked = inputData
        .filter((d) => !d.approved)
        .map((d) => `${d.name}: ${d.asks}${d.comment ? ` (${d.comment})` : ''}`);
      return {
        kept,
        revoked,
        summary: `${kept.length} kept, ${revoked.length} revoked of ${inputData.length} requests`,
      };
    },
  });

  const accessReview = createWorkflow({
    id: 'access-review',
    description: 'Quarterly access review: every request its own approval',
    inputSchema: accessInputSchema,
    outputSchema: accessOutputSchema,
  })
    .parallel([fetchAccounts, fetchGroups])
    .map(
      async ({ inputData }) => {
        const { team: name, accounts } = inputData['fetch-accounts'];
        const groups = inputData['fetch-groups'].groups;
        return accounts.map((a) => ({ ...a, team: name, memberOf: groups[a.email] ?? [] }));
      },
      { id: 'match-requests', description: 'Pairs each account with its groups' },
    )
    .foreach(reviewAccess, { concurrency: 3 })
    .then(summarize)
    .commit();

  // -------------------------------------------------------------------------------------------
  // incidentTriage (state: who is on call): assess → branch (file-ticket | open-incident) → route
  // (a ticket finishes early with bail) → dountil(post-update, until "done") → resolve (list + union form)
  // → sleep → write-up

  const assessed = triageInputSchema.extend({ oncall: z.string() });
  const opened = assessed.extend({ bridge: z.string() });
  const turn = z.object({ title: z.string(), oncall: z.string(), turn: z.number(), update: z.string() });

  const assess = createStep({
    id: 'assess',
    description: 'Reads the alert and who is on call',
    inputSchema: triageInputSchema,
    outputSchema: assessed,
    stateSchema: triageStateSchema,
    execute: async ({ inputData, state, writer, abortSignal }) => {
      await writer.write({ note: `${inputData.severity}: ${inputData.title}` });
      await delay(400, abortSignal);
      return { ...inputData, oncall: state.oncall };
    },
  });

  const fileTicket = createStep({
    id: 'file-ticket',
    description: 'A sev3 becomes a ticket',
    inputSchema: assessed,
    outputSchema: z.object({ title: z.string(), ticket: z.string() }),
    execute: async ({ inputData }) => ({
      title: inputData.title,
      ticket: `filed as a ticket for ${inputData.oncall}: a sev3 needs no incident`,
    }),
  });

  const openIncident = createStep({
    id: 'open-incident',
    description: 'Opens an incident and pages whoever is on call',
    inputSchema: assessed,
    outputSchema: opened,
    execute: async ({ inputData, writer, abortSignal }) => {
      await writer.write({ paged: inputData.oncall });
      await delay(300, abortSignal);
      return { ...inputData, bridge: `https://meet.example.com/inc-${inputData.severity}` };
    },
  });

  // A step, not a map: `bail` ends the whole run only from a step of the workflow itself (from
  // inside a branch it would end the branch alone).
  const route = createStep({
    id: 'route',
    description: 'Ends here for a ticket; starts the updates for an incident',
    inputSchema: z.object({
      'file-ticket': z.object({ title: z.string(), ticket: z.string() }).optional(),
      'open-incident': opened.optional(),
    }),
    outputSchema: turn,
    execute: async ({ inputData, bail }) => {
      const ticket = inputData['file-ticket'];
      if (ticket) return bail({ title: ticket.title, outcome: ticket.ticket, updates: 0 });
      const incident = inputData['open-incident'] as z.infer<typeof opened>;
      return { title: incident.title, oncall: incident.oncall, turn: 1, update: '' };
    },
  });

  const postUpdate = createStep({
    id: 'post-update',
    description: 'Asks for a status update, again and again until it is "done"',
    inputSchema: turn,
    outputSchema: turn,
    suspendSchema: z.object({ incident: z.string(), ask: z.string() }),
    resumeSchema: z.object({
      update: z
        .string()
        .min(1)
        .default('Rolled back the config; watching the graphs')
        .describe('Type done when resolved'),
    }),
    execute: async ({ inputData, resumeData, suspend, writer }) => {
      if (!resumeData) {
        return suspend(
          {
            incident: inputData.title,
            ask: `Status update ${inputData.turn}: what changed? Answer "done" once it is resolved.`,
          },
          { resumeLabel: `Post update ${inputData.turn}` },
        );
      }
      await writer.write({ update: resumeData.update });
      return { ...inputData, turn: inputData.turn + 1, update: resumeData.update };
    },
  });

  const resolve = createStep({
    id: 'resolve',
    description: 'Records what was affected and how it ended',
    inputSchema: turn,
    outputSchema: turn.extend({ resolution: triageResolutionSchema }),
    suspendSchema: z.object({ incident: z.string(), updates: z.number() }),
    resumeSchema: triageResolutionSchema,
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) {
        return suspend(
          { incident: inputData.title, updates: inputData.turn - 1 },
          { resumeLabel: 'Close the incident' },
        );
      }
      return { ...inputData, resolution: resumeData };
    },
  });

  const writeUp = createStep({
    id: 'write-up',
    description: 'Writes the incident summary',
    inputSchema: turn.extend({ resolution: triageResolutionSchema }),
    outputSchema: triageOutputSchema,
    execute: async ({ inputData }) => {
      const { affected, how } = inputData.resolution;
      const ending =
        how.kind === 'fixed'
          ? `fixed by ${how.change}`
          : how.kind === 'rolled back'
            ? `rolled back to ${how.toVersion}`
            : `a duplicate of ${how.of}`;
      return {
        title: inputData.title,
        outcome: `${ending}; affected: ${affected.join(', ')}`,
        updates: inputData.turn - 1,
      };
    },
  });

  const incidentTriage = createWorkflow({
    id: 'incident-triage',
    description: 'An alert triaged: a branch, a loop of updates, a list and a choice of variants',
    inputSchema: triageInputSchema,
    outputSchema: triageOutputSchema,
    stateSchema: triageStateSchema,
  })
    .then(assess)
    .branch([
      [async ({ inputData }) => inputData.severity === 'sev3', fileTicket],
      [async ({ inputData }) => inputData.severity !== 'sev3', openIncident],
    ])
    .then(route)
    .dountil(postUpdate, async ({ inputData }) => inputData.update.trim().toLowerCase() === 'done')
    .then(resolve)
    .sleep(3000, { id: 'cool-down', description: 'Waits a moment before writing it up' })
    .then(writeUp)
    .commit();

  // -------------------------------------------------------------------------------------------
  // hotfixRollout: plan → sign-off (yes/no; the sandbox policy asks two approvers) → bake (sleep)
  // → roll-out

  const planned = hotfixInputSchema.extend({ diff: z.string() });
  const signed = planned.extend({ approved: z.boolean(), comment: z.string().optional() });

  const plan = createStep({
    id: 'plan',
    description: 'Builds the hotfix and its diff',
    inputSchema: hotfixInputSchema,
    outputSchema: planned,
    execute: async ({ inputData, writer, abortSignal }) => {
      await writer.write({ note: `building ${inputData.service}@${inputData.version}` });
      await delay(500, abortSignal);
      return { ...inputData, diff: '3 files changed, 12 insertions(+), 4 deletions(-)' };
    },
  });

  const signOff = createStep({
    id: 'sign-off',
    description: 'Two approvers sign off the hotfix',
    inputSchema: planned,
    outputSchema: signed,
    suspendSchema: z.object({ question: z.string(), diff: z.string(), why: z.string() }),
    resumeSchema: z.object({ approved: z.boolean().default(true), comment: z.string().optional() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) {
        return suspend(
          {
            question: `Roll ${inputData.service}@${inputData.version} out to production now?`,
            diff: inputData.diff,
            why: inputData.reason,
          },
          { resumeLabel: 'Sign off the hotfix' },
        );
      }
      return {
        ...inputData,
        approved: resumeData.approved,
        ...(resumeData.comment ? { comment: resumeData.comment } : {}),
      };
    },
  });

  const rollOut = createStep({
    id: 'roll-out',
    description: 'Rolls the hotfix out, or leaves production alone',
    inputSchema: signed,
    outputSchema: hotfixOutputSchema,
    execute: async ({ inputData, writer, abortSignal }) => {
      if (!inputData.approved) {
        return {
          shipped: false,
          outcome: `${inputData.service}@${inputData.version} not rolled out${inputData.comment ? `: ${inputData.comment}` : ''}`,
        };
      }
      for (const n of [1, 2, 3]) {
        await delay(300, abortSignal);
        await writer.write(`production: pod ${n}/3 on ${inputData.version}`);
      }
      return { shipped: true, outcome: `${inputData.service}@${inputData.version} is live in production` };
    },
  });

  const hotfixRollout = createWorkflow({
    id: 'hotfix-rollout',
    description: 'A production hotfix that needs two sign-offs, with reminders and a deadline',
    inputSchema: hotfixInputSchema,
    outputSchema: hotfixOutputSchema,
  })
    .then(plan)
    .then(signOff)
    .sleep(2000, { id: 'bake', description: 'Lets the signed build settle' })
    .then(rollOut)
    .commit();

  return { expenseApproval, deployPipeline, releaseTrain, accessReview, incidentTriage, hotfixRollout };
}
