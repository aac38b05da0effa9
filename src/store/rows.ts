/**
 * Rows ⇄ records, shared by the SQLite and PostgreSQL stores: the same columns (dates as epoch
 * milliseconds, `final` as 0/1 or a boolean), the same checks on what comes back.
 */
import type {
  Answer,
  Deadline,
  NewNotice,
  Notice,
  NoticeResult,
  OpenForm,
  ProgressMessage,
  QuestionDm,
  SendPermits,
  SendSchedule,
  Vote,
} from './types.ts';

export type Row = Record<string, unknown>;

export const PROGRESS_COLUMNS = {
  workflowKey: 'workflow_key',
  workflowId: 'workflow_id',
  channel: 'channel',
  ts: 'ts',
  starterId: 'starter_id',
  startedAt: 'started_at',
  status: 'status',
  final: 'final',
  canceledBy: 'canceled_by',
  notifiedAt: 'notified_at',
  permalink: 'permalink',
  origin: 'origin',
  requester: 'requester',
} as const satisfies Record<keyof Omit<ProgressMessage, 'runId' | 'owner' | 'requesterPending'>, string>;

export type ProgressField = keyof typeof PROGRESS_COLUMNS;

export function ms(date: Date, what: string): number {
  const value = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(value)) throw new TypeError(`${what} must be a valid Date`);
  return value;
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`Unexpected ${column} in the database: ${typeof value}`);
  return value;
}

function optionalText(row: Row, column: string): string | undefined {
  const value = row[column];
  return value === null || value === undefined ? undefined : text(row, column);
}

function date(row: Row, column: string): Date {
  const value = row[column];
  // Epoch milliseconds: a number or bigint from SQLite, a numeric string from PostgreSQL's BIGINT.
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' && typeof number !== 'bigint')
    throw new TypeError(`Unexpected ${column} in the database: ${typeof value}`);
  return new Date(Number(number));
}

/**
 * The run a once-only mark belongs to: every mark is `<kind>:<run id>[:…]` (src/slack/services/progress-messages.ts),
 * so marks are forgotten with their run (`pruneFinished`); null for a mark of no run.
 */
export function runOfKey(key: string): string | null {
  const parts = key.split(':');
  return parts.length >= 2 && parts[1] ? parts[1] : null;
}

export function toProgressMessage(row: Row): ProgressMessage {
  const message: ProgressMessage = {
    runId: text(row, 'run_id'),
    workflowKey: text(row, 'workflow_key'),
    workflowId: text(row, 'workflow_id'),
    channel: text(row, 'channel'),
    ts: text(row, 'ts'),
    starterId: optionalText(row, 'starter_id') ?? null,
    startedAt: date(row, 'started_at'),
    status: text(row, 'status'),
    final: row.final === true || Number(row.final) === 1,
  };
  const canceledBy = optionalText(row, 'canceled_by');
  if (canceledBy !== undefined) message.canceledBy = canceledBy;
  if (row.notified_at !== null && row.notified_at !== undefined)
    message.notifiedAt = date(row, 'notified_at');
  const permalink = optionalText(row, 'permalink');
  if (permalink !== undefined) message.permalink = permalink;
  if (optionalText(row, 'origin') === 'elsewhere') message.origin = 'elsewhere';
  const requester = optionalText(row, 'requester');
  if (requester !== undefined) message.requester = requester;
  const lookup = optionalText(row, 'requester_lookup');
  if (lookup !== undefined) {
    message.requesterPending = {
      lookup,
      attempts: Number(row.requester_attempts ?? 0),
      retryAt: date(row, 'requester_retry_at'),
    };
  }
  const owner = optionalText(row, 'owner');
  if (owner !== undefined) message.owner = owner;
  return message;
}

export function toAnswer(row: Row): Answer {
  const state = text(row, 'state');
  if (state !== 'claimed' && state !== 'resumed') throw new TypeError(`Unexpected answer state: ${state}`);
  const answer: Answer = {
    runId: text(row, 'run_id'),
    stepPath: text(row, 'step_path'),
    userId: text(row, 'user_id'),
    answeredAt: date(row, 'answered_at'),
    state,
  };
  const summary = optionalText(row, 'summary');
  if (summary !== undefined) answer.summary = summary;
  return answer;
}

