/**
 * Runs started anywhere: runs of a workflow whose policy entry names a `channel`, started by
 * another system (Mastra's API, a schedule…), get the same progress message in that channel as a
 * run started from Slack — once, across restarts and processes — when a step first waits for a
 * person (or as soon as they are seen, with `announce: all`). Their requester comes from the run's
 * `resourceId` and is treated as the starter. Steps answered and runs canceled outside Slack are
 * caught on the same checks, for every run Flowgate has a message for.
 *
 * Identity fails closed: a requester Slack could not look up now (the lookup failed or was
 * rate-limited, as opposed to Slack answering that there is no such user) is stored as pending,
 * never as "no requester", and looked up again on these checks, with back-off, from the stored
 * state (so across restarts and replicas, each try by one replica). Meanwhile steps whose rule
 * depends on the requester take no answers (src/policy/decide.ts `answerersFor`).
 */
import type { WorkflowCatalog } from '../../catalog.ts';
import type { ListedRun, SharedFollowing } from '../../following/shared-following.ts';
import type { RunTracker } from '../../following/tracker.ts';
import { RunWatcher, type WatchTarget } from '../../following/watcher.ts';
import type { Logger } from '../../logger.ts';
import type { MastraClient } from '../../mastra/client.ts';
import { announcementChannels, announcementFor, requesterAllowed } from '../../policy/decide.ts';
import type { Policy } from '../../policy/types.ts';
import type { ProgressMessage, Store } from '../../store/index.ts';
import { isUserId } from '../../util/slack-ids.ts';
import type { SlackCallPolicyName } from '../io/call-policies.ts';
import { type SlackGateway, slackErrorCode } from '../io/gateway.ts';
import type { ProgressMessages } from './progress-messages.ts';

export interface ElsewhereDeps {
  client: MastraClient;
  catalog: WorkflowCatalog;
  store: Store;
  policy: Policy;
  gateway: SlackGateway;
  progress: ProgressMessages;
  tracker: RunTracker;
  logger: Logger;
  intervalMs: number;
  /** Runs followed without a live stream: the watcher's lists wake their followers. */
  shared?: SharedFollowing;
  /** Told how long each check of the run lists took, in ms (metrics). */
  onWatchCycle?(ms: number): void;
}

/**
 * A user ID in another case (`u0abc123`): only with a digit after its U or W, as Slack's have, so
 * that a name such as `webhooks` stays text.
 */
const SLACK_USER_ANY_CASE = /^[UW]\d[A-Z0-9]{5,}$/;
const MENTION = /^<@([^|>\s]+)(?:\|[^>]*)?>$/;
const REFUSED_RETRY_MS = 60_000;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
/** The longest wait between two lookups of a requester not yet known. */
export const MAX_LOOKUP_DELAY_MS = 10 * 60_000;
/** Pending lookups tried on one check, at most (the soonest due first). */
const LOOKUPS_PER_CHECK = 20;

/** What a `resourceId` names: a Slack user ID, an e-mail address (lower-cased), or neither (text). */
export type ResourceIdentity = { userId: string } | { email: string } | { text: string };

/**
 * Reads a `resourceId`: `U0ABC123`, ` u0abc123 ` and `<@U0ABC123>` are the user `U0ABC123`; an
 * e-mail address is trimmed and lower-cased; anything else is text (at most 200 characters).
 */
export function identityOf(resourceId: string | null): ResourceIdentity | undefined {
  const id = resourceId?.trim();
  if (!id) return undefined;
  if (isUserId(id)) return { userId: id };
  const mentioned = MENTION.exec(id)?.[1]?.toUpperCase();
  if (mentioned !== undefined && isUserId(mentioned)) return { userId: mentioned };
  if (SLACK_USER_ANY_CASE.test(id.toUpperCase())) return { userId: id.toUpperCase() };
  if (EMAIL.test(id)) return { email: id.toLowerCase() };
  return { text: id.slice(0, 200) };
}

/**
 * Who asked for a run: `starterId` when its `resourceId` is a Slack user the policy trusts as one
 * (`requesters`), else `requester`, the text. `requesterPending` when it is an address Slack could
 * not look up now (tried again later): the requester is then not yet known, which is not "nobody".
 */
