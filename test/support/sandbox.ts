/**
 * The sandbox as `npm start` runs it (`src/main.ts` in a child process, in an empty folder, with
 * only the given environment), and Debian's chromium driven by playwright-core for browser tests.
 * Screenshots go to `test-artifacts/` (gitignored).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Browser tests run where chromium is installed, and always in CI (where its absence is a failure). */
export const browserAvailable = existsSync(CHROMIUM) || process.env.CI !== undefined;

export interface SandboxProcess {
  child: ChildProcess;
  /** The page, as printed: `http://127.0.0.1:PORT/`. */
  url: string;
  output(): string;
  stdout(): string;
  exit: Promise<number | null>;
  /** SIGTERM, then the exit code and how long the process took to exit. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** Starts `node src/main.ts` with `env` (plus PATH) and `PORT=0`, and waits for its one line. */
export async function startSandboxProcess(env: Record<string, string> = {}): Promise<SandboxProcess> {
  const cwd = mkdtempSync(join(tmpdir(), 'flowgate-sandbox-test-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => (out += String(chunk)));
  child.stderr?.on('data', (chunk) => (err += String(chunk)));
  const exit = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      rmSync(cwd, { recursive: true, force: true });
      done(code);
    }),
  );
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the sandbox did not start:\n${out}${err}`)), 30_000);
    const check = () => {
      const m = /^Flowgate sandbox: open (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout?.on('data', check);
    void exit.then((code) => {
      clearTimeout(timer);
      fail(new Error(`the sandbox exited with ${code}:\n${out}${err}`));
    });
  });
  return {
    child,
    url,
    output: () => out + err,
    stdout: () => out,
    exit,
    async stop() {
      const t0 = performance.now();
      child.kill('SIGTERM');
      const code = await Promise.race([
        exit,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
      ]);
      if (code === 'hung') {
        child.kill('SIGKILL');
        return { code: null, ms: Number.POSITIVE_INFINITY };
      }
      return { code, ms: performance.now() - t0 };
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Errors the page reported (console errors, uncaught exceptions, CSP violations). */
  errors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Chromium with a fresh profile, one page of 1280×860. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'flowgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 860 },
    timezoneId: 'UTC',
    locale: 'en-US',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context,
    page,
    errors,
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, name);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the sandbox page and waits until it shows the workspace. */
export async function openPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
}

/** Types a message (or a slash command) in the composer and sends it with Enter. */
export async function type(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message', exact: true });
  await box.fill(text);
  await box.press('Enter');
}

export async function switchUser(page: Page, userId: string): Promise<void> {
  await page.getByRole('combobox', { name: 'Sandbox user' }).selectOption(userId);
  await page.waitForSelector(`body[data-ready="true"][data-user="${userId}"]`);
}
