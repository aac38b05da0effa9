/**
 * Who may start, cancel, and answer workflow runs.
 *
 * The policy file (path from `FLOWGATE_POLICY`) is YAML or JSON (JSON is parsed as YAML, so either works
 * whatever the extension). It is validated at start-up; every problem is reported at once with the file,
 * line:column, the key path and what was expected. See `policy.example.yaml` at the repo root.
 *
 * ```yaml
 * admins: [U0ADMIN]              # may cancel any run (and answer runs started outside Slack, see below)
 * workflows:
 *   approvalWorkflow:            # registry key or workflow id, matched case-insensitively
 *     start: [U1, S0GROUP]       # who may start; omitted = anyone; [] = nobody (from Slack)
 *     cancel: [U2]               # who may cancel besides the starter and admins; omitted = nobody else
 *     approvers: [U3, S0LEADS]   # who may answer suspended steps; omitted = the starter
 *     allowSelfApproval: false   # default false: with approvers configured, the starter may not answer
 *     channel: C0FINANCE         # runs Flowgate did not start are posted here (a channel ID)
 *     announce: suspended        # when: suspended (default, a step first waits), all (as soon as seen), none
 *     steps:
 *       approve:                 # step id (last path segment) or full dotted path ("inner.inner-approve")
 *         approvers: [U4]        # overrides the workflow's approvers for this step
 *         allowSelfApproval: true
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
 * - Answer: step rule = the step entry matching the full dotted step path, else the one matching the
 *   step id (last segment); its `approvers` / `allowSelfApproval` override the workflow's when given.
 *   - No approvers configured: the starter is the approver. For runs started outside Slack
 *     (`starterId: null`) only admins may answer.
 *   - Approvers configured: the user must be listed (directly or through a group). The starter is
 *     refused, even if listed, unless `allowSelfApproval` is true. Admins follow the same rule.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { own } from './own.ts';

export interface StepPolicy {
  approvers?: readonly string[];
  allowSelfApproval?: boolean;
}

export interface WorkflowPolicy {
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
  /** Keyed by step id or dotted step path, as written. */
  steps: ReadonlyMap<string, StepPolicy>;
}

