/**
 * Flowgate's use cases, called by the thin Bolt listeners, grouped by capability: the slash command
 * (commands.ts), starting runs (starting.ts), runs' status and cancelling (runs.ts), answering
 * suspended steps (answering.ts), over one shared context (context.ts). Each one authorizes on the
 * server side, validates before touching the run, and tells the person what happened in words they
 * can act on.
 */
import { Answering } from './answering.ts';
import { Commands } from './commands.ts';
import { UseCaseContext, type UseCaseDeps } from './context.ts';
import { Runs } from './runs.ts';
import { Starting } from './starting.ts';

export interface UseCases {
  commands: Commands;
  starting: Starting;
  runs: Runs;
  answering: Answering;
}

/** Every capability over the same deps (and the same policy groups, read once). */
export function createUseCases(deps: UseCaseDeps): UseCases {
  const ctx = new UseCaseContext(deps);
  const starting = new Starting(ctx);
  const runs = new Runs(ctx);
  return { commands: new Commands(ctx, { starting, runs }), starting, runs, answering: new Answering(ctx) };
}
