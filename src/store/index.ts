export { MIGRATIONS, openStore, SCHEMA_VERSION } from './sqlite.ts';
export {
  type Answer,
  CLAIM_LEASE_MS,
  type ClaimResult,
  type Deadline,
  type DeadlineResult,
  FORM_TTL_MS,
  type OpenForm,
  type ProgressMessage,
  type Store,
  type Vote,
} from './types.ts';
