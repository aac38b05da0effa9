export { MIGRATIONS, openStore, SCHEMA_VERSION } from './sqlite.ts';
export { type Answer, CLAIM_LEASE_MS, type ClaimResult, type ProgressMessage, type Store } from './types.ts';
