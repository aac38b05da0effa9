/**
 * The `view.state.values` Slack sends on submission when no input was touched: each element's
 * initial value in the element's state shape. Used by tests and the Slack emulator.
 */

import type { ViewStateSelectedOption, ViewStateValue } from '@slack/bolt';
import type * as slack from '@slack/types';
import type { Form } from './build.ts';
import type { ViewStateValues } from './submission.ts';

type Option = slack.Option | slack.PlainTextOption;

function selected(option: Option): ViewStateSelectedOption {
  const text =
    option.text.type === 'plain_text' ? option.text : { type: 'plain_text' as const, text: option.text.text };
  return { text: { ...text }, value: option.value ?? '' };
}

/** The state of one input element as Slack reports it when the user left it as it loaded. */
export function elementState(element: slack.InputBlockElement): ViewStateValue {
  switch (element.type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
      return { type: element.type, value: element.initial_value ?? null };
    case 'static_select':
    case 'radio_buttons':
      return {
        type: element.type,
        selected_option: element.initial_option ? selected(element.initial_option) : null,
      };
    case 'multi_static_select':
    case 'checkboxes':
      return { type: element.type, selected_options: (element.initial_options ?? []).map(selected) };
    case 'datepicker':
      return { type: element.type, selected_date: element.initial_date ?? null };
    case 'timepicker':
      return { type: element.type, selected_time: element.initial_time ?? null };
    case 'datetimepicker':
      return { type: element.type, selected_date_time: element.initial_date_time ?? null };
    default:
      return { type: element.type };
  }
}

/** `view.state.values` for a built form whose inputs were left untouched. */
export function stateFromInitial(form: Pick<Form, 'blocks'>): ViewStateValues {
  const values: ViewStateValues = {};
  for (const block of form.blocks) {
    const id = block.block_id;
    const actionId = block.element.action_id;
    if (id === undefined || actionId === undefined) continue;
    values[id] = { [actionId]: elementState(block.element) };
  }
  return values;
}