export function toOpenForm(row: Row): OpenForm {
  const base = {
    viewId: text(row, 'view_id'),
    userId: text(row, 'user_id'),
    openedAt: date(row, 'opened_at'),
  };
  const details = JSON.parse(text(row, 'details')) as Record<string, unknown>;
  if (text(row, 'kind') === 'start') {
    return {
      kind: 'start',
      ...base,
      workflowKey: String(details.workflowKey),
      channel: String(details.channel),
    };
  }
  const suspendedAt = details.suspendedAt;
  return {
    kind: 'answer',
    ...base,
    runId: String(details.runId),
    stepPath: Array.isArray(details.stepPath) ? details.stepPath.map(String) : [],
    suspendedAt: typeof suspendedAt === 'number' ? new Date(suspendedAt) : null,
    ...(typeof details.forEachIndex === 'number' ? { forEachIndex: details.forEachIndex } : {}),
  };
}

/** What an open form is for, as the `details` JSON of its row (read back by `toOpenForm`). */
export function formDetails(form: OpenForm): string {
  const details =
    form.kind === 'start'
      ? { workflowKey: form.workflowKey, channel: form.channel }
      : {
          runId: form.runId,
          stepPath: form.stepPath,
          suspendedAt: form.suspendedAt?.getTime() ?? null,
          ...(form.forEachIndex === undefined ? {} : { forEachIndex: form.forEachIndex }),
        };
  return JSON.stringify(details);
}

/**
 * How many more runs a replica takes in one claim: up to an even share of the runs to follow among
 * the live replicas, less those it holds already. Work spreads without a leader.
 */
export function claimShare(total: number, mine: number, replicas: number): number {
  const share = Math.ceil(total / Math.max(1, replicas));
  return Math.max(0, share - mine);
}

/** Checks the arguments of `takeSendPermits`: whole numbers, `want` and `intervalMs` at least 1. */
export function permitArgs(want: number, schedule: SendSchedule): [number, number, number] {
  const { intervalMs, toleranceMs } = schedule;
  if (!Number.isSafeInteger(want) || want < 1)
    throw new RangeError('want must be a whole number, at least 1');
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1)
    throw new RangeError('intervalMs must be a whole number of ms, at least 1');
  if (!Number.isSafeInteger(toleranceMs) || toleranceMs < 0)
    throw new RangeError('toleranceMs must be a whole number of ms, at least 0');
  return [want, intervalMs, toleranceMs];
}

/**
 * What a send budget's row says after a take (`tat`: the theoretical time of the next permit, `at`:
 * the database's time of the take, `granted`), as `SendPermits`.
 */
export function toSendPermits(row: Row | undefined, want: number, toleranceMs: number): SendPermits {
  const granted = Number(row?.granted ?? 0);
  if (granted >= want) return { granted, retryInMs: 0 };
  const next = Number(row?.tat ?? 0) - toleranceMs - Number(row?.at ?? 0);
  return { granted, retryInMs: Math.max(1, Number.isFinite(next) ? next : 1000) };
}

const DEADLINE_KINDS = ['remind', 'escalate', 'timeout'] as const;
const DEADLINE_STATES = ['pending', 'done', 'dropped'] as const;

export function toDeadline(row: Row): Deadline {
  const kind = text(row, 'kind') as Deadline['kind'];
  const state = text(row, 'state') as Deadline['state'];
  if (!DEADLINE_KINDS.includes(kind)) throw new TypeError(`Unexpected deadline kind: ${kind}`);
  if (!DEADLINE_STATES.includes(state)) throw new TypeError(`Unexpected deadline state: ${state}`);
  const deadline: Deadline = {
    runId: text(row, 'run_id'),
    suspensionKey: text(row, 'suspension_key'),
    stepPath: text(row, 'step_path'),
    kind,
    since: date(row, 'since'),
    dueAt: date(row, 'due_at'),
    state,
  };
  if (row.fired_at !== null && row.fired_at !== undefined) deadline.firedAt = date(row, 'fired_at');
  if (row.late === true || Number(row.late) === 1) deadline.late = true;
  const outcome = optionalText(row, 'outcome');
  if (outcome !== undefined) deadline.outcome = outcome;
  return deadline;
}

