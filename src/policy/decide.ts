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
 * Rules:
 * - Workflow lookup: the entry whose name equals the registry key, else the workflow id (both
 *   case-insensitive), else `"*"`, else the built-in default (anyone starts, starter answers).
 * - Start: allowed when `start` is omitted or lists the user. Admins get no special start right.
 * - Cancel: the starter, admins (file `admins` + `FLOWGATE_ADMINS`), and anyone in `cancel`.
 * - View (`canView`): the starter or requester, everyone who may answer any of its steps, admins, and
 *   the `view` entries: IDs, `channel` (members of the run's conversation, the default), `everyone`.
 * - Answer: step rule = the step entry matching the full dotted step path, else the one matching the
 *   step id (last segment); its `approvers` / `allowSelfApproval` override the workflow's when given.
 *   - No approvers configured: the starter is the approver. For runs started outside Slack
 *     (`starterId: null`) only admins may answer.
 *   - Approvers configured: the user must be listed (directly or through a group). The starter is
 *     refused, even if listed, unless `allowSelfApproval` is true. Admins follow the same rule.
 *   - Escalation: once the step has waited `escalateAfter` (the request says since when), the
 *     people and groups in `escalateTo` may answer too (the starter still not, without self-approval).
 * - Requester not yet known (`starterPending`: a run started elsewhere whose requester could not be
 *   looked up yet): nobody may answer a step whose rule depends on who the requester is (the
 *   starter answers, or self-approval is off) until they are known; cancel as with no starter.
 * - Requesters (`requesterAllowed`): a run's `resourceId` is trusted as its requester's identity
 *   unless `requesters` says otherwise; one it does not allow is text only (the run has no starter).
 * - Deadlines (`deadlineRulesFor`): each key from the step entry when it sets it, else the workflow's.
 *   The format is one zod schema (`policySchema`); problems are reported at their YAML line:column.
 */
import { readFileSync, statSync } from 'node:fs';
import {
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import { z } from 'zod';
import { DURATION_EXPECTED, durationWords, parseDuration } from '../deadlines/durations.ts';
import { stepText } from '../slack/text/mrkdwn.ts';
import { emptyRecord, isReservedKey, own, setOwn } from '../util/safe-objects.ts';

/** What becomes of a step nobody answered within `timeoutAfter`. */
export type OnTimeout = 'cancel' | { answer: Record<string, unknown> };

/** The rules that keep a waiting step from getting stuck (durations in milliseconds). */
export interface DeadlineRules {
  /** Mention who may answer again in the thread, this often, while the step waits. */
  remindEvery?: number;
  /** After this long, `escalateTo` may answer too, and are mentioned. */
  escalateAfter?: number;
  escalateTo?: readonly string[];
  /** After this long the step is settled without a person, as `onTimeout` says (default `cancel`). */
  timeoutAfter?: number;
  onTimeout?: OnTimeout;
  /** Yes/no steps: approvals from this many different people (default 1); one rejection rejects. */
  required?: number;
}

export interface StepPolicy extends DeadlineRules {
  approvers?: readonly string[];
  allowSelfApproval?: boolean;
}

export interface WorkflowPolicy extends DeadlineRules {
  /** The name as written in the file (registry key, workflow id, or `*`). */
  name: string;
  start?: readonly string[];
  cancel?: readonly string[];
  approvers?: readonly string[];
  allowSelfApproval?: boolean;
  /** Where runs of this workflow that Flowgate did not start are posted (a channel ID). */
  channel?: string;
  /** When such a run is posted: when a step first waits (default), as soon as it is seen, or never. */
  announce?: Announce;
  /**
   * Who may see its runs besides their starter or requester, the people who may answer them and
   * admins: user and group IDs, `channel` (members of the conversation where the run's message
   * is) and `everyone`. Omitted = `[channel]`.
   */
  view?: readonly string[];
  /** Keyed by step id or dotted step path, as written. */
  steps: ReadonlyMap<string, StepPolicy>;
}

/**
 * Which `resourceId`s of runs started elsewhere are taken as Slack identities (whoever can call
 * Mastra's API can name any requester). Omitted: user IDs and e-mail addresses of any domain.
 */
export interface RequesterRules {
  /** A Slack user ID names that user (default true). */
  userIds: boolean;
  /** Only e-mail addresses in these domains (lower-cased, exact) are looked up; omitted = any. */
  emailDomains?: readonly string[];
}

export interface Policy {
  /** The file the policy came from; `null` for the built-in default. */
  source: string | null;
  /** Admin user IDs and group IDs (file `admins`, merged with `FLOWGATE_ADMINS` by `loadPolicy`). */
  admins: readonly string[];
  /** Which requesters of runs started elsewhere are trusted as Slack identities; omitted = all. */
  requesters?: RequesterRules;
  /** How many runs one person may have going at once from Slack (see `liveRunsLimit`). */
  liveRunsPerPerson?: number;
  /** Keyed by lower-cased workflow name; `*` is the default for workflows not listed. */
  workflows: ReadonlyMap<string, WorkflowPolicy>;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

export interface WorkflowRef {
  workflowId: string;
  workflowKey: string;
}

export interface StartRequest extends WorkflowRef {
  userId: string;
  userGroups: readonly string[];
}

export interface CancelRequest extends WorkflowRef {
  userId: string;
  userGroups: readonly string[];
  starterId: string | null;
}

export interface AnswerersRequest extends WorkflowRef {
  stepPath: readonly string[];
  starterId: string | null;
  /**
   * The run has a requester who is not yet known (`starterId` is null until they are): whoever
   * answers might be them, so steps whose rule depends on the starter take no answers meanwhile.
   */
  starterPending?: boolean;
  /**
   * How long the step has waited: from `since` (when it suspended) to `now`. With it, people named
   * by `escalateTo` may answer once `escalateAfter` has passed; without it, nobody is escalated to.
   */
  waiting?: { since: Date; now: Date };
}

export interface AnswerRequest extends AnswerersRequest {
  userId: string;
  userGroups: readonly string[];
}

/**
 * Who may answer a step: the one source of the "who may answer" text, the mentions, and the check
 * on every click and submission, so they cannot disagree.
 */
export interface Answerers {
  /** Whose answer counts: the run's starter (no approvers configured), the admins (no approvers and no starter), or the listed approvers. */
  kind: 'starter' | 'admins' | 'approvers';
  users: string[];
  groups: string[];
  /** The starter may not answer even when listed (directly or through a group): self-approval is off. */
  starterRefused: boolean;
  /** Set when the rules leave nobody who may answer: why, and what to change in the policy (plain text). */
  nobody?: string;
  /**
   * Set while the run's requester is not yet known and the rule depends on who they are: nobody may
   * answer until they are (plain text, why). `users` and `groups` are then empty.
   */
  pending?: string;
  /** Set once the step has waited `escalateAfter`: the people and groups added by `escalateTo` (already in `users`/`groups`). */
  escalated?: { after: number; to: string[] };
}

/** Thrown when a policy file cannot be read or is invalid; `problems` holds one line per problem. */
export class PolicyError extends Error {
  readonly source: string;
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super([`Invalid policy file ${source} (${count}):`, ...problems.map((p) => `  - ${p}`)].join('\n'));
    this.name = 'PolicyError';
    this.source = source;
    this.problems = problems;
  }
}

const ALLOWED = { allowed: true } as const satisfies Decision;
const deny = (reason: string): Decision => ({ allowed: false, reason });

/** The built-in policy: anyone may start, the starter and admins may cancel, the starter answers. */
export function defaultPolicy(admins: readonly string[] = []): Policy {
  return { source: null, admins: unique(admins), workflows: new Map() };
}

/** A copy of `policy` with `admins` added to its admins. */
export function withAdmins(policy: Policy, admins: readonly string[]): Policy {
  return { ...policy, admins: unique([...policy.admins, ...admins]) };
}

/**
 * Loads the policy file at `path`, or the default policy when no path is given.
 * `options.admins` (e.g. `FLOWGATE_ADMINS`) are merged with the file's `admins`.
 * @throws PolicyError listing every problem.
 */
export function loadPolicy(path?: string, options: { admins?: readonly string[] } = {}): Policy {
  const admins = options.admins ?? [];
  if (path === undefined || path.trim() === '') return defaultPolicy(admins);
  let text: string;
  try {
    const { size } = statSync(path);
    if (size > MAX_POLICY_BYTES) throw new PolicyError(path, [tooBig(path, size)]);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'this is a directory'
          : `cannot be read (${code ?? String(error)})`;
    throw new PolicyError(path, [
      `${path}: ${what}: expected a readable policy file (YAML or JSON), as given by FLOWGATE_POLICY`,
    ]);
  }
  return withAdmins(parsePolicy(text, path), admins);
}

/**
 * Parses and validates policy text (YAML or JSON). `source` names it in error messages.
 * An empty document is the default policy.
 *
 * One way: the YAML document is read into plain data (remembering where each key and value is),
 * the data is checked against one zod schema (`policySchema`), and every zod issue is reported at
 * its key's or value's line:column.
 * @throws PolicyError listing every problem.
 */
export function parsePolicy(text: string, source: string): Policy {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_POLICY_BYTES) throw new PolicyError(source, [tooBig(source, bytes)]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const found: { offset: number; text: string }[] = [];
  /** Problems in file order; those without a position come first. */
  const problems = () => found.sort((a, b) => a.offset - b.offset).map((p) => p.text);
  const report = (offset: number | undefined, message: string) => {
    if (offset === undefined) {
      found.push({ offset: -1, text: `${source}: ${message}` });
      return;
    }
    const { line, col } = lineCounter.linePos(offset);
    found.push({ offset, text: `${source}:${line}:${col}: ${message}` });
  };

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      report(error.pos[0], `${error.message.split('\n')[0]} (the file is not valid YAML or JSON)`);
    }
    throw new PolicyError(source, problems());
  }

  const { data, positions } = readDocument(doc, (offset, path, message) =>
    report(offset, path === null ? message : `${formatPath(path)}: ${message}`),
  );
  if (data === undefined) throw new PolicyError(source, problems()); // aliases refused
  const result = policySchema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path as (string | number)[];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          report(
            positions.get(pathKey([...path, key]))?.key,
            `${formatPath([...path, key])}: ${issue.message}`,
          );
        }
        continue;
      }
      const at = positions.get(pathKey(path));
      const atKey = (issue as { params?: { at?: string } }).params?.at === 'key' || at?.empty;
      report(
        atKey ? (at?.key ?? at?.value) : (at?.value ?? at?.key),
        `${formatPath(path)}: ${issue.message}`,
      );
    }
  }
  if (found.length > 0 || !result.success) throw new PolicyError(source, problems());
  return { source, ...result.data };
}

