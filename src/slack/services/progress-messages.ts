/**
 * Progress messages: one Slack message per run, kept in step with the run. Posts the message,
 * follows the run through the tracker, renders each snapshot and hands it to the publisher, tells
 * approvers when a step waits for them, and notifies the starter once when the run ends. Survives a
 * restart: every unfinished message in the store is followed again at start-up.
 */
import { resumeSchemaOf, type WorkflowCatalog } from '../../catalog.ts';
import type { RunLeases } from '../../following/leases.ts';
import type { SharedFollowing } from '../../following/shared-following.ts';
import type { FollowResult, RunSource, RunTracker } from '../../following/tracker.ts';
import { isYesNoSchema } from '../../forms/index.ts';
import { type Logger, runFields } from '../../logger.ts';
import type { MastraClient } from '../../mastra/client.ts';
import { isMastraError } from '../../mastra/errors.ts';
import type {
  RunSnapshot,
  Suspension,
  WorkflowEvent,
  WorkflowInfo,
  WorkflowRunState,
} from '../../mastra/types.ts';
import { answerersFor } from '../../policy/decide.ts';
import type { Answerers, AnswerersRequest, Policy } from '../../policy/types.ts';
import { initialSnapshot, snapshotFromRunState } from '../../runs/state.ts';
import { parseSuspensionKey, questionKey, suspensionKey } from '../../runs/suspensions.ts';
import { messageVersion } from '../../runs/version.ts';
import type { Answer, ProgressMessage, QuestionDm, RequesterLookup, Store } from '../../store/index.ts';
import { emptyRecord, own, setOwn } from '../../util/safe-objects.ts';
import { refersTo, type SuspensionRef } from '../ids.ts';
import type { EditStamp } from '../io/edit-guard.ts';
import type { PostedMessage, SlackGateway } from '../io/gateway.ts';
import type { NewNotice, Outbox } from '../io/outbox.ts';
import type { Publisher } from '../io/publisher.ts';
import { renderNotice } from '../render/commands.ts';
import type { ProgressView } from '../render/progress-view.ts';
import { renderQuestionDm } from '../render/questions.ts';
import { type RenderedMessage, renderProgress } from '../render/run-message.ts';
import {
  askReply,
  nobodyMayAnswerReply,
  RUN_NOTICES,
  requesterPendingReply,
  runEndedDm,
  runEndedInDms,
  runEndedReply,
} from '../render/run-notices.ts';
import { inlineValue } from '../text/mrkdwn.ts';
import type { Deadlines } from './deadlines/deadlines.ts';

export interface ProgressDeps {
  store: Store;
  tracker: RunTracker;
  publisher: Publisher<RenderedMessage>;
  gateway: SlackGateway;
  catalog: WorkflowCatalog;
  client: MastraClient;
  policy: Policy;
  logger: Logger;
  /** Deadlines and quorums of waiting steps (src/slack/services/deadlines/deadlines.ts). */
  deadlines?: Deadlines;
  /** Which replica follows which run (one at a time, across replicas). */
  leases: RunLeases;
  /** Runs without a live stream are followed by the watcher's shared poll. */
  shared?: SharedFollowing;
  /** Thread replies and DMs: each sent once, across failures, restarts and replicas. */
  outbox: Outbox;
}

interface RunContext {
  row: ProgressMessage;
  info: WorkflowInfo;
  notice?: string;
}

function answerersRequest(
  row: ProgressMessage,
  stepPath: string[],
  waiting?: AnswerersRequest['waiting'],
): AnswerersRequest {
  return {
    workflowId: row.workflowId,
    workflowKey: row.workflowKey,
    stepPath,
    starterId: row.starterId,
    ...(row.requesterPending ? { starterPending: true } : {}),
    ...(waiting ? { waiting } : {}),
  };
}

type DeadlineView = Awaited<ReturnType<Deadlines['viewOf']>>;

/** At most this many people are asked by DM per question (a big group: its first members). */
const MAX_DM_PEOPLE = 20;

/**
 * Whether an answer recorded in Slack answered the step `stepKey` (dotted, as the run's steps are
 * keyed) before it was resumed at `resumedAt`: an answer to that step or to a question inside it
 * (a step of its nested workflow), asked and given by then.
 */
function answeredWithin(answer: Answer, stepKey: string, resumedAt: Date): boolean {
  const { step, suspendedAt } = parseSuspensionKey(answer.stepPath);
  if (step !== stepKey && !step.startsWith(`${stepKey}.`)) return false;
  if (suspendedAt !== null && suspendedAt > resumedAt.getTime()) return false;
  return answer.answeredAt.getTime() <= resumedAt.getTime();
}

/**
 * What Flowgate adds to a run's message that the run itself does not know, counted: the `marks` of
 * the rendering's version (src/runs/version.ts). Each is only ever added while the run stays where
 * it is — answers recorded, questions asked by DM, deadlines scheduled and escalations done, votes,
 * what happened to questions no longer waiting, a cancel, a requester known, a notice — so of two
 * renderings of one state of the run, the one read later counts at least as many.
 */
