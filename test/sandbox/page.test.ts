/**
 * The sandbox page's pure parts, in Node: mrkdwn and Block Kit → nodes, a view → form nodes, and
 * the inputs' values → Slack's view.state.values. Flowgate's own renderers supply real payloads.
 */
import { describe, expect, test } from 'vitest';
import { buildForm, readSubmission, stateFromInitial } from '../../src/forms/index.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';
import { renderBlocks, renderMessageBody } from '../../src/sandbox/page/blocks.js';
import { type h, safeHref, textOf, walk } from '../../src/sandbox/page/dom.js';
import {
  initialRaw,
  inputBlocks,
  localDateTime,
  renderView,
  stateEntry,
  viewState,
} from '../../src/sandbox/page/modal.js';
import { formatSlackDate, renderMrkdwn } from '../../src/sandbox/page/mrkdwn.js';
import { renderWorkflowList } from '../../src/slack/render/commands.ts';
import { codeBlock, safeText, slackDate } from '../../src/slack/text/mrkdwn.ts';

type Node = ReturnType<typeof h>;

/** The tree as `tag(children)` text, strings quoted, e.g. `b("bold") " x"`. */
function shape(nodes: (Node | string)[]): string {
  return nodes
    .map((n) => (typeof n === 'string' ? JSON.stringify(n) : `${n.tag}(${shape(n.children)})`))
    .join(' ');
}

function all(nodes: unknown): Node[] {
  const out: Node[] = [];
  walk(nodes as Node[], (n: Node) => out.push(n));
  return out;
}

const users = new Map([['U1', { id: 'U1', realName: 'Ada Admin' }]]);
const channels = new Map([['C1', { id: 'C1', name: 'general' }]]);
const groups = new Map([['S1', { id: 'S1', handle: 'approvers' }]]);
const ctx = { users, channels, groups, me: 'U1', timeZone: 'UTC', locale: 'en-US' };

describe('mrkdwn', () => {
  test('bold, italic, strike, nested, only at word edges', () => {
    expect(shape(renderMrkdwn('*bold* and _it_ ~gone~ *a _b_ c*'))).toBe(
      'b("bold") " and " i("it") " " s("gone") " " b("a " i("b") " c")',
    );
    expect(shape(renderMrkdwn('2*3*4 snake_case_name * not * x'))).toBe('"2*3*4 snake_case_name * not * x"');
  });

  test('code spans and blocks keep their text as it is', () => {
    expect(shape(renderMrkdwn('run `*x* &lt;y&gt;` now'))).toBe('"run " code("*x* <y>") " now"');
    expect(shape(renderMrkdwn('```\n{"a": "<b>"}\n```'))).toBe('pre("{\\"a\\": \\"<b>\\"}")');
    // Flowgate's own code block of hostile text.
    expect(textOf(renderMrkdwn(codeBlock('<script>alert(1)</script>')))).toBe('<script>alert(1)</script>');
  });

  test('escaped entities are shown as the characters, once; markup stays text', () => {
    const hostile = '<img src=x onerror=alert(1)> &amp; <!channel> &lt;@U1&gt;';
    const nodes = renderMrkdwn(safeText(hostile, 500), ctx);
    expect(nodes).toEqual([hostile]);
    expect(textOf(renderMrkdwn('&amp;lt;'))).toBe('&lt;');
  });

  test('mentions of users, channels, groups and @here; links; quotes; emoji', () => {
    const nodes = renderMrkdwn(
      '<@U1> <@U9|bob> <#C1> <!subteam^S1> <!here> <https://example.com/a?b=1|the docs> <https://x.test> :white_check_mark: :nope:\n> quoted',
      ctx,
    );
    expect(textOf(nodes)).toBe(
      '@Ada Admin @bob #general @approvers @here the docs https://x.test ✅ :nope:quoted', // the quote is a block
    );
    const links = all(nodes).filter((n) => n.tag === 'a');
    expect(links.map((a) => a.attrs.href)).toEqual(['https://example.com/a?b=1', 'https://x.test/']);
    expect(links[0]?.attrs.rel).toBe('noopener noreferrer');
    expect(all(nodes).find((n) => n.attrs['data-user'] === 'U1')?.attrs.class).toBe('mention mention-me');
    expect(all(nodes).some((n) => n.tag === 'blockquote')).toBe(true);
  });

  test('links to anything but http(s) and mailto stay text', () => {
    const nodes = renderMrkdwn('<javascript:alert(1)|click> <data:text/html,x>');
    expect(all(nodes).some((n) => n.tag === 'a')).toBe(false);
    expect(textOf(nodes)).toBe('<javascript:alert(1)|click> <data:text/html,x>');
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('mailto:a@b.c')).toBe('mailto:a@b.c');
  });

  test('<!date^…> in the reader’s zone, with Slack’s tokens and the fallback on bad input', () => {
    const at = Date.UTC(2026, 1, 18, 6, 39, 42) / 1000;
    const now = Date.UTC(2026, 1, 18, 12, 0, 0);
    const fmt = (f: string, zone = 'UTC') => formatSlackDate(at, f, { now, timeZone: zone, locale: 'en-US' });
    expect(fmt('{date_num} {date} | {date_short} | {date_long}')).toBe(
      '2026-02-18 February 18th, 2026 | Feb 18, 2026 | Wednesday, February 18th, 2026',
    );
    expect(fmt('{date_short_pretty} {time} / {time_secs}')).toBe('Today 6:39 AM / 6:39:42 AM');
    expect(fmt('{date_pretty}', 'Pacific/Honolulu')).toBe('Yesterday'); // Feb 17 there, Feb 18 now
    expect(fmt('{ago}')).toBe('5 hours ago');
    // Flowgate's own dates, as a node with the fallback as its title.
    const nodes = renderMrkdwn(`started ${slackDate(new Date(at * 1000))}`, { ...ctx, now });
    expect(textOf(nodes)).toBe('started Today 6:39 AM');
    expect(all(nodes).find((n) => n.tag === 'time')?.attrs.title).toBe('2026-02-18 06:39 UTC');
    expect(textOf(renderMrkdwn('<!date^nope^{date}|Feb 18>'))).toBe('Feb 18');
  });

  test('private-use characters in the text cannot pose as placeholders', () => {
    expect(textOf(renderMrkdwn('a\uE0000\uE001b <@U1>', ctx))).toBe('a\uFFFD0\uFFFDb @Ada Admin');
  });
});

