/**
 * Who may start, cancel, and answer workflow runs.
 *
 * The policy file (path from `FLOWGATE_POLICY`) is YAML or JSON (JSON is parsed as YAML, so either works
 * whatever the extension). It is validated at start-up; every problem is reported at once with the file,
 * line:column, the key path and what was expected. See `policy.example.yaml` at the repo root.
 *
 * ```yaml
 * admins: [U0ADMIN]              # may cancel any run (and answer runs started outside Slack, see below)
 * liveRunsPerPerson: 100         # runs one person may have going at once from Slack (default 100)
 * requesters:                    # which `resourceId`s of runs started elsewhere are Slack identities
 *   userIds: true                # a Slack user ID names that user (default true)
 *   emailDomains: [example.com]  # only addresses in these domains are looked up (omitted = any)
 * workflows:
 *   approvalWorkflow:            # registry key or workflow id, matched case-insensitively
 *     start: [U1, S0GROUP]       # who may start; omitted = anyone; [] = nobody (from Slack)
 *     cancel: [U2]               # who may cancel besides the starter and admins; omitted = nobody else
 *     approvers: [U3, S0LEADS]   # who may answer suspended steps; omitted = the starter
 *     allowSelfApproval: false   # default false: with approvers configured, the starter may not answer
 *     channel: C0FINANCE         # runs Flowgate did not start are posted here (a channel ID)
 *     announce: suspended        # when: suspended (default, a step first waits), all (as soon as seen), none
 *     view: [channel, S0AUDIT]   # who may see its runs besides starter/requester, answerers and admins
 *     remindEvery: 4h            # deadlines (durations 90s, 30m, 4h, 2d, 1h30m): mention who may answer again
 *     escalateAfter: 1d          # then escalateTo may answer too, and are mentioned
 *     escalateTo: [U5, S0ONCALL]
 *     timeoutAfter: 3d           # then the step is settled without a person, as onTimeout says:
 *     onTimeout: cancel          # cancel (default) or { answer: { approved: false } }
 *     required: 2                # yes/no steps: approvals from 2 different people; one rejection rejects
 *     steps:
 *       approve:                 # step id (last path segment) or full dotted path ("inner.inner-approve")
 *         approvers: [U4]        # overrides the workflow's approvers for this step
 *         allowSelfApproval: true
 *         timeoutAfter: 2h       # each deadline key overrides the workflow's too
 *   "*":                         # rules for workflows not listed above (listed ones do not inherit from it)
 *     start: [S0ENG]
 * ```
 *
 * Entries are Slack user IDs (`U…`/`W…`) or user-group IDs (`S…`). A user matches an entry when it is
 * their ID or one of their groups (group membership is resolved by the caller and passed in).
 *
 * The format is one zod schema (`policySchema`); src/policy/load.ts reports its problems at their
 * YAML line:column. The rules the entries stand for are decided in src/policy/decide.ts.
 */
import { z } from 'zod';
import { DURATION_EXPECTED, durationWords, parseDuration } from '../deadlines/durations.ts';
import { isRecord } from '../util/is-record.ts';
import { emptyRecord, isReservedKey, setOwn } from '../util/safe-objects.ts';
import { isChannelId, isUserOrGroupId } from '../util/slack-ids.ts';
import {
  ANNOUNCE,
  type DeadlineRules,
  type RequesterRules,
  type StepPolicy,
  type WorkflowPolicy,
} from './types.ts';

/** What a value is, for "got …" in messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const got = (issue: { input?: unknown }) => describe(issue.input);

/** A Slack user or user-group ID, as the policy's entries name people. */
const ID_EXPECTED = 'a Slack user ID (U…/W…) or user-group ID (S…), e.g. U0123ABCD';
const LIST_EXPECTED = `a list of Slack user IDs (U…/W…) or user-group IDs (S…), e.g. [U0123ABCD, S0456EFGH]`;
const DEADLINE_KEYS = [
  'remindEvery',
  'escalateAfter',
  'escalateTo',
  'timeoutAfter',
  'onTimeout',
  'required',
] as const;
const TOP_KEYS = ['admins', 'requesters', 'liveRunsPerPerson', 'workflows'] as const;
const REQUESTER_KEYS = ['userIds', 'emailDomains'] as const;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const WORKFLOW_KEYS = [
  'start',
  'cancel',
  'approvers',
  'allowSelfApproval',
  'channel',
  'announce',
  'view',
  'steps',
  ...DEADLINE_KEYS,
] as const;
const STEP_KEYS = ['approvers', 'allowSelfApproval', ...DEADLINE_KEYS] as const;

/** Checks of a mapping's keys run even when some of its values have problems: every problem at once. */
const EVEN_WITH_ISSUES = { when: (payload: { value: unknown }) => isRecord(payload.value) };

const unknownKey = (keys: readonly string[]) => (issue: { code: string; input?: unknown }) =>
  issue.code === 'unrecognized_keys'
    ? `unknown key: expected one of ${keys.join(', ')}`
    : `expected a mapping with the keys ${keys.join(', ')}, got ${got(issue)}`;

