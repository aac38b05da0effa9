/**
 * Flowgate's use cases, called by the thin Bolt listeners: run a slash command, start a run (inline
 * inputs or a form), cancel, open and submit the answer form of a suspended step, one-click
 * approve/reject. Each one authorizes on the server side, validates before touching the run, and
 * tells the person what happened in words they can act on.
 */
import type { View } from '@slack/types';
import { type CatalogEntry, resumeSchemaOf, type WorkflowCatalog } from '../catalog.ts';
import {
  buildForm,
  compileSchema,
  describeIssue,
  isYesNoSchema,
  readSubmission,
  type ViewStateValues,
} from '../forms/index.ts';
import type { Logger } from '../logger.ts';
import type { MastraClient } from '../mastra/client.ts';
import { isMastraError } from '../mastra/errors.ts';
import type { JsonSchema, RunStatus, Suspension, WorkflowEvent, WorkflowInfo } from '../mastra/types.ts';
import { RUN_STATUSES, TERMINAL_RUN_STATUSES } from '../mastra/types.ts';
import { canAnswer, canCancel, canStart, type Decision, type Policy, policyGroups } from '../policy.ts';
import { snapshotFromRunState } from '../runs/state.ts';
import { parseSuspensionKey, suspensionKey } from '../runs/suspensions.ts';
import type { OpenForm, ProgressMessage, Store } from '../store/index.ts';
import { type Command, parseCommand, parseInputs, splitInitialState } from './command-text.ts';
import { type Deadlines, FLOWGATE } from './deadlines.ts';
import { requesterOf } from './elsewhere.ts';
import { notPostedMessage, RefusedError, UserFacingError, userMessage } from './errors.ts';
import { fitView } from './fit.ts';
import type { SlackGateway } from './gateway.ts';
import { handleOf, refersTo, type StartRef, type SuspensionRef, suspensionRef, VIEW } from './ids.ts';
import { code, inlineValue, mentionUser, safeText, slackDate, stepName, truncate } from './mrkdwn.ts';
import type { ProgressMessages } from './progress.ts';
import {
  type Reply,
  renderHelp,
  renderNotice,
  renderRunList,
  renderWorkflowList,
} from './render/commands.ts';
import { renderStatus } from './render/progress.ts';
import { itemText, payloadFields } from './render/suspensions.ts';
import { slackFailure } from './retry.ts';
import {
  needsState,
  readStateSection,
  STATE_MAX_BLOCKS,
  STATE_RESERVED_BLOCKS,
  stateSchemaOf,
  stateSection,
} from './start-state.ts';

/** The message a button was clicked on. */
export interface MessageRef {
  channel: string | undefined;
  ts: string | undefined;
}

/** A question of a run, as the server has it now, with its workflow. */
interface Waiting {
  info: WorkflowInfo;
  suspension: Suspension;
}

export const MALFORMED_REQUEST =
  'That request did not come with the details Flowgate needs. Try again from the message.';

export interface FlowgateDeps {
  client: MastraClient;
  catalog: WorkflowCatalog;
  store: Store;
  /** With every admin merged in (the file's and `FLOWGATE_ADMINS`). */
  policy: Policy;
  gateway: SlackGateway;
  progress: ProgressMessages;
  command: string;
  logger: Logger;
  /** Escalation, quorums and answers given on timeout (src/slack/deadlines.ts). */
  deadlines?: Deadlines;
}

export type Respond = (reply: Reply) => Promise<void>;

/**
 * What became of an answer form's submission: field `errors` or an `error` for the modal, or a
 * claimed answer to `resume` the run with (after the ack) — or to `withdraw` when it came too late
 * to be acknowledged, so the step is free again.
 */
export interface AnswerOutcome {
  errors?: Record<string, string>;
  error?: string;
  resume?: () => Promise<void>;
  withdraw?: () => Promise<void>;
}

/** Blocks a modal keeps for context above the generated inputs. */
const FORM_RESERVED_BLOCKS = 5;
const FORM_MAX_BLOCKS = 100 - FORM_RESERVED_BLOCKS;

export class Flowgate {
  readonly #deps: FlowgateDeps;
  readonly #groups: string[];

  constructor(deps: FlowgateDeps) {
    this.#deps = deps;
    this.#groups = policyGroups(deps.policy);
  }

