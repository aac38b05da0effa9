import { describe, expect, test } from 'vitest';
import { blocksTextLength, DEFAULT_LIMITS, validateMessageBlocks } from '../../../src/emulator/index.ts';
import { renderHelp, renderRunList, renderWorkflowList } from '../../../src/slack/render/commands.ts';

describe('command renderers escape what people and servers typed', () => {
  test('an unknown verb is shown once-escaped, never as a mention', () => {
    const help = renderHelp('/flowgate', '<!channel>&');
    expect(help.text).toContain("I don't know `&lt;!channel&gt;&amp;`");
    expect(help.text).not.toContain('<!channel>');
    expect(help.text).not.toContain('&amp;lt;');
    expect(help.text).toContain('`/flowgate list [page]` — the workflows you can start, a page at a time');
  });

  test('workflow descriptions and run ids from the server are escaped; one Start button each', () => {
    const list = renderWorkflowList([{ key: 'k', id: 'w<@U1>', description: 'ping <!here>', stepCount: 2 }]);
    const text = JSON.stringify(list.blocks);
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<@U1>');
    expect(text.match(/flowgate_start/g)).toHaveLength(1);
    const runs = renderRunList(
      'w',
      [{ runId: '<!everyone>', status: 'success', starter: null, createdAt: new Date(0) }],
      1,
    );
    expect(runs.text).not.toContain('<!everyone>');
  });
});

describe('the workflow list pages instead of overflowing', () => {
  const catalog = Array.from({ length: 43 }, (_, i) => ({
    key: `workflow${String(i).padStart(2, '0')}`,
    id: `workflow-${i}`,
    description: `${'A long description of what this workflow does. '.repeat(10)}(#${i})`,
    stepCount: 3,
  }));

  test('each page fits one message; together they show every workflow once, in order', () => {
    const seen: string[] = [];
    let page = 1;
    for (;;) {
      const reply = renderWorkflowList(catalog, { page, command: '/flowgate' });
      expect(validateMessageBlocks(reply.blocks, DEFAULT_LIMITS)).toEqual([]);
      expect(blocksTextLength(reply.blocks)).toBeLessThanOrEqual(DEFAULT_LIMITS.blocksTotalText);
      const text = JSON.stringify(reply.blocks);
      seen.push(...[...text.matchAll(/`(workflow\d\d)`/g)].map((m) => m[1]!));
      if (!text.includes(`/flowgate list ${page + 1}`)) break;
      expect(text).toContain(`… and ${catalog.length - seen.length} more: \`/flowgate list ${page + 1}\``);
      page++;
    }
    expect(page).toBeGreaterThan(1);
    expect(seen).toEqual(catalog.map((w) => w.key));
    expect(JSON.stringify(renderWorkflowList(catalog).blocks)).toContain(`page 1 of ${page}`);
  });

  test('descriptions are trimmed; a page past the end says how many pages there are', () => {
    const reply = renderWorkflowList([{ key: 'k', id: 'w', description: 'd'.repeat(5000) }]);
    expect(JSON.stringify(reply.blocks)).toContain(`${'d'.repeat(299)}…`);
    expect(JSON.stringify(reply.blocks)).not.toContain('d'.repeat(301));
    expect(renderWorkflowList(catalog, { page: 9, command: '/fg' }).text).toMatch(
      /^There is no page 9: the 43 workflows fit on \d pages\. Try `\/fg list \d`\.$/,
    );
  });
});
