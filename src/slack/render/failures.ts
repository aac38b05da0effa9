/**
 * The one place where failures become words for the person in Slack. Messages are mrkdwn-safe,
 * never carry tokens, internal URLs or the servers' raw replies, and say what to do next.
 */
import { isMastraError } from '../../mastra/errors.ts';
import { isTransientSlackFailure, type SlackFailure, slackFailure } from '../errors.ts';
import { code, safeText } from '../text/mrkdwn.ts';

/** A failure whose message is already meant for the user (and already safe mrkdwn). */
export class UserFacingError extends Error {
  override readonly name: string = 'UserFacingError';
}

/** The policy refused this person this action. */
export class RefusedError extends UserFacingError {
  override readonly name = 'RefusedError';
}

/**
 * What the person is told. The Mastra server's URL, its raw replies and transport errors are for
 * the logs (`UseCaseContext.logUnexpected`), never for Slack: people get what failed, with the
 * HTTP status at most, and what to do. What the server says about the person's own input (its
 * field issues, its "Invalid input data" message) is theirs to read, escaped.
 */
export function userMessage(error: unknown): string {
  if (error instanceof UserFacingError) return error.message;
  if (isMastraError(error)) {
    const status = error.status === undefined ? '' : ` (HTTP ${error.status})`;
    switch (error.code) {
      case 'workflow_not_found':
        return 'The Mastra server does not know that workflow (any more). Try `list` to see what it has.';
      case 'run_not_found':
        return 'The Mastra server does not know that run.';
      case 'invalid_input': {
        const issues = (error.issues ?? []).map((i) => `• ${code(i.field, 80)}: ${safeText(i.message, 200)}`);
        const said = error.serverMessage;
        if (issues.length > 0) return `The Mastra server refused the input.\n${issues.join('\n')}`;
        if (said !== undefined && INPUT_REFUSAL.test(said))
          return `The Mastra server refused the input.\n${safeText(said, 600)}`;
        return `The Mastra server refused the input${status}. Check it and try again; if it keeps happening, tell whoever runs Flowgate.`;
      }
      case 'not_suspended':
        return 'That step is no longer waiting for an answer.';
      case 'already_resumed':
        return 'Someone else answered that step a moment ago.';
      case 'already_finished':
        return `The run had already finished${error.runStatus ? ` (${safeText(error.runStatus, 20)})` : ''}.`;
      case 'unavailable':
        return error.status === undefined
          ? 'The Mastra server is not reachable right now. Try again in a minute; if it keeps failing, tell whoever runs Flowgate.'
          : `The Mastra server could not do that right now${status}. Try again in a minute; if it keeps failing, tell whoever runs Flowgate.`;
      case 'protocol':
        return 'The Mastra server sent a reply Flowgate could not read. Tell whoever runs Flowgate.';
      case 'aborted':
        return 'The request to the Mastra server was cut short. Try again.';
      default:
        return `The Mastra server refused the request${status}. Try again; if it keeps happening, tell whoever runs Flowgate.`;
    }
  }
  const slack = slackFailure(error);
  if (slack.kind === 'platform') return `Slack refused the request (${code(slack.error, 60)}).`;
  if (isTransientSlackFailure(slack))
    return `Slack could not do that right now (${slackProblem(slack)}). Try again in a minute.`;
  return 'Something went wrong on Flowgate’s side. It has been logged; try again, and tell whoever runs Flowgate if it keeps happening.';
}

/** Mastra's own words about input it refused (its validation of inputs and resume data). */
const INPUT_REFUSAL = /^invalid (input|resume) data\b/i;

/** A failed Slack call in a few words: `HTTP 500`, `timed out`, `channel_not_found`, … */
function slackProblem(failure: SlackFailure): string {
  switch (failure.kind) {
    case 'rate_limited':
      return `rate limited for ${Math.ceil(failure.retryAfterMs / 1000)} s`;
    case 'http':
      return `HTTP ${failure.status}`;
    case 'network':
      return failure.timedOut ? 'timed out' : 'not reachable';
    case 'platform':
      return code(failure.error, 60);
    case 'other':
      return 'an unexpected error';
  }
}

/** Why a run was not started: Slack would not take its progress message (`error`). */
export function notPostedMessage(error: unknown): string {
  const failure = slackFailure(error);
  const next = isTransientSlackFailure(failure)
    ? 'Try again in a minute.'
    : 'Try again; if it keeps happening, tell whoever runs Flowgate.';
  return `Slack could not post the progress message (${slackProblem(failure)}), so the run was not started. ${next}`;
}