type Path = readonly (string | number)[];
const pathKey = (path: Path) => JSON.stringify(path);

/** A policy file larger than this is refused before it is parsed. */
export const MAX_POLICY_BYTES = 1024 * 1024;
/** At most this many aliases (`*name`) in a policy file. */
export const MAX_ALIASES = 100;
/** The `yaml` library's own limit on alias expansion (its `maxAliasCount`; its default too). */
const MAX_ALIAS_COUNT = 100;
/** At most this many values read through aliases, each alias counted as often as it is used. */
export const MAX_ALIAS_VALUES = 10_000;

function tooBig(source: string, bytes: number): string {
  const size = bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
  return `${source}: the policy file is ${size}; a policy file may be at most 1 MiB`;
}

const ALIAS_HINT = 'write the values out, or use fewer and less nested aliases';

/**
 * The document as plain data (prototype-free records, aliases followed), and where each value and
 * its key start. Keys must be non-empty strings (the only problem reported here: zod sees strings).
 *
 * Aliases are bounded before anything is expanded: at most `MAX_ALIASES` of them, then the `yaml`
 * library's own limit (`toJS` with `maxAliasCount`, which refuses a "billion laughs" file without
 * expanding it), and `MAX_ALIAS_VALUES` values read through aliases. Each alias is followed to the last
 * anchor before it, found in one pass over the document.
 */