const slackId = z
  .string({ error: (issue) => `expected ${ID_EXPECTED}, got ${got(issue)}` })
  .transform((value) => value.trim())
  .refine((value) => isUserOrGroupId(value), {
    error: (issue) => {
      const value = String(issue.input).trim();
      const hint = isUserOrGroupId(value.toUpperCase())
        ? ' (Slack IDs are upper-case)'
        : value.startsWith('@') || value.startsWith('<')
          ? ' (use the member ID, not a name or mention)'
          : '';
      return `expected ${ID_EXPECTED}, got ${got(issue)}${hint}`;
    },
  });

const idList = z
  .array(slackId, { error: (issue) => `expected ${LIST_EXPECTED}, got ${got(issue)}` })
  .transform(unique);

const yesNo = z.boolean({ error: (issue) => `expected true or false, got ${got(issue)}` });

const duration = z
  .string({ error: (issue) => `expected ${DURATION_EXPECTED}, got ${got(issue)}` })
  .refine((text) => parseDuration(text) !== undefined, {
    error: (issue) => `expected ${DURATION_EXPECTED}, got ${got(issue)}`,
  })
  .transform((text) => parseDuration(text) ?? 0);

const ON_TIMEOUT_EXPECTED =
  'cancel, or { answer: { … } } with the answer to resume the step with, e.g. { answer: { approved: false } }';
const onTimeout = z.union(
  [z.literal('cancel'), z.strictObject({ answer: z.custom<Record<string, unknown>>(isRecord) })],
  {
    error: (issue) => `expected ${ON_TIMEOUT_EXPECTED}, got ${got(issue)}`,
  },
);

const required = z
  .number({ error: (issue) => `expected a whole number of approvals of at least 1, got ${got(issue)}` })
  .refine((n) => Number.isInteger(n) && n >= 1, {
    error: (issue) => `expected a whole number of approvals of at least 1, got ${got(issue)}`,
  });

const deadlineShape = {
  remindEvery: duration.optional(),
  escalateAfter: duration.optional(),
  escalateTo: idList.optional(),
  timeoutAfter: duration.optional(),
  onTimeout: onTimeout.optional(),
  required: required.optional(),
};

/** Rules that only make sense together, checked within one entry (a step may complete its workflow's). */
function checkDeadlines(rules: DeadlineRules, ctx: z.RefinementCtx): void {
  // Also run when other keys of the entry have problems: then a key may still hold its raw text.
  if (
    typeof rules.escalateAfter === 'number' &&
    typeof rules.timeoutAfter === 'number' &&
    rules.escalateAfter >= rules.timeoutAfter
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['escalateAfter'],
      message: `must be shorter than timeoutAfter (${durationWords(rules.timeoutAfter)}): the step would time out before anyone is escalated to`,
    });
  }
}

/** A mapping that may be left empty (`name:` with nothing after it means no rules). */
const rulesOf = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === null ? emptyRecord() : value), schema);

const stepRules = rulesOf(
  z
    .strictObject(
      { approvers: idList.optional(), allowSelfApproval: yesNo.optional(), ...deadlineShape },
      { error: unknownKey(STEP_KEYS) },
    )
    .superRefine(checkDeadlines, EVEN_WITH_ISSUES),
);

const stepsSchema = z
  .record(z.string(), stepRules, {
    error: (issue) => `expected a mapping from step ids or dotted step paths to rules, got ${got(issue)}`,
  })
  .superRefine((steps, ctx) => {
    for (const key of Object.keys(steps)) {
      if (key.split('.').some((segment) => segment.trim() === '')) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          params: { at: 'key' },
          message: 'expected a step id or dotted step path such as "inner.approve" (empty segment)',
        });
      }
      if (isReservedKey(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          params: { at: 'key' },
          message: 'is a reserved name, not a step id',
        });
      }
    }
  }, EVEN_WITH_ISSUES);

const channel = z
  .string({ error: (issue) => `expected a Slack channel ID (C…/G…), e.g. C0123ABCD, got ${got(issue)}` })
  .transform((value) => value.trim())
  .refine((value) => isChannelId(value), {
    error: (issue) => {
      const value = String(issue.input).trim();
      const hint =
        value.startsWith('#') || value.startsWith('<')
          ? ' (use the channel ID from the channel details, not its name)'
          : isChannelId(value.toUpperCase())
            ? ' (Slack IDs are upper-case)'
            : '';
      return `expected a Slack channel ID (C…/G…), e.g. C0123ABCD, got ${got(issue)}${hint}`;
    },
  });

export const VIEW_WORDS = ['channel', 'everyone'] as const;
const VIEW_ENTRY = `a Slack user ID (U…/W…), a user-group ID (S…), channel (members of the conversation where the run's message is) or everyone`;
const viewEntry = z
  .string({ error: (issue) => `expected ${VIEW_ENTRY}, got ${got(issue)}` })
  .transform((value) => value.trim())
  .refine((value) => isUserOrGroupId(value) || (VIEW_WORDS as readonly string[]).includes(value), {
    error: (issue) => `expected ${VIEW_ENTRY}, got ${got(issue)}`,
  });
