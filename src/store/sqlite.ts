/**
 * The embedded `Store`, on the built-in `node:sqlite`.
 *
 * - File databases use WAL and a busy timeout, so several processes (replicas) can share one file;
 *   answer claims are taken inside `BEGIN IMMEDIATE` transactions, so the first claim wins across all.
 * - The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[i]` moves version i to i + 1.
 * - Dates are stored as epoch milliseconds (INTEGER), booleans as 0/1.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  claimShare,
  formDetails,
  ms,
  noticeColumns,
  noticeResultColumns,
  PROGRESS_COLUMNS,
  type ProgressField,
  permitArgs,
  runOfKey,
  toAnswer,
  toDeadline,
  toNotice,
  toOpenForm,
  toProgressMessage,
  toQuestionDm,
  toSendPermits,
  toVote,
} from './rows.ts';
import {
  type Answer,
  CLAIM_LEASE_MS,
  type ClaimResult,
  type Deadline,
  type DeadlineResult,
  type EditClaim,
  FORM_TTL_MS,
  type MessageEdit,
  type NewNotice,
  type Notice,
  type NoticeResult,
  type OpenForm,
  type ProgressMessage,
  type QuestionDm,
  type SendPermits,
  type SendSchedule,
  type Store,
  type Vote,
} from './types.ts';

/** Schema migrations: entry i upgrades the database from `user_version` i to i + 1. Append only. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE progress_messages (
    run_id       TEXT    NOT NULL PRIMARY KEY,
    workflow_key TEXT    NOT NULL,
    workflow_id  TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    ts           TEXT    NOT NULL,
    starter_id   TEXT,
    started_at   INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    final        INTEGER NOT NULL DEFAULT 0 CHECK (final IN (0, 1)),
    canceled_by  TEXT,
    notified_at  INTEGER,
    permalink    TEXT
  ) STRICT;
  CREATE INDEX progress_messages_unfinished ON progress_messages (final, started_at);
  CREATE TABLE answers (
    run_id      TEXT    NOT NULL,
    step_path   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    answered_at INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('claimed', 'resumed')),
    summary     TEXT,
    PRIMARY KEY (run_id, step_path)
  ) STRICT;
  CREATE TABLE once_keys (
    key TEXT    NOT NULL PRIMARY KEY,
    at  INTEGER NOT NULL
  ) STRICT;
  `,
  `
  CREATE INDEX progress_messages_by_message ON progress_messages (channel, ts);
  CREATE TABLE open_forms (
    view_id    TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('start', 'answer')),
    user_id    TEXT    NOT NULL,
    opened_at  INTEGER NOT NULL,
    details    TEXT    NOT NULL
  ) STRICT;
  CREATE INDEX open_forms_by_age ON open_forms (opened_at);
  `,
  `
  ALTER TABLE progress_messages ADD COLUMN origin TEXT NOT NULL DEFAULT 'slack' CHECK (origin IN ('slack', 'elsewhere'));
  ALTER TABLE progress_messages ADD COLUMN requester TEXT;
  `,
  `
  ALTER TABLE progress_messages ADD COLUMN owner TEXT;
  ALTER TABLE progress_messages ADD COLUMN lease_until INTEGER;
  CREATE INDEX progress_messages_by_owner ON progress_messages (owner) WHERE final = 0;
  CREATE TABLE replicas (
    id    TEXT    NOT NULL PRIMARY KEY,
    until INTEGER NOT NULL
  ) STRICT;
  `,
  `
  CREATE TABLE deadlines (
    run_id         TEXT    NOT NULL,
    suspension_key TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('remind', 'escalate', 'timeout')),
    step_path      TEXT    NOT NULL,
    since          INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dropped')),
    claimed_at     INTEGER,
    fired_at       INTEGER,
    late           INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    outcome        TEXT,
    PRIMARY KEY (run_id, suspension_key, kind)
  ) STRICT;
  CREATE INDEX deadlines_due ON deadlines (due_at) WHERE state = 'pending';
  CREATE TABLE votes (
    run_id         TEXT    NOT NULL,
    suspension_key TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    approve        INTEGER NOT NULL CHECK (approve IN (0, 1)),
    at             INTEGER NOT NULL,
    PRIMARY KEY (run_id, suspension_key, user_id)
  ) STRICT;
  `,
  `
  ALTER TABLE progress_messages ADD COLUMN requester_lookup TEXT;
  ALTER TABLE progress_messages ADD COLUMN requester_attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE progress_messages ADD COLUMN requester_retry_at INTEGER;
  CREATE INDEX progress_messages_requester_due ON progress_messages (requester_retry_at)
    WHERE requester_lookup IS NOT NULL;
  `,
  `
  CREATE TABLE question_dms (
    run_id         TEXT    NOT NULL,
    suspension_key TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    ts             TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    PRIMARY KEY (run_id, suspension_key, user_id)
  ) STRICT;
  CREATE INDEX question_dms_by_message ON question_dms (channel, ts);
  `,
  `
  CREATE INDEX progress_messages_live_by_starter ON progress_messages (starter_id)
    WHERE final = 0 AND origin = 'slack';
  `,
  `
  ALTER TABLE once_keys ADD COLUMN run_id TEXT;
  UPDATE once_keys SET run_id = CASE
    WHEN instr(substr(key, instr(key, ':') + 1), ':') > 0
      THEN substr(substr(key, instr(key, ':') + 1), 1, instr(substr(key, instr(key, ':') + 1), ':') - 1)
    ELSE substr(key, instr(key, ':') + 1) END
  WHERE instr(key, ':') > 0;
  CREATE INDEX once_keys_by_run ON once_keys (run_id);
  `,
  `
  ALTER TABLE progress_messages ADD COLUMN edit_final INTEGER;
  ALTER TABLE progress_messages ADD COLUMN edit_at INTEGER;
  ALTER TABLE progress_messages ADD COLUMN edit_steps INTEGER;
  ALTER TABLE progress_messages ADD COLUMN edit_marks INTEGER;
  ALTER TABLE progress_messages ADD COLUMN edit_hash TEXT;
  ALTER TABLE progress_messages ADD COLUMN edit_shown INTEGER NOT NULL DEFAULT 0 CHECK (edit_shown IN (0, 1));
  `,
  `
  CREATE TABLE send_budgets (
    name    TEXT    NOT NULL PRIMARY KEY,
    tat     INTEGER NOT NULL,
    granted INTEGER NOT NULL DEFAULT 0,
    at      INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  `,
  `
  CREATE TABLE outbox (
    key            TEXT    NOT NULL PRIMARY KEY,
    run_id         TEXT,
    channel        TEXT,
    thread_ts      TEXT,
    user_id        TEXT,
    text           TEXT    NOT NULL,
    blocks         TEXT,
    asks           TEXT,
    created_at     INTEGER NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'given_up')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL,
    unsure         INTEGER NOT NULL DEFAULT 0 CHECK (unsure IN (0, 1)),
    claimed_by     TEXT,
    claimed_until  INTEGER,
    posted_channel TEXT,
    posted_ts      TEXT,
    error          TEXT,
    CHECK ((user_id IS NULL) != (channel IS NULL AND thread_ts IS NULL))
  ) STRICT;
  CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
  CREATE INDEX outbox_by_run ON outbox (run_id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The columns of a pending requester lookup (all null when there is none). */