function readDocument(
  doc: ReturnType<typeof parseDocument>,
  /** `path` null: a problem of the whole file, not of one value. */
  problem: (offset: number | undefined, path: Path | null, message: string) => void,
): { data: unknown; positions: Map<string, { key?: number; value?: number; empty?: boolean }> } {
  const positions = new Map<string, { key?: number; value?: number; empty?: boolean }>();
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node | undefined>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor !== undefined) anchors.set(node.anchor, node);
    },
  });
  const aliases = [...targets.keys()];
  const offsetOf = (node: Alias | undefined) => node?.range?.[0];
  if (aliases.length > MAX_ALIASES) {
    problem(offsetOf(aliases[MAX_ALIASES]), null, `more than ${MAX_ALIASES} aliases (*name): ${ALIAS_HINT}`);
    return { data: undefined, positions };
  }
  const unresolved = aliases.filter((alias) => targets.get(alias) === undefined);
  for (const alias of unresolved)
    problem(offsetOf(alias), null, `*${alias.source}: no anchor &${alias.source} before this alias`);
  if (unresolved.length > 0) return { data: undefined, positions };
  if (aliases.length > 0) {
    try {
      doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problem(offsetOf(aliases[0]), null, `the aliases (*name) expand too much (${reason}): ${ALIAS_HINT}`);
      return { data: undefined, positions };
    }
  }
  let expanded = 0;
  let over = false;
  /** `via`: the outermost alias this value is read through. */
  const read = (raw: unknown, path: Path, depth: number, via?: Alias): unknown => {
    if (over) return undefined;
    const through = via ?? (isAlias(raw) ? raw : undefined);
    const node = isAlias(raw) ? targets.get(raw) : raw;
    if (through !== undefined && ++expanded > MAX_ALIAS_VALUES) {
      over = true;
      problem(
        offsetOf(through),
        path,
        `the aliases (*name) expand to more than ${MAX_ALIAS_VALUES.toLocaleString('en-US')} values: ${ALIAS_HINT}`,
      );
      return undefined;
    }
    const at = positions.get(pathKey(path)) ?? {};
    at.value = (node as Node | null | undefined)?.range?.[0] ?? at.value;
    positions.set(pathKey(path), at);
    if (depth > 50) return undefined;
    if (isMap(node)) {
      const out = emptyRecord<unknown>();
      for (const pair of node.items) {
        const key = isAlias(pair.key) ? targets.get(pair.key) : pair.key;
        if (!isScalar(key) || typeof key.value !== 'string' || key.value.trim() === '') {
          problem(
            (key as Node | null)?.range?.[0],
            path,
            `expected keys to be non-empty names, got ${describe(isScalar(key) ? key.value : isSeq(key) ? [] : isMap(key) ? {} : null)}`,
          );
          continue;
        }
        const childPath = [...path, key.value];
        positions.set(pathKey(childPath), { key: key.range?.[0] });
        const value = read(pair.value, childPath, depth + 1, through);
        if (value === null || value === undefined) positions.get(pathKey(childPath))!.empty = true;
        setOwn(out, key.value, value ?? null);
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((item, index) => read(item, [...path, index], depth + 1, through));
    if (isScalar(node)) return node.value;
    return null;
  };
  const data = read(doc.contents, [], 0);
  return { data: over ? undefined : data, positions };
}

/** What a value is, for "got …" in messages. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const got = (issue: { input?: unknown }) => describe(issue.input);

// ---------------------------------------------------------------------------------------------
// The format: one zod schema

const ID = /^[UWS][A-Z0-9]+$/;
const CHANNEL_ID = /^[CG][A-Z0-9]+$/;
export const ANNOUNCE = ['suspended', 'all', 'none'] as const;
export type Announce = (typeof ANNOUNCE)[number];
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
  .refine((value) => ID.test(value), {
    error: (issue) => {
      const value = String(issue.input).trim();
      const hint = ID.test(value.toUpperCase())
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
  .refine((value) => CHANNEL_ID.test(value), {
    error: (issue) => {
      const value = String(issue.input).trim();
      const hint =
        value.startsWith('#') || value.startsWith('<')
          ? ' (use the channel ID from the channel details, not its name)'
          : CHANNEL_ID.test(value.toUpperCase())
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
  .refine((value) => ID.test(value) || (VIEW_WORDS as readonly string[]).includes(value), {
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Decisions

/** The workflow entry that applies: registry key, then workflow id, then `*`. */
export function workflowPolicyFor(policy: Policy, ref: WorkflowRef): WorkflowPolicy | undefined {
  return (
    policy.workflows.get(ref.workflowKey.toLowerCase()) ??
    policy.workflows.get(ref.workflowId.toLowerCase()) ??
    policy.workflows.get('*')
  );
}

interface EffectiveStepRule {
  approvers: readonly string[] | undefined;
  allowSelfApproval: boolean;
  /** Whether `allowSelfApproval: false` came from the step entry (for the message). */
  selfApprovalFromStep: boolean;
}

/**
 * Every rule is read from the policy's own properties (`own`), so not even a polluted
 * `Object.prototype` could change a decision.
 */
function stepRuleFor(policy: Policy, ref: WorkflowRef, stepPath: readonly string[]): EffectiveStepRule {
  const workflow = workflowPolicyFor(policy, ref);
  const steps = own(workflow, 'steps');
  const step = steps?.get(stepPath.join('.')) ?? steps?.get(stepPath.at(-1) ?? '');
  const stepSelf = own(step, 'allowSelfApproval');
  return {
    approvers: own(step, 'approvers') ?? own(workflow, 'approvers'),
    allowSelfApproval: stepSelf ?? own(workflow, 'allowSelfApproval') ?? false,
    selfApprovalFromStep: stepSelf !== undefined,
  };
}

function matches(entries: readonly string[], userId: string, userGroups: readonly string[]): boolean {
  return entries.includes(userId) || userGroups.some((group) => entries.includes(group));
}

const nameOf = (ref: WorkflowRef) => ref.workflowKey || ref.workflowId;
/** A step as people read it everywhere (src/slack/text/mrkdwn.ts), in the plain text of a reason. */
const stepName = (stepPath: readonly string[]) => stepText(stepPath);

/** Runs one person may have going at once from Slack when the policy does not say. */
export const DEFAULT_LIVE_RUNS_PER_PERSON = 100;

/** How many runs started from Slack one person may have going at once (`liveRunsPerPerson`). */
export function liveRunsLimit(policy: Policy): number {
  return own(policy, 'liveRunsPerPerson') ?? DEFAULT_LIVE_RUNS_PER_PERSON;
}

export function canStart(policy: Policy, request: StartRequest): Decision {
  const start = own(workflowPolicyFor(policy, request), 'start');
  if (start === undefined || matches(start, request.userId, request.userGroups)) return ALLOWED;
  if (start.length === 0) return deny(`Nobody may start ${nameOf(request)} from Slack.`);
  return deny(`You are not allowed to start ${nameOf(request)}: the policy limits who may start it.`);
}

export function canCancel(policy: Policy, request: CancelRequest): Decision {
  const { userId, userGroups, starterId } = request;
  if (starterId !== null && userId === starterId) return ALLOWED;
  if (matches(policy.admins, userId, userGroups)) return ALLOWED;
  const cancel = own(workflowPolicyFor(policy, request), 'cancel') ?? [];
  if (matches(cancel, userId, userGroups)) return ALLOWED;
  const who = [
    ...(starterId !== null ? ['the person who started it'] : []),
    ...(cancel.length > 0 ? [`the people the policy allows to cancel ${nameOf(request)}`] : []),
    'admins',
  ];
  const list = who.length === 1 ? who[0] : `${who.slice(0, -1).join(', ')} and ${who.at(-1)}`;
  return starterId === null
    ? deny(`This run was started outside Slack: only ${list} may cancel it.`)
    : deny(`Only ${list} may cancel this run.`);
}

/** Who may see a run (see `viewersFor`); the facts only the caller can look up come with it. */
export interface ViewRequest extends WorkflowRef {
  userId: string;
  userGroups: readonly string[];
  /** The run's starter, or its requester when it was started elsewhere; null when nobody is known. */
  starterId: string | null;
  /**
   * Whether the user is a member of the conversation where the run's progress message is;
   * undefined when the run has no message, or it was not (yet) looked up.
   */
  inConversation?: boolean;
}

/**
 * Who may see a run of a workflow — its status, its runs list entry, its outputs and questions:
 * the `view` entries (default `[channel]`), plus always the starter or requester, everyone who may
 * answer one of its steps (any step's approvers, escalation included) and admins.
 */
export interface Viewers {
  everyone: boolean;
  /** Members of the conversation where the run's progress message is. */
  conversation: boolean;
  users: string[];
  groups: string[];
}

export function viewersFor(policy: Policy, ref: WorkflowRef, starterId: string | null): Viewers {
  const workflow = workflowPolicyFor(policy, ref);
  const view = own(workflow, 'view') ?? ['channel'];
  const ids = [...policy.admins, ...view.filter((entry) => ID.test(entry))];
  if (starterId !== null) ids.push(starterId);
  const approvers = own(workflow, 'approvers');
  // With no approvers configured, the starter answers (or, without one, the admins): both are in already.
  if (approvers !== undefined) ids.push(...approvers);
  ids.push(...(own(workflow, 'escalateTo') ?? []));
  for (const step of own(workflow, 'steps')?.values() ?? [])
    ids.push(...(own(step, 'approvers') ?? []), ...(own(step, 'escalateTo') ?? []));
  const all = unique(ids);
  return {
    everyone: view.includes('everyone'),
    conversation: view.includes('channel'),
    users: all.filter((id) => !id.startsWith('S')),
    groups: all.filter((id) => id.startsWith('S')),
  };
}

export function canView(policy: Policy, request: ViewRequest): Decision {
  const who = viewersFor(policy, request, request.starterId);
  if (who.everyone || matches([...who.users, ...who.groups], request.userId, request.userGroups))
    return ALLOWED;
  if (who.conversation && request.inConversation === true) return ALLOWED;
  return deny(
    who.conversation
      ? 'You may not see this run: its message is in a conversation you are not in. Ask the person who started it, or an admin.'
      : `You may not see this run: the policy limits who may see runs of ${nameOf(request)}. Ask the person who started it, or an admin.`,
  );
}

/**
 * Whether a run's `resourceId`, read as a Slack user ID or an e-mail address (lower-cased), may be
 * taken as its requester's Slack identity under the policy's `requesters`; one that may not is
 * shown as text only, and the run is answered and canceled as one with no starter.
 */
export function requesterAllowed(policy: Policy, who: { userId: string } | { email: string }): boolean {
  const rules = own(policy, 'requesters');
  if (rules === undefined) return true;
  if ('userId' in who) return own(rules, 'userIds') !== false;
  const domains = own(rules, 'emailDomains');
  if (domains === undefined) return true;
  const domain = who.email.slice(who.email.lastIndexOf('@') + 1).toLowerCase();
  return domains.includes(domain);
}

/**
 * Where and when runs of a workflow that Flowgate did not start are posted: its entry's `channel`
 * and `announce` (default `suspended`); undefined when they are not posted at all.
 */
export function announcementFor(
  policy: Policy,
  ref: WorkflowRef,
): { channel: string; announce: Exclude<Announce, 'none'> } | undefined {
  const workflow = workflowPolicyFor(policy, ref);
  const channel = own(workflow, 'channel');
  const announce = own(workflow, 'announce') ?? 'suspended';
  if (channel === undefined || announce === 'none') return undefined;
  return { channel, announce };
}

/** Every channel the policy posts runs started elsewhere in (to check at start-up). */
export function announcementChannels(policy: Policy): { channel: string; workflows: string[] }[] {
  const byChannel = new Map<string, string[]>();
  for (const workflow of policy.workflows.values()) {
    const channel = own(workflow, 'channel');
    if (channel === undefined || own(workflow, 'announce') === 'none') continue;
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), workflow.name]);
  }
  return [...byChannel].map(([channel, workflows]) => ({ channel, workflows }));
}

