/**
 * The `Store` on PostgreSQL (the `pg` driver, pure JavaScript), for several replicas sharing one
 * database.
 *
 * - Every guarantee across replicas is one statement or one transaction: first-answer-wins is an
 *   `INSERT … ON CONFLICT DO UPDATE … WHERE` (the update only takes over a stranded claim), once-marks
 *   and the one message of a run started elsewhere are inserts on a primary key, run leases are
 *   conditional updates with `FOR UPDATE SKIP LOCKED`.
 * - The schema is versioned in `flowgate_schema`; migrations run at start-up inside one transaction
 *   holding a transaction-level advisory lock, so replicas starting at once migrate exactly once.
 * - Dates are BIGINT epoch milliseconds, as in SQLite, so both stores share their row mapping.
 */
import pg from 'pg';
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

/** Entry i moves the schema from version i to i + 1. Append only. */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE progress_messages (
    run_id       TEXT    NOT NULL PRIMARY KEY,
    workflow_key TEXT    NOT NULL,
    workflow_id  TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    ts           TEXT    NOT NULL,
    starter_id   TEXT,
    started_at   BIGINT  NOT NULL,
    status       TEXT    NOT NULL,
    final        BOOLEAN NOT NULL DEFAULT false,
    canceled_by  TEXT,
    notified_at  BIGINT,
    permalink    TEXT,
    origin       TEXT    NOT NULL DEFAULT 'slack' CHECK (origin IN ('slack', 'elsewhere')),
    requester    TEXT,
    owner        TEXT,
    lease_until  BIGINT
  );
  CREATE INDEX progress_messages_unfinished ON progress_messages (final, started_at);
  CREATE INDEX progress_messages_by_message ON progress_messages (channel, ts);
  CREATE INDEX progress_messages_by_owner ON progress_messages (owner) WHERE NOT final;
  CREATE TABLE answers (
    run_id      TEXT   NOT NULL,
    step_path   TEXT   NOT NULL,
    user_id     TEXT   NOT NULL,
    answered_at BIGINT NOT NULL,
    state       TEXT   NOT NULL CHECK (state IN ('claimed', 'resumed')),
    summary     TEXT,
    PRIMARY KEY (run_id, step_path)
  );
  CREATE TABLE once_keys (
    key TEXT   NOT NULL PRIMARY KEY,
    at  BIGINT NOT NULL
  );
  CREATE TABLE open_forms (
    view_id   TEXT   NOT NULL PRIMARY KEY,
    kind      TEXT   NOT NULL CHECK (kind IN ('start', 'answer')),
    user_id   TEXT   NOT NULL,
    opened_at BIGINT NOT NULL,
    details   TEXT   NOT NULL
  );
  CREATE INDEX open_forms_by_age ON open_forms (opened_at);
  CREATE TABLE replicas (
    id    TEXT   NOT NULL PRIMARY KEY,
    until BIGINT NOT NULL
  );
  `,
  `
  CREATE TABLE deadlines (
    run_id         TEXT    NOT NULL,
    suspension_key TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('remind', 'escalate', 'timeout')),
    step_path      TEXT    NOT NULL,
    since          BIGINT  NOT NULL,
    due_at         BIGINT  NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dropped')),
    claimed_at     BIGINT,
    fired_at       BIGINT,
    late           BOOLEAN NOT NULL DEFAULT false,
    outcome        TEXT,
    PRIMARY KEY (run_id, suspension_key, kind)
  );
  CREATE INDEX deadlines_due ON deadlines (due_at) WHERE state = 'pending';
  CREATE TABLE votes (
    run_id         TEXT    NOT NULL,
    suspension_key TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    approve        BOOLEAN NOT NULL,
    at             BIGINT  NOT NULL,
    seq            BIGSERIAL,
    PRIMARY KEY (run_id, suspension_key, user_id)
  );
  `,
  `
  ALTER TABLE progress_messages ADD COLUMN requester_lookup TEXT;
  ALTER TABLE progress_messages ADD COLUMN requester_attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE progress_messages ADD COLUMN requester_retry_at BIGINT;
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
    at             BIGINT  NOT NULL,
    seq            BIGSERIAL,
    PRIMARY KEY (run_id, suspension_key, user_id)
  );
  CREATE INDEX question_dms_by_message ON question_dms (channel, ts);
  `,
  `
  CREATE INDEX progress_messages_live_by_starter ON progress_messages (starter_id)
    WHERE NOT final AND origin = 'slack';
  `,
  `
  ALTER TABLE once_keys ADD COLUMN run_id TEXT;
  UPDATE once_keys SET run_id = split_part(key, ':', 2) WHERE position(':' IN key) > 0;
  CREATE INDEX once_keys_by_run ON once_keys (run_id);
  `,
  `
  ALTER TABLE progress_messages
    ADD COLUMN edit_final INTEGER,
    ADD COLUMN edit_at    BIGINT,
    ADD COLUMN edit_steps INTEGER,
    ADD COLUMN edit_marks INTEGER,
    ADD COLUMN edit_hash  TEXT,
    ADD COLUMN edit_shown BOOLEAN NOT NULL DEFAULT false;
  `,
  `
  CREATE TABLE send_budgets (
    name    TEXT    NOT NULL PRIMARY KEY,
    tat     BIGINT  NOT NULL,
    granted INTEGER NOT NULL DEFAULT 0,
    at      BIGINT  NOT NULL DEFAULT 0
  );
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
    created_at     BIGINT  NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'given_up')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        BIGINT  NOT NULL,
    unsure         BOOLEAN NOT NULL DEFAULT FALSE,
    claimed_by     TEXT,
    claimed_until  BIGINT,
    posted_channel TEXT,
    posted_ts      TEXT,
    error          TEXT,
    CHECK ((user_id IS NULL) != (channel IS NULL AND thread_ts IS NULL))
  );
  CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
  CREATE INDEX outbox_by_run ON outbox (run_id);
  `,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** The parameters of an edit's compare-and-set: run, version field by field, content hash. */
function editValues(
  runId: string,
  { version, hash }: MessageEdit,
): [string, number, number, number, number, string] {
  return [runId, version.final, version.at, version.steps, version.marks, hash];
}

/** The columns of a pending requester lookup: `requester_lookup`, `requester_attempts`, `requester_retry_at`. */
function lookupColumns(m: ProgressMessage): [string | null, number, number | null] {
  const pending = m.requesterPending;
  return [
    pending?.lookup ?? null,
    pending?.attempts ?? 0,
    pending ? ms(pending.retryAt, 'requesterPending.retryAt') : null,
  ];
}

/** The advisory lock that serializes migrations across replicas (any constant; "flowgate"). */
const MIGRATION_LOCK = 0x666c6f77;
const CONNECT_TIMEOUT_MS = 5000;

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location.trim());
}

/**
 * Why `url` is no usable PostgreSQL URL, in words that never repeat it (it may hold a password);
 * undefined when it is fine.
 */
export function postgresUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return 'is not a valid URL (expected postgres://user:password@host:5432/database)';
  }
  if (!/^postgres(ql)?:$/i.test(parsed.protocol)) return 'must start with postgres:// or postgresql://';
  if (parsed.hostname === '') return 'names no host (expected postgres://user:password@host:5432/database)';
  if (parsed.port !== '' && !/^\d+$/.test(parsed.port)) return 'has a port that is not a number';
  if (parsed.pathname.replace(/^\//, '') === '')
    return 'names no database (expected postgres://user:password@host:5432/database)';
  return undefined;
}

/** Where the database is, without the password: for messages. */
function describe(url: string): string {
  const parsed = new URL(url.trim());
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

type Queryable = pg.Pool | pg.PoolClient;

export interface PostgresStoreOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
}

/** Opens the store at a postgres:// URL: checks the URL now; connects and migrates in `ready()`. */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Store {
  const problem = postgresUrlProblem(url);
  if (problem) throw new TypeError(`FLOWGATE_DB ${problem}.`);
  return new PostgresStore(url.trim(), options);
}

/** Postgres' BIGINT comes back as a string; counts too. */
function count(value: unknown): number {
  return Number(value ?? 0);
}

function pgValue(field: ProgressField, value: unknown): unknown {
  switch (field) {
    case 'startedAt':
    case 'notifiedAt':
      return ms(value as Date, field);
    case 'final':
      return value === true;
    case 'starterId':
      return value === null ? null : String(value);
    default:
      return String(value);
  }
}

class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  /**
   * A connection of its own for taking send permits: a permit is used within a second of asking
   * for it or not at all (src/slack/io/permits.ts), so taking one never queues behind other queries.
   */
  readonly #permitPool: pg.Pool;
  readonly #where: string;
  #ready: Promise<void> | undefined;
  #closed = false;
  /** Send budgets whose row this store has made sure of. */
  readonly #budgets = new Set<string>();

  constructor(url: string, options: PostgresStoreOptions) {
    this.#where = describe(url);
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
    });
    this.#permitPool = new pg.Pool({
      connectionString: url,
      max: 1,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by the server must not crash the process: the next query reconnects.
    this.#pool.on('error', () => {});
    this.#permitPool.on('error', () => {});
  }

  ready(): Promise<void> {
    this.#ready ??= this.#migrate().catch((error: unknown) => {
      this.#ready = undefined; // tried again on the next call
      throw error;
    });
    return this.#ready;
  }

  async #migrate(): Promise<void> {
    if (this.#closed) throw new Error('The store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      throw new Error(
        `Flowgate cannot reach the PostgreSQL database at ${this.#where} (${reason}). Check FLOWGATE_DB and that the server is running.`,
        { cause: error },
      );
    }
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS flowgate_schema (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const { rows } = await client.query('SELECT COALESCE(MAX(version), 0) AS version FROM flowgate_schema');
      const current = count(rows[0]?.version);
      if (current > PG_SCHEMA_VERSION) {
        throw new Error(
          `The database at ${this.#where} has schema version ${current}, newer than this Flowgate understands (${PG_SCHEMA_VERSION}). Upgrade Flowgate, or point FLOWGATE_DB at another database.`,
        );
      }
      for (let version = current; version < PG_SCHEMA_VERSION; version++) {
        await client.query(PG_MIGRATIONS[version]!);
        await client.query('INSERT INTO flowgate_schema (version, applied_at) VALUES ($1, $2)', [
          version + 1,
          Date.now(),
        ]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async #query(sql: string, params: unknown[] = [], on: Queryable = this.#pool): Promise<pg.QueryResult> {
    await this.ready();
    return on.query(sql, params);
  }

  async health(): Promise<void> {
    await this.#query('SELECT 1');
  }

  async saveProgressMessage(m: ProgressMessage): Promise<void> {
    await this.#query(
      `INSERT INTO progress_messages
         (run_id, workflow_key, workflow_id, channel, ts, starter_id, started_at, status, final, canceled_by, notified_at, permalink, origin, requester,
          requester_lookup, requester_attempts, requester_retry_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT (run_id) DO UPDATE SET
         workflow_key = EXCLUDED.workflow_key, workflow_id = EXCLUDED.workflow_id, channel = EXCLUDED.channel,
         ts = EXCLUDED.ts, starter_id = EXCLUDED.starter_id, started_at = EXCLUDED.started_at,
         status = EXCLUDED.status, final = EXCLUDED.final, canceled_by = EXCLUDED.canceled_by,
         notified_at = EXCLUDED.notified_at, permalink = EXCLUDED.permalink, origin = EXCLUDED.origin,
         requester = EXCLUDED.requester, requester_lookup = EXCLUDED.requester_lookup,
         requester_attempts = EXCLUDED.requester_attempts, requester_retry_at = EXCLUDED.requester_retry_at`,
      [
        m.runId,
        m.workflowKey,
        m.workflowId,
        m.channel,
        m.ts,
        m.starterId,
        ms(m.startedAt, 'startedAt'),
        m.status,
        m.final,
        m.canceledBy ?? null,
        m.notifiedAt === undefined ? null : ms(m.notifiedAt, 'notifiedAt'),
        m.permalink ?? null,
        m.origin ?? 'slack',
        m.requester ?? null,
        ...lookupColumns(m),
      ],
    );
  }

  async claimProgressMessage(m: ProgressMessage): Promise<boolean> {
    const startedAt = ms(m.startedAt, 'startedAt');
    const result = await this.#query(
      `INSERT INTO progress_messages
         (run_id, workflow_key, workflow_id, channel, ts, starter_id, started_at, status, final, origin, requester,
          requester_lookup, requester_attempts, requester_retry_at)
       VALUES ($1, $2, $3, $4, '', $5, $6, $7, false, $8, $9, $11, $12, $13)
       ON CONFLICT (run_id) DO UPDATE SET started_at = EXCLUDED.started_at
         WHERE progress_messages.ts = '' AND progress_messages.started_at <= $10`,
      [
        m.runId,
        m.workflowKey,
        m.workflowId,
        m.channel,
        m.starterId,
        startedAt,
        m.status,
        m.origin ?? 'slack',
        m.requester ?? null,
        startedAt - CLAIM_LEASE_MS,
        ...lookupColumns(m),
      ],
    );
    return result.rowCount === 1;
  }

  async releaseProgressMessage(runId: string): Promise<void> {
    await this.#query(`DELETE FROM progress_messages WHERE run_id = $1 AND ts = ''`, [runId]);
  }

  async getProgressMessage(runId: string): Promise<ProgressMessage | undefined> {
    const { rows } = await this.#query('SELECT * FROM progress_messages WHERE run_id = $1', [runId]);
    return rows[0] ? toProgressMessage(rows[0]) : undefined;
  }

  async findProgressMessage(channel: string, ts: string): Promise<ProgressMessage | undefined> {
    const { rows } = await this.#query('SELECT * FROM progress_messages WHERE channel = $1 AND ts = $2', [
      channel,
      ts,
    ]);
    if (rows[0]) return toProgressMessage(rows[0]);
    const dm = await this.#query(
      `SELECT p.* FROM question_dms d JOIN progress_messages p ON p.run_id = d.run_id
       WHERE d.channel = $1 AND d.ts = $2 LIMIT 1`,
      [channel, ts],
    );
    return dm.rows[0] ? toProgressMessage(dm.rows[0]) : undefined;
  }

  async saveQuestionDm(dm: QuestionDm): Promise<void> {
    await this.#query(
      `INSERT INTO question_dms (run_id, suspension_key, user_id, channel, ts, at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id, suspension_key, user_id) DO UPDATE SET
         channel = excluded.channel, ts = excluded.ts, at = excluded.at`,
      [dm.runId, dm.suspensionKey, dm.userId, dm.channel, dm.ts, ms(dm.at, 'at')],
    );
  }

  async listQuestionDms(runId: string): Promise<QuestionDm[]> {
    const { rows } = await this.#query('SELECT * FROM question_dms WHERE run_id = $1 ORDER BY at, seq', [
      runId,
    ]);
    return rows.map(toQuestionDm);
  }

  async updateProgressMessage(
    runId: string,
    patch: Partial<Omit<ProgressMessage, 'runId' | 'owner'>>,
  ): Promise<void> {
    const fields = (Object.keys(PROGRESS_COLUMNS) as ProgressField[]).filter((f) => patch[f] !== undefined);
    if (fields.length === 0) return;
    const sets = fields.map((f, i) => `${PROGRESS_COLUMNS[f]} = $${i + 1}`).join(', ');
    await this.#query(`UPDATE progress_messages SET ${sets} WHERE run_id = $${fields.length + 1}`, [
      ...fields.map((f) => pgValue(f, patch[f])),
      runId,
    ]);
  }

  async pruneFinished(before: Date, limit: number): Promise<number> {
    // One statement: the runs are chosen and forgotten together, whichever replica runs it.
    const { rows } = await this.#query(
      `WITH gone AS (
         DELETE FROM progress_messages WHERE run_id IN (
           SELECT run_id FROM progress_messages
           WHERE final AND COALESCE(notified_at, started_at) < $1 ORDER BY started_at LIMIT $2
           FOR UPDATE SKIP LOCKED)
         RETURNING run_id),
       a AS (DELETE FROM answers WHERE run_id IN (SELECT run_id FROM gone)),
       d AS (DELETE FROM deadlines WHERE run_id IN (SELECT run_id FROM gone)),
       v AS (DELETE FROM votes WHERE run_id IN (SELECT run_id FROM gone)),
       q AS (DELETE FROM question_dms WHERE run_id IN (SELECT run_id FROM gone)),
       o AS (DELETE FROM once_keys WHERE run_id IN (SELECT run_id FROM gone)),
       -- Marks of no run still kept (a retention pass's own, say) go once as old as the runs.
       m AS (DELETE FROM once_keys k WHERE k.at < $1
               AND NOT EXISTS (SELECT 1 FROM progress_messages p WHERE p.run_id = k.run_id)),
       n AS (DELETE FROM outbox WHERE run_id IN (SELECT run_id FROM gone))
       SELECT COUNT(*)::int AS n FROM gone`,
      [ms(before, 'before'), limit],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async countLiveRunsStartedBy(userId: string): Promise<number> {
    const { rows } = await this.#query(
      "SELECT COUNT(*)::int AS n FROM progress_messages WHERE starter_id = $1 AND NOT final AND origin = 'slack'",
      [userId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async listUnfinished(): Promise<ProgressMessage[]> {
    const { rows } = await this.#query(
      "SELECT * FROM progress_messages WHERE NOT final AND ts <> '' ORDER BY started_at, run_id",
    );
    return rows.map(toProgressMessage);
  }

  async dueRequesterLookups(now: Date, limit: number): Promise<ProgressMessage[]> {
    const { rows } = await this.#query(
      `SELECT * FROM progress_messages
       WHERE requester_lookup IS NOT NULL AND requester_retry_at <= $1 AND ts <> ''
       ORDER BY requester_retry_at, run_id LIMIT $2`,
      [ms(now, 'now'), limit],
    );
    return rows.map(toProgressMessage);
  }

  async claimRequesterLookup(runId: string, retryAt: Date, next: Date): Promise<boolean> {
    const result = await this.#query(
      `UPDATE progress_messages SET requester_attempts = requester_attempts + 1, requester_retry_at = $1
       WHERE run_id = $2 AND requester_lookup IS NOT NULL AND requester_retry_at = $3`,
      [ms(next, 'next'), runId, ms(retryAt, 'retryAt')],
    );
    return result.rowCount === 1;
  }

  async settleRequester(runId: string, starterId: string | null): Promise<boolean> {
    const result = await this.#query(
      `UPDATE progress_messages SET starter_id = coalesce($2::text, starter_id),
         requester = CASE WHEN $2::text IS NULL THEN requester ELSE NULL END,
         requester_lookup = NULL, requester_attempts = 0, requester_retry_at = NULL
       WHERE run_id = $1 AND requester_lookup IS NOT NULL`,
      [runId, starterId],
    );
    return result.rowCount === 1;
  }

  async claimEdit(runId: string, edit: MessageEdit): Promise<EditClaim> {
    // One statement: the row is locked and its version compared (row values, field by field) and
    // replaced at once; a concurrent claim re-reads the row it waited for (READ COMMITTED).
    const { rows } = await this.#query(
      `UPDATE progress_messages SET
         edit_shown = (COALESCE(edit_hash = $6, false) AND edit_shown),
         edit_final = $2, edit_at = $3, edit_steps = $4, edit_marks = $5, edit_hash = $6
       WHERE run_id = $1 AND (edit_hash IS NULL
         OR ($2::int, $3::bigint, $4::int, $5::int) >= (edit_final, edit_at, edit_steps, edit_marks))
       RETURNING edit_shown`,
      editValues(runId, edit),
    );
    const row = rows[0];
    if (!row) return 'stale';
    return row.edit_shown === true ? 'shown' : 'send';
  }

  async editShown(runId: string, edit: MessageEdit): Promise<void> {
    await this.#query(
      `UPDATE progress_messages SET
         edit_shown = true, edit_final = $2, edit_at = $3, edit_steps = $4, edit_marks = $5, edit_hash = $6
       WHERE run_id = $1 AND (edit_hash IS NULL
         OR ($2::int, $3::bigint, $4::int, $5::int) > (edit_final, edit_at, edit_steps, edit_marks)
         OR (($2::int, $3::bigint, $4::int, $5::int) = (edit_final, edit_at, edit_steps, edit_marks)
             AND edit_hash = $6))`,
      editValues(runId, edit),
    );
  }

  async claimAnswer(runId: string, stepPath: string, userId: string, at: Date): Promise<ClaimResult> {
    const when = ms(at, 'at');
    // One statement: a new claim is inserted, a stranded one taken over, a live one left alone.
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await this.#query(
        `INSERT INTO answers (run_id, step_path, user_id, answered_at, state)
         VALUES ($1, $2, $3, $4, 'claimed')
         ON CONFLICT (run_id, step_path) DO UPDATE SET user_id = EXCLUDED.user_id, answered_at = EXCLUDED.answered_at
           WHERE answers.state = 'claimed' AND answers.answered_at <= $5
         RETURNING run_id`,
        [runId, stepPath, userId, when, when - CLAIM_LEASE_MS],
      );
      if (taken.rowCount === 1) return { claimed: true };
      const existing = await this.getAnswer(runId, stepPath);
      if (existing)
        return { claimed: false, by: existing.userId, at: existing.answeredAt, state: existing.state };
      // Released between the two statements: claim again.
    }
    throw new Error(`claimAnswer: the claim on ${runId} ${stepPath} kept changing`);
  }

  async completeAnswer(runId: string, stepPath: string, userId: string, summary: string): Promise<void> {
    await this.#query(
      `UPDATE answers SET state = 'resumed', summary = $1
       WHERE run_id = $2 AND step_path = $3 AND user_id = $4 AND state = 'claimed'`,
      [summary, runId, stepPath, userId],
    );
  }

  async releaseAnswer(runId: string, stepPath: string, userId: string): Promise<void> {
    await this.#query(
      `DELETE FROM answers WHERE run_id = $1 AND step_path = $2 AND user_id = $3 AND state = 'claimed'`,
      [runId, stepPath, userId],
    );
  }

  async getAnswer(runId: string, stepPath: string): Promise<Answer | undefined> {
    const { rows } = await this.#query('SELECT * FROM answers WHERE run_id = $1 AND step_path = $2', [
      runId,
      stepPath,
    ]);
    return rows[0] ? toAnswer(rows[0]) : undefined;
  }

  async listAnswers(runId: string): Promise<Answer[]> {
    const { rows } = await this.#query(
      'SELECT * FROM answers WHERE run_id = $1 ORDER BY answered_at, step_path',
      [runId],
    );
    return rows.map(toAnswer);
  }

  async markOnce(key: string, at = new Date()): Promise<boolean> {
    const result = await this.#query(
      'INSERT INTO once_keys (key, at, run_id) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING',
      [key, ms(at, 'at'), runOfKey(key)],
    );
    return result.rowCount === 1;
  }

  async saveForm(form: OpenForm): Promise<void> {
    const openedAt = ms(form.openedAt, 'openedAt');
    await this.#query('DELETE FROM open_forms WHERE opened_at <= $1', [openedAt - FORM_TTL_MS]);
    await this.#query(
      `INSERT INTO open_forms (view_id, kind, user_id, opened_at, details) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (view_id) DO UPDATE SET
         kind = EXCLUDED.kind, user_id = EXCLUDED.user_id, opened_at = EXCLUDED.opened_at, details = EXCLUDED.details`,
      [form.viewId, form.kind, form.userId, openedAt, formDetails(form)],
    );
  }

  async getForm(viewId: string, now = new Date()): Promise<OpenForm | undefined> {
    const { rows } = await this.#query('SELECT * FROM open_forms WHERE view_id = $1 AND opened_at > $2', [
      viewId,
      ms(now, 'now') - FORM_TTL_MS,
    ]);
    return rows[0] ? toOpenForm(rows[0]) : undefined;
  }

  async deleteForm(viewId: string): Promise<void> {
    await this.#query('DELETE FROM open_forms WHERE view_id = $1', [viewId]);
  }

  // Run leases ----------------------------------------------------------------------------------

  async acquireRun(runId: string, owner: string, until: Date, now: Date, force = false): Promise<boolean> {
    const result = await this.#query(
      `UPDATE progress_messages SET owner = $2, lease_until = $3
       WHERE run_id = $1 AND NOT final AND ts <> ''
         AND ($5 OR owner IS NULL OR owner = $2 OR lease_until <= $4)`,
      [runId, owner, ms(until, 'until'), ms(now, 'now'), force],
    );
    return result.rowCount === 1;
  }

  async renewRuns(owner: string, until: Date, now: Date): Promise<string[]> {
    const { rows } = await this.#query(
      `UPDATE progress_messages SET lease_until = $2
       WHERE owner = $1 AND NOT final AND lease_until > $3 RETURNING run_id`,
      [owner, ms(until, 'until'), ms(now, 'now')],
    );
    return rows.map((row) => String(row.run_id));
  }

  async releaseRun(runId: string, owner: string): Promise<void> {
    await this.#query(
      'UPDATE progress_messages SET owner = NULL, lease_until = NULL WHERE run_id = $1 AND owner = $2',
      [runId, owner],
    );
  }

  async releaseRuns(owner: string): Promise<void> {
    await this.#query('UPDATE progress_messages SET owner = NULL, lease_until = NULL WHERE owner = $1', [
      owner,
    ]);
  }

  async claimRuns(
    owner: string,
    until: Date,
    now: Date,
    replicas: number,
    parked = false,
  ): Promise<ProgressMessage[]> {
    const nowMs = ms(now, 'now');
    const { rows: counts } = await this.#query(
      `SELECT
         COUNT(*) FILTER (WHERE owner IS NOT NULL OR status <> 'suspended' OR $2) AS total,
         COUNT(*) FILTER (WHERE owner = $1 AND lease_until > $3) AS mine
       FROM progress_messages WHERE NOT final AND ts <> ''`,
      [owner, parked, nowMs],
    );
    const limit = claimShare(count(counts[0]?.total), count(counts[0]?.mine), replicas);
    if (limit === 0) return [];
    const { rows } = await this.#query(
      `UPDATE progress_messages SET owner = $1, lease_until = $2
       WHERE run_id IN (
         SELECT run_id FROM progress_messages
         WHERE NOT final AND ts <> ''
           AND ((owner IS NULL AND (status <> 'suspended' OR $4)) OR (owner <> $1 AND lease_until <= $3))
         ORDER BY started_at, run_id LIMIT $5
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [owner, ms(until, 'until'), nowMs, parked, limit],
    );
    return rows.map(toProgressMessage).sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  }

  async heartbeat(replica: string, until: Date, now: Date): Promise<number> {
    await this.#query(
      'INSERT INTO replicas (id, until) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET until = EXCLUDED.until',
      [replica, ms(until, 'until')],
    );
    const nowMs = ms(now, 'now');
    await this.#query('DELETE FROM replicas WHERE until <= $1', [nowMs]);
    const { rows } = await this.#query('SELECT COUNT(*) AS live FROM replicas WHERE until > $1', [nowMs]);
    return Math.max(1, count(rows[0]?.live));
  }

  async leave(replica: string): Promise<void> {
    await this.#query('DELETE FROM replicas WHERE id = $1', [replica]);
  }

  // Deadlines and votes (reminders, escalation, timeouts and N-of-M approvals of waiting steps): claims are one conditional UPDATE each.

  async scheduleDeadlines(deadlines: readonly Deadline[]): Promise<void> {
    if (deadlines.length === 0) return;
    const values: unknown[] = [];
    const tuples = deadlines.map((d, i) => {
      values.push(d.runId, d.suspensionKey, d.kind, d.stepPath, ms(d.since, 'since'), ms(d.dueAt, 'dueAt'));
      const base = i * 6;
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, 'pending')`;
    });
    await this.#query(
      `INSERT INTO deadlines (run_id, suspension_key, kind, step_path, since, due_at, state)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (run_id, suspension_key, kind) DO NOTHING`,
      values,
    );
  }

  async dueDeadlines(now: Date, limit: number): Promise<Deadline[]> {
    const at = ms(now, 'now');
    const { rows } = await this.#query(
      `SELECT * FROM deadlines
       WHERE state = 'pending' AND due_at <= $1 AND (claimed_at IS NULL OR claimed_at <= $2)
       ORDER BY due_at LIMIT $3`,
      [at, at - CLAIM_LEASE_MS, limit],
    );
    return rows.map(toDeadline);
  }

  async claimDeadline(deadline: Deadline, now: Date): Promise<boolean> {
    const at = ms(now, 'now');
    const result = await this.#query(
      `UPDATE deadlines SET claimed_at = $1
       WHERE run_id = $2 AND suspension_key = $3 AND kind = $4 AND state = 'pending'
         AND due_at = $5 AND (claimed_at IS NULL OR claimed_at <= $6)`,
      [
        at,
        deadline.runId,
        deadline.suspensionKey,
        deadline.kind,
        ms(deadline.dueAt, 'dueAt'),
        at - CLAIM_LEASE_MS,
      ],
    );
    return result.rowCount === 1;
  }

  async finishDeadline(deadline: Deadline, result: DeadlineResult): Promise<void> {
    await this.#query(
      `UPDATE deadlines SET state = $1, due_at = COALESCE($2, due_at), claimed_at = NULL,
         fired_at = $3, late = $4, outcome = COALESCE($5, outcome)
       WHERE run_id = $6 AND suspension_key = $7 AND kind = $8 AND state = 'pending'`,
      [
        result.state,
        result.state === 'pending' && result.next ? ms(result.next, 'next') : null,
        ms(result.firedAt, 'firedAt'),
        result.late,
        result.outcome ?? null,
        deadline.runId,
        deadline.suspensionKey,
        deadline.kind,
      ],
    );
  }

  async listDeadlines(runId: string): Promise<Deadline[]> {
    const { rows } = await this.#query('SELECT * FROM deadlines WHERE run_id = $1 ORDER BY due_at, kind', [
      runId,
    ]);
    return rows.map(toDeadline);
  }

  async recordVote(runId: string, suspensionKey: string, vote: Vote): Promise<Vote[]> {
    await this.#query(
      `INSERT INTO votes (run_id, suspension_key, user_id, approve, at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id, suspension_key, user_id) DO NOTHING`,
      [runId, suspensionKey, vote.userId, vote.approve, ms(vote.at, 'at')],
    );
    const { rows } = await this.#query(
      'SELECT * FROM votes WHERE run_id = $1 AND suspension_key = $2 ORDER BY at, seq',
      [runId, suspensionKey],
    );
    return rows.map((row) => {
      const { suspensionKey: _key, ...rest } = toVote(row);
      return rest;
    });
  }

  async listVotes(runId: string): Promise<(Vote & { suspensionKey: string })[]> {
    const { rows } = await this.#query('SELECT * FROM votes WHERE run_id = $1 ORDER BY at, seq', [runId]);
    return rows.map(toVote);
  }

  /**
   * One UPDATE on the budget's row: the row lock makes concurrent takes wait for each other, and
   * each sees the `tat` the one before it left. The time is the database's (`clock_timestamp()`,
   * read once). Mirrors `grantPermits` in src/slack/io/permits.ts.
   */
  async takeSendPermits(name: string, want: number, schedule: SendSchedule): Promise<SendPermits> {
    const [count, interval, tolerance] = permitArgs(want, schedule);
    if (!this.#budgets.has(name)) {
      await this.#query('INSERT INTO send_budgets (name, tat) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING', [
        name,
      ]);
      this.#budgets.add(name);
    }
    const grant = `LEAST($2::bigint, CASE WHEN c.n - GREATEST(b.tat, c.n) + $4::bigint < 0 THEN 0
      ELSE (c.n - GREATEST(b.tat, c.n) + $4::bigint) / $3::bigint + 1 END)`;
    const { rows } = await this.#query(
      `WITH c AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS n)
       UPDATE send_budgets b SET at = c.n, granted = ${grant}, tat = GREATEST(b.tat, c.n) + $3::bigint * ${grant}
       FROM c WHERE b.name = $1
       RETURNING b.tat, b.granted, b.at`,
      [name, count, interval, tolerance],
      this.#permitPool,
    );
    return toSendPermits(rows[0], count, tolerance);
  }

  async addNotice(notice: NewNotice, now: Date): Promise<boolean> {
    const c = noticeColumns(notice, now);
    const result = await this.#query(
      `INSERT INTO outbox (key, run_id, channel, thread_ts, user_id, text, blocks, asks, created_at, next_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (key) DO NOTHING`,
      [c.key, c.run_id, c.channel, c.thread_ts, c.user_id, c.text, c.blocks, c.asks, c.created_at, c.next_at],
    );
    return result.rowCount === 1;
  }

  async getNotice(key: string): Promise<Notice | undefined> {
    const { rows } = await this.#query('SELECT * FROM outbox WHERE key = $1', [key]);
    return rows[0] ? toNotice(rows[0]) : undefined;
  }

  async dueNotices(now: Date, limit: number): Promise<Notice[]> {
    const at = ms(now, 'now');
    const { rows } = await this.#query(
      `SELECT * FROM outbox
       WHERE state = 'pending' AND next_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
       ORDER BY next_at, key LIMIT $2`,
      [at, limit],
    );
    return rows.map(toNotice);
  }

  async claimNotice(key: string, owner: string, until: Date, now: Date): Promise<Notice | undefined> {
    const at = ms(now, 'now');
    // One statement: the row is locked as read, claimed if still free, and returned as it was.
    const { rows } = await this.#query(
      `UPDATE outbox o SET claimed_by = $2, claimed_until = $3, attempts = o.attempts + 1, unsure = TRUE
       FROM (SELECT key, unsure FROM outbox WHERE key = $1 FOR UPDATE) old
       WHERE o.key = old.key AND o.state = 'pending' AND o.next_at <= $4
         AND (o.claimed_until IS NULL OR o.claimed_until <= $4)
       RETURNING o.*, old.unsure AS was_unsure`,
      [key, owner, ms(until, 'until'), at],
    );
    const row = rows[0];
    return row ? toNotice({ ...row, unsure: row.was_unsure }) : undefined;
  }

  async finishNotice(key: string, owner: string, result: NoticeResult): Promise<boolean> {
    const c = noticeResultColumns(result);
    const changed = await this.#query(
      `UPDATE outbox SET state = $1, next_at = COALESCE($2, next_at), unsure = $3,
         posted_channel = COALESCE($4, posted_channel), posted_ts = COALESCE($5, posted_ts),
         error = $6, claimed_by = NULL, claimed_until = NULL
       WHERE key = $7 AND claimed_by = $8 AND state = 'pending'`,
      [c.state, c.next_at, c.unsure, c.posted_channel, c.posted_ts, c.error, key, owner],
    );
    return changed.rowCount === 1;
  }

  async releaseNotices(owner: string): Promise<void> {
    await this.#query(
      "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND state = 'pending'",
      [owner],
    );
  }

  async replicaIds(now: Date): Promise<string[]> {
    const { rows } = await this.#query(
      `SELECT id FROM replicas WHERE until > $1
       UNION SELECT owner FROM progress_messages WHERE NOT final AND owner IS NOT NULL`,
      [ms(now, 'now')],
    );
    return rows.map((row) => String(row.id)).sort();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#pool.end(), this.#permitPool.end()]);
  }
}
