/**
 * The sandbox: the Slack emulator, Flowgate connected to it exactly as to Slack (signed HTTP
 * requests to its `/slack/events`, Web API calls to the emulator), a Mastra server (the embedded
 * demo one, or `MASTRA_URL`'s), and the web page that plays the Slack client — all on 127.0.0.1.
 *
 * The page's port (`PORT`, default 3000) is bound first, so a busy port fails at once; requests
 * that arrive while the rest starts wait for it. Every one of these servers answers only requests
 * addressed to it on 127.0.0.1 from its own origin (src/loopback.ts): no web page open in the same
 * browser can reach them.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Worker } from 'node:worker_threads';
import { createFlowgateApp, type FlowgateApp, StartupError } from '../app.ts';
import { type Config, type Env, loadConfig } from '../config.ts';
import { type SlackEmulator, startSlackEmulator } from '../emulator/index.ts';
import { listen } from '../listen.ts';
import { createLogger, type Logger } from '../logger.ts';
import { loopbackOnly } from '../loopback.ts';
import { SandboxWeb } from './web.ts';
import { SANDBOX_WORKSPACE, sandboxPolicy } from './workspace.ts';

export interface SandboxOptions {
  /** Settings (`PORT`, `MASTRA_URL`, `MASTRA_API_PREFIX`, `MASTRA_AUTH_TOKEN`, `FLOWGATE_POLICY`, …). Default `process.env`. */
  env?: Env;
  logger?: Logger;
}

export interface Sandbox {
  /** The page, e.g. `http://127.0.0.1:3000/`. */
  url: string;
  port: number;
  /** Where the workflows come from: the embedded demo server, or `MASTRA_URL`. */
  mastraUrl: string;
  embeddedMastra: boolean;
  emulator: SlackEmulator;
  flowgate: FlowgateApp;
  /** Where Flowgate receives Slack's requests, e.g. `http://127.0.0.1:54321/slack/events`. */
  appUrl: string;
  /** Stops everything, promptly: open streams are dropped, running demo steps are aborted. */
  stop(): Promise<void>;
}

/**
 * What the sandbox takes from the settings: everything `loadConfig` validates, with the Slack
 * parts (which the sandbox supplies) left out. `PORT` is the page's port here.
 * @throws ConfigError for malformed settings.
 */
export function sandboxSettings(env: Env): { config: Config; port: number; ownMastra: boolean } {
  const ownMastra = (env.MASTRA_URL?.trim() ?? '') !== '';
  const config = loadConfig({
    ...env,
    SLACK_BOT_TOKEN: 'xoxb-sandbox',
    SLACK_APP_TOKEN: undefined,
    SLACK_SIGNING_SECRET: 'sandbox',
    SLACK_API_URL: undefined,
    MASTRA_URL: ownMastra ? env.MASTRA_URL : 'http://127.0.0.1',
    // The sandbox's data never goes near the production database.
    FLOWGATE_DB: ':memory:',
  });
  return { config, port: config.slack.mode === 'http' ? config.slack.port : 3000, ownMastra };
}

/** The embedded Mastra server with the demo workflows, in a worker thread (see mastra-worker.ts). */
function startMastraWorker(): Promise<{ url: string; close(): Promise<void> }> {
  const worker = new Worker(new URL('./mastra-worker.ts', import.meta.url));
  const close = async () => {
    await worker.terminate();
  };
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the Mastra worker exited (${code})`)));
    worker.once('message', (message: { type: string; url?: string; message?: string }) => {
      if (message.type === 'ready' && message.url) resolve({ url: message.url, close });
      else {
        void close();
        reject(
          new Error(`the embedded Mastra server could not start: ${message.message ?? 'unknown error'}`),
        );
      }
    });
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const env = options.env ?? process.env;
  const settings = sandboxSettings(env);
  const logLevel = env.LOG_LEVEL?.trim() ? settings.config.logLevel : 'warn';
  const logger = options.logger ?? createLogger(logLevel);

  // Mastra's packages load in a worker thread while this one starts the rest.
  const mastraWorker = settings.ownMastra ? Promise.resolve(undefined) : startMastraWorker();
  mastraWorker.catch(() => {});
  const web = new SandboxWeb({ command: settings.config.command, logger });
  const server = loopbackOnly(createServer((req, res) => web.handle(req, res)));
  server.on('clientError', (_error, socket) => socket.destroy());
  let port: number;
  try {
    port = await listen(server, settings.port, '127.0.0.1');
  } catch (error) {
    await mastraWorker.then((m) => m?.close()).catch(() => {});
    if ((error as { code?: unknown }).code === 'EADDRINUSE') {
      throw new StartupError(
        `Port ${settings.port} is already in use, so the sandbox cannot open its page there. Set PORT to a free port.`,
      );
    }
    throw error;
  }
  const url = `http://127.0.0.1:${port}/`;
  web.origin = url.slice(0, -1);

  let emulator: SlackEmulator | undefined;
  let flowgate: FlowgateApp | undefined;
  let embedded: { url: string; close(): Promise<void> } | undefined;
  let appUrl = '';
  const closeAll = async () => {
    web.close();
    server.closeAllConnections();
    server.close();
    // Running demo steps stop at once (their worker thread ends) while Flowgate lets go of their
    // streams; the emulator goes last, so Flowgate's last calls still get an answer.
    await Promise.allSettled([flowgate?.stop(), embedded?.close()]);
    await emulator?.close();
  };

  try {
    emulator = await startSlackEmulator({
      workspace: SANDBOX_WORKSPACE,
      botToken: `xoxb-sandbox-${randomBytes(12).toString('hex')}`,
      appToken: `xapp-sandbox-${randomBytes(12).toString('hex')}`,
      webBaseUrl: web.origin,
    });
    // The bot's DM with every person exists from the start, as the app's Messages tab does in Slack.
    for (const id of emulator.store.humanUserIds()) emulator.store.openIm(id);
    // The page can show the workspace now; what people do there waits until Flowgate listens.
    web.attach({ emulator, mastra: settings.ownMastra ? settings.config.mastra.url : 'the demo workflows' });

    embedded = await mastraWorker;
    const signingSecret = randomBytes(24).toString('hex');
    const config: Config = {
      ...settings.config,
      logLevel,
      slack: { mode: 'http', botToken: emulator.botToken, signingSecret, port: 0 },
      slackApiUrl: emulator.apiUrl,
      mastra: embedded ? { url: embedded.url, apiPrefix: '/api' } : settings.config.mastra,
    };
    flowgate = createFlowgateApp(config, {
      logger,
      host: '127.0.0.1',
      loopbackOnly: true,
      ...(config.policyPath ? {} : { policy: sandboxPolicy() }),
    });
    const started = await flowgate.start();
    appUrl = `http://127.0.0.1:${started.port}/slack/events`;
    web.connect({ appUrl, signingSecret });
  } catch (error) {
    web.fail(error);
    await closeAll();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    mastraUrl: embedded?.url ?? settings.config.mastra.url,
    embeddedMastra: embedded !== undefined,
    emulator,
    flowgate,
    appUrl,
    stop() {
      stopped ??= closeAll();
      return stopped;
    },
  };
}
