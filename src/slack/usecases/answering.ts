/**
 * Answering suspended steps: the "Respond…" form (opened, then submitted), one-click Approve /
 * Reject for yes/no steps, votes of steps that need several approvals, and the answer Flowgate
 * gives when a step times out. Every answer is authorized by the policy, checked against the
 * step's resume schema, and claimed first-answer-wins per question before the run is resumed.
 *
 * Which run a button belongs to comes from the message it is on (as Flowgate recorded it), which
 * step from the run's current suspensions (by the handle the button carries), and who may answer
 * from the policy with the starter Flowgate recorded. A form's run and step are recorded when it
 * opens. Nothing a payload says is taken on trust.
 */
import type { View } from '@slack/types';
import { resumeSchemaOf } from '../../catalog.ts';
import { buildForm, isYesNoSchema, readSubmission, type ViewStateValues } from '../../forms/index.ts';
import { runFields } from '../../logger.ts';
import type { JsonSchema, Suspension, WorkflowInfo } from '../../mastra/types.ts';
import { TERMINAL_RUN_STATUSES } from '../../mastra/types.ts';
import { canAnswer } from '../../policy/decide.ts';
import { snapshotFromRunState } from '../../runs/state.ts';
import { parseSuspensionKey, suspensionKey } from '../../runs/suspensions.ts';
import type { ProgressMessage } from '../../store/index.ts';
import { truncate } from '../../util/truncate.ts';
import { handleOf, refersTo, type SuspensionRef, suspensionRef, VIEW } from '../ids.ts';
import { renderNotice } from '../render/commands.ts';
import { RefusedError, UserFacingError, userMessage } from '../render/failures.ts';
import { itemText, payloadFields, respondLabel } from '../render/questions.ts';
import { FLOWGATE } from '../services/deadline-actions.ts';
import { fitView } from '../text/fit.ts';
import { code, inlineValue, mentionUser, safeText, slackDate, stepName } from '../text/mrkdwn.ts';
import {
  FORM_MAX_BLOCKS,
  type MessageRef,
  noticeView,
  type Respond,
  UseCase,
  validationProblems,
} from './context.ts';

/** A question of a run, as the server has it now, with its workflow. */
interface Waiting {
  info: WorkflowInfo;
  suspension: Suspension;
}

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