export interface Requester {
  starterId: string | null;
  requester?: string;
  requesterPending?: { lookup: string };
}

/** Who asked for a run, from its `resourceId` (see `Requester`). */
export async function requesterOf(
  resourceId: string | null,
  gateway: Pick<SlackGateway, 'userByEmail'>,
  policy: Policy,
  callPolicy: SlackCallPolicyName,
): Promise<Requester> {
  const identity = identityOf(resourceId);
  if (!identity) return { starterId: null };
  const text = resourceId?.trim().slice(0, 200) ?? '';
  if ('text' in identity || !requesterAllowed(policy, identity)) return { starterId: null, requester: text };
  if ('userId' in identity) return { starterId: identity.userId };
  try {
    const userId = await gateway.userByEmail(identity.email, callPolicy);
    // Slack says nobody has this address: shown as text, for good.
    return userId ? { starterId: userId } : { starterId: null, requester: text };
  } catch {
    return { starterId: null, requester: text, requesterPending: { lookup: identity.email } };
  }
}

/** How long to wait before the next lookup after `attempts` failed ones: doubling, at most `MAX_LOOKUP_DELAY_MS`. */
export function lookupDelayMs(attempts: number, intervalMs: number): number {
  return Math.min(
    MAX_LOOKUP_DELAY_MS,
    Math.max(1, intervalMs) * 2 ** Math.min(20, Math.max(0, attempts - 1)),
  );
}

export class RunsStartedElsewhere {
  readonly #deps: ElsewhereDeps;
  readonly #watcher: RunWatcher;
  /** Channels that refused a post: not tried again before the time given (and warned once). */
  readonly #refused = new Map<string, number>();
  /** The unfinished messages as read at the start of this check (one read per check). */
  #unfinished: Promise<ProgressMessage[]> | undefined;

