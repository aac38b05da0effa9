/**
 * End-to-end harness: a real Mastra server, the Slack emulator, and the real Flowgate app in HTTP
 * mode, driven by signed requests exactly as Slack sends them (or in Socket Mode, driven by
 * envelopes over its WebSocket).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFlowgateApp, type FlowgateApp, type FlowgateAppOptions } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import {
  type AppDelivery,
  type SlackEmulator,
  sendBlockAction,
  sendSlashCommand,
  sendViewSubmission,
  startSlackEmulator,
} from '../../src/emulator/index.ts';
import { buildForm, stateFromInitial } from '../../src/forms/index.ts';
import { type Logger, silentLogger } from '../../src/logger.ts';
import { MastraClient } from '../../src/mastra/client.ts';
import type { JsonSchema } from '../../src/mastra/types.ts';
import type { Policy } from '../../src/policy/types.ts';
import { type MastraTestServer, startMastraServer } from './mastra/server.ts';

export const SIGNING_SECRET = 'test-signing-secret';
export const GENERAL = 'C0EMU0001';
export const LOCKED = 'C0EMU0004';
export const ALICE = 'U0EMU0001';
export const BOB = 'U0EMU0002';
export const CAROL = 'U0EMU0003';
export const ONCALL_GROUP = 'S0EMU0001';

export interface HarnessOptions {
  policy?: Policy;
  admins?: string[];
  /** chat.update budget of both the emulator and the app (per minute). Default 6000. */
  updatesPerMinute?: number;
  updateIntervalMs?: number;
  dbPath?: string;
  mastra?: MastraTestServer;
  /** A Slack emulator to share (e.g. two app processes in one workspace); closed by its owner. */
  emulator?: SlackEmulator;
  /** The app's publisher of progress updates (benchmarks: a baseline); default Flowgate's own. */
  publisher?: FlowgateAppOptions['publisher'];
  /** Each person's allowance of run lookups (benchmarks lift it). */
  lookupLimit?: { burst: number; refillMs: number };
  /** How often runs started elsewhere are looked for (default 250 ms). */
  watchIntervalMs?: number;
  /** Run the app in Socket Mode (no HTTP endpoint: `appUrl` is empty). */
  socketMode?: boolean;
  /** The app's logger (default: silent). */
  logger?: Logger;
  /** Connections of the app's Mastra client for event streams (`FLOWGATE_MASTRA_STREAMS`; default 48). */
  mastraStreams?: number;
  /** Settings beyond the harness's own (e.g. `metricsToken`, `opsPort`, `logLevel`, `mastra.authToken`). */
  config?: Partial<Config>;
  /** The app's own JSON logger, writing its lines here (instead of `logger`). */
  logWrite?: (line: string) => void;
  /** Benchmarks: no metrics counted. */
  metrics?: false;
}

