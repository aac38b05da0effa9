import { isPostgresUrl, openPostgresStore } from './postgres.ts';
import { openSqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export { isPostgresUrl, PG_MIGRATIONS, PG_SCHEMA_VERSION, postgresUrlProblem } from './postgres.ts';
export { MIGRATIONS, SCHEMA_VERSION } from './sqlite.ts';

/**
 * Opens the store `FLOWGATE_DB` names: a `postgres://` URL (PostgreSQL, for several replicas) or a
 * file path / `:memory:` (SQLite, embedded). A malformed URL throws now; `ready()` says whether the
 * database can be reached and migrated.
 */
export function openStore(location: string): Store {
  return isPostgresUrl(location) ? openPostgresStore(location) : openSqliteStore(location);
}

export {
  type Answer,
  CLAIM_LEASE_MS,
  type ClaimResult,
  type Deadline,
  type DeadlineResult,
  type EditClaim,
  FORM_TTL_MS,
  type MessageEdit,
  type MessageVersion,
  type NewNotice,
  type Notice,
  type NoticeResult,
  type OpenForm,
  type ProgressMessage,
  type QuestionDm,
  type RequesterLookup,
  type SendPermits,
  type SendSchedule,
  type Store,
  type Vote,
} from './types.ts';