export function toQuestionDm(row: Row): QuestionDm {
  return {
    runId: text(row, 'run_id'),
    suspensionKey: text(row, 'suspension_key'),
    userId: text(row, 'user_id'),
    channel: text(row, 'channel'),
    ts: text(row, 'ts'),
    at: date(row, 'at'),
  };
}

export function toVote(row: Row): Vote & { suspensionKey: string } {
  return {
    suspensionKey: text(row, 'suspension_key'),
    userId: text(row, 'user_id'),
    approve: row.approve === true || Number(row.approve) === 1,
    at: date(row, 'at'),
  };
}

const NOTICE_STATES = ['pending', 'sent', 'given_up'] as const;

/** A notice's columns as written (`addNotice`): where it goes, what it says, dates as epoch ms. */
export function noticeColumns(notice: NewNotice, now: Date) {
  const at = ms(now, 'now');
  const thread = 'channel' in notice.to ? notice.to : undefined;
  return {
    key: notice.key,
    run_id: notice.runId,
    channel: thread?.channel ?? null,
    thread_ts: thread?.threadTs ?? null,
    user_id: 'userId' in notice.to ? notice.to.userId : null,
    text: notice.text,
    blocks: notice.blocks ? JSON.stringify(notice.blocks) : null,
    asks: notice.asks && notice.asks.length > 0 ? JSON.stringify(notice.asks) : null,
    created_at: at,
    next_at: at,
  };
}

export function toNotice(row: Row): Notice {
  const state = text(row, 'state') as Notice['state'];
  if (!NOTICE_STATES.includes(state)) throw new TypeError(`Unexpected notice state: ${state}`);
  const userId = optionalText(row, 'user_id');
  const notice: Notice = {
    key: text(row, 'key'),
    runId: optionalText(row, 'run_id') ?? null,
    to:
      userId !== undefined ? { userId } : { channel: text(row, 'channel'), threadTs: text(row, 'thread_ts') },
    text: text(row, 'text'),
    createdAt: date(row, 'created_at'),
    state,
    attempts: Number(row.attempts ?? 0),
    nextAt: date(row, 'next_at'),
    unsure: row.unsure === true || Number(row.unsure) === 1,
  };
  const blocks = optionalText(row, 'blocks');
  if (blocks !== undefined) notice.blocks = JSON.parse(blocks) as unknown[];
  const asks = optionalText(row, 'asks');
  if (asks !== undefined) notice.asks = (JSON.parse(asks) as unknown[]).map(String);
  const claimedBy = optionalText(row, 'claimed_by');
  if (claimedBy !== undefined) notice.claimedBy = claimedBy;
  if (row.claimed_until !== null && row.claimed_until !== undefined)
    notice.claimedUntil = date(row, 'claimed_until');
  const postedChannel = optionalText(row, 'posted_channel');
  const postedTs = optionalText(row, 'posted_ts');
  if (postedChannel !== undefined && postedTs !== undefined)
    notice.posted = { channel: postedChannel, ts: postedTs };
  const error = optionalText(row, 'error');
  if (error !== undefined) notice.error = error;
  return notice;
}

/** The columns `finishNotice` sets for `result` (the claim itself is dropped by the caller's SQL). */
export function noticeResultColumns(result: NoticeResult) {
  return {
    state: result.state,
    next_at: result.state === 'pending' ? ms(result.nextAt, 'nextAt') : null,
    unsure: result.state === 'pending' ? result.unsure : false,
    posted_channel: result.state === 'sent' ? result.posted.channel : null,
    posted_ts: result.state === 'sent' ? result.posted.ts : null,
    error: result.state === 'sent' ? null : result.error.slice(0, 500),
  };
}
