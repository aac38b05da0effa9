import { LogLevel, WebClient } from '@slack/web-api';
import { afterEach } from 'vitest';
import {
  type SlackEmulator,
  type StartSlackEmulatorOptions,
  startSlackEmulator,
} from '../../src/emulator/index.ts';

export const GENERAL = 'C0EMU0001';
export const RANDOM = 'C0EMU0002';
export const PRIVATE = 'C0EMU0003';
export const LOCKED = 'C0EMU0004';
export const ALICE = 'U0EMU0001';
export const BOB = 'U0EMU0002';
export const CAROL = 'U0EMU0003';

export interface FakeClock {
  now: () => number;
  advance: (ms: number) => void;
}

export function fakeClock(start = 1_790_000_000_000): FakeClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

const started: SlackEmulator[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

export interface Harness {
  emulator: SlackEmulator;
  client: WebClient;
  clock: FakeClock;
}

/** A logger for Slack's SDKs (WebClient, Bolt) that says nothing. */
export const silentSlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** An emulator on a fake clock plus a WebClient that neither retries nor waits on 429s. */
export async function setup(options: StartSlackEmulatorOptions = {}): Promise<Harness> {
  const clock = fakeClock();
  const emulator = await startSlackEmulator({ now: clock.now, ...options });
  started.push(emulator);
  return { emulator, client: clientFor(emulator), clock };
}

export function clientFor(emulator: SlackEmulator, token: string = emulator.botToken): WebClient {
  return new WebClient(token, {
    slackApiUrl: emulator.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
    logger: silentSlackLogger,
  });
}

/** The `data` of a rejected Web API call (`PlatformError`). */
export async function slackError(
  promise: Promise<unknown>,
): Promise<{ error: string; [key: string]: unknown }> {
  try {
    await promise;
  } catch (e) {
    const data = (e as { data?: { error: string } }).data;
    if (data) return data;
    throw e;
  }
  throw new Error('expected the call to fail');
}
