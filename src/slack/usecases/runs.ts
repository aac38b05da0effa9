/**
 * Runs of a workflow: `runs` (the latest, Flowgate's and those started elsewhere), `status` of one
 * run, and cancelling one — from the command or the Cancel button of its progress message. A run's
 * workflow comes from what Flowgate recorded, else from asking the Mastra server.
 */
import type { CatalogEntry } from '../../catalog.ts';
import { isMastraError } from '../../mastra/errors.ts';
import type { RunStatus } from '../../mastra/types.ts';
import { RUN_STATUSES } from '../../mastra/types.ts';
import { canCancel, requesterAllowed } from '../../policy/decide.ts';
import type { Policy } from '../../policy/types.ts';
import { snapshotFromRunState } from '../../runs/state.ts';
import type { ProgressMessage } from '../../store/index.ts';
import { renderNotice, renderRunList } from '../render/commands.ts';
import { UserFacingError } from '../render/failures.ts';
import { noSuchRun, notARunStatus, nothingToCancel } from '../render/refusals.ts';
import { renderStatus } from '../render/run-message.ts';
import { canceledNote } from '../render/run-notices.ts';
import { identityOf } from '../services/runs-started-elsewhere.ts';
import { type MessageRef, type Respond, type RunAudience, UseCase } from './context.ts';