  // ---------------------------------------------------------------------------------------------
  // Slash command

  /** The answer to command text that needs no lookup (help, usage), fit to send in the ack itself. */
  instantReply(text: string): Reply | undefined {
    return this.#instant(parseCommand(text, this.#deps.command));
  }

  #instant(parsed: Command): Reply | undefined {
    if (parsed.kind === 'help') return renderHelp(this.#deps.command, parsed.unknown);
    if (parsed.kind === 'usage') return renderNotice(safeText(parsed.message, 500));
    return undefined;
  }

  async command(
    input: { text: string; userId: string; channelId: string; triggerId: string },
    respond: Respond,
  ): Promise<void> {
    const parsed = parseCommand(input.text, this.#deps.command);
    try {
      const instant = this.#instant(parsed);
      if (instant) return await respond(instant);
      switch (parsed.kind) {
        case 'list':
          return await respond(
            renderWorkflowList(await this.#deps.catalog.list(), {
              command: this.#deps.command,
              ...(parsed.page === undefined ? {} : { page: parsed.page }),
            }),
          );
        case 'start': {
          const entry = await this.#resolve(parsed.workflow);
          return await this.start({ entry, inputs: parsed.inputs, ...input }, respond);
        }
        case 'runs':
          return await this.#listRuns(parsed.workflow, parsed.status, respond);
        case 'status':
          return await this.#status(parsed.runId, respond);
        case 'cancel':
          return await this.cancel({ runId: parsed.runId, userId: input.userId }, respond);
      }
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Starting runs

  /** Start from text: inline inputs, or a form when inputs are needed and none were typed. */
  async start(
    input: { entry: CatalogEntry; inputs: string; userId: string; channelId: string; triggerId: string },
    respond: Respond,
  ): Promise<void> {
    const { entry } = input;
    await this.#authorizeStart(entry, input.userId);
    const info = await this.#deps.catalog.details(entry.key);
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
      const opened = await this.#deps.gateway.openView(input.triggerId, startFormView(info, split.state));
      // Where the run will be posted is recorded here, from where the form was opened: never read
      // back from the modal.
      await this.#deps.store.saveForm({
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
    const formHint = `Try \`${safeText(this.#deps.command, 40)} start ${safeText(entry.key, 100)}\` with no inputs to get a form.`;
    const problems = validationProblems(schema, inputData);
    if (problems.length > 0) {
      throw new UserFacingError(
        `Those inputs don't fit ${code(entry.key, 100)}:\n${problems.map((p) => `• ${p}`).join('\n')}\n${formHint}`,
      );
    }
    // Checked before the run is created: Mastra would only refuse it once the run has begun.
    const stateProblems =
      stateSchema && (split.state !== undefined || needsState(stateSchema))
        ? validationProblems(stateSchema, split.state ?? {})
        : [];
    if (stateProblems.length > 0) {
      const given = split.state === undefined ? ' needs an initial state' : "'s initial state doesn't fit";
      throw new UserFacingError(
        `${code(entry.key, 100)}${given}:\n${stateProblems.map((p) => `• ${p}`).join('\n')}\nGive it after the inputs as \`state={…}\` (JSON), or ${formHint.charAt(0).toLowerCase()}${formHint.slice(1)}`,
      );
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
      const entry = (await this.#deps.catalog.list()).find((e) => handleOf(e.key) === input.ref.w);
      if (!entry) {
        throw new UserFacingError(
          `That workflow is not on the Mastra server any more. Try \`${safeText(this.#deps.command, 40)} list\` again.`,
        );
      }
      await this.start({ entry, inputs: '', ...input }, respond);
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  /** The start form's submission: field errors keep the modal open; valid input starts the run. */
  async submitStartForm(input: {
    viewId: string;
    userId: string;
    values: ViewStateValues;
  }): Promise<{ errors?: Record<string, string>; error?: string; launch?: () => Promise<void> }> {
    try {
      const form = await this.#openForm(input.viewId, input.userId, 'start');
      const entry = await this.#resolve(form.workflowKey);
      await this.#authorizeStart(entry, input.userId);
      const info = await this.#deps.catalog.details(entry.key);
      const stateSchema = stateSchemaOf(info);
      const result = readSubmission(info.inputSchema ?? {}, input.values, { maxBlocks: inputBlocks(info) });
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
      await this.#deps.store.deleteForm(input.viewId);
      return {
        launch: async () => {
          // The modal is closed: a DM tells them, or, when Slack will not deliver it, a note in
          // the channel the form was opened from.
          const note: Respond = async (reply) => {
            const { gateway, logger } = this.#deps;
            await gateway
              .directMessage(input.userId, reply, 'interactive')
              .catch(() => gateway.ephemeral(form.channel, input.userId, reply, 'interactive'))
              .catch((error) => logger.warn('could not tell the starter about their form', error));
          };
          try {
            await this.#launch(entry, info, run, input.userId, form.channel, note);
          } catch (error) {
            await this.#fail(error, note);
          }
        },
      };
    } catch (error) {
      return { error: userMessage(error) };
    }
  }

  /** The form Flowgate recorded as opened for this person as `viewId`; refuses anything else. */
  async #openForm<K extends OpenForm['kind']>(
    viewId: string,
    userId: string,
    kind: K,
  ): Promise<Extract<OpenForm, { kind: K }>> {
    const form = await this.#deps.store.getForm(viewId);
    if (!form || form.kind !== kind || form.userId !== userId) {
      throw new UserFacingError(
        'Flowgate has no record of opening this form for you (it may have expired after a day). Open it again from the message or the command.',
      );
    }
    return form as Extract<OpenForm, { kind: K }>;
  }

  async #launch(
    entry: CatalogEntry,
    info: WorkflowInfo,
    { inputData, initialState }: { inputData: unknown; initialState: unknown },
    userId: string,
    channelId: string,
    respond: Respond,
  ): Promise<void> {
    const { client, progress } = this.#deps;
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
      this.#deps.logger.warn(`run ${run.runId}: could not post its progress message`, error);
      throw new UserFacingError(notPostedMessage(error), { cause: error });
    }
    if (posted.fellBackToDm) {
      await respond(
        renderNotice(
          `I can't post in this channel, so the progress of ${code(entry.key, 100)} is in your DMs. Invite me to the channel to post here.`,
        ),
      );
    }
    let events: AsyncIterable<WorkflowEvent>;
    try {
      events = await run.stream({
        inputData,
        ...(initialState === undefined ? {} : { initialState }),
        closeOnSuspend: true,
      });
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
    progress.follow(run.runId, events);
  }

  // ---------------------------------------------------------------------------------------------
  // Runs and status

  async #listRuns(name: string, status: string | undefined, respond: Respond): Promise<void> {
    const entry = await this.#resolve(name);
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new UserFacingError(
        `${code(status, 30)} is not a run status. Use one of: ${RUN_STATUSES.map((s) => code(s)).join(', ')}.`,
      );
    }
    const page = await this.#deps.client
      .getWorkflow(entry.key)
      .runs({ perPage: 15, page: 0, ...(status ? { status: status as RunStatus } : {}) });
    const rows = await Promise.all(page.runs.map((run) => this.#deps.store.getProgressMessage(run.runId)));
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

  async #status(runId: string, respond: Respond): Promise<void> {
    const located = await this.#locateRun(runId);
    const state = await this.#deps.client.getWorkflow(located.key).runById(runId);
    const row = await this.#deps.store.getProgressMessage(runId);
    const info = await this.#deps.catalog.details(located.key);
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
          : await requesterOf(state.resourceId, this.#deps.gateway, 'interactive').then((who) => ({
              origin: 'elsewhere' as const,
              ...who,
            }))),
        startedAt: row?.startedAt ?? state.createdAt,
        ...(row?.canceledBy ? { canceledBy: row.canceledBy } : {}),
      },
      row?.permalink,
    );
    await respond(message);
  }

  /** Which workflow a run belongs to: from the store when Flowgate started it, else by asking. */
  async #locateRun(runId: string): Promise<CatalogEntry> {
    const row = await this.#deps.store.getProgressMessage(runId);
    const entries = await this.#deps.catalog.list();
    if (row) {
      const entry = entries.find((e) => e.key === row.workflowKey);
      if (entry) return entry;
    }
    const found = await Promise.all(
      entries.map((entry) =>
        this.#deps.client
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

  // ---------------------------------------------------------------------------------------------
  // Cancel

  /** `cancel <run id>`: the run's workflow from what Flowgate recorded, else asked of the server. */
  async cancel(input: { runId: string; userId: string }, respond: Respond): Promise<void> {
    try {
      const row = await this.#deps.store.getProgressMessage(input.runId);
      const entry = row ? await this.#resolve(row.workflowKey) : await this.#locateRun(input.runId);
      await this.#cancel(entry, input.runId, row, input.userId, respond);
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  /** The Cancel button of a progress message: the run is the one Flowgate posted that message for. */
  async cancelFromMessage(input: { message: MessageRef; userId: string }, respond: Respond): Promise<void> {
    try {
      const row = await this.#messageRow(input.message);
      await this.#cancel(await this.#resolve(row.workflowKey), row.runId, row, input.userId, respond);
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  async #cancel(
    entry: CatalogEntry,
    runId: string,
    row: ProgressMessage | undefined,
    userId: string,
    respond: Respond,
  ): Promise<void> {
    await this.#authorize(
      canCancel(this.#deps.policy, {
        workflowId: entry.id,
        workflowKey: entry.key,
        userId,
        userGroups: await this.#userGroups(userId),
        starterId: row?.starterId ?? null,
      }),
    );
    try {
      await this.#deps.client.getWorkflow(entry.key).run(runId).cancel();
    } catch (error) {
      if (isMastraError(error, 'already_finished')) {
        if (row && !row.final) this.#deps.progress.follow(runId);
        throw new UserFacingError(
          `Run ${code(runId, 100)} had already finished (${safeText(error.runStatus ?? 'done', 20)}), so there was nothing to cancel.`,
        );
      }
      throw error;
    }
    if (row) {
      await this.#deps.store.updateProgressMessage(runId, { canceledBy: userId });
      this.#deps.progress.follow(runId);
    }
    await respond(renderNotice(`Canceled run ${code(runId, 100)} of ${safeText(entry.id, 150)}.`));
  }

  // ---------------------------------------------------------------------------------------------
  // Answering suspended steps
  //
  // Which run a button belongs to comes from the message it is on (as Flowgate recorded it), which
  // step from the run's current suspensions (by the handle the button carries), and who may answer
  // from the policy with the starter Flowgate recorded. A form's run and step are recorded when it
  // opens. Nothing a payload says is taken on trust.

  /**
   * "Respond…": checks the person may answer, opens a loading modal at once (the trigger expires in
   * 3 s), then fills it with the form built from the step's resume schema.
   */
  async openAnswerForm(
    input: { message: MessageRef; ref: SuspensionRef; userId: string; triggerId: string },
    respond: Respond,
  ): Promise<void> {
    let viewId: string | undefined;
    try {
      const row = await this.#messageRow(input.message);
      // The step as the message showed it, when Flowgate has it at hand: the modal must open within
      // the trigger's 3 s, so the server is asked only after, for the form and to check it still waits.
      let waiting: Waiting | undefined;
      let path = this.#deps.progress.shownSuspension(row.runId, input.ref)?.path;
      if (!path) {
        waiting = await this.#suspension(row, input.ref);
        path = waiting.suspension.path;
      }
      await this.#authorizeAnswer(row, path, input.userId);
      const opened = await this.#deps.gateway.openView(input.triggerId, loadingView());
      viewId = opened.id;
      waiting ??= await this.#suspension(row, input.ref);
      const { suspension } = waiting;
      await this.#deps.store.saveForm({
        kind: 'answer',
        viewId,
        userId: input.userId,
        openedAt: new Date(),
        runId: row.runId,
        stepPath: suspension.path,
        suspendedAt: suspension.suspendedAt ?? null,
        ...(suspension.forEachIndex === undefined ? {} : { forEachIndex: suspension.forEachIndex }),
      });
      const schema = resumeSchemaOf(waiting.info, suspension.path) ?? {};
      await this.#deps.gateway.updateView(
        viewId,
        answerFormView(waiting.info, row.runId, suspension, schema),
        'interactive',
      );
    } catch (error) {
      const message = userMessage(error);
      // In the modal when there is one; when Slack will not update it either, in an ephemeral reply.
      const shown = viewId
        ? await this.#deps.gateway
            .updateView(viewId, noticeView('Cannot answer', message), 'interactive')
            .then(() => true)
            .catch(() => false)
        : false;
      if (!shown) await respond(renderNotice(message)).catch(() => {});
      this.#logUnexpected(error);
    }
  }

  /**
   * The answer form's submission. Authorized again, validated against the same schema (errors stay
   * on the fields), claimed first-answer-wins, then the run is resumed and followed.
   */
  async submitAnswer(input: {
    viewId: string;
    userId: string;
    values: ViewStateValues;
  }): Promise<AnswerOutcome> {
    let row: ProgressMessage | undefined;
    try {
      const form = await this.#openForm(input.viewId, input.userId, 'answer');
      row = await this.#deps.store.getProgressMessage(form.runId);
      if (!row) throw new UserFacingError('Flowgate has no record of this run any more.');
      const waiting = await this.#suspension(
        row,
        suspensionRef({
          path: form.stepPath,
          ...(form.forEachIndex === undefined ? {} : { forEachIndex: form.forEachIndex }),
          ...(form.suspendedAt ? { suspendedAt: form.suspendedAt } : {}),
        }),
      );
      const path = waiting.suspension.path;
      await this.#authorizeAnswer(row, path, input.userId);
      const schema = resumeSchemaOf(waiting.info, path) ?? {};
      const result = readSubmission(schema, input.values, { maxBlocks: FORM_MAX_BLOCKS });
      if (!result.ok) return { errors: result.errors };
      // A yes/no step that needs several approvals: this answer is one vote (src/slack/deadlines.ts).
      const shape = isYesNoSchema(schema);
      const vote = shape
        ? await this.#vote(
            row,
            waiting,
            input.userId,
            (result.data as Record<string, unknown>)[shape.booleanField] === true,
          )
        : undefined;
      if (vote?.settled === false) {
        await this.#deps.store.deleteForm(input.viewId);
        const text = vote.message;
        const where = row;
        // Nothing to resume yet: the modal closes and the person is told where the approvals stand.
        return {
          resume: () =>
            this.#deps.gateway
              .ephemeral(where.channel, input.userId, { text }, 'interactive')
              .then(() => undefined)
              .catch((error) =>
                this.#deps.logger.warn('could not tell the person their vote counted', error),
              ),
        };
      }
      const outcome = await this.#claimAndResume(row, waiting, input.userId, result.data);
      if (outcome.resume) await this.#deps.store.deleteForm(input.viewId);
      return outcome;
    } catch (error) {
      this.#logUnexpected(error);
      if (error instanceof RefusedError && row) {
        // Also say it where the run is: a forged submission has no modal to show the refusal in.
        await this.#deps.gateway
          .ephemeral(row.channel, input.userId, { text: error.message }, 'interactive')
          .catch(() => {});
      }
      return { error: userMessage(error) };
    }
  }

  /** One-click Approve / Reject for yes/no steps. */
  async oneClick(
    input: { message: MessageRef; ref: SuspensionRef; userId: string; approve: boolean },
    respond: Respond,
  ): Promise<void> {
    try {
      const row = await this.#messageRow(input.message);
      const waiting = await this.#suspension(row, input.ref);
      const path = waiting.suspension.path;
      await this.#authorizeAnswer(row, path, input.userId);
      const schema = resumeSchemaOf(waiting.info, path);
      const shape = isYesNoSchema(schema ?? {});
      if (!shape) throw new UserFacingError('This step needs more than a yes or no: use *Respond…*.');
      const data = { [shape.booleanField]: input.approve };
      if (validationProblems(schema, data).length > 0)
        throw new UserFacingError('This step needs more than a yes or no: use *Respond…*.');
      // A step that needs several approvals: this click is one vote (src/slack/deadlines.ts).
      const vote = await this.#vote(row, waiting, input.userId, input.approve);
      if (vote?.settled === false) return await respond(renderNotice(vote.message));
      const outcome = await this.#claimAndResume(row, waiting, input.userId, data);
      if (outcome.error) return await respond(renderNotice(outcome.error));
      await outcome.resume?.();
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  /** A vote when the step needs more than one approval; undefined when one answer settles it. */
  async #vote(row: ProgressMessage, waiting: Waiting, userId: string, approve: boolean) {
    const deadlines = this.#deps.deadlines;
    const required = deadlines?.required(row, waiting.info, waiting.suspension.path) ?? 1;
    if (!deadlines || required <= 1) return undefined;
    return deadlines.vote(row, waiting.suspension, userId, approve, required);
  }

  /**
   * A step that timed out with `onTimeout: { answer }` is answered by Flowgate: checked against the
   * step's resume schema like anyone's answer and claimed first-answer-wins under the same key, so a
   * person answering at the same moment and the deadline resume the run once.
   */
  async answerAsFlowgate(
    row: ProgressMessage,
    question: Suspension,
    data: unknown,
    note: string,
  ): Promise<{ error?: string }> {
    try {
      const waiting = await this.#suspension(row, suspensionRef(question));
      const problems = validationProblems(resumeSchemaOf(waiting.info, waiting.suspension.path), data);
      if (problems.length > 0)
        return { error: `the answer does not fit the step's form: ${problems.join('; ')}` };
      const outcome = await this.#claimAndResume(row, waiting, FLOWGATE, data, note);
      if (outcome.error) return { error: outcome.error };
      await outcome.resume?.();
      return {};
    } catch (error) {
      return { error: userMessage(error) };
    }
  }

  /**
   * First answer wins, per question: the claim is keyed by the suspension (the step, the
   * `.foreach()` iteration, the moment it was asked), so a loop asking again and each iteration
   * are answered on their own.
   */
  async #claimAndResume(
    row: ProgressMessage,
    waiting: Waiting,
    userId: string,
    resumeData: unknown,
    note?: string,
  ): Promise<AnswerOutcome> {
    const { store, client, progress, gateway, logger } = this.#deps;
    const runId = row.runId;
    const { suspension } = waiting;
    const step = suspension.path;
    const forEachIndex = suspension.forEachIndex;
    const key = suspensionKey(suspension);
    const claim = await store.claimAnswer(runId, key, userId, new Date());
    if (!claim.claimed) {
      return { error: alreadyAnswered(claim.by, claim.at, forEachIndex) };
    }
    const name = `*${stepName(step, 150)}*${itemText(forEachIndex)}`;
    const summary = truncate(`${note ? `${note}: ` : ''}${inlineValue(resumeData, 280)}`, 280);
    return {
      withdraw: () => store.releaseAnswer(runId, key, userId),
      resume: async () => {
        try {
          const events = await client
            .getWorkflow(row.workflowKey)
            .run(runId)
            .resumeStream({ step, resumeData, ...(forEachIndex === undefined ? {} : { forEachIndex }) });
          await store.completeAnswer(runId, key, userId, summary);
          progress.follow(runId, events);
          await gateway
            .replyInThread(
              row.channel,
              row.ts,
              `${mentionUser(userId)} answered ${name}: ${safeText(summary, 300)}`,
              'background',
            )
            .catch((error) => logger.warn('thread reply failed', error));
        } catch (error) {
          await store.releaseAnswer(runId, key, userId);
          progress.follow(runId);
          if (userId === FLOWGATE) return this.#logUnexpected(error); // nobody to tell: the deadline logs it
          const text = `Your answer to ${name} was not accepted: ${userMessage(error)}`;
          await gateway
            .ephemeral(row.channel, userId, { text }, 'interactive')
            .catch(() => gateway.directMessage(userId, { text }, 'interactive'))
            .catch((e) => logger.warn('could not tell the person their answer was not accepted', e));
          this.#logUnexpected(error);
        }
      },
    };
  }

  async #authorizeStart(entry: CatalogEntry, userId: string): Promise<void> {
    await this.#authorize(
      canStart(this.#deps.policy, {
        workflowId: entry.id,
        workflowKey: entry.key,
        userId,
        userGroups: await this.#userGroups(userId),
      }),
    );
  }

  /** May this person answer this step of this run? Throws a user-facing refusal if not. */
  async #authorizeAnswer(row: ProgressMessage, stepPath: readonly string[], userId: string): Promise<void> {
    await this.#authorize(
      canAnswer(this.#deps.policy, {
        workflowId: row.workflowId,
        workflowKey: row.workflowKey,
        stepPath,
        userId,
        userGroups: await this.#userGroups(userId),
        starterId: row.starterId,
        // How long the step has waited: escalated people may answer it (src/slack/deadlines.ts).
        ...(await this.#waiting(row.runId, stepPath)),
      }),
    );
  }

  async #waiting(runId: string, stepPath: readonly string[]) {
    const waiting = await this.#deps.deadlines?.waitingOf(runId, stepPath);
    return waiting ? { waiting } : {};
  }

  /** The progress message a button was clicked on, as Flowgate recorded it. */
  async #messageRow(message: MessageRef): Promise<ProgressMessage> {
    const row =
      message.channel && message.ts
        ? await this.#deps.store.findProgressMessage(message.channel, message.ts)
        : undefined;
    if (!row) throw new UserFacingError(MALFORMED_REQUEST);
    return row;
  }

  /**
   * The question `ref` names, as the server has it now: one of the run's suspensions (the step,
   * the `.foreach()` iteration), asked at the moment the person was shown. Refuses when it no
   * longer waits, or has asked again since.
   */
  async #suspension(row: ProgressMessage, ref: SuspensionRef): Promise<Waiting> {
    const [info, state] = await Promise.all([
      this.#deps.catalog.details(row.workflowKey),
      this.#deps.client.getWorkflow(row.workflowKey).runById(row.runId),
    ]);
    const snapshot = snapshotFromRunState(state);
    const same = snapshot.payload.workflowState.suspended.find(
      (s) => handleOf(s.path) === ref.h && s.forEachIndex === ref.i,
    );
    if (same && refersTo(ref, same)) return { info, suspension: same };
    this.#deps.progress.follow(row.runId);
    if (same) {
      throw new UserFacingError(
        'This step has asked again since that question was shown. The message now shows the new question: answer that one.',
      );
    }
    const answered = (await this.#deps.store.listAnswers(row.runId)).find((a) => {
      if (a.state !== 'resumed') return false;
      const key = parseSuspensionKey(a.stepPath);
      return (
        handleOf(key.step.split('.')) === ref.h && key.forEachIndex === ref.i && key.suspendedAt === ref.t
      );
    });
    if (answered) throw new UserFacingError(alreadyAnswered(answered.userId, answered.answeredAt, ref.i));
    const elsewhere = Object.values(snapshot.payload.workflowState.steps).find(
      (s) => handleOf(s.id.split('.')) === ref.h && s.resumedAt !== undefined,
    );
    if (elsewhere?.resumedAt && ref.i === undefined) {
      throw new UserFacingError(
        `That step was answered outside Slack (through Mastra's API or Studio) ${slackDate(elsewhere.resumedAt)}.`,
      );
    }
    throw new UserFacingError(
      TERMINAL_RUN_STATUSES.has(state.status)
        ? `This run is ${safeText(state.status, 20)}, so that step no longer takes answers.`
        : ref.i === undefined
          ? 'That step is not waiting for an answer any more.'
          : `Item ${ref.i + 1} of that step is not waiting for an answer any more.`,
    );
  }

  // ---------------------------------------------------------------------------------------------

  async #resolve(name: string): Promise<CatalogEntry> {
    const match = await this.#deps.catalog.resolve(name);
    if (match.ok) return match.entry;
    const known = match.entries.map((e) => code(e.key, 60)).join(', ') || 'none';
    const hint = match.suggestion ? ` — did you mean ${code(match.suggestion.key, 100)}?` : '';
    throw new UserFacingError(`No workflow ${code(name, 100)}${hint}\nWorkflows: ${known}`);
  }

  async #authorize(decision: Decision): Promise<void> {
    if (!decision.allowed) throw new RefusedError(safeText(decision.reason, 500));
  }

  /** The policy's groups this user belongs to (no lookups at all when the policy names none). */
  async #userGroups(userId: string): Promise<string[]> {
    if (this.#groups.length === 0) return [];
    const results = await Promise.all(
      this.#groups.map(async (group) => {
        try {
          const members = await this.#deps.gateway.groupMembers(group, 'interactive');
          return members.includes(userId) ? group : undefined;
        } catch (error) {
          this.#deps.logger.warn(`cannot read the members of user group ${group}`, error);
          return undefined;
        }
      }),
    );
    return results.filter((g): g is string => g !== undefined);
  }

  async #fail(error: unknown, respond: Respond): Promise<void> {
    this.#logUnexpected(error);
    await respond(renderNotice(userMessage(error))).catch((e) =>
      this.#deps.logger.warn('could not tell the user', e),
    );
  }

  #logUnexpected(error: unknown): void {
    if (error instanceof UserFacingError) return;
    if (
      isMastraError(error) &&
      error.code !== 'unavailable' &&
      error.code !== 'protocol' &&
      error.code !== 'http'
    )
      return;
    this.#deps.logger.error('request failed', error);
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs and views (pure)

