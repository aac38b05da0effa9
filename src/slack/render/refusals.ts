/**
 * What Flowgate tells a person when it will not do what they asked — the request, the form, the
 * button or the inputs do not allow it — in words that say what to do instead. The use cases make
 * the decision and throw these as `UserFacingError` (./failures.ts, which also words failures of
 * the servers); the policy words its own refusals (src/policy/decide.ts). Pure: plain data in, safe mrkdwn out.
 */
import { code, mentionUser, safeText, slackDate } from '../text/mrkdwn.ts';
import { respondLabel } from './questions.ts';

/** A click or submission without what Flowgate needs (no message, no value, a forged one). */
export const MALFORMED_REQUEST =
  'That request did not come with the details Flowgate needs. Try again from the message.';

/** A form submitted past Slack's 3 s while the Mastra server had not answered. */
export const TOO_SLOW =
  'The Mastra server took too long to answer, so nothing was sent. Try again in a minute; if it keeps happening, tell whoever runs Flowgate.';

/** A form Flowgate has no record of opening for this person. */
export const FORM_NOT_OPENED =
  'Flowgate has no record of opening this form for you (it may have expired after a day). Open it again from the message or the command.';

/** Slack could not say whether the person may see a run: refused rather than shown. */
export const VIEW_NOT_CHECKED =
  'Flowgate could not check that you may see this run (Slack did not answer). Try again in a minute.';

/** An answer form of a run Flowgate has forgotten (pruned). */
export const RUN_FORGOTTEN = 'Flowgate has no record of this run any more.';

/** A button carrying another run's question. */
export const OTHER_RUN =
  "That button belongs to another run's message, so nothing was answered. Answer on the run's own message.";

/** A button naming a question the run never asked. */
export const UNKNOWN_QUESTION =
  'That button does not name a question this run asked, so nothing was answered. Use the buttons the message shows now.';

/** A button of an earlier question of a step that has asked again since (a loop). */
export const ASKED_AGAIN =
  'This step has asked again since that question was shown. The message now shows the new question: answer that one.';

/** Too many lookups (`runs`, `status` of unknown runs): the next one is allowed in `waitMs`. */
export function tooManyLookups(waitMs: number): string {
  return `You have looked up runs often in the last minute. Try again in ${Math.ceil(waitMs / 1000)} s.`;
}

/** No workflow by that name: the workflows there are (`known`, keys), and the likely one. */
export function noSuchWorkflow(name: string, known: readonly string[], suggestion?: string): string {
  const list = known.map((key) => code(key, 60)).join(', ') || 'none';
  const hint = suggestion !== undefined ? ` — did you mean ${code(suggestion, 100)}?` : '';
  return `No workflow ${code(name, 100)}${hint}\nWorkflows: ${list}`;
}

/** The Start button of a workflow the Mastra server no longer has. */
export function workflowGone(command: string): string {
  return `That workflow is not on the Mastra server any more. Try \`${safeText(command, 40)} list\` again.`;
}

/** How to get the start form instead of typing inputs. */
function formHint(command: string, workflowKey: string): string {
  return `Try \`${safeText(command, 40)} start ${safeText(workflowKey, 100)}\` with no inputs to get a form.`;
}

/** Typed inputs that do not fit the workflow's input schema (`problems`: safe mrkdwn, one each). */
export function inputsDoNotFit(command: string, workflowKey: string, problems: readonly string[]): string {
  return `Those inputs don't fit ${code(workflowKey, 100)}:\n${problems.map((p) => `• ${p}`).join('\n')}\n${formHint(command, workflowKey)}`;
}

/**
 * An initial state that does not fit the workflow's state schema, or none given when it needs one
 * (`given`: whether one was typed; `problems`: safe mrkdwn, one each).
 */
export function initialStateDoesNotFit(
  command: string,
  workflowKey: string,
  given: boolean,
  problems: readonly string[],
): string {
  const what = given ? "'s initial state doesn't fit" : ' needs an initial state';
  const hint = formHint(command, workflowKey);
  return `${code(workflowKey, 100)}${what}:\n${problems.map((p) => `• ${p}`).join('\n')}\nGive it after the inputs as \`state={…}\` (JSON), or ${hint.charAt(0).toLowerCase()}${hint.slice(1)}`;
}

/** A start past the runs one person may have going at once (`live` of them now). */
export function tooManyLiveRuns(live: number, command: string): string {
  return `You have ${live} runs going that you started from Slack, as many as Flowgate allows one person at once. Start this one when some have finished, or cancel those you no longer need (\`${command} cancel <run id>\`).`;
}

/** `runs <workflow> <status>` with a status that is none of `statuses`. */
export function notARunStatus(status: string, statuses: readonly string[]): string {
  return `${code(status, 30)} is not a run status. Use one of: ${statuses.map((s) => code(s)).join(', ')}.`;
}

/** No workflow on the Mastra server knows this run. */
export function noSuchRun(runId: string): string {
  return `No run ${code(runId, 100)} on the Mastra server.`;
}

/** A cancel of a run that had already finished (`status`: as the server said, if it did). */
export function nothingToCancel(runId: string, status: string | undefined): string {
  return `Run ${code(runId, 100)} had already finished (${safeText(status ?? 'done', 20)}), so there was nothing to cancel.`;
}

/** Approve / Reject on a step whose form asks for more than a yes or no. */
export function needsMoreThanYesNo(question: { resumeLabel?: string }): string {
  return `This step needs more than a yes or no: use *${safeText(respondLabel(question), 75)}*.`;
}

/** Who answered a question first (`forEachIndex`: the `.foreach()` item), in the words of a refusal. */
export function alreadyAnswered(userId: string, at: Date, forEachIndex: number | undefined): string {
  const what = forEachIndex === undefined ? 'this step' : `item ${forEachIndex + 1} of this step`;
  return `${mentionUser(userId)} already answered ${what} ${slackDate(at)}.`;
}

/** A step answered outside Slack (Mastra's API, Studio) at `at`. */
export function answeredOutsideSlack(at: Date): string {
  return `That step was answered outside Slack (through Mastra's API or Studio) ${slackDate(at)}.`;
}

/**
 * A question that no longer waits: the run ended (`endedAs`, its status), or the step (or its
 * `.foreach()` item `forEachIndex`) is not waiting any more.
 */
export function noLongerWaiting(args: { endedAs?: string; forEachIndex?: number | undefined }): string {
  if (args.endedAs !== undefined)
    return `This run is ${safeText(args.endedAs, 20)}, so that step no longer takes answers.`;
  return args.forEachIndex === undefined
    ? 'That step is not waiting for an answer any more.'
    : `Item ${args.forEachIndex + 1} of that step is not waiting for an answer any more.`;
}
