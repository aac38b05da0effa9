/**
 * Starting runs: from command text (inline inputs, `state={…}`, or a form when inputs are needed
 * and none were typed), from the Start button of `list`, and from the start form's submission.
 * Each one authorizes first and validates before a run exists; a run is created only once its
 * progress message is posted, and nothing half-done is left when a step of that fails.
 */
import type { CatalogEntry } from '../../catalog.ts';
import { readSubmission, type ViewStateValues } from '../../forms/index.ts';
import type { JsonSchema, WorkflowEvent, WorkflowInfo } from '../../mastra/types.ts';
import { canStart, liveRunsLimit } from '../../policy/decide.ts';
import { slackFailure } from '../errors.ts';
import { handleOf, type StartRef } from '../ids.ts';
import { renderNotice } from '../render/commands.ts';
import { notPostedMessage, UserFacingError, userMessage } from '../render/failures.ts';
import { startFormView, startInputBlocks } from '../render/modals.ts';
import { initialStateDoesNotFit, inputsDoNotFit, tooManyLiveRuns, workflowGone } from '../render/refusals.ts';
import { progressInDmsNote } from '../render/run-notices.ts';
import type { ProgressMessages } from '../services/progress-messages.ts';
import { parseInputs, splitInitialState } from '../text/command-text.ts';
import { safeText } from '../text/mrkdwn.ts';
import { type Respond, UseCase, validationProblems } from './context.ts';
import { needsState, readStateSection, stateSchemaOf } from './start-state.ts';

