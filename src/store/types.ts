import type { Vote } from '../deadlines/plan.ts';
import type { Deadline } from '../deadlines/types.ts';
import type { MessageVersion } from '../runs/version.ts';

export type { Deadline, MessageVersion, Vote };

/** One rendering of a progress message: its version (src/runs/version.ts) and a hash of its content. */
export interface MessageEdit {
  version: MessageVersion;
  hash: string;
}

/**
 * May an edit go (`Store.claimEdit`)? `send`: yes, it is claimed; `shown`: the message shows this
 * content already (nothing to send); `stale`: a newer rendering was claimed or shown meanwhile.
 */
export type EditClaim = 'send' | 'shown' | 'stale';

/** One run's live progress message in Slack, and what Flowgate last knew about the run. */
export interface ProgressMessage {
  runId: string;
  workflowKey: string;
  workflowId: string;
  channel: string;
  /** The message timestamp (Slack's message id). */
  ts: string;
  /**
   * The Slack user who started the run — for a run started elsewhere, its requester when its
   * `resourceId` names a Slack user — treated as the starter everywhere (no self-approval). `null` when nobody is known.
   */
  starterId: string | null;
  /** `elsewhere`: Flowgate did not start the run (an API call, a schedule…) and posted it as it found it. Default `slack`. */
  origin?: 'slack' | 'elsewhere';
  /** A run started elsewhere whose `resourceId` is no Slack user: that text, to show as the requester. */
  requester?: string;
  /**
   * A run started elsewhere whose requester could not be looked up yet (Slack failed or rate-limited
   * the lookup): `starterId` stays null, `requester` shows the address, and the lookup is tried
   * again from here until Slack answers. Never read as "no requester".
   */
  requesterPending?: RequesterLookup;
  startedAt: Date;
  /** The run status last rendered. */
  status: string;
  /** `true` once the run ended and the message got its final rendering: nothing left to follow. */
  final: boolean;
  canceledBy?: string;
  notifiedAt?: Date;
  /** Link to the progress message, once Slack gave one. */
  permalink?: string;
  /**
   * The replica holding the run's lease when the row was read (see `acquireRun`): read only —
   * saving or updating a message never changes who holds it.
   */
  owner?: string;
}

/** A requester lookup still to be done: what to look up, how many tries so far, when to try next. */
export interface RequesterLookup {
  /** The e-mail address to look up (trimmed, lower-cased). */
  lookup: string;
  attempts: number;
  retryAt: Date;
}

/** Who answered (or is answering) a suspended step. */
export interface Answer {
  runId: string;
  /**
   * The question answered: `suspensionKey()` of src/runs/suspensions.ts (step path, `.foreach()`
   * iteration, when it was asked), so each new suspension of a step is answered on its own.
   */
  stepPath: string;
  userId: string;
  answeredAt: Date;
  /** `claimed`: the resume is in flight; `resumed`: the run accepted the answer. */
  state: 'claimed' | 'resumed';
  summary?: string;
}

/**
 * How long a claim may wait for its resume to land or fail. Well above the workflow client's
 * request timeout, so only a claim stranded by a stopped process outlives it.
 */
/**
 * A question also asked in a person's DMs, because they cannot read the conversation the run's
 * message is in (src/slack/services/progress-messages.ts).
 */
export interface QuestionDm {
  runId: string;
  /** The question (`suspensionKey` of src/runs/suspensions.ts). */
  suspensionKey: string;
  userId: string;
  /** Where the DM was posted. */
  channel: string;
  ts: string;
  at: Date;
}

/**
 * A thread reply or DM Flowgate owes (src/slack/io/outbox.ts): written once under its key, sent until
 * Slack says ok, by whichever replica claims it.
 */
export interface Notice {
  /** Idempotent: `<kind>:<run id>:…`, like the once-only marks; writing the same key again changes nothing. */
  key: string;
  /** The run it is about: it goes with the run at retention. */
  runId: string | null;
  /** A reply in the thread of `channel`/`threadTs`, or a DM to `userId`. */
  to: { channel: string; threadTs: string } | { userId: string };
  text: string;
  blocks?: unknown[];
  /** A DM asking these questions (`suspensionKey`s): recorded with `saveQuestionDm` once it is posted. */
  asks?: string[];
  createdAt: Date;
  /** `sent` once Slack said ok; `given_up` after a permanent error or too long. */
  state: 'pending' | 'sent' | 'given_up';
  /** Attempts claimed so far. */
  attempts: number;
  /** Not tried again before this. */
  nextAt: Date;
  /**
   * An attempt may have reached Slack without its answer coming back (a timeout, a connection cut, a
   * process stopped mid-call): the next one looks for the notice before posting it again.
   */
  unsure: boolean;
  /** The replica trying it now, until `claimedUntil`. */
  claimedBy?: string;
  claimedUntil?: Date;
  /** Where it was posted, once sent. */
  posted?: { channel: string; ts: string };
  /** The last failure, in Slack's words. */
  error?: string;
}

