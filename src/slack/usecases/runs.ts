/**
 * Runs of a workflow: `runs` (the latest, Flowgate's and those started elsewhere), `status` of one
 * run, and cancelling one — from the command or the Cancel button of its progress message. A run's
 * workflow comes from what Flowgate recorded, else from asking the Mastra server.
 */
import type { CatalogEntry } from '../../catalog.ts';
import { isMastraError } from '../../mastra/errors.ts';
import type { RunStatus } from '../../mastra/types.ts';
import { RUN_STATUSES } from '../../mastra/types.ts';
import { canCancel } from '../../policy.ts';
import { snapshotFromRunState } from '../../runs/state.ts';
import type { ProgressMessage } from '../../store/index.ts';
import { requesterOf } from '../elsewhere.ts';
import { UserFacingError } from '../errors.ts';
import { code, safeText } from '../mrkdwn.ts';
import { renderNotice, renderRunList } from '../render/commands.ts';
import { renderStatus } from '../render/progress.ts';
import { type MessageRef, type Respond, UseCase } from './context.ts';

export class Runs extends UseCase {
  /** `runs <workflow> [status]`: its latest runs. Throws a user-facing error for the caller to report. */
  async listRuns(name: string, status: string | undefined, respond: Respond): Promise<void> {
    const entry = await this.ctx.resolve(name);
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new UserFacingError(
        `${code(status, 30)} is not a run status. Use one of: ${RUN_STATUSES.map((s) => code(s)).join(', ')}.`,
      );
    }
    const page = await this.deps.client
      .getWorkflow(entry.key)
      .runs({ perPage: 15, page: 0, ...(status ? { status: status as RunStatus } : {}) });
    const rows = await Promise.all(page.runs.map((run) => this.deps.store.getProgressMessage(run.runId)));
    const items = page.runs.map((run, i) => {
      const row = rows[i];
      return {
        runId: run.runId,
        status: run.status,
        starter:
          row?.starterId ??
          (run.resourceId && /^[UW][A-Z0-9]+$/.test(run.resourceId) ? run.resourceId : null),
        ...(row
          ? row.requester
            ? { requester: row.requester }
            : {}
          : run.resourceId
            ? { requester: run.resourceId }
            : {}),
        elsewhere: row ? row.origin === 'elsewhere' : true,
        createdAt: run.createdAt,
        ...(row?.permalink ? { permalink: row.permalink } : {}),
      };
    });
    await respond(renderRunList(entry.id, items, page.total, status));
  }

  /** `status <run id>`: the run as its progress message would show it. Throws for the caller to report. */
  async status(runId: string, respond: Respond): Promise<void> {
    const located = await this.#locateRun(runId);
    const state = await this.deps.client.getWorkflow(located.key).runById(runId);
    const row = await this.deps.store.getProgressMessage(runId);
    const info = await this.deps.catalog.details(located.key);
    const snapshot = snapshotFromRunState(state);
    const message = renderStatus(
      {
        workflow: { key: located.key, name: info.name },
        snapshot,
        ...(row
          ? {
              starterId: row.starterId,
              ...(row.origin ? { origin: row.origin } : {}),
              ...(row.requester ? { requester: row.requester } : {}),
            }
          : await requesterOf(state.resourceId, this.deps.gateway, this.deps.policy, 'interactive').then(
              (who) => ({
                origin: 'elsewhere' as const,
                ...who,
              }),
            )),
        startedAt: row?.startedAt ?? state.createdAt,
        ...(row?.canceledBy ? { canceledBy: row.canceledBy } : {}),
      },
      row?.permalink,
    );
    await respond(message);
  }

  /** Which workflow a run belongs to: from the store when Flowgate started it, else by asking. */
  async #locateRun(runId: string): Promise<CatalogEntry> {
    const row = await this.deps.store.getProgressMessage(runId);
    const entries = await this.deps.catalog.list();
    if (row) {
      const entry = entries.find((e) => e.key === row.workflowKey);
      if (entry) return entry;
    }
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
    if (!entry) throw new UserFacingError(`No run ${code(runId, 100)} on the Mastra server.`);
    return entry;
  }

  /** `cancel <run id>`: the run's workflow from what Flowgate recorded, else asked of the server. */
  async cancel(input: { runId: string; userId: string }, respond: Respond): Promise<void> {
    try {
      const row = await this.deps.store.getProgressMessage(input.runId);
      const entry = row ? await this.ctx.resolve(row.workflowKey) : await this.#locateRun(input.runId);
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
        throw new UserFacingError(
          `Run ${code(runId, 100)} had already finished (${safeText(error.runStatus ?? 'done', 20)}), so there was nothing to cancel.`,
        );
      }
      throw error;
    }
    if (row) {
      await this.deps.store.updateProgressMessage(runId, { canceledBy: userId });
      this.deps.progress.follow(runId);
    }
    await respond(renderNotice(`Canceled run ${code(runId, 100)} of ${safeText(entry.id, 150)}.`));
  }
}