/**
 * Who may answer a step of a run (see `Answerers`), at the moment `request.waiting.now` says: once
 * the step has waited `escalateAfter`, the people in `escalateTo` may answer too. Pure; group
 * membership is not looked up.
 */
export function answerersFor(policy: Policy, request: AnswerersRequest): Answerers {
  const base = baseAnswerers(policy, request);
  if (base.pending !== undefined) return base;
  const { escalateAfter, escalateTo } = deadlineRulesFor(policy, request, request.stepPath);
  const { waiting } = request;
  if (
    escalateAfter === undefined ||
    escalateTo === undefined ||
    waiting === undefined ||
    waiting.now.getTime() - waiting.since.getTime() < escalateAfter
  ) {
    return base;
  }
  const allowed = escalateTo.filter((id) => !base.starterRefused || id !== request.starterId);
  const users = unique([...base.users, ...allowed.filter((id) => !id.startsWith('S'))]);
  const groups = unique([...base.groups, ...allowed.filter((id) => id.startsWith('S'))]);
  const { nobody, ...rest } = base;
  const escalated = { after: escalateAfter, to: allowed };
  if (users.length === 0 && groups.length === 0)
    return { ...rest, users, groups, escalated, ...(nobody ? { nobody } : {}) };
  return { ...rest, users, groups, escalated };
}