function needsInput(schema: JsonSchema | undefined): boolean {
  if (!schema) return false;
  const required = schema.required;
  if (Array.isArray(required) && required.length > 0) return true;
  return schema.type !== undefined && schema.type !== 'object';
}

/** Human messages for every way `value` misses `schema` (empty when it fits, or when there is no schema). */
export function validationProblems(schema: JsonSchema | undefined, value: unknown): string[] {
  if (!schema) return [];
  const validator = compileSchema(schema);
  if (!validator) return [];
  const result = validator.safeParse(value);
  if (result.success) return [];
  return result.error.issues.slice(0, 10).map((issue) => {
    const path = issue.path.map(String).join('.');
    const at = path ? `${code(path, 80)}: ` : '';
    return `${at}${safeText(describeIssue(issue, valueAt(value, issue.path)), 300)}`;
  });
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

export function loadingView(): View {
  return fitView({
    type: 'modal',
    callback_id: VIEW.loading,
    title: { type: 'plain_text', text: 'Loading…' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: ':hourglass_flowing_sand: Loading the form…' } },
    ],
  });
}

export function noticeView(title: string, text: string): View {
  return fitView({
    type: 'modal',
    callback_id: VIEW.loading,
    title: { type: 'plain_text', text: title },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  });
}

/** Input blocks the start form gives the inputs: all of them, or what the state section leaves. */
function inputBlocks(info: WorkflowInfo): number {
  return stateSchemaOf(info) ? FORM_MAX_BLOCKS - STATE_MAX_BLOCKS - STATE_RESERVED_BLOCKS : FORM_MAX_BLOCKS;
}