function marksOf(
  row: ProgressMessage,
  answers: readonly Answer[],
  dms: readonly QuestionDm[],
  deadlines: DeadlineView | undefined,
  notice: string | undefined,
): number {
  let marks = answers.filter((a) => a.state === 'resumed').length + dms.length;
  if (row.canceledBy) marks++;
  if (!row.requesterPending) marks++;
  if (notice) marks++;
  for (const view of Object.values(deadlines?.waiting ?? {})) {
    if (view.remindEvery !== undefined) marks++;
    if (view.timeout) marks++;
    if (view.escalation) marks += view.escalation.done ? 2 : 1;
    marks += view.quorum?.approvals.length ?? 0;
  }
  for (const settled of deadlines?.settled ?? []) {
    marks += 1 + (settled.escalated ? 1 : 0) + (settled.timedOut ? 1 : 0);
    marks += (settled.approvedBy?.length ?? 0) + (settled.rejectedBy ? 1 : 0);
  }
  return marks;
}

export class ProgressMessages {
  readonly #deps: ProgressDeps;
  readonly #runs = new Map<string, RunContext>();
  readonly #pending = new Set<Promise<unknown>>();
  #stopping = false;
  /** The version of the latest rendering handed to the publisher, for any message. */
  #version = 0;

  constructor(deps: ProgressDeps) {
    this.#deps = deps;
  }

