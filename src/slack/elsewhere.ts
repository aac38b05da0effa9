/**
 * Runs started anywhere: runs of a workflow whose policy entry names a `channel`, started by
 * another system (Mastra's API, a schedule…), get the same progress message in that channel as a
 * run started from Slack — once, across restarts and processes — when a step first waits for a
 * person (or as soon as they are seen, with `announce: all`). Their requester comes from the run's
 * `resourceId` and is treated as the starter. Steps answered and runs canceled outside Slack are
 * caught on the same checks, for every run Flowgate has a message for.
 */
import type { WorkflowCatalog } from '../catalog.ts';
import type { Logger } from '../logger.ts';
import type { MastraClient } from '../mastra/client.ts';
import type { WorkflowRunSummary } from '../mastra/types.ts';
import { announcementChannels, announcementFor, type Policy } from '../policy.ts';
import type { RunTracker } from '../runs/tracker.ts';
import { RunWatcher, type WatchTarget } from '../runs/watcher.ts';
import type { Store } from '../store/index.ts';
import { type SlackGateway, slackErrorCode } from './gateway.ts';
import type { ProgressMessages } from './progress.ts';
import type { SlackCallPolicyName } from './retry.ts';

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
}

const SLACK_USER = /^[UW][A-Z0-9]+$/;
const REFUSED_RETRY_MS = 60_000;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Who asked for a run, from its `resourceId`: a Slack user (by ID or e-mail), else the text itself. */
export async function requesterOf(
  resourceId: string | null,
  gateway: Pick<SlackGateway, 'userByEmail'>,
  policy: SlackCallPolicyName,
): Promise<{ starterId: string | null; requester?: string }> {
  const id = resourceId?.trim();
  if (!id) return { starterId: null };
  if (SLACK_USER.test(id)) return { starterId: id };
  if (EMAIL.test(id)) {
    // Slack failing to look the address up is no reason to hide the run: it is shown as text.
    const userId = await gateway.userByEmail(id, policy).catch(() => undefined);
    if (userId) return { starterId: userId };
  }
  return { starterId: null, requester: id.slice(0, 200) };
}

export class RunsStartedElsewhere {
  readonly #deps: ElsewhereDeps;
  readonly #watcher: RunWatcher;
  /** Channels that refused a post: not tried again before the time given (and warned once). */
  readonly #refused = new Map<string, number>();

  constructor(deps: ElsewhereDeps) {
    this.#deps = deps;
    this.#watcher = new RunWatcher({
      client: deps.client,
      intervalMs: deps.intervalMs,
      targets: () => this.#targets(),
      onRun: (target, run) => this.#found(target, run),
      onChecked: (workflowKey, suspended) => this.#reconcile(workflowKey, suspended),
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
    for (const row of await this.#deps.store.listUnfinished()) {
      if (!targets.has(row.workflowKey))
        targets.set(row.workflowKey, { workflowKey: row.workflowKey, announce: 'none' });
    }
    return [...targets.values()];
  }

  async #found(target: WatchTarget, run: WorkflowRunSummary): Promise<void> {
    const { store, catalog, client, progress, gateway, policy } = this.#deps;
    if (await store.getProgressMessage(run.runId)) return; // started from Slack, or posted already
    if (target.announce === 'suspended' && run.status !== 'suspended') return;
    const entry = (await catalog.list()).find((e) => e.key === target.workflowKey);
    const announcement = entry && announcementFor(policy, { workflowKey: entry.key, workflowId: entry.id });
    if (!announcement) return;
    const { channel } = announcement;
    const refusedUntil = this.#refused.get(channel);
    if (refusedUntil !== undefined && Date.now() < refusedUntil) return;
    const [info, state, requester] = await Promise.all([
      catalog.details(target.workflowKey),
      client.getWorkflow(target.workflowKey).runById(run.runId),
      requesterOf(run.resourceId, gateway, 'background'),
    ]);
    try {
      await progress.postFound({ workflowKey: target.workflowKey, info, state, channel, ...requester });
      this.#refused.delete(channel);
    } catch (error) {
      const code = slackErrorCode(error);
      if (!code || code === 'ratelimited') throw error; // tried again on the next check
      // The channel refuses the bot (a wrong ID, not invited…): a minute before trying it again.
      const warned = this.#refused.has(channel);
      this.#refused.set(channel, Date.now() + REFUSED_RETRY_MS);
      if (!warned) throw error;
    }
  }

  /**
   * Messages whose run was waiting but is no longer among the suspended runs: answered or canceled
   * outside Slack (or by a resume Flowgate is already following). Followed again, so the message
   * shows what happened and the buttons go away.
   */
  async #reconcile(workflowKey: string, suspended: ReadonlySet<string>): Promise<void> {
    for (const row of await this.#deps.store.listUnfinished()) {
      if (row.workflowKey !== workflowKey || row.status !== 'suspended' || suspended.has(row.runId)) continue;
      if (this.#deps.tracker.isFollowing(row.runId)) continue;
      this.#deps.progress.follow(row.runId);
    }
  }
}
