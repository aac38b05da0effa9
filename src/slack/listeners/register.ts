/**
 * The Bolt listeners: thin. Each one acknowledges at once (Slack allows 3 s), parses what Slack
 * sent (anything malformed or forged gets a clear answer, never a crash), and calls a use case.
 */
import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import { withTimeout } from '../../util/with-timeout.ts';
import { ACTION, decodeStartRef, decodeSuspensionRef, VIEW } from '../ids.ts';
import type { Reply } from '../render/commands.ts';
import { noticeView } from '../render/modals.ts';
import { MALFORMED_REQUEST as MALFORMED, TOO_SLOW } from '../render/refusals.ts';
import type { MessageRef, Respond } from '../usecases/context.ts';
import type { UseCases } from '../usecases/index.ts';

/**
 * Lets pending I/O (other people's requests waiting for their ack) run before the work an ack set
 * off: under a burst, every request is acknowledged first, then the answers follow.
 */
function afterAck(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Slack gives up on a form submission not acknowledged within 3 s; past this, say so in time. */
const SUBMISSION_DEADLINE_MS = 2500;

/** The work's result, or undefined when it is not done by the submission deadline. */
async function beforeDeadline<T>(work: Promise<T>): Promise<{ value: T } | undefined> {
  return withTimeout(
    work.then((value) => ({ value })),
    SUBMISSION_DEADLINE_MS,
    undefined,
  );
}

function ephemeral(respond: RespondFn): Respond {
  return async (reply: Reply) => {
    await respond({ ...reply, response_type: 'ephemeral', replace_original: false });
  };
}

function buttonValue(body: BlockAction): string | undefined {
  const action = body.actions?.[0] as ButtonAction | undefined;
  return typeof action?.value === 'string' ? action.value : undefined;
}

/** The message the clicked button is on (Flowgate looks up which run it recorded for it). */
function clickedMessage(body: BlockAction): MessageRef {
  return {
    channel: body.container?.channel_id ?? body.channel?.id,
    ts: body.container?.message_ts ?? body.message?.ts,
  };
}

export function registerListeners(app: App, useCases: UseCases, command: string): void {
  const { commands, starting, runs, answering } = useCases;
  app.command(command, async ({ command: cmd, ack, respond }) => {
    const instant = commands.instantReply(cmd.text ?? '');
    if (instant) return void (await ack({ ...instant, response_type: 'ephemeral' }));
    await ack();
    await afterAck();
    await commands.command(
      { text: cmd.text ?? '', userId: cmd.user_id, channelId: cmd.channel_id, triggerId: cmd.trigger_id },
      ephemeral(respond),
    );
  });

  app.action<BlockAction>(ACTION.start, async ({ ack, body, respond }) => {
    await ack();
    await afterAck();
    const ref = decodeStartRef(buttonValue(body));
    const channelId = body.channel?.id;
    if (!ref || !channelId) return void (await ephemeral(respond)({ text: MALFORMED }));
    await starting.startFromButton(
      { ref, userId: body.user.id, triggerId: body.trigger_id, channelId },
      ephemeral(respond),
    );
  });

  app.action<BlockAction>(ACTION.cancel, async ({ ack, body, respond }) => {
    await ack();
    await afterAck();
    await runs.cancelFromMessage({ message: clickedMessage(body), userId: body.user.id }, ephemeral(respond));
  });

  app.action<BlockAction>(ACTION.respond, async ({ ack, body, respond }) => {
    await ack();
    await afterAck();
    const ref = decodeSuspensionRef(buttonValue(body));
    if (!ref) return void (await ephemeral(respond)({ text: MALFORMED }));
    await answering.openAnswerForm(
      { message: clickedMessage(body), ref, userId: body.user.id, triggerId: body.trigger_id },
      ephemeral(respond),
    );
  });

  for (const [actionId, approve] of [
    [ACTION.approve, true],
    [ACTION.reject, false],
  ] as const) {
    app.action<BlockAction>(actionId, async ({ ack, body, respond }) => {
      await ack();
      await afterAck();
      const ref = decodeSuspensionRef(buttonValue(body));
      if (!ref) return void (await ephemeral(respond)({ text: MALFORMED }));
      await answering.oneClick(
        { message: clickedMessage(body), ref, userId: body.user.id, approve },
        ephemeral(respond),
      );
    });
  }

  app.view(VIEW.startForm, async ({ ack, body, view }) => {
    const done = await beforeDeadline(
      starting.submitStartForm({ viewId: view.id, userId: body.user.id, values: view.state.values }),
    );
    if (!done)
      return void (await ack({ response_action: 'update', view: noticeView('Not started', TOO_SLOW) }));
    const outcome = done.value;
    if (outcome.errors) return void (await ack({ response_action: 'errors', errors: outcome.errors }));
    if (outcome.error)
      return void (await ack({ response_action: 'update', view: noticeView('Cannot start', outcome.error) }));
    await ack();
    await afterAck();
    await outcome.launch?.();
  });

  app.view(VIEW.answerForm, async ({ ack, body, view }) => {
    const work = answering.submitAnswer({ viewId: view.id, userId: body.user.id, values: view.state.values });
    const done = await beforeDeadline(work);
    if (!done) {
      void work.then((late) => late.withdraw?.()).catch(() => {}); // its claim must not block others
      return void (await ack({ response_action: 'update', view: noticeView('Not sent', TOO_SLOW) }));
    }
    const outcome = done.value;
    if (outcome.errors) return void (await ack({ response_action: 'errors', errors: outcome.errors }));
    if (outcome.error)
      return void (await ack({ response_action: 'update', view: noticeView('Not sent', outcome.error) }));
    await ack();
    await afterAck();
    await outcome.resume?.();
  });

  app.view(VIEW.loading, async ({ ack }) => {
    await ack();
    await afterAck();
  });
}