function lookupColumns(m: ProgressMessage) {
  const pending = m.requesterPending;
  return {
    requester_lookup: pending?.lookup ?? null,
    requester_attempts: pending?.attempts ?? 0,
    requester_retry_at: pending ? ms(pending.retryAt, 'requesterPending.retryAt') : null,
  };
}

/** The named parameters of an edit's compare-and-set. */
function editParams(runId: string, { version, hash }: MessageEdit) {
  return {
    run_id: runId,
    final: version.final,
    at: version.at,
    steps: version.steps,
    marks: version.marks,
    hash,
  };
}

/** How long a connection waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the store at `path`: a file path (parent folders are created) or
 * `:memory:` (private to this Store, gone on close).
 */
export function openSqliteStore(path: string): Store {
  if (path.trim() === '') throw new TypeError('openStore: the database path is empty');
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    if (!memory) {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
    }
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteStore(db);
}

function userVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get();
  return Number(row?.user_version ?? 0);
}

function migrate(db: DatabaseSync, path: string): void {
  const tooNew = (version: number) =>
    new Error(
      `The database ${path} has schema version ${version}, newer than this Flowgate understands (${SCHEMA_VERSION}). ` +
        'Upgrade Flowgate or point FLOWGATE_DB at another file.',
    );
  const before = userVersion(db);
  if (before > SCHEMA_VERSION) throw tooNew(before);
  if (before === SCHEMA_VERSION) return;
  transaction(db, () => {
    // Re-read under the write lock: another process may have migrated in the meantime.
    const current = userVersion(db);
    if (current > SCHEMA_VERSION) throw tooNew(current);
    for (let version = current; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]!);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}

function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** Converts one field of a ProgressMessage to its column value. */
function columnValue(field: ProgressField, value: unknown): SQLInputValue {
  switch (field) {
    case 'startedAt':
    case 'notifiedAt':
      return ms(value as Date, field);
    case 'final':
      return value ? 1 : 0;
    case 'starterId':
      return value === null ? null : String(value);
    default:
      return String(value);
  }
}

/** Tables whose rows belong to one run, forgotten with it (`pruneFinished`). */
const PRUNED_WITH_RUN = [
  'answers',
  'deadlines',
  'votes',
  'question_dms',
  'once_keys',
  'outbox',
  'progress_messages',
];

class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  #closed = false;
  readonly #updates = new Map<string, StatementSync>();
  readonly #save: StatementSync;
  readonly #getProgress: StatementSync;
  readonly #listUnfinished: StatementSync;
  readonly #countLiveByStarter: StatementSync;
  readonly #insertClaim: StatementSync;
  readonly #getAnswer: StatementSync;
  readonly #complete: StatementSync;
  readonly #release: StatementSync;
  readonly #takeOver: StatementSync;
  readonly #listAnswers: StatementSync;
  readonly #once: StatementSync;
  readonly #claimMessage: StatementSync;
  readonly #releaseMessage: StatementSync;
  readonly #findProgress: StatementSync;
  readonly #saveForm: StatementSync;
  readonly #getForm: StatementSync;
  readonly #deleteForm: StatementSync;
  readonly #expireForms: StatementSync;
  readonly #scheduleDeadline: StatementSync;
  readonly #dueDeadlines: StatementSync;
  readonly #claimDeadline: StatementSync;
  readonly #finishDeadline: StatementSync;
  readonly #listDeadlines: StatementSync;
  readonly #insertVote: StatementSync;
  readonly #votesOf: StatementSync;
  readonly #listVotes: StatementSync;
  readonly #findByDm: StatementSync;
  readonly #saveDm: StatementSync;
  readonly #listDms: StatementSync;
  readonly #dueRequesters: StatementSync;
  readonly #claimRequester: StatementSync;
  readonly #settleRequester: StatementSync;
  readonly #claimEdit: StatementSync;
  readonly #editShown: StatementSync;
  readonly #openBudget: StatementSync;
  readonly #takePermits: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#save = db.prepare(`
      INSERT INTO progress_messages
        (run_id, workflow_key, workflow_id, channel, ts, starter_id, started_at, status, final, canceled_by, notified_at, permalink, origin, requester,
         requester_lookup, requester_attempts, requester_retry_at)
      VALUES (:run_id, :workflow_key, :workflow_id, :channel, :ts, :starter_id, :started_at, :status, :final, :canceled_by, :notified_at, :permalink, :origin, :requester,
         :requester_lookup, :requester_attempts, :requester_retry_at)
      ON CONFLICT (run_id) DO UPDATE SET
        workflow_key = excluded.workflow_key, workflow_id = excluded.workflow_id, channel = excluded.channel,
        ts = excluded.ts, starter_id = excluded.starter_id, started_at = excluded.started_at,
        status = excluded.status, final = excluded.final, canceled_by = excluded.canceled_by,
        notified_at = excluded.notified_at, permalink = excluded.permalink, origin = excluded.origin,
        requester = excluded.requester, requester_lookup = excluded.requester_lookup,
        requester_attempts = excluded.requester_attempts, requester_retry_at = excluded.requester_retry_at`);
    this.#claimMessage = db.prepare(`
      INSERT INTO progress_messages
        (run_id, workflow_key, workflow_id, channel, ts, starter_id, started_at, status, final, origin, requester,
         requester_lookup, requester_attempts, requester_retry_at)
      VALUES (:run_id, :workflow_key, :workflow_id, :channel, '', :starter_id, :started_at, :status, 0, :origin, :requester,
         :requester_lookup, :requester_attempts, :requester_retry_at)
      ON CONFLICT (run_id) DO UPDATE SET started_at = excluded.started_at
        WHERE progress_messages.ts = '' AND progress_messages.started_at <= :stale_before`);
    this.#releaseMessage = db.prepare(`DELETE FROM progress_messages WHERE run_id = ? AND ts = ''`);
    this.#getProgress = db.prepare('SELECT * FROM progress_messages WHERE run_id = ?');
    this.#countLiveByStarter = db.prepare(
      "SELECT COUNT(*) AS n FROM progress_messages WHERE starter_id = ? AND final = 0 AND origin = 'slack'",
    );
    this.#listUnfinished = db.prepare(
      "SELECT * FROM progress_messages WHERE final = 0 AND ts != '' ORDER BY started_at, run_id",
    );
    this.#insertClaim = db.prepare(`
      INSERT INTO answers (run_id, step_path, user_id, answered_at, state)
      VALUES (?, ?, ?, ?, 'claimed')
      ON CONFLICT (run_id, step_path) DO NOTHING`);
    this.#getAnswer = db.prepare('SELECT * FROM answers WHERE run_id = ? AND step_path = ?');
    this.#complete = db.prepare(
      `UPDATE answers SET state = 'resumed', summary = ? WHERE run_id = ? AND step_path = ? AND user_id = ? AND state = 'claimed'`,
    );
    this.#release = db.prepare(
      `DELETE FROM answers WHERE run_id = ? AND step_path = ? AND user_id = ? AND state = 'claimed'`,
    );
    this.#takeOver = db.prepare(
      `UPDATE answers SET user_id = ?, answered_at = ? WHERE run_id = ? AND step_path = ? AND state = 'claimed' AND answered_at <= ?`,
    );
    this.#listAnswers = db.prepare('SELECT * FROM answers WHERE run_id = ? ORDER BY answered_at, step_path');
    this.#once = db.prepare(
      'INSERT INTO once_keys (key, at, run_id) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
    );
    this.#findProgress = db.prepare('SELECT * FROM progress_messages WHERE channel = ? AND ts = ?');
    this.#saveForm = db.prepare(`
      INSERT INTO open_forms (view_id, kind, user_id, opened_at, details) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (view_id) DO UPDATE SET
        kind = excluded.kind, user_id = excluded.user_id, opened_at = excluded.opened_at, details = excluded.details`);
    this.#getForm = db.prepare('SELECT * FROM open_forms WHERE view_id = ? AND opened_at > ?');
    this.#deleteForm = db.prepare('DELETE FROM open_forms WHERE view_id = ?');
    this.#expireForms = db.prepare('DELETE FROM open_forms WHERE opened_at <= ?');
    this.#scheduleDeadline = db.prepare(`
      INSERT INTO deadlines (run_id, suspension_key, kind, step_path, since, due_at, state)
      VALUES (?, ?, ?, ?, ?, ?, 'pending')
      ON CONFLICT (run_id, suspension_key, kind) DO NOTHING`);
    // The partial index deadlines_due answers this whatever the number of waiting steps.
    this.#dueDeadlines = db.prepare(`
      SELECT * FROM deadlines INDEXED BY deadlines_due
      WHERE state = 'pending' AND due_at <= ? AND (claimed_at IS NULL OR claimed_at <= ?)
      ORDER BY due_at LIMIT ?`);
    this.#claimDeadline = db.prepare(`
      UPDATE deadlines SET claimed_at = :now
      WHERE run_id = :run_id AND suspension_key = :key AND kind = :kind AND state = 'pending'
        AND due_at = :due_at AND (claimed_at IS NULL OR claimed_at <= :stale_before)`);
    this.#openBudget = db.prepare(
      'INSERT INTO send_budgets (name, tat) VALUES (?, 0) ON CONFLICT (name) DO NOTHING',
    );
    // One statement (writes are serialized), on the database's clock; mirrors `grantPermits` in
    // src/slack/io/permits.ts.
    this.#takePermits = db.prepare(`
      UPDATE send_budgets SET
        at = c.n,
        granted = min(c.want, CASE WHEN c.n - max(tat, c.n) + c.tolerance < 0 THEN 0
          ELSE (c.n - max(tat, c.n) + c.tolerance) / c.interval + 1 END),
        tat = max(tat, c.n) + c.interval * min(c.want, CASE WHEN c.n - max(tat, c.n) + c.tolerance < 0 THEN 0
          ELSE (c.n - max(tat, c.n) + c.tolerance) / c.interval + 1 END)
      FROM (SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER) AS n, CAST(:want AS INTEGER) AS want,
              CAST(:interval AS INTEGER) AS interval, CAST(:tolerance AS INTEGER) AS tolerance) AS c
      WHERE name = :name
      RETURNING tat, granted, at`);
    this.#finishDeadline = db.prepare(`
      UPDATE deadlines SET state = :state, due_at = coalesce(:next, due_at), claimed_at = NULL,
        fired_at = :fired_at, late = :late, outcome = coalesce(:outcome, outcome)
      WHERE run_id = :run_id AND suspension_key = :key AND kind = :kind AND state = 'pending'`);
    this.#listDeadlines = db.prepare('SELECT * FROM deadlines WHERE run_id = ? ORDER BY due_at, kind');
    this.#insertVote = db.prepare(`
      INSERT INTO votes (run_id, suspension_key, user_id, approve, at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (run_id, suspension_key, user_id) DO NOTHING`);
    this.#votesOf = db.prepare(
      'SELECT * FROM votes WHERE run_id = ? AND suspension_key = ? ORDER BY at, rowid',
    );
    this.#listVotes = db.prepare('SELECT * FROM votes WHERE run_id = ? ORDER BY at, rowid');
    this.#findByDm = db.prepare(`
      SELECT p.* FROM question_dms d JOIN progress_messages p ON p.run_id = d.run_id
      WHERE d.channel = ? AND d.ts = ? LIMIT 1`);
    this.#saveDm = db.prepare(`
      INSERT INTO question_dms (run_id, suspension_key, user_id, channel, ts, at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (run_id, suspension_key, user_id) DO UPDATE SET
        channel = excluded.channel, ts = excluded.ts, at = excluded.at`);
    this.#listDms = db.prepare('SELECT * FROM question_dms WHERE run_id = ? ORDER BY at, rowid');
    // The partial index progress_messages_requester_due answers this whatever the number of runs.
    this.#dueRequesters = db.prepare(`
      SELECT * FROM progress_messages INDEXED BY progress_messages_requester_due
      WHERE requester_lookup IS NOT NULL AND requester_retry_at <= ? AND ts != ''
      ORDER BY requester_retry_at, run_id LIMIT ?`);
    this.#claimRequester = db.prepare(`
      UPDATE progress_messages SET requester_attempts = requester_attempts + 1, requester_retry_at = ?
      WHERE run_id = ? AND requester_lookup IS NOT NULL AND requester_retry_at = ?`);
    this.#settleRequester = db.prepare(`
      UPDATE progress_messages SET starter_id = coalesce(:starter_id, starter_id),
        requester = CASE WHEN :starter_id IS NULL THEN requester ELSE NULL END,
        requester_lookup = NULL, requester_attempts = 0, requester_retry_at = NULL
      WHERE run_id = :run_id AND requester_lookup IS NOT NULL`);
    // One statement each (row values compare field by field): the compare-and-set of every edit.
    this.#claimEdit = db.prepare(`
      UPDATE progress_messages SET
        edit_shown = CASE WHEN edit_hash = :hash AND edit_shown = 1 THEN 1 ELSE 0 END,
        edit_final = :final, edit_at = :at, edit_steps = :steps, edit_marks = :marks, edit_hash = :hash
      WHERE run_id = :run_id AND (edit_hash IS NULL
        OR (:final, :at, :steps, :marks) >= (edit_final, edit_at, edit_steps, edit_marks))
      RETURNING edit_shown`);
    this.#editShown = db.prepare(`
      UPDATE progress_messages SET
        edit_shown = 1, edit_final = :final, edit_at = :at, edit_steps = :steps, edit_marks = :marks, edit_hash = :hash
      WHERE run_id = :run_id AND (edit_hash IS NULL
        OR (:final, :at, :steps, :marks) > (edit_final, edit_at, edit_steps, edit_marks)
        OR ((:final, :at, :steps, :marks) = (edit_final, edit_at, edit_steps, edit_marks) AND edit_hash = :hash))`);
  }

  async ready(): Promise<void> {
    if (this.#closed) throw new Error('The store is closed');
  }

  async findProgressMessage(channel: string, ts: string): Promise<ProgressMessage | undefined> {
    const row = this.#findProgress.get(channel, ts) ?? this.#findByDm.get(channel, ts);
    return row ? toProgressMessage(row) : undefined;
  }

  async saveQuestionDm(dm: QuestionDm): Promise<void> {
    this.#saveDm.run(dm.runId, dm.suspensionKey, dm.userId, dm.channel, dm.ts, ms(dm.at, 'at'));
  }

  async listQuestionDms(runId: string): Promise<QuestionDm[]> {
    return this.#listDms.all(runId).map(toQuestionDm);
  }

  async saveForm(form: OpenForm): Promise<void> {
    const openedAt = ms(form.openedAt, 'openedAt');
    this.#expireForms.run(openedAt - FORM_TTL_MS);
    this.#saveForm.run(form.viewId, form.kind, form.userId, openedAt, formDetails(form));
  }

  async getForm(viewId: string, now = new Date()): Promise<OpenForm | undefined> {
    const row = this.#getForm.get(viewId, ms(now, 'now') - FORM_TTL_MS);
    return row ? toOpenForm(row) : undefined;
  }

  async deleteForm(viewId: string): Promise<void> {
    this.#deleteForm.run(viewId);
  }

  async saveProgressMessage(m: ProgressMessage): Promise<void> {
    this.#save.run({
      run_id: m.runId,
      workflow_key: m.workflowKey,
      workflow_id: m.workflowId,
      channel: m.channel,
      ts: m.ts,
      starter_id: m.starterId,
      started_at: ms(m.startedAt, 'startedAt'),
      status: m.status,
      final: m.final ? 1 : 0,
      canceled_by: m.canceledBy ?? null,
      notified_at: m.notifiedAt === undefined ? null : ms(m.notifiedAt, 'notifiedAt'),
      permalink: m.permalink ?? null,
      origin: m.origin ?? 'slack',
      requester: m.requester ?? null,
      ...lookupColumns(m),
    });
  }

  async claimProgressMessage(m: ProgressMessage): Promise<boolean> {
    const startedAt = ms(m.startedAt, 'startedAt');
    const result = this.#claimMessage.run({
      run_id: m.runId,
      workflow_key: m.workflowKey,
      workflow_id: m.workflowId,
      channel: m.channel,
      starter_id: m.starterId,
      started_at: startedAt,
      status: m.status,
      origin: m.origin ?? 'slack',
      requester: m.requester ?? null,
      ...lookupColumns(m),
      stale_before: startedAt - CLAIM_LEASE_MS,
    });
    return Number(result.changes) === 1;
  }

  async releaseProgressMessage(runId: string): Promise<void> {
    this.#releaseMessage.run(runId);
  }

  async getProgressMessage(runId: string): Promise<ProgressMessage | undefined> {
    const row = this.#getProgress.get(runId);
    return row ? toProgressMessage(row) : undefined;
  }

  async updateProgressMessage(
    runId: string,
    patch: Partial<Omit<ProgressMessage, 'runId' | 'owner'>>,
  ): Promise<void> {
    const fields = (Object.keys(PROGRESS_COLUMNS) as ProgressField[]).filter((f) => patch[f] !== undefined);
    if (fields.length === 0) return;
    const key = fields.join(',');
    let statement = this.#updates.get(key);
    if (!statement) {
      const sets = fields.map((f) => `${PROGRESS_COLUMNS[f]} = ?`).join(', ');
      statement = this.#db.prepare(`UPDATE progress_messages SET ${sets} WHERE run_id = ?`);
      this.#updates.set(key, statement);
    }
    statement.run(...fields.map((f) => columnValue(f, patch[f])), runId);
  }

  async countLiveRunsStartedBy(userId: string): Promise<number> {
    return Number((this.#countLiveByStarter.get(userId) as { n: number | bigint } | undefined)?.n ?? 0);
  }

  async listUnfinished(): Promise<ProgressMessage[]> {
    return this.#listUnfinished.all().map(toProgressMessage);
  }

  async dueRequesterLookups(now: Date, limit: number): Promise<ProgressMessage[]> {
    return this.#dueRequesters.all(ms(now, 'now'), limit).map(toProgressMessage);
  }

  async claimRequesterLookup(runId: string, retryAt: Date, next: Date): Promise<boolean> {
    const result = this.#claimRequester.run(ms(next, 'next'), runId, ms(retryAt, 'retryAt'));
    return Number(result.changes) === 1;
  }

  async settleRequester(runId: string, starterId: string | null): Promise<boolean> {
    return Number(this.#settleRequester.run({ run_id: runId, starter_id: starterId }).changes) === 1;
  }

  async claimEdit(runId: string, edit: MessageEdit): Promise<EditClaim> {
    const row = this.#claimEdit.get(editParams(runId, edit));
    if (!row) return 'stale';
    return Number(row.edit_shown) === 1 ? 'shown' : 'send';
  }

  async editShown(runId: string, edit: MessageEdit): Promise<void> {
    this.#editShown.run(editParams(runId, edit));
  }

  async claimAnswer(runId: string, stepPath: string, userId: string, at: Date): Promise<ClaimResult> {
    const when = ms(at, 'at');
    return transaction(this.#db, (): ClaimResult => {
      if (this.#insertClaim.run(runId, stepPath, userId, when).changes === 1) return { claimed: true };
      if (this.#takeOver.run(userId, when, runId, stepPath, when - CLAIM_LEASE_MS).changes === 1) {
        return { claimed: true };
      }
      const row = this.#getAnswer.get(runId, stepPath);
      if (!row) throw new Error(`claimAnswer: no claim found for ${runId} ${stepPath} after a conflict`);
      const existing = toAnswer(row);
      return { claimed: false, by: existing.userId, at: existing.answeredAt, state: existing.state };
    });
  }

  async completeAnswer(runId: string, stepPath: string, userId: string, summary: string): Promise<void> {
    this.#complete.run(summary, runId, stepPath, userId);
  }

  async releaseAnswer(runId: string, stepPath: string, userId: string): Promise<void> {
    this.#release.run(runId, stepPath, userId);
  }

  async listAnswers(runId: string): Promise<Answer[]> {
    return this.#listAnswers.all(runId).map(toAnswer);
  }

  async markOnce(key: string, at = new Date()): Promise<boolean> {
    return Number(this.#once.run(key, at.getTime(), runOfKey(key)).changes) === 1;
  }

  async pruneFinished(before: Date, limit: number): Promise<number> {
    return transaction(this.#db, () => {
      const runs = this.#db
        .prepare(
          'SELECT run_id FROM progress_messages WHERE final = 1 AND COALESCE(notified_at, started_at) < ? ORDER BY started_at LIMIT ?',
        )
        .all(before.getTime(), limit)
        .map((row) => String(row.run_id));
      // Marks of no run still kept (a retention pass's own, say) go once as old as the runs.
      this.#db
        .prepare(
          'DELETE FROM once_keys WHERE at < ? AND NOT EXISTS (SELECT 1 FROM progress_messages p WHERE p.run_id = once_keys.run_id)',
        )
        .run(before.getTime());
      if (runs.length === 0) return 0;
      const ids = JSON.stringify(runs);
      for (const table of PRUNED_WITH_RUN)
        this.#db.prepare(`DELETE FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?))`).run(ids);
      return runs.length;
    });
  }

  async getAnswer(runId: string, stepPath: string): Promise<Answer | undefined> {
    const row = this.#getAnswer.get(runId, stepPath);
    return row ? toAnswer(row) : undefined;
  }

  async health(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async acquireRun(runId: string, owner: string, until: Date, now: Date, force = false): Promise<boolean> {
    const result = this.#db
      .prepare(
        `UPDATE progress_messages SET owner = ?, lease_until = ?
         WHERE run_id = ? AND final = 0 AND ts != '' AND (? OR owner IS NULL OR owner = ? OR lease_until <= ?)`,
      )
      .run(owner, ms(until, 'until'), runId, force ? 1 : 0, owner, ms(now, 'now'));
    return Number(result.changes) === 1;
  }

  async renewRuns(owner: string, until: Date, now: Date): Promise<string[]> {
    return this.#db
      .prepare(
        `UPDATE progress_messages SET lease_until = ?
         WHERE owner = ? AND final = 0 AND lease_until > ? RETURNING run_id`,
      )
      .all(ms(until, 'until'), owner, ms(now, 'now'))
      .map((row) => String(row.run_id));
  }

  async releaseRun(runId: string, owner: string): Promise<void> {
    this.#db
      .prepare('UPDATE progress_messages SET owner = NULL, lease_until = NULL WHERE run_id = ? AND owner = ?')
      .run(runId, owner);
  }

  async releaseRuns(owner: string): Promise<void> {
    this.#db
      .prepare('UPDATE progress_messages SET owner = NULL, lease_until = NULL WHERE owner = ?')
      .run(owner);
  }

  async claimRuns(
    owner: string,
    until: Date,
    now: Date,
    replicas: number,
    parked = false,
  ): Promise<ProgressMessage[]> {
    const nowMs = ms(now, 'now');
    const untilMs = ms(until, 'until');
    const park = parked ? 1 : 0;
    // One write transaction: no other connection claims in between.
    return transaction(this.#db, () => {
      const counts = this.#db
        .prepare(
          `SELECT
             SUM(CASE WHEN owner IS NOT NULL OR status != 'suspended' OR ? THEN 1 ELSE 0 END) AS total,
             SUM(CASE WHEN owner = ? AND lease_until > ? THEN 1 ELSE 0 END) AS mine
           FROM progress_messages WHERE final = 0 AND ts != ''`,
        )
        .get(park, owner, nowMs);
      const limit = claimShare(Number(counts?.total ?? 0), Number(counts?.mine ?? 0), replicas);
      if (limit === 0) return [];
      const rows = this.#db
        .prepare(
          `SELECT * FROM progress_messages
           WHERE final = 0 AND ts != ''
             AND ((owner IS NULL AND (status != 'suspended' OR ?)) OR (owner != ? AND lease_until <= ?))
           ORDER BY started_at, run_id LIMIT ?`,
        )
        .all(park, owner, nowMs, limit);
      const take = this.#db.prepare(
        'UPDATE progress_messages SET owner = ?, lease_until = ? WHERE run_id = ?',
      );
      for (const row of rows) take.run(owner, untilMs, String(row.run_id));
      return rows.map((row) => toProgressMessage({ ...row, owner, lease_until: untilMs }));
    });
  }

  async heartbeat(replica: string, until: Date, now: Date): Promise<number> {
    const nowMs = ms(now, 'now');
    this.#db
      .prepare(
        'INSERT INTO replicas (id, until) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET until = excluded.until',
      )
      .run(replica, ms(until, 'until'));
    this.#db.prepare('DELETE FROM replicas WHERE until <= ?').run(nowMs);
    const row = this.#db.prepare('SELECT COUNT(*) AS live FROM replicas WHERE until > ?').get(nowMs);
    return Math.max(1, Number(row?.live ?? 0));
  }

  async leave(replica: string): Promise<void> {
    this.#db.prepare('DELETE FROM replicas WHERE id = ?').run(replica);
  }

  async scheduleDeadlines(deadlines: readonly Deadline[]): Promise<void> {
    if (deadlines.length === 0) return;
    transaction(this.#db, () => {
      for (const d of deadlines) {
        this.#scheduleDeadline.run(
          d.runId,
          d.suspensionKey,
          d.kind,
          d.stepPath,
          ms(d.since, 'since'),
          ms(d.dueAt, 'dueAt'),
        );
      }
    });
  }

  async dueDeadlines(now: Date, limit: number): Promise<Deadline[]> {
    const at = ms(now, 'now');
    return this.#dueDeadlines.all(at, at - CLAIM_LEASE_MS, limit).map(toDeadline);
  }

  async claimDeadline(deadline: Deadline, now: Date): Promise<boolean> {
    const at = ms(now, 'now');
    const result = this.#claimDeadline.run({
      now: at,
      run_id: deadline.runId,
      key: deadline.suspensionKey,
      kind: deadline.kind,
      due_at: ms(deadline.dueAt, 'dueAt'),
      stale_before: at - CLAIM_LEASE_MS,
    });
    return Number(result.changes) === 1;
  }

  async finishDeadline(deadline: Deadline, result: DeadlineResult): Promise<void> {
    this.#finishDeadline.run({
      state: result.state,
      next: result.state === 'pending' && result.next ? ms(result.next, 'next') : null,
      fired_at: ms(result.firedAt, 'firedAt'),
      late: result.late ? 1 : 0,
      outcome: result.outcome ?? null,
      run_id: deadline.runId,
      key: deadline.suspensionKey,
      kind: deadline.kind,
    });
  }

  async listDeadlines(runId: string): Promise<Deadline[]> {
    return this.#listDeadlines.all(runId).map(toDeadline);
  }

  async recordVote(runId: string, suspensionKey: string, vote: Vote): Promise<Vote[]> {
    this.#insertVote.run(runId, suspensionKey, vote.userId, vote.approve ? 1 : 0, ms(vote.at, 'at'));
    return this.#votesOf.all(runId, suspensionKey).map((row) => {
      const { suspensionKey: _key, ...rest } = toVote(row);
      return rest;
    });
  }

  async listVotes(runId: string): Promise<(Vote & { suspensionKey: string })[]> {
    return this.#listVotes.all(runId).map(toVote);
  }

  async takeSendPermits(name: string, want: number, schedule: SendSchedule): Promise<SendPermits> {
    const [count, interval, tolerance] = permitArgs(want, schedule);
    this.#openBudget.run(name);
    const row = this.#takePermits.get({ name, want: count, interval, tolerance });
    return toSendPermits(row, count, tolerance);
  }

  async addNotice(notice: NewNotice, now: Date): Promise<boolean> {
    const result = this.#db
      .prepare(
        `INSERT INTO outbox (key, run_id, channel, thread_ts, user_id, text, blocks, asks, created_at, next_at)
         VALUES (:key, :run_id, :channel, :thread_ts, :user_id, :text, :blocks, :asks, :created_at, :next_at)
         ON CONFLICT (key) DO NOTHING`,
      )
      .run(noticeColumns(notice, now));
    return Number(result.changes) === 1;
  }

  async getNotice(key: string): Promise<Notice | undefined> {
    const row = this.#db.prepare('SELECT * FROM outbox WHERE key = ?').get(key);
    return row ? toNotice(row) : undefined;
  }

  async dueNotices(now: Date, limit: number): Promise<Notice[]> {
    const at = ms(now, 'now');
    // The partial index outbox_due answers this whatever the number of notices sent.
    return this.#db
      .prepare(
        `SELECT * FROM outbox INDEXED BY outbox_due
         WHERE state = 'pending' AND next_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
         ORDER BY next_at, key LIMIT ?`,
      )
      .all(at, at, limit)
      .map(toNotice);
  }

  async claimNotice(key: string, owner: string, until: Date, now: Date): Promise<Notice | undefined> {
    const at = ms(now, 'now');
    const untilMs = ms(until, 'until');
    // One write transaction: the row as it was, and the claim, with no other claim in between.
    return transaction(this.#db, () => {
      const row = this.#db
        .prepare(
          `SELECT * FROM outbox WHERE key = ? AND state = 'pending' AND next_at <= ?
             AND (claimed_until IS NULL OR claimed_until <= ?)`,
        )
        .get(key, at, at);
      if (!row) return undefined;
      this.#db
        .prepare(
          'UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1, unsure = 1 WHERE key = ?',
        )
        .run(owner, untilMs, key);
      return toNotice({
        ...row,
        claimed_by: owner,
        claimed_until: untilMs,
        attempts: Number(row.attempts) + 1,
      });
    });
  }

  async finishNotice(key: string, owner: string, result: NoticeResult): Promise<boolean> {
    const columns = noticeResultColumns(result);
    const changed = this.#db
      .prepare(
        `UPDATE outbox SET state = :state, next_at = coalesce(:next_at, next_at), unsure = :unsure,
           posted_channel = coalesce(:posted_channel, posted_channel), posted_ts = coalesce(:posted_ts, posted_ts),
           error = :error, claimed_by = NULL, claimed_until = NULL
         WHERE key = :key AND claimed_by = :owner AND state = 'pending'`,
      )
      .run({ ...columns, unsure: columns.unsure ? 1 : 0, key, owner });
    return Number(changed.changes) === 1;
  }

  async releaseNotices(owner: string): Promise<void> {
    this.#db
      .prepare(
        "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ? AND state = 'pending'",
      )
      .run(owner);
  }

  async replicaIds(now: Date): Promise<string[]> {
    return this.#db
      .prepare(
        `SELECT id FROM replicas WHERE until > ?
         UNION SELECT owner FROM progress_messages WHERE final = 0 AND owner IS NOT NULL`,
      )
      .all(ms(now, 'now'))
      .map((row) => String(row.id))
      .sort();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