  /** Posts the first rendering of a new run (in the channel, or the starter's DMs) and records it. */
  async post(args: {
    workflowKey: string;
    info: WorkflowInfo;
    runId: string;
    starterId: string;
    channel: string;
  }): Promise<PostedMessage> {
    const { store, gateway } = this.#deps;
    const startedAt = new Date();
    const row: ProgressMessage = {
      runId: args.runId,
      workflowKey: args.workflowKey,
      workflowId: args.info.name,
      channel: args.channel,
      ts: '',
      starterId: args.starterId,
      startedAt,
      status: 'pending',
      final: false,
    };
    const context: RunContext = { row, info: args.info };
    const snapshot = initialSnapshot(args.runId, args.info.stepGraph, startedAt);
    // A person has just started the run and waits to see it: they are told at once if this fails.
    const first = renderProgress(this.#view(context, snapshot));
    const posted = await gateway.postProgress(args.channel, args.starterId, first, 'interactive');
    row.channel = posted.channel;
    row.ts = posted.ts;
    await store.saveProgressMessage(row);
    await this.#deps.publisher.posted(posted, first, { stamp: this.#stamp(context, snapshot) });
    this.#runs.set(args.runId, context);
    this.#background(this.#rememberPermalink(row));
    return posted;
  }

  /**
   * The question `ref` names (its step, iteration and the moment it was asked), as the message last
   * showed it (no I/O): undefined when Flowgate has not seen that question.
   */
  shownSuspension(runId: string, ref: SuspensionRef): Suspension | undefined {
    return this.#deps.tracker.current(runId)?.payload.workflowState.suspended.find((s) => refersTo(ref, s));
  }

  /**
   * Posts the one message of a run Flowgate did not start, in its workflow's channel, showing the
   * run as the server has it, and follows it. False when the run already has a message (another
   * process, or an earlier check, posted it). Nothing is left claimed when posting fails.
   */
  async postFound(args: {
    workflowKey: string;
    info: WorkflowInfo;
    state: WorkflowRunState;
    channel: string;
    starterId: string | null;
    requester?: string;
    /** The requester could not be looked up yet (src/slack/services/runs-started-elsewhere.ts). */
    requesterPending?: RequesterLookup;
  }): Promise<boolean> {
    const { store, gateway } = this.#deps;
    const { state, info } = args;
    const row: ProgressMessage = {
      runId: state.runId,
      workflowKey: args.workflowKey,
      workflowId: info.name,
      channel: args.channel,
      ts: '',
      starterId: args.starterId,
      origin: 'elsewhere',
      ...(args.requester !== undefined ? { requester: args.requester } : {}),
      ...(args.requesterPending ? { requesterPending: args.requesterPending } : {}),
      startedAt: state.createdAt,
      status: state.status,
      final: false,
    };
    if (!(await store.claimProgressMessage(row))) return false;
    const context: RunContext = { row, info };
    const snapshot = snapshotFromRunState(state, initialSnapshot(state.runId, info.stepGraph, row.startedAt));
    const first = renderProgress(this.#view(context, snapshot));
    let posted: PostedMessage;
    try {
      posted = await gateway.postInChannel(args.channel, first, 'background');
    } catch (error) {
      await store.releaseProgressMessage(state.runId);
      throw error;
    }
    row.channel = posted.channel;
    row.ts = posted.ts;
    await store.updateProgressMessage(state.runId, { channel: posted.channel, ts: posted.ts });
    await this.#deps.publisher.posted(posted, first, { stamp: this.#stamp(context, snapshot) });
    this.#runs.set(state.runId, context);
    this.#background(this.#rememberPermalink(row));
    this.follow(state.runId);
    return true;
  }

  /**
   * The requester of a run started elsewhere became known (or Slack said there is no such user):
   * the message shows them, the questions held back meanwhile are asked, and a run that has ended
   * already gets its DM to the requester now.
   */
  async requesterKnown(runId: string): Promise<void> {
    const row = await this.#deps.store.getProgressMessage(runId);
    if (!row) return;
    const context = this.#runs.get(runId);
    if (context) context.row = row;
    if (row.final) {
      if (row.starterId) await this.#dmEnd(row, context?.info.name ?? row.workflowId);
      return;
    }
    const snapshot = this.#deps.tracker.current(runId);
    // Followed here: its live snapshot again; otherwise followed afresh from the server.
    if (context && snapshot && this.#deps.tracker.isFollowing(runId)) this.#onSnapshot(context, snapshot);
    else this.follow(runId);
  }

  /**
   * Renders the run's message again from what Flowgate last saw of the run (something else changed:
   * an escalation, a vote, a deadline); follows the run again when this process is not following it.
   */
  refresh(runId: string): void {
    const context = this.#runs.get(runId);
    const snapshot = this.#deps.tracker.current(runId);
    if (context && snapshot && !this.#stopping) this.#background(this.#publish(context, snapshot));
    else this.follow(runId);
  }

  /**
   * Opens a stream of a run someone is watching now (`stream`, `resumeStream`) under a live-stream
   * hold (src/following/stream-slots.ts): it never waits for a connection. Hand the events to `follow`.
   */
  openStream<T>(runId: string, open: () => Promise<T>): Promise<T> {
    return this.#deps.tracker.openStream(runId, open);
  }

  /** Follows a run Flowgate has a message for, from `events` if a stream is already open. */
  follow(runId: string, events?: AsyncIterable<WorkflowEvent>): void {
    // When stopping, the next start follows it from the store.
    if (this.#stopping) this.#close(runId, events);
    else this.#background(this.#follow(runId, events));
  }

  /** Closes a stream nobody here will read, and gives its live-stream hold back. */
  #close(runId: string, events: AsyncIterable<WorkflowEvent> | undefined): void {
    if (!events) return;
    this.#deps.tracker.streams.adopt(runId)?.release();
    void Promise.resolve()
      .then(() => events[Symbol.asyncIterator]().return?.())
      .catch(() => {});
  }

  /**
   * Shutdown: no new follows, and nothing is recorded as final or notified from now on — what the
   * publisher could not deliver in time is sent again when the next start follows the run again.
   */
  stop(): void {
    this.#stopping = true;
  }

  /**
   * Ends the message of a run that never started (its stream could not be opened): shown as failed
   * with a notice, recorded as final, so nobody watches a run that stays `pending` for ever.
   */
  async abandon(runId: string): Promise<void> {
    const context = await this.#context(runId);
    if (!context) return;
    const { row } = context;
    const base =
      this.#deps.tracker.current(runId) ?? initialSnapshot(runId, context.info.stepGraph, row.startedAt);
    const state = base.payload.workflowState;
    const snapshot: RunSnapshot = {
      ...base,
      payload: {
        ...base.payload,
        workflowState: { ...state, status: 'failed', error: { message: RUN_NOTICES.notStartedError } },
      },
    };
    context.notice = RUN_NOTICES.notStarted;
    await this.#publish(context, snapshot, true);
    await this.#deps.publisher.settled({ channel: row.channel, ts: row.ts });
    await this.#deps.store.updateProgressMessage(runId, { status: 'failed', final: true });
  }

  /** Follows runs this replica just claimed (see `RunLeases`). */
  followClaimed(rows: readonly ProgressMessage[]): void {
    for (const row of rows) this.follow(row.runId);
  }

  /** Stops following runs another replica holds now. */
  letGo(runIds: readonly string[]): void {
    for (const runId of runIds) void this.#deps.tracker.stop(runId);
  }

  /** Waits for background work (follows, notifications) to settle: for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #follow(runId: string, events?: AsyncIterable<WorkflowEvent>): Promise<void> {
    const { tracker, client, logger, leases } = this.#deps;
    // One follower per run across replicas: whoever holds the run's live stream takes it; otherwise
    // only a run nobody follows (another replica does, or it is finished).
    if (!(await leases.acquire(runId, events !== undefined))) {
      this.#close(runId, events);
      return;
    }
    const context = await this.#context(runId);
    if (!context) {
      this.#close(runId, events);
      return void (await leases.release(runId));
    }
    const { workflowKey } = context.row;
    const workflow = client.getWorkflow(workflowKey);
    const run = workflow.run(runId);
    const { shared } = this.#deps;
    const source: RunSource = {
      fetch: (signal) => workflow.runById(runId, { signal }),
      observe: (signal) => run.observe({ signal }),
      isGone: (error) => isMastraError(error, 'run_not_found') || isMastraError(error, 'workflow_not_found'),
      ...(shared ? { changed: (since, signal) => shared.changed(workflowKey, runId, since, signal) } : {}),
    };
    const initial =
      tracker.current(runId) ?? initialSnapshot(runId, context.info.stepGraph, context.row.startedAt);
    const result = await tracker.follow({
      runId,
      source,
      initial,
      ...(events ? { events } : {}),
      onSnapshot: (snapshot) => this.#onSnapshot(context, snapshot),
    });
    logger.debug(`run ${runId}: following ended (${result.end})`, undefined, runFields(context.row));
    try {
      await this.#onEnd(context, result);
    } finally {
      // A newer follow here holds it on; otherwise the run is free (waiting, or ended).
      if (result.end !== 'superseded') await leases.release(runId);
    }
  }

  async #context(runId: string): Promise<RunContext | undefined> {
    const known = this.#runs.get(runId);
    if (known) return known;
    const row = await this.#deps.store.getProgressMessage(runId);
    if (!row) return undefined;
    try {
      const info = await this.#deps.catalog.details(row.workflowKey);
      const context: RunContext = { row, info };
      this.#runs.set(runId, context);
      return context;
    } catch (error) {
      this.#deps.logger.warn(`run ${runId}: cannot load workflow ${row.workflowKey}`, error, runFields(row));
      return undefined;
    }
  }

  /** Called synchronously by the tracker, in order: the version is taken now, the store read after. */
  #onSnapshot(context: RunContext, snapshot: RunSnapshot): void {
    this.#background(this.#publish(context, snapshot));
    // Each question once; the new iterations of one `.foreach()` step in one mention, once the
    // details of all of them have arrived (the stream names iterations before runById tells them).
    const suspended = snapshot.payload.workflowState.suspended;
    const pending = new Set(suspended.filter((s) => !s.suspendedAt).map((s) => s.path.join('.')));
    const known = suspended.filter((s) => !pending.has(s.path.join('.')));
    if (known.length > 0) this.#background(this.#askOnce(context, known, snapshot));
  }

  /**
   * Mentions who may answer each question not asked before, one mention per step. A question nobody
   * may answer until the run's requester is known is held: the admins are told once per run, and it
   * is asked once the requester is known (`requesterKnown`).
   */
  async #askOnce(context: RunContext, questions: Suspension[], snapshot: RunSnapshot): Promise<void> {
    const runId = context.row.runId;
    const { store, deadlines, policy } = this.#deps;
    // A requester not yet known may have become known since this process read the row (only that
    // way round: a requester is never pending again).
    const row = context.row.requesterPending
      ? ((await store.getProgressMessage(runId)) ?? context.row)
      : context.row;
    context.row = row;
    const held = questions.map(
      (s) => answerersFor(policy, answerersRequest(row, s.path)).pending !== undefined,
    );
    const first = await Promise.all(
      questions.map((s, i) =>
        store.markOnce(
          `${held[i] ? 'held' : 'ask'}:${runId}:${questionKey(s)}:${s.suspendedAt?.getTime() ?? ''}`,
        ),
      ),
    );
    const asked = new Map<string, Suspension[]>();
    const waiting: Suspension[] = [];
    questions.forEach((s, i) => {
      if (!first[i]) return;
      waiting.push(s);
      if (held[i]) return;
      const key = s.path.join('.');
      asked.set(key, [...(asked.get(key) ?? []), s]);
    });
    if (waiting.length === 0) return;
    // Their deadlines are stored before anyone is asked (src/slack/services/deadlines/deadlines.ts), once per question:
    // a question held while the requester of a run started elsewhere was not yet known is seen
    // again when it is asked.
    if (deadlines) {
      const seen =
        row.origin === 'elsewhere'
          ? await Promise.all(
              waiting.map((s) =>
                store.markOnce(`seen:${runId}:${questionKey(s)}:${s.suspendedAt?.getTime() ?? ''}`),
              ),
            )
          : waiting.map(() => true);
      for (const [i, s] of waiting.entries()) if (seen[i]) await deadlines.suspended(row, context.info, s);
      await this.#publish(context, snapshot); // now with what happens next
    }
    const heldBack = waiting.filter((s) => !asked.get(s.path.join('.'))?.includes(s));
    await Promise.all([
      ...[...asked.values()].map((list) => this.#askApprovers(context, list)),
      ...(heldBack.length > 0 ? [this.#tellRequesterPending(context, heldBack[0]!)] : []),
    ]);
  }

  /** Tells the admins, once per run, that a question waits for its requester to be known. */
  async #tellRequesterPending(context: RunContext, question: Suspension): Promise<void> {
    const { row } = context;
    const { policy, store, outbox } = this.#deps;
    if (!(await store.markOnce(`requester-pending:${row.runId}`))) return;
    const answerers = answerersFor(policy, answerersRequest(row, question.path));
    const text = requesterPendingReply({
      workflowName: context.info.name,
      path: question.path,
      requester: row.requester,
      pending: answerers.pending ?? '',
      admins: policy.admins,
    });
    await outbox.send(inThread(row, `requester-pending:${row.runId}`, text));
  }

  /**
   * `final` only once following ended with the server agreeing the run is over: the publisher
   * ignores everything after a final, so a premature one would freeze a wrong state.
   */
  async #publish(context: RunContext, snapshot: RunSnapshot, final = false): Promise<void> {
    // The version is taken before any await, so renderings reach the publisher as newer or are
    // ignored as stale, whatever order the store answers in.
    // One counter for every message of this process: a run followed again (a new context, after
    // its lease came back, say) renders as newer than anything this process handed over before.
    this.#version += 1;
    const version = this.#version;
    const [row, answers, deadlines, dms] = await Promise.all([
      this.#deps.store.getProgressMessage(context.row.runId),
      this.#deps.store.listAnswers(context.row.runId),
      this.#deps.deadlines?.viewOf(context.row, context.info, snapshot),
      this.#deps.store.listQuestionDms(context.row.runId),
    ]);
    if (row) context.row = row;
    if (!context.row.ts) return;
    if (!final && row?.final) return; // shown final already (here or by another replica): nothing older goes out
    // Another replica took the run (an answer resumed it there, or this replica's lease ran out):
    // it edits the message now; stop here at once rather than at the next renewal. Finals still go.
    const { leases } = this.#deps;
    if (!final && row?.owner !== undefined && row.owner !== leases.id) {
      this.#deps.logger.debug(
        `run ${context.row.runId}: followed by ${row.owner} now; letting go`,
        undefined,
        runFields(context.row),
      );
      leases.forget(context.row.runId);
      void this.#deps.tracker.stop(context.row.runId);
      return;
    }
    this.#deps.publisher.publish(
      { channel: context.row.channel, ts: context.row.ts },
      version,
      renderProgress(this.#view(context, snapshot, answers, deadlines, dms)),
      { final, stamp: this.#stamp(context, snapshot, final, answers, dms, deadlines) },
    );
  }

  /**
   * The rendering's version across replicas (src/runs/version.ts), with its run: checked by the
   * store's compare-and-set before it is sent (src/slack/io/edit-guard.ts).
   */
  #stamp(
    context: RunContext,
    snapshot: RunSnapshot,
    final = false,
    answers: readonly Answer[] = [],
    dms: readonly QuestionDm[] = [],
    deadlines?: DeadlineView,
  ): EditStamp {
    const marks = marksOf(context.row, answers, dms, deadlines, context.notice);
    return { runId: context.row.runId, version: messageVersion(snapshot, final, marks) };
  }

  #view(
    context: RunContext,
    snapshot: RunSnapshot,
    given: readonly Answer[] = [],
    deadlines?: DeadlineView,
    dms: readonly QuestionDm[] = [],
  ): ProgressView {
    const { row, info } = context;
    // Keyed by the question each answered (`suspensionKey`): records without a prototype.
    const answers = emptyRecord<NonNullable<ProgressView['answers']>[string]>();
    const claims = given;
    for (const answer of claims) {
      if (answer.state !== 'resumed') continue;
      setOwn(answers, answer.stepPath, {
        userId: answer.userId,
        at: answer.answeredAt,
        summary: answer.summary ?? '',
      });
    }
    // A step resumed with no answer (or claim) in Slack, before that moment, to it or to a question
    // inside it (a nested workflow's step), was answered outside Slack.
    for (const [key, step] of Object.entries(snapshot.payload.workflowState.steps)) {
      const resumedAt = step.resumedAt;
      if (resumedAt === undefined) continue;
      if (claims.some((a) => answeredWithin(a, key, resumedAt))) continue;
      setOwn(answers, `${key}#`, {
        userId: null,
        at: resumedAt,
        summary: step.resumePayload === undefined ? '' : inlineValue(step.resumePayload, 280),
      });
    }
    // Each question on its own (a `.foreach()` item, a loop's new question): who may answer it
    // depends on how long it has waited, the same as on every click.
    const suspensions = emptyRecord<NonNullable<ProgressView['suspensions']>[string]>();
    const now = new Date();
    for (const question of snapshot.payload.workflowState.suspended) {
      const key = questionKey(question);
      const since = deadlines ? own(deadlines.since, suspensionKey(question)) : undefined;
      const waiting = deadlines?.waiting ? own(deadlines.waiting, key) : undefined;
      const asked = dms.filter((d) => d.suspensionKey === suspensionKey(question)).map((d) => d.userId);
      setOwn(suspensions, key, {
        ...(asked.length > 0 ? { askedByDm: asked } : {}),
        answerers: answerersFor(
          this.#deps.policy,
          answerersRequest(row, question.path, since ? { since, now } : undefined),
        ),
        yesNo: isYesNoSchema(resumeSchemaOf(info, question.path) ?? {}) !== null,
        ...(waiting ? { deadlines: waiting } : {}),
      });
    }
    return {
      workflow: { key: row.workflowKey, name: info.name },
      snapshot,
      starterId: row.starterId,
      ...(row.origin ? { origin: row.origin } : {}),
      ...(row.requester ? { requester: row.requester } : {}),
      ...(row.requesterPending ? { requesterPending: row.requesterPending } : {}),
      startedAt: row.startedAt,
      ...(row.canceledBy ? { canceledBy: row.canceledBy } : {}),
      answers,
      suspensions,
      ...(deadlines && deadlines.settled.length > 0 ? { settled: deadlines.settled } : {}),
      ...(context.notice ? { notice: context.notice } : {}),
    };
  }

  /**
   * Mentions who may answer. When the policy leaves nobody, says so instead, to the starter and the
   * admins, with what to change: a step nobody may answer must not wait in silence.
   */
  async #askApprovers(context: RunContext, questions: Suspension[]): Promise<void> {
    const { row } = context;
    const { policy } = this.#deps;
    const first = questions[0]!;
    const path = first.path;
    // The same decision as the message's text and the check of every click: the step's full path,
    // and how long this question has waited.
    const answerers = answerersFor(
      policy,
      answerersRequest(row, path, await this.#deps.deadlines?.waitingOf(row.runId, first)),
    );
    let text: string;
    let labelled = questions;
    if (answerers.nobody === undefined) {
      const yesNo = isYesNoSchema(resumeSchemaOf(context.info, path) ?? {}) !== null;
      labelled = await this.#withLabels(row, questions);
      text = askReply({ workflowName: context.info.name, questions: labelled, answerers, yesNo });
    } else {
      text = nobodyMayAnswerReply({
        workflowName: context.info.name,
        questions,
        nobody: answerers.nobody,
        starterId: row.starterId,
        admins: policy.admins,
        policySource: policy.source,
      });
    }
    // Keyed as the first question's mark (`#askOnce`): one reply per mention.
    const key = `ask:${row.runId}:${questionKey(first)}:${first.suspendedAt?.getTime() ?? ''}`;
    await this.#deps.outbox.send(inThread(row, key, text));
    if (answerers.nobody === undefined)
      await this.askWhereTheyCanRead(row, context.info, labelled, answerers);
  }

  /**
   * Asks the questions in the DMs of the people who may answer them but cannot read the
   * conversation the run's message is in (a DM with the starter, a private channel they are not
   * in): once per question and person, across replicas; the message then says so. A click in the
   * DM is taken as on the run's message (the store finds the run by the DM), so it goes through
   * the same checks and first-answer-wins claim. Groups are asked member by member, at most
   * `MAX_DM_PEOPLE` people in all. Nobody is asked when who reads the conversation is unknown,
   * nor in a public channel (anyone may open it). The questions come with their resume labels.
   */
  async askWhereTheyCanRead(
    row: ProgressMessage,
    info: WorkflowInfo,
    questions: Suspension[],
    answerers: Answerers,
  ): Promise<void> {
    const { gateway, store, logger, outbox } = this.#deps;
    let outside: string[];
    try {
      // Anyone in the workspace may open a public channel's message.
      if (await gateway.isPublicChannel(row.channel, 'background')) return;
      const people = await this.#peopleOf(answerers, row.starterId);
      const readers = row.channel.startsWith('D')
        ? new Set(row.starterId ? [row.starterId] : []) // a DM: the person and the bot, no one else
        : await gateway.conversationMembers(row.channel, 'background');
      outside = people.filter((id) => !readers.has(id)).slice(0, MAX_DM_PEOPLE);
    } catch (error) {
      logger.warn(
        `run ${row.runId}: cannot tell who reads its conversation; nobody asked by DM`,
        error,
        runFields(row),
      );
      return;
    }
    if (outside.length === 0) return;
    const yesNo = isYesNoSchema(resumeSchemaOf(info, questions[0]!.path) ?? {}) !== null;
    const permalink =
      row.permalink ?? (await gateway.permalink(row.channel, row.ts, 'background').catch(() => undefined));
    let asked = false;
    for (const userId of outside) {
      const marks = await Promise.all(
        questions.map((q) => store.markOnce(`dm:${row.runId}:${suspensionKey(q)}:${userId}`)),
      );
      const fresh = questions.filter((_, i) => marks[i]);
      if (fresh.length === 0) continue;
      const content = renderQuestionDm({
        workflowName: info.name,
        runId: row.runId,
        ...(permalink ? { permalink } : {}),
        questions: fresh.map((question) => ({ question, info: { answerers, yesNo } })),
      });
      // Once posted, the outbox records the DM (`saveQuestionDm`); one it posts later, it tells us.
      const sent = await outbox.send({
        key: `dm:${row.runId}:${suspensionKey(fresh[0]!)}:${userId}`,
        runId: row.runId,
        to: { userId },
        text: content.text,
        ...(content.blocks ? { blocks: content.blocks } : {}),
        asks: fresh.map((q) => suspensionKey(q)),
      });
      asked ||= sent;
    }
    if (asked) this.refresh(row.runId);
  }

  /**
   * Whether a question DM Slack did not take at first is still worth posting: the run is not over
   * and none of its questions was answered in Slack meanwhile (a late DM would offer buttons that
   * can only be refused, and be left so).
   */
  async stillAsking(runId: string, suspensionKeys: readonly string[]): Promise<boolean> {
    const { store } = this.#deps;
    const row = await store.getProgressMessage(runId);
    if (!row || row.final) return false;
    return !(await store.listAnswers(runId)).some((a) => suspensionKeys.includes(a.stepPath));
  }

  /**
   * A question was answered: its copies in people's DMs say so instead of showing buttons that can
   * only be refused (a DM that also holds other questions is left as it is). Best effort: one try.
   */
  async answeredInDms(runId: string, key: string, text: string): Promise<void> {
    const dms = await this.#deps.store.listQuestionDms(runId);
    const shared = (dm: QuestionDm) =>
      dms.some((d) => d.channel === dm.channel && d.ts === dm.ts && d.suspensionKey !== key);
    await this.#replaceDms(
      runId,
      dms.filter((d) => d.suspensionKey === key && !shared(d)),
      text,
    );
  }