/** What a notice's caller writes; the rest is the outbox's. */
export type NewNotice = Pick<Notice, 'key' | 'runId' | 'to' | 'text' | 'blocks' | 'asks'>;

/** What became of a claimed attempt at a notice. */
export type NoticeResult =
  | { state: 'sent'; posted: { channel: string; ts: string } }
  | { state: 'pending'; nextAt: Date; unsure: boolean; error: string }
  | { state: 'given_up'; error: string };

export const CLAIM_LEASE_MS = 120_000;

/**
 * A modal Flowgate opened, recorded under the view id Slack gave it: what it is for is never read
 * back from the modal itself (its `private_metadata` could be forged), only from here.
 */
export type OpenForm =
  | { kind: 'start'; viewId: string; userId: string; openedAt: Date; workflowKey: string; channel: string }
  | {
      kind: 'answer';
      viewId: string;
      userId: string;
      openedAt: Date;
      runId: string;
      /** The exact step path shown. */
      stepPath: string[];
      /** When the step suspended, as shown: a later suspension of the same step is another question. */
      suspendedAt: Date | null;
      /** The `.foreach()` iteration shown, for a step whose iterations each wait for an answer. */
      forEachIndex?: number;
    };

/** Forms older than this are forgotten: submitting one asks the person to open it again. */
export const FORM_TTL_MS = 24 * 60 * 60 * 1000;

export type ClaimResult =
  | { claimed: true }
  | { claimed: false; by: string; at: Date; state: Answer['state'] };

/**
 * Where Flowgate keeps what must outlive a process and be shared by every replica. One asynchronous
 * interface, two implementations (SQLite embedded, PostgreSQL for several replicas), one contract
 * test suite (test/store/contract.ts). Every guarantee across replicas (first claim wins, once-only
 * marks, one message per run) comes from the database, never from process memory.
 */
