/**
 * Wiring: config → the workflow client, store, policy, Slack clients, publisher, tracker,
 * progress messages, use cases and Bolt listeners. `start()` listens (HTTP or Socket Mode) and
 * re-follows every run whose progress message was not final when the process last stopped.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel as BoltLogLevel } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { WorkflowCatalog } from './catalog.ts';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { MastraClient } from './mastra/client.ts';
import { loadPolicy, type Policy } from './policy.ts';
import { RunTracker } from './runs/tracker.ts';
import { Flowgate } from './slack/flowgate.ts';
import { SlackGateway } from './slack/gateway.ts';
import { registerListeners } from './slack/listeners.ts';
import { ProgressMessages } from './slack/progress.ts';
import {
  NaivePublisher,
  ProgressPublisher,
  type Publisher,
  type PublisherOptions,
} from './slack/publisher.ts';
import type { RenderedMessage } from './slack/render/progress.ts';
import { openStore, type Store } from './store/index.ts';

export interface FlowgateApp {
  app: App;
  flowgate: Flowgate;
  progress: ProgressMessages;
  publisher: Publisher<RenderedMessage>;
  tracker: RunTracker;
  store: Store;
  /** Listens, then re-follows unfinished runs. Resolves to the bound port in HTTP mode. */
  start(): Promise<{ port?: number }>;
  stop(): Promise<void>;
}

export interface FlowgateAppOptions {
  logger?: Logger;
  /** Polling cadence of runs whose event stream ended while they still run. */
  pollIntervalMs?: number;
  /** Policy to use instead of loading `config.policyPath`. */
  policy?: Policy;
  /** Interface to listen on in HTTP mode (default: all). */
  host?: string;
  /** Benchmarks only: send every progress update at once (the naive baseline) instead of coalescing. */
  naivePublisher?: boolean;
}

export function createFlowgateApp(config: Config, options: FlowgateAppOptions = {}): FlowgateApp {
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = openStore(config.dbPath);
  const policy = options.policy ?? loadPolicy(config.policyPath, { admins: config.admins });
  const client = new MastraClient({
    baseUrl: config.mastra.url,
    apiPrefix: config.mastra.apiPrefix,
    ...(config.mastra.authToken ? { headers: { authorization: `Bearer ${config.mastra.authToken}` } } : {}),
  });
  const slackLogLevel = {
    debug: BoltLogLevel.DEBUG,
    info: BoltLogLevel.INFO,
    warn: BoltLogLevel.WARN,
    error: BoltLogLevel.ERROR,
  }[config.logLevel];
  // Rate-limited calls are retried per call by the gateway, never by pausing the whole client.
  const clientOptions = { slackApiUrl: config.slackApiUrl, rejectRateLimitedCalls: true };
  const app =
    config.slack.mode === 'socket'
      ? new App({
          token: config.slack.botToken,
          appToken: config.slack.appToken,
          socketMode: true,
          logLevel: slackLogLevel,
          clientOptions,
        })
      : new App({
          token: config.slack.botToken,
          signingSecret: config.slack.signingSecret,
          logLevel: slackLogLevel,
          clientOptions,
          customRoutes: [
            {
              path: '/healthz',
              method: ['GET'],
              handler: (_req, res) => {
                res.writeHead(200, { 'content-type': 'text/plain' });
                res.end('ok');
              },
            },
          ],
        });
  // Progress updates get a client of their own that reports 429s instead of pausing every call.
  const updates = new WebClient(config.slack.botToken, {
    slackApiUrl: config.slackApiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
  });
  const gateway = new SlackGateway(app.client, updates);
  const publisherOptions: PublisherOptions<RenderedMessage> = {
    send: (ref, message) => gateway.updateMessage(ref.channel, ref.ts, message),
    minIntervalMs: config.updateIntervalMs,
    budget: { perMinute: config.updatesPerMinute },
    onError: (ref, error, info) => {
      if (!info.willRetry) logger.warn(`progress update of ${ref.channel}/${ref.ts} gave up`, error);
    },
  };
  const publisher: Publisher<RenderedMessage> = options.naivePublisher
    ? new NaivePublisher(publisherOptions)
    : new ProgressPublisher(publisherOptions);
  const tracker = new RunTracker({
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    onError: (runId, error) => logger.warn(`run ${runId}: following hit an error, will retry`, error),
  });
  const catalog = new WorkflowCatalog(client);
  const progress = new ProgressMessages({
    store,
    tracker,
    publisher,
    gateway,
    catalog,
    client,
    policy,
    logger,
  });
  const flowgate = new Flowgate({
    client,
    catalog,
    store,
    policy,
    admins: config.admins,
    gateway,
    progress,
    command: config.command,
    logger,
  });
  registerListeners(app, flowgate, config.command);
  app.error(async (error) => {
    logger.error('unhandled error in a listener', error);
  });

  let server: Server | undefined;
  return {
    app,
    flowgate,
    progress,
    publisher,
    tracker,
    store,
    async start() {
      let port: number | undefined;
      if (config.slack.mode === 'http') {
        const listen = options.host ? { port: config.slack.port, host: options.host } : config.slack.port;
        server = (await app.start(listen)) as Server;
        port = (server.address() as AddressInfo).port;
        logger.info(`Flowgate listening on port ${port} (POST /slack/events, GET /healthz)`);
      } else {
        await app.start();
        logger.info('Flowgate connected to Slack in Socket Mode');
      }
      const resumed = await progress.resumeAll();
      if (resumed > 0) logger.info(`following ${resumed} unfinished run(s) again`);
      return port === undefined ? {} : { port };
    },
    async stop() {
      await tracker.stop();
      server?.closeAllConnections();
      await app.stop().catch(() => {});
      await publisher.close();
      await progress.idle();
      await client.close();
      store.close();
    },
  };
}
