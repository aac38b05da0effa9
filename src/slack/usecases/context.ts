/**
 * What every use case shares, in one place: the deps they run over; the context holding the
 * helpers they all need — resolving a workflow name, deciding with the policy (with the person's
 * user groups), the progress message a button was clicked on, the form Flowgate recorded as opened,
 * and telling the person what went wrong (logging only what is unexpected); the `UseCase` base each
 * capability class (commands, starting, runs, answering) is built on; and what both forms use:
 * schema validation in words.
 */
import type { CatalogEntry, WorkflowCatalog } from '../../catalog.ts';
import { checkValue, describeIssue } from '../../forms/index.ts';
import type { LogFields, Logger } from '../../logger.ts';
import type { MastraClient } from '../../mastra/client.ts';
import { isMastraError, type MastraErrorCode } from '../../mastra/errors.ts';
import type { JsonSchema } from '../../mastra/types.ts';
import { canView, policyGroups, requesterAllowed, viewersFor } from '../../policy/decide.ts';
import type { Decision, Policy } from '../../policy/types.ts';
import type { OpenForm, ProgressMessage, Store } from '../../store/index.ts';
import { valueAt } from '../../util/safe-objects.ts';
import type { SlackGateway } from '../io/gateway.ts';
import type { Outbox } from '../io/outbox.ts';
import { type Reply, renderNotice } from '../render/commands.ts';
import { RefusedError, UserFacingError, userMessage } from '../render/failures.ts';
import {
  FORM_NOT_OPENED,
  MALFORMED_REQUEST,
  noSuchWorkflow,
  tooManyLookups,
  VIEW_NOT_CHECKED,
} from '../render/refusals.ts';
import type { Deadlines } from '../services/deadlines/deadlines.ts';
import type { ProgressMessages } from '../services/progress-messages.ts';
import { identityOf } from '../services/runs-started-elsewhere.ts';
import { code, safeText } from '../text/mrkdwn.ts';
import { PerPersonLimit } from './per-person-limit.ts';

/** The message a button was clicked on. */
export interface MessageRef {
  channel: string | undefined;
  ts: string | undefined;
}

export interface UseCaseDeps {
  client: MastraClient;
  catalog: WorkflowCatalog;
  store: Store;
  /** With every admin merged in (the file's and `FLOWGATE_ADMINS`). */
  policy: Policy;
  gateway: SlackGateway;
  progress: ProgressMessages;
  /** Thread replies and DMs: each sent once, across failures, restarts and replicas. */
  outbox: Outbox;
  command: string;
  logger: Logger;
  /** How long a question has waited (escalation) and the votes of steps that need several approvals (src/slack/services/deadlines/deadlines.ts). */
  deadlines?: Deadlines;
  /** Per person: how many `runs` and `status` lookups of unknown runs at once, then one per `refillMs` (default 6 and 5 s). */
  lookupLimit?: { burst: number; refillMs: number };
  /** Told of each answer's claim and resumption (metrics); must not throw. */
  onAnswer?: (event: AnswerEvent) => void;
}

/** What became of an answer: its claim won or lost (someone answered first), the run resumed or not. */
export type AnswerEvent = 'claim_won' | 'claim_lost' | 'resumed' | 'resume_failed';

export type Respond = (reply: Reply) => Promise<void>;

/** What Flowgate knows of a run when deciding who may see it. */
export interface RunAudience {
  workflowId: string;
  workflowKey: string;
  /** Its starter, or its requester as a Slack user; null when nobody is known. */
  starterId: string | null;
  /** Its requester as text when no Slack user is known for it (e.g. an e-mail address). */
  requester?: string;
  /** Where its progress message is, when it has one. */
  channel?: string;
}

export class UseCaseContext {
  readonly deps: UseCaseDeps;
  readonly #groups: string[];
  readonly #lookups: PerPersonLimit;

  constructor(deps: UseCaseDeps) {
    this.deps = deps;
    this.#groups = policyGroups(deps.policy);
    this.#lookups = new PerPersonLimit(deps.lookupLimit ?? { burst: 6, refillMs: 5_000 });
  }

  /**
   * Counts one request that costs the Mastra server or Slack's lookups more than a store read
   * (`runs`, `status` of a run Flowgate has no record of) against the person's allowance; refuses
   * once they have asked too often.
   */
  spendLookup(userId: string): void {
    const waitMs = this.#lookups.take(userId);
    if (waitMs === 0) return;
    throw new UserFacingError(tooManyLookups(waitMs));
  }

  /** The form Flowgate recorded as opened for this person as `viewId`; refuses anything else. */
  async openForm<K extends OpenForm['kind']>(
    viewId: string,
    userId: string,
    kind: K,
  ): Promise<Extract<OpenForm, { kind: K }>> {
    const form = await this.deps.store.getForm(viewId);
    if (!form || form.kind !== kind || form.userId !== userId) {
      throw new UserFacingError(FORM_NOT_OPENED);
    }
    return form as Extract<OpenForm, { kind: K }>;
  }