function baseAnswerers(policy: Policy, request: AnswerersRequest): Answerers {
  const rule = stepRuleFor(policy, request, request.stepPath);
  const step = stepName(request.stepPath);
  const { starterId } = request;
  const split = (ids: readonly string[]) => ({
    users: ids.filter((id) => !id.startsWith('S')),
    groups: ids.filter((id) => id.startsWith('S')),
  });
  // The requester is not yet known: never treated as a run with no starter. Anyone who might be
  // them is refused while the rule depends on who they are.
  if (request.starterPending && starterId === null) {
    if (rule.approvers === undefined)
      return {
        kind: 'starter',
        users: [],
        groups: [],
        starterRefused: false,
        pending: `The requester of this run is not yet known in Slack; step ${step} is answered by the requester, so it can be answered once Flowgate knows who they are.`,
      };
    if (!rule.allowSelfApproval)
      return {
        kind: 'approvers',
        users: [],
        groups: [],
        starterRefused: true,
        pending: `The requester of this run is not yet known in Slack; step ${step} of ${nameOf(request)} does not allow approving your own run, so nobody may answer it until Flowgate knows who the requester is.`,
      };
  }
  if (rule.approvers === undefined) {
    if (starterId !== null) return { kind: 'starter', users: [starterId], groups: [], starterRefused: false };
    const admins = { kind: 'admins' as const, ...split(policy.admins), starterRefused: false };
    if (policy.admins.length > 0) return admins;
    return {
      ...admins,
      nobody: `This run was started outside Slack, the policy names no approvers for step ${step} of ${nameOf(request)}, and there are no admins. Add approvers for this workflow or step (or admins) to the policy.`,
    };
  }
  const starterRefused = starterId !== null && !rule.allowSelfApproval;
  const listed = {
    kind: 'approvers' as const,
    ...split(rule.approvers.filter((id) => !starterRefused || id !== starterId)),
    starterRefused,
  };
  if (rule.approvers.length === 0) {
    return {
      ...listed,
      nobody: `The policy says nobody may answer step ${step} of ${nameOf(request)} from Slack (its approvers list is empty).`,
    };
  }
  if (listed.users.length === 0 && listed.groups.length === 0) {
    return {
      ...listed,
      nobody: `The only approver of step ${step} of ${nameOf(request)} is the person who started this run, and the policy does not allow approving your own run. Add other approvers for this step, or set allowSelfApproval: true for it.`,
    };
  }
  return listed;
}