/** The start form: the inputs, then — for a workflow with a state schema — a section for its initial state. */
export function startFormView(info: WorkflowInfo, initialState?: unknown): View {
  const form = buildForm(info.inputSchema ?? {}, { maxBlocks: inputBlocks(info) });
  const stateSchema = stateSchemaOf(info);
  const state = stateSchema ? stateSection(stateSchema, initialState) : [];
  const intro = `Start *${safeText(info.name, 150)}*${info.description ? `\n${safeText(info.description, 1000)}` : ''}`;
  return fitView({
    type: 'modal',
    callback_id: VIEW.startForm,
    title: { type: 'plain_text', text: 'Start a run' },
    submit: { type: 'plain_text', text: 'Start' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: intro } }, ...form.blocks, ...state],
  });
}

export function answerFormView(
  info: WorkflowInfo,
  runId: string,
  suspension: Suspension,
  schema: JsonSchema,
): View {
  const form = buildForm(schema, { maxBlocks: FORM_MAX_BLOCKS });
  const fields = payloadFields(suspension.payload);
  const name = `${stepName(suspension.path, 200)}${itemText(suspension.forEachIndex, suspension.forEachTotal)}`;
  const blocks: View['blocks'] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${safeText(info.name, 150)}* › *${name}* is waiting for your answer.\nRun ${code(runId, 100)}`,
      },
    },
  ];
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push({ type: 'divider' });
  blocks.push(...form.blocks);
  return fitView({
    type: 'modal',
    callback_id: VIEW.answerForm,
    // The step's resume label names the question best; fitView keeps it within Slack's 24.
    title: {
      type: 'plain_text',
      text:
        suspension.resumeLabel ??
        (suspension.forEachIndex === undefined ? 'Respond' : `Respond · item ${suspension.forEachIndex + 1}`),
    },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  });
}

/** Who answered a question first, in the words of a refusal. */
function alreadyAnswered(userId: string, at: Date, forEachIndex: number | undefined): string {
  const what = forEachIndex === undefined ? 'this step' : `item ${forEachIndex + 1} of this step`;
  return `${mentionUser(userId)} already answered ${what} ${slackDate(at)}.`;
}
