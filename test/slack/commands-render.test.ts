import { describe, expect, test } from 'vitest';
import { renderHelp, renderRunList, renderWorkflowList } from '../../src/slack/render/commands.ts';

describe('command renderers escape what people and servers typed', () => {
  test('an unknown verb is shown once-escaped, never as a mention', () => {
    const help = renderHelp('/flowgate', '<!channel>&');
    expect(help.text).toContain("I don't know `&lt;!channel&gt;&amp;`");
    expect(help.text).not.toContain('<!channel>');
    expect(help.text).not.toContain('&amp;lt;');
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