describe('Block Kit', () => {
  test("Flowgate's workflow list: sections with Start buttons that act on their block", () => {
    const acted: unknown[] = [];
    const reply = renderWorkflowList([{ key: 'expenseApproval', id: 'expense-approval', stepCount: 3 }]);
    const nodes = renderBlocks(reply.blocks ?? [], {
      act: (el: unknown, block: unknown) => acted.push([el, block]),
    });
    const button = all(nodes).find((n) => n.tag === 'button');
    expect(textOf(button!)).toBe('Start');
    button!.on.click?.({} as Event);
    expect(acted).toHaveLength(1);
    expect((acted[0] as [{ action_id: string }])[0].action_id).toBe('flowgate_start');
    expect(textOf(nodes)).toContain('expense-approval expenseApproval · 3 steps');
  });

  test('header, fields, context, divider, button styles, image alt text, unknown blocks', () => {
    const nodes = renderBlocks([
      { type: 'header', text: { type: 'plain_text', text: 'Run :rocket:' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*A*\n1' },
          { type: 'plain_text', text: '*B*' },
        ],
      },
      { type: 'context', elements: [{ type: 'image', image_url: 'https://x/y.png', alt_text: 'logo' }] },
      { type: 'divider' },
      {
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: 'Go' }, style: 'primary', action_id: 'a' },
          { type: 'button', text: { type: 'plain_text', text: 'Stop' }, style: 'danger', action_id: 'b' },
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Odd' },
            style: '" onclick="x',
            action_id: 'c',
          },
        ],
      },
      { type: 'video' },
    ]);
    expect(shape(nodes.slice(0, 1))).toBe('h3("Run 🚀")');
    expect(textOf(nodes[1]!)).toBe('A\n1*B*');
    const tags = all(nodes).map((n) => n.tag);
    expect(tags).toContain('hr');
    expect(tags).not.toContain('img');
    expect(all(nodes).find((n) => n.attrs.role === 'img')?.attrs['aria-label']).toBe('logo');
    const classes = all(nodes)
      .filter((n) => n.tag === 'button')
      .map((n) => n.attrs.class);
    expect(classes).toEqual(['bk-button bk-button-primary', 'bk-button bk-button-danger', 'bk-button']);
    expect(textOf(nodes.at(-1)!)).toBe('[video block]');
  });

  test('a message without blocks shows its text as mrkdwn', () => {
    expect(textOf(renderMessageBody({ text: '*hi* &lt;there&gt;' }))).toBe('hi <there>');
  });
});

