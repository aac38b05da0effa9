/// <reference lib="dom" />
/**
 * The sandbox in a real browser, started as `npm start` starts it with nothing configured: one
 * sandbox process and one chromium for the whole file; the tests follow each other like a visitor's
 * session. Screenshots of the channel and of a modal are saved in test-artifacts/.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_USERS } from '../../src/sandbox/workspace.ts';
import {
  type Browser,
  browserAvailable,
  launchBrowser,
  type SandboxProcess,
  startSandboxProcess,
  switchUser,
  type,
} from '../support/sandbox.ts';

const { requester: REY, approver1: AVERY, approver2: BLAKE, admin: ADA } = SANDBOX_USERS;

let sandbox: SandboxProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!browserAvailable) return;
  [sandbox, browser] = await Promise.all([startSandboxProcess(), launchBrowser()]);
  page = browser.page;
  page.setDefaultTimeout(15_000);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (sandbox && sandbox.child.exitCode === null) await sandbox.stop();
});

/** The newest message (article) in the channel that contains `text`. */
function message(text: string | RegExp): Locator {
  return page.locator('#messages').getByRole('article').filter({ hasText: text }).last();
}

/** Records every header text shown in the channel from now on (to see a message edit itself). */
async function watchHeaders(): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenHeaders: string[] }).seenHeaders = seen;
    const record = () => {
      for (const h of document.querySelectorAll('#messages .bk-header')) {
        const text = h.textContent ?? '';
        if (seen.at(-1) !== text && !seen.includes(text)) seen.push(text);
      }
    };
    new MutationObserver(record).observe(document.getElementById('messages')!, {
      childList: true,
      subtree: true,
      characterData: true,
    });
  });
  return () => page.evaluate(() => (window as unknown as { seenHeaders: string[] }).seenHeaders);
}

