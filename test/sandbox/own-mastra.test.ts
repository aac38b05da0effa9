/// <reference lib="dom" />
/**
 * `npm start` with MASTRA_URL set and no Slack settings: the sandbox shows that server's
 * workflows (here the test Mastra server's) instead of its demo ones, and runs them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MastraTestServer, startMastraServer } from '../support/mastra/server.ts';
import {
  type Browser,
  browserAvailable,
  launchBrowser,
  openPage,
  type SandboxProcess,
  startSandboxProcess,
  type,
} from '../support/sandbox.ts';

let mastra: MastraTestServer;
let sandbox: SandboxProcess;
let browser: Browser;

beforeAll(async () => {
  if (!browserAvailable) return;
  mastra = await startMastraServer();
  [sandbox, browser] = await Promise.all([startSandboxProcess({ MASTRA_URL: mastra.url }), launchBrowser()]);
  browser.page.setDefaultTimeout(15_000);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
  await mastra?.close();
});

describe.skipIf(!browserAvailable)('the sandbox on your own Mastra server', () => {
  test("lists that server's workflows and runs one", async () => {
    const { page } = browser;
    await openPage(page, sandbox.url);
    await expect(page.locator('#source').textContent()).resolves.toBe(`Workflows: ${mastra.url}`);
    await type(page, '/flowgate list');
    const list = page.getByRole('article').filter({ hasText: '11 workflows' });
    await list.waitFor();
    for (const id of ['approval-workflow', 'linear-workflow', 'input-form'])
      await expect(list.textContent()).resolves.toContain(id);
    expect(await list.textContent()).not.toContain('expense-approval');

    await type(page, '/flowgate start linearWorkflow {"value": 4}');
    const done = page.getByRole('article').filter({ hasText: 'linear-workflow · Succeeded' });
    await done.waitFor();
    await expect(done.textContent()).resolves.toContain('"value": 10');
    await browser.screenshot('sandbox-own-mastra.png');
  });
});