export class Starting extends UseCase {
  /** Start from text: inline inputs, or a form when inputs are needed and none were typed. */
  async start(
    input: { entry: CatalogEntry; inputs: string; userId: string; channelId: string; triggerId: string },
    respond: Respond,
  ): Promise<void> {
    const { entry } = input;
    await this.#authorizeStart(entry, input.userId);
    const info = await this.deps.catalog.details(entry.key);
    const schema = info.inputSchema;
    const stateSchema = stateSchemaOf(info);
    // `state={…}` after the inputs, for a workflow that declares a state schema.
    const split = stateSchema
      ? splitInitialState(input.inputs)
      : { ok: true as const, inputs: input.inputs, state: undefined };
    if (!split.ok) throw new UserFacingError(safeText(split.message, 1000));
    const parsed = parseInputs(split.inputs, schema);
    if (!parsed.ok) throw new UserFacingError(safeText(parsed.message, 1000));
    const formNeeded = needsInput(schema) || (split.state === undefined && needsState(stateSchema));
    if (parsed.value === undefined && formNeeded) {
      const opened = await this.deps.gateway.openView(
        input.triggerId,
        startFormView(info, stateSchema, split.state),
      );
      // Where the run will be posted is recorded here, from where the form was opened: never read
      // back from the modal.
      await this.deps.store.saveForm({
        kind: 'start',
        viewId: opened.id,
        userId: input.userId,
        openedAt: new Date(),
        workflowKey: entry.key,
        channel: input.channelId,
      });
      return;
    }
    const inputData = parsed.value ?? {};
    const problems = validationProblems(schema, inputData);
    if (problems.length > 0)
      throw new UserFacingError(inputsDoNotFit(this.deps.command, entry.key, problems));
    // Checked before the run is created: Mastra would only refuse it once the run has begun.
    const stateProblems =
      stateSchema && (split.state !== undefined || needsState(stateSchema))
        ? validationProblems(stateSchema, split.state ?? {})
        : [];
    if (stateProblems.length > 0) {
      const given = split.state !== undefined;
      throw new UserFacingError(initialStateDoesNotFit(this.deps.command, entry.key, given, stateProblems));
    }
    await this.#launch(
      entry,
      info,
      { inputData, initialState: split.state },
      input.userId,
      input.channelId,
      respond,
    );
  }

  /**
   * The Start button of `list`: a form when the workflow needs inputs, else start at once. The
   * workflow is the catalog's entry whose handle the button carries; the channel is where it was clicked.
   */
  async startFromButton(
    input: { ref: StartRef; userId: string; triggerId: string; channelId: string },
    respond: Respond,
  ): Promise<void> {
    try {
      const entry = (await this.deps.catalog.list()).find((e) => handleOf(e.key) === input.ref.w);
      if (!entry) throw new UserFacingError(workflowGone(this.deps.command));
      await this.start({ entry, inputs: '', ...input }, respond);
    } catch (error) {
      await this.ctx.fail(error, respond);
    }
  }

  /** The start form's submission: field errors keep the modal open; valid input starts the run. */
  async submitStartForm(input: {
    viewId: string;
    userId: string;
    values: ViewStateValues;
  }): Promise<{ errors?: Record<string, string>; error?: string; launch?: () => Promise<void> }> {
    try {
      const form = await this.ctx.openForm(input.viewId, input.userId, 'start');
      const entry = await this.ctx.resolve(form.workflowKey);
      await this.#authorizeStart(entry, input.userId);
      const info = await this.deps.catalog.details(entry.key);
      const stateSchema = stateSchemaOf(info);
      const result = readSubmission(info.inputSchema ?? {}, input.values, {
        maxBlocks: startInputBlocks(stateSchema !== undefined),
      });
      const state = stateSchema ? readStateSection(stateSchema, input.values) : undefined;
      if (!result.ok || (state && !state.ok)) {
        return {
          errors: {
            ...(result.ok ? {} : result.errors),
            ...(state && !state.ok ? state.errors : {}),
          },
        };
      }
      const run = { inputData: result.data, initialState: state?.ok ? state.data : undefined };
      await this.deps.store.deleteForm(input.viewId);
      return {
        launch: async () => {
          // The modal is closed: a DM tells them, or, when Slack will not deliver it, a note in
          // the channel the form was opened from.
          const note: Respond = async (reply) => {
            const { gateway, logger } = this.deps;
            await gateway
              .directMessage(input.userId, reply, 'interactive')
              .catch(() => gateway.ephemeral(form.channel, input.userId, reply, 'interactive'))
              .catch((error) => logger.warn('could not tell the starter about their form', error));
          };
          try {
            await this.#launch(entry, info, run, input.userId, form.channel, note);
          } catch (error) {
            await this.ctx.fail(error, note);
          }
        },
      };
    } catch (error) {
      this.ctx.logUnexpected(error);
      return { error: userMessage(error) };
    }
  }

  async #launch(
    entry: CatalogEntry,
    info: WorkflowInfo,
    { inputData, initialState }: { inputData: unknown; initialState: unknown },
    userId: string,
    channelId: string,
    respond: Respond,
  ): Promise<void> {
    const { client, progress } = this.deps;
    const workflow = client.getWorkflow(entry.key);
    const run = await workflow.createRun({ resourceId: userId });
    let posted: Awaited<ReturnType<ProgressMessages['post']>>;
    try {
      posted = await progress.post({
        workflowKey: entry.key,
        info,
        runId: run.runId,
        starterId: userId,
        channel: channelId,
      });
    } catch (error) {
      // Nothing half-done: a run nobody can watch is not started.
      await workflow.deleteRun(run.runId).catch(() => {});
      if (slackFailure(error).kind === 'other') throw error;
      this.deps.logger.warn(`run ${run.runId}: could not post its progress message`, error, {
        runId: run.runId,
        workflow: entry.key,
        channel: channelId,
        user: userId,
      });
      throw new UserFacingError(notPostedMessage(error), { cause: error });
    }
    if (posted.fellBackToDm) {
      await respond(renderNotice(progressInDmsNote(entry.key)));
    }
    let events: AsyncIterable<WorkflowEvent>;
    try {
      events = await progress.openStream(run.runId, () =>
        run.stream({
          inputData,
          ...(initialState === undefined ? {} : { initialState }),
          closeOnSuspend: true,
        }),
      );
    } catch (error) {
      const state = await workflow.runById(run.runId).catch(() => undefined);
      if (state && state.status !== 'pending') {
        progress.follow(run.runId); // it started after all (the reply was lost): keep watching
        return;
      }
      // A run that never started stays `pending` on the server for ever: end its message and
      // remove it, so nothing is left half-done.
      await progress.abandon(run.runId);
      await workflow.deleteRun(run.runId).catch(() => {});
      throw error;
    }
    this.deps.logger.info(`run ${run.runId}: started`, undefined, {
      runId: run.runId,
      workflow: entry.key,
      channel: channelId,
      user: userId,
    });
    progress.follow(run.runId, events);
  }

  /** May this person start this workflow now: the policy's rule, then their runs still going. */
  async #authorizeStart(entry: CatalogEntry, userId: string): Promise<void> {
    await this.ctx.authorize(
      canStart(this.deps.policy, {
        workflowId: entry.id,
        workflowKey: entry.key,
        userId,
        userGroups: await this.ctx.userGroups(userId),
      }),
    );
    const limit = liveRunsLimit(this.deps.policy);
    const live = await this.deps.store.countLiveRunsStartedBy(userId);
    if (live >= limit) {
      throw new UserFacingError(tooManyLiveRuns(live, this.deps.command));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs (pure)

function needsInput(schema: JsonSchema | undefined): boolean {
  if (!schema) return false;
  const required = schema.required;
  if (Array.isArray(required) && required.length > 0) return true;
  return schema.type !== undefined && schema.type !== 'object';
}
