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
import type { JsonSchema, RunStatus, WorkflowEvent, WorkflowInfo } from '../mastra/types.ts';
import { RUN_STATUSES, TERMINAL_RUN_STATUSES } from '../mastra/types.ts';
import { canAnswer, canCancel, canStart, type Decision, type Policy, policyGroups } from '../policy.ts';
import { snapshotFromRunState } from '../runs/state.ts';
import type { Store } from '../store/index.ts';
import { type Command, parseCommand, parseInputs } from './command-text.ts';
import { notPostedMessage, RefusedError, UserFacingError, userMessage } from './errors.ts';
import type { SlackGateway } from './gateway.ts';
import { encodeRef, type StartRef, type StepRef, VIEW } from './ids.ts';
import { code, inlineValue, mentionUser, safeText, slackDate, truncate } from './mrkdwn.ts';
import type { ProgressMessages } from './progress.ts';
import {
  type Reply,
  renderHelp,
  renderNotice,
  renderRunList,
  renderWorkflowList,
} from './render/commands.ts';
import { payloadFields, renderProgress } from './render/progress.ts';
import { slackFailure } from './retry.ts';

export interface FlowgateDeps {
  client: MastraClient;
  catalog: WorkflowCatalog;
  store: Store;
  policy: Policy;
  admins: string[];
  gateway: SlackGateway;
  progress: ProgressMessages;
  command: string;
  logger: Logger;
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
  withdraw?: () => void;
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
          return await respond(renderWorkflowList(await this.#deps.catalog.list(), input.channelId));
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
    const parsed = parseInputs(input.inputs, schema);
    if (!parsed.ok) throw new UserFacingError(safeText(parsed.message, 1000));
    if (parsed.value === undefined && needsInput(schema)) {
      await this.#deps.gateway.openView(input.triggerId, startFormView(entry, info, input.channelId));
      return;
    }
    const inputData = parsed.value ?? {};
    const problems = validationProblems(schema, inputData);
    if (problems.length > 0) {
      throw new UserFacingError(
        `Those inputs don't fit ${code(entry.key, 100)}:\n${problems.map((p) => `• ${p}`).join('\n')}\nTry \`${safeText(this.#deps.command, 40)} start ${safeText(entry.key, 100)}\` with no inputs to get a form.`,
      );
    }
    await this.#launch(entry, info, inputData, input.userId, input.channelId, respond);
  }

  /** The Start button of `list`: a form when the workflow needs inputs, else start at once. */
  async startFromButton(
    input: { ref: StartRef; userId: string; triggerId: string; channelId: string | undefined },
    respond: Respond,
  ): Promise<void> {
    try {
      const entry = await this.#resolve(input.ref.w);
      await this.start(
        {
          entry,
          inputs: '',
          userId: input.userId,
          triggerId: input.triggerId,
          channelId: input.channelId ?? input.ref.c,
        },
        respond,
      );
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  /** The start form's submission: field errors keep the modal open; valid input starts the run. */
  async submitStartForm(input: {
    ref: StartRef;
    userId: string;
    values: ViewStateValues;
  }): Promise<{ errors?: Record<string, string>; error?: string; launch?: () => Promise<void> }> {
    try {
      const entry = await this.#resolve(input.ref.w);
      await this.#authorizeStart(entry, input.userId);
      const info = await this.#deps.catalog.details(entry.key);
      const result = readSubmission(info.inputSchema ?? {}, input.values, { maxBlocks: FORM_MAX_BLOCKS });
      if (!result.ok) return { errors: result.errors };
      return {
        launch: async () => {
          // The modal is closed: a DM tells them, or, when Slack will not deliver it, a note in
          // the channel the form was opened from.
          const note: Respond = async (reply) => {
            const { gateway, logger } = this.#deps;
            await gateway
              .directMessage(input.userId, reply, 'interactive')
              .catch(() => gateway.ephemeral(input.ref.c, input.userId, reply, 'interactive'))
              .catch((error) => logger.warn('could not tell the starter about their form', error));
          };
          try {
            await this.#launch(entry, info, result.data, input.userId, input.ref.c, note);
          } catch (error) {
            await this.#fail(error, note);
          }
        },
      };
    } catch (error) {
      return { error: userMessage(error) };
    }
  }

  async #launch(
    entry: CatalogEntry,
    info: WorkflowInfo,
    inputData: unknown,
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
      events = await run.stream({ inputData, closeOnSuspend: true });
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
    const items = page.runs.map((run) => {
      const row = this.#deps.store.getProgressMessage(run.runId);
      return {
        runId: run.runId,
        status: run.status,
        starter:
          row?.starterId ??
          (run.resourceId && /^[UW][A-Z0-9]+$/.test(run.resourceId) ? run.resourceId : null),
        createdAt: run.createdAt,
        ...(row?.permalink ? { permalink: row.permalink } : {}),
      };
    });
    await respond(renderRunList(entry.id, items, page.total, status));
  }

  async #status(runId: string, respond: Respond): Promise<void> {
    const located = await this.#locateRun(runId);
    const state = await this.#deps.client.getWorkflow(located.key).runById(runId);
    const row = this.#deps.store.getProgressMessage(runId);
    const info = await this.#deps.catalog.details(located.key);
    const snapshot = snapshotFromRunState(state);
    const message = renderProgress({
      workflow: { key: located.key, name: info.name },
      snapshot,
      starterId: row?.starterId ?? state.resourceId,
      startedAt: row?.startedAt ?? state.createdAt,
      ...(row?.canceledBy ? { canceledBy: row.canceledBy } : {}),
    });
    const link = row?.permalink
      ? [
          {
            type: 'context' as const,
            elements: [{ type: 'mrkdwn' as const, text: `<${row.permalink}|Open the progress message>` }],
          },
        ]
      : [];
    await respond({
      text: message.text,
      blocks: [...message.blocks.filter((b) => b.type !== 'actions'), ...link],
    });
  }

  /** Which workflow a run belongs to: from the store when Flowgate started it, else by asking. */
  async #locateRun(runId: string): Promise<CatalogEntry> {
    const row = this.#deps.store.getProgressMessage(runId);
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

  async cancel(
    input: { runId: string; userId: string; workflowKey?: string },
    respond: Respond,
  ): Promise<void> {
    try {
      const entry = input.workflowKey
        ? await this.#resolve(input.workflowKey)
        : await this.#locateRun(input.runId);
      const row = this.#deps.store.getProgressMessage(input.runId);
      const starterId = row?.starterId ?? null;
      await this.#authorize(
        canCancel(this.#deps.policy, {
          workflowId: entry.id,
          workflowKey: entry.key,
          userId: input.userId,
          userGroups: await this.#userGroups(input.userId),
          starterId,
          admins: this.#deps.admins,
        }),
      );
      try {
        await this.#deps.client.getWorkflow(entry.key).run(input.runId).cancel();
      } catch (error) {
        if (isMastraError(error, 'already_finished')) {
          if (row && !row.final) this.#deps.progress.follow(input.runId);
          throw new UserFacingError(
            `Run ${code(input.runId, 100)} had already finished (${safeText(error.runStatus ?? 'done', 20)}), so there was nothing to cancel.`,
          );
        }
        throw error;
      }
      if (row) {
        this.#deps.store.updateProgressMessage(input.runId, { canceledBy: input.userId });
        this.#deps.progress.follow(input.runId);
      }
      await respond(renderNotice(`Canceled run ${code(input.runId, 100)} of ${safeText(entry.id, 150)}.`));
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Answering suspended steps

  /**
   * "Respond…": checks the person may answer, opens a loading modal at once (the trigger expires in
   * 3 s), then fills it with the form built from the step's resume schema.
   */
  async openAnswerForm(
    input: { ref: StepRef; userId: string; triggerId: string },
    respond: Respond,
  ): Promise<void> {
    let viewId: string | undefined;
    try {
      const { entry } = await this.#authorizeAnswer(input.ref, input.userId);
      const opened = await this.#deps.gateway.openView(input.triggerId, loadingView());
      viewId = opened.id;
      const { info, suspendPayload } = await this.#suspendedStep(entry, input.ref);
      const schema = resumeSchemaOf(info, input.ref.s) ?? {};
      await this.#deps.gateway.updateView(
        viewId,
        answerFormView(info, input.ref, schema, suspendPayload),
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
    ref: StepRef;
    userId: string;
    values: ViewStateValues;
  }): Promise<AnswerOutcome> {
    try {
      const { entry } = await this.#authorizeAnswer(input.ref, input.userId);
      const { info, suspendedAt } = await this.#suspendedStep(entry, input.ref);
      const schema = resumeSchemaOf(info, input.ref.s) ?? {};
      const result = readSubmission(schema, input.values, { maxBlocks: FORM_MAX_BLOCKS });
      if (!result.ok) return { errors: result.errors };
      return this.#claimAndResume(entry, input.ref, input.userId, result.data, suspendedAt);
    } catch (error) {
      this.#logUnexpected(error);
      if (error instanceof RefusedError) {
        // Also say it where the run is: a forged submission has no modal to show the refusal in.
        const row = this.#deps.store.getProgressMessage(input.ref.r);
        if (row)
          await this.#deps.gateway
            .ephemeral(row.channel, input.userId, { text: error.message }, 'interactive')
            .catch(() => {});
      }
      return { error: userMessage(error) };
    }
  }

  /** One-click Approve / Reject for yes/no steps. */
  async oneClick(input: { ref: StepRef; userId: string; approve: boolean }, respond: Respond): Promise<void> {
    try {
      const { entry } = await this.#authorizeAnswer(input.ref, input.userId);
      const { info, suspendedAt } = await this.#suspendedStep(entry, input.ref);
      const shape = isYesNoSchema(resumeSchemaOf(info, input.ref.s) ?? {});
      if (!shape) throw new UserFacingError('This step needs more than a yes or no: use *Respond…*.');
      const data = { [shape.booleanField]: input.approve };
      const problems = validationProblems(resumeSchemaOf(info, input.ref.s), data);
      if (problems.length > 0)
        throw new UserFacingError('This step needs more than a yes or no: use *Respond…*.');
      const outcome = this.#claimAndResume(entry, input.ref, input.userId, data, suspendedAt);
      if (outcome.error) return await respond(renderNotice(outcome.error));
      await outcome.resume?.();
    } catch (error) {
      await this.#fail(error, respond);
    }
  }

  /** First answer wins: the claim is keyed by the step and the moment it suspended (a loop may ask again). */
  #claimAndResume(
    entry: CatalogEntry,
    ref: StepRef,
    userId: string,
    resumeData: unknown,
    suspendedAt: Date | undefined,
  ): AnswerOutcome {
    const { store, client, progress, gateway, logger } = this.#deps;
    const key = `${ref.s.join('.')}#${suspendedAt?.getTime() ?? ''}`;
    const claim = store.claimAnswer(ref.r, key, userId, new Date());
    if (!claim.claimed) {
      return { error: `${mentionUser(claim.by)} already answered this step ${slackDate(claim.at)}.` };
    }
    const summary = truncate(inlineValue(resumeData, 280), 280);
    return {
      withdraw: () => store.releaseAnswer(ref.r, key, userId),
      resume: async () => {
        try {
          const events = await client
            .getWorkflow(entry.key)
            .run(ref.r)
            .resumeStream({ step: ref.s, resumeData });
          store.completeAnswer(ref.r, key, userId, summary);
          progress.follow(ref.r, events);
          const row = store.getProgressMessage(ref.r);
          if (row) {
            await gateway
              .replyInThread(
                row.channel,
                row.ts,
                `${mentionUser(userId)} answered *${safeText(ref.s.join(' › '), 150)}*: ${safeText(summary, 300)}`,
                'background',
              )
              .catch((error) => logger.warn('thread reply failed', error));
          }
        } catch (error) {
          store.releaseAnswer(ref.r, key, userId);
          progress.follow(ref.r);
          const row = store.getProgressMessage(ref.r);
          const text = `Your answer to *${safeText(ref.s.join(' › '), 150)}* was not accepted: ${userMessage(error)}`;
          const dm = () => gateway.directMessage(userId, { text }, 'interactive');
          await (row
            ? gateway.ephemeral(row.channel, userId, { text }, 'interactive').catch(dm)
            : dm()
          ).catch((e) => logger.warn('could not tell the person their answer was not accepted', e));
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

  /** May this person answer this step? Throws a user-facing refusal if not. */
  async #authorizeAnswer(ref: StepRef, userId: string): Promise<{ entry: CatalogEntry }> {
    const entry = await this.#resolve(ref.w);
    const row = this.#deps.store.getProgressMessage(ref.r);
    const starterId = row ? row.starterId : await this.#starterOf(entry, ref.r);
    await this.#authorize(
      canAnswer(this.#deps.policy, {
        workflowId: entry.id,
        workflowKey: entry.key,
        stepPath: ref.s,
        userId,
        userGroups: await this.#userGroups(userId),
        starterId,
        admins: this.#deps.admins,
      }),
    );
    return { entry };
  }

  /** The step as the server has it now; refuses when it no longer waits for an answer. */
  async #suspendedStep(
    entry: CatalogEntry,
    ref: StepRef,
  ): Promise<{ info: WorkflowInfo; suspendPayload: unknown; suspendedAt: Date | undefined }> {
    const [info, state] = await Promise.all([
      this.#deps.catalog.details(entry.key),
      this.#deps.client.getWorkflow(entry.key).runById(ref.r),
    ]);
    const snapshot = snapshotFromRunState(state);
    const key = ref.s.join('.');
    const waiting = snapshot.payload.workflowState.suspended.some((p) => p.join('.') === key);
    if (!waiting) {
      this.#deps.progress.follow(ref.r);
      const answered = this.#deps.store.listAnswers(ref.r).find((a) => a.stepPath.split('#')[0] === key);
      if (answered) {
        throw new UserFacingError(
          `${mentionUser(answered.userId)} already answered this step ${slackDate(answered.answeredAt)}.`,
        );
      }
      const status = state.status;
      throw new UserFacingError(
        TERMINAL_RUN_STATUSES.has(status)
          ? `This run is ${safeText(status, 20)}, so step ${code(key, 100)} no longer takes answers.`
          : `Step ${code(key, 100)} is not waiting for an answer any more.`,
      );
    }
    const step = snapshot.payload.workflowState.steps[key];
    return { info, suspendPayload: step?.suspendPayload, suspendedAt: step?.suspendedAt };
  }