/** The deadline rules of a step that has `required` and `onTimeout` filled in with their defaults. */
export interface StepDeadlines extends DeadlineRules {
  required: number;
  onTimeout?: OnTimeout;
}

/**
 * The deadline rules that apply to a step: each key from the step entry (full dotted path, else
 * step id) when it sets it, else from the workflow entry. `onTimeout` defaults to `cancel` when
 * `timeoutAfter` is set; `required` to 1.
 */
export function deadlineRulesFor(
  policy: Policy,
  ref: WorkflowRef,
  stepPath: readonly string[],
): StepDeadlines {
  const workflow = workflowPolicyFor(policy, ref);
  const steps = own(workflow, 'steps');
  const step = steps?.get(stepPath.join('.')) ?? steps?.get(stepPath.at(-1) ?? '');
  const pick = <K extends keyof DeadlineRules>(key: K): DeadlineRules[K] =>
    own(step, key) ?? own(workflow, key);
  const rules: StepDeadlines = { required: pick('required') ?? 1 };
  for (const key of ['remindEvery', 'escalateAfter', 'timeoutAfter'] as const) {
    const value = pick(key);
    if (value !== undefined) rules[key] = value;
  }
  const escalateTo = pick('escalateTo');
  if (escalateTo !== undefined) rules.escalateTo = escalateTo;
  if (rules.timeoutAfter !== undefined) rules.onTimeout = pick('onTimeout') ?? 'cancel';
  return rules;
}