export class Runs extends UseCase {
  /**
   * `runs <workflow> [status]`: its latest runs that this person may see (the others are counted,
   * not shown). Throws a user-facing error for the caller to report.
   */
  async listRuns(
    input: { name: string; status: string | undefined; userId: string },
    respond: Respond,
  ): Promise<void> {
    const { status, userId } = input;
    const entry = await this.ctx.resolve(input.name);
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new UserFacingError(notARunStatus(status, RUN_STATUSES));
    }
    this.ctx.spendLookup(userId);
    const page = await this.deps.client
      .getWorkflow(entry.key)
      .runs({ perPage: 15, page: 0, ...(status ? { status: status as RunStatus } : {}) });
    const rows = await Promise.all(page.runs.map((run) => this.deps.store.getProgressMessage(run.runId)));
    const userGroups = await this.ctx.userGroups(userId);
    const runs = page.runs.map((run, i) => ({
      run,
      row: rows[i],
      audience: audienceOf(this.deps.policy, entry, run, rows[i]),
    }));
    const decisions = await Promise.all(
      runs.map(({ audience }) => this.ctx.viewDecision(audience, userId, userGroups)),
    );
    const items = runs
      .filter((_, i) => decisions[i]?.allowed)
      .map(({ run, row, audience }) => ({
        runId: run.runId,
        status: run.status,
        starter: audience.starterId,
        ...(audience.requester ? { requester: audience.requester } : {}),
        elsewhere: row ? row.origin === 'elsewhere' : true,
        createdAt: run.createdAt,
        ...(row?.permalink ? { permalink: row.permalink } : {}),
      }));
    await respond(renderRunList(entry.id, items, page.total, status, runs.length - items.length));
  }

  /**
   * `status <run id>`: the run as its progress message would show it, to people who may see it.
   * Throws for the caller to report.
   */
  async status(input: { runId: string; userId: string }, respond: Respond): Promise<void> {
    const { runId, userId } = input;
    const { entry, row } = await this.#locateRun(runId, userId);
    const state = await this.deps.client.getWorkflow(entry.key).runById(runId);
    const audience = audienceOf(this.deps.policy, entry, state, row);
    await this.ctx.authorize(await this.ctx.viewDecision(audience, userId));
    const info = await this.deps.catalog.details(entry.key);
    const snapshot = snapshotFromRunState(state);
    const message = renderStatus(
      {
        workflow: { key: entry.key, name: info.name },
        snapshot,
        starterId: audience.starterId,
        ...(row ? (row.origin ? { origin: row.origin } : {}) : { origin: 'elsewhere' as const }),
        ...(audience.requester ? { requester: audience.requester } : {}),
        ...(row?.requesterPending ? { requesterPending: row.requesterPending } : {}),
        startedAt: row?.startedAt ?? state.createdAt,
        ...(row?.canceledBy ? { canceledBy: row.canceledBy } : {}),
      },
      row?.permalink,
    );
    await respond(message);
  }

  /**
   * Which workflow a run belongs to: from the store when Flowgate has a message for it; else by
   * asking the Mastra server about each workflow — a cost counted against the person's allowance.
   */
  async #locateRun(
    runId: string,
    userId: string,
  ): Promise<{ entry: CatalogEntry; row: ProgressMessage | undefined }> {
    const row = await this.deps.store.getProgressMessage(runId);
    if (row) return { entry: await this.ctx.resolve(row.workflowKey), row };
    this.ctx.spendLookup(userId);
    const entries = await this.deps.catalog.list();
    const found = await Promise.all(
      entries.map((entry) =>
        this.deps.client
          .getWorkflow(entry.key)
          .runById(runId, { fields: [] })
          .then(() => entry)
          .catch((error) => {
            if (isMastraError(error, 'run_not_found') || isMastraError(error, 'workflow_not_found'))
              return undefined;
            throw error;
          }),
      ),
    );
    const entry = found.find((e) => e !== undefined);
    if (!entry) throw new UserFacingError(noSuchRun(runId));
    return { entry, row: undefined };
  }

  /** `cancel <run id>`: the run's workflow from what Flowgate recorded, else asked of the server. */
  async cancel(input: { runId: string; userId: string }, respond: Respond): Promise<void> {
    try {
      const { entry, row } = await this.#locateRun(input.runId, input.userId);
      await this.#cancel(entry, input.runId, row, input.userId, respond);
    } catch (error) {
      await this.ctx.fail(error, respond);
    }
  }

  /** The Cancel button of a progress message: the run is the one Flowgate posted that message for. */
  async cancelFromMessage(input: { message: MessageRef; userId: string }, respond: Respond): Promise<void> {
    try {
      const row = await this.ctx.messageRow(input.message);
      await this.#cancel(await this.ctx.resolve(row.workflowKey), row.runId, row, input.userId, respond);
    } catch (error) {
      await this.ctx.fail(error, respond);
    }
  }

  async #cancel(
    entry: CatalogEntry,
    runId: string,
    row: ProgressMessage | undefined,
    userId: string,
    respond: Respond,
  ): Promise<void> {
    await this.ctx.authorize(
      canCancel(this.deps.policy, {
        workflowId: entry.id,
        workflowKey: entry.key,
        userId,
        userGroups: await this.ctx.userGroups(userId),
        starterId: row?.starterId ?? null,
      }),
    );
    try {
      await this.deps.client.getWorkflow(entry.key).run(runId).cancel();
    } catch (error) {
      if (isMastraError(error, 'already_finished')) {
        if (row && !row.final) this.deps.progress.follow(runId);
        throw new UserFacingError(nothingToCancel(runId, error.runStatus));
      }
      throw error;
    }
    if (row) {
      await this.deps.store.updateProgressMessage(runId, { canceledBy: userId });
      this.deps.progress.follow(runId);
    }
    await respond(renderNotice(canceledNote(runId, entry.id)));
  }
}

/**
 * Who a run is for, from what Flowgate recorded, else from its `resourceId`: a Slack user ID is its
 * requester; anything else (an e-mail address…) is kept as text — no lookup, so that listing runs
 * never spends Slack's lookup limits — and shown only to people who may see the run.
 */
function audienceOf(
  policy: Policy,
  entry: CatalogEntry,
  run: { resourceId?: string | null },
  row: ProgressMessage | undefined,
): RunAudience {
  const ref = { workflowId: entry.id, workflowKey: entry.key };
  if (row) {
    return {
      ...ref,
      starterId: row.starterId,
      channel: row.channel,
      ...(row.requester ? { requester: row.requester } : {}),
    };
  }
  const identity = identityOf(run.resourceId ?? null);
  if (!identity) return { ...ref, starterId: null };
  if ('userId' in identity && requesterAllowed(policy, identity))
    return { ...ref, starterId: identity.userId };
  return { ...ref, starterId: null, requester: run.resourceId?.trim().slice(0, 200) ?? '' };
}
