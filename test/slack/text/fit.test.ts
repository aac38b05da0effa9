import type { KnownBlock, ModalView } from '@slack/types';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_LIMITS,
  formatIssue,
  validateMessageBlocks,
  validateView,
} from '../../../src/emulator/index.ts';
import { SLACK_LIMITS } from '../../../src/slack/limits.ts';
import { cutMrkdwn, fitId, fitLines, fitMessage, fitView, textLength } from '../../../src/slack/text/fit.ts';
import { code, safeName, safeText } from '../../../src/slack/text/mrkdwn.ts';

const section = (text: string, blockId?: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
  ...(blockId === undefined ? {} : { block_id: blockId }),
});
const button = (value: string, actionId = 'go') => ({
  type: 'button' as const,
  action_id: actionId,
  text: { type: 'plain_text' as const, text: 'Go' },
  value,
});

describe('cutting mrkdwn', () => {
  test('never splits a surrogate pair, an entity or a <…> mention, and closes code it cuts', () => {
    expect(cutMrkdwn(`${'a'.repeat(9)}😀😀`, 11)).toBe(`${'a'.repeat(9)}…`);
    expect(cutMrkdwn('abcdefg &amp; more text here', 12)).toBe('abcdefg …');
    expect(cutMrkdwn('hi <@U12345678> there', 12)).toBe('hi …');
    expect(cutMrkdwn('```const a = 1;\nconst b = 2;```', 20)).toBe('```const a = 1;\n…```');
    expect(cutMrkdwn('see `some long code` here', 14)).toBe('see `some lo…`');
    expect(cutMrkdwn('short', 5)).toBe('short');
  });

  test('any text, any limit: within the limit, well-formed, fences paired, entities whole', () => {
    const piece = fc.constantFrom('&amp;', '&lt;', '```', '`', '😀', '<@U1>', 'x', ' ', '\n', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 200 }), fc.integer({ min: 0, max: 400 }), (pieces, max) => {
        const text = pieces.join('');
        const cut = cutMrkdwn(text, max);
        expect(cut.length).toBeLessThanOrEqual(Math.max(max, 0));
        expect(cut.isWellFormed()).toBe(true);
        if (text.length <= max) expect(cut).toBe(text);
        if (max >= 8 && (text.split('```').length - 1) % 2 === 0)
          expect((cut.split('```').length - 1) % 2).toBe(0);
        expect(cut.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
      }),
      { numRuns: 300 },
    );
  });

  test('long names lose their middle, so names that differ at the end stay apart', () => {
    const prefix = 'p'.repeat(241);
    const a = safeName(`${prefix}-a`, 40);
    expect(a).toBe(`${'p'.repeat(20)}…${'p'.repeat(17)}-a`);
    expect(safeName(`${prefix}-b`, 40)).not.toBe(a);
    expect(safeName('short & sweet', 40)).toBe('short &amp; sweet');
    expect(safeName(`${'&'.repeat(30)}end`, 40)).toMatch(/^(&amp;)+…(&amp;)+end$/);
    expect(safeName(`${'😀'.repeat(30)}`, 21).isWellFormed()).toBe(true);
    expect(code(`${prefix}-a`, 40)).toBe(`\`${a}\``);
  });

  test('text from outside never leaves a code fence open, cut or not', () => {
    expect(safeText('run ``` this', 100)).toBe('run ``` this```');
    expect(safeText('a ```b``` c', 100)).toBe('a ```b``` c');
  });

  test('lines: as many whole lines as fit, then how many were left out', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`);
    expect(fitLines(lines, 1000, () => 'more')).toBe(lines.join('\n'));
    expect(fitLines(lines, 30, (n) => `…${n} more`)).toBe('line 0\nline 1\nline 2\n…7 more');
    expect(fitLines(['x'.repeat(50)], 10, () => '')).toBe(`${'x'.repeat(9)}…`);
    expect(fitLines(['x'.repeat(100), 'y'], 40, (n) => `…${n} more`)).toBe(`${'x'.repeat(31)}…\n…1 more`);
  });
});

describe('ids', () => {
  test('an id that fits is kept; a long one is cut and told apart by a hash', () => {
    expect(fitId('flowgate_step:a')).toBe('flowgate_step:a');
    const a = fitId(`flowgate_step:${'p'.repeat(241)}a`);
    const b = fitId(`flowgate_step:${'p'.repeat(241)}b`);
    expect(a.length).toBeLessThanOrEqual(255);
    expect(a).not.toBe(b);
    expect(fitId(`${'😀'.repeat(200)}`).isWellFormed()).toBe(true);
  });

  test('repeated and over-long block ids become unique and ≤ 255, in order, stably', () => {
    const long = `flowgate_step:${'p'.repeat(241)}`;
    const blocks = [
      section('a', 'same'),
      section('b', 'same'),
      section('c', `${long}a`),
      section('d', `${long}b`),
    ];
    const once = fitMessage({ text: 't', blocks });
    const ids = once.blocks!.map((b) => b.block_id!);
    expect(ids[0]).toBe('same');
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(255);
    expect(validateMessageBlocks(once.blocks, DEFAULT_LIMITS)).toEqual([]);
    expect(fitMessage(once)).toEqual(once);
  });
});

describe('fitMessage', () => {
  test('what fits is left exactly as it is', () => {
    const message = { text: 'hello', blocks: [section('*hi*', 'a'), { type: 'divider' } as KnownBlock] };
    expect(fitMessage(message)).toEqual(message);
  });

  test('per-block limits: header, section, fields, context, actions, button text', () => {
    const message = fitMessage({
      text: 'x'.repeat(50_000),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(200) } },
        { type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(4000) } },
        {
          type: 'section',
          fields: Array.from({ length: 12 }, () => ({ type: 'mrkdwn' as const, text: 'f'.repeat(2500) })),
        },
        {
          type: 'context',
          elements: Array.from({ length: 12 }, () => ({ type: 'mrkdwn' as const, text: 'c' })),
        },
        {
          type: 'actions',
          elements: Array.from({ length: 30 }, (_, i) => ({
            ...button('v', `a${i}`),
            text: { type: 'plain_text' as const, text: 't'.repeat(100) },
          })),
        },
      ],
    });
    expect(message.text).toHaveLength(SLACK_LIMITS.messageText);
    expect(validateMessageBlocks(message.blocks, DEFAULT_LIMITS).map(formatIssue)).toEqual([]);
    expect(textLength(message.blocks)).toBeLessThanOrEqual(SLACK_LIMITS.messageTextBudget);
  });

  test('a button whose value Slack cannot carry is left out; an empty actions block goes', () => {
    const message = fitMessage({
      text: 't',
      blocks: [
        section('a'),
        { type: 'actions', elements: [button('x'.repeat(2001))] },
        { type: 'actions', elements: [button('x'.repeat(2001), 'one'), button('ok', 'two')] },
      ],
    });
    expect(message.blocks).toEqual([section('a'), { type: 'actions', elements: [button('ok', 'two')] }]);
  });

  test('too big: expendable blocks go first, then long texts shrink, then trailing blocks — kept ones stay', () => {
    const header: KnownBlock = { type: 'header', text: { type: 'plain_text', text: 'Title' } };
    const cancel: KnownBlock = { type: 'actions', block_id: 'keep', elements: [button('c')] };
    const extra = (i: number): KnownBlock => ({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `extra ${i} ${'e'.repeat(1000)}` }],
    });
    const blocks = [header, section('s'.repeat(3000)), extra(1), extra(2), section('t'.repeat(3000)), cancel];
    const isExtra = (b: KnownBlock) => b.type === 'context';
    const keep = (b: KnownBlock) => b === header || b.block_id === 'keep';

    const roomy = fitMessage({ text: 't', blocks }, { drop: [isExtra], budget: 7500 });
    expect(roomy.blocks?.filter(isExtra)).toHaveLength(1); // one extra was enough
    expect(textLength(roomy.blocks)).toBeLessThanOrEqual(7500);

    const tight = fitMessage({ text: 't', blocks }, { drop: [isExtra], keep, budget: 1000 });
    expect(tight.blocks?.filter(isExtra)).toHaveLength(0);
    expect(tight.blocks?.[0]).toEqual(header);
    expect(tight.blocks?.at(-1)).toMatchObject({ block_id: 'keep' });
    expect(textLength(tight.blocks)).toBeLessThanOrEqual(1000);

    const many = fitMessage({ text: 't', blocks: Array.from({ length: 80 }, (_, i) => section(`${i}`)) });
    expect(many.blocks).toHaveLength(50);
    expect(many.blocks?.[49]).toEqual(section('49'));
  });
});

describe('fitView', () => {
  const modal = (over: Partial<ModalView> = {}): ModalView => ({
    type: 'modal',
    title: { type: 'plain_text', text: 'A title far longer than twenty-four' },
    submit: { type: 'plain_text', text: 'Submit this form right now' },
    blocks: [section('intro')],
    ...over,
  });

  test('titles cut; over-long initial values and options left out; initial options kept in step', () => {
    const view = fitView(
      modal({
        blocks: [
          {
            type: 'input',
            block_id: 'f:a',
            label: { type: 'plain_text', text: 'l'.repeat(2500) },
            element: { type: 'plain_text_input', action_id: 'value', initial_value: 'v'.repeat(3001) },
          },
          {
            type: 'input',
            block_id: 'f:b',
            label: { type: 'plain_text', text: 'B' },
            element: {
              type: 'radio_buttons',
              action_id: 'value',
              options: [
                { text: { type: 'plain_text', text: 'o'.repeat(100) }, value: 'a' },
                { text: { type: 'plain_text', text: 'long value' }, value: 'x'.repeat(76) },
              ],
              initial_option: { text: { type: 'plain_text', text: 'o'.repeat(100) }, value: 'a' },
            },
          },
        ],
      }),
    );
    expect(validateView(view, DEFAULT_LIMITS).map(formatIssue)).toEqual([]);
    expect(view.title.text).toHaveLength(24);
    const [a, b] = view.blocks as unknown as { element: Record<string, unknown> }[];
    expect(a?.element).not.toHaveProperty('initial_value');
    expect(b?.element.options).toHaveLength(1);
    expect(b?.element.initial_option).toEqual((b?.element.options as unknown[] | undefined)?.[0]);
  });

  test('a view too large loses presentational text first, never an input block', () => {
    const inputs = Array.from({ length: 95 }, (_, i) => ({
      type: 'input' as const,
      block_id: `f:${i}`,
      label: { type: 'plain_text' as const, text: '語'.repeat(2000) },
      hint: { type: 'plain_text' as const, text: '語'.repeat(2000) },
      element: { type: 'plain_text_input' as const, action_id: 'value', initial_value: 'v'.repeat(3000) },
    }));
    const view = fitView(modal({ blocks: [section('intro'), ...inputs] }));
    expect(validateView(view, DEFAULT_LIMITS)).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(view))).toBeLessThanOrEqual(SLACK_LIMITS.viewBytes);
    expect(view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id)).toEqual(
      inputs.map((b) => b.block_id),
    );
  });

  test('private_metadata Slack cannot carry: a notice saying so instead of a refused view', () => {
    const view = fitView(modal({ private_metadata: 'm'.repeat(3001) }));
    expect(view.title.text).toBe('Cannot open');
    expect(JSON.stringify(view.blocks)).toContain('3001 characters');
    expect(validateView(view, DEFAULT_LIMITS)).toEqual([]);
  });
});