/** Every entry of the policy that asks a step for more than one approval (to check at start-up). */
export function quorumRules(policy: Policy): { workflow: string; step?: string; required: number }[] {
  const out: { workflow: string; step?: string; required: number }[] = [];
  for (const workflow of policy.workflows.values()) {
    const required = own(workflow, 'required');
    if (required !== undefined && required > 1) out.push({ workflow: workflow.name, required });
    for (const [step, rules] of workflow.steps) {
      const n = own(rules, 'required');
      if (n !== undefined && n > 1) out.push({ workflow: workflow.name, step, required: n });
    }
  }
  return out;
}

export function canAnswer(policy: Policy, request: AnswerRequest): Decision {
  const { userId, userGroups, starterId } = request;
  const who = answerersFor(policy, request);
  if (who.pending !== undefined) return deny(who.pending);
  if (who.nobody !== undefined) return deny(who.nobody);
  const step = stepName(request.stepPath);
  const listed = matches([...who.users, ...who.groups], userId, userGroups);
  if (
    who.escalated &&
    !(who.starterRefused && userId === starterId) &&
    matches(who.escalated.to, userId, userGroups)
  )
    return ALLOWED;
  if (who.kind === 'starter') {
    return listed ? ALLOWED : deny(`Only the person who started this run may answer step ${step}.`);
  }
  if (who.kind === 'admins') {
    return listed
      ? ALLOWED
      : deny(
          `This run was started outside Slack and no approvers are configured for step ${step}, so only admins may answer it.`,
        );
  }
  if (who.starterRefused && userId === starterId) {
    return deny(
      stepRuleFor(policy, request, request.stepPath).selfApprovalFromStep
        ? `You started this run, and step ${step} does not allow approving your own run.`
        : 'You started this run, and this workflow does not allow approving your own run.',
    );
  }
  return listed ? ALLOWED : deny(`You are not an approver for step ${step}.`);
}

// ---------------------------------------------------------------------------------------------

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Every user-group id the policy names: the only groups whose membership ever needs looking up. */
export function policyGroups(policy: Policy): string[] {
  const ids = [...policy.admins];
  for (const workflow of policy.workflows.values()) {
    ids.push(
      ...(own(workflow, 'start') ?? []),
      ...(own(workflow, 'cancel') ?? []),
      ...(own(workflow, 'approvers') ?? []),
      ...(own(workflow, 'view') ?? []),
    );
    ids.push(...(own(workflow, 'escalateTo') ?? []));
    for (const step of workflow.steps.values())
      ids.push(...(own(step, 'approvers') ?? []), ...(own(step, 'escalateTo') ?? []));
  }
  return unique(ids.filter((id) => id.startsWith('S')));
}