  constructor(deps: ElsewhereDeps) {
    this.#deps = deps;
    this.#watcher = new RunWatcher({
      client: deps.client,
      intervalMs: deps.intervalMs,
      targets: () => this.#targets(),
      onRun: (target, run) => this.#found(target, run),
      onChecked: (workflowKey, suspended) => this.#reconcile(workflowKey, suspended),
      onCheck: () => this.#lookUpRequesters(),
      ...(deps.shared ? { shared: deps.shared } : {}),
      ...(deps.onWatchCycle ? { onCycle: deps.onWatchCycle } : {}),
      onError: (error, workflowKey) =>
        deps.logger.warn(
          `checking ${workflowKey ?? 'the Mastra server'} for runs started elsewhere failed`,
          error,
        ),
    });
  }

  /**
   * Checks that the bot can post in every channel the policy names, and says which it cannot (not
   * fatal: the other channels keep working). Resolves to the problems found, one line each.
   */
  async checkChannels(): Promise<string[]> {
    const problems: string[] = [];
    for (const { channel, workflows } of announcementChannels(this.#deps.policy)) {
      const reason = await this.#deps.gateway
        .cannotPostIn(channel, 'background')
        .catch((error: unknown) => String(error));
      if (reason === undefined) continue;
      problems.push(
        `Flowgate cannot post in channel ${channel} (${reason}), so runs of ${workflows.join(', ')} started outside Slack will not be posted there. Invite the bot to the channel, or fix its ID in the policy file.`,
      );
    }
    for (const problem of problems) this.#deps.logger.warn(problem);
    return problems;
  }

  start(): void {
    this.#watcher.start();
  }

  stop(): Promise<void> {
    return this.#watcher.stop();
  }

  /** One check now (tests and benchmarks). */
  checkNow(): Promise<void> {
    return this.#watcher.checkNow();
  }

  /** Workflows with a channel, plus those with a message whose run waits (to see answers given elsewhere). */
  async #targets(): Promise<WatchTarget[]> {
    const targets = new Map<string, WatchTarget>();
    for (const entry of await this.#deps.catalog.list()) {
      const announcement = announcementFor(this.#deps.policy, {
        workflowKey: entry.key,
        workflowId: entry.id,
      });
      if (announcement) targets.set(entry.key, { workflowKey: entry.key, announce: announcement.announce });
    }
    this.#unfinished = this.#deps.store.listUnfinished();
    for (const row of await this.#unfinished) {
      if (!targets.has(row.workflowKey))
        targets.set(row.workflowKey, { workflowKey: row.workflowKey, announce: 'none' });
    }
    return [...targets.values()];
  }

  /** Posts a run's message if it has none yet; true once it has one (it is not looked at again). */
  async #found(target: WatchTarget, run: ListedRun): Promise<boolean> {
    const { store, catalog, client, progress, gateway, policy } = this.#deps;
    if (await store.getProgressMessage(run.runId)) return true; // started from Slack, or posted already
    if (target.announce === 'suspended' && run.status !== 'suspended') return false;
    const entry = (await catalog.list()).find((e) => e.key === target.workflowKey);
    const announcement = entry && announcementFor(policy, { workflowKey: entry.key, workflowId: entry.id });
    if (!announcement) return false;
    const { channel } = announcement;
    const refusedUntil = this.#refused.get(channel);
    if (refusedUntil !== undefined && Date.now() < refusedUntil) return false;
    const [info, state, requester] = await Promise.all([
      catalog.details(target.workflowKey),
      client.getWorkflow(target.workflowKey).runById(run.runId),
      requesterOf(run.resourceId, gateway, policy, 'lookup'),
    ]);
    const { requesterPending, ...known } = requester;
    // Not looked up now: stored as pending, tried again on the checks after this one.
    const pending = requesterPending && {
      lookup: requesterPending.lookup,
      attempts: 1,
      retryAt: new Date(Date.now() + lookupDelayMs(1, this.#deps.intervalMs)),
    };
    try {
      // False when another replica posted it first: it has its message either way.
      await progress.postFound({
        workflowKey: target.workflowKey,
        info,
        state,
        channel,
        ...known,
        ...(pending ? { requesterPending: pending } : {}),
      });
      this.#refused.delete(channel);
      return true;
    } catch (error) {
      const code = slackErrorCode(error);
      if (!code || code === 'ratelimited') throw error; // tried again on the next check
      // The channel refuses the bot (a wrong ID, not invited…): a minute before trying it again.
      const warned = this.#refused.has(channel);
      this.#refused.set(channel, Date.now() + REFUSED_RETRY_MS);
      if (!warned) throw error;
      return false;
    }
  }

  /**
   * Requesters not yet known whose next lookup is due: each try claimed in the store (one replica
   * per try, the back-off moved on first), then the message, the starter's rights and the end DM
   * follow once Slack answers. A failure ends this round: while Slack fails or rate-limits, one
   * lookup per check at most (the others stay due, soonest first).
   */
  async #lookUpRequesters(): Promise<void> {
    const { store, gateway, policy, progress, logger, intervalMs } = this.#deps;
    const now = new Date();
    for (const row of await store.dueRequesterLookups(now, LOOKUPS_PER_CHECK)) {
      const pending = row.requesterPending;
      if (!pending) continue;
      const next = new Date(now.getTime() + lookupDelayMs(pending.attempts + 1, intervalMs));
      if (!(await store.claimRequesterLookup(row.runId, pending.retryAt, next))) continue;
      let userId: string | undefined;
      try {
        userId = await gateway.userByEmail(pending.lookup, 'lookup');
      } catch (error) {
        logger.debug(
          `run ${row.runId}: looking up its requester failed again; next try ${next.toISOString()}`,
          error,
        );
        return;
      }
      // The policy is read again: it may have changed since the run was found.
      const allowed = userId !== undefined && requesterAllowed(policy, { email: pending.lookup });
      if (await store.settleRequester(row.runId, allowed ? (userId ?? null) : null))
        await progress.requesterKnown(row.runId);
    }
  }

  /**
   * Messages whose run was waiting but is no longer among the suspended runs: answered or canceled
   * outside Slack (or by a resume Flowgate is already following). Followed again, so the message
   * shows what happened and the buttons go away.
   */
  async #reconcile(workflowKey: string, suspended: ReadonlySet<string>): Promise<void> {
    for (const row of await (this.#unfinished ?? this.#deps.store.listUnfinished())) {
      if (row.workflowKey !== workflowKey || row.status !== 'suspended' || suspended.has(row.runId)) continue;
      if (this.#deps.tracker.isFollowing(row.runId)) continue;
      this.#deps.progress.follow(row.runId);
    }
  }
}