describe.skipIf(!browserAvailable)('the sandbox page', () => {
  test('npm start with nothing configured prints one line and serves a Slack-like page', async () => {
    expect(sandbox.stdout()).toMatch(/^Flowgate sandbox: open http:\/\/127\.0\.0\.1:\d+\/\n$/);
    const response = await page.goto(sandbox.url);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('body[data-ready="true"]');
    await expect(page.title()).resolves.toBe('Flowgate sandbox');
    const switcher = page.getByRole('combobox', { name: 'Sandbox user' });
    for (const id of [REY, AVERY, BLAKE, ADA])
      await expect(switcher.locator(`option[value="${id}"]`).textContent()).resolves.toContain(id);
    const nav = page.getByRole('navigation');
    for (const name of ['# general', '# deploys', 'Flowgate'])
      expect(await nav.getByRole('button', { name }).count()).toBe(1);
    await expect(page.getByRole('textbox', { name: 'Message', exact: true }).isVisible()).resolves.toBe(true);
  });

  test('an approval: list → Start → form → live progress → refusal → Respond → field error → answer → done', async () => {
    await type(page, '/flowgate list');
    const list = message('6 workflows');
    await list.getByText('Only visible to you').waitFor();
    const headers = await watchHeaders();
    await list
      .locator('.bk-section', { hasText: 'expense-approval' })
      .getByRole('button', { name: 'Start' })
      .click();

    const start = page.getByRole('dialog', { name: 'Start a run' });
    await expect(start.getByLabel('Title', { exact: true }).inputValue()).resolves.toBe(
      'Team offsite in Lisbon',
    );
    await start.getByRole('button', { name: 'Start', exact: true }).click();
    await start.waitFor({ state: 'hidden' });

    const progress = message('expense-approval ·');
    await progress.getByText('Waiting for an answer').first().waitFor();
    await browser.screenshot('sandbox-channel.png');
    const seen = await headers();
    expect(seen.at(-1)).toBe('expense-approval · Waiting for an answer');
    expect(seen.length).toBeGreaterThan(1); // it edited itself on the way (Starting / Running)
    await expect(progress.textContent()).resolves.toContain('Who may answer: @approvers');

    // The requester may not approve their own run.
    await progress.getByRole('button', { name: 'Respond…' }).click();
    await message(/You started this run/)
      .getByText('Only visible to you')
      .waitFor();

    // Nor may the admin, who is no approver.
    await switchUser(page, ADA);
    await message('expense-approval ·').getByRole('button', { name: 'Respond…' }).click();
    await message('You are not an approver for step review').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);

    await switchUser(page, AVERY);
    // Flowgate opens a loading modal at once, then fills it with views.update: the same modal, never closed.
    await page.evaluate(() => {
      const modal = document.getElementById('modal') as HTMLDialogElement;
      const titles: string[] = [];
      (window as unknown as { modalTitles: string[] }).modalTitles = titles;
      new MutationObserver(() => {
        const title = modal.open ? (modal.querySelector('#modal-title')?.textContent ?? '') : '(closed)';
        if (titles.at(-1) !== title) titles.push(title);
      }).observe(modal, { attributes: true, childList: true, subtree: true });
    });
    await message('expense-approval ·').getByRole('button', { name: 'Respond…' }).click();
    const form = page.getByRole('dialog', { name: 'Respond' });
    await form.getByRole('button', { name: 'Submit' }).waitFor();
    const titles = await page.evaluate(() => (window as unknown as { modalTitles: string[] }).modalTitles);
    expect(titles.at(-1)).toBe('Respond');
    expect(titles).not.toContain('(closed)'); // 'Loading…' first, unless both came in one frame
    // Every kind of input the form engine makes, labelled by its Block Kit label, pre-filled.
    await expect(
      form.getByRole('radiogroup', { name: 'Decision' }).getByLabel('approve').isChecked(),
    ).resolves.toBe(true);
    await expect(form.getByLabel('Approved amount').inputValue()).resolves.toBe('1840');
    await expect(form.getByRole('combobox', { name: 'Cost center' }).inputValue()).resolves.toBe(
      'CC-200 Operations',
    );
    await expect(
      form.getByRole('group', { name: 'Categories' }).getByLabel('lodging').isChecked(),
    ).resolves.toBe(true);
    await expect(
      form
        .getByRole('listbox', { name: 'Projects' })
        .evaluate((s: HTMLSelectElement) => [...s.selectedOptions].map((o) => o.value)),
    ).resolves.toEqual(['orion']);
    await expect(form.getByLabel('Pay by').inputValue()).resolves.toBe('2026-12-15');
    await expect(form.getByLabel('Pay at').inputValue()).resolves.toBe('09:30');
    await expect(form.getByLabel('Remind at').inputValue()).resolves.toBe('2026-12-14T09:00');
    await expect(form.getByRole('textbox', { name: 'Notify' }).inputValue()).resolves.toBe(
      'finance@example.com',
    );
    await expect(form.getByRole('textbox', { name: 'Policy link' }).inputValue()).resolves.toBe(
      'https://example.com/travel-policy',
    );
    await expect(form.getByRole('textbox', { name: 'Reference' }).inputValue()).resolves.toBe('');
    await expect(form.getByRole('textbox', { name: 'Comment' }).evaluate((e) => e.tagName)).resolves.toBe(
      'TEXTAREA',
    );
    await expect(form.getByText('(optional)').count()).resolves.toBeGreaterThan(0);
    await expect(form.getByText('Up to 5000 without a second approval').isVisible()).resolves.toBe(true);

    await form.getByLabel('Approved amount').fill('99999');
    await form.getByRole('textbox', { name: 'Comment' }).fill('Over the limit?');
    await form.getByRole('button', { name: 'Submit' }).click();
    const amount = form.getByLabel('Approved amount');
    await page.waitForSelector('[aria-invalid="true"]');
    await expect(amount.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(form.locator('.bk-error').textContent()).resolves.toMatch(/5000/);
    await expect(form.getByRole('textbox', { name: 'Comment' }).inputValue()).resolves.toBe(
      'Over the limit?',
    );
    await browser.screenshot('sandbox-modal.png');

    await amount.fill('1500');
    await form.getByRole('button', { name: 'Submit' }).click();
    await form.waitFor({ state: 'hidden' });
    const done = message('expense-approval · Succeeded');
    await done.waitFor();
    await expect(done.textContent()).resolves.toContain('1500 EUR paid on 2026-12-15');
    await done.getByRole('button', { name: /repl(y|ies)/ }).click();
    const thread = page.getByRole('complementary');
    await thread.getByRole('article').filter({ hasText: '@Avery Approver answered review' }).waitFor();
  });

  test('a yes/no gate in a nested workflow: Approve asks for confirmation, then the run ships', async () => {
    await switchUser(page, REY);
    await type(page, '/flowgate start releaseTrain {}');
    const gate = message('release-train · Waiting for an answer');
    await gate.waitFor();
    await expect(gate.textContent()).resolves.toContain('go-no-go › gate');
    await switchUser(page, BLAKE);
    await message('release-train ·').getByRole('button', { name: 'Approve' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Approve?' });
    await confirm.getByRole('button', { name: 'Approve' }).click();
    await message('release-train · Succeeded').waitFor();
    await expect(message('release-train · Succeeded').textContent()).resolves.toContain(
      'Release 2026.12 ships',
    );
  });

  test('hostile text from a workflow shows literally and runs nothing; innerHTML is refused', async () => {
    await switchUser(page, REY);
    const hostile = '<img src=x onerror="window.pwned=1"> <!channel> <@U0SBADMIN1> &amp;';
    await type(page, `/flowgate start expenseApproval ${JSON.stringify({ title: hostile })}`);
    const progress = message('expense-approval · Waiting for an answer');
    await progress.waitFor();
    await expect(progress.textContent()).resolves.toContain(hostile);
    expect(await page.locator('#messages img').count()).toBe(0);
    expect(await progress.locator('.mention').filter({ hasText: 'Ada' }).count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    // The page's CSP demands Trusted Types: assigning HTML is refused outright.
    const refused = await page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<b>x</b>');
        return 'allowed';
      } catch (error) {
        return (error as Error).name;
      }
    });
    expect(refused).toBe('TypeError');
    expect(browser.errors.filter((e) => !/Trusted|TrustedHTML/.test(e))).toEqual([]);
  });

  test('stops within 2 s of SIGTERM, with the page connected and a run going', async () => {
    await type(page, '/flowgate start deployPipeline {"stepSeconds": 5}');
    await message('deploy-pipeline · Running').waitFor();
    const { code, ms } = await sandbox.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
  });
});
