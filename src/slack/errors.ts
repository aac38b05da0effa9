/**
 * The one place where failures become words for the person in Slack. Messages are mrkdwn-safe,
 * never carry tokens or internal URLs, and say what to do next.
 */
import { isMastraError } from '../mastra/errors.ts';
import { code, safeText } from './mrkdwn.ts';
import { isTransientSlackFailure, type SlackFailure, slackFailure } from './retry.ts';

/** A failure whose message is already meant for the user (and already safe mrkdwn). */
export class UserFacingError extends Error {
  override readonly name: string = 'UserFacingError';
}

/** The policy refused this person this action. */
export class RefusedError extends UserFacingError {
  override readonly name = 'RefusedError';
}

export function userMessage(error: unknown): string {
  if (error instanceof UserFacingError) return error.message;
  if (isMastraError(error)) {
    switch (error.code) {
      case 'workflow_not_found':
        return 'The Mastra server does not know that workflow (any more). Try `list` to see what it has.';
      case 'run_not_found':
        return 'The Mastra server does not know that run.';
      case 'invalid_input': {
        const issues = (error.issues ?? []).map((i) => `• ${code(i.field, 80)}: ${safeText(i.message, 200)}`);
        const detail =
          issues.length > 0
            ? `\n${issues.join('\n')}`
            : `\n${safeText(error.serverMessage ?? error.message, 600)}`;
        return `The Mastra server refused the input.${detail}`;
      }
      case 'not_suspended':
        return 'That step is no longer waiting for an answer.';
      case 'already_resumed':
        return 'Someone else answered that step a moment ago.';
      case 'already_finished':
        return `The run had already finished${error.runStatus ? ` (${safeText(error.runStatus, 20)})` : ''}.`;
      case 'unavailable':
        return 'The Mastra server is not reachable right now. Try again in a minute; if it keeps failing, tell whoever runs Flowgate.';
      case 'protocol':
        return 'The Mastra server sent a reply Flowgate could not read. Tell whoever runs Flowgate.';
      default:
        return `The Mastra server answered with an error: ${safeText(error.serverMessage ?? error.message, 300)}`;
    }
  }
  const slack = slackFailure(error);
  if (slack.kind === 'platform') return `Slack refused the request (${code(slack.error, 60)}).`;
  if (isTransientSlackFailure(slack))
    return `Slack could not do that right now (${slackProblem(slack)}). Try again in a minute.`;
  return 'Something went wrong on Flowgate’s side. It has been logged; try again, and tell whoever runs Flowgate if it keeps happening.';
}

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