const viewList = z
  .array(viewEntry, {
    error: (issue) => `expected a list, each ${VIEW_ENTRY}, e.g. [channel, S0456EFGH], got ${got(issue)}`,
  })
  .transform(unique);

const workflowRules = rulesOf(
  z
    .strictObject(
      {
        start: idList.optional(),
        cancel: idList.optional(),
        approvers: idList.optional(),
        allowSelfApproval: yesNo.optional(),
        channel: channel.optional(),
        announce: z
          .enum(ANNOUNCE, { error: (issue) => `expected one of ${ANNOUNCE.join(', ')}, got ${got(issue)}` })
          .optional(),
        view: viewList.optional(),
        steps: z.preprocess((value) => (value === null ? emptyRecord() : value), stepsSchema).optional(),
        ...deadlineShape,
      },
      { error: unknownKey(WORKFLOW_KEYS) },
    )
    .superRefine(checkDeadlines, EVEN_WITH_ISSUES),
);

const emailDomain = z
  .string({ error: (issue) => `expected a domain name, e.g. example.com, got ${got(issue)}` })
  .transform((value) => value.trim().toLowerCase())
  .refine((value) => DOMAIN.test(value), {
    error: (issue) => {
      const value = String(issue.input).trim();
      const hint = value.includes('@') ? ' (the domain only, without the part before @)' : '';
      return `expected a domain name, e.g. example.com, got ${got(issue)}${hint}`;
    },
  });

const requestersSchema = rulesOf(
  z.strictObject(
    {
      userIds: yesNo.optional(),
      emailDomains: z
        .array(emailDomain, {
          error: (issue) => `expected a list of domain names, e.g. [example.com], got ${got(issue)}`,
        })
        .transform(unique)
        .optional(),
    },
    { error: unknownKey(REQUESTER_KEYS) },
  ),
).transform(
  ({ userIds, emailDomains }): RequesterRules => ({
    userIds: userIds ?? true,
    ...(emailDomains ? { emailDomains } : {}),
  }),
);

const workflowsSchema = z
  .record(z.string(), workflowRules, {
    error: (issue) => `expected a mapping from workflow names to rules, got ${got(issue)}`,
  })
  .superRefine((workflows, ctx) => {
    const seen = new Map<string, string>();
    for (const name of Object.keys(workflows)) {
      const first = seen.get(name.toLowerCase());
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          params: { at: 'key' },
          message: `duplicates ${formatPath(['workflows', first])} (workflow names are matched case-insensitively)`,
        });
      } else seen.set(name.toLowerCase(), name);
      if (isReservedKey(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          params: { at: 'key' },
          message: 'is a reserved name, not a workflow name',
        });
      }
    }
  }, EVEN_WITH_ISSUES);

/** The policy file's format. Its output is the `Policy` (less `source`), records without prototypes. */
export const policySchema = z
  .preprocess(
    (value) => (value === null || value === undefined ? emptyRecord() : value),
    z.strictObject(
      {
        admins: idList.optional(),
        requesters: requestersSchema.optional(),
        liveRunsPerPerson: z
          .number({ error: (issue) => `expected a whole number of runs of at least 1, got ${got(issue)}` })
          .refine((n) => Number.isInteger(n) && n >= 1, {
            error: (issue) => `expected a whole number of runs of at least 1, got ${got(issue)}`,
          })
          .optional(),
        workflows: z
          .preprocess((value) => (value === null ? emptyRecord() : value), workflowsSchema)
          .optional(),
      },
      { error: unknownKey(TOP_KEYS) },
    ),
  )
  .transform(({ admins, requesters, liveRunsPerPerson, workflows }) => {
    const byName = new Map<string, WorkflowPolicy>();
    for (const [name, rules] of Object.entries(workflows ?? {})) {
      const { steps, ...rest } = rules;
      const stepMap = new Map<string, StepPolicy>();
      for (const [key, step] of Object.entries(steps ?? {}))
        stepMap.set(key, definedOnly(step) as StepPolicy);
      byName.set(
        name.toLowerCase(),
        definedOnly({ name, ...rest, steps: stepMap }) as unknown as WorkflowPolicy,
      );
    }
    return {
      admins: admins ?? [],
      ...(requesters ? { requesters } : {}),
      ...(liveRunsPerPerson !== undefined ? { liveRunsPerPerson } : {}),
      workflows: byName as ReadonlyMap<string, WorkflowPolicy>,
    };
  });

/** A prototype-free copy with only the keys that have a value. */
function definedOnly(record: Record<string, unknown>): Record<string, unknown> {
  const out = emptyRecord<unknown>();
  for (const [key, value] of Object.entries(record)) if (value !== undefined) setOwn(out, key, value);
  return out;
}

/** The ids once each, in their first order. */
export function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** A key path as written in the file (`workflows.approvalWorkflow.steps["odd key"]`), for messages. */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