export interface Harness {
  mastra: MastraTestServer;
  emulator: SlackEmulator;
  flowgate: FlowgateApp;
  appUrl: string;
  /** Where `/healthz`, `/readyz` and `/metrics` are served (the ops port when set, else HTTP mode's); '' when nowhere. */
  opsUrl: string;
  config: Config;
  slash(text: string, opts?: { user?: string; channel?: string }): ReturnType<typeof sendSlashCommand>;
  click(
    message: { channel: string; ts: string },
    actionId: string,
    opts?: { user?: string; blockId?: string; value?: string },
  ): ReturnType<typeof sendBlockAction>;
  submit(
    viewId: string,
    values: Record<string, Record<string, unknown>>,
    opts?: { user?: string },
  ): ReturnType<typeof sendViewSubmission>;
  /** Waits for the answer form of `runId` open for `user` (the form names its run). */
  answerForm(user: string, runId: string): Promise<ReturnType<SlackEmulator['openViews']>[number]>;
  /** The ephemeral replies a user got (newest last), as text. */
  replies(user: string): string[];
  /** The run's progress message as the emulator holds it now. */
  progressMessage(runId: string): { channel: string; ts: string; text: string; blocks: string } | undefined;
  /**
   * What a person filling in a form with `data` submits (`view.state.values`): the answer form of
   * `step` (a dotted path for nested steps), or the workflow's start form when `step` is undefined.
   */
  formValues(
    workflow: string,
    step: string | undefined,
    data: unknown,
  ): Promise<Record<string, Record<string, unknown>>>;
  /** GET a path of the Mastra server's API, as JSON. */
  mastraGet(path: string): Promise<Record<string, unknown>>;
  /** Runs Flowgate posted messages for, newest last. */
  runIds(): string[];
  /** Sends `/flowgate <text>` and resolves to the id of the run it started. */
  startRun(text: string, user?: string): Promise<string>;
  /** Waits until the run's progress message satisfies `check` (by default: a step waits for an answer). */
  message(
    runId: string,
    check?: (message: { text: string; blocks: string }) => boolean,
  ): Promise<{ channel: string; ts: string; text: string; blocks: string }>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ownMastra = !options.mastra;
  const mastra = options.mastra ?? (await startMastraServer());
  const perMinute = options.updatesPerMinute ?? 6000;
  const ownEmulator = !options.emulator;
  const emulator =
    options.emulator ?? (await startSlackEmulator({ rateLimits: { 'chat.update': { perMinute } } }));
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-e2e-'));
  const config: Config = {
    slack: options.socketMode
      ? { mode: 'socket', botToken: emulator.botToken, appToken: emulator.appToken }
      : { mode: 'http', botToken: emulator.botToken, signingSecret: SIGNING_SECRET, port: 0 },
    slackApiUrl: emulator.apiUrl,
    command: '/flowgate',
    mastra: {
      url: mastra.url,
      apiPrefix: '/api',
      ...(options.mastraStreams === undefined ? {} : { streams: options.mastraStreams }),
    },
    admins: options.admins ?? [],
    dbPath: options.dbPath ?? join(dir, 'flowgate.db'),
    updateIntervalMs: options.updateIntervalMs ?? 50,
    updatesPerMinute: perMinute,
    watchIntervalMs: options.watchIntervalMs ?? 250,
    logLevel: 'error',
    ...options.config,
  };
  const flowgate = createFlowgateApp(config, {
    ...(options.logWrite ? { logWrite: options.logWrite } : { logger: options.logger ?? silentLogger }),
    pollIntervalMs: 100,
    outboxIntervalMs: 100,
    host: '127.0.0.1',
    ...(options.publisher ? { publisher: options.publisher } : {}),
    ...(options.metrics === false ? { metrics: false } : {}),
    ...(options.lookupLimit ? { lookupLimit: options.lookupLimit } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
  });
  const client = new MastraClient({ baseUrl: mastra.url });
  const { port, opsPort } = await flowgate.start();
  const appUrl = port === undefined ? '' : `http://127.0.0.1:${port}/slack/events`;
  const servedOn = opsPort ?? port;
  const opsUrl = servedOn === undefined ? '' : `http://127.0.0.1:${servedOn}`;
  const signed: AppDelivery = options.socketMode
    ? { socketMode: true }
    : { appUrl, signingSecret: SIGNING_SECRET };

  const harness: Harness = {
    mastra,
    emulator,
    flowgate,
    appUrl,
    opsUrl,
    config,
    slash: (text, opts = {}) =>
      sendSlashCommand(emulator, {
        ...signed,
        command: '/flowgate',
        text,
        userId: opts.user ?? ALICE,
        channelId: opts.channel ?? GENERAL,
      }),
    click: (message, actionId, opts = {}) =>
      sendBlockAction(emulator, {
        ...signed,
        actionId,
        userId: opts.user ?? ALICE,
        channelId: message.channel,
        messageTs: message.ts,
        ...(opts.blockId ? { blockId: opts.blockId } : {}),
        ...(opts.value ? { value: opts.value } : {}),
      }),
    submit: (viewId, values, opts = {}) =>
      sendViewSubmission(emulator, {
        ...signed,
        viewId,
        values,
        ...(opts.user ? { userId: opts.user } : {}),
      }),
    async formValues(workflow, step, data) {
      const info = await client.getWorkflow(workflow).details();
      const schema = (
        step === undefined ? info.inputSchema : info.allSteps[step]?.resumeSchema
      ) as JsonSchema;
      return stateFromInitial(buildForm(schema, { initial: data, maxBlocks: 95 })) as Record<
        string,
        Record<string, unknown>
      >;
    },
    mastraGet: async (path) =>
      (await fetch(`${mastra.url}${path}`)).json() as Promise<Record<string, unknown>>,
    replies: (user) => emulator.ephemerals(user).map((e) => e.text),
    answerForm: (user, runId) =>
      waitFor('the answer form', () =>
        emulator
          .openViews(user)
          .find((v) => v.callback_id === 'flowgate_answer_form' && JSON.stringify(v.blocks).includes(runId)),
      ),
    progressMessage(runId) {
      // The run's message as Slack got it: the top-level post that names the run.
      const row = emulator
        .callsOf('chat.postMessage')
        .filter((c) => !c.params.thread_ts && c.response.ok === true)
        .map((c) => ({
          response: c.response,
          id: /run `([^`]+)`|\(run ([^)]+)\)/.exec(String(c.params.text)),
        }))
        .find((c) => (c.id?.[1] ?? c.id?.[2]) === runId)?.response;
      if (typeof row?.channel !== 'string' || typeof row.ts !== 'string') return undefined;
      const message = emulator.message(row.channel, row.ts);
      if (!message) return undefined;
      return {
        channel: row.channel,
        ts: row.ts,
        text: message.text,
        blocks: JSON.stringify(message.blocks ?? []),
      };
    },
    runIds() {
      return emulator
        .callsOf('chat.postMessage')
        .filter((c) => !c.params.thread_ts && c.response.ok === true)
        .map((c) => /run `([^`]+)`|\(run ([^)]+)\)/.exec(String(c.params.text)))
        .map((m) => m?.[1] ?? m?.[2])
        .filter((id): id is string => typeof id === 'string');
    },
    async startRun(text, user = ALICE) {
      const before = this.runIds().length;
      await this.slash(text, { user });
      return waitFor('a new run', () => (this.runIds().length > before ? this.runIds().at(-1) : undefined));
    },
    message(runId, check = (m) => m.blocks.includes('flowgate_respond')) {
      return waitFor(`the progress message of ${runId}`, () => {
        const message = this.progressMessage(runId);
        return message && check(message) ? message : undefined;
      });
    },
    async close() {
      await client.close();
      await flowgate.stop();
      if (ownEmulator) await emulator.close();
      if (ownMastra) await mastra.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Waits until `check` returns a value (not undefined/false), polling; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