export class Answering extends UseCase {
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
      const row = await this.ctx.messageRow(input.message);
      // The step as the message showed it, when Flowgate has it at hand: the modal must open within
      // the trigger's 3 s, so the server is asked only after, for the form and to check it still waits.
      let waiting: Waiting | undefined;
      let question = this.deps.progress.shownSuspension(row.runId, input.ref);
      if (!question) {
        waiting = await this.#suspension(row, input.ref);
        question = waiting.suspension;
      }
      await this.#authorizeAnswer(row, question, input.userId);
      const opened = await this.deps.gateway.openView(input.triggerId, loadingView());
      viewId = opened.id;
      waiting ??= await this.#suspension(row, input.ref);
      const { suspension } = waiting;
      await this.deps.store.saveForm({
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
      await this.deps.gateway.updateView(
        viewId,
        answerFormView(waiting.info, row.runId, suspension, schema),
        'interactive',
      );
    } catch (error) {
      const message = userMessage(error);
      // In the modal when there is one; when Slack will not update it either, in an ephemeral reply.
      const shown = viewId
        ? await this.deps.gateway
            .updateView(viewId, noticeView('Cannot answer', message), 'interactive')
            .then(() => true)
            .catch(() => false)
        : false;
      if (!shown) await respond(renderNotice(message)).catch(() => {});
      this.ctx.logUnexpected(error);
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
      const form = await this.ctx.openForm(input.viewId, input.userId, 'answer');
      row = await this.deps.store.getProgressMessage(form.runId);
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
      await this.#authorizeAnswer(row, waiting.suspension, input.userId);
      const schema = resumeSchemaOf(waiting.info, path) ?? {};
      const result = readSubmission(schema, input.values, { maxBlocks: FORM_MAX_BLOCKS });
      if (!result.ok) return { errors: result.errors };
      // A yes/no step that needs several approvals: this answer is one vote (src/slack/services/deadline-actions.ts).
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
        await this.deps.store.deleteForm(input.viewId);
        const text = vote.message;
        const where = row;
        // Nothing to resume yet: the modal closes and the person is told where the approvals stand.
        return {
          resume: () =>
            this.deps.gateway
              .ephemeral(where.channel, input.userId, { text }, 'interactive')
              // Someone asked by DM is not in the run's conversation: told in their DMs.
              .catch(() => this.deps.gateway.directMessage(input.userId, { text }, 'interactive'))
              .then(() => undefined)
              .catch((error) => this.deps.logger.warn('could not tell the person their vote counted', error)),
        };
      }
      const outcome = await this.#claimAndResume(row, waiting, input.userId, result.data);
      if (outcome.resume) await this.deps.store.deleteForm(input.viewId);
      return outcome;
    } catch (error) {
      this.ctx.logUnexpected(error);
      if (error instanceof RefusedError && row) {
        // Also say it where the run is: a forged submission has no modal to show the refusal in.
        await this.deps.gateway
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
      const row = await this.ctx.messageRow(input.message);
      const waiting = await this.#suspension(row, input.ref);
      const path = waiting.suspension.path;
      await this.#authorizeAnswer(row, waiting.suspension, input.userId);
      const schema = resumeSchemaOf(waiting.info, path);
      const shape = isYesNoSchema(schema ?? {});
      const more = `This step needs more than a yes or no: use *${safeText(respondLabel(waiting.suspension), 75)}*.`;
      if (!shape) throw new UserFacingError(more);
      const data = { [shape.booleanField]: input.approve };
      if (validationProblems(schema, data).length > 0) throw new UserFacingError(more);
      // A step that needs several approvals: this click is one vote (src/slack/services/deadline-actions.ts).
      const vote = await this.#vote(row, waiting, input.userId, input.approve);
      if (vote?.settled === false) return await respond(renderNotice(vote.message));
      const outcome = await this.#claimAndResume(row, waiting, input.userId, data);
      if (outcome.error) return await respond(renderNotice(outcome.error));
      await outcome.resume?.();
    } catch (error) {
      await this.ctx.fail(error, respond);
    }
  }

