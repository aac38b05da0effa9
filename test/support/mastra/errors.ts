import { isMastraError, type MastraError } from '../../../src/mastra/errors.ts';

/** The `MastraError` a promise rejects with; fails when it resolves or rejects with anything else. */
export async function errorOf(p: Promise<unknown>): Promise<MastraError> {
  try {
    await p;
  } catch (e) {
    if (isMastraError(e)) return e;
    throw e;
  }
  throw new Error('expected a MastraError');
}
