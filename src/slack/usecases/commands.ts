/**
 * The slash command: help and usage answered in the ack itself, `list` from the catalog, and every
 * other subcommand handed to the capability it belongs to (starting, runs). Whatever fails is told
 * to the person in words they can act on.
 */

import { type Reply, renderHelp, renderNotice, renderWorkflowList } from '../render/commands.ts';
import { type Command, parseCommand } from '../text/command-text.ts';
import { safeText } from '../text/mrkdwn.ts';
import { type Respond, UseCase, type UseCaseContext } from './context.ts';
import type { Runs } from './runs.ts';
import type { Starting } from './starting.ts';

export class Commands extends UseCase {
  readonly #starting: Starting;
  readonly #runs: Runs;

  constructor(ctx: UseCaseContext, capabilities: { starting: Starting; runs: Runs }) {
    super(ctx);
    this.#starting = capabilities.starting;
    this.#runs = capabilities.runs;
  }

  /** The answer to command text that needs no lookup (help, usage), fit to send in the ack itself. */
  instantReply(text: string): Reply | undefined {
    return this.#instant(parseCommand(text, this.deps.command));
  }

  #instant(parsed: Command): Reply | undefined {
    if (parsed.kind === 'help') return renderHelp(this.deps.command, parsed.unknown);
    if (parsed.kind === 'usage') return renderNotice(safeText(parsed.message, 500));
    return undefined;
  }

  async command(
    input: { text: string; userId: string; channelId: string; triggerId: string },
    respond: Respond,
  ): Promise<void> {
    const parsed = parseCommand(input.text, this.deps.command);
    try {
      const instant = this.#instant(parsed);
      if (instant) return await respond(instant);
      switch (parsed.kind) {
        case 'list':
          return await respond(
            renderWorkflowList(await this.deps.catalog.list(), {
              command: this.deps.command,
              ...(parsed.page === undefined ? {} : { page: parsed.page }),
            }),
          );
        case 'start': {
          const entry = await this.ctx.resolve(parsed.workflow);
          return await this.#starting.start({ entry, inputs: parsed.inputs, ...input }, respond);
        }
        case 'runs':
          return await this.#runs.listRuns(
            { name: parsed.workflow, status: parsed.status, userId: input.userId },
            respond,
          );
        case 'status':
          return await this.#runs.status({ runId: parsed.runId, userId: input.userId }, respond);
        case 'cancel':
          return await this.#runs.cancel({ runId: parsed.runId, userId: input.userId }, respond);
      }
    } catch (error) {
      await this.ctx.fail(error, respond);
    }
  }
}