export interface Store {
  /** Resolves once the database is reachable and its schema current; rejects saying why not. */
  ready(): Promise<void>;
  /** Inserts, or replaces the row with the same `runId`. */
  saveProgressMessage(m: ProgressMessage): Promise<void>;
  /**
   * Claims the right to post the one message of a run (its row saved with `ts: ''`), across every
   * Store sharing the database: false when the run already has a message, or another claim younger
   * than `CLAIM_LEASE_MS` (a claim stranded by a stopped process is taken over).
   */
  claimProgressMessage(m: ProgressMessage): Promise<boolean>;
  /** Drops a claim whose message was never posted (`ts` still empty), so it can be tried again. */
  releaseProgressMessage(runId: string): Promise<void>;
  getProgressMessage(runId: string): Promise<ProgressMessage | undefined>;
  /**
   * The progress message posted as `ts` in `channel`, if Flowgate posted it — or the one of the run
   * whose question Flowgate asked as `ts` in a person's DMs (`saveQuestionDm`): a click there is
   * taken as on the run's own message.
   */
  findProgressMessage(channel: string, ts: string): Promise<ProgressMessage | undefined>;
  /** Records a question asked in a person's DMs (replacing a record of the same question and person). */
  saveQuestionDm(dm: QuestionDm): Promise<void>;
  /** The questions of a run asked in people's DMs, oldest first. */
  listQuestionDms(runId: string): Promise<QuestionDm[]>;
  /** Changes the given fields; `undefined` values are ignored. Does nothing if `runId` is unknown. */
  updateProgressMessage(
    runId: string,
    patch: Partial<Omit<ProgressMessage, 'runId' | 'owner' | 'requesterPending'>>,
  ): Promise<void>;
  /**
   * The compare-and-set every edit of a progress message passes just before it is sent, by
   * whichever replica sends it (src/slack/io/publisher.ts `guard`), in one atomic statement: `send`
   * when `edit` is newer than the edit last claimed for the message (`compareVersions`), or as new
   * with another content, or the same not yet known shown (a send that failed, or a process that
   * stopped in between, is tried again); `shown` when the message already shows this content (a
   * newer version is still recorded, so older renderings stay refused); `stale` when a newer edit
   * was claimed, or when there is no such message.
   */
  claimEdit(runId: string, edit: MessageEdit): Promise<EditClaim>;
  /**
   * The message shows `edit` now (it was delivered, or just posted): recorded, unless a newer edit,
   * or another content at the same version, was claimed since.
   */
  editShown(runId: string, edit: MessageEdit): Promise<void>;
  /**
   * Posted messages whose requester lookup is due at `now` (`requesterPending.retryAt`), soonest
   * first, at most `limit`, finished runs included (their requester is still owed the end DM).
   */
  dueRequesterLookups(now: Date, limit: number): Promise<ProgressMessage[]>;
  /**
   * Claims the next try of a pending requester lookup: true for exactly one caller across every
   * Store sharing the database (a conditional update on `retryAt` as read), which counts the try
   * and moves `retryAt` to `next` (the back-off, should this try fail too).
   */
  claimRequesterLookup(runId: string, retryAt: Date, next: Date): Promise<boolean>;
  /**
   * Ends a pending lookup: the requester is `starterId` (then the `requester` text is dropped), or
   * Slack said no such user (`null`: the text stays). True when the run was pending until now.
   */
  settleRequester(runId: string, starterId: string | null): Promise<boolean>;
  /** Posted messages with `final = false` (runs to re-follow after a restart), oldest first. */
  listUnfinished(): Promise<ProgressMessage[]>;
  /**
   * Forgets at most `limit` runs whose message became final before `before` (when their end was
   * notified, else when they started): their message row, answers, deadlines, votes, questions
   * asked by DM, once-only marks and notices. Resolves to how many runs were forgotten.
   */
  pruneFinished(before: Date, limit: number): Promise<number>;
  /** How many runs `userId` started from Slack are not over yet (messages not final). */
  countLiveRunsStartedBy(userId: string): Promise<number>;
  /**
   * Atomically claims the right to answer a step: the first claim wins, across every Store sharing
   * the database. A second claim — even by the same user — gets the existing claim back, unless that
   * claim was never resumed nor released within `CLAIM_LEASE_MS` (its process stopped half-way):
   * then the new claim takes it over.
   */
  claimAnswer(runId: string, stepPath: string, userId: string, at: Date): Promise<ClaimResult>;
  /** Marks `userId`'s claim as resumed with a summary of the answer. Does nothing if they hold no claim. */
  completeAnswer(runId: string, stepPath: string, userId: string, summary: string): Promise<void>;
  /**
   * Drops a claim whose resume never reached the run, so others may answer. Only a `claimed`
   * answer held by `userId` is released; resumed answers and others' claims are left alone.
   */
  releaseAnswer(runId: string, stepPath: string, userId: string): Promise<void>;
  getAnswer(runId: string, stepPath: string): Promise<Answer | undefined>;
  /** Every answer given for a run, oldest first. */
  listAnswers(runId: string): Promise<Answer[]>;
  /**
   * True the first time `key` is marked, false ever after (across restarts and replicas): for
   * things that must happen once, like a run's final notification.
   */
  markOnce(key: string, at?: Date): Promise<boolean>;
  /** Records a form Flowgate opened (replacing any record of the same view); forgets expired ones. */
  saveForm(form: OpenForm): Promise<void>;
  /** The form opened as `viewId`, unless it expired. */
  getForm(viewId: string, now?: Date): Promise<OpenForm | undefined>;
  deleteForm(viewId: string): Promise<void>;
  /**
   * Stores the deadlines of a waiting step (reminders, escalation, timeout). A deadline already stored under the same
   * `(runId, suspensionKey, kind)` is kept as it is, so seeing a suspension again changes nothing.
   */
  scheduleDeadlines(deadlines: readonly Deadline[]): Promise<void>;
  /** Pending deadlines due at `now` and not claimed by a live process, soonest first, at most `limit` (indexed by due time). */
  dueDeadlines(now: Date, limit: number): Promise<Deadline[]>;
  /**
   * Claims a due deadline: true for exactly one caller across every Store sharing the database (a
   * conditional update on its state, due time and claim). A claim older than `CLAIM_LEASE_MS`
   * (its process stopped half-way) may be taken over.
   */
  claimDeadline(deadline: Deadline, now: Date): Promise<boolean>;
  /**
   * Records what became of a claimed deadline and drops the claim: `done` or `dropped` for good, or
   * `pending` again, due at `next` (the next reminder, or a retry).
   */
  finishDeadline(deadline: Deadline, result: DeadlineResult): Promise<void>;
  /** Every deadline of a run, by due time. */
  listDeadlines(runId: string): Promise<Deadline[]>;
  /**
   * Records a person's vote on a step that needs several approvals — their first vote only (voting
   * again changes nothing) — and returns every vote on that suspension, oldest first.
   */
  recordVote(runId: string, suspensionKey: string, vote: Vote): Promise<Vote[]>;
  /** Every vote on every suspension of a run, oldest first. */
  listVotes(runId: string): Promise<(Vote & { suspensionKey: string })[]>;
  // The outbox of thread replies and DMs (src/slack/io/outbox.ts).
  /** Writes a notice, due at `now`, unless one with its key exists: true when written. */
  addNotice(notice: NewNotice, now: Date): Promise<boolean>;
  getNotice(key: string): Promise<Notice | undefined>;
  /** Pending notices due at `now` and not claimed by anyone (or their claim ran out), soonest first, at most `limit`. */
  dueNotices(now: Date, limit: number): Promise<Notice[]>;
  /**
   * Claims the next attempt at a pending, due, unclaimed notice until `until`: the notice for
   * exactly one caller across every Store sharing the database (a conditional update), else
   * undefined. Counts the attempt and records it as unsure (it may reach Slack and its answer be
   * lost); the notice comes back as it was before, so `unsure` says whether an earlier attempt may
   * have posted it.
   */
  claimNotice(key: string, owner: string, until: Date, now: Date): Promise<Notice | undefined>;
  /** Records what became of `owner`'s attempt and drops the claim; nothing when `owner` holds no claim on it. */
  finishNotice(key: string, owner: string, result: NoticeResult): Promise<boolean>;
  /**
   * Drops every claim `owner` holds on a pending notice (a replica known dead): tried again at once
   * by others, looked for first (each claimed attempt left it unsure).
   */
  releaseNotices(owner: string): Promise<void>;
  /** Resolves when the database answers a trivial query now (for `GET /healthz`). */
  health(): Promise<void>;