  /** A vote when the step needs more than one approval; undefined when one answer settles it. */
  async #vote(row: ProgressMessage, waiting: Waiting, userId: string, approve: boolean) {
    const deadlines = this.deps.deadlines;
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
      this.ctx.logUnexpected(error);
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
    const { store, client, progress, gateway, logger, outbox } = this.deps;
    const runId = row.runId;
    const { suspension } = waiting;
    const step = suspension.path;
    const forEachIndex = suspension.forEachIndex;
    const key = suspensionKey(suspension);
    const claim = await store.claimAnswer(runId, key, userId, new Date());
    this.deps.onAnswer?.(claim.claimed ? 'claim_won' : 'claim_lost');
    if (!claim.claimed) {
      return { error: alreadyAnswered(claim.by, claim.at, forEachIndex) };
    }
    const name = `*${stepName(step, 150)}*${itemText(forEachIndex)}`;
    const summary = truncate(`${note ? `${note}: ` : ''}${inlineValue(resumeData, 280)}`, 280);
    return {
      withdraw: () => store.releaseAnswer(runId, key, userId),
      resume: async () => {
        try {
          const events = await progress.openStream(runId, () =>
            client
              .getWorkflow(row.workflowKey)
              .run(runId)
              .resumeStream({ step, resumeData, ...(forEachIndex === undefined ? {} : { forEachIndex }) }),
          );
          try {
            await store.completeAnswer(runId, key, userId, summary);
          } finally {
            progress.follow(runId, events); // the run goes on whatever the store said
          }
          this.deps.onAnswer?.('resumed');
          const answered = `${mentionUser(userId)} answered ${name}: ${safeText(summary, 300)}`;
          await outbox
            .send({
              key: `answered:${runId}:${key}`,
              runId,
              to: { channel: row.channel, threadTs: row.ts },
              text: answered,
            })
            .catch((error) => logger.warn('thread reply failed', error, runFields(row)));
          await progress.answeredInDms(runId, key, answered);
        } catch (error) {
          this.deps.onAnswer?.('resume_failed');
          await store.releaseAnswer(runId, key, userId);
          progress.follow(runId);
          this.ctx.logUnexpected(error, runFields(row));
          if (userId === FLOWGATE) return; // nobody to tell: the deadline says what happened
          const text = `Your answer to ${name} was not accepted: ${userMessage(error)}`;
          await gateway
            .ephemeral(row.channel, userId, { text }, 'interactive')
            .catch(() => gateway.directMessage(userId, { text }, 'interactive'))
            .catch((e) => logger.warn('could not tell the person their answer was not accepted', e));
        }
      },
    };
  }

  /**
   * May this person answer this question of this run? Throws a user-facing refusal if not. The
   * step's full path and how long this very question has waited: the same decision as the
   * message's "Who may answer" and the thread's mentions.
   */
  async #authorizeAnswer(row: ProgressMessage, question: Suspension, userId: string): Promise<void> {
    const waiting = await this.deps.deadlines?.waitingOf(row.runId, question);
    await this.ctx.authorize(
      canAnswer(this.deps.policy, {
        workflowId: row.workflowId,
        workflowKey: row.workflowKey,
        stepPath: question.path,
        userId,
        userGroups: await this.ctx.userGroups(userId),
        starterId: row.starterId,
        // A requester not yet known is never taken for "no requester" (src/policy/decide.ts).
        ...(row.requesterPending ? { starterPending: true } : {}),
        // Escalated people may answer once it has waited long enough (src/slack/services/deadline-actions.ts).
        ...(waiting ? { waiting } : {}),
      }),
    );
  }

  /**
   * The question `ref` names, as the server has it now: one of the run's suspensions (the step,
   * the `.foreach()` iteration), asked at the moment the person was shown. Refuses when it no
   * longer waits, or has asked again since.
   */
  async #suspension(row: ProgressMessage, ref: SuspensionRef): Promise<Waiting> {
    // A value copied from another run's message names that run: nothing here to answer.
    if (ref.r !== undefined && ref.r !== handleOf(row.runId)) throw new UserFacingError(OTHER_RUN);
    const [info, state] = await Promise.all([
      this.deps.catalog.details(row.workflowKey),
      this.deps.client.getWorkflow(row.workflowKey).runById(row.runId),
    ]);
    const snapshot = snapshotFromRunState(state);
    const same = snapshot.payload.workflowState.suspended.find(
      (s) => handleOf(s.path) === ref.h && s.forEachIndex === ref.i,
    );
    if (same && refersTo(ref, same)) return { info, suspension: same };
    this.deps.progress.follow(row.runId);
    if (same) {
      // Asked again since only when the button's question came before this one, within this run.
      const asked = same.suspendedAt?.getTime();
      const earlier =
        ref.t !== null && asked !== undefined && ref.t < asked && ref.t >= state.createdAt.getTime();
      if (!earlier) throw new UserFacingError(UNKNOWN_QUESTION);
      throw new UserFacingError(
        'This step has asked again since that question was shown. The message now shows the new question: answer that one.',
      );
    }
    const answered = (await this.deps.store.listAnswers(row.runId)).find((a) => {
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
}

// ---------------------------------------------------------------------------------------------
// Views and words (pure)

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

const OTHER_RUN =
  "That button belongs to another run's message, so nothing was answered. Answer on the run's own message.";
const UNKNOWN_QUESTION =
  'That button does not name a question this run asked, so nothing was answered. Use the buttons the message shows now.';

/** Who answered a question first, in the words of a refusal. */
function alreadyAnswered(userId: string, at: Date, forEachIndex: number | undefined): string {
  const what = forEachIndex === undefined ? 'this step' : `item ${forEachIndex + 1} of this step`;
  return `${mentionUser(userId)} already answered ${what} ${slackDate(at)}.`;
}
