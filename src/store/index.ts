export { MIGRATIONS, openStore, SCHEMA_VERSION } from './sqlite.ts';
export type { Answer, ClaimResult, ProgressMessage, Store } from './types.ts';
