/**
 * Who may start, cancel, answer and see workflow runs: pure decisions on the policy (its file format
 * is src/policy/schema.ts, it is read by src/policy/load.ts). Group membership is resolved by the
 * caller and passed in.
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
 */
import { stepText } from '../runs/graph.ts';
import { own } from '../util/safe-objects.ts';
import { isUserOrGroupId } from '../util/slack-ids.ts';
import { unique } from './schema.ts';
import type {
  Announce,
  Answerers,
  AnswerersRequest,
  AnswerRequest,
  CancelRequest,
  DeadlineRules,
  Decision,
  Policy,
  StartRequest,
  StepDeadlines,
  Viewers,
  ViewRequest,
  WorkflowPolicy,
  WorkflowRef,
} from './types.ts';

const ALLOWED = { allowed: true } as const satisfies Decision;
const deny = (reason: string): Decision => ({ allowed: false, reason });

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

export function viewersFor(policy: Policy, ref: WorkflowRef, starterId: string | null): Viewers {
  const workflow = workflowPolicyFor(policy, ref);
  const view = own(workflow, 'view') ?? ['channel'];
  const ids = [...policy.admins, ...view.filter((entry) => isUserOrGroupId(entry))];
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
