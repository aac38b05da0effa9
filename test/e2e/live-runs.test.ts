/** Back-pressure people can understand: how many runs one person may have going from Slack at once. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parsePolicy } from '../../src/policy/load.ts';
import { ALICE, BOB, type Harness, startHarness, waitFor } from '../support/flowgate.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: parsePolicy('liveRunsPerPerson: 2\n', 'live-runs.yaml') });
});
afterAll(async () => {
  await h?.close();
});

async function reply(text: string, user: string): Promise<string> {
  const before = h.replies(user).length;
  await h.slash(text, { user });
  return waitFor(`a reply to ${user}`, () => {
    const replies = h.replies(user);
    return replies.length > before ? replies.at(-1) : undefined;
  });
}

describe('live runs per person', () => {
  test('past the limit a start is refused and creates nothing; a run that ends makes room; others are not held back', async () => {
    const long = 'start cancelAwareWorkflow {"durationMs": 60000}';
    const first = await h.startRun(long, ALICE);
    await h.startRun(long, ALICE);
    const runs = h.runIds().length;
    const refused = await reply(long, ALICE);
    expect(refused).toContain('2 runs going that you started from Slack');
    expect(refused).toContain('/flowgate cancel <run id>');
    expect(h.runIds()).toHaveLength(runs);
    // Someone else still starts.
    await h.startRun(long, BOB);
    // One of Alice's runs ends: she may start again.
    await reply(`cancel ${first}`, ALICE);
    await waitFor('the run over', async () => (await h.flowgate.store.getProgressMessage(first))?.final);
    await h.startRun(long, ALICE);
  });
});