  /** The progress message a button was clicked on, as Flowgate recorded it. */
  async messageRow(message: MessageRef): Promise<ProgressMessage> {
    const row =
      message.channel && message.ts
        ? await this.deps.store.findProgressMessage(message.channel, message.ts)
        : undefined;
    if (!row) throw new UserFacingError(MALFORMED_REQUEST);
    return row;
  }

  async resolve(name: string): Promise<CatalogEntry> {
    const match = await this.deps.catalog.resolve(name);
    if (match.ok) return match.entry;
    const known = match.entries.map((e) => e.key);
    throw new UserFacingError(noSuchWorkflow(name, known, match.suggestion?.key));
  }

  async authorize(decision: Decision): Promise<void> {
    if (!decision.allowed) throw new RefusedError(safeText(decision.reason, 500));
  }

  /** The policy's groups this user belongs to (no lookups at all when the policy names none). */
  async userGroups(userId: string): Promise<string[]> {
    if (this.#groups.length === 0) return [];
    const results = await Promise.all(
      this.#groups.map(async (group) => {
        try {
          const members = await this.deps.gateway.groupMembers(group, 'interactive');
          return members.includes(userId) ? group : undefined;
        } catch (error) {
          this.deps.logger.warn(`cannot read the members of user group ${group}`, error);
          return undefined;
        }
      }),
    );
    return results.filter((g): g is string => g !== undefined);
  }

  /**
   * Whether `userId` may see a run (policy `canView`). Looks up only what the decision still
   * needs, at most once each per person and conversation (cached): the person's e-mail address
   * when the run's requester is one, then the members of the run's conversation. A lookup that
   * fails refuses (never shows a run it could not check).
   */
  async viewDecision(run: RunAudience, userId: string, userGroups?: readonly string[]): Promise<Decision> {
    const groups = userGroups ?? (await this.userGroups(userId));
    const request = { ...run, userId, userGroups: groups };
    const first = canView(this.deps.policy, request);
    if (first.allowed) return first;
    try {
      const named = run.starterId === null ? identityOf(run.requester ?? null) : undefined;
      if (named && 'email' in named && requesterAllowed(this.deps.policy, named)) {
        const email = await this.deps.gateway.emailOf(userId, 'interactive');
        if (email !== undefined && email === named.email) {
          const asRequester = canView(this.deps.policy, { ...request, starterId: userId });
          if (asRequester.allowed) return asRequester;
        }
      }
      if (run.channel === undefined || !viewersFor(this.deps.policy, run, run.starterId).conversation)
        return first;
      const members = await this.deps.gateway.conversationMembers(run.channel, 'interactive');
      return canView(this.deps.policy, { ...request, inConversation: members.has(userId) });
    } catch (error) {
      this.deps.logger.warn(`cannot check who may see a run of ${run.workflowKey}`, error);
      return { allowed: false, reason: VIEW_NOT_CHECKED };
    }
  }

  async fail(error: unknown, respond: Respond): Promise<void> {
    this.logUnexpected(error);
    await respond(renderNotice(userMessage(error))).catch((e) =>
      this.deps.logger.warn('could not tell the user', e),
    );
  }

  /**
   * Logs what people are not told (src/slack/render/failures.ts keeps the detail out of Slack): the
   * Mastra server's URL, status and reply, the transport's error. Answers the person can act on
   * themselves (no such run, already answered, …) are not logged.
   */
  logUnexpected(error: unknown, fields?: LogFields): void {
    if (error instanceof UserFacingError) return;
    if (isMastraError(error) && EXPECTED_MASTRA_ANSWERS.has(error.code)) return;
    // A MastraError's message names the method, URL and status, and carries the server's reply.
    if (isMastraError(error, 'invalid_input'))
      this.deps.logger.warn('the Mastra server refused the input', error, fields);
    else this.deps.logger.error('request failed', error, fields);
  }
}

/** Answers from the Mastra server that people act on themselves: nothing to log. */
const EXPECTED_MASTRA_ANSWERS: ReadonlySet<MastraErrorCode> = new Set<MastraErrorCode>([
  'workflow_not_found',
  'run_not_found',
  'not_suspended',
  'already_resumed',
  'already_finished',
]);

/** What each capability's class is built on: the shared context, and its deps at hand. */
export abstract class UseCase {
  protected readonly ctx: UseCaseContext;
  protected readonly deps: UseCaseDeps;

  constructor(ctx: UseCaseContext) {
    this.ctx = ctx;
    this.deps = ctx.deps;
  }
}

/** Human messages for every way `value` misses `schema` (empty when it fits, or when there is no schema). */
export function validationProblems(schema: JsonSchema | undefined, value: unknown): string[] {
  if (!schema) return [];
  const result = checkValue(schema, value);
  if (result === null || result.ok) return [];
  return result.issues.slice(0, 10).map((issue) => {
    const path = issue.path.map(String).join('.');
    const at = path ? `${code(path, 80)}: ` : '';
    return `${at}${safeText(describeIssue(issue, valueAt(value, issue.path)), 300)}`;
  });
}