  /**
   * The run ended: the questions it asked in people's DMs and nobody answered in Slack (it was
   * canceled, timed out, answered outside Slack) lose their buttons, which could only be refused.
   * A DM that also holds a question someone answered keeps saying who did. Best effort: one try each.
   */
  async #closeDms(row: ProgressMessage, text: string): Promise<void> {
    const { store } = this.#deps;
    const dms = await store.listQuestionDms(row.runId);
    if (dms.length === 0) return;
    const answered = new Set((await store.listAnswers(row.runId)).map((a) => a.stepPath));
    const where = (dm: QuestionDm) => `${dm.channel}:${dm.ts}`;
    const keep = new Set(dms.filter((dm) => answered.has(dm.suspensionKey)).map(where));
    const open = new Map(dms.filter((dm) => !keep.has(where(dm))).map((dm) => [where(dm), dm]));
    await this.#replaceDms(row.runId, [...open.values()], text);
  }

  /** Replaces questions asked in people's DMs with `text` (safe mrkdwn), fitted to Slack's limits. One try each. */
  async #replaceDms(runId: string, dms: readonly QuestionDm[], text: string): Promise<void> {
    const content = renderNotice(text);
    for (const dm of dms) {
      await this.#deps.gateway
        .updateMessage(dm.channel, dm.ts, content)
        .catch((error) => this.#deps.logger.warn(`run ${runId}: could not update a DM`, error, { runId }));
    }
  }

  /** The people `answerers` names, groups member by member (bounded); the starter left out when refused. */
  async #peopleOf(answerers: Answerers, starterId: string | null): Promise<string[]> {
    const people = new Set(answerers.users);
    for (const group of answerers.groups) {
      if (people.size >= MAX_DM_PEOPLE * 2) break;
      const members = await this.#deps.gateway.groupMembers(group, 'background').catch((error) => {
        this.#deps.logger.warn(`cannot read the members of user group ${group}`, error);
        return [];
      });
      for (const id of members.slice(0, MAX_DM_PEOPLE * 2)) people.add(id);
    }
    if (answerers.starterRefused && starterId) people.delete(starterId);
    return [...people];
  }

  /**
   * The questions with their resume labels, so the thread names their buttons as the message shows
   * them: the stream does not carry labels, the stored run does (src/runs/suspensions.ts). As they
   * were when the server cannot be asked.
   */
  async #withLabels(row: ProgressMessage, questions: Suspension[]): Promise<Suspension[]> {
    const label = (from: readonly Suspension[]) =>
      questions.map((q) => {
        const found = from.find((s) => questionKey(s) === questionKey(q))?.resumeLabel;
        return q.resumeLabel === undefined && found !== undefined ? { ...q, resumeLabel: found } : q;
      });
    if (questions.every((q) => q.resumeLabel !== undefined)) return questions;
    // The stored run's state, when the tracker has read it since (it does once the stream ends).
    const known = label(this.#deps.tracker.current(row.runId)?.payload.workflowState.suspended ?? []);
    if (known.every((q) => q.resumeLabel !== undefined)) return known;
    try {
      const state = await this.#deps.client.getWorkflow(row.workflowKey).runById(row.runId);
      return label(snapshotFromRunState(state).payload.workflowState.suspended);
    } catch (error) {
      this.#deps.logger.debug(`run ${row.runId}: resume labels not read`, error, runFields(row));
      return questions;
    }
  }

  async #onEnd(context: RunContext, result: FollowResult): Promise<void> {
    const { store, publisher } = this.#deps;
    const { row } = context;
    const snapshot = result.snapshot;
    if (result.end === 'gone') {
      context.notice = RUN_NOTICES.gone;
      if (snapshot) await this.#publish(context, snapshot);
      await store.updateProgressMessage(row.runId, { final: true });
      this.#forget(row.runId);
      return;
    }
    if (result.end !== 'terminal' || !snapshot) {
      if (snapshot)
        await store.updateProgressMessage(row.runId, { status: snapshot.payload.workflowState.status });
      return;
    }
    // Deliver the final rendering before recording the message as final, so a restart in between
    // re-follows the run and sends it again.
    await this.#publish(context, snapshot, true);
    await publisher.settled({ channel: row.channel, ts: row.ts });
    if (this.#stopping) return; // perhaps not delivered: the next start follows the run again
    const status = snapshot.payload.workflowState.status;
    // Written before the run is recorded final: a process stopped in between follows the run again
    // and writes it again, once by its key; sent by `#notifyEnd`, or else by the outbox's loop.
    await this.#deps.outbox.add(await this.#endReply(context, snapshot));
    await store.updateProgressMessage(row.runId, { status, final: true });
    this.#deps.logger.info(`run ${row.runId}: ${status}, its message final`, undefined, runFields(row));
    await this.#notifyEnd(context, snapshot);
    this.#forget(row.runId);
  }

  /**
   * The run is over and its message final: nothing of it is kept in memory any more (a late
   * click or a re-follow reads it again from the store and the server).
   */
  #forget(runId: string): void {
    this.#runs.delete(runId);
    this.#deps.tracker.forget(runId);
  }

  /** Runs this process keeps anything of (tests: memory follows the runs that are not over). */
  get size(): number {
    return this.#runs.size;
  }

  /** The thread reply at the end of a run, keyed once per run. */
  async #endReply(context: RunContext, snapshot: RunSnapshot): Promise<NewNotice> {
    const row = (await this.#deps.store.getProgressMessage(context.row.runId)) ?? context.row;
    const text = runEndedReply({
      workflowName: context.info.name,
      status: snapshot.payload.workflowState.status,
      canceledBy: row.canceledBy,
      error: snapshot.payload.workflowState.error?.message,
    });
    return inThread(row, `final:${row.runId}`, text);
  }

  /**
   * The end of a run in its thread, the DMs that asked its questions closed, the starter's DM. Each
   * notice once by its key (the outbox), whoever gets here and however often.
   */
  async #notifyEnd(context: RunContext, snapshot: RunSnapshot): Promise<void> {
    const { store, outbox } = this.#deps;
    await outbox.send(await this.#endReply(context, snapshot));
    const row = (await store.getProgressMessage(context.row.runId)) ?? context.row;
    const status = snapshot.payload.workflowState.status;
    await this.#closeDms(
      row,
      runEndedInDms({ workflowName: context.info.name, status, canceledBy: row.canceledBy }),
    );
    // A requester not yet known gets it once they are (`requesterKnown`): the row was read after the
    // run was recorded final, and the DM is sent once, so one of the two sends it.
    if (row.starterId)
      await this.#dmEnd(row, context.info.name, snapshot.payload.workflowState.error?.message);
    await store.updateProgressMessage(row.runId, { notifiedAt: new Date() });
  }

  /**
   * The starter's DM at the end of a run, once per run by its key (the end, or their becoming
   * known, sends it; a DM sent already is not looked at again).
   */
  async #dmEnd(row: ProgressMessage, name: string, error?: string): Promise<void> {
    const { gateway, store, outbox } = this.#deps;
    if (!row.starterId) return;
    const key = `end-dm:${row.runId}`;
    if ((await store.getNotice(key))?.state === 'sent') return;
    const permalink =
      row.permalink ?? (await gateway.permalink(row.channel, row.ts, 'background').catch(() => undefined));
    await outbox.send({
      key,
      runId: row.runId,
      to: { userId: row.starterId },
      text: runEndedDm({
        workflowName: name,
        status: row.status,
        canceledBy: row.canceledBy,
        error,
        permalink,
      }),
    });
  }

  async #rememberPermalink(row: ProgressMessage): Promise<void> {
    const permalink = await this.#deps.gateway.permalink(row.channel, row.ts, 'background');
    if (permalink) {
      row.permalink = permalink;
      await this.#deps.store.updateProgressMessage(row.runId, { permalink });
    }
  }

  #background(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.#deps.logger.error('background work failed', error));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}

/** A reply in the thread of the run's message. */
function inThread(row: ProgressMessage, key: string, text: string): NewNotice {
  return { key, runId: row.runId, to: { channel: row.channel, threadTs: row.ts }, text };
}
