import { describe, expect, test } from 'vitest';
import { buildForm, elementState, stateFromInitial } from '../../src/forms/index.ts';

const plainText = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const opt = (text: string, value: string) => ({ text: plainText(text), value });

describe('stateFromInitial: what Slack sends back for untouched inputs', () => {
  test('every element type, with and without an initial value', () => {
    const schema = {
      type: 'object',
      properties: {
        s: { type: 'string' },
        e: { type: 'string', format: 'email' },
        u: { type: 'string', format: 'uri' },
        n: { type: 'number' },
        b: { type: 'boolean' },
        sel: { type: 'string', enum: ['a', 'b', 'c', 'd', 'e', 'f'] },
        multi: {
          type: 'array',
          items: { type: 'string', enum: Array.from({ length: 11 }, (_, i) => `m${i}`) },
        },
        box: { type: 'array', items: { type: 'string', enum: ['x', 'y'] } },
        d: { type: 'string', format: 'date' },
        t: { type: 'string', format: 'time' },
        dt: { type: 'string', format: 'date-time' },
      },
    };
    const filled = stateFromInitial(
      buildForm(schema, {
        initial: {
          s: 'text',
          e: 'a@b.co',
          u: 'https://x.dev',
          n: 2.5,
          b: true,
          sel: 'f',
          multi: ['m10'],
          box: ['y', 'x'],
          d: '2024-05-01',
          t: '09:30:00Z',
          dt: '2024-05-01T09:30:00Z',
        },
      }),
    );
    expect(filled).toEqual({
      'f:s': { value: { type: 'plain_text_input', value: 'text' } },
      'f:e': { value: { type: 'email_text_input', value: 'a@b.co' } },
      'f:u': { value: { type: 'url_text_input', value: 'https://x.dev' } },
      'f:n': { value: { type: 'number_input', value: '2.5' } },
      'f:b': { value: { type: 'radio_buttons', selected_option: opt('Yes', 'true') } },
      'f:sel': { value: { type: 'static_select', selected_option: opt('f', 'f') } },
      'f:multi': { value: { type: 'multi_static_select', selected_options: [opt('m10', 'm10')] } },
      'f:box': { value: { type: 'checkboxes', selected_options: [opt('x', 'x'), opt('y', 'y')] } },
      'f:d': { value: { type: 'datepicker', selected_date: '2024-05-01' } },
      'f:t': { value: { type: 'timepicker', selected_time: '09:30' } },
      'f:dt': { value: { type: 'datetimepicker', selected_date_time: 1714555800 } },
    });
    const empty = stateFromInitial(buildForm(schema));
    expect(empty).toEqual({
      'f:s': { value: { type: 'plain_text_input', value: null } },
      'f:e': { value: { type: 'email_text_input', value: null } },
      'f:u': { value: { type: 'url_text_input', value: null } },
      'f:n': { value: { type: 'number_input', value: null } },
      'f:b': { value: { type: 'radio_buttons', selected_option: null } },
      'f:sel': { value: { type: 'static_select', selected_option: null } },
      'f:multi': { value: { type: 'multi_static_select', selected_options: [] } },
      'f:box': { value: { type: 'checkboxes', selected_options: [] } },
      'f:d': { value: { type: 'datepicker', selected_date: null } },
      'f:t': { value: { type: 'timepicker', selected_time: null } },
      'f:dt': { value: { type: 'datetimepicker', selected_date_time: null } },
    });
  });

  test('elementState copies the option objects (mutating the state leaves the form alone)', () => {
    const form = buildForm({ type: 'object', properties: { b: { type: 'boolean', default: false } } });
    const state = elementState(form.blocks[0]!.element);
    state.selected_option!.text.text = 'changed';
    expect(stateFromInitial(form)['f:b']?.value?.selected_option).toEqual(opt('No', 'false'));
  });
});
