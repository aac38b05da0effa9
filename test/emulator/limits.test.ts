import { describe, expect, test } from 'vitest';
import { ALICE, GENERAL, setup, slackError } from './helpers.ts';

type Block = { type: string } & Record<string, unknown>;

const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const section = (text: string): Block => ({ type: 'section', text: mrkdwn(text) });
const button = (over: Record<string, unknown> = {}) => ({
  type: 'button',
  text: plain('Go'),
  action_id: 'go',
  value: 'v',
  ...over,
});
const option = (text: string, value: string) => ({ text: plain(text), value });
const actions = (elements: unknown[]): Block => ({ type: 'actions', elements });
const confirm = (over: Record<string, unknown> = {}) => ({
  title: plain('Sure?'),
  text: mrkdwn('Really?'),
  confirm: plain('Yes'),
  deny: plain('No'),
  ...over,
});
const x = (n: number) => 'x'.repeat(n);

interface Case {
  name: string;
  ok: Block[];
  bad: Block[];
  pointer: string;
  message: string;
}

const MESSAGE_CASES: Case[] = [
  {
    name: '50 blocks per message',
    ok: Array.from({ length: 50 }, () => ({ type: 'divider' })),
    bad: Array.from({ length: 51 }, () => ({ type: 'divider' })),
    pointer: '/blocks',
    message: 'no more than 50 items allowed',
  },
  {
    name: 'section text 3000',
    ok: [section(x(3000))],
    bad: [section(x(3001))],
    pointer: '/blocks/0/text/text',
    message: 'must be less than 3001 characters',
  },
  {
    name: 'header text 150',
    ok: [{ type: 'header', text: plain(x(150)) }],
    bad: [{ type: 'header', text: plain(x(151)) }],
    pointer: '/blocks/0/text/text',
    message: 'must be less than 151 characters',
  },
  {
    name: 'section fields: 10',
    ok: [{ type: 'section', fields: Array.from({ length: 10 }, () => mrkdwn('f')) }],
    bad: [{ type: 'section', fields: Array.from({ length: 11 }, () => mrkdwn('f')) }],
    pointer: '/blocks/0/fields',
    message: 'no more than 10 items allowed',
  },
  {
    name: 'section field text 2000',
    ok: [{ type: 'section', fields: [mrkdwn(x(2000))] }],
    bad: [{ type: 'section', fields: [mrkdwn(x(2001))] }],
    pointer: '/blocks/0/fields/0/text',
    message: 'must be less than 2001 characters',
  },
  {
    name: 'context elements 10',
    ok: [{ type: 'context', elements: Array.from({ length: 10 }, () => mrkdwn('c')) }],
    bad: [{ type: 'context', elements: Array.from({ length: 11 }, () => mrkdwn('c')) }],
    pointer: '/blocks/0/elements',
    message: 'no more than 10 items allowed',
  },
  {
    name: 'actions elements 25',
    ok: [actions(Array.from({ length: 25 }, (_, i) => button({ action_id: `a${i}` })))],
    bad: [actions(Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })))],
    pointer: '/blocks/0/elements',
    message: 'no more than 25 items allowed',
  },
  {
    name: 'button text 75',
    ok: [actions([button({ text: plain(x(75)) })])],
    bad: [actions([button({ text: plain(x(76)) })])],
    pointer: '/blocks/0/elements/0/text/text',
    message: 'must be less than 76 characters',
  },
  {
    name: 'button value 2000',
    ok: [actions([button({ value: x(2000) })])],
    bad: [actions([button({ value: x(2001) })])],
    pointer: '/blocks/0/elements/0/value',
    message: 'must be less than 2001 characters',
  },
  {
    name: 'option text 75',
    ok: [actions([{ type: 'static_select', action_id: 's', options: [option(x(75), 'v')] }])],
    bad: [actions([{ type: 'static_select', action_id: 's', options: [option(x(76), 'v')] }])],
    pointer: '/blocks/0/elements/0/options/0/text/text',
    message: 'must be less than 76 characters',
  },
  {
    name: 'option value 75',
    ok: [actions([{ type: 'static_select', action_id: 's', options: [option('t', x(75))] }])],
    bad: [actions([{ type: 'static_select', action_id: 's', options: [option('t', x(76))] }])],
    pointer: '/blocks/0/elements/0/options/0/value',
    message: 'must be less than 76 characters',
  },
  {
    name: 'checkboxes options 10',
    ok: [
      actions([
        {
          type: 'checkboxes',
          action_id: 'c',
          options: Array.from({ length: 10 }, (_, i) => option(`o${i}`, `${i}`)),
        },
      ]),
    ],
    bad: [
      actions([
        {
          type: 'checkboxes',
          action_id: 'c',
          options: Array.from({ length: 11 }, (_, i) => option(`o${i}`, `${i}`)),
        },
      ]),
    ],
    pointer: '/blocks/0/elements/0/options',
    message: 'no more than 10 items allowed',
  },
  {
    name: 'block_id 255',
    ok: [{ ...section('s'), block_id: x(255) }],
    bad: [{ ...section('s'), block_id: x(256) }],
    pointer: '/blocks/0/block_id',
    message: 'must be less than 256 characters',
  },
  {
    name: 'action_id 255',
    ok: [actions([button({ action_id: x(255) })])],
    bad: [actions([button({ action_id: x(256) })])],
    pointer: '/blocks/0/elements/0/action_id',
    message: 'must be less than 256 characters',
  },
  {
    name: 'markdown block 12000',
    ok: [{ type: 'markdown', text: x(12_000) }],
    bad: [{ type: 'markdown', text: x(12_001) }],
    pointer: '/blocks/0/text',
    message: 'must be less than 12001 characters',
  },
  {
    name: 'block_id unique within the message',
    ok: [
      { ...section('a'), block_id: 'one' },
      { ...section('b'), block_id: 'two' },
    ],
    bad: [{ ...section('a'), block_id: 'same' }, { type: 'divider' }, { ...section('b'), block_id: 'same' }],
    pointer: '/blocks/2/block_id',
    message: 'must be unique',
  },
  {
    name: 'confirm dialog title 100',
    ok: [actions([button({ confirm: confirm({ title: plain(x(100)) }) })])],
    bad: [actions([button({ confirm: confirm({ title: plain(x(101)) }) })])],
    pointer: '/blocks/0/elements/0/confirm/title/text',
    message: 'must be less than 101 characters',
  },
  {
    name: 'confirm dialog text 300',
    ok: [actions([button({ confirm: confirm({ text: mrkdwn(x(300)) }) })])],
    bad: [actions([button({ confirm: confirm({ text: mrkdwn(x(301)) }) })])],
    pointer: '/blocks/0/elements/0/confirm/text/text',
    message: 'must be less than 301 characters',
  },
  {
    name: 'confirm dialog buttons 30',
    ok: [actions([button({ confirm: confirm({ confirm: plain(x(30)), deny: plain(x(30)) }) })])],
    bad: [actions([button({ confirm: confirm({ deny: plain(x(31)) }) })])],
    pointer: '/blocks/0/elements/0/confirm/deny/text',
    message: 'must be less than 31 characters',
  },
  {
    name: 'initial_option must be one of the options',
    ok: [
      actions([
        {
          type: 'static_select',
          action_id: 's',
          options: [option('A', 'a'), option('B', 'b')],
          initial_option: option('B', 'b'),
        },
      ]),
    ],
    bad: [
      actions([
        {
          type: 'static_select',
          action_id: 's',
          options: [option('A', 'a'), option('B', 'b')],
          initial_option: option('C', 'c'),
        },
      ]),
    ],
    pointer: '/blocks/0/elements/0/initial_option',
    message: 'must match one of the options',
  },
  {
    name: 'initial_option value 75',
    ok: [
      actions([
        {
          type: 'static_select',
          action_id: 's',
          options: [option('A', x(75))],
          initial_option: option('A', x(75)),
        },
      ]),
    ],
    bad: [
      actions([
        {
          type: 'static_select',
          action_id: 's',
          options: [option('A', 'a')],
          initial_option: option('A', x(76)),
        },
      ]),
    ],
    pointer: '/blocks/0/elements/0/initial_option/value',
    message: 'must be less than 76 characters',
  },
  {
    name: 'initial_options no more than the options',
    ok: [
      actions([
        {
          type: 'checkboxes',
          action_id: 'c',
          options: [option('A', 'a'), option('B', 'b')],
          initial_options: [option('A', 'a'), option('B', 'b')],
        },
      ]),
    ],
    bad: [
      actions([
        {
          type: 'checkboxes',
          action_id: 'c',
          options: [option('A', 'a')],
          initial_options: [option('A', 'a'), option('A', 'a')],
        },
      ]),
    ],
    pointer: '/blocks/0/elements/0/initial_options',
    message: 'no more than 1 items allowed',
  },
  {
    name: 'initial_options must be among the options',
    ok: [
      actions([
        {
          type: 'multi_static_select',
          action_id: 'm',
          options: [option('A', 'a'), option('B', 'b')],
          initial_options: [option('B', 'b')],
        },
      ]),
    ],
    bad: [
      actions([
        {
          type: 'multi_static_select',
          action_id: 'm',
          options: [option('A', 'a'), option('B', 'b')],
          initial_options: [option('B', 'a')],
        },
      ]),
    ],
    pointer: '/blocks/0/elements/0/initial_options/0',
    message: 'must match one of the options',
  },
  {
    name: 'max_selected_items at least 1',
    ok: [
      actions([
        { type: 'multi_static_select', action_id: 'm', options: [option('A', 'a')], max_selected_items: 1 },
      ]),
    ],
    bad: [
      actions([
        { type: 'multi_static_select', action_id: 'm', options: [option('A', 'a')], max_selected_items: 0 },
      ]),
    ],
    pointer: '/blocks/0/elements/0/max_selected_items',
    message: 'must be at least 1',
  },
  {
    name: 'known block types only',
    ok: [{ type: 'divider' }],
    bad: [{ type: 'hologram' }],
    pointer: '/blocks/0/type',
    message: 'unsupported type: hologram',
  },
  {
    name: 'input blocks only in modals',
    ok: [section('s')],
    bad: [{ type: 'input', label: plain('L'), element: { type: 'plain_text_input', action_id: 'i' } }],
    pointer: '/blocks/0/type',
    message: 'input blocks are only allowed in modals and home tabs',
  },
  {
    name: 'known element types only',
    ok: [actions([button()])],
    bad: [actions([{ type: 'laser', action_id: 'l' }])],
    pointer: '/blocks/0/elements/0/type',
    message: 'unsupported type: laser',
  },
  {
    name: 'text objects need a type',
    ok: [section('s')],
    bad: [{ type: 'section', text: { type: 'html', text: 's' } }],
    pointer: '/blocks/0/text/type',
    message: 'must be a valid enum value',
  },
];