export interface Policy {
  /** The file the policy came from; `null` for the built-in default. */
  source: string | null;
  /** Admin user IDs and group IDs (file `admins`, merged with `FLOWGATE_ADMINS` by `loadPolicy`). */
  admins: readonly string[];
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

const ID = /^[UWS][A-Z0-9]+$/;
const TOP_KEYS = ['admins', 'workflows'] as const;
const WORKFLOW_KEYS = [
  'start',
  'cancel',
  'approvers',
  'allowSelfApproval',
  'channel',
  'announce',
  'steps',
] as const;
const CHANNEL_ID = /^[CG][A-Z0-9]+$/;
export const ANNOUNCE = ['suspended', 'all', 'none'] as const;
export type Announce = (typeof ANNOUNCE)[number];
const STEP_KEYS = ['approvers', 'allowSelfApproval'] as const;
const ID_EXPECTED = 'a Slack user ID (U…/W…) or user-group ID (S…), e.g. U0123ABCD';
const LIST_EXPECTED = `a list of Slack user IDs (U…/W…) or user-group IDs (S…), e.g. [U0123ABCD, S0456EFGH]`;

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
    text = readFileSync(path, 'utf8');
  } catch (error) {
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
 * @throws PolicyError listing every problem.
 */
export function parsePolicy(text: string, source: string): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const found: { offset: number; text: string }[] = [];
  /** Problems in file order; those without a position come first. */
  const problems = () => found.sort((a, b) => a.offset - b.offset).map((p) => p.text);
  const report = (offset: number | undefined, text: string) => {
    if (offset === undefined) {
      found.push({ offset: -1, text: `${source}: ${text}` });
      return;
    }
    const { line, col } = lineCounter.linePos(offset);
    found.push({ offset, text: `${source}:${line}:${col}: ${text}` });
  };

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      report(error.pos[0], `${error.message.split('\n')[0]} (the file is not valid YAML or JSON)`);
    }
    throw new PolicyError(source, problems());
  }

  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  /** Empty values are reported at their key, which is where the reader will look. */
  const keyOfEmpty = new WeakMap<object, Node>();
  const problem = (node: unknown, path: readonly (string | number)[], message: string) => {
    const anchor =
      (node !== null && typeof node === 'object' && keyOfEmpty.get(node)) || (node as Node | null);
    report(anchor?.range?.[0], `${formatPath(path)}: ${message}`);
  };
  const got = (node: unknown): string => {
    if (node === null || node === undefined) return 'nothing';
    if (isScalar(node)) {
      if (node.value === null) return 'nothing';
      return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
    }
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    return 'something else';
  };
  const isNull = (node: unknown) =>
    node === null || node === undefined || (isScalar(node) && node.value === null);

  /** Iterates a mapping's entries, reporting non-string and unknown keys. */
  const entries = (
    node: unknown,
    path: readonly (string | number)[],
    allowedKeys: readonly string[] | null,
  ): [string, unknown, unknown][] => {
    if (!isMap(node)) return [];
    const out: [string, unknown, unknown][] = [];
    for (const pair of node.items) {
      const key = resolve(pair.key);
      if (!isScalar(key) || typeof key.value !== 'string' || key.value.trim() === '') {
        problem(key, path, `expected keys to be non-empty names, got ${got(key)}`);
        continue;
      }
      if (allowedKeys && !allowedKeys.includes(key.value)) {
        problem(key, [...path, key.value], `unknown key: expected one of ${allowedKeys.join(', ')}`);
        continue;
      }
      const value = resolve(pair.value);
      if (isScalar(value) && value.value === null) keyOfEmpty.set(value, key);
      out.push([key.value, key, value]);
    }
    return out;
  };

  const idList = (node: unknown, path: readonly (string | number)[]): string[] | undefined => {
    if (!isSeq(node)) {
      problem(node, path, `expected ${LIST_EXPECTED}, got ${got(node)}`);
      return undefined;
    }
    const ids: string[] = [];
    let ok = true;
    node.items.forEach((raw, index) => {
      const item = resolve(raw);
      const value = isScalar(item) && typeof item.value === 'string' ? item.value.trim() : undefined;
      if (value !== undefined && ID.test(value)) {
        if (!ids.includes(value)) ids.push(value);
        return;
      }
      ok = false;
      let hint = '';
      if (value !== undefined && ID.test(value.toUpperCase())) hint = ' (Slack IDs are upper-case)';
      else if (value?.startsWith('@') || value?.startsWith('<'))
        hint = ' (use the member ID, not a name or mention)';
      problem(item, [...path, index], `expected ${ID_EXPECTED}, got ${got(item)}${hint}`);
    });
    return ok ? ids : undefined;
  };

  const bool = (node: unknown, path: readonly (string | number)[]): boolean | undefined => {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    problem(node, path, `expected true or false, got ${got(node)}`);
    return undefined;
  };

  const admins: string[] = [];
  const workflows = new Map<string, WorkflowPolicy>();
  const root = resolve(doc.contents);

  if (!isNull(root) && !isMap(root)) {
    problem(root, [], `expected a mapping with the keys ${TOP_KEYS.join(', ')}, got ${got(root)}`);
  }

  for (const [key, , value] of entries(root, [], TOP_KEYS)) {
    if (key === 'admins') {
      admins.push(...(idList(value, ['admins']) ?? []));
      continue;
    }
    // workflows
    if (isNull(value)) continue;
    if (!isMap(value)) {
      problem(value, ['workflows'], `expected a mapping from workflow names to rules, got ${got(value)}`);
      continue;
    }
    for (const [name, nameNode, rules] of entries(value, ['workflows'], null)) {
      const path = ['workflows', name];
      const lower = name.toLowerCase();
      const existing = workflows.get(lower);
      if (existing) {
        problem(
          nameNode,
          path,
          `duplicates ${formatPath(['workflows', existing.name])} (workflow names are matched case-insensitively)`,
        );
        continue;
      }
      const workflow: WorkflowPolicy = Object.assign(Object.create(null) as WorkflowPolicy, {
        name,
        steps: new Map<string, StepPolicy>(),
      });
      workflows.set(lower, workflow);
      if (isNull(rules)) continue;
      if (!isMap(rules)) {
        problem(
          rules,
          path,
          `expected a mapping with the keys ${WORKFLOW_KEYS.join(', ')}, got ${got(rules)}`,
        );
        continue;
      }
      for (const [field, , fieldValue] of entries(rules, path, WORKFLOW_KEYS)) {
        const fieldPath = [...path, field];
        if (field === 'start' || field === 'cancel' || field === 'approvers') {
          const ids = idList(fieldValue, fieldPath);
          if (ids) workflow[field] = ids;
        } else if (field === 'allowSelfApproval') {
          const b = bool(fieldValue, fieldPath);
          if (b !== undefined) workflow.allowSelfApproval = b;
        } else if (field === 'channel') {
          const value =
            isScalar(fieldValue) && typeof fieldValue.value === 'string'
              ? fieldValue.value.trim()
              : undefined;
          if (value !== undefined && CHANNEL_ID.test(value)) workflow.channel = value;
          else {
            const hint =
              value?.startsWith('#') || value?.startsWith('<')
                ? ' (use the channel ID from the channel details, not its name)'
                : value !== undefined && CHANNEL_ID.test(value.toUpperCase())
                  ? ' (Slack IDs are upper-case)'
                  : '';
            problem(
              fieldValue,
              fieldPath,
              `expected a Slack channel ID (C…/G…), e.g. C0123ABCD, got ${got(fieldValue)}${hint}`,
            );
          }
        } else if (field === 'announce') {
          const value = isScalar(fieldValue) ? fieldValue.value : undefined;
          if (typeof value === 'string' && (ANNOUNCE as readonly string[]).includes(value)) {
            workflow.announce = value as Announce;
          } else {
            problem(fieldValue, fieldPath, `expected one of ${ANNOUNCE.join(', ')}, got ${got(fieldValue)}`);
          }
        } else {
          workflow.steps = parseSteps(fieldValue, fieldPath);
        }
      }
    }
  }

  function parseSteps(node: unknown, path: readonly (string | number)[]): Map<string, StepPolicy> {
    const steps = new Map<string, StepPolicy>();
    if (isNull(node)) return steps;
    if (!isMap(node)) {
      problem(node, path, `expected a mapping from step ids or dotted step paths to rules, got ${got(node)}`);
      return steps;
    }
    for (const [stepKey, stepKeyNode, rules] of entries(node, path, null)) {
      const stepPath = [...path, stepKey];
      if (stepKey.split('.').some((segment) => segment.trim() === '')) {
        problem(
          stepKeyNode,
          stepPath,
          'expected a step id or dotted step path such as "inner.approve" (empty segment)',
        );
        continue;
      }
      const step = Object.create(null) as StepPolicy;
      steps.set(stepKey, step);
      if (isNull(rules)) continue;
      if (!isMap(rules)) {
        problem(
          rules,
          stepPath,
          `expected a mapping with the keys ${STEP_KEYS.join(', ')}, got ${got(rules)}`,
        );
        continue;
      }
      for (const [field, , fieldValue] of entries(rules, stepPath, STEP_KEYS)) {
        if (field === 'approvers') {
          const ids = idList(fieldValue, [...stepPath, field]);
          if (ids) step.approvers = ids;
        } else {
          const b = bool(fieldValue, [...stepPath, field]);
          if (b !== undefined) step.allowSelfApproval = b;
        }
      }
    }
    return steps;
  }

  if (found.length > 0) throw new PolicyError(source, problems());
  return { source, admins, workflows };
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
const stepName = (stepPath: readonly string[]) => stepPath.join('.');

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

/** Who may answer a step of a run (see `Answerers`). Pure; group membership is not looked up. */
export function answerersFor(policy: Policy, request: AnswerersRequest): Answerers {
  const rule = stepRuleFor(policy, request, request.stepPath);
  const step = stepName(request.stepPath);
  const { starterId } = request;
  const split = (ids: readonly string[]) => ({
    users: ids.filter((id) => !id.startsWith('S')),
    groups: ids.filter((id) => id.startsWith('S')),
  });
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

export function canAnswer(policy: Policy, request: AnswerRequest): Decision {
  const { userId, userGroups, starterId } = request;
  const who = answerersFor(policy, request);
  if (who.nobody !== undefined) return deny(who.nobody);
  const step = stepName(request.stepPath);
  const listed = matches([...who.users, ...who.groups], userId, userGroups);
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
    );
    for (const step of workflow.steps.values()) ids.push(...(own(step, 'approvers') ?? []));
  }
  return unique(ids.filter((id) => id.startsWith('S')));
}