  // Run ownership across replicas. Each unfinished run is followed by one replica at a time: the
  // owner of its lease. A lease is taken when a replica starts or resumes a run (`force`), or finds
  // one nobody holds, renewed while following, given back when following ends or the replica stops
  // cleanly; the lease of a replica that died runs out and another replica claims the run.
  /**
   * Takes the lease of a posted, unfinished run until `until`: when nobody holds it, `owner` holds
   * it already, it ran out by `now`, or `force` (the caller has the run's live stream). False otherwise.
   */
  acquireRun(runId: string, owner: string, until: Date, now: Date, force?: boolean): Promise<boolean>;
  /** Extends every lease `owner` still holds (not run out by `now`) to `until`; resolves to their runs. */
  renewRuns(owner: string, until: Date, now: Date): Promise<string[]>;
  /** Gives a run's lease back, if `owner` holds it. */
  releaseRun(runId: string, owner: string): Promise<void>;
  /** Gives back every lease `owner` holds (a clean stop: other replicas take the runs at once). */
  releaseRuns(owner: string): Promise<void>;
  /**
   * Claims runs that need a follower — nobody holds them (and they do not wait for an answer,
   * unless `parked`), or their lease ran out — up to an even share among `replicas` live replicas,
   * less what `owner` holds. Never two replicas the same run (`FOR UPDATE SKIP LOCKED` or one
   * write transaction). Resolves to the runs claimed, oldest first.
   */
  claimRuns(
    owner: string,
    until: Date,
    now: Date,
    replicas: number,
    parked?: boolean,
  ): Promise<ProgressMessage[]>;
  /** Records `replica` as alive until `until`; resolves to how many replicas are alive at `now` (at least 1). */
  heartbeat(replica: string, until: Date, now: Date): Promise<number>;
  /** Forgets a replica that stops. */
  leave(replica: string): Promise<void>;
  /**
   * Takes up to `want` permits to send from the budget `name`, shared by every Store on the
   * database, in one atomic statement on the database's clock (never the callers'). The budget is a
   * ledger of the theoretical time of the next permit (GCRA): permits come one every
   * `schedule.intervalMs`, and up to `toleranceMs / intervalMs + 1` (the burst) at once after a
   * pause; so the permits granted within less than L ms, summed over every caller, are fewer than
   * `L / intervalMs + burst`. Resolves to how many were granted and, when fewer
   * than `want`, how long until the next one may be (ms, at least 1).
   */
  takeSendPermits(name: string, want: number, schedule: SendSchedule): Promise<SendPermits>;
  /** The ids of the replicas alive at `now`, and of every holder of an unfinished run's lease. */
  replicaIds(now: Date): Promise<string[]>;

  /** Closes the database. Idempotent. */
  close(): Promise<void>;
}

/** The pace of a shared send budget (see `Store.takeSendPermits`): whole milliseconds. */
export interface SendSchedule {
  /** One permit every this many ms, sustained. */
  intervalMs: number;
  /** How far ahead of the pace permits may be granted: (burst - 1) × intervalMs. */
  toleranceMs: number;
}

/** What `Store.takeSendPermits` granted. */
export interface SendPermits {
  granted: number;
  /** With fewer than asked: ms until the next permit may be granted (at least 1); else 0. */
  retryInMs: number;
}

/** What became of a deadline that fired. */
export interface DeadlineResult {
  state: Deadline['state'];
  firedAt: Date;
  late: boolean;
  /** With `pending`: when it is due again. */
  next?: Date;
  outcome?: string;
}