describe('message block limits (chat.postMessage → invalid_blocks)', () => {
  test.each(MESSAGE_CASES)('$name', async ({ ok, bad, pointer, message }) => {
    const { client, emulator } = await setup({ rateLimits: false });
    const good = await client.chat.postMessage({ channel: GENERAL, text: 'fallback', blocks: ok });
    expect(good.ok).toBe(true);
    const err = await slackError(
      client.chat.postMessage({ channel: GENERAL, text: 'fallback', blocks: bad }),
    );
    const expected = `${message} [json-pointer:${pointer}]`;
    expect(err.error).toBe('invalid_blocks');
    expect(err.errors).toContain(expected);
    expect((err.response_metadata as { messages: string[] }).messages).toContain(`[ERROR] ${expected}`);
    expect(emulator.messages(GENERAL)).toHaveLength(1);
  });

  test('chat.update and chat.postEphemeral check blocks too', async () => {
    const { client } = await setup({ rateLimits: false });
    const posted = await client.chat.postMessage({ channel: GENERAL, text: 't' });
    const tooLong = [section(x(3001))];
    expect(
      (await slackError(client.chat.update({ channel: GENERAL, ts: posted.ts ?? '', blocks: tooLong })))
        .error,
    ).toBe('invalid_blocks');
    expect(
      (
        await slackError(
          client.chat.postEphemeral({ channel: GENERAL, user: ALICE, text: 't', blocks: tooLong }),
        )
      ).error,
    ).toBe('invalid_blocks');
  });

  test('all blocks together above ~12,000 chars → msg_blocks_too_long', async () => {
    const { client } = await setup({ rateLimits: false });
    const fine = Array.from({ length: 4 }, () => section(x(3000)));
    expect((await client.chat.postMessage({ channel: GENERAL, text: 't', blocks: fine })).ok).toBe(true);
    const tooMuch = [...fine, section('x')];
    expect(
      (await slackError(client.chat.postMessage({ channel: GENERAL, text: 't', blocks: tooMuch }))).error,
    ).toBe('msg_blocks_too_long');
  });

  test('blocks that are not a JSON array → invalid_blocks_format', async () => {
    const { emulator } = await setup({ rateLimits: false });
    const res = await fetch(`${emulator.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: emulator.botToken,
        channel: GENERAL,
        blocks: '[{"type":',
      }).toString(),
    });
    expect(await res.json()).toMatchObject({ ok: false, error: 'invalid_blocks_format' });
  });
});

describe('message text', () => {
  test('text above 40,000 chars is truncated', async () => {
    const { client, emulator } = await setup();
    const res = await client.chat.postMessage({ channel: GENERAL, text: x(40_010) });
    expect(res.message?.text).toHaveLength(40_000);
    expect(emulator.message(GENERAL, res.ts ?? '')?.text).toHaveLength(40_000);
  });

  test('text above the hard maximum → msg_too_long', async () => {
    const { client } = await setup({ limits: { textMax: 50_000 } });
    expect((await slackError(client.chat.postMessage({ channel: GENERAL, text: x(50_001) }))).error).toBe(
      'msg_too_long',
    );
  });
});

const textInput = (type: string, initial?: string) => ({
  type,
  action_id: 'i',
  ...(initial === undefined ? {} : { initial_value: initial }),
});
const input = (element: Record<string, unknown>) => ({ type: 'input', label: plain('L'), element });

describe('modal limits (views.open → invalid_arguments)', () => {
  const modal = (over: Record<string, unknown> = {}) => ({
    type: 'modal' as const,
    title: plain('Title'),
    blocks: [section('hello')],
    ...over,
  });

  const VIEW_CASES: Array<{
    name: string;
    ok: Record<string, unknown>;
    bad: Record<string, unknown>;
    issue: string;
  }> = [
    {
      name: 'title 24',
      ok: modal({ title: plain(x(24)) }),
      bad: modal({ title: plain(x(25)) }),
      issue: 'must be less than 25 characters [json-pointer:/view/title/text]',
    },
    {
      name: 'submit 24',
      ok: modal({ submit: plain(x(24)) }),
      bad: modal({ submit: plain(x(25)) }),
      issue: 'must be less than 25 characters [json-pointer:/view/submit/text]',
    },
    {
      name: 'close 24',
      ok: modal({ close: plain(x(24)) }),
      bad: modal({ close: plain(x(25)) }),
      issue: 'must be less than 25 characters [json-pointer:/view/close/text]',
    },
    {
      name: '100 blocks',
      ok: modal({ blocks: Array.from({ length: 100 }, () => ({ type: 'divider' })) }),
      bad: modal({ blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) }),
      issue: 'no more than 100 items allowed [json-pointer:/view/blocks]',
    },
    {
      name: 'private_metadata 3000',
      ok: modal({ private_metadata: x(3000) }),
      bad: modal({ private_metadata: x(3001) }),
      issue: 'must be less than 3001 characters [json-pointer:/view/private_metadata]',
    },
    {
      name: 'callback_id 255',
      ok: modal({ callback_id: x(255) }),
      bad: modal({ callback_id: x(256) }),
      issue: 'must be less than 256 characters [json-pointer:/view/callback_id]',
    },
    {
      name: 'block_id unique within the view',
      ok: modal({
        submit: plain('Save'),
        blocks: [
          { ...section('s'), block_id: 'a' },
          { type: 'input', block_id: 'b', label: plain('L'), element: textInput('plain_text_input') },
        ],
      }),
      bad: modal({
        submit: plain('Save'),
        blocks: [
          { ...section('s'), block_id: 'a' },
          { type: 'input', block_id: 'a', label: plain('L'), element: textInput('plain_text_input') },
        ],
      }),
      issue: 'must be unique [json-pointer:/view/blocks/1/block_id]',
    },
    ...(['plain_text_input', 'number_input', 'email_text_input', 'url_text_input'] as const).map((type) => ({
      name: `${type} initial_value 3000`,
      ok: modal({ submit: plain('Save'), blocks: [input(textInput(type, x(3000)))] }),
      bad: modal({ submit: plain('Save'), blocks: [input(textInput(type, x(3001)))] }),
      issue: 'must be less than 3001 characters [json-pointer:/view/blocks/0/element/initial_value]',
    })),
    {
      name: 'radio_buttons initial_option must be one of the options',
      ok: modal({
        submit: plain('Save'),
        blocks: [
          input({
            type: 'radio_buttons',
            action_id: 'r',
            options: [option('Yes', 'true'), option('No', 'false')],
            initial_option: option('No', 'false'),
          }),
        ],
      }),
      bad: modal({
        submit: plain('Save'),
        blocks: [
          input({
            type: 'radio_buttons',
            action_id: 'r',
            options: [option('Yes', 'true'), option('No', 'false')],
            initial_option: option('Maybe', 'false'),
          }),
        ],
      }),
      issue: 'must match one of the options [json-pointer:/view/blocks/0/element/initial_option]',
    },
    {
      name: 'input blocks need a submit button',
      ok: modal({
        submit: plain('Save'),
        blocks: [{ type: 'input', label: plain('L'), element: { type: 'plain_text_input', action_id: 'i' } }],
      }),
      bad: modal({
        blocks: [{ type: 'input', label: plain('L'), element: { type: 'plain_text_input', action_id: 'i' } }],
      }),
      issue: 'submit is required when an input block is within the blocks array [json-pointer:/view/submit]',
    },
    {
      name: 'input elements must be input types',
      ok: modal({
        submit: plain('Save'),
        blocks: [{ type: 'input', label: plain('L'), element: { type: 'plain_text_input', action_id: 'i' } }],
      }),
      bad: modal({
        submit: plain('Save'),
        blocks: [{ type: 'input', label: plain('L'), element: button() }],
      }),
      issue: 'unsupported type: button [json-pointer:/view/blocks/0/element/type]',
    },
  ];

  test.each(VIEW_CASES)('$name', async ({ ok, bad, issue }) => {
    const { client, emulator } = await setup();
    const opened = await client.views.open({ trigger_id: emulator.issueTriggerId(ALICE), view: ok as never });
    expect(opened.ok).toBe(true);
    const err = await slackError(
      client.views.open({ trigger_id: emulator.issueTriggerId(ALICE), view: bad as never }),
    );
    expect(err.error).toBe('invalid_arguments');
    expect((err.response_metadata as { messages: string[] }).messages).toContain(`[ERROR] ${issue}`);
  });

  test('a view above 250 kB → view_too_large', async () => {
    const { client, emulator } = await setup();
    const huge = modal({ blocks: Array.from({ length: 90 }, () => section(x(3000))) });
    const err = await slackError(
      client.views.open({ trigger_id: emulator.issueTriggerId(ALICE), view: huge as never }),
    );
    expect(err.error).toBe('view_too_large');
  });
});
