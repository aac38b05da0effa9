import { expect, test } from 'vitest';
import {
  alreadyAnswered,
  answeredOutsideSlack,
  initialStateDoesNotFit,
  inputsDoNotFit,
  needsMoreThanYesNo,
  noLongerWaiting,
  noSuchWorkflow,
  notARunStatus,
  nothingToCancel,
  tooManyLiveRuns,
  tooManyLookups,
  workflowGone,
} from '../../../src/slack/render/refusals.ts';

const at = new Date('2026-12-07T10:00:00Z');
const date = '<!date^1796637600^{date_short_pretty} {time}|2026-12-07 10:00 UTC>';

test('an unknown workflow: the ones there are, and the likely one', () => {
  expect(noSuchWorkflow('deplyo', ['deploy', 'release'], 'deploy')).toBe(
    'No workflow `deplyo` — did you mean `deploy`?\nWorkflows: `deploy`, `release`',
  );
  expect(noSuchWorkflow('x', [])).toBe('No workflow `x`\nWorkflows: none');
  expect(workflowGone('/flowgate')).toBe(
    'That workflow is not on the Mastra server any more. Try `/flowgate list` again.',
  );
});

test('inputs and initial states that do not fit say how to get the form', () => {
  expect(inputsDoNotFit('/flowgate', 'deploy', ['`amount`: expected a number'])).toBe(
    "Those inputs don't fit `deploy`:\n• `amount`: expected a number\nTry `/flowgate start deploy` with no inputs to get a form.",
  );
  expect(initialStateDoesNotFit('/flowgate', 'triage', false, ['`oncall`: required'])).toBe(
    '`triage` needs an initial state:\n• `oncall`: required\nGive it after the inputs as `state={…}` (JSON), or try `/flowgate start triage` with no inputs to get a form.',
  );
  expect(initialStateDoesNotFit('/flowgate', 'triage', true, ['`oncall`: required'])).toContain(
    "`triage`'s initial state doesn't fit:",
  );
});

test('limits: lookups and live runs', () => {
  expect(tooManyLookups(4_200)).toBe('You have looked up runs often in the last minute. Try again in 5 s.');
  expect(tooManyLiveRuns(3, '/flowgate')).toBe(
    'You have 3 runs going that you started from Slack, as many as Flowgate allows one person at once. Start this one when some have finished, or cancel those you no longer need (`/flowgate cancel <run id>`).',
  );
});

test('runs: a status that is none, a run already finished', () => {
  expect(notARunStatus('done', ['running', 'success'])).toBe(
    '`done` is not a run status. Use one of: `running`, `success`.',
  );
  expect(nothingToCancel('run-1', 'success')).toBe(
    'Run `run-1` had already finished (success), so there was nothing to cancel.',
  );
  expect(nothingToCancel('run-1', undefined)).toContain('(done)');
});

test('answers that can no longer be taken', () => {
  expect(needsMoreThanYesNo({})).toBe('This step needs more than a yes or no: use *Respond…*.');
  expect(needsMoreThanYesNo({ resumeLabel: 'Review <!here>' })).toBe(
    'This step needs more than a yes or no: use *Review &lt;!here&gt;*.',
  );
  expect(alreadyAnswered('U0AVERY', at, undefined)).toBe(`<@U0AVERY> already answered this step ${date}.`);
  expect(alreadyAnswered('U0AVERY', at, 1)).toBe(`<@U0AVERY> already answered item 2 of this step ${date}.`);
  expect(answeredOutsideSlack(at)).toBe(
    `That step was answered outside Slack (through Mastra's API or Studio) ${date}.`,
  );
  expect(noLongerWaiting({ endedAs: 'canceled' })).toBe(
    'This run is canceled, so that step no longer takes answers.',
  );
  expect(noLongerWaiting({})).toBe('That step is not waiting for an answer any more.');
  expect(noLongerWaiting({ forEachIndex: 0 })).toBe(
    'Item 1 of that step is not waiting for an answer any more.',
  );
});