  async #starterOf(entry: CatalogEntry, runId: string): Promise<string | null> {
    const state = await this.#deps.client.getWorkflow(entry.key).runById(runId, { fields: [] });
    return state.resourceId && /^[UW][A-Z0-9]+$/.test(state.resourceId) ? state.resourceId : null;
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

function loadingView(): View {
  return {
    type: 'modal',
    callback_id: VIEW.loading,
    title: { type: 'plain_text', text: 'Loading…' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: ':hourglass_flowing_sand: Loading the form…' } },
    ],
  };
}

export function noticeView(title: string, text: string): View {
  return {
    type: 'modal',
    callback_id: VIEW.loading,
    title: { type: 'plain_text', text: truncate(title, 24) },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }],
  };
}

function startFormView(entry: CatalogEntry, info: WorkflowInfo, channelId: string): View {
  const form = buildForm(info.inputSchema ?? {}, { maxBlocks: FORM_MAX_BLOCKS });
  const intro = `Start *${safeText(info.name, 150)}*${info.description ? `\n${safeText(info.description, 1000)}` : ''}`;
  return {
    type: 'modal',
    callback_id: VIEW.startForm,
    private_metadata: encodeRef({ w: entry.key, c: channelId }),
    title: { type: 'plain_text', text: 'Start a run' },
    submit: { type: 'plain_text', text: 'Start' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(intro, 3000) } }, ...form.blocks],
  };
}

function answerFormView(info: WorkflowInfo, ref: StepRef, schema: JsonSchema, suspendPayload: unknown): View {
  const form = buildForm(schema, { maxBlocks: FORM_MAX_BLOCKS });
  const fields = payloadFields(suspendPayload);
  const blocks: View['blocks'] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `*${safeText(info.name, 150)}* › *${safeText(ref.s.join(' › '), 200)}* is waiting for your answer.\nRun ${code(ref.r, 100)}`,
          3000,
        ),
      },
    },
  ];
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push({ type: 'divider' });
  blocks.push(...form.blocks);
  return {
    type: 'modal',
    callback_id: VIEW.answerForm,
    private_metadata: encodeRef(ref),
    title: { type: 'plain_text', text: 'Respond' },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}
