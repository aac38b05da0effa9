/**
 * The policy as Flowgate holds it (read from the file by src/policy/load.ts, in the format of
 * src/policy/schema.ts), and the requests and answers of its decisions (src/policy/decide.ts).
 */

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

/** When a run of a workflow that Flowgate did not start is posted (`announce`). */
export const ANNOUNCE = ['suspended', 'all', 'none'] as const;
export type Announce = (typeof ANNOUNCE)[number];

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

/** The deadline rules of a step that has `required` and `onTimeout` filled in with their defaults. */
export interface StepDeadlines extends DeadlineRules {
  required: number;
  onTimeout?: OnTimeout;
}