describe('modals', () => {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      approved: { type: 'boolean', default: true },
      level: { type: 'string', enum: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], default: 'c' },
      tags: { type: 'array', items: { type: 'string', enum: ['x', 'y', 'z'] }, default: ['y'] },
      many: {
        type: 'array',
        items: { type: 'string', enum: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'] },
        default: ['3'],
      },
      count: { type: 'integer', minimum: 0, maximum: 9, default: 4 },
      due: { type: 'string', format: 'date', default: '2026-12-01' },
      at: { type: 'string', format: 'time', default: '09:30' },
      when: { type: 'string', format: 'date-time', default: '2026-12-01T10:00:00Z' },
      mail: { type: 'string', format: 'email', default: 'a@b.test' },
      link: { type: 'string', format: 'uri', default: 'https://x.test/' },
      comment: { type: 'string', default: 'fine' },
      note: { type: 'string' },
    },
    required: ['approved', 'level', 'tags', 'many', 'count', 'due', 'at', 'when', 'mail', 'link', 'comment'],
  };
  const form = buildForm(schema);
  const view = {
    id: 'V1',
    title: { type: 'plain_text', text: 'Respond' },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: form.blocks,
  };

  test('untouched, the page submits exactly what Slack would for the pre-filled form', () => {
    const values = viewState(view, (block: { element: unknown }) => initialRaw(block.element));
    expect(values).toEqual(stateFromInitial(form));
    const read = readSubmission(schema, values as never);
    expect(read.ok).toBe(true);
  });

  test('every element the form engine makes becomes a labelled control; errors sit on their field', () => {
    const types = inputBlocks(view).map(
      ({ block }: { block: { element: { type: string } } }) => block.element.type,
    );
    expect(new Set(types)).toEqual(
      new Set([
        'radio_buttons',
        'static_select',
        'checkboxes',
        'multi_static_select',
        'number_input',
        'datepicker',
        'timepicker',
        'datetimepicker',
        'email_text_input',
        'url_text_input',
        'plain_text_input',
      ]),
    );
    const blockId = String(form.blocks.find((b) => b.element.type === 'number_input')?.block_id);
    const tree = renderView(view, { errors: { [blockId]: 'Must be at most 9' } });
    const nodes = all(tree);
    const controls = nodes.filter((n) => n.attrs['data-input'] !== undefined);
    expect(controls).toHaveLength(form.blocks.length);
    for (const control of controls) {
      const id = String(control.attrs.id);
      const named =
        nodes.some((n) => n.tag === 'label' && n.attrs.for === id) ||
        control.attrs['aria-labelledby'] === `${id}-label`;
      expect(named).toBe(true);
    }
    const invalid = controls.filter((n) => n.attrs['aria-invalid'] === 'true');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.attrs.type).toBe('number');
    expect(String(invalid[0]?.attrs['aria-describedby'])).toContain('-error');
    expect(textOf(tree)).toContain('⚠ Must be at most 9');
    expect(nodes.find((n) => n.tag === 'h2')?.attrs.id).toBe('modal-title');
    expect(nodes.filter((n) => n.tag === 'button').map(textOf)).toEqual(['✕', 'Cancel', 'Submit']);
    expect(textOf(tree)).toContain('(optional)');
  });

  test('a block id like __proto__ is just a key of the submitted state', () => {
    const hostile = {
      id: 'V2',
      blocks: [
        {
          type: 'input',
          block_id: '__proto__',
          element: { type: 'plain_text_input', action_id: 'polluted' },
        },
      ],
    };
    const values = viewState(hostile, () => 'yes');
    expect(Object.keys(values)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(values))).toEqual(
      JSON.parse('{"__proto__":{"polluted":{"type":"plain_text_input","value":"yes"}}}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('typed values survive a re-render; state entries have Slack’s shapes', () => {
    const [first] = inputBlocks(view) as { block: { block_id: string; element: { action_id: string } } }[];
    const key = `${first!.block.block_id}\u0000${first!.block.element.action_id}`;
    const tree = renderView(view, { values: new Map([[key, 'false']]) });
    const radios = all(tree).filter((n) => n.attrs.type === 'radio');
    expect(radios.filter((n) => n.attrs.checked).map((n) => n.attrs.value)).toEqual(['false']);
    const select = {
      type: 'static_select',
      options: [{ text: { type: 'plain_text', text: 'A' }, value: 'a' }],
    };
    expect(stateEntry(select, 'a')).toEqual({ type: 'static_select', selected_option: select.options[0] });
    expect(stateEntry(select, null)).toEqual({ type: 'static_select', selected_option: null });
    expect(stateEntry({ type: 'plain_text_input' }, '')).toEqual({ type: 'plain_text_input', value: null });
    const when = stateEntry({ type: 'datetimepicker' }, localDateTime(1_800_000_000));
    expect(when).toEqual({ type: 'datetimepicker', selected_date_time: 1_800_000_000 });
  });
});
